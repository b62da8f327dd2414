"""scikit-learn's regression metrics that Keras and PyTorch do not have: Tweedie deviances,
squared log errors without clamping, the fraction form of MAPE, the median and maximum error,
and the D² scores (the fraction of a null model's loss a prediction explains).

Every function takes ``(y_true, y_pred)`` as 2-D ``(N, C)`` float arrays (validated and cast by
the engine) and returns the ELEMENTWISE ``(N, C)`` values in y_pred's dtype; the engine averages
each row over its columns (the per-sample value) and reduces. scikit-learn computes a metric per
output column and averages the columns (``multioutput="uniform_average"``); for a weighted mean
``sum_n w_n l_nc / sum_n w_n`` that is the weighted mean of the row means, so the per-sample value
is the row mean. Where the column value is not a mean (a root, a median, a maximum, a D² ratio)
the loss's ``aggregate`` (:mod:`lossctl.losses.reduction`, and the D² classes here) computes
scikit-learn's number from the columns, and the per-sample values are the errors it is made of.
"""
from __future__ import annotations

import math

import numpy as np

from lossctl.errors import DataError, ShapeError, opt
from lossctl.losses._numerics import prepare, xlogy
from lossctl.losses.reduction import Aggregate, ColumnSums, Held, ExactSum, weighted_percentile

__all__ = [
    "D2Pinball",
    "D2Tweedie",
    "absolute_error",
    "mape_fraction",
    "mean_gamma_deviance",
    "mean_poisson_deviance",
    "mean_squared_log_error",
    "mean_tweedie_deviance",
    "pinball_error",
    "squared_log_error",
]

#: scikit-learn's MAPE denominator floor: ``np.finfo(np.float64).eps`` whatever the dtype.
SKLEARN_MAPE_EPS = float(np.finfo(np.float64).eps)


def _bad(mask: np.ndarray, values: np.ndarray, what: str, hint: str) -> DataError:
    i = int(np.argmax(mask.any(axis=1)))
    return DataError(f"{what} {float(values[i][mask[i]][0])!r} (row {i + 1} of this block)",
                     hint=hint)


def _one_column(y_pred: np.ndarray, name: str) -> None:
    if y_pred.shape[1] != 1:
        raise ShapeError(f"{name} takes one output column, not {y_pred.shape[1]} (scikit-learn: "
                         f"'Multioutput not supported in {name}')",
                         hint="compute each column on its own")


