"""Regression losses: unreduced values, exactly as Keras 3, PyTorch, optax and scikit-learn compute them.

Every function takes ``(y_true, y_pred)`` as 2-D ``(N, C)`` float arrays (the engine has already
validated and cast them) and returns the ELEMENTWISE ``(N, C)`` values in the dtype of ``y_pred``:
float64 stays float64 and float32 stays float32, so ``--dtype float32`` reproduces Keras's float32
rounding. Nothing here reduces over rows or applies sample weights; the engine does that (Keras:
per-sample value = mean over the class axis, then the batch reduction; PyTorch ``'mean'`` = mean over
all N*C elements, which is the same number when every row has C columns).

Constants are converted to the input dtype before use (``dtype.type(1e-7)``), never left as numpy
float64 scalars, which would silently promote float32 arrays to float64 under numpy 2.
"""
from __future__ import annotations

import math

import numpy as np

from lossctl.errors import UsageError, opt
from lossctl.losses._numerics import prepare, softplus

__all__ = [
    "huber",
    "l2_loss",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "pinball",
    "poisson",
    "poisson_nll",
    "root_mean_squared_error",
    "smooth_l1",
]


#: ``keras.backend.epsilon()``: Keras 3 default fuzz factor.
KERAS_EPSILON = 1e-7
#: ``torch.nn.functional.poisson_nll_loss`` default ``eps``.
TORCH_POISSON_EPS = 1e-8



def mean_squared_error(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Squared error, the elementwise term of the mean squared error.

    Formula: ``(y_true - y_pred)**2``

    Args:
        y_true: targets, (N, C) float.
        y_pred: predictions, (N, C) float.
        convention: "keras", "torch" or "optax"; all give the same elementwise values.

    Returns:
        (N, C) ELEMENTWISE squared errors, in y_pred's dtype.

    Conventions:
        Keras 3 ``mean_squared_error``/``MeanSquaredError``: per-sample value = mean over the
        last axis of ``square(y_true - y_pred)``, then the batch reduction (``sum_over_batch_size``
        divides by N). PyTorch ``mse_loss``/``MSELoss``: ``'mean'`` divides the sum of all elements
        by N*C (the same number). With a ``weight`` tensor PyTorch 2.13 divides by the sum of the
        weights (``Σw·e²/Σw``), like scikit-learn ``mean_squared_error(sample_weight=...)`` and
        Keras ``reduction="mean_with_sample_weight"``; Keras's default instead divides ``Σw·ℓ`` by
        N (reference D9: 4.083333 vs 2.041667). optax ``squared_error`` returns these elementwise
        values unreduced; optax ``l2_loss`` is half of them.
    """
    y_true, y_pred, _ = prepare(y_true, y_pred, convention)
    return np.square(y_true - y_pred)


def mean_absolute_error(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Absolute error, the elementwise term of the mean absolute error (L1 loss).

    Formula: ``|y_true - y_pred|``

    Args:
        y_true: targets, (N, C) float.
        y_pred: predictions, (N, C) float.
        convention: "keras", "torch" or "optax"; all give the same elementwise values.

    Returns:
        (N, C) ELEMENTWISE absolute errors, in y_pred's dtype.

    Conventions:
        Keras 3 ``mean_absolute_error``: mean over the last axis, then the batch reduction.
        PyTorch ``l1_loss``/``L1Loss``: ``'mean'`` over all N*C elements (the same number); with a
        ``weight`` tensor PyTorch 2.13 divides by ``Σw`` (reference: 1.083333). scikit-learn
        ``mean_absolute_error`` weights samples with ``Σw·e/Σw``.
    """
    y_true, y_pred, _ = prepare(y_true, y_pred, convention)
    return np.abs(y_true - y_pred)


def mean_absolute_percentage_error(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Absolute percentage error, in percent, as Keras computes it.

    Formula: ``100 * |y_true - y_pred| / max(|y_true|, 1e-7)``

    Args:
        y_true: targets, (N, C) float.
        y_pred: predictions, (N, C) float.
        convention: "keras" (default); "torch" and "optax" have no MAPE and use the Keras formula.

    Returns:
        (N, C) ELEMENTWISE percentage errors (a value of 10 means 10 %), in y_pred's dtype.

    Conventions:
        Keras 3 ``mean_absolute_percentage_error`` (``mape``): in PERCENT, with the denominator
        clamped at ``keras.backend.epsilon()`` = 1e-7, so a target of 0 gives an enormous but
        finite value (y=[0,100,-50], p=[1,110,-40] -> 3.333333e+08, reference D16).
        scikit-learn ``mean_absolute_percentage_error`` returns a FRACTION (divide lossctl's value
        by 100) and clamps at float64 machine epsilon 2.22e-16 instead (1.501e+15 on the same
        data). PyTorch and optax have no MAPE.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    eps = f(KERAS_EPSILON)
    return f(100.0) * np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), eps))


