"""Classification metrics beside the losses, as scikit-learn computes them: accuracy, top-k
accuracy, balanced accuracy, macro and micro F1, the confusion matrix, ROC AUC and average
precision (the calibration metrics are in :mod:`lossctl.losses.calibration`, the rankings in
:mod:`lossctl.losses.curves`).

Each metric is registered like a loss: a pure per-sample function (what ``reduction="none"``
shows: 1 for a correct row, 0 for a wrong one; the ranked score for ROC AUC and average
precision) and, where the value is not a weighted mean of those, an
:class:`~lossctl.losses.reduction.Aggregate` the engine feeds every block of validated rows.

Counting metrics keep a table of (true class, predicted class) pairs: integer counts and, per
pair, the exact sum of the sample weights (:class:`GroupSums`, in the integer units of
:mod:`lossctl.losses.exact`). The value depends only on those integers, so it is the same bits
for any split of the rows into blocks, threads or processes; an aggregate fed the later rows
merges by adding (:meth:`Pairs.merge`). The ranking metrics, which need every score at once,
are in :mod:`lossctl.losses.curves`.

Classes. With one prediction column per class (probabilities, scores or logits) the predicted
class is the argmax (the first of equal maxima) and the classes are the columns, which is
scikit-learn's ``labels=range(C)``; y_true is class indices (one column) or one-hot rows. With
one prediction column, whole numbers are predicted labels and the classes are the labels seen
in y_true and y_pred (scikit-learn's default); other values are P(positive) in [0, 1] with 0/1
labels, thresholded at 0.5: ``p > 0.5`` is class 1 (Keras's ``binary_accuracy``,
torchmetrics, scikit-learn's top-k).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from lossctl.errors import DataError, opt
from lossctl.losses._numerics import check_convention
from lossctl.losses.exact import _BIAS, _BINS, _PIECE, _SPLIT, _UNIT, _units
from lossctl.losses.reduction import Aggregate, ExactSum

__all__ = [
    "BalancedAccuracy", "ConfusionMatrix", "GroupSums",
    "MacroF1", "MicroF1", "TopK", "accuracy",
    "balanced_accuracy", "class_pairs", "confusion_matrix", "f1_macro", "f1_micro",
    "top_k_accuracy", "true_classes",
]

#: How a block's predictions name classes: one column per class (argmax), predicted labels in
#: one column, or P(positive) in one column thresholded at 0.5.
COLUMNS, LABELS, THRESHOLD = "columns", "labels", "threshold"


# --- exact sums by group ---------------------------------------------------------------------


def group_units(values: np.ndarray, groups: np.ndarray, ngroups: int) -> list[int]:
    """The exact sums of finite float64 ``values`` per group (``groups``: 0..ngroups-1), as
    integers in the units of :mod:`lossctl.losses.exact` (2**-1128). Few groups use its dense
    bins; many use one bin per (group, exponent) that occurs, so memory stays O(len(values))."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    groups = np.asarray(groups, dtype=np.int64).reshape(-1)
    if ngroups * _BINS <= 1 << 21:
        return _units(values, groups, ngroups)
    totals = [0] * ngroups
    for i in range(0, values.size, _PIECE):
        m, e = np.frexp(values[i:i + _PIECE])
        hi = m + _SPLIT
        hi -= _SPLIT
        m -= hi  # the low half
        key = groups[i:i + _PIECE] * _BINS + (e.astype(np.int64) + _BIAS)
        uniq, inv = np.unique(key, return_inverse=True)
        hs = np.bincount(inv, weights=hi, minlength=uniq.size) * 2.0**26
        ls = np.bincount(inv, weights=m, minlength=uniq.size) * 2.0**53
        for k, h, lo in zip(uniq.tolist(), hs.tolist(), ls.tolist()):
            if h or lo:
                g, b = divmod(k, _BINS)
                totals[g] += ((int(h) << 27) + int(lo)) << b
    return totals


