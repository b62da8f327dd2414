"""Divergence and similarity losses: Kullback-Leibler divergence and cosine similarity.

Same contract as :mod:`lossctl.losses.classification`: pure numpy, computed in the dtype of
``y_pred``, both functions return PER-SAMPLE values ``(N,)`` (a sum over the class axis), and
reduction over rows is the engine's job.
"""
from __future__ import annotations

import numpy as np

from lossctl.errors import ShapeError
from lossctl.losses._numerics import check_convention, xlogy

__all__ = [
    "KERAS_EPSILON",
    "cosine_distance",
    "cosine_similarity",
    "generalized_kl_divergence",
    "kl_divergence",
    "optax_cosine_similarity",
    "optax_kl_divergence",
]

#: ``keras.backend.epsilon()``.
KERAS_EPSILON = 1e-7

#: What each function returns: ``"row"`` = (N,).





def _same_shape(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    y_true = np.asarray(y_true)
    if y_true.shape != y_pred.shape:
        raise ShapeError(
            f"targets have shape {y_true.shape} but predictions have shape {y_pred.shape}",
            hint="both need one column per class",
        )
    return y_true.astype(y_pred.dtype, copy=False)


def kl_divergence(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    log_input: bool = False,
    log_target: bool = False,
) -> np.ndarray:
    """Kullback-Leibler divergence ``KL(y_true || y_pred)`` per sample.

    Formula (``t`` the target distribution, ``q`` the predicted one)::

        keras:  t = clip(t, 1e-7, 1),  q = clip(q, 1e-7, 1);   loss = sum_c t_c log(t_c / q_c)
        torch:  loss = sum_c t_c (log t_c - log q_c),   with t_c = 0 contributing 0
                log_target:  loss = sum_c exp(lt_c) (lt_c - log q_c)

    Args:
        y_true: (N, C) target probabilities (log-probabilities with ``log_target``).
        y_pred: (N, C) predicted probabilities, or LOG-probabilities with ``log_input``
            (PyTorch's ``kl_div(input, target)`` takes log-probabilities; its names set this).
        convention: ``"keras"`` (default) or ``"torch"``. ``"optax"`` is treated as keras
            like everywhere else; optax's own ``kl_divergence(log q, t)`` has the unclipped
            torch formula, so use ``"torch"`` to reproduce it.
        log_input: ``y_pred`` holds ``log q``.
        log_target: ``y_true`` holds ``log t`` (``kl_div(log_target=True)``,
            ``optax.kl_divergence_with_log_targets``).

    Returns:
        (N,) PER-SAMPLE divergences (row sums) in the dtype of ``y_pred``.

    Conventions:
        Keras 3 (``KLDivergence``): BOTH inputs are clipped to [1e-7, 1]: a zero target adds
        ``1e-7 log(1e-7 / q)`` (about -1.4e-6, so ``t = [0,0,0,1], q = [.1,.1,.1,.7]`` gives
        0.3566708 instead of ``-log 0.7 = 0.3566749``), a zero prediction costs
        ``t log(t / 1e-7)`` instead of inf (2.748484 for ``t=[.2,.3,.5], q=[0,.5,.5]``), and
        targets above 1 are cut to 1 (``t=[2,0], q=[.5,.5]`` gives 0.693146, true 2.772589).
        ``reduction="sum_over_batch_size"`` averages the (sample-weighted) row sums over N
        (= torch 'batchmean' without weights). Log inputs are exponentiated before the Keras
        clip.

        PyTorch ``kl_div(input, target, log_target=False)``: ``input`` is ``log q``; the
        pointwise value is ``xlogy(t, t) - t * input`` with no clipping (a zero prediction
        under a positive target gives inf). ``reduction='none'`` is the ELEMENTWISE matrix,
        whose row sums are returned here; ``'mean'`` divides the total by N*C (the number of
        elements, with a warning in 2.13: multiply lossctl's per-sample mean by 1/C), and
        ``'batchmean'`` divides by N (the mathematical KL); ``'sum'`` adds everything; there
        are no sample weights. lossctl returns 0 for a zero target even when
        ``log q = -inf`` (torch gives NaN from ``0 * -inf`` there).
        optax ``kl_divergence(log_predictions, targets)``: the torch formula, per example.
    """
    conv = check_convention(convention)
    t = _same_shape(y_true, y_pred)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if conv == "keras":
            t = np.exp(t) if log_target else t
            q = np.exp(y_pred) if log_input else y_pred
            t = np.clip(t, KERAS_EPSILON, 1.0)
            q = np.clip(q, KERAS_EPSILON, 1.0)
            return np.sum(t * np.log(t / q), axis=-1) + 0.0
        log_q = y_pred if log_input else np.log(y_pred)
        if log_target:
            p = np.exp(t)
            terms = p * (t - log_q)
            terms = np.where(p == 0, np.zeros_like(terms), terms)
        else:
            terms = xlogy(t, t) - t * log_q
            terms = np.where(t == 0, np.zeros_like(terms), terms)
        return np.sum(terms, axis=-1) + 0.0


def _keras_l2_normalize(x: np.ndarray) -> np.ndarray:
    """keras.ops.normalize(x, order=2): ``x * min(rsqrt(sum x^2), 1/eps)``, eps = 1e-7."""
    with np.errstate(over="ignore"):
        s = np.sum(np.square(x), axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        inv = 1.0 / np.sqrt(s)
    inv = np.minimum(inv, 1.0 / KERAS_EPSILON)
    out = x * inv
    # Rows whose sum of squares overflowed (|x| > ~1e154 in float64, ~1e19 in float32) would
    # be normalised to 0 by the formula above; rescale them first so they get their true
    # direction (their norm is far above eps, so the Keras epsilon plays no role there).
    bad = np.isinf(s[:, 0]) & np.all(np.isfinite(x), axis=-1)
    if np.any(bad):
        xb = x[bad]
        scale = np.max(np.abs(xb), axis=-1, keepdims=True)
        xs = xb / scale
        out[bad] = xs / np.sqrt(np.sum(np.square(xs), axis=-1, keepdims=True))
    return out


def cosine_similarity(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
) -> np.ndarray:
    """Negative cosine similarity per sample (Keras 3 ``CosineSimilarity``).

    Formula::

        l2n(v) = v / max(||v||, 1e-7)          (keras.ops.normalize: v * min(rsqrt(sum v^2), 1e7))
        loss   = -sum_c l2n(y_true)_c * l2n(y_pred)_c

    Args:
        y_true: (N, C) float target vectors.
        y_pred: (N, C) float predicted vectors.
        convention: accepted for uniformity; every convention gives the Keras sign.

    Returns:
        (N,) PER-SAMPLE values in [-1, 1] in the dtype of ``y_pred``: -1 means the same
        direction, 0 orthogonal (or a zero vector), +1 opposite.

    Conventions:
        Keras 3: the loss is ``-cos``, so minimising it maximises similarity; a vector of
        norm below 1e-7 (including zero) is scaled by 1e7 rather than normalised, so a zero
        vector gives 0 (Keras 3.15 clips ``rsqrt(sum v^2)`` at ``1/epsilon``; tf.keras 2 used
        ``tf.linalg.l2_normalize`` with 1e-12 on the squared norm, i.e. the same 1e-6 norm
        floor of 1e-6 instead of 1e-7). Reductions: a ``sample_weight`` multiplies the
        per-sample value and ``sum_over_batch_size`` divides the weighted sum by N.

        PyTorch has no such loss: ``cosine_embedding_loss(y=1)`` is ``1 - cos`` (0 for
        identical, 1 for a zero vector) and ``F.cosine_similarity`` is ``+cos`` with eps 1e-8
        on the norms. optax ``cosine_similarity`` is ``+cos`` and ``cosine_distance`` is
        ``1 - cos``. Add 1 to lossctl's value to get ``1 - cos``.
    """
    check_convention(convention)
    t = _same_shape(y_true, y_pred)
    # "+ 0.0" turns the -0.0 of orthogonal vectors into 0.0 (Keras prints -0.).
    return -np.sum(_keras_l2_normalize(t) * _keras_l2_normalize(y_pred), axis=-1) + 0.0


# --- optax: KL of log-predictions, generalized KL, cosine with epsilon ------------------------------


def optax_kl_divergence(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    log_input: bool = True,
    log_target: bool = False,
) -> np.ndarray:
    """Kullback-Leibler divergence ``KL(y_true || y_pred)`` per example, as optax computes it.

    Formula (``lq`` the log-predictions, ``t`` the targets)::

        kl_divergence:                   sum_c t_c (where(t_c == 0, 0, log t_c) - lq_c)
        kl_divergence_with_log_targets:  sum_c exp(lt_c) (lt_c - lq_c)

    Args:
        y_true: (N, C) target probabilities (log-probabilities with ``log_target``).
        y_pred: (N, C) LOG-probabilities (optax's ``log_predictions``); probabilities with
            ``log_input=False`` (their log is taken first).
        convention: accepted for uniformity; only optax's rule is used.
        log_input: ``y_pred`` holds ``log q`` (default True, as optax takes it).
        log_target: ``y_true`` holds ``log t`` (``optax.kl_divergence_with_log_targets``).

    Returns:
        (N,) PER-SAMPLE divergences (row sums over the last axis) in the dtype of ``y_pred``.

    Conventions:
        optax ``kl_divergence(log_predictions, targets)``: predictions FIRST and in log space,
        no clipping, one value per example (no reduction: ``mean`` is ``jnp.mean`` of them,
        the mean over rows, where PyTorch ``kl_div``'s 'mean' divides by N*C). A zero target
        contributes 0 (but ``0 * (0 - (-inf))`` is NaN, as in optax; with ``log_input=False`` a
        zero prediction under a zero target adds 0, where ``optax.kl_divergence(jnp.log(q),
        t)`` would give NaN). Keras ``KLDivergence``
        clips both inputs to [1e-7, 1] instead (lossctl ``kl_divergence``).
        ``kl_divergence_with_log_targets(log_predictions, log_targets)`` is
        ``exp(lt) (lt - lq)``, with no special case for ``lt = -inf``.
    """
    check_convention(convention)
    t = _same_shape(y_true, y_pred)
    f = y_pred.dtype.type
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lq = y_pred if log_input else np.log(y_pred)
        if log_target:
            terms = np.exp(t) * (t - lq)
        else:
            log_t = np.log(np.where(t == 0, f(1.0), t))
            terms = t * (np.where(t == 0, f(0.0), log_t) - lq)
            if not log_input:  # log(0) of a prediction under a zero target: 0 log 0 = 0
                terms = np.where(t == 0, f(0.0), terms)
    return np.sum(terms, axis=-1) + f(0.0)


def generalized_kl_divergence(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    log_input: bool = True,
) -> np.ndarray:
    """Generalized Kullback-Leibler divergence of unnormalised measures, as optax computes it.

    Formula (``lq`` the log-predictions, ``t`` the non-negative targets)::

        sum_c t_c (where(t_c == 0, 0, log t_c) - lq_c)  +  sum_c (exp(lq_c) - t_c)

    Args:
        y_true: (N, C) non-negative targets (any total, not only distributions).
        y_pred: (N, C) LOG-predictions (optax's ``log_predictions``, any real number); the
            positive predictions themselves with ``log_input=False``.
        convention: accepted for uniformity; only optax has this loss.
        log_input: ``y_pred`` holds ``log q`` (default True, as optax takes it).

    Returns:
        (N,) PER-SAMPLE values (the Bregman divergence of ``x log x - x``, 0 when q = t) in
        the dtype of ``y_pred``.

    Conventions:
        optax ``generalized_kl_divergence(log_predictions, targets)`` = ``kl_divergence +
        sum(exp(log_predictions) - targets)``, per example, unreduced; its deprecated name
        ``convex_kl_divergence`` is the same function. For distributions (both rows summing
        to 1) it equals the KL divergence. ``exp`` overflows to inf for log-predictions above
        ~709.8 (float64): the loss really is that large.
    """
    check_convention(convention)
    t = _same_shape(y_true, y_pred)
    f = y_pred.dtype.type
    kl = optax_kl_divergence(t, y_pred, log_input=log_input)
    with np.errstate(over="ignore", divide="ignore"):
        q = np.exp(y_pred) if log_input else y_pred
        return kl + np.sum(q - t, axis=-1) + f(0.0)


def optax_cosine_similarity(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    epsilon: float = 0.0,
) -> np.ndarray:
    """Cosine similarity ``+cos`` per sample, as optax ``cosine_similarity`` computes it.

    Formula::

        n(v) = sqrt(max(sum_c v_c^2, epsilon));   cos = sum_c (p_c / n(p)) (t_c / n(t))

    Args:
        y_true: (N, C) target vectors.
        y_pred: (N, C) predicted vectors.
        convention: accepted for uniformity; only optax's rule is used.
        epsilon: lower clip of each SQUARED norm (optax's ``epsilon``, default 0).

    Returns:
        (N,) PER-SAMPLE values in [-1, 1] in the dtype of ``y_pred``: +1 means the same
        direction. A zero vector gives NaN with ``epsilon=0`` (0/0, as in optax) and 0 with a
        positive epsilon.

    Conventions:
        optax ``cosine_similarity(predictions, targets, epsilon=0.0)`` returns ``+cos`` (a
        similarity, to maximise). Keras ``CosineSimilarity`` (lossctl ``cosine_similarity``)
        returns ``-cos`` and gives 0 for a zero vector (norm floor 1e-7): the same name, the
        opposite sign, so this meaning is reached as ``optax.cosine_similarity``.
    """
    check_convention(convention)
    t = _same_shape(y_true, y_pred)
    f = y_pred.dtype.type
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p_norm = np.sqrt(np.maximum(np.sum(np.square(y_pred), axis=-1, keepdims=True), f(epsilon)))
        t_norm = np.sqrt(np.maximum(np.sum(np.square(t), axis=-1, keepdims=True), f(epsilon)))
        return np.sum((y_pred / p_norm) * (t / t_norm), axis=-1) + f(0.0)


def cosine_distance(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    convention: str = "keras",
    epsilon: float = 0.0,
) -> np.ndarray:
    """Cosine distance ``1 - cos`` per sample, as optax ``cosine_distance`` computes it.

    Formula: ``1 - sum_c (p_c / n(p)) (t_c / n(t))`` with ``n(v) = sqrt(max(sum v^2, epsilon))``.

    Args:
        y_true: (N, C) target vectors.
        y_pred: (N, C) predicted vectors.
        convention: accepted for uniformity; only optax's rule is used.
        epsilon: lower clip of each SQUARED norm (optax's ``epsilon``, default 0).

    Returns:
        (N,) PER-SAMPLE values in [0, 2] in the dtype of ``y_pred``: 0 for the same direction.
        A zero vector gives NaN with ``epsilon=0`` (as in optax) and 1 with a positive epsilon.

    Conventions:
        optax ``cosine_distance(predictions, targets, epsilon=0.0)`` = ``1 -
        cosine_similarity``. PyTorch ``cosine_embedding_loss`` with y = 1 is also ``1 - cos``
        but floors the squared norms at 1e-12 (a zero vector gives 1). Keras's
        ``CosineSimilarity`` is ``-cos``: add 1 to it to get this.
    """
    f = np.asarray(y_pred).dtype.type
    return f(1.0) - optax_cosine_similarity(y_true, y_pred, convention=convention,
                                            epsilon=epsilon)
