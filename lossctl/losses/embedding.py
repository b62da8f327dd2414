"""Losses of several inputs: Gaussian NLL, embedding, ranking, triplet and pair losses, exactly as
PyTorch, Keras 3 and optax compute them (unreduced: the engine weights and reduces).

Inputs by role: how a loss takes more than Y_TRUE and Y_PRED
-------------------------------------------------------------
**Declare** the roles in the loss's :class:`~lossctl.losses.spec.LossSpec`::

    inputs=("target", "input", "var"),        # names of Y_TRUE, Y_PRED, then further inputs
    optional_inputs=(),                       # further inputs that may be left out

Every name is a key of :data:`lossctl.losses.spec.ROLES`; a new one is one
:class:`~lossctl.losses.spec.Role` there (its help, and ``per_row`` / ``integer`` / ``scalar``).
The first two only name Y_TRUE and Y_PRED (``list`` and ``explain`` show them: "anchor",
"positive"). Each further one is an input option, generated from the registry: ``--var SOURCE``
on the command line (``cli/options.py``), ``var=`` in :func:`lossctl.evaluate` (a path,
``file.npz:key``, ``-`` for standard input, or an array). A required role left out is an error
("gaussian_nll needs var: give --var SOURCE"); a role given to a loss that does not list it is
one too.

**Reading.** A per-row role (``Role.per_row``, the default) is opened as the sample weights are:
streamed in blocks aligned with Y_TRUE/Y_PRED (row counts checked, errors naming the option and
the file), every column of it (an ``(N,)`` vector such as CTC's ``input_lengths`` is one
column). ``Role(per_row=False)`` is read whole, once (a weight matrix). ``Role(scalar=True)``
also takes one number (``--var 0.5``). Values must be finite numbers; ``Role(integer=True)``
ones are whole numbers, given as int64.

**The function** receives each further role as a keyword argument of its name: the block's rows
(float in the computation's dtype, int64 for integer roles; None for an optional role not
given)::

    def gaussian_nll(y_true, y_pred, *, convention="torch", var, full=False, eps=1e-6): ...

How Y_TRUE, Y_PRED and the per-row roles arrive depends on ``LossSpec.kind``:

- ``"elementwise"`` / ``"row"``: Y_TRUE and Y_PRED validated as rows ``(n, C)`` (the spec's
  ``target`` and ``prediction``), each role as 2-D rows ``(n, k)`` (a vector is ``(n, 1)``).
- ``"samples"``: the blocks as read, any rank (``(n, T, C)`` log-probabilities; a text column
  is ``(n, 1)``, a 1-D array ``(n,)``: reshape as needed), only checked to be numbers (Y_PRED
  finite; :func:`_rows2` below makes ``(n, k)``). The function validates its own labels
  (:class:`~lossctl.errors.DataError`) and returns ``(n,)`` per-sample values, or
  ``(values, counted)`` where ``counted`` (n,) bool marks the rows ``mean`` divides by, or
  ``(values, counted, counts)`` where ``counts`` (n,) is each row's share of the divisor
  (``LossSpec.mean_divisor="counts"``).
- ``"batch"``: as ``"samples"``, but the function gets all rows at once (pairs across the
  batch: Circle, NT-Xent); the pipeline gathers them within ``--memory-limit`` and refuses more
  with an error naming the limit.

Conventions: PyTorch's ``'mean'`` of an elementwise loss is over all elements, of a per-row loss
over the rows; Keras's is over the (unmasked) rows.
"""
from __future__ import annotations

import math

import numpy as np

from lossctl.errors import DataError, UsageError, opt
from lossctl.losses._numerics import check_convention, softplus

__all__ = [
    "circle",
    "cosine_embedding",
    "gaussian_nll",
    "linear_cross_entropy",
    "ntxent",
    "optax_triplet_margin",
    "triplet_margin",
    "triplet_margin_with_distance",
]

