"""Classification losses: binary, categorical and sparse cross-entropy and their relatives.

One pure numpy function per loss, ``fn(y_true, y_pred, *, convention="keras", <options>)``.
The engine has already validated and cast the inputs: ``y_pred`` is 2-D ``(N, C)`` float64 or
float32 and every computation stays in that dtype (so float32 reproduces Keras' float32
rounding); dense ``y_true`` is ``(N, C)`` float, index ``y_true`` is ``(N,)`` int64 in range.

Each function returns either the ELEMENTWISE values ``(N, C)`` (binary family: the engine then
reduces the class axis, Keras = mean over the last axis, torch = all elements) or the PER-SAMPLE
values ``(N,)`` (categorical family). Nothing here reduces over rows, applies sample weights or
masks ignored classes: the engine does that, following the rules each docstring states.

Conventions: ``"keras"`` (Keras 3.15), ``"torch"`` (PyTorch 2.13) and ``"optax"`` (treated as
``"keras"`` where it matters; optax-only losses ignore the convention).
"""
from __future__ import annotations

import numpy as np

from lossctl.errors import DataError, ShapeError, UsageError
from lossctl.losses._numerics import (
    check_convention,
    log_sigmoid,
    log_softmax,
    sigmoid,
    softmax,
    softplus,
    xlogy_from_log,
)

__all__ = [
    "RETURN_KIND",
    "KERAS_EPSILON",
    "TORCH_LOG_CLAMP",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "sigmoid_focal_loss",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy",
    "cross_entropy",
    "nll",
    "categorical_generalized_cross_entropy",
    "poly1_cross_entropy",
    "brier_score",
]

#: ``keras.backend.epsilon()``: probabilities are clipped to ``[1e-7, 1 - 1e-7]``.
KERAS_EPSILON = 1e-7
#: ``torch.nn.functional.binary_cross_entropy`` clamps each log term at ``-100``.
TORCH_LOG_CLAMP = -100.0

#: What each function returns: ``"elementwise"`` = (N, C), ``"row"`` = (N,).
RETURN_KIND = {
    "binary_crossentropy": "elementwise",
    "binary_focal_crossentropy": "elementwise",
    "sigmoid_focal_loss": "elementwise",
    "categorical_crossentropy": "row",
    "categorical_focal_crossentropy": "row",
    "sparse_categorical_crossentropy": "row",
    "cross_entropy": "row",
    "nll": "row",
    "categorical_generalized_cross_entropy": "row",
    "poly1_cross_entropy": "row",
    "brier_score": "row",
}



# --- helpers ------------------------------------------------------------------------------------




def _check_smoothing(label_smoothing: float) -> float:
    ls = float(label_smoothing)
    if not 0.0 <= ls <= 1.0:
        raise UsageError(
            f"--label-smoothing must be in [0, 1], got {label_smoothing}",
            hint="Keras and PyTorch both require 0 <= label_smoothing <= 1",
        )
    return ls