class GroupSums:
    """Exact sums of float64 values by a hashable key (a class pair, a bin): a dict of integers
    in the units of :mod:`lossctl.losses.exact`, picklable and merged by adding."""

    def __init__(self) -> None:
        self.units: dict = {}

    def add(self, keys: list, inverse: np.ndarray, values: np.ndarray) -> None:
        """Add ``values[i]`` to the sum of ``keys[inverse[i]]`` (values finite)."""
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        if not np.isfinite(v).all():
            raise DataError("a sum of weighted values is not finite",
                            hint=f"check {opt('sample_weight')}: weights must be finite")
        for key, u in zip(keys, group_units(v, inverse, len(keys))):
            if u:
                self.units[key] = self.units.get(key, 0) + u

    def add_units(self, key, units: int) -> None:
        if units:
            self.units[key] = self.units.get(key, 0) + units

    def merge(self, other: GroupSums) -> None:
        for key, u in other.units.items():
            self.add_units(key, u)

    def get(self, key) -> int:
        return self.units.get(key, 0)


def ratio(num: int | Fraction, den: int | Fraction) -> float:
    """``num / den`` exactly rounded, NaN for 0 / 0 (sums in exact units)."""
    if not den:
        return math.nan
    return float(Fraction(num) / Fraction(den))


# --- classes of a block ----------------------------------------------------------------------


def _shown(v) -> str:
    from lossctl.validation import shown

    return shown(v)


def whole_labels(a, name: str, what: str = "label") -> np.ndarray:
    """Class labels as int64; a value that is not a whole number is an error."""
    a = np.asarray(a)
    if a.dtype.kind in "iub":
        return a.astype(np.int64)
    a = a.astype(np.float64)
    bad = (a != np.round(a)) | (np.abs(a) > 2**53)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{name}: {what} {_shown(a[i])} (row {i + 1} of this block) is not a "
                        "class label", hint="class labels are whole numbers")
    return a.astype(np.int64)


def binary_labels(t: np.ndarray, name: str) -> None:
    """0/1 labels, the only ones one column of P(positive) takes."""
    bad = (t != 0) & (t != 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{name}: label {_shown(t[i])} (row {i + 1} of this block) is not 0 or 1",
                        hint="one column of P(positive) takes 0/1 labels; for several classes "
                        "give one prediction column per class")


def true_classes(y_true, c: int, name: str) -> np.ndarray:
    """The true class of each row: class indices as they are, one-hot rows by their 1."""
    yt = np.asarray(y_true)
    if yt.ndim == 1:
        return yt.astype(np.int64)
    if yt.shape[1] == 1:
        return whole_labels(yt[:, 0], name)
    y = yt.astype(np.float64)
    ok = ((y == 0) | (y == 1)).all(axis=1) & (y.sum(axis=1) == 1)
    if not ok.all():
        i = int(np.argmin(ok))
        raise DataError(f"{name}: row {i + 1} of this block of {opt('y_true')} is not one-hot",
                        hint="give class indices (one column) or one-hot rows (a single 1 per "
                        "row): probability targets have no single true class")
    return np.argmax(y, axis=1).astype(np.int64)


