"""Replicates in one streaming pass: the Poisson bootstrap and the paired sign-flip test.

A mean-type value is a ratio of sums over samples, ``scale * sum_i num_i / sum_i den_i``
(:mod:`lossctl.losses.reduction`). Its bootstrap replicate ``r`` gives sample ``i`` a weight
``k_ri ~ Poisson(1)`` (the Poisson bootstrap: a resample whose size is itself random, which lets
every sample's weight be drawn on its own, so the replicates stream)::

    value_r = scale * sum_i k_ri num_i / sum_i k_ri den_i

and the sign-flip replicates of a paired test give it ``s_ri = +-1`` instead (swapping two models'
values on a sample flips the sign of its difference). Both are running sums of ``R`` values per
column, so they combine across blocks, threads and shards.

Determinism: the weights of a sample depend only on ``seed`` and its row number (samples are
cut into fixed chunks of :data:`CHUNK` rows, each with its own generator seeded from
``(seed, kind, chunk)``), every chunk's sums are computed from that chunk's rows alone, in fixed
sub-blocks, and the chunks' sums are added exactly (as integers, as
:class:`~lossctl.losses.exact.ExactSum` does). The replicates are therefore the same bits for
any block size, thread count and merge order. A part fed rows that do not start or end at a
chunk boundary keeps those rows (fewer than :data:`CHUNK`) until :meth:`Replicates.merge` joins
them with its neighbour's.

The Poisson(1) weights are drawn exactly by inversion: a random byte decides the weight at once
unless its interval of [0, 1) straddles a step of the cumulative distribution (7 of the 256
values), and those few are decided with a fresh float64 uniform. About 4 us a sample for 1000
replicates: the bootstrap costs more than the loss.

>>> import numpy as np
>>> rep = Replicates(replicates=200, seed=1)
>>> cols = np.zeros((1000, len(COLUMNS))); cols[:, 0] = np.linspace(0, 1, 1000); cols[:, 1] = 1
>>> rep.add(0, cols)
>>> v = rep.values("samples")
>>> bool(0.46 < np.percentile(v, 2.5) < 0.5 < np.percentile(v, 97.5) < 0.54)
True
"""
from __future__ import annotations

import math

import numpy as np

from lossctl.losses.exact import _ratio

__all__ = ["CHUNK", "COLUMNS", "KINDS", "Replicates", "interval", "poisson_weights"]

#: Samples per chunk of the fixed grid; each chunk has its own generator.
CHUNK = 1 << 16
#: Rows of one weight matrix (``SUB x R``): bounds the temporaries to a few MB.
SUB = 4096
#: The per-sample columns a replicate sums: the numerator and each divisor rule's denominator
#: (:data:`lossctl.losses.reduction.DIVISORS`, plus the samples themselves).
COLUMNS = ("num", "samples", "rows", "valid", "weights", "class_weights", "elements")
KINDS = ("poisson", "signs")

_UNIT = 53 + 1075  # chunk sums are integers in units of 2**-_UNIT (as exact.py counts)


def _poisson_table() -> tuple[np.ndarray, np.ndarray]:
    """For each byte ``v``: the weight when the interval ``[v, v+1) / 256`` lies in one step
    of Poisson(1)'s cumulative distribution, else 255 (decided with more bits); and the
    distribution's cumulative probabilities (float64)."""
    pmf = [math.exp(-1.0) / math.factorial(k) for k in range(32)]
    cdf = np.cumsum(pmf)
    cdf[-1] = 1.0
    lo = np.arange(256, dtype=np.float64) / 256.0
    hi = lo + 1.0 / 256.0
    k_lo = np.searchsorted(cdf, lo, side="right")
    k_hi = np.searchsorted(cdf, np.nextafter(hi, 0), side="right")
    table = np.where(k_lo == k_hi, k_lo, 255).astype(np.uint8)
    return table, cdf


_TABLE: tuple[np.ndarray, np.ndarray] | None = None