def _dense(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Dense targets in the dtype of ``y_pred`` (index targets are one-hot encoded)."""
    y_true = np.asarray(y_true)
    n, c = y_pred.shape
    if y_true.ndim == 1:
        return _one_hot(_indices(y_true, c), c, y_pred.dtype)
    if y_true.shape != y_pred.shape:
        raise ShapeError(
            f"targets have shape {y_true.shape} but predictions have shape {y_pred.shape}",
            hint="dense targets need one column per class",
        )
    return y_true.astype(y_pred.dtype, copy=False)


def _indices(y_true: np.ndarray, num_classes: int) -> np.ndarray:
    """Index targets as a 1-D int64 array; a (N, 1) column is accepted."""
    y_true = np.asarray(y_true)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true[:, 0]
    if y_true.ndim != 1:
        raise ShapeError(
            f"this loss takes class indices of shape (N,), got targets of shape {y_true.shape}",
            hint="convert one-hot targets to indices with `lossctl onehot --inverse`, "
            "or use the categorical form of the loss",
        )
    if not np.issubdtype(y_true.dtype, np.integer):
        raise ShapeError(
            f"class indices must be integers, got dtype {y_true.dtype}",
        )
    y_true = y_true.astype(np.int64, copy=False)
    # The engine validates labels first; this guard only stops numpy from silently wrapping a
    # negative index (or raising IndexError) if an unvalidated label ever gets here.
    if y_true.size and (y_true.min() < 0 or y_true.max() >= num_classes):
        bad = int(y_true[(y_true < 0) | (y_true >= num_classes)][0])
        raise DataError(
            f"class index {bad} is out of range [0, {num_classes})",
            hint="labels must be 0..C-1 (use --offset 1 for labels 1..C)",
        )
    return y_true


def _binary_targets(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Targets of the binary family: (N, C) floats; a 1-D vector is the single column."""
    y_true = np.asarray(y_true)
    if y_true.ndim == 1 and y_pred.shape[1] == 1:
        y_true = y_true.reshape(-1, 1)
    if y_true.shape != y_pred.shape:
        raise ShapeError(
            f"targets have shape {y_true.shape} but predictions have shape {y_pred.shape}",
            hint="binary losses need one target per prediction",
        )
    return y_true.astype(y_pred.dtype, copy=False)


def _one_hot(idx: np.ndarray, num_classes: int, dtype) -> np.ndarray:
    out = np.zeros((idx.shape[0], num_classes), dtype=dtype)
    out[np.arange(idx.shape[0]), idx] = 1
    return out


def _per_class(value, num_classes: int, dtype, name: str) -> np.ndarray | None:
    """A scalar or a length-C vector as a (C,) array in ``dtype`` (None stays None)."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full(num_classes, arr, dtype=dtype)
    arr = arr.reshape(-1)
    if arr.shape[0] != num_classes:
        raise UsageError(
            f"{name} has {arr.shape[0]} values but the predictions have {num_classes} classes",
            hint=f"give one {name} value per class (or a single value for all)",
        )
    return arr


def _gather(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return a[np.arange(a.shape[0]), idx]


def _wmul(w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``w * v`` where a zero weight contributes exactly 0 (even against an infinite ``v``)."""
    return xlogy_from_log(w, v)


def _smooth_binary(y: np.ndarray, ls: float) -> np.ndarray:
    # Keras losses.py: y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if ls:
        y = y * (1.0 - ls) + 0.5 * ls
    return y


def _smooth_categorical(y: np.ndarray, ls: float, conv: str) -> np.ndarray:
    if not ls:
        return y
    c = y.shape[-1]
    if conv == "keras":
        # Keras: label_smoothing / ops.cast(num_classes, y_pred.dtype), a division in the dtype.
        off = np.asarray(ls, dtype=y.dtype) / np.asarray(c, dtype=y.dtype)
    else:
        # ATen: label_smoothing / n_classes in double, applied as a scalar of the tensor dtype.
        off = ls / c
    return y * (1.0 - ls) + off


def _keras_log_probs(p: np.ndarray) -> np.ndarray:
    """Keras categorical path: renormalise each row to sum 1, clip to [eps, 1-eps], log."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = p / np.sum(p, axis=-1, keepdims=True)  # a row of zeros gives NaN, as in Keras
    p = np.clip(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    return np.log(p)


def _plain_log(p: np.ndarray) -> np.ndarray:
    """torch ``log(p)``: no renormalisation, no clip; ``log 0 = -inf`` without a warning."""
    with np.errstate(divide="ignore"):
        return np.log(p)


def _bce_keras_probs(y: np.ndarray, p: np.ndarray, pos_weight=None) -> np.ndarray:
    # keras/src/backend/{tensorflow,numpy}/nn.py binary_crossentropy, from_logits=False
    p = np.clip(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    bce = y * np.log(p)
    if pos_weight is not None:
        bce = pos_weight * bce
    bce = bce + (1.0 - y) * np.log(1.0 - p)
    return -bce


def _bce_torch_probs(y: np.ndarray, p: np.ndarray, pos_weight=None) -> np.ndarray:
    # ATen binary_cross_entropy CPU kernel (2.13):
    # (y - 1) * max(log1p(-x), -100) - y * max(log(x), -100)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), TORCH_LOG_CLAMP)
        log_1mp = np.maximum(np.log1p(-p), TORCH_LOG_CLAMP)
    pos = y * log_p
    if pos_weight is not None:
        pos = pos_weight * pos
    return (y - 1.0) * log_1mp - pos + 0.0  # + 0.0: no -0.0 for y = p = 1


def _bce_logits(y: np.ndarray, x: np.ndarray, pos_weight=None) -> np.ndarray:
    # y * softplus(-x) + (1 - y) * softplus(x) = -(y log sigmoid(x) + (1-y) log sigmoid(-x)).
    # Both terms are >= 0 for y in [0, 1], so nothing cancels: exact for any finite logit.
    with np.errstate(over="ignore"):
        pos = y * softplus(-x)
        if pos_weight is not None:
            pos = pos_weight * pos
        return pos + (1.0 - y) * softplus(x)


# --- binary family (elementwise) ----------------------------------------------------------------


def binary_crossentropy(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    pos_weight=None,
    class_weight=None,
) -> np.ndarray:
    """Binary cross-entropy for each (sample, class) element.

    Formula::

        y'   = y * (1 - ls) + 0.5 * ls                      (label smoothing towards 0.5)
        loss = -(pw * y' * log(p) + (1 - y') * log(1 - p)) * w_c
        from logits x:  loss = (pw * y' * softplus(-x) + (1 - y') * softplus(x)) * w_c

    with ``pw`` = ``pos_weight`` (1 if not given) and ``w_c`` = ``class_weight`` (1 if not
    given), both per class (column).

    Args:
        y_true: (N, C) float targets in [0, 1] (soft labels allowed).
        y_pred: (N, C) probabilities, or logits with ``from_logits=True``.
        convention: ``"keras"`` (default) or ``"torch"``: how probabilities are made safe for
            the log (see Conventions). Logits are treated identically by both.
        from_logits: ``y_pred`` holds logits; the loss is computed in the stable log-sigmoid
            form (unbounded: a logit gap of 1000 costs 1000).
        label_smoothing: ``ls`` in [0, 1]; targets are squeezed towards 0.5.
        pos_weight: scalar or (C,) weight of the positive term (PyTorch ``BCEWithLogitsLoss``
            ``pos_weight``, ``tf.nn.weighted_cross_entropy_with_logits`` ``pos_weight``).
        class_weight: scalar or (C,) rescaling of every element of a column (PyTorch
            ``weight`` broadcast along the class dimension).

    Returns:
        (N, C) ELEMENTWISE losses in the dtype of ``y_pred``. The per-sample value is the mean
        over the class axis (Keras); PyTorch's ``reduction='none'`` returns this matrix itself.

    Conventions:
        Keras 3 (``BinaryCrossentropy``): probabilities are clipped to [1e-7, 1 - 1e-7] and the
        loss is ``-(y log p + (1 - y) log(1 - p))``, so a saturated element costs at most
        ``-log(1e-7) = 16.118095`` (15.942385 for y=0, p=1 in float32, because
        ``1 - (1 - 1e-7)`` rounds to 1.19e-7 there: use ``--dtype float32``). Logits passed
        without ``from_logits`` are silently clipped by Keras (lossctl warns). The per-sample
        loss is the mean over the last axis; a ``sample_weight`` multiplies it and
        ``reduction="sum_over_batch_size"`` divides the weighted sum by N (the number of
        samples, not the sum of the weights; ``"mean_with_sample_weight"`` divides by the sum
        of the weights). Keras has no ``pos_weight``, no per-column weight
        (``Model.fit(class_weight=...)`` is a per-sample weight instead) and no ignore_class
        for BCE. tf.keras 2 added epsilon a second time (15.424949 for y=1, p=0).

        PyTorch: ``binary_cross_entropy`` does not clip; it clamps each log term at -100
        (``max(log p, -100)``, ``max(log1p(-p), -100)``), so a saturated element costs exactly
        100, and it refuses inputs or targets outside [0, 1]. ``weight`` multiplies each
        element (a per-sample weight is a ``weight`` of shape (N, 1)); ``reduction='mean'``
        divides by the number of ELEMENTS (N*C), not by the sum of the weights; there is no
        ``ignore_index``. ``binary_cross_entropy_with_logits`` (``BCEWithLogitsLoss``) computes
        ``(1 - y) x + (1 + (pw - 1) y) log(1 + exp(-x))`` stably; ``pos_weight`` exists only
        there. PyTorch has no label smoothing for BCE: lossctl applies the Keras formula.

        tf.nn / optax: ``tf.nn.sigmoid_cross_entropy_with_logits`` and
        ``optax.sigmoid_binary_cross_entropy`` return exactly the ``from_logits`` matrix
        (elementwise, no reduction). ``pos_weight`` on probabilities (no framework has it) is
        applied to the positive log term.
    """
    conv = check_convention(convention)
    ls = _check_smoothing(label_smoothing)
    dt = y_pred.dtype
    c = y_pred.shape[1]
    y = _smooth_binary(_binary_targets(y_true, y_pred), ls)
    pw = _per_class(pos_weight, c, dt, "pos_weight")
    if from_logits:
        loss = _bce_logits(y, y_pred, pw)
    elif conv == "torch":
        loss = _bce_torch_probs(y, y_pred, pw)
    else:
        loss = _bce_keras_probs(y, y_pred, pw)
    w = _per_class(class_weight, c, dt, "class_weight")
    if w is not None:
        loss = loss * w
    return loss


def binary_focal_crossentropy(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    gamma: float = 2.0,
    alpha: float = 0.25,
    class_balancing: bool = False,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
) -> np.ndarray:
    """Binary focal cross-entropy (Keras 3 ``BinaryFocalCrossentropy``), elementwise.

    Formula::

        y'    = y * (1 - ls) + 0.5 * ls
        p     = sigmoid(x) if from_logits else y_pred
        bce   = -(y' log clip(p) + (1 - y') log(1 - clip(p)))        clip to [1e-7, 1 - 1e-7]
        p_t   = y' p + (1 - y')(1 - p)                                 (unclipped p)
        loss  = (1 - p_t)^gamma * bce
        with class_balancing:  loss *= alpha * y' + (1 - alpha)(1 - y')

    Args:
        y_true: (N, C) float targets in [0, 1].
        y_pred: (N, C) probabilities, or logits with ``from_logits=True``.
        convention: accepted for uniformity; this is a Keras loss and every convention gives
            the Keras values (Keras on its NumPy/JAX/PyTorch backends).
        gamma: focusing parameter; ``gamma=0`` gives plain (clipped) BCE.
        alpha: weight of the positive class, used ONLY when ``class_balancing`` is true.
        class_balancing: Keras ``apply_class_balancing`` (default False).
        from_logits: apply a sigmoid to ``y_pred`` first.
        label_smoothing: ``ls`` in [0, 1], towards 0.5.

    Returns:
        (N, C) ELEMENTWISE losses in the dtype of ``y_pred``; Keras' per-sample value is their
        mean over the class axis.

    Conventions:
        Keras 3: ``alpha`` is ignored unless ``apply_class_balancing=True`` (so the default
        differs from the paper and from torchvision). With ``from_logits=True`` Keras applies
        ``sigmoid`` and then the CLIPPED probability BCE on the NumPy, JAX and PyTorch
        backends, which is what lossctl computes: ``(y=1, x=-50, gamma=0)`` gives 16.118095.
        On the TensorFlow backend the sigmoid output carries its logits and the BCE term is
        computed from the logits, unclipped: the same input gives 50.0 there. The focal
        factor uses the unclipped probability on every backend. Reduction and sample weights
        as for ``binary_crossentropy`` (mean over the class axis, then the Keras reductions,
        /N for ``sum_over_batch_size``).

        tf.keras 2 computed the BCE term from the logits when ``from_logits`` (like the TF
        backend today). PyTorch has no binary focal loss on probabilities; torchvision's
        ``sigmoid_focal_loss`` (logits, ``alpha=0.25`` applied by default) is lossctl's
        ``sigmoid_focal_loss`` with ``--alpha 0.25``.
    """
    check_convention(convention)
    ls = _check_smoothing(label_smoothing)
    y = _smooth_binary(_binary_targets(y_true, y_pred), ls)
    p = sigmoid(y_pred) if from_logits else y_pred
    bce = _bce_keras_probs(y, p)
    p_t = y * p + (1.0 - y) * (1.0 - p)
    # 1 - p_t >= 0 mathematically; clamp the rounding so a fractional gamma never sees -0.0...1ulp
    focal = np.power(np.maximum(1.0 - p_t, 0.0), gamma) * bce
    if class_balancing:
        weight = y * alpha + (1.0 - y) * (1.0 - alpha)
        focal = weight * focal
    return focal


def sigmoid_focal_loss(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    gamma: float = 2.0,
    alpha: float | None = None,
) -> np.ndarray:
    """Sigmoid focal loss on logits (optax ``sigmoid_focal_loss``), elementwise.

    Formula::

        ce              = y softplus(-x) + (1 - y) softplus(x)
        log(1 - p_t)    = log((1 - y) sigmoid(x) + y sigmoid(-x))       (log-sum-exp form)
        loss            = ce * exp(gamma * log(1 - p_t))
        with alpha:       loss *= alpha * y + (1 - alpha)(1 - y)

    Args:
        y_true: (N, C) float targets in [0, 1] (soft labels allowed).
        y_pred: (N, C) LOGITS.
        convention: accepted for uniformity; has no effect (optax loss).
        gamma: focusing exponent (default 2).
        alpha: optional weight of the positive class; ``None`` (default) = no weighting.

    Returns:
        (N, C) ELEMENTWISE losses in the dtype of ``y_pred``. optax returns exactly this
        (no reduction); torchvision's ``reduction='none'`` too.

    Conventions:
        optax: the focal weight is computed in log space, so it stays exact for ``gamma < 2``,
        soft labels and logits of +-1000; ``alpha=None`` by default. torchvision
        ``sigmoid_focal_loss(alpha=0.25, gamma=2, reduction='none')`` computes the same
        values from ``p = sigmoid(x)`` (less accurately at extreme logits) and applies
        ``alpha=0.25`` unless given ``alpha < 0``; pass ``--alpha 0.25`` to match it; its
        ``reduction='mean'`` averages over all N*C elements. optax never reduces and has no
        sample weights (the caller averages). Keras' ``BinaryFocalCrossentropy`` clips
        probabilities and ignores alpha by default: see ``binary_focal_crossentropy``.
    """
    check_convention(convention)
    y = _binary_targets(y_true, y_pred)
    x = y_pred
    ce = _bce_logits(y, x)
    log_p = log_sigmoid(x)
    log_q = log_sigmoid(-x)
    # jax.scipy.special.logsumexp([log_p, log_q], b=[1 - y, y]): terms with b == 0 drop out.
    b0 = 1.0 - y
    b1 = y
    a0 = np.where(b0 != 0, log_p, -np.inf)
    a1 = np.where(b1 != 0, log_q, -np.inf)
    amax = np.maximum(a0, a1)
    amax = np.where(np.isfinite(amax), amax, np.zeros_like(amax))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = b0 * np.exp(a0 - amax) + b1 * np.exp(a1 - amax)
        log_one_minus_pt = np.log(np.abs(s)) + amax
        focal_weight = np.exp(gamma * log_one_minus_pt)
        loss = ce * focal_weight
        if alpha is None:
            return loss
        return (alpha * y + (1.0 - alpha) * (1.0 - y)) * loss


# --- categorical family (per row) ---------------------------------------------------------------


def _categorical_log_probs(y_pred: np.ndarray, from_logits: bool, conv: str) -> np.ndarray:
    if from_logits:
        return log_softmax(y_pred, axis=-1)
    if conv == "torch":
        return _plain_log(y_pred)
    return _keras_log_probs(y_pred)


def categorical_crossentropy(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    class_weight=None,
) -> np.ndarray:
    """Categorical cross-entropy per sample, with dense (one-hot or soft) targets.

    Formula::

        y'   = y * (1 - ls) + ls / C
        keras, probabilities:  q = clip(p / sum(p), 1e-7, 1 - 1e-7);  loss = -sum_c y'_c log q_c
        torch, probabilities:  loss = -sum_c w_c y'_c log p_c          (no renormalise, no clip)
        logits (both):         loss = -sum_c w_c y'_c log_softmax(x)_c
        keras class weights:   loss *= w[argmax y]

    A class whose target is 0 contributes 0 even when its probability is 0 (``0 log 0 = 0``).

    Args:
        y_true: (N, C) float targets (one-hot or probabilities); (N,) int64 indices are
            one-hot encoded first.
        y_pred: (N, C) probabilities, or logits with ``from_logits=True``.
        convention: ``"keras"`` (default) or ``"torch"``.
        from_logits: ``y_pred`` holds logits (``tf.nn.softmax_cross_entropy_with_logits``,
            ``optax.softmax_cross_entropy``, torch ``cross_entropy`` with probability targets).
        label_smoothing: ``ls`` in [0, 1]; identical in Keras, PyTorch and optax
            (``smooth_labels``).
        class_weight: scalar or (C,) weights. torch: ``w_c`` inside the sum (``weight`` of
            ``cross_entropy`` with probability targets). keras: a per-sample factor
            ``w[argmax y]``, what ``Model.fit(class_weight=...)`` does. Equal for one-hot
            targets; they differ for soft or smoothed targets.

    Returns:
        (N,) PER-SAMPLE losses in the dtype of ``y_pred``.

    Conventions:
        Keras 3 (``CategoricalCrossentropy``): probability rows are RENORMALISED to sum to 1
        and then clipped to [1e-7, 1 - 1e-7], so ``p = [0.2, 0.2, 0.2]`` scores like 1/3
        (1.098612) and a zero probability on the true class costs 16.118095; a row of zeros
        gives NaN (lossctl refuses it). Logits go through ``log_softmax`` unclipped. A
        ``sample_weight`` multiplies the per-sample loss and ``reduction="sum_over_batch_size"``
        divides the weighted sum by N (``"mean_with_sample_weight"``: by the sum of weights).
        There is no ignore_class for dense targets.

        PyTorch: there is no probability-input categorical CE; lossctl computes
        ``-sum y log p`` exactly, without renormalising or clipping (what ``nll_loss(log p)``
        gives for one-hot targets): ``[0.2, 0.2, 0.2]`` gives 1.609438 and a zero probability
        on a target class gives inf. With logits this is ``F.cross_entropy`` with probability
        ("soft") targets: ``weight`` enters as ``w_c`` inside the sum and
        ``reduction='mean'`` divides by N, NOT by the sum of weights (unlike index targets:
        one-hot [1, 3, 0.5]-weighted example gives 1.346040 vs 0.897360 with indices), and
        ``ignore_index`` is not supported with soft targets.

        optax ``softmax_cross_entropy`` = the logits formula without weights; a logit of -inf
        with target 0 gives NaN there (``safe_softmax_cross_entropy`` gives 0, as lossctl does).
    """
    conv = check_convention(convention)
    ls = _check_smoothing(label_smoothing)
    y_raw = _dense(y_true, y_pred)
    y = _smooth_categorical(y_raw, ls, conv)
    log_p = _categorical_log_probs(y_pred, from_logits, conv)
    w = _per_class(class_weight, y_pred.shape[1], y_pred.dtype, "class_weight")
    terms = xlogy_from_log(y, log_p)
    if w is not None and conv == "torch":
        terms = _wmul(w, terms)
    with np.errstate(invalid="ignore"):
        loss = -np.sum(terms, axis=-1) + 0.0  # + 0.0: a perfect row gives 0.0, not -0.0
    if w is not None and conv == "keras":
        loss = _wmul(w[np.argmax(y_raw, axis=-1)], loss)
    return loss


def categorical_focal_crossentropy(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    gamma: float = 2.0,
    alpha=0.25,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
) -> np.ndarray:
    """Categorical focal cross-entropy per sample (Keras 3 ``CategoricalFocalCrossentropy``).

    Formula::

        y'   = y * (1 - ls) + ls / C
        p    = softmax(x) if from_logits else y_pred
        q    = clip(p / sum(p), 1e-7, 1 - 1e-7)
        loss = sum_c alpha_c * (1 - q_c)^gamma * (-y'_c log q_c)

    Args:
        y_true: (N, C) float targets; (N,) int64 indices are one-hot encoded first.
        y_pred: (N, C) probabilities, or logits with ``from_logits=True``.
        convention: accepted for uniformity; Keras-only loss, every convention gives the
            Keras values.
        gamma: focusing parameter; ``gamma=0`` gives ``alpha * CCE``.
        alpha: scalar or (C,) per-class weights, ALWAYS applied (default 0.25).
        from_logits: apply a softmax to ``y_pred`` first.
        label_smoothing: ``ls`` in [0, 1].

    Returns:
        (N,) PER-SAMPLE losses in the dtype of ``y_pred``.

    Conventions:
        Keras 3 applies ``alpha`` on every class whatever the labels (so ``gamma=0`` gives
        ``0.25 * categorical_crossentropy``), unlike ``BinaryFocalCrossentropy`` which needs
        ``apply_class_balancing``. With ``from_logits=True`` it takes the softmax and then
        renormalises and clips like the probability path on every backend, so a hopeless
        sample costs at most ``alpha * 16.118095``. Reductions and sample weights as for
        ``categorical_crossentropy`` (weighted sum / N). Neither PyTorch nor optax has it.
    """
    check_convention(convention)
    ls = _check_smoothing(label_smoothing)
    y = _smooth_categorical(_dense(y_true, y_pred), ls, "keras")
    p = softmax(y_pred, axis=-1) if from_logits else y_pred
    with np.errstate(invalid="ignore", divide="ignore"):
        q = p / np.sum(p, axis=-1, keepdims=True)
    q = np.clip(q, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    a = _per_class(alpha, y_pred.shape[1], y_pred.dtype, "alpha")
    cce = -y * np.log(q)
    weighting = np.power(1.0 - q, gamma) * a
    return np.sum(weighting * cce, axis=-1)


def _sparse_torch(
    idx: np.ndarray, log_p: np.ndarray, ls: float, w: np.ndarray | None
) -> np.ndarray:
    """ATen cross_entropy / nll_loss with index targets, reduction='none'."""
    nll = -_gather(log_p, idx) + 0.0
    if w is not None:
        nll = _wmul(w[idx], nll)
    if not ls:
        return nll
    # cross_entropy_loss_label_smoothing: smooth = -(input * weight).sum(class_dim)
    c = log_p.shape[1]
    with np.errstate(invalid="ignore"):
        smooth = -np.sum(_wmul(w, log_p) if w is not None else log_p, axis=-1)
        return (1.0 - ls) * nll + smooth * (ls / c)


def sparse_categorical_crossentropy(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    class_weight=None,
) -> np.ndarray:
    """Categorical cross-entropy per sample with integer class-index targets.

    Formula (``y`` the class index, ``log q`` the log-probabilities as below)::

        keras:  q = clip(p / sum(p), 1e-7, 1 - 1e-7)   or softmax(x) with from_logits
                loss = w[y] * ((1 - ls)(-log q_y) + ls/C * sum_c(-log q_c))
        torch:  log q = log p (no clip)                 or log_softmax(x) with from_logits
                loss = (1 - ls) * w[y] * (-log q_y) + ls/C * sum_c w_c (-log q_c)

    Without smoothing both are ``w[y] * (-log q_y)``.

    Args:
        y_true: (N,) int64 class indices (already validated in [0, C) by the engine).
        y_pred: (N, C) probabilities, or logits with ``from_logits=True``.
        convention: ``"keras"`` (default) or ``"torch"``.
        from_logits: ``y_pred`` holds logits (``tf.nn.sparse_softmax_cross_entropy_with_logits``,
            ``optax.softmax_cross_entropy_with_integer_labels``, torch ``cross_entropy``).
        label_smoothing: ``ls`` in [0, 1]: the same as smoothing the one-hot targets.
        class_weight: scalar or (C,) weights (see the formula; keras = ``Model.fit``
            ``class_weight`` as a per-sample factor, torch = ``weight`` of ``cross_entropy`` /
            ``nll_loss``, which also weights the smoothing term).

    Returns:
        (N,) PER-SAMPLE losses in the dtype of ``y_pred``; under torch they include ``w[y]``
        exactly like ``reduction='none'``.

    Conventions:
        Keras 3 (``SparseCategoricalCrossentropy``): probabilities are renormalised and
        clipped as in ``categorical_crossentropy`` (the TensorFlow backend clips first and
        renormalises through ``sparse_softmax_cross_entropy_with_logits(log p)``; the values
        agree to about 1e-7 absolute, except that an all-zero row gives log C there and NaN
        elsewhere). A ``sample_weight`` multiplies the per-sample loss and
        ``sum_over_batch_size`` divides by N. ``ignore_class``: ignored entries are 0 in the
        per-sample output, the ``sum_over_batch_size`` mean divides by the number of VALID
        entries, ``sum`` adds the valid ones, and an all-ignored batch gives 0. Keras 3.15
        has no ``label_smoothing`` here (added by keras-team/keras#23488 with the one-hot
        formula above). Out-of-range labels: an error on the TF and PyTorch backends, a
        silent 0 on JAX (lossctl always refuses them).

        PyTorch: with logits this is ``F.cross_entropy(x, y, weight, label_smoothing)``
        (``reduction='none'``); the smoothing term is weighted per class (ATen
        ``cross_entropy_loss_label_smoothing``). With probabilities it is
        ``nll_loss(log p, y, weight)``: no renormalisation, no clip (zero probability on
        the true class gives inf). ``reduction='mean'`` divides by ``sum_n w[y_n]`` over
        non-ignored samples (N non-ignored samples without weights); ``ignore_index``
        (default -100) drops samples (value 0 with ``reduction='none'``), and an all-ignored
        batch gives NaN. PyTorch has no per-sample weight for cross-entropy.
    """
    conv = check_convention(convention)
    ls = _check_smoothing(label_smoothing)
    c = y_pred.shape[1]
    idx = _indices(y_true, c)
    w = _per_class(class_weight, c, y_pred.dtype, "class_weight")
    if conv == "keras" and not ls and not from_logits:
        # The same operations as _keras_log_probs, applied to the one entry per row that is
        # used: p[y] / sum(p), clipped, logged. Bit-identical, and no (N, C) temporaries.
        p = np.asarray(y_pred)
        with np.errstate(invalid="ignore", divide="ignore"):
            p_y = _gather(p, idx) / np.sum(p, axis=-1)
        loss = -np.log(np.clip(p_y, KERAS_EPSILON, 1.0 - KERAS_EPSILON)) + 0.0
        return loss if w is None else _wmul(w[idx], loss)
    log_p = _categorical_log_probs(y_pred, from_logits, conv)
    if conv == "torch":
        return _sparse_torch(idx, log_p, ls, w)
    if ls:
        # Same numbers as categorical_crossentropy on the smoothed one-hot targets.
        y = _smooth_categorical(_one_hot(idx, c, y_pred.dtype), ls, "keras")
        loss = -np.sum(xlogy_from_log(y, log_p), axis=-1) + 0.0
    else:
        loss = -_gather(log_p, idx) + 0.0
    if w is not None:
        loss = _wmul(w[idx], loss)
    return loss


def cross_entropy(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    label_smoothing: float = 0.0,
    class_weight=None,
) -> np.ndarray:
    """PyTorch ``F.cross_entropy`` on LOGITS, per sample (``reduction='none'``).

    Formula::

        l = log_softmax(x)
        index targets y (N,):         (1 - ls) w[y] (-l_y) + ls/C sum_c w_c (-l_c)
        probability targets t (N,C): -sum_c w_c t'_c log_softmax(x)_c,   t' = t (1 - ls) + ls / C

    Args:
        y_true: (N,) int64 class indices or (N, C) float class probabilities (dispatch on
            the number of dimensions, as PyTorch does on the shapes).
        y_pred: (N, C) LOGITS.
        convention: accepted for uniformity; this is PyTorch's function and always follows
            PyTorch.
        label_smoothing: ``ls`` in [0, 1].
        class_weight: scalar or (C,) ``weight``.

    Returns:
        (N,) PER-SAMPLE losses (including the class weights) in the dtype of ``y_pred``.

    Conventions:
        PyTorch ``CrossEntropyLoss``: ``reduction='mean'`` divides by ``sum_n w[y_n]`` over
        the non-ignored samples for INDEX targets, but by N for PROBABILITY targets, so the
        same one-hot data gives different means (0.897360 vs 1.346040 with weights
        [1, 3, 0.5]). ``ignore_index`` (default -100) exists only for index targets; an
        all-ignored batch gives NaN. Targets must be int64 indices in [0, C) or floats;
        probability targets are never validated (``t = [2, 0, 0]`` is accepted). Keras'
        ``(Sparse)CategoricalCrossentropy(from_logits=True)`` gives the same per-sample values
        without weights.
    """
    check_convention(convention)
    ls = _check_smoothing(label_smoothing)
    if np.asarray(y_true).ndim == 1:
        return sparse_categorical_crossentropy(
            y_true, y_pred, convention="torch", from_logits=True,
            label_smoothing=ls, class_weight=class_weight,
        )
    return categorical_crossentropy(
        y_true, y_pred, convention="torch", from_logits=True,
        label_smoothing=ls, class_weight=class_weight,
    )


def nll(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    class_weight=None,
) -> np.ndarray:
    """PyTorch ``F.nll_loss`` per sample: ``y_pred`` are LOG-probabilities.

    Formula::

        loss_n = -w[y_n] * x[n, y_n]

    Args:
        y_true: (N,) int64 class indices.
        y_pred: (N, C) log-probabilities (for example ``log_softmax`` outputs). Not checked:
            any real numbers are accepted, as in PyTorch.
        convention: accepted for uniformity; PyTorch's function.
        class_weight: scalar or (C,) ``weight``.

    Returns:
        (N,) PER-SAMPLE losses (including ``w[y]``) in the dtype of ``y_pred``.

    Conventions:
        PyTorch ``NLLLoss``: ``reduction='mean'`` divides by ``sum_n w[y_n]`` over non-ignored
        samples (N without weights); ``ignore_index`` (default -100) drops samples; all
        ignored gives NaN. Keras has no NLL loss on log-probabilities (its sparse CE takes
        probabilities or logits).
    """
    check_convention(convention)
    c = y_pred.shape[1]
    idx = _indices(y_true, c)
    w = _per_class(class_weight, c, y_pred.dtype, "class_weight")
    return _sparse_torch(idx, y_pred, 0.0, w)


def categorical_generalized_cross_entropy(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    q: float = 0.5,
) -> np.ndarray:
    """Generalized cross-entropy per sample (Keras 3 ``CategoricalGeneralizedCrossEntropy``).

    Formula::

        loss_n = (1 - p[n, y_n]^q) / q,   0 < q < 1

    ``q -> 0`` approaches cross-entropy, ``q = 1`` is ``1 - p_y`` (MAE-like, noise-robust).

    Args:
        y_true: (N,) int64 class indices.
        y_pred: (N, C) probabilities (no clipping, no renormalisation, no logits option).
        convention: accepted for uniformity; Keras-only loss.
        q: the noise parameter, strictly between 0 and 1 (Keras raises otherwise).

    Returns:
        (N,) PER-SAMPLE losses in the dtype of ``y_pred``, in [0, 1/q].

    Conventions:
        Keras 3.15: integer targets and probabilities only; no clipping, so the loss is
        bounded by ``1/q`` without any epsilon. It is exported as
        ``keras.losses.CategoricalGeneralizedCrossEntropy`` but ``keras.losses.get`` does not
        know its name. Standard Keras reductions and sample weights (``sum_over_batch_size``
        = weighted sum / N); no ignore_class. Not in PyTorch or optax.
    """
    check_convention(convention)
    qf = float(q)
    if not 0.0 < qf < 1.0:
        raise UsageError(
            f"--q must be strictly between 0 and 1, got {q}",
            hint="Keras raises for q outside (0, 1); q near 0 behaves like cross-entropy",
        )
    idx = _indices(y_true, y_pred.shape[1])
    p = _gather(y_pred, idx)
    return (1.0 - np.power(p, qf)) / qf


def poly1_cross_entropy(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    epsilon: float = 2.0,
) -> np.ndarray:
    """Poly-1 cross-entropy per sample (optax ``poly_loss_cross_entropy``) on LOGITS.

    Formula::

        p    = softmax(x)
        loss = -sum_c y_c log p_c + epsilon * sum_c y_c (1 - p_c)

    For one-hot (or normalised) targets the second sum is ``1 - p_t``.

    Args:
        y_true: (N, C) float target distributions; (N,) int64 indices are one-hot encoded.
        y_pred: (N, C) LOGITS.
        convention: accepted for uniformity; optax-only loss.
        epsilon: coefficient of the first polynomial term (2.0 for ImageNet in the paper,
            -1.0 recommended for detection; ``epsilon = 0`` gives plain cross-entropy).

    Returns:
        (N,) PER-SAMPLE losses in the dtype of ``y_pred``.

    Conventions:
        optax returns per-example values and never reduces or weights samples; lossctl's
        mean is the plain mean over samples. optax computes ``sum y (1 - p)`` (not
        ``1 - sum y p``), so it differs from ``1 - p_t`` for targets that do not sum to 1;
        lossctl follows optax. A logit of -inf with target 0 gives NaN in optax and 0 here.
        Neither Keras nor PyTorch has this loss.
    """
    check_convention(convention)
    y = _dense(y_true, y_pred)
    log_p = log_softmax(y_pred, axis=-1)
    p = softmax(y_pred, axis=-1)
    one_minus_pt = np.sum(y * (1.0 - p), axis=-1)
    ce = -np.sum(xlogy_from_log(y, log_p), axis=-1)
    return ce + epsilon * one_minus_pt + 0.0


def brier_score(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
) -> np.ndarray:
    """Brier score per sample (scikit-learn ``brier_score_loss``, ``scale_by_half="auto"``).

    Formula::

        one column (P(positive)), y in {0, 1}:   loss = (y - p)^2
        two columns:                             loss = 0.5 * sum_c (y_c - p_c)^2
        three or more columns:                   loss = sum_c (y_c - p_c)^2

    Args:
        y_true: (N, C) float targets (one-hot or probabilities) or (N,) int64 class indices;
            with a single prediction column, the 0/1 label of the positive class.
        y_pred: (N, C) probabilities; one column = probability of the positive class.
        convention: accepted for uniformity; scikit-learn's metric.

    Returns:
        (N,) PER-SAMPLE values in the dtype of ``y_pred``: in [0, 1] for binary problems,
        [0, 2] for three or more classes.

    Conventions:
        scikit-learn 1.7+ sums the squared error over the classes and, with
        ``scale_by_half="auto"``, halves it when there are fewer than three columns, so the
        binary score is the familiar ``mean((y - p)^2)`` whether one or two columns are
        given; with three or more classes it keeps the [0, 2] range (examples: 0.06 binary,
        0.086667 three-class). ``sample_weight`` is a weighted average ``sum(w l) / sum(w)``
        (lossctl's ``mean_with_sample_weight``). scikit-learn maps labels through their sorted
        unique values and refuses probabilities outside [0, 1]. Not in Keras, PyTorch or optax.
    """
    check_convention(convention)
    c = y_pred.shape[1]
    yt = np.asarray(y_true)
    if c == 1:
        y = yt.reshape(-1, 1).astype(y_pred.dtype, copy=False)
        if y.shape[0] != y_pred.shape[0]:
            raise ShapeError(
                f"targets have {y.shape[0]} rows but predictions have {y_pred.shape[0]}",
            )
        return np.square(y[:, 0] - y_pred[:, 0])
    y = _dense(yt, y_pred)
    loss = np.sum(np.square(y - y_pred), axis=-1)
    if c == 2:
        loss = loss * 0.5
    return loss