#: ATen's EPSILON in cosine_embedding_loss (added to each squared norm)
COSINE_EMBEDDING_EPS = 1e-12
#: torch.nn.functional.cosine_similarity's default eps (the lower clamp of each norm)
COSINE_SIMILARITY_EPS = 1e-8
#: elements of the (rows, N) temporaries of a whole-batch loss computed at once
PAIR_CHUNK = 1 << 17


def _float(a, dtype=None) -> np.ndarray:
    a = np.asarray(a)
    if dtype is not None:
        return a.astype(dtype, copy=False)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def _rows2(a) -> np.ndarray:
    """``(n,)`` or ``(n, k)`` (or ``(n, 1, ...)``) as ``(n, k)``."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a.reshape(1, 1)
    return a.reshape(a.shape[0], -1)


def _vector(a, role: str) -> np.ndarray:
    """One value per row: ``(n,)`` or ``(n, 1)`` as ``(n,)``."""
    a = np.asarray(a)
    if a.ndim == 2 and a.shape[1] == 1 or a.ndim == 1:
        return a.reshape(-1)
    raise DataError(f"{opt(role)} must hold one value per row, found shape {a.shape}",
                    hint="give one column")


def _same_shape(a: np.ndarray, b: np.ndarray, role: str, other: str) -> None:
    if a.shape != b.shape:
        raise DataError(f"{opt(role)} has shape {a.shape} but {opt(other)} has {b.shape}",
                        hint="every input must hold the same number of values per row",
                        option=role)


# --- Gaussian NLL ------------------------------------------------------------------------


def _broadcast_var(var: np.ndarray, x: np.ndarray) -> np.ndarray:
    """PyTorch's rules: same size (heteroscedastic), one dimension short, or one dimension of
    size 1 (homoscedastic); anything else is an error."""
    if var.ndim == 0:
        return np.broadcast_to(var, x.shape)
    if var.shape == x.shape:
        return var
    if var.shape == x.shape[:-1]:
        return var[..., None]
    if var.ndim == x.ndim and sum(v for d, v in zip(x.shape, var.shape) if d != v) == 1:
        return var
    raise DataError(f"{opt('var')} has {var.shape[-1] if var.ndim else 1} values per row for "
                    f"{x.shape[-1]} predictions: PyTorch's 'var is of incorrect size'",
                    hint="give one variance per prediction, or one per row", option="var")


def gaussian_nll(y_true, y_pred, *, convention: str = "torch", var=None, full: bool = False,
                 eps: float = 1e-6) -> np.ndarray:
    """PyTorch's Gaussian negative log-likelihood of targets under N(input, var).

    Formula: ``0.5 * (log(max(var, eps)) + (input - target)**2 / max(var, eps))``, plus
    ``0.5 * log(2 pi)`` with ``full``.

    Args:
        y_true: targets, (N, C) float.
        y_pred: the means (PyTorch's ``input``), (N, C) float.
        var: the variances: (N, C) (heteroscedastic), (N, 1) or (N,) (one per row,
            homoscedastic: broadcast over the row), or one number.
        full: add the constant ``0.5 log(2 pi)``.
        eps: the lower clamp of the variance (PyTorch clamps, it does not add).

    Returns:
        (N, C) ELEMENTWISE values, in y_pred's dtype.

    Conventions:
        PyTorch ``gaussian_nll_loss``/``GaussianNLLLoss``: a negative variance is an error
        ("var has negative entry/entries"); the variance is clamped at ``eps`` (``clamp_``, not
        ``var + eps``, despite the docs' "added to var"); ``'mean'`` averages over every
        element. Keras and optax have no such loss.
    """
    check_convention(convention)
    if var is None:
        raise UsageError(f"gaussian_nll needs var: give {opt('var')} SOURCE", option="var")
    x = _float(y_pred)
    f = x.dtype.type
    t = np.asarray(y_true, dtype=x.dtype)
    v = np.asarray(var, dtype=x.dtype)
    if np.any(v < 0):
        raise DataError(f"{opt('var')} has a negative entry: PyTorch's 'var has negative "
                        "entry/entries'", hint="variances must be 0 or more", option="var")
    v = np.maximum(_broadcast_var(v, x), f(eps))
    loss = f(0.5) * (np.log(v) + np.square(x - t) / v)
    if full:
        loss = loss + f(0.5 * math.log(2 * math.pi))
    return loss


# --- pairs ---------------------------------------------------------------------------------


def cosine_embedding(y_true, y_pred, *, convention: str = "torch", input2=None,
                     margin: float = 0.0) -> np.ndarray:
    """PyTorch's cosine embedding loss of pairs (input1, input2) labelled similar or not.

    Formula: ``cos = sum(x1 x2) / sqrt((sum(x1^2) + 1e-12) (sum(x2^2) + 1e-12))``; the loss is
    ``1 - cos`` where ``y = 1``, ``max(0, cos - margin)`` where ``y = -1``, 0 otherwise.

    Args:
        y_true: labels, (N,) or (N, 1): 1 or -1.
        y_pred: input1, (N, D) float.
        input2: (N, D) float.
        margin: default 0 (PyTorch suggests 0 to 0.5).

    Returns:
        (N,) PER-SAMPLE values.

    Conventions:
        PyTorch ``cosine_embedding_loss``/``CosineEmbeddingLoss`` (ATen): ``EPSILON = 1e-12`` is
        added to each squared norm (a zero vector has cos 0, so its loss is 1 for y = 1); a
        label other than +-1 gives 0. ``'mean'`` averages over the rows. Keras's
        ``cosine_similarity`` is ``-cos`` of one pair per row, with no label.
    """
    check_convention(convention)
    x1 = _rows2(_float(y_pred))
    x2 = _rows2(np.asarray(input2, dtype=x1.dtype))
    _same_shape(x2, x1, "input2", "y_pred")
    y = _vector(y_true, "y_true")
    f = x1.dtype.type
    prod = np.sum(x1 * x2, axis=1)
    m1 = np.sum(x1 * x1, axis=1) + f(COSINE_EMBEDDING_EPS)
    m2 = np.sum(x2 * x2, axis=1) + f(COSINE_EMBEDDING_EPS)
    cos = prod / np.sqrt(m1 * m2)
    pos = f(1.0) - cos
    neg = np.maximum(cos - f(margin), f(0.0))
    return np.where(y == 1, pos, f(0.0)) + np.where(y == -1, neg, f(0.0))


# --- triplets --------------------------------------------------------------------------------


def _norm(d: np.ndarray, p: float) -> np.ndarray:
    """``torch.norm(d, p, dim=-1)``: p = inf is the max, p = 0 counts the non-zeros."""
    a = np.abs(d)
    if math.isinf(p):
        return a.max(axis=-1)
    if p == 0:
        return np.count_nonzero(a, axis=-1).astype(d.dtype)
    if p == 1:
        return a.sum(axis=-1)
    if p == 2:
        return np.sqrt(np.sum(a * a, axis=-1))
    return np.power(np.sum(np.power(a, p), axis=-1), 1.0 / p)


def pairwise_distance(x1: np.ndarray, x2: np.ndarray, p: float = 2.0, eps: float = 1e-6
                      ) -> np.ndarray:
    """``torch.nn.functional.pairwise_distance``: ``||x1 - x2 + eps||_p`` over the last axis
    (eps is added to every component of the difference)."""
    return _norm(x1 - x2 + x1.dtype.type(eps), p)


def _cosine_distance(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """``1 - torch.nn.functional.cosine_similarity(x1, x2)`` (each norm clamped at 1e-8)."""
    f = x1.dtype.type
    n1 = np.sqrt(np.maximum(np.sum(x1 * x1, axis=-1), f(COSINE_SIMILARITY_EPS ** 2)))
    n2 = np.sqrt(np.maximum(np.sum(x2 * x2, axis=-1), f(COSINE_SIMILARITY_EPS ** 2)))
    return f(1.0) - np.sum((x1 / n1[:, None]) * (x2 / n2[:, None]), axis=-1)


def _triplet_inputs(y_true, y_pred, negative):
    a = _rows2(_float(y_pred))
    a = _rows2(_float(y_true, a.dtype))
    pos = _rows2(_float(y_pred, a.dtype))
    if negative is None:
        raise UsageError(f"a triplet loss needs negative: give {opt('negative')} SOURCE",
                         option="negative")
    neg = _rows2(_float(negative, a.dtype))
    _same_shape(pos, a, "y_pred", "y_true")
    _same_shape(neg, a, "negative", "y_true")
    return a, pos, neg


def _triplet(d_pos, d_neg, d_swap, margin, f):
    if d_swap is not None:
        d_neg = np.minimum(d_neg, d_swap)
    return np.maximum(f(margin) + d_pos - d_neg, f(0.0))


def triplet_margin(y_true, y_pred, *, convention: str = "torch", negative=None,
                   margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False
                   ) -> np.ndarray:
    """PyTorch's triplet margin loss of (anchor, positive, negative) embeddings.

    Formula: ``max(d(a, p) - d(a, n) + margin, 0)`` with ``d(x, y) = ||x - y + eps||_p``
    (``pairwise_distance``); with ``swap``, ``d(a, n)`` is ``min(d(a, n), d(p, n))``.

    Args:
        y_true: the anchors, (N, D) float.
        y_pred: the positives, (N, D) float.
        negative: the negatives, (N, D) float.
        margin: > 0, default 1.
        p: the norm's degree, default 2.
        eps: added to every component of each difference, default 1e-6.
        swap: the distance swap of Balntas et al. (2016).

    Returns:
        (N,) PER-SAMPLE values.

    Conventions:
        PyTorch ``triplet_margin_loss``/``TripletMarginLoss``: eps is added to the DIFFERENCE
        before the norm (so identical embeddings are at distance ``eps * D**(1/p)``, not 0);
        ``'mean'`` averages over the rows. optax ``triplet_margin_loss`` adds eps to the sum of
        powers instead, and takes no absolute value (see ``optax_triplet_margin``).
    """
    check_convention(convention)
    a, pos, neg = _triplet_inputs(y_true, y_pred, negative)
    f = a.dtype.type
    swap_d = pairwise_distance(pos, neg, p, eps) if swap else None
    return _triplet(pairwise_distance(a, pos, p, eps), pairwise_distance(a, neg, p, eps), swap_d,
                    margin, f)


def triplet_margin_with_distance(y_true, y_pred, *, convention: str = "torch", negative=None,
                                 margin: float = 1.0, swap: bool = False,
                                 distance: str = "l2") -> np.ndarray:
    """PyTorch's triplet margin loss with a distance function.

    Formula: ``max(d(a, p) - d(a, n) + margin, 0)``; ``distance="l2"`` is PyTorch's default
    ``pairwise_distance`` (``||x - y + 1e-6||_2``), ``"cosine"`` is ``1 - cosine_similarity``.

    Args:
        y_true: the anchors, (N, D) float.
        y_pred: the positives, (N, D) float.
        negative: the negatives, (N, D) float.
        margin: > 0, default 1.
        swap: use ``min(d(a, n), d(p, n))``.
        distance: "l2" or "cosine" (a Python callable cannot cross a command line).

    Returns:
        (N,) PER-SAMPLE values.

    Conventions:
        PyTorch ``triplet_margin_with_distance_loss``/``TripletMarginWithDistanceLoss``
        (``distance_function=None`` is ``pairwise_distance`` with p=2, eps=1e-6;
        ``cosine_similarity`` clamps each norm at eps=1e-8). ``'mean'`` averages over the rows.
    """
    check_convention(convention)
    a, pos, neg = _triplet_inputs(y_true, y_pred, negative)
    d = pairwise_distance if distance == "l2" else _cosine_distance
    return _triplet(d(a, pos), d(a, neg), d(pos, neg) if swap else None, margin, a.dtype.type)


def optax_triplet_margin(y_true, y_pred, *, convention: str = "keras", negative=None,
                         margin: float = 1.0, p: float = 2.0, eps: float = 1e-6) -> np.ndarray:
    """optax's triplet margin loss (``optax.losses.triplet_margin_loss``).

    Formula: ``max(d(a, p) - d(a, n) + margin, 0)`` with
    ``d(x, y) = (sum((x - y)**p) + eps)**(1/p)``.

    Args:
        y_true: the anchors, (N, D) float.
        y_pred: the positives, (N, D) float.
        negative: the negatives, (N, D) float.
        margin: default 1 (optax accepts any margin).
        p: optax's ``norm_degree``, default 2.
        eps: added to the sum of powers, default 1e-6.

    Returns:
        (N,) PER-SAMPLE values (optax returns them unreduced).

    Conventions:
        optax ``triplet_margin_loss(anchors, positives, negatives, norm_degree, margin, eps)``
        computes ``jnp.power(jnp.power(a - b, norm_degree).sum(axis) + eps, 1 / norm_degree)``:
        eps is added to the SUM of powers (PyTorch adds it to each component of the
        difference), and the differences are raised to the power as they are, with no absolute
        value, so an odd degree sums signed differences (p=1: ``sum(a - b) + eps``) and a
        fractional one of a negative difference gives NaN. With p=2 and identical embeddings
        the distance is ``sqrt(eps)`` = 1e-3 (PyTorch: ``1e-6 sqrt(D)``). No swap.
    """
    check_convention(convention)
    a, pos, neg = _triplet_inputs(y_true, y_pred, negative)
    f = a.dtype.type

    def d(x, y):
        with np.errstate(invalid="ignore"):
            return np.power(np.sum(np.power(x - y, f(p)), axis=-1) + f(eps), f(1.0 / p))

    return np.maximum(d(a, pos) - d(a, neg) + f(margin), f(0.0))


# --- linear layer + cross-entropy ------------------------------------------------------------


def linear_cross_entropy(y_true, y_pred, *, convention: str = "torch", **kwargs) -> np.ndarray:
    """PyTorch's linear_cross_entropy: ``cross_entropy(linear(input, W, b), target)``.

    Formula: ``logits = input @ W.T + b``; then ``cross_entropy`` (log_softmax, index or
    probability targets, class weights, ignore_index, label smoothing).

    Args:
        y_true: class indices (N,) or probability rows (N, C).
        y_pred: the LOGITS ``input @ linear_weight.T + linear_bias``, (N, C): the engine
            projects the hidden states (N, D) with the ``linear_weight`` (C, D) and
            ``linear_bias`` (C,) roles before validating (``LossSpec.projection``).
        **kwargs: those of ``categorical.cross_entropy``.

    Returns:
        (N,) PER-SAMPLE values.

    Conventions:
        PyTorch 2.13 ``linear_cross_entropy(input, linear_weight, target, *, linear_bias=None,
        weight=None, reduction='mean', ignore_index=None, label_smoothing=0.0, options=None)``
        and ``LinearCrossEntropyLoss``: ``ignore_index=None`` means -100 for index targets and
        is refused with probability targets; the chunked path (``options``) computes the same
        values in chunks of the batch. Only ``linear_weight`` of shape (C, D) (not the
        K-dimensional (C, d1, ..., D)).
    """
    from lossctl.losses.categorical import cross_entropy

    return cross_entropy(y_true, y_pred, convention=convention, **kwargs)


def project(hidden: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``hidden @ weight.T + bias``: PyTorch's ``linear``, in hidden's dtype."""
    w = np.asarray(weight, dtype=hidden.dtype)
    if w.ndim == 1:
        w = w.reshape(1, -1)
    if w.ndim != 2:
        raise DataError(f"{opt('linear_weight')} must be a matrix [C, D], found shape {w.shape}",
                        option="linear_weight")
    if w.shape[1] != hidden.shape[1]:
        raise DataError(f"{opt('linear_weight')} has {w.shape[1]} columns (in_features) but "
                        f"{opt('y_pred')} has {hidden.shape[1]}: PyTorch's 'expected equal input "
                        "and linear_weight last dimensions'", hint="give the weight as [C, D], "
                        "one row per class", option="linear_weight")
    out = hidden @ w.T
    if bias is not None:
        b = np.asarray(bias, dtype=hidden.dtype).reshape(-1)
        if b.shape[0] != w.shape[0]:
            raise DataError(f"{opt('linear_bias')} has {b.shape[0]} values for {w.shape[0]} "
                            "classes (rows of the weight)", option="linear_bias")
        out = out + b
    return out


# --- whole-batch pair losses ----------------------------------------------------------------


def _labels(y_true, n: int) -> np.ndarray:
    """Integer labels, one per row (Keras casts them to int32; lossctl refuses fractions)."""
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == 1 or y.ndim == 0:
        y = y.reshape(-1)
    if y.ndim != 1 or y.shape[0] != n:
        raise DataError(f"{opt('y_true')} must hold one integer label per row, found shape "
                        f"{y.shape} for {n} embeddings", hint="give one column of labels")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"label {y[i]!r} in row {i} is not a whole number",
                            hint="equal integer labels mark the positive pairs")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iub":
        raise DataError(f"{opt('y_true')} must hold integer labels, found {y.dtype.kind!r} "
                        "values", hint="map each class to a number first (`lossctl sparse`)")
    return y.astype(np.int64)


def _logsumexp(z: np.ndarray) -> np.ndarray:
    """Over the last axis, summed in sorted order (a row's value does not depend on the order
    of the batch); -inf for a row of -inf only."""
    m = np.max(z, axis=1)
    safe = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return np.log(np.sum(np.sort(np.exp(z - safe[:, None]), axis=1), axis=1)) + safe


def _dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b.T``, each entry summed alike wherever its rows sit (a permutation of the batch
    permutes the values exactly)."""
    return np.sum(a[:, None, :] * b[None, :, :], axis=2)


def _chunks(n: int, d: int = 1):
    step = max(1, PAIR_CHUNK // max(n * d, 1))
    for s in range(0, n, step):
        e = min(n, s + step)
        yield s, e, np.arange(e - s), np.arange(s, e)


def circle(y_true, y_pred, *, convention: str = "keras", gamma: float = 80.0,
           margin: float = 0.4, remove_diagonal: bool = True):
    """Keras's Circle loss of integer labels and L2-normalised embeddings (pairs in the batch).

    Formula: with ``d_ij = max(1 - e_i . e_j, 0)``, positives P(i) (same label, j != i with
    ``remove_diagonal``) and negatives N(i) (other labels)::

        a_p = max(margin + d_ij, 0),        a_n = max(1 + margin - d_ij, 0)
        l_i = softplus(logsumexp_{P(i)} (-gamma a_p (margin - d_ij))
                       + logsumexp_{N(i)} (gamma a_n (1 - margin - d_ij)))

    Args:
        y_true: integer labels, (N,) or (N, 1).
        y_pred: the embeddings, (N, D), L2-normalised (Keras does not normalise them).
        gamma: the scale, default 80. margin: the relaxation, default 0.4.
        remove_diagonal: leave each sample out of its own positives (default True).

    Returns:
        ``(values, counted)``: (N,) PER-SAMPLE values and the rows Keras's mask keeps
        (``loss > 0``): ``mean`` divides by those rows only.

    Conventions:
        Keras 3 ``Circle``/``circle`` (``ref_labels``/``ref_embeddings`` default to the batch
        itself): every row is compared with every row of the BATCH, so the per-sample value
        depends on the whole batch (lossctl computes over all rows at once, within
        ``memory_limit``). ``set_keras_mask(loss, loss > 0)`` makes ``sum_over_batch_size``
        divide by the rows with a positive loss (a row with no positive pair has loss 0 and is
        left out). PyTorch and optax have no Circle loss.
    """
    check_convention(convention)
    x = _rows2(_float(y_pred))
    f = x.dtype.type
    n = x.shape[0]
    labels = _labels(y_true, n)
    out = np.empty(n, dtype=x.dtype)
    g, mg = f(gamma), f(margin)
    for s, e, local, rows in _chunks(n, x.shape[1]):
        dist = np.maximum(f(1.0) - _dots(x[s:e], x), f(0.0))
        pos = labels[s:e, None] == labels[None, :]
        neg = ~pos
        if remove_diagonal:
            pos[local, rows] = False
        pos_w = np.maximum((mg + dist) * pos, f(0.0))
        neg_w = np.maximum((f(1 + margin) - dist) * neg, f(0.0))
        pos_wd = -g * pos_w * (mg - dist)
        neg_wd = g * neg_w * (f(1 - margin) - dist)
        p_loss = _logsumexp(np.where(pos, pos_wd, f(-np.inf)))
        n_loss = _logsumexp(np.where(neg, neg_wd, f(-np.inf)))
        with np.errstate(invalid="ignore"):
            out[s:e] = softplus(p_loss + n_loss)
    return out, out > 0


def ntxent(y_true, y_pred, *, convention: str = "keras", temperature: float = 0.07):
    """optax's NT-Xent (normalised temperature-scaled cross-entropy) contrastive loss.

    Formula: ``s_ij = cos(e_i, e_j) / temperature``; for each positive pair (i, j) (same label,
    j != i), ``-log(exp(s_ij) / (exp(s_ij) + sum_{k in N(i)} exp(s_ik)))`` over the negatives
    N(i) of i; the loss is the mean over all positive pairs.

    Args:
        y_true: integer labels, (N,) or (N, 1): equal labels are positive pairs.
        y_pred: the embeddings, (N, D) (normalised here: each squared norm clipped at the
            dtype's machine epsilon).
        temperature: default 0.07.

    Returns:
        ``(values, counted, counts)``: l_i, the sum over row i's positive pairs (N,), every row
        counted, and the number of row i's positive pairs: ``mean`` = sum(l) / sum(counts),
        optax's value.

    Conventions:
        optax ``ntxent(embeddings, labels, temperature=0.07)`` returns only that mean (a
        scalar); lossctl's per-sample value is each anchor's share of the numerator, so
        ``sum`` adds them and ``mean`` divides by the number of positive pairs (not of rows);
        no positive pair gives NaN (0/0), as optax. The denominator of each pair holds that
        positive and the anchor's NEGATIVES only (not its other positives). Keras and PyTorch
        have no such loss.
    """
    check_convention(convention)
    x = _rows2(_float(y_pred))
    f = x.dtype.type
    n = x.shape[0]
    labels = _labels(y_true, n)
    norm = np.sqrt(np.maximum(np.sum(x * x, axis=1), np.finfo(x.dtype).eps))
    u = x / norm[:, None]
    per = np.zeros(n, dtype=x.dtype)
    counts = np.zeros(n, dtype=np.float64)
    for s, e, local, rows in _chunks(n, x.shape[1]):
        xcs = _dots(u[s:e], u) / f(temperature)
        match = labels[s:e, None] == labels[None, :]
        lse_neg = _logsumexp(np.where(match, f(-np.inf), xcs))
        match[local, rows] = False
        with np.errstate(invalid="ignore", over="ignore"):
            term = softplus(lse_neg[:, None] - xcs)
        per[s:e] = np.sum(np.sort(np.where(match, term, f(0.0)), axis=1), axis=1)
        counts[s:e] = match.sum(axis=1)
    return per, np.ones(n, dtype=bool), counts
