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

scikit-learn's metrics that are not a weighted mean of per-sample values are reduced by an
:class:`Aggregate` named by the loss's ``aggregate`` field (:func:`aggregator`): the root of each
output column's weighted mean (:class:`ColumnMean`: RMSE, RMSLE), each column's (weighted) median
(:class:`ColumnMedian`), the maximum (:class:`Maximum`), and the D² scores of
:mod:`lossctl.losses.deviance` and :mod:`lossctl.losses.scores`. Those that need every value
(medians, quantiles, a mean taken before the deviations) hold them in memory within the memory
limit (:class:`Held`) and fail clearly beyond it.

Bit-for-bit stability: every sum is exact (:class:`ExactSum`: each value's mantissa is added
into integer bins by exponent, and the bins are combined as one Python integer), and the value
is the exactly rounded ratio of those integers. A sum is therefore the same however the rows were
split into blocks, threads, processes or shards and in whatever order the parts are merged
(:meth:`ExactSum.merge`), and it never overflows: a mean of finite values is finite whenever it
is representable.
"""
from __future__ import annotations

import math
import numpy as np

from lossctl.losses.exact import ExactSum, _units
from lossctl.losses.spec import REDUCTIONS

#: Rows per chunk of the D² class sums' blocks (kept for callers that size by it).
CHUNK = 65536

__all__ = ["CHUNK", "DIVISORS", "REDUCTIONS", "Accumulator", "Aggregate", "ColumnMean",
           "ColumnMedian", "ColumnSums", "ExactSum", "Held", "Maximum", "aggregator",
           "per_sample_values", "weighted_percentile"]


#: Denominator rules (see the module docstring).
DIVISORS = ("rows", "valid", "weights", "class_weights", "elements")

class Accumulator:
    """Running sums over per-sample losses, fed one block at a time.

    ``add`` takes, for one block: the per-sample losses ``values`` (N,), the sample weights
    ``weights`` (N,) or None (all 1), a boolean ``valid`` mask (N,) or None (all valid; ignored
    rows must already have value 0), the class weights of each row's target ``class_weights``
    (N,) or None, and the number of elements per row ``width`` (C, for torch's per-element mean).
    Every sum is exact (:class:`ExactSum`), so accumulators fed different parts of the rows
    merge (:meth:`merge`) into the value one accumulator fed every row gives.
    """

    __slots__ = ("rows", "valid", "elements", "_wl", "_w", "_cw")

    def __init__(self) -> None:
        self.rows = 0
        self.valid = 0
        self.elements = 0
        self._wl = ExactSum()
        self._w = ExactSum()  # weights given (1 per valid row without one: added as a count)
        self._cw = ExactSum()

    def __getstate__(self) -> tuple:
        return self.rows, self.valid, self.elements, self._wl, self._w, self._cw

    def __setstate__(self, state: tuple) -> None:
        self.rows, self.valid, self.elements, self._wl, self._w, self._cw = state

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
        mask = None if valid is None else np.asarray(valid, dtype=bool)
        nvalid = n if mask is None or mask.all() else int(mask.sum())
        if mask is not None and nvalid == n:
            mask = None
        if weights is None:
            wl = values if mask is None else np.where(mask, values, 0.0)
            self._w.add_count(nvalid)
        else:
            w = np.asarray(weights, dtype=np.float64)
            wl = w * values
            if mask is not None:  # an ignored row contributes exactly 0, even if w is inf
                wl = np.where(mask, wl, 0.0)
                w = np.where(mask, w, 0.0)
            self._w.add(w)
        self._wl.add(wl)
        if class_weights is None:
            self._cw.add_count(nvalid)
        else:
            cw = np.asarray(class_weights, dtype=np.float64)
            self._cw.add(cw if mask is None else np.where(mask, cw, 0.0))
        self.rows += n
        self.valid += nvalid
        self.elements += n * width

    def merge(self, other: Accumulator) -> None:
        """Add the sums of another accumulator (fed other rows)."""
        self.rows += other.rows
        self.valid += other.valid
        self.elements += other.elements
        self._wl.merge(other._wl)
        self._w.merge(other._w)
        self._cw.merge(other._cw)

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
        """The reduced value: ``scale * sum(w*l) / divisor(rule)``, or the sum when rule is None,
        exactly rounded from the exact sums.

        ``empty`` says what a zero divisor gives: ``"zero"`` (Keras ``divide_no_nan``) or
        ``"nan"`` (PyTorch: 0/0). ``divisor`` replaces the rule's (batchmean of N-D samples
        divides by the samples, not by the rows of their elements).
        """
        if rule is None:
            return self._wl.ratio(1.0, scale)
        d = self.divisor(rule) if divisor is None else float(divisor)
        if d == 0:
            return 0.0 if empty == "zero" else math.nan
        if not math.isfinite(d):
            with np.errstate(invalid="ignore"):
                return float(np.float64(self._wl.total()) * scale / d)
        if rule == "weights" and divisor is None:
            return self._wl.over(self._w, scale)
        if rule == "class_weights" and divisor is None:
            return self._wl.over(self._cw, scale)
        return self._wl.ratio(d, scale)


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


# --- scikit-learn's reductions that are not a weighted mean ----------------------------------------


class ColumnSums:
    """Exact per-column sums of a stream of ``(n, C)`` float64 blocks (one :class:`ExactSum`
    per column, added in one vectorised pass), mergeable like them."""

    def __init__(self, width: int) -> None:
        self.width = width
        self._sums = [ExactSum() for _ in range(width)]
        self._groups: np.ndarray | None = None

    def __getstate__(self) -> dict:
        return {"width": self.width, "_sums": self._sums, "_groups": None}

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64).reshape(-1, self.width)
        if not values.size:
            return
        if not np.isfinite(values).all():
            for j, total in enumerate(self._sums):
                total.add(values[:, j])
            return
        n = values.shape[0]
        if self._groups is None or self._groups.size < values.size:
            self._groups = np.tile(np.arange(self.width, dtype=np.intp), n)
        for total, units in zip(self._sums, _units(values.reshape(-1),
                                                   self._groups[:values.size], self.width)):
            total._units += units

    def merge(self, other: ColumnSums) -> None:
        for mine, theirs in zip(self._sums, other._sums):
            mine.merge(theirs)

    def total(self) -> np.ndarray:
        """The (C,) column sums."""
        return np.array([t.total() for t in self._sums], dtype=np.float64)


class Held:
    """Every value of a stream of ``(n, C)`` blocks, for a statistic that needs them all (a
    median, a quantile, the deviations from a mean), kept within ``limit`` bytes.

    Raises:
        UsageError: the values (and the sort that follows) would need more than ``limit``;
            it names the memory limit and the size needed.
    """

    #: bytes per held value while the statistic is computed: the value, its weight share, the
    #: sort's int64 indices and the sorted copies
    BYTES = 40
    #: what the error says the statistic does, and why raising the limit is the way out
    NEEDS = "needs every value at once"
    WHY = "a median or quantile cannot be computed exactly from running sums"

    def __init__(self, what: str, limit: int) -> None:
        self.what = what
        self.limit = limit
        self._blocks: list[np.ndarray] = []
        self.count = 0

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        self._check(values.size)
        self._blocks.append(values.copy())

    def _check(self, size: int) -> None:
        self.count += size
        if self.count * self.BYTES > self.limit:
            from lossctl.errors import UsageError, opt

            need = self.count * self.BYTES
            raise UsageError(
                f"{self.what} {self.NEEDS}, and {self.count} values (about "
                f"{need / 2**20:.0f} MB with the sort) are beyond the memory limit "
                f"({self.limit / 2**20:.0f} MB)",
                hint=f"raise {opt('memory_limit')} (for example {opt('memory_limit', '2G')}): "
                f"{self.WHY}",
                option="memory_limit")

    def merge(self, other: Held) -> None:
        """Append another holder's values (those of the rows after this one's)."""
        for block in other._blocks:
            self._check(block.size)
            self._blocks.append(block)

    def array(self, width: int) -> np.ndarray:
        """The held values as one ``(N, width)`` array (the blocks are released)."""
        if not self._blocks:
            return np.empty((0, width))
        out = np.concatenate([b.reshape(-1, width) for b in self._blocks], axis=0)
        self._blocks = [out]
        return out


def weighted_percentile(a: np.ndarray, w: np.ndarray, rank: float) -> np.ndarray:
    """scikit-learn's ``_weighted_percentile(a, w, rank, average=True)`` per column of ``a``
    ``(N, C)`` with weights ``w`` ``(N,)``: the value where the weighted CDF reaches
    ``rank / 100`` of the total, averaged with the next value (of positive weight) when the CDF
    lands exactly on a step (Hyndman and Fan's definition, as ``sklearn.utils.stats``; with unit
    weights and rank 50 this is the ordinary median). All weights 0 gives NaN."""
    a = np.asarray(a, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n, c = a.shape
    if n == 0 or np.all(w == 0):
        return np.full(c, math.nan)
    ww = np.tile(w, (c, 1)).T
    order = np.argsort(a, axis=0)
    sw = np.take_along_axis(ww, order, axis=0)
    cols = np.arange(c)
    nan_last = np.isnan(a[order[-1], cols])
    if nan_last.any():  # NaN sorts last: its weight does not count
        sw[np.take_along_axis(np.isnan(a), order, axis=0)] = 0
    cdf = np.cumsum(sw.T, axis=1)  # (C, N)
    target = rank / 100 * cdf[:, -1]
    target = np.where(target == 0, np.nextafter(target, target + 1), target)
    idx = np.array([np.searchsorted(cdf[j], target[j]) for j in range(c)])
    idx = np.clip(idx, 0, n - 1)
    at = order[idx, cols]
    above = (cdf[cols, idx] - target) > np.finfo(np.float64).eps
    nxt = order[np.clip(idx + 1, 0, n - 1), cols]
    for j in cols[ww[nxt, cols] == 0]:  # the next value has weight 0: the next that has some
        k = int(np.searchsorted(cdf[j], cdf[j, idx[j]], side="right"))
        nxt[j] = order[k if k <= n - 1 else idx[j], j]
    return np.where(above, a[at, cols], (a[at, cols] + a[nxt, cols]) / 2)


class Aggregate:
    """How scikit-learn reduces a metric that is not a weighted mean of per-sample values.

    The engine gives it every block of validated rows (:meth:`add`: the targets, predictions,
    the loss function's values, elementwise ``(n, C)`` or per row ``(n,)``, and the sample
    weights or None) and asks for the value at the end (:meth:`value`).
    """

    #: the class names and label offset the per-sample rows show, set by the pipeline before
    #: :meth:`details` so that its tables name the classes as the rows do
    class_names: list[str] | None = None
    offset: int = 0

    def __init__(self, options: dict, limit: int) -> None:
        self.options = options
        self.limit = limit
        self.weighted = False
        self.rows = 0
        self.width: int | None = None
        self._w = ExactSum()

    def _weights(self, values: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        n = values.shape[0]
        self.rows += n
        if weights is not None:
            self.weighted = True
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        self._w.add(w)
        return w

    def _take_counts(self, other: Aggregate) -> bool:
        """The start every ``merge`` shares: False when nothing is left to do (``other`` is
        empty, or this one was and is now a copy of it); else the row counts and the weighted
        flag are added and the caller merges its own state."""
        if not other.rows:
            return False
        if not self.rows:
            self.__dict__.update(other.__dict__)
            return False
        self.rows += other.rows
        self.weighted = self.weighted or other.weighted
        return True

    def fresh(self) -> Aggregate:
        """An empty aggregate of the same metric and options (for another part of the rows)."""
        return type(self)(self.options, self.limit)

    def merge(self, other: Aggregate) -> None:
        """Fold in an aggregate of the same metric fed the rows after this one's, giving the
        value one aggregate fed all of them gives: counts add, sums merge, held values are
        appended. A subclass with other state extends this."""
        if not self._take_counts(other):
            return
        for name, value in vars(other).items():
            mine = getattr(self, name, None)
            if name != "_w" and mine is not None and hasattr(type(value), "merge"):
                mine.merge(value)
        self._w.merge(other._w)

    @staticmethod
    def columns(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        return values if values.ndim == 2 else values.reshape(-1, 1)

    def add(self, target, pred, values, weights) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def value(self) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    def details(self) -> dict | None:
        """A metric's tables beside its value (plain JSON-able data), or None."""
        return None


