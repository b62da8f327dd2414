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

from lossctl.losses._numerics import prepare

__all__ = [
    "OVERLAP_COLUMNS",
    "dice",
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
