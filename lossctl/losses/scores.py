"""scikit-learn's classification and ranking metrics: log loss with scikit-learn's clipping,
the hinge loss of decision functions (Crammer-Singer for several classes), the 0-1 and Hamming
losses of predicted labels, coverage error and label ranking loss of multi-label scores, and the
D² log-loss and Brier scores.

Each function takes the validated targets (an ``(N,)`` int64 column of class indices, or ``(N,
C)`` float rows) and predictions ``(N, C)`` and returns one value per sample ``(N,)`` in
y_pred's dtype; scikit-learn's value is the weighted mean ``sum(w l) / sum(w)`` of them
(``np.average``), which the engine computes under the sklearn convention. The D² scores divide
by the loss of a null model that predicts the (weighted) class frequencies of y_true: running
class sums give it exactly, in one pass (:class:`D2LogLoss`, :class:`D2Brier`).

Classes absent from y_true: scikit-learn needs ``labels=`` for them; lossctl's classes are the
prediction columns (``classes`` names them), which is ``labels=range(C)`` (or the sorted
``classes``: scikit-learn's columns follow the sorted labels).
"""
from __future__ import annotations

import math

import numpy as np

from lossctl.errors import DataError, opt
from lossctl.losses._numerics import check_convention, sklearn_clip, xlogy
from lossctl.losses.reduction import Aggregate, ColumnSums, ExactSum

__all__ = [
    "D2Brier",
    "D2LogLoss",
    "coverage_error",
    "hamming_loss",
    "hinge_loss",
    "label_ranking_loss",
    "log_loss",
    "zero_one_loss",
]


def _expand(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Targets and predictions as ``(N, K)`` class rows, as scikit-learn encodes them: class
    indices one-hot, one column of P(positive) as ``[1 - p, p]`` with 0/1 labels."""
    y_pred = np.asarray(y_pred)
    if not np.issubdtype(y_pred.dtype, np.floating):
        y_pred = y_pred.astype(np.float64)
    yt = np.asarray(y_true)
    if yt.ndim == 1:  # class indices
        out = np.zeros(y_pred.shape, dtype=y_pred.dtype)
        out[np.arange(yt.shape[0]), yt] = 1
        return out, y_pred
    y = yt.astype(y_pred.dtype, copy=False)
    if y_pred.shape[1] == 1:
        bad = (y != 0) & (y != 1)
        if bad.any():
            i = int(np.argmax(bad[:, 0]))
            raise DataError(f"label {float(y[i, 0])!r} (row {i + 1} of this block) is not 0 or 1",
                            hint="one column of P(positive) takes 0/1 labels; for several "
                            "classes give one probability column per class")
        one = y_pred.dtype.type(1)
        return np.concatenate([one - y, y], axis=1), np.concatenate([one - y_pred, y_pred], axis=1)
    return y, y_pred


def log_loss(y_true, y_pred, *, convention: str = "sklearn", normalize: bool = True) -> np.ndarray:
    """Log loss (cross-entropy) of probabilities, as scikit-learn ``log_loss`` computes it.

    Formula: ``l = -sum_k y_k log(clip(p_k, eps, 1 - eps))`` with ``eps = finfo(dtype).eps``
    (2.22e-16 in float64, 1.19e-7 in float32); class indices are one-hot encoded; one column of
    P(positive) becomes ``[1 - p, p]``.

    Args:
        normalize: scikit-learn's ``normalize`` (the engine sums when it is False).

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype.

    Conventions:
        scikit-learn clips at the dtype's machine epsilon and does NOT renormalise rows (1.9
        only warns when they do not sum to 1): a probability of 0 for the true class costs
        ``-log(2.22e-16) = 36.043653``. Keras clips at ``epsilon()`` = 1e-7 (16.118096) and
        renormalises categorical rows; PyTorch's ``binary_cross_entropy`` clamps each log at
        -100. Sample weights: ``np.average``, ``sum(w l) / sum(w)``; ``normalize=False`` gives
        ``sum(w l)``.
    """
    check_convention(convention)
    y, p = _expand(y_true, y_pred)
    return -np.sum(xlogy(y, sklearn_clip(p)), axis=1)


def hinge_loss(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Hinge loss of a decision function, as scikit-learn ``hinge_loss`` computes it.

    Formula: one score column (binary), labels -1/+1 or 0/1 (0 becomes -1):
    ``l = max(0, 1 - y s)``; one column per class (Crammer-Singer), class indices y:
    ``l = max(0, 1 - (s_y - max_{k != y} s_k))``.

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype.

    Conventions:
        scikit-learn encodes binary labels with ``LabelBinarizer(neg_label=-1)``: the larger of
        the two labels is +1, as here; a y_true holding ONE class only is all -1 there (lossctl
        reads a 1 as +1 wherever it appears). Several classes need ``labels=`` in scikit-learn
        when some are absent from y_true; here they are the score columns. Keras's ``hinge`` is
        the elementwise ``max(0, 1 - y s)`` averaged over columns and its
        ``categorical_hinge`` uses one-hot targets with ``max(0, 1 + max_{k != y} s_k - s_y)``,
        the same number as the multi-class form here.
    """
    check_convention(convention)
    s = np.asarray(y_pred)
    if not np.issubdtype(s.dtype, np.floating):
        s = s.astype(np.float64)
    yt = np.asarray(y_true)
    one = s.dtype.type(1)
    if yt.ndim == 2 and s.shape[1] == 1:
        y = yt.astype(s.dtype, copy=False)[:, 0]
        bad = ~np.isin(y, (-1, 0, 1))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"label {float(y[i])!r} (row {i + 1} of this block) is not -1/+1 "
                            "or 0/1", hint="one score column is a binary problem; for several "
                            "classes give one score column per class and class indices")
        sign = np.where(y > 0, one, -one)
        return np.maximum(one - sign * s[:, 0], s.dtype.type(0))
    labels = yt if yt.ndim == 1 else np.argmax(yt, axis=1)
    rows = np.arange(s.shape[0])
    true_score = s[rows, labels]
    others = s.copy()
    others[rows, labels] = -np.inf
    margin = true_score - np.max(others, axis=1)
    return np.maximum(one - margin, s.dtype.type(0))


