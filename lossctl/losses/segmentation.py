"""Overlap (segmentation) losses: Dice and Tversky per sample, exactly as Keras 3 computes them.

Inputs are 2-D ``(N, C)`` float arrays: ``y_true`` in [0, 1] (masks / one-hot / multi-hot) and
``y_pred`` probabilities in [0, 1]. lossctl computes the overlap PER SAMPLE over the class axis
(Keras ``axis=1`` / ``axis=(1, 2, ...)``) and returns ``(N,)`` values in the dtype of ``y_pred``.

Keras's default ``axis=None`` instead pools every element of the batch into ONE ratio. That value
is not the mean of the per-sample losses, and it cannot be rebuilt from them, but it can be rebuilt
from running sums: ``overlap_sums`` returns the five per-row sums the two losses need, the engine
adds them up over all rows (and blocks), and ``dice_from_sums`` / ``tversky_from_sums`` turn the
totals into the batch-pooled Keras value.
"""
from __future__ import annotations

import numpy as np

from lossctl.errors import DataError, ShapeError, opt
from lossctl.losses._numerics import check_convention, prepare, sigmoid, softmax

__all__ = [
    "OVERLAP_COLUMNS",
    "binary_dice_loss",
    "dice",
    "dice_loss",
    "multiclass_generalized_dice_loss",
    "dice_from_sums",
    "overlap_sums",
    "tversky",
    "tversky_from_sums",
]


#: ``keras.backend.epsilon()``, added to the denominators.
KERAS_EPSILON = 1e-7

#: Columns of ``overlap_sums``: Σ y·p, Σ y, Σ p, Σ y·(1-p), Σ (1-y)·p.
OVERLAP_COLUMNS = ("intersection", "sum_true", "sum_pred", "missed_true", "spurious_pred")
_I, _SY, _SP, _MISSED, _SPURIOUS = range(5)



