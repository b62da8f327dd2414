"""Ranking metrics: ROC AUC and average precision, as scikit-learn computes them.

A ranking needs every score at once: the aggregates hold the scores within the memory limit
(:class:`~lossctl.losses.reduction.Held`) and the value is then exact. Once they would not
fit, they are binned, once, into a mergeable score histogram per class
(:mod:`lossctl.losses.histogram`: buckets of relative width 2**-12, exact weight sums): the
value is then a documented streaming approximation, scores within a bucket tied, with a bound
on its error in the details and one warning naming the option that gives the exact value. Either
way the value is the same bits for any block size or split. How a block names its classes (one
score column, two, or one per class) is :func:`ranking_inputs`; the label checks are shared
with :mod:`lossctl.losses.metrics`.
"""
from __future__ import annotations

import math

import numpy as np

from lossctl.losses._numerics import check_convention
from lossctl.losses.metrics import binary_labels, true_classes, whole_labels
from lossctl.losses.histogram import MANTISSA, ScoreHistogram, ap_bound, auc_bound
from lossctl.losses.reduction import Aggregate, Held

__all__ = ["AveragePrecision", "HeldScores", "RocAuc", "average_precision", "ranking_inputs",
           "roc_auc"]


class HeldScores(Held):
    """:class:`Held` whose error says why a ranking needs every score."""

    NEEDS = "ranks every score"
    WHY = "the exact value needs every score at once"

    def fits(self, size: int) -> bool:
        """Whether ``size`` more values fit the limit."""
        return (self.count + size) * self.BYTES <= self.limit