def mean_squared_logarithmic_error(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Squared logarithmic error, as Keras computes it (values below 1e-7 replaced by 1e-7).

    Formula: ``(log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))**2``

    Args:
        y_true: targets, (N, C) float.
        y_pred: predictions, (N, C) float.
        convention: "keras" (default); "torch" and "optax" have no MSLE and use the Keras formula.

    Returns:
        (N, C) ELEMENTWISE squared log errors, in y_pred's dtype.

    Conventions:
        Keras 3 ``mean_squared_logarithmic_error`` (``msle``) silently replaces zeros and negative
        values by ``epsilon()`` = 1e-7 before ``log(x + 1)`` (y=0.5, p=-0.5 -> 0.164402,
        reference D17). scikit-learn ``mean_squared_log_error`` uses ``log1p`` without clamping,
        accepts values in (-1, 0) (1.206949 on the same data) and raises ValueError for values
        <= -1. PyTorch and optax have no MSLE.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    eps = f(KERAS_EPSILON)
    one = f(1.0)
    first_log = np.log(np.maximum(y_pred, eps) + one)
    second_log = np.log(np.maximum(y_true, eps) + one)
    return np.square(first_log - second_log)


def root_mean_squared_error(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Squared error; the root is taken AFTER the reduction (root mean squared error).

    Formula: elementwise ``(y_true - y_pred)**2``; per sample ``sqrt(mean_c e²)``;
    reduced ``sqrt(mean over all elements of e²)`` (with sample weights
    ``sqrt(Σ_n w_n·mean_c e²_nc / Σ_n w_n)``).

    Args:
        y_true: targets, (N, C) float.
        y_pred: predictions, (N, C) float.
        convention: "keras", "torch" or "optax"; all give the same elementwise values.

    Returns:
        (N, C) ELEMENTWISE squared errors, in y_pred's dtype. The registry marks this loss so the
        engine takes the square root after reducing: lossctl reports per sample
        ``sqrt(row mean of e²)`` and, for the batch, ``sqrt(reduced mean of e²)``, which is NOT
        the mean of the per-sample roots.

    Conventions:
        Keras 3 has no RMSE loss; its metric ``keras.metrics.RootMeanSquaredError`` computes
        ``sqrt(Σ_n w_n·mean_c e² / Σ_n w_n)`` (a weighted mean divided by the sum of the weights).
        PyTorch has none either; ``torch.sqrt(mse_loss(p, y))`` is the same number unweighted.
        scikit-learn ``root_mean_squared_error`` takes the root PER OUTPUT column and then averages
        the roots, ``mean_c sqrt(mean_n e²_nc)``, which differs from the above when C > 1.
    """
    y_true, y_pred, _ = prepare(y_true, y_pred, convention)
    return np.square(y_true - y_pred)


def huber(y_true, y_pred, *, convention: str = "keras", delta: float = 1.0) -> np.ndarray:
    """Huber loss: quadratic for small errors, linear beyond ``delta``.

    Formula: with ``e = y_pred - y_true``: ``0.5*e²`` if ``|e| <= delta`` else
    ``delta*|e| - 0.5*delta²`` (equivalently ``delta*(|e| - 0.5*delta)``).

    Args:
        y_true: targets, (N, C) float.
        y_pred: predictions, (N, C) float.
        convention: "keras", "torch" or "optax": the same values, each evaluated with the
            framework's own arithmetic (Keras ``delta*|e| - 0.5*delta²`` with ``<=``; PyTorch
            ``delta*(|e| - 0.5*delta)`` with ``<``; optax ``0.5*min(|e|,d)² + d*(|e|-min(|e|,d))``),
            so float32 results agree to the last bit with each framework.
        delta: the threshold between the quadratic and the linear part, > 0. Default 1.0.

    Returns:
        (N, C) ELEMENTWISE Huber values, in y_pred's dtype.

    Conventions:
        Keras 3 ``Huber``/``huber``, PyTorch ``huber_loss``/``HuberLoss`` and optax ``huber_loss``
        agree elementwise (delta=2, e=[0.5,2,4] -> [0.125, 2, 6], reference D14). They differ in
        reduction: with a ``weight`` tensor PyTorch 2.13's ``'mean'`` divides ``Σw·h`` by the
        number of elements, not by ``Σw`` as its ``mse_loss`` and ``l1_loss`` do (reference D9:
        1.541667, where Σw·h/Σw would be 0.770833). PyTorch's ``smooth_l1_loss`` is this loss
        divided by its ``beta`` (see ``smooth_l1``). PyTorch refuses ``delta <= 0``.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    if not delta > 0:
        raise UsageError(f"{opt('delta')} must be > 0, got {delta}", hint=f"use a positive threshold, e.g. {opt('delta', 1)}")
    d = f(delta)
    half = f(0.5)
    error = y_pred - y_true
    abs_error = np.abs(error)
    if convention == "torch":
        # ATen huber kernel: z < delta ? 0.5*z*z : delta*(z - 0.5*delta)
        return np.where(abs_error < d, half * abs_error * abs_error, d * (abs_error - half * d))
    if convention == "optax":
        quadratic = np.minimum(abs_error, d)
        return half * np.square(quadratic) + d * (abs_error - quadratic)
    # keras/src/losses/losses.py huber()
    return np.where(abs_error <= d, half * np.square(error), d * abs_error - half * np.square(d))