def overlap_sums(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Per-sample overlap sums over the class axis, the running sums behind Dice and Tversky.

    Formula: columns (see ``OVERLAP_COLUMNS``) ``[Σ y·p, Σ y, Σ p, Σ y·(1-p), Σ (1-y)·p]``, each
    summed over the last axis, as Keras's ``dice``/``tversky`` form them.

    Args:
        y_true: targets, (N, C) float.
        y_pred: probabilities, (N, C) float.
        convention: "keras", "torch" or "optax" (no difference).

    Returns:
        (N, 5) per-sample sums, in y_pred's dtype. Sum them over rows (``axis=0``) and pass the
        (5,) totals to ``dice_from_sums``/``tversky_from_sums`` to get Keras's ``axis=None`` value.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    one = f(1.0)
    cols = (
        np.sum(y_true * y_pred, axis=-1),
        np.sum(y_true, axis=-1),
        np.sum(y_pred, axis=-1),
        np.sum((one - y_pred) * y_true, axis=-1),
        np.sum(y_pred * (one - y_true), axis=-1),
    )
    return np.stack(cols, axis=-1)


def dice_from_sums(sums) -> np.ndarray:
    """Dice loss from ``overlap_sums`` columns (per sample, or totals over a batch).

    Formula: ``1 - 2*I / (Σy + Σp + 1e-7)``.

    Args:
        sums: (..., 5) array from ``overlap_sums`` (or its sum over rows).

    Returns:
        (...) Dice loss values, in the dtype of ``sums``.
    """
    s = np.asarray(sums)
    f = s.dtype.type
    # keras: divide(2.0 * intersection, sum(y_true) + sum(y_pred) + epsilon); 1 - dice
    ratio = (f(2.0) * s[..., _I]) / (s[..., _SY] + s[..., _SP] + f(KERAS_EPSILON))
    return f(1.0) - ratio


def tversky_from_sums(sums, *, alpha: float = 0.5, beta: float = 0.5) -> np.ndarray:
    """Tversky loss from ``overlap_sums`` columns (per sample, or totals over a batch).

    Formula: ``1 - I / (I + alpha*Σ y·(1-p) + beta*Σ (1-y)·p + 1e-7)`` (Keras's placement of alpha
    and beta; see ``tversky``).

    Args:
        sums: (..., 5) array from ``overlap_sums`` (or its sum over rows).
        alpha: weight of Σ y·(1-p). Default 0.5.
        beta: weight of Σ (1-y)·p. Default 0.5.

    Returns:
        (...) Tversky loss values, in the dtype of ``sums``.
    """
    s = np.asarray(sums)
    f = s.dtype.type
    inter = s[..., _I]
    # keras: intersection / (intersection + fp * alpha + fn * beta + epsilon), evaluated left to right
    denom = inter + s[..., _MISSED] * f(alpha) + s[..., _SPURIOUS] * f(beta) + f(KERAS_EPSILON)
    return f(1.0) - inter / denom


def dice(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Dice loss per sample: one minus the soft Dice coefficient over the class axis.

    Formula: ``1 - 2 * Σ_c y·p / (Σ_c y + Σ_c p + 1e-7)``

    Args:
        y_true: targets, (N, C) float in [0, 1].
        y_pred: probabilities, (N, C) float in [0, 1] (no softmax or sigmoid is applied).
        convention: "keras", "torch" or "optax"; PyTorch has no Dice loss, so all use Keras's.

    Returns:
        (N,) PER-SAMPLE Dice losses, in y_pred's dtype. A row with no positives and no predicted
        mass gives 1.

    Conventions:
        Keras 3 ``Dice``/``dice`` with ``axis=1`` (per sample), the formula above: no smoothing
        term, eps = 1e-7 added to the denominator. Keras's DEFAULT ``axis=None`` sums over every
        element of the batch and returns ONE scalar even with ``reduction=None``: reproduce it as
        ``dice_from_sums(overlap_sums(y, p).sum(axis=0))``, the pooled ratio, which is not the
        mean of the per-sample values (Keras's own example: per-sample [0.5, 0.757576],
        pooled 0.616438). PyTorch core has no Dice loss. optax ``dice_loss`` differs in
        everything: it applies softmax (sigmoid for one channel) to logits by default, adds
        ``smooth=1`` to numerator and denominator, computes one Dice per class over the spatial
        axes and averages over classes.
    """
    return dice_from_sums(overlap_sums(y_true, y_pred, convention=convention))


def tversky(
    y_true,
    y_pred,
    *,
    convention: str = "keras",
    alpha: float = 0.5,
    beta: float = 0.5,
) -> np.ndarray:
    """Tversky loss per sample: Dice with separate weights for missed and spurious mass.

    Formula: with ``TP = Σ_c y·p``, ``FN = Σ_c y·(1-p)`` and ``FP = Σ_c (1-y)·p``:
    ``1 - TP / (TP + alpha*FN + beta*FP + 1e-7)``. alpha = beta = 0.5 gives Dice.

    Args:
        y_true: targets, (N, C) float in [0, 1].
        y_pred: probabilities, (N, C) float in [0, 1].
        convention: "keras", "torch" or "optax"; PyTorch has no Tversky loss, so all use Keras's.
        alpha: weight of the missed target mass ``Σ y·(1-p)``. Default 0.5.
        beta: weight of the spurious predicted mass ``Σ (1-y)·p``. Default 0.5.

    Returns:
        (N,) PER-SAMPLE Tversky losses, in y_pred's dtype.

    Conventions:
        Keras 3 ``Tversky``/``tversky`` with ``axis=1``. Keras's code multiplies ``alpha`` by
        ``Σ (1-y_pred)·y_true`` (false negatives) and ``beta`` by ``Σ y_pred·(1-y_true)`` (false
        positives), although its docstring says alpha controls false positives; lossctl follows
        the code, so its numbers equal Keras's (y=[1,1,0,0], p=[.9,.2,.6,0], alpha=0.7,
        beta=0.3 -> 0.424084 in Keras 3.15.1). In Salehi et al. (2017) alpha weights the false
        positives, so to get the paper's loss swap the two values. Keras's default ``axis=None``
        pools the whole batch into one scalar: reproduce it with
        ``tversky_from_sums(overlap_sums(y, p).sum(axis=0), alpha=..., beta=...)``. PyTorch has no
        Tversky loss; optax's ``dice_loss`` adds ``smooth=1`` and applies a softmax to logits
        (see ``dice``).
    """
    sums = overlap_sums(y_true, y_pred, convention=convention)
    return tversky_from_sums(sums, alpha=alpha, beta=beta)


# --- optax: dice_loss, binary_dice_loss, multiclass_generalized_dice_loss --------------------------


def _optax_inputs(y_true, y_pred, convention: str) -> tuple[np.ndarray, np.ndarray]:
    check_convention(convention)
    p = np.asarray(y_pred)
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    t = np.asarray(y_true).astype(p.dtype, copy=False)
    if p.ndim == t.ndim - 1:
        p = p[..., None]
    if t.ndim == p.ndim - 1:
        t = t[..., None]
    if p.ndim < 2:
        p, t = p.reshape(-1, 1), t.reshape(-1, 1)
    if t.shape != p.shape:
        raise ShapeError(f"targets have shape {t.shape[1:]} per sample but predictions "
                         f"{p.shape[1:]}", hint="give one target per prediction (one-hot "
                         "targets for several classes)")
    return t, p


def _per_class_dice(t: np.ndarray, probs: np.ndarray, smooth: float, alpha: float,
                    beta: float) -> np.ndarray:
    """optax's per-class Dice loss ``(N, C)``: sums over the axes between the batch and the
    classes (none for (N, C) rows: each element is its own ratio)."""
    f = probs.dtype.type
    axes = tuple(range(1, probs.ndim - 1))
    inter = np.sum(probs * t, axis=axes)
    pred_sum = np.sum(probs, axis=axes)
    target_sum = np.sum(t, axis=axes)
    numerator = inter + f(smooth)
    denominator = (inter + f(alpha) * (pred_sum - inter) + f(beta) * (target_sum - inter)
                   + f(smooth))
    return f(1.0) - numerator / denominator


def _optax_probs(p: np.ndarray, from_logits: bool) -> np.ndarray:
    if not from_logits:
        sums = np.sum(p, axis=-1)
        if not np.allclose(sums, 1.0, rtol=1e-5):
            raise DataError(
                f"with {opt('from_logits', False)} the predictions must be probability "
                f"rows summing to 1 over the classes (sums from {np.min(sums):.6g} to "
                f"{np.max(sums):.6g})", hint=f"give logits with {opt('from_logits', True)} "
                "(optax applies the softmax), as optax's apply_softmax=False refuses them too")
        return p
    return sigmoid(p) if p.shape[-1] == 1 else softmax(p, axis=-1)


def dice_loss(y_true, y_pred, *, convention: str = "keras", from_logits: bool = True,
              smooth: float = 1.0, alpha: float = 0.5, beta: float = 0.5,
              ignore_background: bool = False) -> np.ndarray:
    """optax's soft Dice loss: one ratio per class (over the spatial axes), averaged over classes.

    Formula: with ``p = softmax(x)`` over the classes (``sigmoid`` for one channel) and, per
    sample and class c, ``I = sum p t``, ``P = sum p``, ``T = sum t`` over the spatial axes::

        dice_c = 1 - (I + smooth) / (I + alpha (P - I) + beta (T - I) + smooth)
        loss   = mean_c dice_c            (classes 1.. with ignore_background)

    Args:
        y_true: one-hot targets, (N, C) rows or (N, ..., C) maps (or (N, ...) binary maps).
        y_pred: logits of the same shape (probability rows with ``from_logits=False``).
        convention: accepted for uniformity; only optax has this loss.
        from_logits: apply the softmax/sigmoid first (optax ``apply_softmax``, default True).
        smooth: added to the numerator and the denominator (default 1).
        alpha: weight of the false positives ``P - I`` (default 0.5).
        beta: weight of the false negatives ``T - I`` (default 0.5).
        ignore_background: leave class 0 out of the mean (with more than one class).

    Returns:
        (N,) PER-SAMPLE values (optax's ``reduction="mean"`` over classes), in y_pred's dtype.

    Conventions:
        optax ``dice_loss(predictions, targets, smooth=1, alpha=0.5, beta=0.5,
        apply_softmax=True, reduction="mean", axis=None)``. Its default axis sums over every
        axis between the first and the last: on 2-D ``(N, C)`` rows there is none, so each
        element is its own ratio (``1 - (p t + 1) / (0.5 p + 0.5 t + 1)``) and the row's
        value is their mean; on ``[N, H, W, C]`` maps each class is summed over H and W. Here
        alpha weights the false POSITIVES (Keras's Tversky weights the false negatives with
        alpha). Keras ``Dice`` has no smoothing, no softmax and pools over its ``axis``.
        optax's ``class_weights`` (per-class factors) is not taken.
    """
    t, p = _optax_inputs(y_true, y_pred, convention)
    probs = _optax_probs(p, from_logits)
    d = _per_class_dice(t, probs, smooth, alpha, beta)
    if ignore_background and probs.shape[-1] > 1:
        d = d[..., 1:]
    return np.mean(d, axis=-1)


def binary_dice_loss(y_true, y_pred, *, convention: str = "keras", from_logits: bool = True,
                     smooth: float = 1.0) -> np.ndarray:
    """optax's binary Dice loss: one ratio per sample over all its elements, after a sigmoid.

    Formula: with ``p = sigmoid(x)``, ``I = sum p t``, ``P = sum p``, ``T = sum t`` over every
    element of the sample::

        loss = 1 - (I + smooth) / (I + 0.5 (P - I) + 0.5 (T - I) + smooth)

    Args:
        y_true: 0/1 masks, (N, C) rows or (N, ...) maps.
        y_pred: logits of the same shape (probabilities with ``from_logits=False``).
        convention: accepted for uniformity; only optax has this loss.
        from_logits: apply the sigmoid first (optax ``apply_sigmoid``, default True).
        smooth: added to the numerator and the denominator (default 1).

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype.

    Conventions:
        optax ``binary_dice_loss(predictions, targets, smooth=1, apply_sigmoid=True)`` adds a
        channel axis of 1 to ``[..., C]`` inputs, so the C columns of a row are summed as one
        mask. With ``apply_sigmoid=False`` optax's own check (rows summing to 1 over that one
        channel) refuses any probability below 1; lossctl computes the ratio of the
        probabilities as given instead.
    """
    check_convention(convention)
    p = np.asarray(y_pred)
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    t = np.asarray(y_true).astype(p.dtype, copy=False)
    if t.shape != p.shape:
        raise ShapeError(f"targets have shape {t.shape[1:]} per sample but predictions "
                         f"{p.shape[1:]}", hint="give one 0/1 target per prediction")
    n = p.shape[0]
    p, t = p.reshape(n, -1, 1), t.reshape(n, -1, 1)
    probs = sigmoid(p) if from_logits else p
    return _per_class_dice(t, probs, smooth, 0.5, 0.5)[:, 0]


def multiclass_generalized_dice_loss(y_true, y_pred, *, convention: str = "keras",
                                     from_logits: bool = True, smooth: float = 1.0,
                                     ignore_background: bool = False) -> np.ndarray:
    """optax's generalized Dice loss: per-class Dice weighted by inverse squared class
    frequencies OF THE WHOLE BATCH.

    Formula: with ``f_c`` the sum of the targets of class c over every sample and element,
    ``w_c = C (1 / (f_c^2 + 1e-7)) / sum_k 1 / (f_k^2 + 1e-7)`` and ``dice_c`` as in
    ``dice_loss``::

        per sample n:  mean_c w_c dice_{n,c};     value = mean over samples (and classes)

    Args:
        y_true: one-hot targets, (N, C) rows or (N, ..., C) maps.
        y_pred: logits of the same shape (probability rows with ``from_logits=False``).
        convention: accepted for uniformity; only optax has this loss.
        from_logits: apply the softmax (sigmoid for one class) first (default True).
        smooth: added to the numerator and the denominator (default 1).
        ignore_background: leave class 0 out (its weight still counts in the normalisation).

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype; their mean is optax's value.

    Conventions:
        optax ``multiclass_generalized_dice_loss(predictions, targets, smooth=1,
        apply_softmax=True)`` returns ONE number, ``jnp.mean`` of the weighted per-class
        losses of the batch: the weights depend on every sample, so the function needs the
        whole batch at once (Sudre et al. 2017). On 2-D rows each element is its own Dice
        ratio (optax sums over no spatial axis).
    """
    t, p = _optax_inputs(y_true, y_pred, convention)
    f = p.dtype.type
    freq = np.sum(t, axis=tuple(range(t.ndim - 1)))
    w = f(1.0) / (freq ** 2 + f(1e-7))
    w = w / np.sum(w) * f(w.shape[0])
    probs = _optax_probs(p, from_logits)
    d = _per_class_dice(t, probs, smooth, 0.5, 0.5) * w
    if ignore_background and probs.shape[-1] > 1:
        d = d[..., 1:]
    return np.mean(d, axis=-1)
