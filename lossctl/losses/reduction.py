"""Reductions: from per-sample losses to one number, as running sums.

Every reduction lossctl offers is a ratio of running sums, so the engine can consume row blocks
of any size and combine them::

    numerator   = sum_n  w_n * l_n            (l_n = 0 for ignored rows)
    denominator = one of: N (rows), N_valid (non-ignored rows), sum_n w_n (weights of valid rows),
                  sum_n cw[y_n] (class weights of the valid targets, PyTorch), N * C (elements)

Which denominator a framework uses is the whole difference between several "identical" losses
(losses.md D8-D10, D13). The rules, by reduction and convention:

==========================  =============================================  ==========================
reduction                   keras (Keras 3 ``Loss.__call__``)              torch
==========================  =============================================  ==========================
``mean``                    sum(w*l) / N_valid; all ignored -> 0           per loss: / N, / N*C
                            (``sum_over_batch_size``; N_valid = N without  (kl_div), / sum(cw[y])
                            ``ignore_class``)                              (class-weighted index
                                                                           targets), / sum(w)
                                                                           (weighted mse/l1); all
                                                                           ignored -> NaN
``sum``                     sum(w*l)                                       sum(w*l) (elementwise
                                                                           losses: over elements)
``mean_with_sample_weight`` sum(w*l) / sum(w)                              same
``batchmean``               sum(w*l) / N                                   same (kl_div's batchmean)
``none``                    no reduction: the per-sample values            same
==========================  =============================================  ==========================

Bit-for-bit stability: sums are taken over fixed chunks of :data:`CHUNK` rows with numpy's
pairwise summation, and the chunk sums are combined exactly (``math.fsum``). Chunk boundaries sit
at fixed row indices, so the result does not depend on how the input was split into blocks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lossctl.losses.spec import REDUCTIONS

#: Rows per summation chunk. Fixed: changing it changes the last bits of reduced values.
CHUNK = 65536

__all__ = ["CHUNK", "DIVISORS", "REDUCTIONS", "SHIFT", "Accumulator", "per_sample_values"]


#: Denominator rules (see the module docstring).
DIVISORS = ("rows", "valid", "weights", "class_weights", "elements")


#: Sums whose true value is beyond the float range are kept scaled by 2**-SHIFT (exact: a power
#: of two), so a mean of finite values is finite whenever it is representable.
SHIFT = 64


class _ExactSum:
    """Sum of a stream of float64 arrays, independent of how the stream is split.

    Values are buffered into fixed CHUNK-row chunks; each full chunk is summed with numpy's
    pairwise sum and the chunk sums are kept as exact partials for math.fsum. A chunk of finite
    values whose sum overflows is summed again scaled by 2**-SHIFT, and the total is then kept
    at that scale (:meth:`scaled`), so that dividing by the count gives the finite mean.
    """

    __slots__ = ("_buf", "_fill", "_partials")

    def __init__(self) -> None:
        self._buf = np.empty(CHUNK, dtype=np.float64)
        self._fill = 0
        self._partials: list[tuple[float, int]] = []  # (sum, scale exponent: 0 or -SHIFT)

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        i = 0
        n = values.size
        while i < n:
            take = min(CHUNK - self._fill, n - i)
            self._buf[self._fill : self._fill + take] = values[i : i + take]
            self._fill += take
            i += take
            if self._fill == CHUNK:
                self._partials.append(_chunk_sum(self._buf))
                self._fill = 0

    def scaled(self) -> tuple[float, int]:
        """``(s, e)`` with the total equal to ``s * 2**-e``: ``e`` is 0 unless the total of
        finite values is beyond the float range."""
        parts = self._partials + ([_chunk_sum(self._buf[: self._fill])] if self._fill else [])
        values = [p for p, _ in parts]
        with np.errstate(invalid="ignore"):
            if any(math.isnan(p) for p in values):
                return math.nan, 0
            if any(math.isinf(p) for p in values):
                return float(sum(values)), 0  # inf, -inf or nan (inf - inf) as IEEE says
        if all(e == 0 for _, e in parts):
            try:
                return math.fsum(values), 0
            except OverflowError:  # finite chunk sums whose total is not
                pass
        return math.fsum(p if e else math.ldexp(p, -SHIFT) for p, e in parts), SHIFT

    def total(self) -> float:
        """The sum (inf when it is beyond the float range)."""
        s, e = self.scaled()
        return _unscale(s, e)


def _chunk_sum(chunk: np.ndarray) -> tuple[float, int]:
    with np.errstate(over="ignore", invalid="ignore"):
        s = float(np.sum(chunk))
    if math.isfinite(s) or not np.isfinite(chunk).all():
        return s, 0
    return float(np.sum(chunk * 2.0**-SHIFT)), SHIFT


def _unscale(s: float, e: int) -> float:
    if not e:
        return s
    try:
        return math.ldexp(s, e)
    except OverflowError:
        return math.copysign(math.inf, s)


@dataclass
class Accumulator:
    """Running sums over per-sample losses, fed one block at a time.

    ``add`` takes, for one block: the per-sample losses ``values`` (N,), the sample weights
    ``weights`` (N,) or None (all 1), a boolean ``valid`` mask (N,) or None (all valid; ignored
    rows must already have value 0), the class weights of each row's target ``class_weights``
    (N,) or None, and the number of elements per row ``width`` (C, for torch's per-element mean).
    """

    rows: int = 0
    valid: int = 0
    elements: int = 0
    _wl: _ExactSum = field(default_factory=_ExactSum)
    _w: _ExactSum = field(default_factory=_ExactSum)
    _cw: _ExactSum = field(default_factory=_ExactSum)

    def add(
        self,
        values: np.ndarray,
        *,
        weights: np.ndarray | None = None,
        valid: np.ndarray | None = None,
        class_weights: np.ndarray | None = None,
        width: int = 1,
    ) -> None:
        values = np.asarray(values, dtype=np.float64)
        n = values.shape[0]
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        mask = np.ones(n, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
        wl = w * values
        wl = np.where(mask, wl, 0.0)  # an ignored row contributes exactly 0, even if w is inf
        self._wl.add(wl)
        self._w.add(np.where(mask, w, 0.0))
        cw = np.ones(n) if class_weights is None else np.asarray(class_weights, dtype=np.float64)
        self._cw.add(np.where(mask, cw, 0.0))
        self.rows += n
        self.valid += int(mask.sum())
        self.elements += n * width

    @property
    def weighted_sum(self) -> float:
        return self._wl.total()

    @property
    def weight_sum(self) -> float:
        return self._w.total()

    @property
    def class_weight_sum(self) -> float:
        return self._cw.total()

    def divisor(self, rule: str) -> float:
        if rule == "rows":
            return float(self.rows)
        if rule == "valid":
            return float(self.valid)
        if rule == "weights":
            return self.weight_sum
        if rule == "class_weights":
            return self.class_weight_sum
        if rule == "elements":
            return float(self.elements)
        raise ValueError(f"unknown divisor rule {rule!r}; expected one of {DIVISORS}")

    def reduce(self, rule: str | None, *, empty: str = "zero", scale: float = 1.0,
               divisor: float | None = None) -> float:
        """The reduced value: ``scale * sum(w*l) / divisor(rule)``, or the sum when rule is None.

        ``empty`` says what a zero divisor gives: ``"zero"`` (Keras ``divide_no_nan``) or
        ``"nan"`` (PyTorch: 0/0). ``divisor`` replaces the rule's (batchmean of N-D samples
        divides by the samples, not by the rows of their elements).
        """
        s, e = self._wl.scaled()
        s *= scale
        if rule is None:
            return _unscale(s, e)
        d = self.divisor(rule) if divisor is None else float(divisor)
        if d == 0:
            return 0.0 if empty == "zero" else math.nan
        return _unscale(s / d, e)  # the mean of finite values is finite when representable


def per_sample_values(values: np.ndarray, weights: np.ndarray | None, valid: np.ndarray,
                      class_weights: np.ndarray | None, *, rule: str | None, scale: float = 1.0,
                      empty: str = "zero", width: int = 1) -> np.ndarray:
    """Each sample's value on its own, from its rows: ``(n, P)`` arrays (P rows per sample: the
    elements of an N-D sample) -> ``(n,)``, reduced by the same rule as the whole input.

    A sample's value is what the framework gives for a batch of that one sample: Keras's mean
    over its valid elements (0 when all are ignored), PyTorch's divisor (its elements, or the
    class weights of its targets; NaN when all are ignored), the sum for ``sum``, and for
    ``batchmean`` the sum (a batch of one).
    """
    values = np.asarray(values, dtype=np.float64)
    mask = np.asarray(valid, dtype=bool)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        wl = np.where(mask, values if w is None else values * w, 0.0)
        num = wl.sum(axis=1) * scale
    if rule is None or rule == "rows":
        return num
    if rule == "valid":
        d = mask.sum(axis=1).astype(np.float64)
    elif rule == "weights":
        d = np.where(mask, 1.0 if w is None else w, 0.0).sum(axis=1)
    elif rule == "class_weights":
        cw = np.ones_like(values) if class_weights is None else class_weights
        d = np.where(mask, cw, 0.0).sum(axis=1)
    elif rule == "elements":
        d = np.full(values.shape[0], float(values.shape[1] * width))
    else:
        raise ValueError(f"unknown divisor rule {rule!r}; expected one of {DIVISORS}")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = num / d
    return np.where(d == 0, 0.0 if empty == "zero" else math.nan, out)
