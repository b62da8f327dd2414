"""Exact sums: the same bits however the values are split, ordered or merged.

A block's finite values are summed exactly into one Python integer counting units of 2**-1128,
in one of two ways. Values within a few dozen binary orders of magnitude of each other (every
loss's per-sample values) go by error-free extraction against powers of two
(:func:`_extracted_units`, about 2 ns a value a round, three rounds). Others go by exponent:
a float64 ``x`` is ``m * 2**e`` (``np.frexp``); its mantissa ``m`` is split into two halves
(``hi``, a multiple of 2**-26, and ``lo``, of 2**-53), and the halves are summed into one bin
per exponent with ``np.bincount``: those float64 bin sums are exact (each stays below 2**53
units), and the bins are then combined (about 20 ns a value). Both give the exact integer, so
which one a block took never shows. The total and any ratio of totals are rounded once,
exactly (Python's int true division). A sum's state is an integer and three counts (NaN,
+inf, -inf), picklable and merged by adding, which is what lets blocks, threads, processes and
shards be combined in any order.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["ExactSum"]

#: ``np.frexp`` gives float64 exponents -1073..1024; bin ``e + _BIAS`` is never negative.
_BIAS = 1075
_BINS = 1024 + _BIAS + 1
#: A mantissa ``m`` (|m| < 1, a multiple of 2**-53) is split as ``hi + lo``, ``hi`` a multiple
#: of 2**-26 (|hi| <= 1) and ``lo`` of 2**-53 (|lo| <= 2**-27): ``(m + _SPLIT) - _SPLIT``
#: rounds to 2**-26 exactly.
_SPLIT = 1.5 * 2.0**26
#: Values per bincount: a bin then sums fewer than 2**27 halves of at most 2**26 units each,
#: below 2**53, so numpy's float64 bin sums are exact.
_PIECE = 1 << 24
#: The integer total counts units of 2**-_UNIT.
_UNIT = 53 + _BIAS
_DENOM = 1 << _UNIT


def _units(values: np.ndarray, groups: np.ndarray | None = None, ngroups: int = 1) -> list[int]:
    """The exact sums of finite float64 ``values`` (1-D), per group (``groups``: the group of
    each value, 0..ngroups-1), in units of 2**-_UNIT."""
    totals = [0] * ngroups
    for i in range(0, values.size, _PIECE):
        m, e = np.frexp(values[i:i + _PIECE])
        hi = m + _SPLIT
        hi -= _SPLIT
        m -= hi  # lo
        idx = e.astype(np.intp)
        idx += _BIAS
        if groups is not None:
            idx += groups[i:i + _PIECE] * _BINS
        size = _BINS * ngroups
        hs = np.bincount(idx, weights=hi, minlength=size)
        ls = np.bincount(idx, weights=m, minlength=size)
        hs *= 2.0**26
        ls *= 2.0**53
        for k in np.flatnonzero((hs != 0) | (ls != 0)):
            g, b = divmod(int(k), _BINS)
            totals[g] += ((int(hs[k]) << 27) + int(ls[k])) << b
    return totals


#: Extraction rounds (see :func:`_extracted_units`) before the remainders go to the bins.
_ROUNDS = 4


def _float_units(s: float) -> int:
    """A float64 -> its value in units of 2**-_UNIT, exactly (every float64, subnormals
    included, is a whole number of 2**-1074, and ``frexp`` exponents are at least -1073)."""
    m, e = math.frexp(s)
    return int(m * 2.0**53) << (e - 53 + _UNIT)


def _extracted_units(values: np.ndarray) -> int | None:
    """The exact sum of finite float64 ``values`` (1-D) in units of 2**-_UNIT, by error-free
    extraction (Rump, Ogita and Oishi's ``ExtractVector``): with ``sigma`` a power of two at
    least ``2 n max|r|``, ``t = (sigma + r) - sigma`` and ``r - t`` are exact, every ``t`` is a
    multiple of ``ulp(sigma) / 2`` below ``sigma / (2 n)``, so ``sum(t)`` is exact in any
    order; each round takes the next 53 - log2(n) - 2 bits of every value. Losses span a few
    dozen binary orders of magnitude, which three rounds cover: about 2 ns a value a round,
    against 20 for the per-exponent bins. ``None`` when the remainders of :data:`_ROUNDS`
    rounds are not yet 0 (values of very different magnitudes), for the bins to sum."""
    n = values.size
    if n == 0:
        return 0
    total = 0
    lg = max(n - 1, 1).bit_length()
    r = values
    for _ in range(_ROUNDS):
        big = max(float(r.max()), -float(r.min()))
        if big == 0.0:
            return total
        k = math.frexp(big)[1] + lg + 1  # sigma = 2**k >= 2 n max|r|
        if k > 1023:  # sigma beyond float64
            return None
        sigma = math.ldexp(1.0, k)
        t = r + sigma
        t -= sigma
        total += _float_units(float(np.sum(t)))
        r = r - t
    return None if r.any() else total


def _ratio(num: int, den: int) -> float:
    """``num / den`` exactly rounded to float64 (inf beyond its range): Python's true division
    of two ints rounds once, subnormals included (it is what ``float(Fraction(num, den))``
    computes, without importing fractions and decimal at start-up)."""
    try:
        return num / den
    except OverflowError:
        return math.inf if (num > 0) == (den > 0) else -math.inf


class ExactSum:
    """The exact sum of a stream of float64 values, the same however the stream is split or
    ordered: finite values are added as integers (see :func:`_units`), and NaN and the
    infinities are counted, so that the total is what IEEE arithmetic gives for them (NaN if any
    value is NaN or both infinities occur). Its state is three counts and one integer:
    picklable, and merged by adding (:meth:`merge`)."""

    __slots__ = ("_units", "_nan", "_pos", "_neg")

    def __init__(self) -> None:
        self._units = 0
        self._nan = self._pos = self._neg = 0

    def __getstate__(self) -> tuple:
        return self._units, self._nan, self._pos, self._neg

    def __setstate__(self, state: tuple) -> None:
        self._units, self._nan, self._pos, self._neg = state

    def add(self, values: np.ndarray) -> None:
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        if not v.size:
            return
        finite = np.isfinite(v)
        if not finite.all():
            bad = v[~finite]
            self._nan += int(np.isnan(bad).sum())
            self._pos += int((bad > 0).sum())
            self._neg += int((bad < 0).sum())
            v = v[finite]
        fast = _extracted_units(v)
        self._units += fast if fast is not None else _units(v)[0]

    def add_count(self, n: int) -> None:
        """Add ``n`` ones."""
        self._units += n << _UNIT

    def merge(self, other: ExactSum) -> None:
        """Add another sum's values."""
        self._units += other._units
        self._nan += other._nan
        self._pos += other._pos
        self._neg += other._neg

    def _special(self) -> float | None:
        if self._nan or (self._pos and self._neg):
            return math.nan
        if self._pos:
            return math.inf
        if self._neg:
            return -math.inf
        return None

    def total(self) -> float:
        """The sum, exactly rounded (inf when it is beyond the float range)."""
        special = self._special()
        return special if special is not None else _ratio(self._units, _DENOM)

    def over(self, other: ExactSum, scale: float = 1.0) -> float:
        """``scale * self / other`` exactly rounded, for another exact sum of positive total."""
        if self._special() is not None or other._special() is not None or not other._units:
            with np.errstate(invalid="ignore", divide="ignore"):
                return float(np.float64(self.total()) * scale / np.float64(other.total()))
        sn, sd = float(scale).as_integer_ratio()
        return _ratio(self._units * sn, other._units * sd)

    def ratio(self, divisor: float, scale: float = 1.0) -> float:
        """``scale * sum / divisor``, exactly rounded (``divisor`` > 0)."""
        special = self._special()
        if special is not None:
            return special * scale / divisor
        sn, sd = float(scale).as_integer_ratio()
        dn, dd = float(divisor).as_integer_ratio()
        return _ratio(self._units * sn * dd, _DENOM * sd * dn)