def _labels(y_true, y_pred, name: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    for a, what in ((y, "label"), (p, "predicted label")):
        if a.shape[1] > 1:
            bad = (a != 0) & (a != 1)
            hint = "several columns are a multi-label indicator matrix: 0/1 in every cell"
        else:
            bad = a != np.round(a)
            hint = "class labels are whole numbers (scikit-learn: 'continuous is not supported')"
        if bad.any():
            i = int(np.argmax(bad.any(axis=1)))
            raise DataError(f"{name}: {what} {float(a[i][bad[i]][0])!r} (row {i + 1} of this "
                            "block) is not a class label", hint=hint)
    return y, p


def zero_one_loss(y_true, y_pred, *, convention: str = "sklearn",
                  normalize: bool = True) -> np.ndarray:
    """0-1 loss of predicted labels: 1 where the prediction is wrong (1 - accuracy).

    Formula: one column: ``l = [y != p]``; a multi-label indicator matrix: ``l = [any_c y_c !=
    p_c]`` (subset accuracy).

    Returns:
        (N,) PER-SAMPLE values (0 or 1), in float64.

    Conventions:
        scikit-learn ``zero_one_loss``: ``1 - accuracy_score``, weighted ``sum(w l) / sum(w)``;
        ``normalize=False`` gives the (weighted) number of misclassified samples. Labels are
        compared as they are (class labels, not probabilities: threshold or argmax first).
    """
    check_convention(convention)
    y, p = _labels(y_true, y_pred, "zero_one_loss")
    return (y != p).any(axis=1).astype(np.float64)


def hamming_loss(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Hamming loss of predicted labels: the fraction of labels that are wrong.

    Formula: ``l = mean_c [y_c != p_c]`` (one column: ``[y != p]``, the 0-1 loss).

    Returns:
        (N,) PER-SAMPLE values in [0, 1], in float64.

    Conventions:
        scikit-learn ``hamming_loss``: on an indicator matrix ``sum_n w_n d_n / (N L mean(w))``
        (d_n: wrong labels of row n), which is the weighted mean of these per-sample fractions.
    """
    check_convention(convention)
    y, p = _labels(y_true, y_pred, "hamming_loss")
    return (y != p).mean(axis=1)


def _multilabel(y_true, name: str) -> np.ndarray:
    y = np.asarray(y_true, dtype=np.float64)
    if y.shape[1] < 2:
        raise DataError(f"{name} ranks the labels of a multi-label indicator matrix, but "
                        f"{opt('y_true')} has {y.shape[1]} column",
                        hint="give one 0/1 column per label (scikit-learn: 'binary format is "
                        "not supported')")
    return y != 0


def coverage_error(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Coverage error: how far down the ranking of the scores one must go to cover every true
    label.

    Formula: ``l = #{k : s_k >= min_{j true} s_j}`` (ties count), 0 for a row with no true
    label.

    Returns:
        (N,) PER-SAMPLE values (label counts), in float64.

    Conventions:
        scikit-learn ``coverage_error`` (multi-label indicator y_true, real scores), weighted
        ``np.average``. Best value: the mean number of true labels.
    """
    check_convention(convention)
    y = _multilabel(y_true, "coverage_error")
    s = np.asarray(y_pred, dtype=np.float64)
    lowest = np.where(y, s, np.inf).min(axis=1)
    cover = (s >= lowest[:, None]).sum(axis=1).astype(np.float64)
    return np.where(y.any(axis=1), cover, 0.0)


#: Rows x labels^2 compared at once by :func:`label_ranking_loss`.
_PAIRS = 1 << 22


def label_ranking_loss(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Label ranking loss: the fraction of (true, false) label pairs ranked the wrong way.

    Formula: ``l = #{(t, f) : y_t = 1, y_f = 0, s_f >= s_t} / (n_true * n_false)``; 0 for a row
    whose labels are all true or all false.

    Returns:
        (N,) PER-SAMPLE values in [0, 1], in float64.

    Conventions:
        scikit-learn ``label_ranking_loss`` (a tie counts as a wrong pair), weighted
        ``np.average``.
    """
    check_convention(convention)
    y = _multilabel(y_true, "label_ranking_loss")
    s = np.asarray(y_pred, dtype=np.float64)
    n, k = s.shape
    wrong = np.zeros(n)
    step = max(1, _PAIRS // (k * k))
    for a in range(0, n, step):  # rows in slices: at most _PAIRS comparisons at once
        ys, ss = y[a:a + step], s[a:a + step]
        pairs = (ss[:, None, :] >= ss[:, :, None]) & ys[:, :, None] & ~ys[:, None, :]
        wrong[a:a + step] = pairs.sum(axis=(1, 2))
    pos = y.sum(axis=1)
    neg = k - pos
    with np.errstate(divide="ignore", invalid="ignore"):
        out = wrong / (pos * neg)
    return np.where((pos == 0) | (neg == 0), 0.0, out)


def brier_terms(y_true, y_pred) -> tuple[np.ndarray, np.ndarray, float]:
    """Targets and predictions as class rows (:func:`_expand`) and scikit-learn's
    ``scale_by_half="auto"`` factor (0.5 for two classes or fewer)."""
    y, p = _expand(y_true, y_pred)
    return y, p, 0.5 if y.shape[1] <= 2 else 1.0


def brier(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Brier score per sample, as scikit-learn ``brier_score_loss`` (the numerator terms of
    ``d2_brier_score``).

    Formula: ``l = h sum_k (y_k - p_k)^2``, ``h = 0.5`` for two classes (or one column of
    P(positive), read as ``[1 - p, p]``), else 1.

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype.

    Conventions:
        scikit-learn ``brier_score_loss`` (lossctl's ``brier_score``) and ``d2_brier_score``,
        which divides by the Brier score of the class frequencies of y_true.
    """
    check_convention(convention)
    y, p, half = brier_terms(y_true, y_pred)
    return p.dtype.type(half) * np.sum(np.square(y - p), axis=1)


class _ClassSums(Aggregate):
    """A D² score against the null model of y_true's weighted class frequencies: running sums
    of the class rows of y_true and of the weighted losses; a subclass gives the null model's
    weighted loss (:meth:`_null`). Fewer than 2 rows give NaN."""

    def add(self, target, pred, values, weights) -> None:
        y, _ = _expand(target, pred)
        y = np.asarray(y, dtype=np.float64)
        w = self._weights(y, weights)
        if self.width is None:
            self.width = y.shape[1]
            self._k = ColumnSums(self.width)
            self._k2 = ColumnSums(self.width)
            self._num = ExactSum()
        self._k.add(w[:, None] * y)
        self._k2.add(w[:, None] * np.square(y))
        with np.errstate(over="ignore", invalid="ignore"):
            self._num.add(np.asarray(values, dtype=np.float64) * w)

    def _null(self, k: np.ndarray, total: float) -> float:
        raise NotImplementedError

    def value(self) -> float:
        if self.width is None or self.rows < 2:
            return math.nan
        k, total = self._k.total(), self._w.total()
        if not total > 0:
            return math.nan
        null = self._null(k, total)
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(1 - np.float64(self._num.total()) / np.float64(null))


class D2LogLoss(_ClassSums):
    """D² log-loss score (scikit-learn ``d2_log_loss_score``): ``1 - sum_n w_n l_n /
    sum_n w_n l0_n`` with ``l0`` the log loss of predicting the weighted class frequencies
    ``f_k = W_k / W`` of y_true (clipped at float64's epsilon): ``sum_n w_n l0_n = -sum_k W_k
    log f_k``. Fewer than 2 rows give NaN."""

    def _null(self, k: np.ndarray, total: float) -> float:
        return -float(np.sum(xlogy(k, sklearn_clip(k / total))))


class D2Brier(_ClassSums):
    """D² Brier score (scikit-learn ``d2_brier_score``): ``1 - sum_n w_n l_n / sum_n w_n l0_n``
    with ``l0`` the Brier score of predicting the weighted class frequencies ``f_k`` of y_true:
    ``sum_n w_n sum_k (y_nk - f_k)^2 = sum_k (Q_k - 2 f_k W_k + f_k^2 W)`` (``W_k``, ``Q_k``:
    weighted sums of y_k and y_k^2), halved as the numerator is. Fewer than 2 rows give NaN."""

    def _null(self, k: np.ndarray, total: float) -> float:
        f = k / total
        half = 0.5 if self.width <= 2 else 1.0
        return half * float(np.sum(self._k2.total() - 2 * f * k + np.square(f) * total))
