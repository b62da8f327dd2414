"""Margin (hinge-type) losses: unreduced values, exactly as Keras 3 and PyTorch compute them.

Inputs are 2-D ``(N, C)`` float arrays of labels and scores (raw decision values / logits, not
probabilities), except ``multi_margin`` whose ``y_true`` is an ``(N,)`` int64 vector of class
indices. Each function returns either the ELEMENTWISE ``(N, C)`` values (``hinge``,
``squared_hinge``, ``soft_margin``) or the PER-SAMPLE ``(N,)`` values (``categorical_hinge``,
``multi_margin``, ``multilabel_soft_margin``), in the dtype of ``y_pred``. No reduction over rows,
no sample weights: the engine does that.

Softplus terms use ``lossctl.losses._numerics`` (``softplus(z) = logaddexp(0, z)``), so scores of ±1000
give finite, exact values.
"""
from __future__ import annotations

import numpy as np

from lossctl.errors import DataError, UsageError, opt
from lossctl.losses._numerics import check_convention, log_sigmoid, prepare, softplus

__all__ = [
    "categorical_hinge",
    "hinge",
    "hinge_embedding",
    "hinge_labels_are_binary",
    "margin_ranking",
    "multi_margin",
    "multilabel_margin",
    "multilabel_soft_margin",
    "soft_margin",
    "squared_hinge",
]




def _class_weight(class_weight, n_classes: int, dtype) -> np.ndarray | None:
    if class_weight is None:
        return None
    w = np.asarray(class_weight, dtype=dtype).reshape(-1)
    if w.shape[0] != n_classes:
        raise UsageError(
            f"{opt('class_weight')} has {w.shape[0]} values but the predictions have {n_classes} classes",
            hint=f"give exactly {n_classes} comma-separated weights",
        )
    return w


def hinge_labels_are_binary(y_true) -> bool:
    """True when every label is 0 or 1: the condition under which Keras converts labels to ±1.

    Keras decides this over the WHOLE batch it is given. The engine, which may see the labels in
    blocks, should evaluate it over all labels and pass the answer as ``convert_labels`` to
    ``hinge``/``squared_hinge``, so that every block is treated alike.

    Args:
        y_true: labels, any shape.

    Returns:
        True if every label equals 0 or 1 (also for an empty array, as in Keras), else False.
    """
    y = np.asarray(y_true)
    return bool(np.all((y == 0) | (y == 1)))


def _hinge_margin(y_true, y_pred, convention: str, convert_labels: bool | None):
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    if convert_labels is None:
        convert_labels = convention != "optax" and hinge_labels_are_binary(y_true)
    if convert_labels:
        y_true = f(2.0) * y_true - f(1.0)  # keras convert_binary_labels_to_hinge
    return np.maximum(f(1.0) - y_true * y_pred, f(0.0))


def hinge(
    y_true,
    y_pred,
    *,
    convention: str = "keras",
    convert_labels: bool | None = None,
) -> np.ndarray:
    """Binary hinge loss on ±1 labels (0/1 labels converted as Keras does).

    Formula: ``max(1 - y_true * y_pred, 0)``, where labels are first mapped ``y -> 2y - 1`` if
    and only if every label is 0 or 1.

    Args:
        y_true: labels, (N, C) float: -1/1, or 0/1 (converted to -1/1).
        y_pred: scores (decision values), (N, C) float.
        convention: "keras" or "torch" (Keras's rule; PyTorch has no such loss), or "optax"
            (no conversion: optax ``hinge_loss`` requires ±1 targets).
        convert_labels: ``None`` (default) decides from the labels given, as Keras does for its
            batch; ``True``/``False`` forces the choice (the engine passes the decision it made
            over the whole input, see ``hinge_labels_are_binary``).

    Returns:
        (N, C) ELEMENTWISE hinge values, in y_pred's dtype.

    Conventions:
        Keras 3 ``Hinge``/``hinge``: converts 0/1 labels to -1/1 only when ALL labels in the batch
        are 0 or 1; otherwise the labels are used unchanged, so with labels {0,1,2} a 0 acts as 0,
        not -1 (reference D19: 0.733333 instead of 0.833333). Per-sample value = mean over the
        last axis. optax ``hinge_loss`` never converts (targets must be ±1). scikit-learn
        ``hinge_loss`` maps any two labels to -1/+1. PyTorch's ``hinge_embedding_loss`` is a
        different, distance-based loss (y=1 scores the raw input x).
    """
    return _hinge_margin(y_true, y_pred, convention, convert_labels)


