"""Categorical, sparse and PyTorch cross-entropy and their relatives: one value PER SAMPLE.

Each function is ``fn(y_true, y_pred, *, convention="keras", <options>)`` and returns the
``(N,)`` per-sample values. The engine has already validated and cast the inputs: ``y_pred`` is
``(N, C)`` float64 or float32 and every computation stays in that dtype; dense ``y_true`` is
``(N, C)`` float, index ``y_true`` is ``(N,)`` int64 in range. Nothing here reduces over rows,
applies sample weights or masks ignored rows: the engine does that, following the rules each
docstring states.

Conventions: ``"keras"`` (Keras 3.15), ``"torch"`` (PyTorch 2.13) and ``"optax"`` (treated as
``"keras"`` where it matters; optax-only losses ignore the convention).
"""
from __future__ import annotations

import numpy as np

from lossctl.errors import ShapeError, UsageError, opt
from lossctl.losses._numerics import (
    _row_max,
    check_convention,
    log_softmax,
    row_max,
    row_sum,
    softmax,
    xlogy_from_log,
)
from lossctl.losses._targets import (
    KERAS_EPSILON,
    _check_smoothing,
    _dense,
    _gather,
    _indices,
    _keras_clip,
    _one_hot,
    _per_class,
    _wmul,
)

#: Every function here reduces a row only through ``row_sum``, ``row_max`` and ``_gather``
#: (directly or through ``log_softmax``/``softmax``), whose bits do not depend on the memory
#: layout: the readers may hand these losses column-major blocks (:attr:`LossSpec.layout_free`;
#: tests/test_layout.py holds every such loss to it).
LAYOUT_FREE = True

__all__ = [
    "brier_score",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy",
    "cross_entropy",
    "nll",
    "poly1_cross_entropy",
    "sparse_categorical_crossentropy",
]


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
        p = p / row_sum(p, axis=-1, keepdims=True)  # a row of zeros gives NaN, as in Keras
    np.clip(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON, out=p)  # p is this function's own
    return np.log(p, out=p)


def _plain_log(p: np.ndarray) -> np.ndarray:
    """torch ``log(p)``: no renormalisation, no clip; ``log 0 = -inf`` without a warning."""
    with np.errstate(divide="ignore"):
        return np.log(p)


def _categorical_log_probs(y_pred: np.ndarray, from_logits: bool, conv: str) -> np.ndarray:
    if from_logits:
        return log_softmax(y_pred, axis=-1)
    if conv == "torch":
        return _plain_log(y_pred)
    return _keras_log_probs(y_pred)


def _log_softmax_at(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``log_softmax(x)[i, idx[i]]``, the same bits, without the other N * (C - 1) entries:
    ``(x_y - m) - log(sum(exp(x - m)))`` (see :func:`log_softmax`)."""
    m = _row_max(x, -1)  # (n, 1), as log_softmax shifts it
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        e = x - m
        lse = np.log(row_sum(np.exp(e, out=e)))
        return (_gather(x, idx) - m[:, 0]) - lse


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
        loss = -row_sum(terms, axis=-1) + 0.0  # + 0.0: a perfect row gives 0.0, not -0.0
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
        q = p / row_sum(p, axis=-1, keepdims=True)
    q = np.clip(q, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    a = _per_class(alpha, y_pred.shape[1], y_pred.dtype, "alpha")
    cce = -y * np.log(q)
    weighting = np.power(1.0 - q, gamma) * a
    return row_sum(weighting * cce, axis=-1)


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
        smooth = -row_sum(_wmul(w, log_p) if w is not None else log_p, axis=-1)
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

        keras:  q = clip(p) / sum(clip(p)), clip to [1e-7, 1 - 1e-7] (TensorFlow backend;
                keras-jax: q = clip(p / sum(p))), or softmax(x) with from_logits
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
        Keras 3 (``SparseCategoricalCrossentropy``) on its default TensorFlow backend clips the
        probabilities to [1e-7, 1 - 1e-7] FIRST and then renormalises them, through
        ``sparse_softmax_cross_entropy_with_logits(log clip(p))``: ``log(sum_c clip(p_c)) -
        log(clip(p_y))``. With many classes the clipped tail adds up (a 50,000-class softmax
        whose tail lies below 1e-7 raises every loss by about log(1 + 50,000e-7)), and an
        all-zero row gives log C. Its JAX, NumPy and PyTorch backends renormalise first and
        then clip, like ``categorical_crossentropy`` (``convention="keras-jax"``), and give NaN
        for an all-zero row. A ``sample_weight`` multiplies the per-sample loss and
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
        p = np.asarray(y_pred)
        if convention == "keras-jax":
            # JAX/NumPy/PyTorch backends: renormalise, clip, log -- the same operations as
            # _keras_log_probs applied to the one entry per row that is used (bit-identical).
            with np.errstate(invalid="ignore", divide="ignore"):
                p_y = _gather(p, idx) / row_sum(p, axis=-1)
            loss = -np.log(np.clip(p_y, KERAS_EPSILON, 1.0 - KERAS_EPSILON)) + 0.0
        else:
            # TensorFlow backend: clip, log, then sparse_softmax_cross_entropy_with_logits, whose
            # softmax renormalises the CLIPPED row: log(sum_c clip(p_c)) - log(clip(p_y)).
            q = _keras_clip(p)
            if q.dtype == np.float32:  # TF's own order of operations, for its float32 rounding
                logits = np.log(q)
                m = row_max(logits)
                loss = (np.log(row_sum(np.exp(logits - m[:, None]), axis=-1))
                        - (_gather(logits, idx) - m) + 0.0)
            else:  # the same value without N*C logs and exps (exact to float64 rounding)
                loss = np.log(row_sum(q, axis=-1)) - np.log(_gather(q, idx)) + 0.0
        return loss if w is None else _wmul(w[idx], loss)
    if from_logits and not ls:  # only the true class's log-softmax is needed
        loss = -_log_softmax_at(np.asarray(y_pred), idx) + 0.0
        return loss if w is None else _wmul(w[idx], loss)
    log_p = _categorical_log_probs(y_pred, from_logits, conv)
    if conv == "torch":
        return _sparse_torch(idx, log_p, ls, w)
    if ls:
        # Same numbers as categorical_crossentropy on the smoothed one-hot targets.
        y = _smooth_categorical(_one_hot(idx, c, y_pred.dtype), ls, "keras")
        loss = -row_sum(xlogy_from_log(y, log_p), axis=-1) + 0.0
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
            f"{opt('q')} must be strictly between 0 and 1, got {q}",
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
    one_minus_pt = row_sum(y * (1.0 - p), axis=-1)
    ce = -row_sum(xlogy_from_log(y, log_p), axis=-1)
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
    loss = row_sum(np.square(y - y_pred), axis=-1)
    if c == 2:
        loss = loss * 0.5
    return loss