class ColumnMean(Aggregate):
    """The root of each output column's weighted mean, averaged over the columns (scikit-learn
    ``root_mean_squared_error``, ``root_mean_squared_log_error``,
    ``multioutput="uniform_average"``): ``mean_c sqrt(sum_n w_n e_nc / sum_n w_n)``, which is
    not the root of the overall mean when C > 1."""

    def add(self, target, pred, values, weights) -> None:
        v = self.columns(values)
        w = self._weights(v, weights)
        if self.width is None:
            self.width = v.shape[1]
            self._sums = ColumnSums(self.width)
        with np.errstate(over="ignore", invalid="ignore"):
            self._sums.add(v * w[:, None])

    def value(self) -> float:
        if self.width is None:
            return math.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(np.mean(np.sqrt(self._sums.total() / self._w.total())))


class ColumnMedian(Aggregate):
    """Each output column's median of the values, averaged over the columns (scikit-learn
    ``median_absolute_error``): ``np.median`` without sample weights, the weighted percentile 50
    (:func:`weighted_percentile`) with them. Every value is held (:class:`Held`)."""

    def add(self, target, pred, values, weights) -> None:
        v = self.columns(values)
        w = self._weights(v, weights)
        if self.width is None:
            self.width = v.shape[1]
            self._held = Held("the median of the errors", self.limit)
            self._wheld = Held("the median of the errors", self.limit)
        self._held.add(v)
        self._wheld.add(w)

    def value(self) -> float:
        if self.width is None:
            return math.nan
        a = self._held.array(self.width)
        if not self.weighted:
            return float(np.mean(np.median(a, axis=0)))
        return float(np.mean(weighted_percentile(a, self._wheld.array(1)[:, 0], 50.0)))