def poisson_weights(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Exact Poisson(1) draws (uint8) by inversion of the cumulative distribution."""
    global _TABLE
    if _TABLE is None:
        _TABLE = _poisson_table()
    table, cdf = _TABLE
    u = np.frombuffer(rng.bytes(shape[0] * shape[1]), dtype=np.uint8).reshape(shape)
    k = np.take(table, u)
    undecided = np.flatnonzero(k.reshape(-1) == 255)
    if undecided.size:
        x = rng.random(undecided.size)
        # the uniform within the straddling interval: (v + x) / 256
        pos = (u.reshape(-1)[undecided] + x) / 256.0
        k.reshape(-1)[undecided] = np.searchsorted(cdf, pos, side="right").astype(np.uint8)
    return k


def _weights(kind: str, seed: int, chunk: int, sub: int, replicates: int) -> np.ndarray:
    """The ``(SUB, R)`` weights of sub-block ``sub`` of chunk ``chunk`` (float64)."""
    rng = np.random.default_rng([int(seed), KINDS.index(kind), int(chunk), int(sub)])
    if kind == "poisson":
        return poisson_weights(rng, (SUB, replicates)).astype(np.float64)
    bits = np.unpackbits(np.frombuffer(rng.bytes(SUB * replicates // 8 + 1), dtype=np.uint8))
    return 1.0 - 2.0 * bits[: SUB * replicates].reshape(SUB, replicates).astype(np.float64)


class Replicates:
    """Running replicate sums of the :data:`COLUMNS` of each sample (see the module docstring).

    Args:
        replicates: the number ``R`` of replicates.
        seed: the seed of every weight (the same seed gives the same weights to the same rows,
            which is what pairs two models' replicates).
        kind: ``"poisson"`` (bootstrap) or ``"signs"`` (sign flips of a paired test).
    """

    def __init__(self, replicates: int = 1000, seed: int = 0, kind: str = "poisson") -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if replicates < 1:
            raise ValueError("replicates must be at least 1")
        self.replicates = int(replicates)
        self.seed = int(seed)
        self.kind = kind
        self.start: int | None = None  # first sample fed to this part
        self.end: int | None = None
        self.units = [0] * (self.replicates * len(COLUMNS))  # complete chunks, exact
        self.special = np.zeros(self.replicates * len(COLUMNS))  # inf/nan of those sums
        self.head: np.ndarray | None = None  # rows before this part's first chunk boundary
        self.tail: np.ndarray | None = None  # rows after its last boundary (incomplete chunk)

    def fresh(self) -> Replicates:
        """An empty part with the same replicates, seed and kind."""
        return Replicates(self.replicates, self.seed, self.kind)

    # ---------------------------------------------------------------------------- feed
    def add(self, start: int, columns: np.ndarray) -> None:
        """Add samples ``start .. start + n - 1`` (``columns``: ``(n, len(COLUMNS))``), which
        follow the samples added so far."""
        cols = np.asarray(columns, dtype=np.float64).reshape(-1, len(COLUMNS))
        if self.start is None:
            self.start = self.end = int(start)
            if self.start % CHUNK:
                self.head = cols[:0].copy()  # open until the first chunk boundary
        if int(start) != self.end:
            raise ValueError(f"samples from {start} added after samples up to {self.end}")
        pos, n = self.end, cols.shape[0]
        self.end += n
        if self._head_open():
            cut = min(n, CHUNK - pos % CHUNK)
            self.head = np.concatenate([self.head, cols[:cut]])
            cols, pos = cols[cut:], pos + cut
        self._extend(pos, cols)

    def _extend(self, pos: int, cols: np.ndarray) -> None:
        """Continue after a chunk boundary (or the tail) with rows starting at sample ``pos``."""
        if not cols.shape[0]:
            return
        if self.tail is not None:
            cols, pos = np.concatenate([self.tail, cols]), pos - self.tail.shape[0]
            self.tail = None
        while cols.shape[0] >= CHUNK:
            self._chunk(pos // CHUNK, cols[:CHUNK])
            cols, pos = cols[CHUNK:], pos + CHUNK
        if cols.shape[0]:
            self.tail = cols.copy()

    def _head_open(self) -> bool:
        """The part has not reached a chunk boundary yet (its rows are all head)."""
        return self.head is not None and (self.start + self.head.shape[0]) % CHUNK != 0

    def _chunk(self, chunk: int, rows: np.ndarray) -> None:
        """Add the sums of one chunk's rows (all of them, or the last rows of the input)."""
        total = np.zeros((self.replicates, len(COLUMNS)))
        for s in range(0, rows.shape[0], SUB):
            part = rows[s:s + SUB]
            k = _weights(self.kind, self.seed, chunk, s // SUB, self.replicates)
            total += k[: part.shape[0]].T @ part
        self._fold(total.reshape(-1))

    def _fold(self, sums: np.ndarray) -> None:
        finite = np.isfinite(sums)
        if not finite.all():
            self.special += np.where(finite, 0.0, sums)  # inf + -inf = nan, as IEEE adds
            sums = np.where(finite, sums, 0.0)
        m, e = np.frexp(sums)
        mant = (m * 2.0**53).astype(np.int64).tolist()
        shift = (e.astype(np.int64) - 53 + _UNIT).tolist()
        units = self.units
        for j, (a, s) in enumerate(zip(mant, shift)):
            if a:
                units[j] += a << s

    def merge(self, other: Replicates) -> None:
        """Fold in a part fed the samples right after this one's."""
        if other.start is None:
            return
        if self.start is None:
            self.__dict__.update(other.__dict__)
            self.units = list(other.units)
            self.special = other.special.copy()
            return
        if other.start != self.end:
            raise ValueError(f"a part from sample {other.start} merged after one ending at "
                             f"{self.end}")
        for j, u in enumerate(other.units):
            if u:
                self.units[j] += u
        self.special += other.special
        pos, self.end = other.start, other.end
        rows = other.head
        if self._head_open():  # this part is inside one chunk: the other's head continues it
            self.head = np.concatenate([self.head, rows])
            if not other._head_open():
                self.tail = other.tail
            return
        if rows is not None:  # the rows of the other part up to its first boundary
            self._extend(pos, rows)
        if not other._head_open():
            if self.tail is not None:
                raise AssertionError("an incomplete chunk in the middle of the samples")
            self.tail = other.tail

    # --------------------------------------------------------------------------- values
    def finish(self) -> None:
        """Add the last incomplete chunk (of the part that holds every sample from the first)."""
        if self.start is None:
            return
        if self.head is not None:
            raise ValueError("replicates of a part that does not start at the first sample")
        if self.tail is not None:
            self._chunk((self.end - self.tail.shape[0]) // CHUNK, self.tail)
            self.tail = None

    def sums(self, column: str) -> list[int | float]:
        """The ``R`` sums of one column: exact integers (units of 2**-_UNIT), or a float for a
        replicate whose sum is not finite."""
        j = COLUMNS.index(column)
        w = len(COLUMNS)
        out: list[int | float] = []
        for r in range(self.replicates):
            s = self.special[r * w + j]
            out.append(float(s) if s != 0 or math.isnan(s) else self.units[r * w + j])
        return out

    def totals(self, column: str) -> np.ndarray:
        """The ``R`` sums of one column, each exactly rounded to float64."""
        self.finish()
        return np.array([s if isinstance(s, float) else _ratio(s, 1 << _UNIT)
                         for s in self.sums(column)])

    def values(self, rule: str | None, *, scale: float = 1.0, empty: str = "zero",
               finalize: str | None = None) -> np.ndarray:
        """The ``R`` replicate values ``scale * sum(num) / sum(den)`` (``rule`` names the
        denominator column; None: the sum), each exactly rounded, as the point value is."""
        self.finish()
        num = self.sums("num")
        den = None if rule is None else self.sums(rule)
        sn, sd = float(scale).as_integer_ratio()
        out = np.empty(self.replicates)
        for r in range(self.replicates):
            a = num[r]
            if den is None:
                out[r] = _ratio(a * sn, sd << _UNIT) if isinstance(a, int) else a * scale
                continue
            d = den[r]
            if isinstance(a, int) and isinstance(d, int):
                out[r] = (0.0 if empty == "zero" else math.nan) if d == 0 else _ratio(a * sn,
                                                                                      d * sd)
            else:
                fa = a if isinstance(a, float) else _ratio(a, 1 << _UNIT)
                fd = d if isinstance(d, float) else _ratio(d, 1 << _UNIT)
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[r] = (0.0 if empty == "zero" else math.nan) if fd == 0 else (
                        float(np.float64(fa) * scale / np.float64(fd)))
        if finalize == "sqrt":
            with np.errstate(invalid="ignore"):
                out = np.where(out >= 0, np.sqrt(np.abs(out)), math.nan)
        return out


def interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    """The percentile interval of ``level`` percent (NaN replicates left out)."""
    v = np.asarray(replicates, dtype=np.float64)
    v = v[~np.isnan(v)]
    if not v.size:
        return math.nan, math.nan
    tail = (100.0 - level) / 2.0
    lo, hi = np.percentile(v, [tail, 100.0 - tail])
    return float(lo), float(hi)