def class_pairs(y_true, y_pred, name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(true classes, predicted classes, how y_pred names them: :data:`COLUMNS`,
    :data:`LABELS` or :data:`THRESHOLD`) of one block; see the module docstring."""
    pred = np.asarray(y_pred)
    c = pred.shape[1]
    if c > 1:
        return true_classes(y_true, c, name), np.argmax(pred, axis=1).astype(np.int64), COLUMNS
    t = whole_labels(np.asarray(y_true).reshape(-1), name)
    x = pred[:, 0].astype(np.float64)
    if np.all(x == np.round(x)) and np.all(np.abs(x) <= 2**53):
        return t, x.astype(np.int64), LABELS
    out = (x < 0) | (x > 1)
    if out.any():
        i = int(np.argmax(out))
        raise DataError(f"{name}: prediction {_shown(x[i])} (row {i + 1} of this block) is "
                        "neither a predicted label (a whole number) nor a probability in [0, 1]",
                        hint="one column of y_pred holds predicted labels or P(positive); give "
                        "scores as one column per class, or threshold them first")
    binary_labels(t, name)
    return t, (x > 0.5).astype(np.int64), THRESHOLD


# --- per-sample functions ----------------------------------------------------------------------


def accuracy(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Accuracy: the (weighted) fraction of rows whose predicted class is the true class, as
    scikit-learn ``accuracy_score`` computes it on the predicted labels.

    Formula: ``l = [argmax_k p_k == y]`` (one column of predicted labels: ``[p == y]``; one
    column of P(positive): ``[(p > 0.5) == y]``); value ``sum(w l) / sum(w)``.

    Returns:
        (N,) PER-SAMPLE values: 1 for a correct row, 0 for a wrong one (float64).

    Conventions:
        scikit-learn takes predicted labels; lossctl takes the scores or probabilities a model
        gives and predicts the argmax (the first of equal maxima, as ``np.argmax``, Keras and
        PyTorch), or thresholds one probability column at 0.5 (``p > 0.5``: a probability of
        exactly 0.5 is class 0, as Keras's ``binary_accuracy``). Sample weights as
        ``np.average``; no rows give NaN.
    """
    check_convention(convention)
    t, p, _ = class_pairs(y_true, y_pred, "accuracy")
    return (t == p).astype(np.float64)


def _correct(name: str):
    def per_sample(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
        check_convention(convention)
        t, p, _ = class_pairs(y_true, y_pred, name)
        return (t == p).astype(np.float64)

    return per_sample


def balanced_accuracy(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Balanced accuracy: the mean over classes of each class's recall (the fraction of its
    rows predicted as it), as scikit-learn ``balanced_accuracy_score``.

    Formula: ``value = mean_{k: n_k > 0} C_kk / sum_j C_kj`` of the (weighted) confusion
    matrix ``C`` (rows: true class); per sample: ``[predicted == y]``.

    Returns:
        (N,) PER-SAMPLE values: 1 for a correct row, 0 for a wrong one (float64).

    Conventions:
        Classes absent from y_true have no recall and are left out of the mean, as
        scikit-learn does (it warns); ``adjusted=True`` is not offered. The value comes from
        running pair counts (any number of rows, no values held).
    """
    return _correct("balanced_accuracy")(y_true, y_pred, convention=convention)


def f1_macro(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Macro F1: the unweighted mean over classes of each class's F1 score, as scikit-learn
    ``f1_score(average="macro")``.

    Formula: per class ``F1_k = 2 TP_k / (2 TP_k + FP_k + FN_k)`` (0 when the denominator is
    0, scikit-learn's ``zero_division``); ``value = mean_k F1_k``; per sample:
    ``[predicted == y]``.

    Returns:
        (N,) PER-SAMPLE values: 1 for a correct row, 0 for a wrong one (float64).

    Conventions:
        The classes are the prediction columns (scikit-learn's ``labels=range(C)``): a class
        that is neither true nor predicted anywhere counts with F1 0, as scikit-learn with
        those labels. One column of predicted labels: the labels that occur. Sample weights
        weight the counts TP, FP and FN.
    """
    return _correct("f1_macro")(y_true, y_pred, convention=convention)


def f1_micro(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Micro F1: F1 of the counts pooled over classes, as scikit-learn
    ``f1_score(average="micro")``.

    Formula: ``value = 2 sum_k TP_k / (2 sum_k TP_k + sum_k FP_k + sum_k FN_k)``, which for one
    label per row is the accuracy; per sample: ``[predicted == y]``.

    Returns:
        (N,) PER-SAMPLE values: 1 for a correct row, 0 for a wrong one (float64).

    Conventions:
        As scikit-learn with every class in ``labels``: equal to ``accuracy_score``. The
        per-class precision, recall and F1 come with the result (``details``).
    """
    return _correct("f1_micro")(y_true, y_pred, convention=convention)


def confusion_matrix(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """The confusion matrix: how many rows (or how much sample weight) of each true class were
    predicted as each class, as scikit-learn ``confusion_matrix``; its value is the accuracy.

    Formula: ``C_ij = sum_n w_n [y_n = i] [predicted_n = j]`` (rows: true class, columns:
    predicted class); ``value = trace(C) / sum(C)``; per sample: ``[predicted == y]``.

    Returns:
        (N,) PER-SAMPLE values: 1 for a correct row, 0 for a wrong one (float64).

    Conventions:
        The matrix is part of the result (``details``: its labels and rows), in JSON output
        and as a table on a terminal. The classes are the prediction columns
        (``labels=range(C)``), or the labels that occur for one column of predicted labels.
    """
    return _correct("confusion_matrix")(y_true, y_pred, convention=convention)


def _top_k_hits(y_true, y_pred, k: int, name: str) -> np.ndarray:
    """1 where the true class is among the ``k`` highest scores, ties ranked as scikit-learn's
    stable sort does (of equal scores, the higher column index ranks first)."""
    s = np.asarray(y_pred, dtype=np.float64)
    n, c = s.shape
    if c == 1:
        t = whole_labels(np.asarray(y_true).reshape(-1), name)
        binary_labels(t, name)
        x = s[:, 0]
        if k >= 2:
            return np.ones(n)
        threshold = 0.5 if (n == 0 or (x.min() >= 0 and x.max() <= 1)) else 0.0
        return ((x > threshold) == (t == 1)).astype(np.float64)
    t = true_classes(y_true, c, name)
    rows = np.arange(n)
    own = s[rows, t][:, None]
    above = (s > own) | ((s == own) & (np.arange(c)[None, :] > t[:, None]))
    return (above.sum(axis=1) < k).astype(np.float64)


def top_k_accuracy(y_true, y_pred, *, convention: str = "sklearn", k: int = 2) -> np.ndarray:
    """Top-k accuracy: the (weighted) fraction of rows whose true class is among the k highest
    scores, as scikit-learn ``top_k_accuracy_score``.

    Formula: ``l = [#{j : s_j > s_y, or s_j = s_y and j > y} < k]``; value
    ``sum(w l) / sum(w)``.

    Args:
        k: how many of the highest scores count (default 2, as scikit-learn).

    Returns:
        (N,) PER-SAMPLE values: 1 for a hit, 0 otherwise (float64).

    Conventions:
        Ties rank as scikit-learn's stable sort: of equal scores the higher class index comes
        first. One score column (binary): with k = 1 a hit is ``(s > 0.5) == y`` when every
        score is in [0, 1], else ``(s > 0) == y``, decided over all rows as scikit-learn does
        (the per-sample values decide per block); k >= 2 is always a hit. Two score columns are
        ranked as two classes (scikit-learn refuses them for binary labels).
    """
    check_convention(convention)
    return _top_k_hits(y_true, y_pred, int(k), "top_k_accuracy")


# --- counting aggregates -------------------------------------------------------------------------


class Pairs(Aggregate):
    """Running (true class, predicted class) counts: per pair an integer count and the exact
    sum of its sample weights (units of 2**-1128; an unweighted row adds exactly 1). A subclass
    gives the value (:meth:`value`) and the tables (:meth:`details`) from :meth:`matrix`."""

    NAME = "confusion_matrix"

    def __init__(self, options: dict, limit: int) -> None:
        super().__init__(options, limit)
        self.mode: str | None = None
        self.threshold = False  # a block of P(positive) was thresholded: the classes are 0, 1
        self.counts: dict[tuple[int, int], int] = {}
        self.mass = GroupSums()

    def add(self, target, pred, values, weights) -> None:
        t, p, mode = class_pairs(target, pred, self.NAME)
        w = self._weights(np.asarray(t, dtype=np.float64), weights)
        self.width = int(np.asarray(pred).shape[1])
        self.mode = COLUMNS if mode == COLUMNS else (self.mode or mode)
        self.threshold = self.threshold or mode == THRESHOLD
        if not t.size:
            return
        if mode == COLUMNS:
            c = self.width
            uniq, inv, cnt = np.unique(t * c + p, return_inverse=True, return_counts=True)
            keys = [divmod(k, c) for k in uniq.tolist()]
        else:
            uniq, inv, cnt = np.unique(np.stack([t, p], axis=1), axis=0, return_inverse=True,
                                       return_counts=True)
            keys = [(a, b) for a, b in uniq.tolist()]
        for key, n in zip(keys, cnt.tolist()):
            self.counts[key] = self.counts.get(key, 0) + n
            if weights is None:
                self.mass.add_units(key, n << _UNIT)
        if weights is not None:
            self.mass.add(keys, inv.reshape(-1), w)
        self._check_modes()

    def _check_modes(self) -> None:
        if not self.threshold:
            return
        odd = sorted({v for key in self.counts for v in key} - {0, 1})
        if odd:
            raise DataError(f"{self.NAME}: one column of {opt('y_pred')} holds probabilities "
                            f"(thresholded at 0.5) in some rows but the label {odd[0]} in others",
                            hint="give predicted labels throughout, or P(positive) with 0/1 labels")

    def merge(self, other: Aggregate) -> None:
        if not self._take_counts(other):
            return
        self._w.merge(other._w)
        for key, n in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + n
        self.mass.merge(other.mass)
        self.mode = COLUMNS if COLUMNS in (self.mode, other.mode) else (self.mode or other.mode)
        self.threshold = self.threshold or other.threshold
        self.width = self.width or other.width
        self._check_modes()

    def labels(self) -> list[int]:
        """The classes: the prediction columns, or the labels that occur (0 and 1 too once a
        probability column was thresholded)."""
        if self.mode == COLUMNS:
            return list(range(self.width or 0))
        seen = {v for key in self.counts for v in key}
        return sorted(seen | ({0, 1} if self.threshold else set()))

    def matrix(self, weighted: bool = True) -> tuple[list[int], list[list[int]]]:
        """(labels, matrix): rows are true classes, columns predicted ones; entries are exact
        weight sums in units (``weighted``) or counts."""
        labels = self.labels()
        index = {v: i for i, v in enumerate(labels)}
        m = [[0] * len(labels) for _ in labels]
        source = self.mass.units if weighted else self.counts
        for (a, b), v in source.items():
            m[index[a]][index[b]] += v
        return labels, m

    def names(self, labels: list[int]) -> list[str]:
        """The classes of :meth:`labels` as the per-sample rows show them: prediction columns
        by their class names (or index plus offset), labels read from y_pred as they are."""
        if self.mode != COLUMNS:
            return [str(v) for v in labels]
        names = self.class_names or []
        return [names[v] if v < len(names) else str(v + self.offset) for v in labels]

    def _classes(self) -> list[tuple[int, int, int, int]]:
        """Per class (in :meth:`labels` order): TP, true total (support), predicted total and
        the support's count of rows, in exact units."""
        labels, m = self.matrix()
        _, counts = self.matrix(weighted=False)
        k = len(labels)
        col = [sum(m[i][j] for i in range(k)) for j in range(k)]
        return [(m[i][i], sum(m[i]), col[i], sum(counts[i])) for i in range(k)]

    def _support(self, units: int, count: int) -> float | int:
        return ratio(units, 1 << _UNIT) if self.weighted else count

    def accuracy(self) -> float:
        labels, m = self.matrix()
        total = sum(map(sum, m))
        return ratio(sum(m[i][i] for i in range(len(labels))), total)

    def value(self) -> float:
        return self.accuracy() if self.rows else math.nan

    def details(self) -> dict | None:
        return None


class ConfusionMatrix(Pairs):
    """scikit-learn ``confusion_matrix``: the value is the accuracy, the matrix the details."""

    NAME = "confusion_matrix"

    def details(self) -> dict | None:
        if not self.rows:
            return None
        labels, m = self.matrix(weighted=self.weighted)
        if self.weighted:
            m = [[ratio(v, 1 << _UNIT) for v in row] for row in m]
        return {"confusion_matrix": {"labels": labels, "names": self.names(labels), "matrix": m,
                                     "rows": "true class",
                                     "columns": "predicted class", "weighted": self.weighted}}


class BalancedAccuracy(Pairs):
    """scikit-learn ``balanced_accuracy_score``: the mean recall of the classes present in
    y_true (a class of zero weight has no recall: left out, as scikit-learn's NaN)."""

    NAME = "balanced_accuracy"

    def _recalls(self) -> list[float]:
        return [ratio(tp, true) for tp, true, _, _ in self._classes()]

    def value(self) -> float:
        recalls = [r for r in self._recalls() if not math.isnan(r)]
        return float(np.mean(recalls)) if recalls else math.nan

    def details(self) -> dict | None:
        if not self.rows:
            return None
        rows = [{"class": label, "recall": None if math.isnan(r) else r,
                 "support": self._support(true, n)}
                for label, r, (_, true, _, n) in zip(self.labels(), self._recalls(),
                                                     self._classes())]
        return {"per_class": rows}


class MacroF1(Pairs):
    """scikit-learn ``f1_score(average="macro")`` over :meth:`Pairs.labels` (0 for a class
    whose F1 is 0 / 0, scikit-learn's ``zero_division``)."""

    NAME = "f1_macro"
    AVERAGE = "macro"

    def _scores(self) -> list[dict]:
        out = []
        for label, (tp, true, predicted, n) in zip(self.labels(), self._classes()):
            out.append({"class": label,
                        "precision": ratio(tp, predicted) if predicted else 0.0,
                        "recall": ratio(tp, true) if true else 0.0,
                        "f1": ratio(2 * tp, true + predicted) if true + predicted else 0.0,
                        "support": self._support(true, n)})
        return out

    def value(self) -> float:
        if not self.rows:
            return math.nan
        scores = self._scores()
        return float(np.mean([s["f1"] for s in scores])) if scores else math.nan

    def details(self) -> dict | None:
        return {"average": self.AVERAGE, "per_class": self._scores()} if self.rows else None


class MicroF1(MacroF1):
    """scikit-learn ``f1_score(average="micro")``: F1 of the pooled counts."""

    NAME = "f1_micro"
    AVERAGE = "micro"

    def value(self) -> float:
        if not self.rows:
            return math.nan
        classes = self._classes()
        tp = sum(c[0] for c in classes)
        return ratio(2 * tp, sum(c[1] + c[2] for c in classes))  # 0 / 0 (no weight): NaN


class TopK(Aggregate):
    """scikit-learn ``top_k_accuracy_score``: exact running sums of the weighted hits. One
    score column keeps the hits at both of scikit-learn's thresholds (0.5 and 0) and the range
    of the scores, and picks the threshold from all rows at the end, as scikit-learn does."""

    def __init__(self, options: dict, limit: int) -> None:
        super().__init__(options, limit)
        self.k = int(options.get("k", 2))
        self.lo, self.hi = math.inf, -math.inf
        self._hits = ExactSum()  # one column: the hits at 0.5
        self._hits0 = ExactSum()  # one column: the hits at 0

    def add(self, target, pred, values, weights) -> None:
        s = np.asarray(pred, dtype=np.float64)
        w = self._weights(s, weights)
        self.width = s.shape[1]
        if s.shape[1] > 1 or not s.size:
            self._hits.add(w * _top_k_hits(target, s, self.k, "top_k_accuracy"))
            return
        t = whole_labels(np.asarray(target).reshape(-1), "top_k_accuracy")
        binary_labels(t, "top_k_accuracy")
        x = s[:, 0]
        self.lo, self.hi = min(self.lo, float(x.min())), max(self.hi, float(x.max()))
        self._hits.add(w * ((x > 0.5) == (t == 1)))
        self._hits0.add(w * ((x > 0) == (t == 1)))

    def merge(self, other: Aggregate) -> None:
        if not other.rows:
            return
        self.rows += other.rows
        self.weighted = self.weighted or other.weighted
        self.width = self.width or other.width
        self._w.merge(other._w)
        self._hits.merge(other._hits)
        self._hits0.merge(other._hits0)
        self.lo, self.hi = min(self.lo, other.lo), max(self.hi, other.hi)

    def value(self) -> float:
        if not self.rows:
            return math.nan
        if self.width == 1:
            if self.k >= 2:
                return 1.0 if self._w.total() > 0 else math.nan
            hits = self._hits if (self.lo >= 0 and self.hi <= 1) else self._hits0
            return hits.over(self._w)
        return self._hits.over(self._w)
