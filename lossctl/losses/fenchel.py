"""Fenchel-Young and margin losses of optax: sparsemax, perceptron and hinge, binary and
multiclass, exactly as optax 0.2.8 computes them (``optax/losses/_classification.py``).

The binary ones (``sparsemax_loss``, ``perceptron_loss``, ``optax_hinge_loss``) return
ELEMENTWISE ``(N, C)`` values, as optax returns one value per score; the multiclass ones take
class indices ``(N,)`` (int64, validated by the engine) and ``(N, C)`` scores and return
PER-SAMPLE ``(N,)`` values (optax's one value per example). No reduction over rows: the engine
does that (optax has none; ``mean`` is ``jnp.mean`` of optax's values).

Pure numpy, computed in the dtype of ``y_pred``.
"""
from __future__ import annotations

import numpy as np

from lossctl.losses._numerics import check_convention, prepare

__all__ = [
    "multiclass_hinge_loss",
    "multiclass_perceptron_loss",
    "multiclass_sparsemax_loss",
    "optax_hinge_loss",
    "perceptron_loss",
    "projection_simplex",
    "sparse_plus",
    "sparsemax_loss",
]


def sparse_plus(x: np.ndarray) -> np.ndarray:
    """``jax.nn.sparse_plus``: 0 for x <= -1, x for x >= 1, ``(x + 1)**2 / 4`` between."""
    x = np.asarray(x)
    f = x.dtype.type
    with np.errstate(over="ignore"):
        mid = (x + f(1.0)) ** 2 / f(4.0)
    return np.where(x <= -1.0, f(0.0), np.where(x >= 1.0, x, mid))