def squared_hinge(
    y_true,
    y_pred,
    *,
    convention: str = "keras",
    convert_labels: bool | None = None,
) -> np.ndarray:
    """Squared hinge loss on ±1 labels (0/1 labels converted as Keras does).

    Formula: ``max(1 - y_true * y_pred, 0)**2``, with the same 0/1 -> -1/1 label rule as ``hinge``.

    Args:
        y_true: labels, (N, C) float: -1/1, or 0/1 (converted to -1/1).
        y_pred: scores (decision values), (N, C) float.
        convention: "keras" or "torch" (Keras's rule; PyTorch has no such loss), or "optax"
            (no conversion).
        convert_labels: ``None`` (default) decides from the labels given, as Keras does for its
            batch; ``True``/``False`` forces the choice.

    Returns:
        (N, C) ELEMENTWISE squared hinge values, in y_pred's dtype.

    Conventions:
        Keras 3 ``SquaredHinge``/``squared_hinge``: the same label conversion as ``Hinge`` (only if
        every label in the batch is 0 or 1), then ``square(maximum(1 - y*s, 0))``, mean over the
        last axis. PyTorch and optax have no squared hinge.
    """
    return np.square(_hinge_margin(y_true, y_pred, convention, convert_labels))


def categorical_hinge(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Keras categorical hinge: one-hot labels, one margin per sample.

    Formula: ``max(neg - pos + 1, 0)`` with ``pos = sum_c y_c * s_c`` and
    ``neg = max_c (1 - y_c) * s_c``.

    Args:
        y_true: one-hot labels, (N, C) float (no label conversion is applied).
        y_pred: scores, (N, C) float.
        convention: "keras", "torch" or "optax"; only Keras has this loss, so all use its formula.

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype.

    Conventions:
        Keras 3 ``CategoricalHinge``. Because ``neg`` is a max over ``(1 - y)*s``, the true class
        contributes a 0, so ``neg >= 0`` even when every wrong-class score is negative: scores
        [0.5, -1, -3] with y = class 0 give 0.5 here but 0.0 under the Crammer-Singer multiclass
        hinge of scikit-learn ``hinge_loss`` and optax ``multiclass_hinge_loss``, whose margin is
        ``s_y - max_{i != y} s_i`` (reference D18). PyTorch ``multi_margin_loss`` is yet another
        definition (a sum over the wrong classes divided by C, see ``multi_margin``).
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((f(1.0) - y_true) * y_pred, axis=-1)
    return np.maximum(neg - pos + f(1.0), f(0.0))


def multi_margin(
    y_true,
    y_pred,
    *,
    convention: str = "keras",
    p: int = 1,
    margin: float = 1.0,
    class_weight=None,
) -> np.ndarray:
    """PyTorch multi-class margin loss on class indices.

    Formula: for a sample with true class y and scores x (C classes):
    ``sum_{i != y} w[y] * max(0, margin - x[y] + x[i])**p / C``.

    Args:
        y_true: class indices, (N,) int64, each in [0, C) (validated by the engine).
        y_pred: scores, (N, C) float.
        convention: "keras", "torch" or "optax"; only PyTorch has this loss, so all use its formula.
        p: 1 or 2. Default 1.
        margin: the margin. Default 1.0.
        class_weight: optional (C,) weights; a sample is weighted by the weight of its TRUE class.

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype.

    Conventions:
        PyTorch ``multi_margin_loss``/``MultiMarginLoss``: the sum over the wrong classes is
        divided by C (the number of classes), and with ``weight`` the ``'mean'`` reduction still
        divides by N, not by the sum of the weights (unlike ``cross_entropy``). Scores
        [[2,1.5,-1],[.1,.2,.3]] with y=[0,0] give [0.166667, 0.766667], where Keras
        ``categorical_hinge`` and scikit-learn's multiclass ``hinge_loss`` give [0.5, 1.2]
        (reference D18). Keras and optax have no such loss.
    """
    check_convention(convention)
    if p not in (1, 2):
        raise UsageError(f"{opt('p')} must be 1 or 2, got {p}", hint="PyTorch's multi_margin_loss has only p=1 and p=2")
    x = np.asarray(y_pred)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    f = x.dtype.type
    n, c = x.shape
    idx = np.asarray(y_true).reshape(-1).astype(np.intp)
    rows = np.arange(n)
    x_target = x[rows, idx][:, None]
    # ATen: z = margin - input[target] + input[d], counted only where z > 0 and d != target.
    z = (f(margin) - x_target) + x
    h = np.where(z > 0, z if p == 1 else z * z, f(0.0))
    h[rows, idx] = 0
    w = _class_weight(class_weight, c, x.dtype)
    if w is not None:
        h = h * w[idx][:, None]
    return np.sum(h, axis=-1) / f(c)


def soft_margin(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """PyTorch soft-margin (logistic) loss on ±1 labels, computed without overflow.

    Formula: ``log(1 + exp(-y_true * y_pred))``, evaluated as ``logaddexp(0, -y*x)``.

    Args:
        y_true: labels, (N, C) float, -1 or 1 (not converted: 0 labels give log 2).
        y_pred: scores (logits), (N, C) float.
        convention: "keras", "torch" or "optax"; only PyTorch has this loss, so all use its formula.

    Returns:
        (N, C) ELEMENTWISE values, in y_pred's dtype; finite for any finite input
        (y=1, x=-1000 gives 1000).

    Conventions:
        PyTorch ``soft_margin_loss``/``SoftMarginLoss``; ``'mean'`` divides by the number of
        elements. PyTorch evaluates ``log(1 + exp(-y*x))`` literally, so it returns inf once
        ``-y*x`` exceeds ~88.7 (float32) or ~709.8 (float64), and loses relative precision for
        very small losses (it returns 0 where the exact value is below ~6e-8 in float32, ~1e-16
        in float64); lossctl returns the exact value in both cases. With 0/1 labels it equals
        binary cross-entropy from logits only after mapping 0 -> -1; PyTorch does not convert.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    return softplus(-(y_true * y_pred))


def multilabel_soft_margin(
    y_true,
    y_pred,
    *,
    convention: str = "keras",
    class_weight=None,
) -> np.ndarray:
    """PyTorch multi-label soft-margin loss: mean binary cross-entropy from logits per sample.

    Formula: ``-(1/C) * sum_c w_c * [y_c * log_sigmoid(x_c) + (1 - y_c) * log_sigmoid(-x_c)]``,
    with ``log_sigmoid(x) = -logaddexp(0, -x)``.

    Args:
        y_true: multi-hot labels, (N, C) float in [0, 1].
        y_pred: logits, (N, C) float.
        convention: "keras", "torch" or "optax"; only PyTorch has this loss, so all use its formula.
        class_weight: optional (C,) per-class weights ``w_c`` (PyTorch's ``weight``).

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype; finite for logits of ±1000.

    Conventions:
        PyTorch ``multilabel_soft_margin_loss``/``MultiLabelSoftMarginLoss``: the per-sample value
        is the class SUM divided by C (weights are not normalised), and ``'mean'`` averages over N.
        Without weights it equals Keras ``binary_crossentropy(from_logits=True)`` per sample
        (the mean over the last axis); with weights PyTorch still divides by C, not by ``Σw``.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    log_sig_pos = log_sigmoid(y_pred)
    log_sig_neg = log_sigmoid(-y_pred)
    loss = -(y_true * log_sig_pos + (f(1.0) - y_true) * log_sig_neg)
    w = _class_weight(class_weight, y_pred.shape[-1], y_pred.dtype)
    if w is not None:
        loss = loss * w
    return np.sum(loss, axis=-1) / f(y_pred.shape[-1])


def hinge_embedding(y_true, y_pred, *, convention: str = "torch", margin: float = 1.0
                    ) -> np.ndarray:
    """PyTorch's hinge embedding loss: distances scored against +-1 labels.

    Formula: ``x`` where ``y = 1``; ``max(0, margin - x)`` where ``y = -1``.

    Args:
        y_true: labels, (N, C): 1 (similar pair) or -1 (dissimilar).
        y_pred: distances (PyTorch's ``input``), (N, C) float.
        margin: default 1.

    Returns:
        (N, C) ELEMENTWISE values, in y_pred's dtype.

    Conventions:
        PyTorch ``hinge_embedding_loss``/``HingeEmbeddingLoss`` (ATen: ``where(y != 1,
        max(0, margin - x), 0) + where(y != -1, x, 0)``): a label that is neither 1 nor -1 (a 0)
        gets BOTH terms, silently. ``'mean'`` averages over every element. Not Keras's
        ``hinge`` (a classification margin ``max(1 - y s, 0)``).
    """
    y_true, x, f = prepare(y_true, y_pred, convention)
    hinge = np.maximum(f(margin) - x, f(0.0))
    return np.where(y_true != 1, hinge, f(0.0)) + np.where(y_true != -1, x, f(0.0))


def margin_ranking(y_true, y_pred, *, convention: str = "torch", input2=None,
                   margin: float = 0.0) -> np.ndarray:
    """PyTorch's margin ranking loss: should input1 rank above input2 (y = 1) or below (-1)?

    Formula: ``max(0, -y * (input1 - input2) + margin)``.

    Args:
        y_true: labels, (N, C): 1 or -1.
        y_pred: input1, (N, C) float.
        input2: (N, C) float, the same shape as input1.
        margin: default 0.

    Returns:
        (N, C) ELEMENTWISE values, in y_pred's dtype.

    Conventions:
        PyTorch ``margin_ranking_loss``/``MarginRankingLoss``: the three inputs must have the
        same number of dimensions; labels are not checked (a 0 gives ``max(0, margin)``).
        ``'mean'`` averages over every element.
    """
    y_true, x1, f = prepare(y_true, y_pred, convention)
    x2 = np.asarray(input2, dtype=x1.dtype)
    if x2.shape != x1.shape:
        raise DataError(f"{opt('input2')} has shape {x2.shape} but {opt('y_pred')} has "
                        f"{x1.shape}", hint="both inputs hold one value per label",
                        option="input2")
    return np.maximum(-y_true * (x1 - x2) + f(margin), f(0.0))


def multilabel_margin(y_true, y_pred, *, convention: str = "torch") -> np.ndarray:
    """PyTorch's multi-label margin loss: each listed class should score 1 above every other.

    Formula: for a sample with scores x (C classes) and target classes Y (the leading entries
    of its target row, up to the first -1):
    ``sum_{j in Y} sum_{i not in Y} max(0, 1 - (x[j] - x[i])) / C``.

    Args:
        y_true: (N, C) integer class indices padded with -1 (``[3, 0, -1, 1]`` means classes 3
            and 0: the entries after the first -1 are not read).
        y_pred: scores, (N, C) float.
        convention: "torch" (only PyTorch has this loss).

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype.

    Conventions:
        PyTorch ``multilabel_margin_loss``/``MultiLabelMarginLoss`` (ATen's loop): a class
        listed twice counts twice in the sum; the sum is divided by C; ``'mean'`` averages over
        N. A target outside [-1, C) is an error. Not ``multilabel_soft_margin`` (0/1 targets).
    """
    check_convention(convention)
    x = np.asarray(y_pred)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    x = x.reshape(x.shape[0], -1) if x.ndim != 2 else x
    f = x.dtype.type
    t = np.asarray(y_true)
    t = t.reshape(t.shape[0], -1) if t.ndim != 2 else t
    n, c = x.shape
    if t.shape != (n, c):
        raise DataError(f"{opt('y_true')} has shape {t.shape} but {opt('y_pred')} has {x.shape}",
                        hint="give one row of C class indices per sample, padded with -1")
    if t.dtype.kind == "f":
        bad = ~np.isfinite(t) | (t != np.round(t))
        if bad.any():
            r = int(np.argmax(bad.any(axis=1)))
            raise DataError(f"target {t[r][bad[r]][0]!r} in row {r} is not a class index",
                            hint="targets are class indices padded with -1")
    t = t.astype(np.int64)
    out = (t < -1) | (t >= c)
    if out.any():
        r = int(np.argmax(out.any(axis=1)))
        raise DataError(f"target {int(t[r][out[r]][0])} in row {r} is outside [-1, {c}): "
                        "PyTorch's 'out of range' error", hint=f"class indices are 0..{c - 1}, "
                        "-1 ends the list")
    listed = np.cumprod(t >= 0, axis=1).astype(bool)  # the entries before the first -1
    rows = np.arange(n)
    is_target = np.zeros((n, c), dtype=bool)
    for j in range(c):
        sel = listed[:, j]
        is_target[rows[sel], t[sel, j]] = True
    total = np.zeros(n, dtype=x.dtype)
    for j in range(c):
        sel = listed[:, j]
        if not sel.any():
            break
        xt = x[rows, np.where(sel, t[:, j], 0)][:, None]
        z = f(1.0) - xt + x
        z = np.where((z > 0) & ~is_target & sel[:, None], z, f(0.0))
        total = total + z.sum(axis=1)
    return total / f(c)