def smooth_l1(y_true, y_pred, *, convention: str = "keras", beta: float = 1.0) -> np.ndarray:
    """Smooth L1 loss (PyTorch): Huber divided by ``beta``; plain L1 when ``beta == 0``.

    Formula: with ``z = |y_pred - y_true|``: ``0.5*z²/beta`` if ``z < beta`` else
    ``z - 0.5*beta``; ``beta = 0`` gives ``z``.

    Args:
        y_true: targets, (N, C) float.
        y_pred: predictions, (N, C) float.
        convention: "keras", "torch" or "optax"; only PyTorch has this loss, so all use its formula.
        beta: the threshold, >= 0. Default 1.0.

    Returns:
        (N, C) ELEMENTWISE smooth-L1 values, in y_pred's dtype.

    Conventions:
        PyTorch ``smooth_l1_loss``/``SmoothL1Loss``: ``'mean'`` over all elements; ``beta=0``
        dispatches to ``l1_loss``; ``beta < 0`` is an error. It equals ``huber(delta=beta)/beta``,
        so the two agree only at beta = delta = 1 (delta=beta=2, e=[0.5,2,4]: huber
        [0.125, 2, 6], smooth_l1 [0.0625, 1, 3], reference D14). Keras and optax have no
        smooth L1; their ``Huber``/``huber_loss`` are NOT divided by delta.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    if not beta >= 0:
        raise UsageError(f"{opt('beta')} must be >= 0, got {beta}", hint=f"use {opt('beta', 0)} for plain L1 or a positive value")
    z = np.abs(y_pred - y_true)
    if beta == 0:
        return z
    b = f(beta)
    half = f(0.5)
    # ATen smooth_l1 kernel: z < beta ? 0.5*z*z/beta : z - 0.5*beta
    return np.where(z < b, half * z * z / b, z - half * b)


def log_cosh(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Logarithm of the hyperbolic cosine of the error, computed without overflow.

    Formula: with ``e = y_pred - y_true``: ``log(cosh(e)) = e + softplus(-2e) - log(2)``
    (optax: ``logaddexp(e, -e) - log(2)``); about ``e²/2`` for small e and ``|e| - log 2`` for
    large e.

    Args:
        y_true: targets, (N, C) float.
        y_pred: predictions, (N, C) float.
        convention: "keras" or "torch" (Keras's form; PyTorch has no log-cosh) or "optax"
            (optax's ``logaddexp`` form); the values agree to rounding.

    Returns:
        (N, C) ELEMENTWISE log-cosh values, in y_pred's dtype; finite for any finite error
        (e = ±1000 gives 1000 - log 2).

    Conventions:
        Keras 3 ``log_cosh``/``LogCosh`` (its string id ``"logcosh"`` is no longer accepted by
        ``keras.losses.get``) and optax ``log_cosh`` compute the same stable value; PyTorch has
        no log-cosh loss.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    log2 = f(math.log(2.0))
    e = y_pred - y_true
    if convention == "optax":
        return np.logaddexp(e, -e) - log2
    # keras: x + softplus(-2x) - log(2), softplus(z) = logaddexp(0, z)
    return e + softplus(e * f(-2.0)) - log2


def poisson(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """Poisson negative log-likelihood (without the log(y!) term) for predicted rates.

    Formula: ``y_pred - y_true * log(y_pred + eps)``; eps = 1e-7 (Keras) or 1e-8 (PyTorch).

    Args:
        y_true: observed counts, (N, C) float, >= 0.
        y_pred: predicted rates, (N, C) float, >= 0 (a negative rate gives NaN, as in Keras).
        convention: "keras"/"optax" (eps 1e-7, Keras ``poisson``) or "torch" (eps 1e-8, the same
            as ``torch.nn.functional.poisson_nll_loss(log_input=False, full=False)``).

    Returns:
        (N, C) ELEMENTWISE values, in y_pred's dtype.

    Conventions:
        Keras 3 ``Poisson``/``poisson`` ADDS eps = 1e-7 inside the log (it does not clip), so a
        negative prediction gives NaN (y=[0,1,3], p=[0.5,1,2] -> mean 0.473519, reference D15).
        PyTorch's ``poisson_nll_loss`` takes LOG-rates by default (``log_input=True``: 1.585353 on
        the same numbers); with ``log_input=False`` it is this formula with eps = 1e-8 (see
        ``poisson_nll``). scikit-learn ``mean_poisson_deviance`` is the deviance
        ``2(y log(y/p) - y + p)`` (0.477597), a different quantity.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    eps = f(TORCH_POISSON_EPS if convention == "torch" else KERAS_EPSILON)
    return y_pred - y_true * np.log(y_pred + eps)


