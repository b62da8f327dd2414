"""Ranking losses of optax (``optax/losses/_ranking.py``): one row per query (a list of items),
its relevance labels and the items' scores.

Pure numpy, computed in the dtype of ``y_pred``. The function returns one value per list and
which lists count in the mean (optax's ``_safe_reduce``); the engine reduces over lists.
"""
from __future__ import annotations

import numpy as np

from lossctl.errors import ShapeError, opt
from lossctl.losses._numerics import check_convention, log_softmax

__all__ = ["ranking_softmax_loss"]


def _as_lists(a: np.ndarray, n: int, name: str, shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(a).reshape(n, -1) if np.asarray(a).ndim != 2 else np.asarray(a)
    if a.shape != shape:
        raise ShapeError(f"{opt(name)} has {a.shape[1]} items per list but the scores have "
                         f"{shape[1]}", hint="give one value per item of each list",
                         option=name)
    return a


def ranking_softmax_loss(
    y_true,
    y_pred,
    *,
    convention: str = "keras",
    where=None,
    item_weights=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ranking softmax loss per list (query), as optax ``ranking_softmax_loss``.

    Formula, for one list of scores ``s`` and relevance labels ``y`` (items left out by
    ``where`` removed, labels multiplied by the item weights)::

        loss = -sum_i y_i log( exp(s_i) / sum_j exp(s_j) )

    Args:
        y_true: relevance labels, (N, L) float (one row per query; graded labels are used as
            they are, not normalised).
        y_pred: the items' scores, (N, L) float.
        convention: accepted for uniformity; only optax has this loss.
        where: optional (N, L) 0/1: the items that take part (optax's ``where``). A list with
            no item in it gives 0 and is left out of the mean.
        item_weights: optional (N, L) weights of the items (optax's ``weights``): they
            multiply the labels.

    Returns:
        ``(values, counted)``: (N,) PER-LIST losses in y_pred's dtype (0 for a list with no
        valid item) and (N,) bool, the lists the mean divides by.

    Conventions:
        optax ``ranking_softmax_loss(logits, labels, where=None, weights=None,
        reduce_fn=jnp.mean)``: masked items get the score -inf and the label 0, so they drop
        out of the softmax; the default ``reduce_fn=jnp.mean`` averages the lists' losses
        over the lists with at least one valid item (an all-masked list is 0 and not counted,
        ``_safe_reduce``), which is lossctl's ``mean``; ``reduce_fn=jnp.sum`` is ``sum`` and
        ``reduce_fn=None`` the per-list values (``reduction="none"``). On a single list optax
        returns one number, the value of a batch of one row.
    """
    check_convention(convention)
    s = np.asarray(y_pred)
    if not np.issubdtype(s.dtype, np.floating):
        s = s.astype(np.float64)
    n = s.shape[0]
    s = s.reshape(n, -1)
    f = s.dtype.type
    y = _as_lists(np.asarray(y_true).astype(s.dtype, copy=False), n, "y_true", s.shape)
    counted = np.ones(n, dtype=bool)
    if where is not None:
        mask = _as_lists(where, n, "where", s.shape) != 0
        y = np.where(mask, y, f(0.0))
        s = np.where(mask, s, f(-np.inf))
        counted = mask.any(axis=1)
    if item_weights is not None:
        y = y * _as_lists(item_weights, n, "item_weights", s.shape).astype(s.dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        terms = y * log_softmax(s, axis=-1)
        if where is not None:
            terms = np.where(mask, terms, f(0.0))
    values = -np.sum(terms, axis=-1) + f(0.0)
    return np.where(counted, values, f(0.0)), counted