def absolute_error(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Absolute error, the values scikit-learn's ``median_absolute_error`` and ``max_error``
    take the median (per output column) and the maximum of.

    Formula: ``|y_pred - y_true|``; ``median_absolute_error = mean_c median_n |e_nc|`` (the
    weighted percentile 50 with sample weights); ``max_error = max_n |e_n|`` (one column, no
    sample weights).

    Returns:
        (N, C) ELEMENTWISE absolute errors, in y_pred's dtype: the per-sample values.

    Conventions:
        scikit-learn only. ``median_absolute_error`` uses ``np.median`` without weights and
        ``_weighted_percentile(average=True)`` with them (which averages the two middle values
        when the weighted CDF lands exactly on one half, so unit weights give the ordinary
        median). ``max_error`` refuses several output columns.
    """
    y_true, y_pred, _ = prepare(y_true, y_pred, convention)
    return np.abs(y_pred - y_true)


def mape_fraction(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Absolute percentage error as a FRACTION, as scikit-learn computes it.

    Formula: ``|y_pred - y_true| / max(|y_true|, 2.220446e-16)``

    Returns:
        (N, C) ELEMENTWISE relative errors (0.1 means 10 %), in y_pred's dtype.

    Conventions:
        scikit-learn ``mean_absolute_percentage_error``: a fraction, the denominator floored at
        float64's machine epsilon (also for float32 inputs), so a target of 0 gives about
        4.5e15 times the error. Keras's ``mean_absolute_percentage_error`` (lossctl's
        ``mape``) is 100 times this, floored at 1e-7: a different number.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    return np.abs(y_pred - y_true) / np.maximum(np.abs(y_true), f(SKLEARN_MAPE_EPS))


def squared_log_error(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Squared difference of ``log1p`` values, as scikit-learn computes it (no clamping).

    Formula: ``(log1p(y_true) - log1p(y_pred))**2``; values <= -1 are errors.

    Returns:
        (N, C) ELEMENTWISE squared log errors, in y_pred's dtype.

    Raises:
        DataError: a target or prediction <= -1 (its log1p is not finite).

    Conventions:
        scikit-learn ``mean_squared_log_error`` = ``mean_squared_error(log1p(y), log1p(p))``
        and ``root_mean_squared_log_error`` = its root PER OUTPUT column, averaged over the
        columns. Keras's ``mean_squared_logarithmic_error`` instead replaces values below 1e-7
        by 1e-7 silently (y=0.5, p=-0.5: Keras 0.164402, scikit-learn 0.640282).
    """
    y_true, y_pred, _ = prepare(y_true, y_pred, convention)
    for a, name in ((y_true, "target"), (y_pred, "prediction")):
        bad = a <= -1
        if bad.any():
            raise _bad(bad, a, f"{name} <= -1 has no log1p:", "scikit-learn's squared log "
                       "errors take values above -1 (it raises ValueError for them)")
    return np.square(np.log1p(y_true) - np.log1p(y_pred))


def pinball_error(y_true, y_pred, *, convention: str = "sklearn",
                  quantile: float = 0.5) -> np.ndarray:
    """Pinball (quantile) loss in scikit-learn's arithmetic, the numerator of the D² pinball
    and absolute error scores.

    Formula: with ``d = y_true - y_pred`` and ``s = (d >= 0)``:
    ``quantile * s * d - (1 - quantile) * (1 - s) * d``

    Returns:
        (N, C) ELEMENTWISE pinball values, in y_pred's dtype.

    Conventions:
        scikit-learn ``mean_pinball_loss(alpha=quantile)`` (lossctl's ``pinball`` is the same
        number); ``d2_pinball_score`` and ``d2_absolute_error_score`` (quantile 0.5) divide its
        column means by those of the null model, the weighted ``quantile`` of y_true.
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    d = y_true - y_pred
    s = (d >= 0).astype(d.dtype)
    q = f(quantile)
    return q * s * d - (f(1) - q) * (f(1) - s) * d


def _deviance(y, mu, power: float, f) -> np.ndarray:
    """scikit-learn ``_mean_tweedie_deviance``'s unit deviance, in its arithmetic."""
    p = power
    two = f(2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if p < 0:
            return two * (np.power(np.where(y > 0, y, f(0)), f(2 - p)) / f((1 - p) * (2 - p))
                          - y * np.power(mu, f(1 - p)) / f(1 - p) + np.power(mu, f(2 - p))
                          / f(2 - p))
        if p == 0:
            return (y - mu) ** 2
        if p == 1:
            return two * (xlogy(y, y / mu) - y + mu)
        if p == 2:
            return two * (np.log(mu / y) + y / mu - f(1))
        return two * (np.power(y, f(2 - p)) / f((1 - p) * (2 - p))
                      - y * np.power(mu, f(1 - p)) / f(1 - p) + np.power(mu, f(2 - p)) / f(2 - p))


def _tweedie_domain(y_true, y_pred, power: float) -> None:
    need = None
    if power < 0:
        bad, need = y_pred <= 0, "strictly positive predictions"
    elif power == 0:
        return
    elif power < 2:
        bad, need = (y_true < 0) | (y_pred <= 0), "non-negative targets and strictly positive "\
            "predictions"
    else:
        bad, need = (y_true <= 0) | (y_pred <= 0), "strictly positive targets and predictions"
    if bad.any():
        i = int(np.argmax(bad.any(axis=1)))
        raise DataError(
            f"the Tweedie deviance with {opt('power', power)} takes {need}; row {i + 1} of this "
            f"block has target {float(y_true[i, 0])!r}, prediction {float(y_pred[i, 0])!r}",
            hint="scikit-learn raises ValueError for these values; " + (
                "use mean_squared_error or power 0" if power else ""))


def mean_tweedie_deviance(y_true, y_pred, *, convention: str = "sklearn",
                          power: float = 0.0) -> np.ndarray:
    """Tweedie unit deviance, as scikit-learn ``mean_tweedie_deviance(power=...)`` computes it.

    Formula: ``power < 0``: ``2 (max(y,0)^(2-p) / ((1-p)(2-p)) - y mu^(1-p) / (1-p) +
    mu^(2-p) / (2-p))``; ``0``: ``(y - mu)^2``; ``1``: ``2 (y log(y/mu) - y + mu)`` (0 log 0 = 0);
    ``2``: ``2 (log(mu/y) + y/mu - 1)``; otherwise ``2 (y^(2-p) / ((1-p)(2-p)) -
    y mu^(1-p) / (1-p) + mu^(2-p) / (2-p))``; ``mu`` is the prediction.

    Args:
        power: <= 0 or >= 1 (no Tweedie distribution has a power in (0, 1)).

    Returns:
        (N, 1) ELEMENTWISE deviances, in y_pred's dtype; their weighted mean is scikit-learn's.

    Raises:
        ShapeError: several output columns (scikit-learn refuses them).
        DataError: a value outside the power's domain (p < 0: mu > 0; 1 <= p < 2: y >= 0 and
            mu > 0; p >= 2: y > 0 and mu > 0), as scikit-learn.

    Conventions:
        scikit-learn only; ``mean_poisson_deviance`` is power 1, ``mean_gamma_deviance`` power 2.
        Keras's ``poisson`` and PyTorch's ``poisson_nll_loss`` are log-likelihoods up to a
        constant, not this deviance (y=[0,1,3], p=[0.5,1,2]: deviance 0.477597).
    """
    y_true, y_pred, f = prepare(y_true, y_pred, convention)
    _one_column(y_pred, "mean_tweedie_deviance")
    _tweedie_domain(y_true, y_pred, power)
    return _deviance(y_true, y_pred, power, f)


def mean_poisson_deviance(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Poisson deviance: :func:`mean_tweedie_deviance` with power 1.

    Formula: ``2 (y log(y / mu) - y + mu)``, with ``0 log 0 = 0``; y >= 0, mu > 0.

    Conventions:
        scikit-learn ``mean_poisson_deviance`` (one output column).
    """
    return mean_tweedie_deviance(y_true, y_pred, convention=convention, power=1.0)


def mean_gamma_deviance(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """Gamma deviance: :func:`mean_tweedie_deviance` with power 2.

    Formula: ``2 (log(mu / y) + y / mu - 1)``; y > 0, mu > 0.

    Conventions:
        scikit-learn ``mean_gamma_deviance`` (one output column).
    """
    return mean_tweedie_deviance(y_true, y_pred, convention=convention, power=2.0)


def mean_squared_log_error(y_true, y_pred, *, convention: str = "sklearn") -> np.ndarray:
    """The squared log errors of :func:`squared_log_error` (scikit-learn
    ``mean_squared_log_error``: their weighted mean).

    Formula: ``(log1p(y_true) - log1p(y_pred))**2``; values <= -1 are errors.

    Conventions:
        scikit-learn only; see :func:`squared_log_error`.
    """
    return squared_log_error(y_true, y_pred, convention=convention)


# --- D² scores ------------------------------------------------------------------------------------


def _assemble(numerator: np.ndarray, denominator: np.ndarray) -> float:
    """scikit-learn ``_assemble_fraction_of_explained_deviance(force_finite=True)``, averaged
    over the outputs: 1 where the numerator is 0, 0 where only the denominator is, else
    ``1 - num / den``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 1 - numerator / denominator
    scores = np.where(numerator == 0, 1.0, np.where(denominator == 0, 0.0, ratio))
    return float(np.mean(scores))


class D2Pinball(Aggregate):
    """D² pinball score (scikit-learn ``d2_pinball_score``; ``d2_absolute_error_score`` is
    quantile 0.5): per output column ``1 - mean_w pinball(y, p) / mean_w pinball(y, q_c)``, with
    ``q_c`` the weighted ``quantile`` of the column's targets (``_weighted_percentile`` with
    ``average=True``, unit weights without sample weights), then the mean over the columns.
    Fewer than 2 rows give NaN. The targets are held (:class:`~lossctl.losses.reduction.Held`)
    for the quantile: beyond the memory limit it fails with a clear error."""

    def add(self, target, pred, values, weights) -> None:
        v = self.columns(values)
        w = self._weights(v, weights)
        if self.width is None:
            self.width = v.shape[1]
            self._num = ColumnSums(self.width)
            self._y = Held("the D² score's null model (the quantile of y_true)", self.limit)
            self._wy = Held("the D² score's null model (the quantile of y_true)", self.limit)
        with np.errstate(over="ignore", invalid="ignore"):
            self._num.add(v * w[:, None])
        self._y.add(self.columns(target))
        self._wy.add(w)

    def value(self) -> float:
        if self.width is None or self.rows < 2:
            return math.nan
        q = float(self.options.get("quantile", 0.5))
        y = self._y.array(self.width)
        w = self._wy.array(1)[:, 0]
        total = self._w.total()
        if not total > 0:  # every weight 0: scikit-learn divides by 0
            return math.nan
        numerator = self._num.total() / total
        null = weighted_percentile(y, w, q * 100)
        d = y - null[None, :]
        s = (d >= 0).astype(np.float64)
        base = q * s * d - (1 - q) * (1 - s) * d
        denominator = np.average(base, weights=w, axis=0)
        return _assemble(numerator, denominator)


class D2Tweedie(Aggregate):
    """D² Tweedie score (scikit-learn ``d2_tweedie_score(power=...)``; power 0 is R²):
    ``1 - mean_w dev(y, p) / mean_w dev(y, mean_w(y))``, one output column. Fewer than 2 rows
    give NaN. The targets are held for the weighted mean the null model's deviance needs."""

    def add(self, target, pred, values, weights) -> None:
        v = self.columns(values)
        w = self._weights(v, weights)
        if self.width is None:
            self.width = v.shape[1]
            self._num = ExactSum()
            self._y = Held("the D² score's null model (the deviance from the mean)", self.limit)
            self._wy = Held("the D² score's null model (the deviance from the mean)", self.limit)
        with np.errstate(over="ignore", invalid="ignore"):
            self._num.add(v[:, 0] * w)
        self._y.add(self.columns(target))
        self._wy.add(w)

    def value(self) -> float:
        if self.width is None or self.rows < 2:
            return math.nan
        power = float(self.options.get("power", 0.0))
        y = self._y.array(1)[:, 0]
        w = self._wy.array(1)[:, 0]
        if not self._w.total() > 0:  # every weight 0: scikit-learn divides by 0
            return math.nan
        numerator = self._num.total() / self._w.total()
        mean = np.average(y, weights=w)
        denominator = float(np.average(_deviance(y, np.float64(mean), power, np.float64),
                                       weights=w))
        if denominator == 0:
            from lossctl.errors import warn

            warn("the D² Tweedie score is not defined (NaN): the null model, the mean of y_true, "
                 "has a deviance of 0 (every target is the same; scikit-learn raises "
                 "ZeroDivisionError)")
            return math.nan
        return 1 - numerator / denominator