def poisson_nll(
    y_true,
    y_pred,
    *,
    convention: str = "keras",
    log_input: bool = True,
    full: bool = False,
    eps: float = TORCH_POISSON_EPS,
) -> np.ndarray:
    """PyTorch's Poisson negative log-likelihood, for log-rates (default) or rates.

    Formula: ``log_input=True``: ``exp(y_pred) - y_true * y_pred``;
    ``log_input=False``: ``y_pred - y_true * log(y_pred + eps)``;
    ``full=True`` adds the Stirling approximation of ``log(y!)``,
    ``y*log(y) - y + 0.5*log(2*pi*y)``, for targets ``y > 1`` (0 for ``y <= 1``).

    Args:
        y_true: observed counts, (N, C) float, >= 0.
        y_pred: predicted log-rates (``log_input=True``) or rates, (N, C) float.
        convention: "keras", "torch" or "optax"; only PyTorch has this loss, so all use its formula.
        log_input: whether y_pred holds log-rates. Default True (PyTorch's default).
        full: add the Stirling term. Default False.
        eps: added inside the log when ``log_input=False``. Default 1e-8.

    Returns:
        (N, C) ELEMENTWISE values, in y_pred's dtype. ``exp(y_pred)`` overflows to inf for
        log-rates above ~88.7 (float32) / ~709.8 (float64): the true loss is then larger than the
        largest float, as in PyTorch.

    Conventions:
        PyTorch ``poisson_nll_loss``/``PoissonNLLLoss`` (``'mean'`` over all elements). The default
        ``log_input=True`` means the predictions are LOG-rates: y=[0,1,3], p=[0.5,1,2] gives
        1.585353 where Keras ``poisson`` on the same numbers, read as rates, gives 0.473519
        (reference D15). ``log_input=False`` matches Keras ``poisson`` up to eps (1e-8 vs 1e-7).
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    if log_input:
        # exp overflows to inf for log-rates beyond the float range: the loss really is larger
        # than the largest float there (PyTorch returns inf too); the engine reports such rows.
        with np.errstate(over="ignore"):
            rate = np.exp(y_pred)
        loss = rate - y_true * y_pred
    else:
        loss = y_pred - y_true * np.log(y_pred + f(eps))
    if full:
        # ATen: stirling = t*log(t) - t + 0.5*log(2*pi*t), masked_fill(t <= 1, 0). Evaluated on a
        # copy where t <= 1 is replaced by 1 so the masked branch raises no log(0) warnings.
        big = y_true > 1
        t = np.where(big, y_true, f(1.0))
        stirling = t * np.log(t) - t + f(0.5) * np.log(f(2.0 * math.pi) * t)
        loss = loss + np.where(big, stirling, f(0.0))
    return loss


def pinball(y_true, y_pred, *, convention: str = "keras", quantile: float = 0.5) -> np.ndarray:
    """Pinball (quantile) loss, the elementwise term of scikit-learn's ``mean_pinball_loss``.

    Formula: with ``d = y_true - y_pred``: ``quantile * d`` if ``d >= 0`` else
    ``(quantile - 1) * d``, i.e. ``q*max(d, 0) + (1-q)*max(-d, 0)``.

    Args:
        y_true: targets, (N, C) float.
        y_pred: predicted quantiles, (N, C) float.
        convention: "keras", "torch" or "optax"; neither framework has this loss, so all use
            scikit-learn's formula.
        quantile: the quantile level ``alpha`` in [0, 1]. Default 0.5 (half the absolute error).

    Returns:
        (N, C) ELEMENTWISE pinball values, in y_pred's dtype.

    Conventions:
        scikit-learn ``mean_pinball_loss(alpha=0.5)`` averages these values (per output, then over
        outputs; sample weights as ``Σw·ℓ/Σw``). With alpha = 0.5 it is half the absolute error.
        Keras 3, PyTorch and optax have no pinball loss.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    if not 0.0 <= quantile <= 1.0:
        raise UsageError(
            f"{opt('quantile')} must lie in [0, 1], got {quantile}",
            hint=f"use e.g. {opt('quantile', 0.9)} for the 90th percentile",
        )
    q = f(quantile)
    one = f(1.0)
    # sklearn/metrics/_regression.py: sign = (diff >= 0); alpha*sign*diff - (1-alpha)*(1-sign)*diff
    diff = y_true - y_pred
    sign = (diff >= 0).astype(diff.dtype)
    return q * sign * diff - (one - q) * (one - sign) * diff