class Maximum(Aggregate):
    """The largest value (scikit-learn ``max_error``: one output column, no sample weights)."""

    def add(self, target, pred, values, weights) -> None:
        from lossctl.errors import ShapeError, UsageError, opt

        v = self.columns(values)
        if weights is not None:
            raise UsageError("max_error takes no sample weights (a weighted maximum is not "
                             "defined; scikit-learn's max_error has no sample_weight)",
                             hint=f"drop {opt('sample_weight')}", option="sample_weight")
        if v.shape[1] != 1:
            raise ShapeError(f"max_error takes one output column, not {v.shape[1]} "
                             "(scikit-learn: 'Multioutput not supported in max_error')",
                             hint="compute each column on its own")
        self._weights(v, None)
        if v.size:
            with np.errstate(invalid="ignore"):
                m = float(np.max(v))  # NaN if any value is NaN, as np.max
            self._max = m if self.width is None or math.isnan(m) else (
                max(self._max, m) if not math.isnan(self._max) else self._max)
            self.width = 1

    def merge(self, other: Aggregate) -> None:
        if other.width is None:
            return
        if self.width is None or math.isnan(other._max):
            self._max, self.width = other._max, other.width
        elif not math.isnan(self._max):
            self._max = max(self._max, other._max)
        self.rows += other.rows

    def value(self) -> float:
        return self._max if self.width is not None else math.nan


def aggregator(spec, convention: str, reduction: str):
    """The :class:`Aggregate` class that reduces ``spec`` under ``convention``, or None (a
    weighted mean of per-sample values). Its value is the metric itself, so only ``mean`` (and
    ``mean_with_sample_weight``, the same under scikit-learn) and ``none`` apply.

    Raises:
        UsageError: another reduction.
    """
    if spec.aggregate is None or not (convention == "sklearn" or spec.conventions == ("sklearn",)):
        return None
    if reduction not in ("mean", "mean_with_sample_weight", "none"):
        from lossctl.errors import UsageError, opt

        raise UsageError(f"{opt('reduction', reduction)} does not apply to {spec.name} under "
                         "scikit-learn's rules", hint=f"its value is {opt('reduction', 'mean')} "
                         f"(the metric itself); {opt('reduction', 'none')} gives the per-sample "
                         "values", option="reduction")
    if reduction == "none":  # the per-sample values need no aggregate (nor its held values)
        return None
    import importlib

    module, name = spec.aggregate.split(":")
    return getattr(importlib.import_module(f"lossctl.losses.{module}"), name)