def sparsemax_loss(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Binary sparsemax loss (optax ``sparsemax_loss``), elementwise on logits.

    Formula: ``sparse_plus(-x)`` where the label is set, ``sparse_plus(x)`` where it is 0, with
    ``sparse_plus(z) = 0 (z <= -1), (z + 1)^2 / 4 (-1 < z < 1), z (z >= 1)``.

    Args:
        y_true: 0/1 labels, (N, C) float (any non-zero label counts as 1, as optax's
            ``jnp.where(labels, -logits, logits)`` does).
        y_pred: logits (scores), (N, C) float.
        convention: accepted for uniformity; only optax has this loss.

    Returns:
        (N, C) ELEMENTWISE values, in y_pred's dtype. Zero if and only if
        ``sparse_sigmoid(x) == y``.

    Conventions:
        optax ``sparsemax_loss(logits, labels)`` (Blondel et al. 2020, sec. 4.4), returned
        unreduced. A soft label such as 0.3 is treated as 1 (optax tests the label's truth, it
        does not interpolate). Keras and PyTorch have no such loss.
    """
    y_true, y_pred, _ = prepare(y_true, y_pred, convention)
    return sparse_plus(np.where(y_true != 0, -y_pred, y_pred))


def perceptron_loss(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Binary perceptron loss (optax ``perceptron_loss``), elementwise.

    Formula: ``max(0, -y_pred * y_true)``

    Args:
        y_true: ±1 labels, (N, C) float (NOT converted: a 0 label gives 0).
        y_pred: scores (decision values), (N, C) float.
        convention: accepted for uniformity; only optax has this loss.

    Returns:
        (N, C) ELEMENTWISE values, in y_pred's dtype.

    Conventions:
        optax ``perceptron_loss(predictor_outputs, targets)``: targets must be -1/+1; optax
        does not convert 0/1 labels (a 0 label always gives 0). Unreduced.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    return np.maximum(f(0.0), -y_pred * y_true) + f(0.0)


def optax_hinge_loss(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Binary hinge loss as optax computes it: elementwise, no label conversion.

    Formula: ``max(0, 1 - y_pred * y_true)``

    Args:
        y_true: ±1 labels, (N, C) float (NOT converted: a 0 label gives 1).
        y_pred: scores (decision values), (N, C) float.
        convention: accepted for uniformity; only optax's rule is used.

    Returns:
        (N, C) ELEMENTWISE values, in y_pred's dtype.

    Conventions:
        optax ``hinge_loss(predictor_outputs, targets)``, unreduced; targets must be -1/+1.
        Keras ``hinge`` has the same elementwise formula but converts 0/1 labels to -1/+1 when
        every label is 0 or 1 (lossctl ``hinge``); with ±1 labels the two agree. scikit-learn
        ``hinge_loss`` maps any two labels to -1/+1 and averages over samples.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    return np.maximum(f(0.0), f(1.0) - y_pred * y_true)


def _index_scores(y_true, y_pred, convention: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    check_convention(convention)
    s = np.asarray(y_pred)
    if not np.issubdtype(s.dtype, np.floating):
        s = s.astype(np.float64)
    idx = np.asarray(y_true).reshape(-1).astype(np.intp)
    return s, idx, s[np.arange(s.shape[0]), idx]


def multiclass_hinge_loss(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Multiclass (Crammer-Singer) hinge loss, as optax ``multiclass_hinge_loss``.

    Formula: ``max_c (s_c + 1 - [c == y]) - s_y`` = ``max(0, 1 + max_{c != y} s_c - s_y)``

    Args:
        y_true: class indices, (N,) int64 in [0, C).
        y_pred: scores, (N, C) float.
        convention: accepted for uniformity; only optax's rule is used.

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype.

    Conventions:
        optax ``multiclass_hinge_loss(scores, labels)``: ``max(scores + 1 - one_hot) -
        dot(scores, one_hot)``. This is scikit-learn's multiclass ``hinge_loss`` per sample,
        not Keras ``categorical_hinge`` (whose "neg" is a max over ``(1 - y) * s``, so it is at
        least 0 even when every wrong score is negative) nor PyTorch ``multi_margin_loss``
        (a sum over the wrong classes divided by C).
    """
    s, idx, s_y = _index_scores(y_true, y_pred, convention)
    f = s.dtype.type
    margin = s + f(1.0)
    margin[np.arange(s.shape[0]), idx] -= f(1.0)
    return np.max(margin, axis=-1) - s_y


def multiclass_perceptron_loss(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Multiclass perceptron loss, as optax ``multiclass_perceptron_loss``.

    Formula: ``max_c s_c - s_y``

    Args:
        y_true: class indices, (N,) int64 in [0, C).
        y_pred: scores, (N, C) float.
        convention: accepted for uniformity; only optax has this loss.

    Returns:
        (N,) PER-SAMPLE values (0 when the true class has the top score, ties included), in
        y_pred's dtype.

    Conventions:
        optax ``multiclass_perceptron_loss(scores, labels)`` (Collins 2002), unreduced: the
        Fenchel-Young loss of the argmax.
    """
    s, _, s_y = _index_scores(y_true, y_pred, convention)
    return np.max(s, axis=-1) - s_y


def projection_simplex(scores: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row onto the probability simplex (sparsemax).

    Formula (optax ``projection_simplex``, sort-based): ``u`` = the row sorted in decreasing
    order, ``k`` = the number of ``j`` with ``1/j + u_j - cumsum(u)_j / j > 0``, and
    ``p = max(0, 1/k + s - cumsum(u)_k / k)``; ties give the same ``k`` whatever their order.

    Args:
        scores: (N, C) float.

    Returns:
        (N, C) rows of non-negative values summing to 1, in the dtype of ``scores``.
    """
    s = np.asarray(scores)
    f = s.dtype.type
    n, c = s.shape
    u = -np.sort(-s, axis=-1)
    cumsum = np.cumsum(u, axis=-1)
    ind = np.arange(1, c + 1, dtype=s.dtype)
    cond = f(1.0) / ind + (u - cumsum / ind) > 0
    k = np.count_nonzero(cond, axis=-1)
    tau = cumsum[np.arange(n), k - 1] / k.astype(s.dtype)
    return np.maximum(f(1.0) / k.astype(s.dtype)[:, None] + (s - tau[:, None]), f(0.0))


def multiclass_sparsemax_loss(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Multiclass sparsemax loss, as optax ``multiclass_sparsemax_loss``.

    Formula: with ``p = sparsemax(s)`` (the projection of the scores onto the simplex) and
    ``d = s - s_y`` (``d_y = 0``)::

        loss = sum_{c: p_c > 0} p_c d_c + 0.5 (1 - sum_c p_c^2)

    Args:
        y_true: class indices, (N,) int64 in [0, C).
        y_pred: scores, (N, C) float.
        convention: accepted for uniformity; only optax has this loss.

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype: 0 exactly when sparsemax puts all its mass
        on the true class.

    Conventions:
        optax ``multiclass_sparsemax_loss(scores, labels)`` (Martins & Astudillo 2016): the
        Fenchel-Young loss of the Gini negentropy, ``dot(p, where(p, d, 0)) + 0.5 (1 -
        dot(p, p))``, unreduced. Ties between scores are handled as optax's sort-based
        projection does (the support size does not depend on the order of equal scores).
    """
    s, idx, s_y = _index_scores(y_true, y_pred, convention)
    f = s.dtype.type
    p = projection_simplex(s)
    d = s - s_y[:, None]
    d[np.arange(s.shape[0]), idx] = f(0.0)
    d = np.where(p != 0, d, f(0.0))
    return np.sum(p * d, axis=-1) + f(0.5) * (f(1.0) - np.sum(p * p, axis=-1))