def l2_loss(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """optax's L2 loss: half the squared error.

    Formula: ``0.5 * (y_pred - y_true)**2``

    Args:
        y_true: targets, (N, C) float.
        y_pred: predictions, (N, C) float.
        convention: "keras", "torch" or "optax"; only optax has this loss, so all use its formula.

    Returns:
        (N, C) ELEMENTWISE values, in y_pred's dtype.

    Conventions:
        optax ``l2_loss`` = ``0.5 * squared_error`` (the 1/2 of Bishop's convention), returned
        unreduced. It is NOT Keras/PyTorch mean squared error, which has no 1/2 (reference D24).
        Note that TensorFlow's ``tf.nn.l2_loss`` is ``sum(t²)/2`` over the whole tensor.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    return f(0.5) * np.square(y_pred - y_true)


def tf_nn_l2_loss(y_true, y_pred, *, convention: str = "keras") -> np.ndarray:
    """TensorFlow's ``tf.nn.l2_loss`` of the error, per row: half its sum of squares.

    Formula: ``sum_c (y_pred - y_true)**2 / 2`` per row; ``tf.nn.l2_loss(t) = sum(t**2) / 2``
    over the WHOLE tensor is the sum of these (``reduction="sum"``).

    Args:
        y_true: targets, (N, C) float.
        y_pred: predictions, (N, C) float.
        convention: "keras" (tf.nn's numbers); only TensorFlow has this loss.

    Returns:
        (N,) PER-SAMPLE values, in y_pred's dtype.

    Conventions:
        ``tf.nn.l2_loss(t)`` takes one tensor and returns ONE number, ``sum(t ** 2) / 2``
        (no mean, no square root); lossctl reads ``t = y_pred - y_true`` and returns each
        row's share, so ``reduction="sum"`` is TensorFlow's value (the default ``mean``
        divides it by N). optax ``l2_loss`` is the elementwise ``0.5 (p - t)**2`` (lossctl
        ``l2_loss``).
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    return np.sum(np.square(y_pred - y_true), axis=-1) / f(2.0)

