"""Registry entries: scikit-learn's regression metrics (deviances, squared log errors, the
fraction MAPE, median and maximum error, D² scores).

One :class:`~lossctl.losses.spec.LossSpec` per metric; the functions live in
:mod:`lossctl.losses.deviance`, the reductions that are not a weighted mean in
:mod:`lossctl.losses.reduction` and :mod:`lossctl.losses.deviance` (``aggregate``).
"""
from __future__ import annotations

from lossctl.errors import opt
from lossctl.losses.spec import LossSpec
from lossctl.losses.spec import alias as _a

_S = "samples/"
_REG = f"{_S}regression_true.csv {_S}regression_pred.csv"
_SK = {"conventions": ("sklearn",), "default_convention": "sklearn"}
_W = "sample weights: sum(w*l) / sum(w) (np.average)"


def _spec(**kw) -> LossSpec:
    fields = {"family": "regression", "task": "regression", "target": "values",
              "prediction": "values", "kind": "elementwise", "features": ("elementwise",), **_SK}
    fields.update(kw)
    return LossSpec(**fields)


SPECS: tuple[LossSpec, ...] = (
    _spec(
        name="mape_fraction",
        func="deviance:mape_fraction",
        summary="scikit-learn's mean absolute percentage error: a fraction, not percent.",
        formula="l = mean_c |y_pred - y_true| / max(|y_true|, 2.22e-16)",
        when="Relative errors as scikit-learn reports them (0.1 = 10 %). Explodes near y = 0.",
        siblings=("mean_absolute_percentage_error", "mean_absolute_error"),
        example=f"lossctl compute sklearn.mean_absolute_percentage_error {_REG}",
        aliases=(_a("mean_absolute_percentage_error", "sklearn", prefix_only=True),),
        divergences="Keras's mean_absolute_percentage_error (mape) is 100 times this, with the "
        f"denominator floored at 1e-7 instead of float64's epsilon; {_W}.",
    ),
    _spec(
        name="mean_squared_log_error",
        func="deviance:mean_squared_log_error",
        summary="scikit-learn's mean squared logarithmic error (log1p, no clamping).",
        formula="l = mean_c (log1p(y_true) - log1p(y_pred))^2; values <= -1 are errors",
        when="Positive targets spanning orders of magnitude, as scikit-learn scores them.",
        siblings=("mean_squared_logarithmic_error", "root_mean_squared_log_error"),
        example=f"lossctl compute sklearn.mean_squared_log_error {_REG}",
        aliases=(_a("mean_squared_log_error", "sklearn"),),
        divergences="Keras's mean_squared_logarithmic_error replaces values below 1e-7 by 1e-7 "
        f"(negatives and zeros silently); scikit-learn takes log1p of them as they are; {_W}.",
    ),
    _spec(
        name="root_mean_squared_log_error",
        func="deviance:squared_log_error",
        summary="scikit-learn's root mean squared logarithmic error.",
        formula="value = mean_c sqrt(sum_n w_n (log1p(y) - log1p(p))^2 / sum_n w_n); per "
        "sample: sqrt(mean_c d^2)",
        when="MSLE in log units; the root is taken per output column, then averaged.",
        siblings=("mean_squared_log_error", "root_mean_squared_error"),
        example=f"lossctl compute sklearn.root_mean_squared_log_error {_REG}",
        aliases=(_a("root_mean_squared_log_error", "sklearn"),),
        finalize="sqrt",
        aggregate="reduction:ColumnMean",
        divergences="The reduced value is the mean over output columns of each column's root "
        "(scikit-learn's multioutput='uniform_average'), not the mean of per-sample roots.",
    ),
    _spec(
        name="median_absolute_error",
        func="deviance:absolute_error",
        summary="scikit-learn's median absolute error (per output column, averaged).",
        formula="value = mean_c median_n |y_pred - y_true| (weighted percentile 50 with "
        "sample weights); per sample: |e| (the row mean over columns)",
        when="A robust error scale that ignores outliers entirely.",
        siblings=("mean_absolute_error", "max_error"),
        example=f"lossctl compute sklearn.median_absolute_error {_REG}",
        aliases=(_a("median_absolute_error", "sklearn"),),
        aggregate="reduction:ColumnMedian",
        divergences="Every absolute error is held in memory for the median (within "
        f"{opt('memory_limit')}: beyond it the run fails clearly). With sample weights "
        "scikit-learn's _weighted_percentile(average=True) is used, as here.",
    ),
    _spec(
        name="max_error",
        func="deviance:absolute_error",
        summary="scikit-learn's maximum residual error.",
        formula="value = max_n |y_pred - y_true| (one output column, no sample weights); per "
        "sample: |e|",
        when="The worst case error, for a hard bound in CI.",
        siblings=("median_absolute_error", "mean_absolute_error"),
        example=f"lossctl compute sklearn.max_error {_REG}",
        aliases=(_a("max_error", "sklearn"),),
        aggregate="reduction:Maximum",
        divergences="scikit-learn's max_error takes no sample_weight and one output column; "
        "lossctl refuses both the same way.",
    ),
    _spec(
        name="mean_tweedie_deviance",
        target="positive",
        func="deviance:mean_tweedie_deviance",
        summary="scikit-learn's mean Tweedie deviance (power 0 normal, 1 Poisson, 2 gamma).",
        formula="l = 2 (y^(2-p)/((1-p)(2-p)) - y mu^(1-p)/(1-p) + mu^(2-p)/(2-p)); p = 0: "
        "(y - mu)^2; p = 1: 2 (y log(y/mu) - y + mu); p = 2: 2 (log(mu/y) + y/mu - 1)",
        when="Scoring GLMs (Poisson, gamma, compound Poisson-gamma) on their own deviance.",
        siblings=("mean_poisson_deviance", "mean_gamma_deviance", "d2_tweedie_score"),
        example=f"lossctl compute sklearn.mean_tweedie_deviance {_REG} --power 1.5",
        aliases=(_a("mean_tweedie_deviance", "sklearn"),),
        options={"power": 0.0},
        divergences=f"One output column, as scikit-learn; values outside the {opt('power')}'s "
        f"domain are errors (scikit-learn raises ValueError); {_W}.",
    ),
    _spec(
        name="mean_poisson_deviance",
        target="positive",
        func="deviance:mean_poisson_deviance",
        summary="scikit-learn's mean Poisson deviance (Tweedie power 1).",
        formula="l = 2 (y log(y / mu) - y + mu), 0 log 0 = 0; y >= 0, mu > 0",
        when="Count regression scored by deviance (0 for a perfect prediction).",
        siblings=("mean_tweedie_deviance", "poisson", "poisson_nll"),
        example=f"lossctl compute sklearn.mean_poisson_deviance {_REG}",
        aliases=(_a("mean_poisson_deviance", "sklearn"),),
        divergences="Keras's poisson (mu - y log(mu + 1e-7)) and PyTorch's poisson_nll_loss "
        f"are log-likelihoods up to a constant, not this deviance; {_W}.",
    ),
    _spec(
        name="mean_gamma_deviance",
        target="positive",
        func="deviance:mean_gamma_deviance",
        summary="scikit-learn's mean gamma deviance (Tweedie power 2).",
        formula="l = 2 (log(mu / y) + y / mu - 1); y > 0, mu > 0",
        when="Positive targets whose noise grows with their size (scale-free errors).",
        siblings=("mean_tweedie_deviance", "mean_poisson_deviance"),
        example=f"lossctl compute sklearn.mean_gamma_deviance {_REG}",
        aliases=(_a("mean_gamma_deviance", "sklearn"),),
        divergences=f"scikit-learn only; {_W}.",
    ),
    _spec(
        name="d2_absolute_error_score",
        func="deviance:pinball_error",
        summary="scikit-learn's D² absolute error score: the fraction of the median model's "
        "absolute error explained (higher is better, 1 is perfect).",
        formula="value = mean_c (1 - sum_n w |y - p| / sum_n w |y - median_w(y_c)|); per "
        "sample: 0.5 |e| (the pinball loss at 0.5, row mean)",
        when=f"A robust R²-like score; gate it with {opt('fail_below')}.",
        siblings=("d2_pinball_score", "median_absolute_error", "mean_absolute_error"),
        example=f"lossctl compute sklearn.d2_absolute_error_score {_REG}",
        aliases=(_a("d2_absolute_error_score", "sklearn"),),
        aggregate="deviance:D2Pinball",
        higher_is_better=True,
        nonnegative=False,
        divergences="The null model is the weighted median of each y_true column, so every "
        f"target is held in memory (within {opt('memory_limit')}). A column whose prediction is "
        "perfect scores 1, a perfect null model with imperfect predictions 0 "
        "(force_finite). Fewer than 2 rows give NaN.",
    ),
    _spec(
        name="d2_pinball_score",
        func="deviance:pinball_error",
        summary="scikit-learn's D² pinball score: the fraction of the quantile model's pinball "
        "loss explained (higher is better).",
        formula="value = mean_c (1 - sum_n w pinball_q(y, p) / sum_n w pinball_q(y, "
        "quantile_w(y_c, q)))",
        when=f"Quantile regression scored against the constant quantile; {opt('fail_below')} "
        "gates it.",
        siblings=("d2_absolute_error_score", "pinball"),
        example=f"lossctl compute sklearn.d2_pinball_score {_REG} --quantile 0.9",
        aliases=(_a("d2_pinball_score", "sklearn"),),
        options={"quantile": 0.5},
        option_domains={"quantile": "[0,1]"},
        aggregate="deviance:D2Pinball",
        higher_is_better=True,
        nonnegative=False,
        divergences=f"scikit-learn's alpha is {opt('quantile')}. The null model is the weighted "
        "quantile of each y_true column (every target held in memory); fewer than 2 rows give "
        "NaN.",
    ),
    _spec(
        name="d2_tweedie_score",
        target="positive",
        func="deviance:mean_tweedie_deviance",
        summary="scikit-learn's D² Tweedie score: the fraction of the mean model's deviance "
        "explained (power 0 is R²; higher is better).",
        formula="value = 1 - sum_n w dev_p(y, p) / sum_n w dev_p(y, mean_w(y)); per sample: "
        "the deviance",
        when=f"GLMs scored against the constant mean; {opt('fail_below')} gates it.",
        siblings=("mean_tweedie_deviance", "d2_absolute_error_score"),
        example=f"lossctl compute sklearn.d2_tweedie_score {_REG} --power 1",
        aliases=(_a("d2_tweedie_score", "sklearn"),),
        options={"power": 0.0},
        aggregate="deviance:D2Tweedie",
        higher_is_better=True,
        nonnegative=False,
        divergences="One output column. The null model's deviance needs the weighted mean of "
        "y_true first, so every target is held in memory; fewer than 2 rows give NaN, a "
        "constant y_true gives NaN with a warning (scikit-learn divides by 0).",
    ),
)