def ranking_inputs(y_true, y_pred, name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """(true classes, scores, binary): one score column or two (the second is the positive
    class's) are a binary problem with 0/1 labels; more are one column per class."""
    s = np.asarray(y_pred, dtype=np.float64)
    c = s.shape[1]
    if c == 1:
        t = whole_labels(np.asarray(y_true).reshape(-1), name)
        binary_labels(t, name)
        return t, s, True
    t = true_classes(y_true, c, name)
    return t, (s[:, 1:] if c == 2 else s), c == 2


def _ranked_score(y_true, y_pred, name: str) -> np.ndarray:
    t, s, binary = ranking_inputs(y_true, y_pred, name)
    return s[:, 0] if binary else s[np.arange(s.shape[0]), t]


def roc_auc(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """ROC AUC: the area under the ROC curve, the probability that a positive row scores
    above a negative one (ties count half), as scikit-learn ``roc_auc_score``.

    Formula: binary: ``AUC = sum_{i pos, j neg} w_i w_j ([s_i > s_j] + [s_i = s_j] / 2) /
    (W_pos W_neg)``, the trapezoidal area of scikit-learn's ``roc_curve``; several classes:
    the unweighted mean of each class's one-vs-rest AUC (``multi_class="ovr"``,
    ``average="macro"``). Per sample: the score ranked (of the positive class, or of the
    row's true class).

    Returns:
        (N,) PER-SAMPLE values: the scores ranked (a ranking has no per-sample value).

    Conventions:
        Binary: one score column (P(positive) or a decision function) with 0/1 labels, or two
        columns (the second is ranked). Only one class present gives NaN, as scikit-learn
        (which warns); with several classes, a class absent from y_true makes the macro mean
        NaN, as scikit-learn with ``labels=range(C)``. scikit-learn refuses several-class
        scores whose rows do not sum to 1; lossctl ranks any scores. Exact while every score
        fits the memory limit (about 40 bytes per value). Beyond it, a streaming approximation:
        each class's scores are binned into buckets of relative width 2**-12
        (:mod:`lossctl.losses.histogram`), a pair within one bucket counts half, and
        ``|AUC - AUC_exact| <= sum_b P_b N_b / (2 P N)`` (the mean over the classes), reported
        as ``auc_error_bound`` in the details with a warning.
    """
    check_convention(convention)
    return _ranked_score(y_true, y_pred, "roc_auc")


def average_precision(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Average precision: the precision at each threshold weighted by the recall it adds, as
    scikit-learn ``average_precision_score`` (the step-wise area under the precision-recall
    curve, no interpolation).

    Formula: over the distinct scores t in decreasing order, ``AP = sum_t (R_t - R_{t-1})
    P_t`` with ``P_t = TP_t / (TP_t + FP_t)``, ``R_t = TP_t / TP`` (weighted counts of the
    rows scoring t or more); several classes: the unweighted mean of the one-vs-rest APs.
    Per sample: the score ranked (of the positive class, or of the row's true class).

    Returns:
        (N,) PER-SAMPLE values: the scores ranked (a ranking has no per-sample value).

    Conventions:
        Binary as for roc_auc. No positive row gives 0 (scikit-learn sets the recall to 1 and
        warns). Several classes: scikit-learn binarises y_true by the classes present, so it
        needs every class in y_true; here the classes are the columns and a class absent from
        y_true counts 0, as scikit-learn on ``label_binarize(y_true, classes=range(C))``.
        Exact within the memory limit, as for roc_auc; beyond it the scores are binned as for
        roc_auc, a bucket is one threshold (as tied scores are), and the bound on the error
        (each positive's precision lies between the lowest and highest reached within its
        bucket) is ``ap_error_bound`` in the details.
    """
    check_convention(convention)
    return _ranked_score(y_true, y_pred, "average_precision")


def _grouped(s: np.ndarray, pos: np.ndarray, w: np.ndarray, descending: bool
             ) -> tuple[np.ndarray, np.ndarray]:
    """The weights of the positive and negative rows at each distinct score, in order."""
    order = np.argsort(s, kind="mergesort")
    if descending:
        order = order[::-1]
    ss = s[order]
    wp = np.where(pos[order], w[order], 0.0)
    wn = w[order] - wp
    starts = np.concatenate([[0], np.flatnonzero(ss[1:] != ss[:-1]) + 1])
    return np.add.reduceat(wp, starts), np.add.reduceat(wn, starts)


def binary_auc(s: np.ndarray, pos: np.ndarray, w: np.ndarray) -> float:
    """Weighted ROC AUC of one binary ranking (NaN without both classes)."""
    if not s.size or pos.all() or not pos.any():
        return math.nan
    return grouped_auc(*_grouped(s, pos, w, descending=False))


def grouped_auc(p: np.ndarray, n: np.ndarray) -> float:
    """ROC AUC from the weights of the positive and negative rows at each distinct score (or
    score bucket), in increasing order: a pair at one score counts half."""
    below = np.cumsum(n) - n
    den = p.sum() * n.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.sum(p * (below + n / 2)) / den)


def binary_ap(s: np.ndarray, pos: np.ndarray, w: np.ndarray) -> float:
    """Weighted average precision of one binary ranking (0 without positive rows)."""
    if not s.size:
        return math.nan
    return grouped_ap(*_grouped(s, pos, w, descending=True))


def grouped_ap(p: np.ndarray, n: np.ndarray) -> float:
    """Average precision from the weights of the positive and negative rows at each distinct
    score (or score bucket), in decreasing order: one threshold each."""
    tps, fps = np.cumsum(p), np.cumsum(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tps + fps != 0, tps / (tps + fps), 0.0)
        recall = np.ones_like(tps) if tps[-1] == 0 else tps / tps[-1]
    gained = np.diff(np.concatenate([[0.0], recall]))
    return max(0.0, float(np.sum(gained * precision)))


class _Ranked(Aggregate):
    """Every score, label and weight held in row order (:class:`HeldScores`) while they fit
    the memory limit: the value is exact, computed once at the end (merging appends, so any
    split gives the same bits). Once they would not fit, the rows held are binned, once, into
    a :class:`~lossctl.losses.histogram.ScoreHistogram` and every later row is binned: the
    value is approximate, within the bound :meth:`details` reports, and the same bits for any
    split (the histogram's sums are exact). Which of the two a run takes depends only on the
    number of scores, never on how they were split."""

    NAME = "roc_auc"
    #: the per-class column of :meth:`details`, and the name of the error bound
    KEY = "auc"
    BOUND = "auc_error_bound"

    def __init__(self, options: dict, limit: int) -> None:
        super().__init__(options, limit)
        self.binary: bool | None = None
        self._held = HeldScores(self.NAME, limit)
        self._hist: ScoreHistogram | None = None
        self._cache: list[float] | None = None
        self._bounds: list[float] = []

    def add(self, target, pred, values, weights) -> None:
        t, s, binary = ranking_inputs(target, pred, self.NAME)
        w = self._weights(s, weights)
        self.binary, self.width = binary, s.shape[1]
        self._cache = None
        if self._hist is None and self._held.fits(s.size + 2 * s.shape[0]):
            self._held.add(np.column_stack([s, t.astype(np.float64), w]))
        else:
            self._binned().add(s, t, w, binary)

    def _binned(self) -> ScoreHistogram:
        """The histogram, made (once) from the rows held so far, which are released."""
        if self._hist is None:
            self._hist = ScoreHistogram(self.NAME, self.limit, self.width)
            self._bin_held(self._held)
            self._held = HeldScores(self.NAME, self.limit)
        return self._hist

    def _bin_held(self, held: HeldScores) -> None:
        if held.count:
            a, c = held.array(self.width + 2), self.width
            self._hist.add(a[:, :c], a[:, c], a[:, c + 1], self.binary)

    def merge(self, other: Aggregate) -> None:
        if not self._take_counts(other):
            return
        self._w.merge(other._w)
        self._cache = None
        if self._hist is None and other._hist is None and self._held.fits(other._held.count):
            self._held.merge(other._held)
            return
        mine = self._binned()
        if other._hist is not None:
            mine.merge(other._hist)
        self._bin_held(other._held)

    @staticmethod
    def _score(s: np.ndarray, pos: np.ndarray, w: np.ndarray) -> float:
        raise NotImplementedError

    @staticmethod
    def _buckets(p: np.ndarray, n: np.ndarray) -> float:
        """The value from the weights per bucket, in increasing score order."""
        raise NotImplementedError

    @staticmethod
    def _bound(p: np.ndarray, n: np.ndarray) -> float:
        raise NotImplementedError

    def per_class(self) -> list[float]:
        """The binary value, or each class's one-vs-rest value."""
        if self._cache is not None:
            return self._cache
        if self._hist is not None:
            groups = [self._hist.grouped(k) for k in range(self.width)]
            self._cache = [self._buckets(p, n) for p, n in groups]
            self._bounds = [self._bound(p, n) for p, n in groups]
            return self._cache
        a = self._held.array(self.width + 2)
        s, t, w = a[:, :self.width], a[:, self.width], a[:, self.width + 1]
        if self.binary:
            self._cache = [self._score(s[:, 0], t == 1, w)]
        else:
            self._cache = [self._score(s[:, k], t == k, w) for k in range(self.width)]
        return self._cache

    def bound(self) -> float | None:
        """The most the approximate value can differ from the exact one (the mean of the
        classes' bounds), NaN when undefined, None when the value is exact."""
        if self._hist is None:
            return None
        self.per_class()
        return float(np.mean(self._bounds))

    def value(self) -> float:
        if not self.rows:
            return math.nan
        value = float(np.mean(self.per_class()))
        if self._hist is not None:
            self._warn()
        return value

    def _warn(self) -> None:
        from lossctl.errors import opt, warn

        bound = self.bound()
        within = ("within an undefined bound (a class lacks positive or negative rows)"
                  if math.isnan(bound) else f"within {bound:.3g} of the exact value")
        warn(f"{self.NAME} is approximate, {within}: the scores of its {self.rows} rows are "
             f"more than the memory limit holds ({self.limit / 2**20:.0f} MB for data), so they "
             f"were binned into {self._hist.occupied()} score buckets of relative width "
             f"2**-{MANTISSA} (scores within a bucket count as tied); raise "
             f"{opt('memory_limit')} for the exact value")

    def details(self) -> dict | None:
        if not self.rows:
            return None
        out: dict = {}
        if self._hist is not None:
            bound = self.bound()
            out = {"approximate": True, "buckets": self._hist.occupied(),
                   self.BOUND: None if math.isnan(bound) else bound}
        if self.binary:
            return out or None
        rows = []
        for k, v in enumerate(self.per_class()):
            row = {"class": k, self.KEY: None if math.isnan(v) else v}
            if self._hist is not None:
                b = self._bounds[k]
                row["error_bound"] = None if math.isnan(b) else b
            rows.append(row)
        return {"average": "macro", **out, "per_class": rows}


def _bucket_ap(p: np.ndarray, n: np.ndarray) -> float:
    return grouped_ap(p[::-1], n[::-1])


class RocAuc(_Ranked):
    """scikit-learn ``roc_auc_score`` (binary, or ``multi_class="ovr"`` macro)."""

    NAME = "roc_auc"
    _score = staticmethod(binary_auc)
    _buckets = staticmethod(grouped_auc)
    _bound = staticmethod(auc_bound)


class AveragePrecision(_Ranked):
    """scikit-learn ``average_precision_score`` (binary, or macro one-vs-rest)."""

    NAME = "average_precision"
    KEY = "average_precision"
    BOUND = "ap_error_bound"
    _score = staticmethod(binary_ap)
    _buckets = staticmethod(_bucket_ap)
    _bound = staticmethod(ap_bound)
