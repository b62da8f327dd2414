"""Binary cross-entropy and focal losses: one pure numpy function per loss, ELEMENTWISE.

Each function is ``fn(y_true, y_pred, *, convention="keras", <options>)`` and returns the
``(N, C)`` elementwise values; the engine reduces the class axis (Keras: the mean over the last
axis; PyTorch: all elements) and the rows. The engine has already validated and cast the inputs:
``y_pred`` is ``(N, C)`` float64 or float32 and every computation stays in that dtype (so
float32 reproduces Keras' float32 rounding). Nothing here reduces over rows, applies sample
weights or masks: the engine does that, following the rules each docstring states.

Conventions: ``"keras"`` (Keras 3.15), ``"torch"`` (PyTorch 2.13) and ``"optax"`` (treated as
``"keras"`` where it matters; optax-only losses ignore the convention).
"""
from __future__ import annotations

import numpy as np

from lossctl.errors import ShapeError
from lossctl.losses._numerics import check_convention, log_sigmoid, sigmoid, softplus
from lossctl.losses._targets import (
    KERAS_EPSILON,
    TORCH_LOG_CLAMP,
    _check_smoothing,
    _per_class,
)

__all__ = ["binary_crossentropy", "binary_focal_crossentropy", "sigmoid_focal_loss"]


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


def _smooth_binary(y: np.ndarray, ls: float) -> np.ndarray:
    # Keras losses.py: y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if ls:
        y = y * (1.0 - ls) + 0.5 * ls
    return y


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
        convention: ``"keras"`` (the TensorFlow backend) or ``"keras-jax"`` (the JAX, NumPy and
            PyTorch backends); they differ only with ``from_logits``. Other conventions give
            the Keras values.
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
        ``sigmoid`` and then its BCE. On the default TensorFlow backend the sigmoid output
        carries its logits and the BCE term is computed from the logits, unclipped, which is
        what lossctl computes: ``(y=1, x=-50, gamma=0)`` gives 50.0. The NumPy, JAX and PyTorch
        backends clip the sigmoid instead (``convention="keras-jax"``): 16.118095 there. The
        focal factor uses the unclipped probability on every backend. Reduction and sample
        weights as for ``binary_crossentropy`` (mean over the class axis, then the Keras
        reductions, /N for ``sum_over_batch_size``).

        tf.keras 2 computed the BCE term from the logits when ``from_logits`` (like the TF
        backend today). PyTorch has no binary focal loss on probabilities; torchvision's
        ``sigmoid_focal_loss`` (logits, ``alpha=0.25`` applied by default) is lossctl's
        ``sigmoid_focal_loss`` with ``alpha=0.25``.
    """
    check_convention(convention)
    ls = _check_smoothing(label_smoothing)
    y = _smooth_binary(_binary_targets(y_true, y_pred), ls)
    p = sigmoid(y_pred) if from_logits else y_pred
    if from_logits and convention != "keras-jax":
        # TensorFlow backend: Keras's sigmoid output carries its logits, and the BCE term is
        # computed from them exactly (sigmoid_cross_entropy_with_logits), unclipped
        bce = _bce_logits(y, y_pred)
    else:
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
