"""The registry: every loss lossctl knows, its names in each framework, options and explain text.

Adding a loss is one function in its family module plus one :class:`LossSpec` entry in
:data:`SPECS` below. ``lossctl list``, ``lossctl explain``, ``compute --help`` and the README all
read this table; nothing else keeps a list of losses.

Names are matched case-insensitively with ``-`` and ``_`` equivalent (:func:`normalize`). An alias
may carry defaults: the PyTorch names select ``convention="torch"`` and PyTorch's input meaning
(``cross_entropy`` takes logits, ``nll_loss`` and ``kl_div`` take log-probabilities), the tf.nn and
optax names take logits and return elementwise values, as those functions do.

This module imports nothing heavy (no numpy): ``lossctl --help`` reads it.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from lossctl.errors import UsageError

#: Frameworks, in the order ``lossctl list`` shows their aliases.
FRAMEWORKS = ("keras", "tf.nn", "torch", "optax", "sklearn")

#: Tasks, for ``lossctl list --task``.
TASKS = ("regression", "binary", "multi-class", "multi-label", "segmentation", "similarity")

#: What y_true must look like.
TARGETS = {
    "values": "real values, same shape as y_pred",
    "binary": "0/1 (or probabilities in [0, 1]), same shape as y_pred",
    "index": "class indices 0..C-1, one column (use --offset for 1..C)",
    "dense": "one-hot rows or probability rows, same shape as y_pred",
    "index_or_dense": "class indices (one column) or probability rows",
    "signed": "+-1 labels (0/1 are converted to -1/+1), same shape as y_pred",
    "counts": "non-negative counts or rates, same shape as y_pred",
}

#: Short forms of TARGETS for narrow tables.
TARGET_SHORT = {
    "values": "real values",
    "binary": "0/1",
    "index": "class index",
    "dense": "one-hot/probs",
    "index_or_dense": "index or probs",
    "signed": "+-1",
    "counts": "counts",
}

#: What y_pred must look like.
PREDICTIONS = {
    "values": "real values",
    "probabilities": "probabilities (--from-logits for logits)",
    "logits": "logits (raw scores)",
    "log-probabilities": "log-probabilities (log_softmax output)",
    "scores": "real-valued scores (decision function)",
    "rates": "predicted rates (log-rates with --log-input)",
}


@dataclass(frozen=True)
class Option:
    """A loss-specific option: python name, CLI flag, type and help."""

    name: str
    flag: str
    type: type
    help: str


#: Every loss option. A loss lists the ones it takes (with its own default) in ``LossSpec.options``.
OPTIONS: Mapping[str, Option] = MappingProxyType(
    {
        o.name: o
        for o in (
            Option("from_logits", "--from-logits", bool, "y_pred holds logits, not probabilities"),
            Option("label_smoothing", "--label-smoothing", float, "smooth targets by EPS"),
            Option("pos_weight", "--pos-weight", float, "weight of the positive term"),
            Option("delta", "--delta", float, "Huber threshold between quadratic and linear"),
            Option("beta", "--beta", float, "Smooth-L1 threshold / Tversky false-positive weight"),
            Option("log_input", "--log-input", bool, "y_pred holds log-rates / log-probabilities"),
            Option("full", "--full", bool, "add the Stirling term (PyTorch poisson_nll full=True)"),
            Option("quantile", "--quantile", float, "pinball quantile in (0, 1)"),
            Option("gamma", "--gamma", float, "focal exponent"),
            Option("alpha", "--alpha", float, "focal class balance / Tversky false-negative weight"),
            Option("class_balancing", "--class-balancing", bool, "apply alpha (binary focal)"),
            Option("q", "--q", float, "generalized cross-entropy exponent in (0, 1)"),
            Option("epsilon", "--epsilon", float, "Poly-1 coefficient"),
            Option("log_target", "--log-target", bool, "y_true holds log-probabilities (kl_div)"),
            Option("p", "--p", int, "multi-margin exponent, 1 or 2"),
            Option("margin", "--margin", float, "multi-margin margin"),
        )
    }
)

#: Engine-level features a loss may accept (checked against the command line).
FEATURES = ("class_weight", "ignore_class", "offset", "elementwise")


@dataclass(frozen=True)
class Alias:
    """Another name for a loss, the framework it comes from, and the defaults it implies."""

    name: str
    framework: str
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LossSpec:
    """One registry entry. See the module docstring."""

    name: str
    func: str  # "module:function" inside lossctl.losses
    family: str
    task: str
    target: str  # key of TARGETS
    prediction: str  # key of PREDICTIONS
    kind: str  # "elementwise": fn returns (N, C); "row": fn returns (N,)
    summary: str
    formula: str
    when: str
    siblings: tuple[str, ...]
    example: str
    aliases: tuple[Alias, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)  # option name -> default
    features: tuple[str, ...] = ()
    conventions: tuple[str, ...] = ("keras", "torch")  # frameworks that define this loss
    default_convention: str = "keras"
    finalize: str | None = None  # "sqrt": applied after reduction (RMSE)
    nonnegative: bool = True
    # PyTorch's "mean" divisor for this loss when it differs from the number of rows:
    #   "weights" (mse/l1 with weight: sum(w)), "class_weights" (index-target CE/NLL with weight),
    #   "elements" (kl_div: N*C)
    torch_mean: str = "rows"
    divergences: str = ""  # where the frameworks disagree, shown by `explain`

    def load(self) -> Callable:
        """Import and return the loss function (imports numpy)."""
        import importlib

        module, fn = self.func.split(":")
        return getattr(importlib.import_module(f"lossctl.losses.{module}"), fn)

    @property
    def doc(self) -> str:
        """The function's docstring: the formula and convention notes shown by ``explain``."""
        import inspect

        return inspect.getdoc(self.load()) or ""


def _a(name: str, framework: str, **defaults: Any) -> Alias:
    return Alias(name, framework, MappingProxyType(defaults))


_TORCH = {"convention": "torch"}
_S = "samples/"

SPECS: tuple[LossSpec, ...] = (
    # ----------------------------------------------------------------------------- regression
    LossSpec(
        name="mean_squared_error",
        func="regression:mean_squared_error",
        family="regression",
        task="regression",
        target="values",
        prediction="values",
        kind="elementwise",
        summary="Mean of squared errors.",
        formula="l = mean_c (y_pred - y_true)^2",
        when="Regression with roughly Gaussian noise; punishes large errors quadratically. "
        "Prefer mean_absolute_error or huber when outliers dominate.",
        siblings=("mean_absolute_error", "huber", "root_mean_squared_error", "l2_loss"),
        example=f"lossctl compute mse {_S}regression_true.csv {_S}regression_pred.csv",
        aliases=(
            _a("mse", "keras"),
            _a("MeanSquaredError", "keras"),
            _a("mse_loss", "torch", **_TORCH),
            _a("MSELoss", "torch", **_TORCH),
            _a("squared_error", "optax", elementwise=True),
        ),
        features=("elementwise",),
        torch_mean="weights",
        divergences="Keras weighted mean divides sum(w*e) by N; PyTorch mse_loss(weight=...) "
        "divides by sum(w) (mean_with_sample_weight). optax l2_loss is half of this.",
    ),
    LossSpec(
        name="mean_absolute_error",
        func="regression:mean_absolute_error",
        family="regression",
        task="regression",
        target="values",
        prediction="values",
        kind="elementwise",
        summary="Mean of absolute errors.",
        formula="l = mean_c |y_pred - y_true|",
        when="Regression robust to outliers (median-seeking). Not smooth at 0.",
        siblings=("mean_squared_error", "huber", "smooth_l1", "pinball"),
        example=f"lossctl compute mae {_S}regression_true.csv {_S}regression_pred.csv",
        aliases=(
            _a("mae", "keras"),
            _a("MeanAbsoluteError", "keras"),
            _a("l1_loss", "torch", **_TORCH),
            _a("L1Loss", "torch", **_TORCH),
        ),
        features=("elementwise",),
        torch_mean="weights",
        divergences="Keras weighted mean divides by N; PyTorch l1_loss(weight=...) by sum(w).",
    ),
    LossSpec(
        name="mean_absolute_percentage_error",
        func="regression:mean_absolute_percentage_error",
        family="regression",
        task="regression",
        target="values",
        prediction="values",
        kind="elementwise",
        summary="Mean absolute error relative to |y_true|, in percent.",
        formula="l = 100 * mean_c |y_true - y_pred| / max(|y_true|, 1e-7)",
        when="Errors relative to the size of the target. Explodes when y_true is near 0.",
        siblings=("mean_absolute_error", "mean_squared_logarithmic_error"),
        example=f"lossctl compute mape {_S}regression_true.csv {_S}regression_pred.csv",
        aliases=(_a("mape", "keras"), _a("MeanAbsolutePercentageError", "keras")),
        features=("elementwise",),
        conventions=("keras",),
        divergences="Keras reports percent with eps 1e-7; scikit-learn's "
        "mean_absolute_percentage_error is a fraction with eps 2.2e-16.",
    ),
    LossSpec(
        name="mean_squared_logarithmic_error",
        func="regression:mean_squared_logarithmic_error",
        family="regression",
        task="regression",
        target="values",
        prediction="values",
        kind="elementwise",
        summary="Mean squared error between log(1 + y) values.",
        formula="l = mean_c (log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2",
        when="Positive targets spanning orders of magnitude; relative errors matter.",
        siblings=("mean_squared_error", "mean_absolute_percentage_error"),
        example=f"lossctl compute msle {_S}regression_true.csv {_S}regression_pred.csv",
        aliases=(_a("msle", "keras"), _a("MeanSquaredLogarithmicError", "keras")),
        features=("elementwise",),
        conventions=("keras",),
        divergences="Keras replaces values below eps=1e-7 by eps silently; scikit-learn uses "
        "log1p and rejects values <= -1.",
    ),
    LossSpec(
        name="root_mean_squared_error",
        func="regression:root_mean_squared_error",
        family="regression",
        task="regression",
        target="values",
        prediction="values",
        kind="elementwise",
        summary="Square root of the mean squared error.",
        formula="value = sqrt(sum_n w_n mean_c e^2 / N); per sample: sqrt(mean_c e^2)",
        when="MSE in the units of the target. The reduced value is not the mean of the "
        "per-sample values (the square root comes after the mean).",
        siblings=("mean_squared_error", "mean_absolute_error"),
        example=f"lossctl compute rmse {_S}regression_true.csv {_S}regression_pred.csv",
        aliases=(_a("rmse", "keras"), _a("RootMeanSquaredError", "keras")),
        features=("elementwise",),
        conventions=("keras",),
        finalize="sqrt",
        divergences="Keras has RMSE only as a metric, which divides weighted sums by sum(w) "
        "(--reduction mean_with_sample_weight); scikit-learn root_mean_squared_error takes the "
        "root per output column, then averages (differs when C > 1).",
    ),
    LossSpec(
        name="huber",
        func="regression:huber",
        family="regression",
        task="regression",
        target="values",
        prediction="values",
        kind="elementwise",
        summary="Quadratic for small errors, linear for large ones.",
        formula="l = mean_c (0.5 e^2 if |e| <= delta else delta (|e| - 0.5 delta))",
        when="Regression with outliers: MSE near 0, MAE in the tails.",
        siblings=("smooth_l1", "mean_squared_error", "mean_absolute_error", "log_cosh"),
        example=f"lossctl compute huber {_S}regression_true.csv {_S}regression_pred.csv --delta 2",
        aliases=(
            _a("Huber", "keras"),
            _a("huber_loss", "torch", **_TORCH),
            _a("HuberLoss", "torch", **_TORCH),
        ),
        options={"delta": 1.0},
        features=("elementwise",),
        divergences="huber = delta * smooth_l1 with beta = delta: they agree only at 1 "
        "PyTorch huber_loss(weight=...) mean divides by N*C, not sum(w).",
    ),
    LossSpec(
        name="smooth_l1",
        func="regression:smooth_l1",
        family="regression",
        task="regression",
        target="values",
        prediction="values",
        kind="elementwise",
        summary="PyTorch's Smooth L1: Huber divided by beta.",
        formula="l = 0.5 e^2 / beta if |e| < beta else |e| - 0.5 beta",
        when="Box regression (Fast R-CNN). Same shape as huber, scaled by 1/beta.",
        siblings=("huber", "mean_absolute_error"),
        example=f"lossctl compute smooth_l1 {_S}regression_true.csv {_S}regression_pred.csv",
        aliases=(_a("smooth_l1_loss", "torch", **_TORCH), _a("SmoothL1Loss", "torch", **_TORCH)),
        options={"beta": 1.0},
        features=("elementwise",),
        conventions=("torch",),
        default_convention="torch",
        divergences="smooth_l1(beta) = huber(delta=beta) / beta.",
    ),
    LossSpec(
        name="log_cosh",
        func="regression:log_cosh",
        family="regression",
        task="regression",
        target="values",
        prediction="values",
        kind="elementwise",
        summary="Logarithm of the hyperbolic cosine of the error.",
        formula="l = mean_c log(cosh(e)) = e + softplus(-2e) - log 2",
        when="A smooth Huber-like loss with no threshold to tune.",
        siblings=("huber", "mean_squared_error"),
        example=f"lossctl compute log_cosh {_S}regression_true.csv {_S}regression_pred.csv",
        aliases=(_a("logcosh", "keras"), _a("LogCosh", "keras")),
        features=("elementwise",),
        conventions=("keras",),
        divergences="Keras 3 accepts 'log_cosh' but not 'logcosh' as a string; optax log_cosh is "
        "the same elementwise value.",
    ),
    LossSpec(
        name="poisson",
        func="regression:poisson",
        family="regression",
        task="regression",
        target="counts",
        prediction="rates",
        kind="elementwise",
        summary="Poisson negative log-likelihood (up to a constant), on rates.",
        formula="l = mean_c (y_pred - y_true * log(y_pred + 1e-7))",
        when="Count targets with predicted rates (e.g. events per interval).",
        siblings=("poisson_nll", "mean_squared_error"),
        example=f"lossctl compute poisson {_S}regression_true.csv {_S}regression_pred.csv",
        aliases=(_a("Poisson", "keras"),),
        features=("elementwise",),
        conventions=("keras",),
        nonnegative=False,  # a log-likelihood up to a constant: 2 - 6 log 2 < 0
        divergences="Equals PyTorch poisson_nll_loss(log_input=False) up to eps (1e-7 vs 1e-8); "
        "PyTorch's default log_input=True reads y_pred as log-rates.",
    ),
    LossSpec(
        name="poisson_nll",
        func="regression:poisson_nll",
        family="regression",
        task="regression",
        target="counts",
        prediction="rates",
        kind="elementwise",
        summary="PyTorch's Poisson negative log-likelihood.",
        formula="log_input: l = exp(x) - y x; else l = x - y log(x + 1e-8); --full adds "
        "y log y - y + 0.5 log(2 pi y) for y > 1",
        when="Count regression where the model outputs log-rates (the default) or rates.",
        siblings=("poisson",),
        example=f"lossctl compute poisson_nll {_S}regression_true.csv {_S}regression_pred.csv "
        "--no-log-input",
        aliases=(_a("poisson_nll_loss", "torch", **_TORCH), _a("PoissonNLLLoss", "torch", **_TORCH)),
        options={"log_input": True, "full": False},
        features=("elementwise",),
        conventions=("torch",),
        default_convention="torch",
        nonnegative=False,
    ),
    LossSpec(
        name="pinball",
        func="regression:pinball",
        family="regression",
        task="regression",
        target="values",
        prediction="values",
        kind="elementwise",
        summary="Quantile (pinball) loss.",
        formula="l = q max(y - y_pred, 0) + (1 - q) max(y_pred - y, 0)",
        when="Quantile regression: predicting the q-th quantile instead of the mean.",
        siblings=("mean_absolute_error",),
        example=f"lossctl compute pinball {_S}regression_true.csv {_S}regression_pred.csv "
        "--quantile 0.9",
        aliases=(_a("quantile", "sklearn"), _a("mean_pinball_loss", "sklearn")),
        options={"quantile": 0.5},
        features=("elementwise",),
        conventions=("keras",),
        divergences="scikit-learn mean_pinball_loss(alpha=q) averages with sum(w*l)/sum(w) "
        "(--reduction mean_with_sample_weight); quantile 0.5 is half the absolute error.",
    ),
    LossSpec(
        name="l2_loss",
        func="regression:l2_loss",
        family="regression",
        task="regression",
        target="values",
        prediction="values",
        kind="elementwise",
        summary="optax's L2 loss: half the squared error.",
        formula="l = 0.5 (y_pred - y_true)^2",
        when="When porting optax code: its l2_loss carries the 1/2 factor, MSE does not.",
        siblings=("mean_squared_error",),
        example=f"lossctl compute l2_loss {_S}regression_true.csv {_S}regression_pred.csv",
        aliases=(),
        features=("elementwise",),
        conventions=("keras",),
        divergences="optax l2_loss = 0.5 * squared_error.",
    ),
    # --------------------------------------------------------------------- classification
    LossSpec(
        name="binary_crossentropy",
        func="classification:binary_crossentropy",
        family="classification",
        task="binary",
        target="binary",
        prediction="probabilities",
        kind="elementwise",
        summary="Cross-entropy of independent binary labels (sigmoid outputs).",
        formula="l = -mean_c [y log p + (1 - y) log(1 - p)]",
        when="Binary classification, or multi-label where each column is its own yes/no. "
        "For exactly one class per row use categorical_crossentropy.",
        siblings=("categorical_crossentropy", "binary_focal_crossentropy", "hinge"),
        example=f"lossctl compute bce {_S}binary_labels.csv {_S}binary_probs.csv",
        aliases=(
            _a("bce", "keras"),
            _a("BinaryCrossentropy", "keras"),
            _a("binary_cross_entropy", "torch", **_TORCH),
            _a("BCELoss", "torch", **_TORCH),
            _a("binary_cross_entropy_with_logits", "torch", from_logits=True, **_TORCH),
            _a("BCEWithLogitsLoss", "torch", from_logits=True, **_TORCH),
            _a("sigmoid_cross_entropy_with_logits", "tf.nn", from_logits=True, elementwise=True),
            _a(
                "weighted_cross_entropy_with_logits",
                "tf.nn",
                from_logits=True,
                elementwise=True,
            ),
            _a("sigmoid_binary_cross_entropy", "optax", from_logits=True, elementwise=True),
        ),
        options={"from_logits": False, "label_smoothing": 0.0, "pos_weight": None},
        features=("elementwise", "class_weight"),
        divergences="Keras clips p to [1e-7, 1-1e-7]: BCE(y=1, p=0) = 16.118095; PyTorch clamps "
        "each log at -100: 100. Keras silently clips logits passed as "
        "probabilities; PyTorch refuses values outside [0, 1]; lossctl stops and suggests "
        "--from-logits.",
    ),
    LossSpec(
        name="binary_focal_crossentropy",
        func="classification:binary_focal_crossentropy",
        family="classification",
        task="binary",
        target="binary",
        prediction="probabilities",
        kind="elementwise",
        summary="Binary cross-entropy down-weighted for easy examples (focal loss).",
        formula="l = -mean_c w (1 - p_t)^gamma log p_t, p_t = y p + (1 - y)(1 - p), "
        "w = alpha y + (1 - alpha)(1 - y) with --class-balancing, else 1",
        when="Heavily imbalanced binary or multi-label detection.",
        siblings=("binary_crossentropy", "sigmoid_focal_loss", "categorical_focal_crossentropy"),
        example=f"lossctl compute binary_focal_crossentropy {_S}binary_labels.csv "
        f"{_S}binary_probs.csv --gamma 2",
        aliases=(_a("BinaryFocalCrossentropy", "keras"),),
        options={
            "gamma": 2.0,
            "alpha": 0.25,
            "class_balancing": False,
            "from_logits": False,
            "label_smoothing": 0.0,
        },
        features=("elementwise",),
        conventions=("keras",),
        divergences="Keras applies alpha only with apply_class_balancing; torchvision's "
        "sigmoid_focal_loss applies alpha=0.25 by default; optax's alpha=None.",
    ),
    LossSpec(
        name="sigmoid_focal_loss",
        func="classification:sigmoid_focal_loss",
        family="classification",
        task="binary",
        target="binary",
        prediction="logits",
        kind="elementwise",
        summary="optax's focal loss on logits, computed in log space.",
        formula="l = CE(x, y) (1 - p_t)^gamma [* alpha_t if --alpha is given]",
        when="Focal loss from logits that stays stable for soft labels and small gamma.",
        siblings=("binary_focal_crossentropy", "binary_crossentropy"),
        example=f"lossctl compute sigmoid_focal_loss {_S}multilabel_labels.csv "
        f"{_S}multilabel_logits.csv",
        aliases=(),
        options={"gamma": 2.0, "alpha": None},
        features=("elementwise",),
        conventions=("keras",),
        divergences="torchvision.ops.sigmoid_focal_loss uses alpha=0.25 by default: pass "
        "--alpha 0.25 to match it.",
    ),
    LossSpec(
        name="categorical_crossentropy",
        func="classification:categorical_crossentropy",
        family="classification",
        task="multi-class",
        target="dense",
        prediction="probabilities",
        kind="row",
        summary="Cross-entropy between one-hot (or soft) labels and a probability row.",
        formula="l = -sum_c y_c log p_c",
        when="Exactly one class per row, labels one-hot. Integer labels: use "
        "sparse_categorical_crossentropy. Independent labels: binary_crossentropy.",
        siblings=("sparse_categorical_crossentropy", "binary_crossentropy", "cross_entropy"),
        example=f"lossctl compute cce {_S}digits_onehot.csv {_S}digits_probs.csv",
        aliases=(
            _a("cce", "keras"),
            _a("CategoricalCrossentropy", "keras"),
            _a("softmax_cross_entropy_with_logits", "tf.nn", from_logits=True),
            _a("softmax_cross_entropy", "optax", from_logits=True),
        ),
        options={"from_logits": False, "label_smoothing": 0.0},
        features=("class_weight",),
        divergences="Keras renormalises each probability row to sum 1, then clips to "
        "[1e-7, 1-1e-7]; PyTorch (nll_loss of log p) does neither, so a row summing to 0.6 "
        "gives 1.098612 vs 1.609438.",
    ),
    LossSpec(
        name="categorical_focal_crossentropy",
        func="classification:categorical_focal_crossentropy",
        family="classification",
        task="multi-class",
        target="dense",
        prediction="probabilities",
        kind="row",
        summary="Categorical cross-entropy down-weighted for easy examples.",
        formula="l = -sum_c alpha (1 - p_c)^gamma y_c log p_c",
        when="Imbalanced multi-class problems with one-hot labels.",
        siblings=("categorical_crossentropy", "binary_focal_crossentropy"),
        example=f"lossctl compute categorical_focal_crossentropy {_S}digits_onehot.csv "
        f"{_S}digits_probs.csv",
        aliases=(_a("CategoricalFocalCrossentropy", "keras"),),
        options={"gamma": 2.0, "alpha": 0.25, "from_logits": False, "label_smoothing": 0.0},
        conventions=("keras",),
        divergences="Keras always applies alpha (gamma=0 gives 0.25 * CCE).",
    ),
    LossSpec(
        name="sparse_categorical_crossentropy",
        func="classification:sparse_categorical_crossentropy",
        family="classification",
        task="multi-class",
        target="index",
        prediction="probabilities",
        kind="row",
        summary="Categorical cross-entropy with integer class labels.",
        formula="l = -log p_y",
        when="Exactly one class per row, labels as integers 0..C-1 (--offset 1 for 1..C). "
        "One-hot labels: categorical_crossentropy.",
        siblings=("categorical_crossentropy", "cross_entropy", "nll"),
        example=f"lossctl compute scce {_S}digits_labels.csv {_S}digits_probs.csv",
        aliases=(
            _a("scce", "keras"),
            _a("SparseCategoricalCrossentropy", "keras"),
            _a("sparse_softmax_cross_entropy_with_logits", "tf.nn", from_logits=True),
            _a("softmax_cross_entropy_with_integer_labels", "optax", from_logits=True),
        ),
        options={"from_logits": False, "label_smoothing": 0.0},
        features=("class_weight", "ignore_class", "offset"),
        torch_mean="class_weights",
        divergences="Keras renormalises and clips probabilities; ignored rows count 0 and the "
        "mean divides by the valid rows, an all-ignored batch gives 0 (PyTorch: NaN). Keras "
        "truncates float labels (1.7 -> 1); lossctl refuses them.",
    ),
    LossSpec(
        name="cross_entropy",
        func="classification:cross_entropy",
        family="classification",
        task="multi-class",
        target="index_or_dense",
        prediction="logits",
        kind="row",
        summary="PyTorch's cross_entropy: log_softmax of logits with index or probability targets.",
        formula="index: l = -w_y log softmax(x)_y; probabilities: l = -sum_c w_c y_c "
        "log softmax(x)_c",
        when="Matching PyTorch's CrossEntropyLoss exactly, including its weighted mean.",
        siblings=("sparse_categorical_crossentropy", "categorical_crossentropy", "nll"),
        example=f"lossctl compute cross_entropy {_S}digits_labels.csv {_S}digits_logits.csv",
        aliases=(_a("CrossEntropyLoss", "torch", **_TORCH),),
        options={"label_smoothing": 0.0},
        features=("class_weight", "ignore_class", "offset"),
        conventions=("torch",),
        default_convention="torch",
        torch_mean="class_weights",
        divergences="With class weights the mean divides by sum(w[y_n]) for index targets but by "
        "N for probability targets: 0.897360 vs 1.346040 on the same data.",
    ),
    LossSpec(
        name="nll",
        func="classification:nll",
        family="classification",
        task="multi-class",
        target="index",
        prediction="log-probabilities",
        kind="row",
        summary="PyTorch's negative log-likelihood of log-probability inputs.",
        formula="l = -w_y x_y   (x = log-probabilities)",
        when="The model ends in log_softmax. Probabilities: sparse_categorical_crossentropy; "
        "logits: cross_entropy.",
        siblings=("cross_entropy", "sparse_categorical_crossentropy"),
        example=f"lossctl compute nll {_S}digits_labels.csv {_S}digits_logprobs.csv",
        aliases=(_a("nll_loss", "torch", **_TORCH), _a("NLLLoss", "torch", **_TORCH)),
        features=("class_weight", "ignore_class", "offset"),
        conventions=("torch",),
        default_convention="torch",
        torch_mean="class_weights",
    ),
    LossSpec(
        name="categorical_generalized_cross_entropy",
        func="classification:categorical_generalized_cross_entropy",
        family="classification",
        task="multi-class",
        target="index",
        prediction="probabilities",
        kind="row",
        summary="Generalized cross-entropy, robust to noisy labels (Zhang & Sabuncu 2018).",
        formula="l = (1 - p_y^q) / q",
        when="Training with noisy labels: interpolates between CE (q -> 0) and MAE (q = 1).",
        siblings=("sparse_categorical_crossentropy",),
        example=f"lossctl compute categorical_generalized_cross_entropy {_S}digits_labels.csv "
        f"{_S}digits_probs.csv --q 0.7",
        aliases=(_a("CategoricalGeneralizedCrossEntropy", "keras"),),
        options={"q": 0.5},
        features=("offset",),
        conventions=("keras",),
    ),
    LossSpec(
        name="poly1_cross_entropy",
        func="classification:poly1_cross_entropy",
        family="classification",
        task="multi-class",
        target="dense",
        prediction="logits",
        kind="row",
        summary="optax's Poly-1 loss: cross-entropy plus epsilon (1 - p_t).",
        formula="l = CE + epsilon (1 - sum_c y_c softmax(x)_c)",
        when="A drop-in CE variant (Leng et al. 2022) that adds weight to the leading "
        "polynomial term.",
        siblings=("categorical_crossentropy",),
        example=f"lossctl compute poly1_cross_entropy {_S}digits_onehot.csv {_S}digits_logits.csv",
        aliases=(_a("poly_loss_cross_entropy", "optax"),),
        options={"epsilon": 2.0},
        conventions=("keras",),
        nonnegative=False,
    ),
    LossSpec(
        name="brier_score",
        func="classification:brier_score",
        family="classification",
        task="multi-class",
        target="dense",
        prediction="probabilities",
        kind="row",
        summary="Squared error between one-hot labels and probabilities (scikit-learn).",
        formula="l = sum_c (y_c - p_c)^2; one column of P(positive): (y - p)^2",
        when="Calibration-sensitive scoring of probabilistic classifiers.",
        siblings=("categorical_crossentropy", "mean_squared_error"),
        example=f"lossctl compute brier_score {_S}binary_labels.csv {_S}binary_probs.csv",
        aliases=(_a("brier_score_loss", "sklearn"),),
        conventions=("keras",),
        divergences="scikit-learn's brier_score_loss halves the 2-column sum (scale_by_half) so "
        "binary scores stay in [0, 1]; multi-class scores lie in [0, 2].",
    ),
    # ------------------------------------------------------------------------ divergences
    LossSpec(
        name="kl_divergence",
        func="divergence:kl_divergence",
        family="divergence",
        task="multi-class",
        target="dense",
        prediction="probabilities",
        kind="row",
        summary="Kullback-Leibler divergence KL(y_true || y_pred).",
        formula="l = sum_c y_c log(y_c / p_c)",
        when="Distillation and distribution matching. Keras takes probabilities; PyTorch's "
        "kl_div takes log-probabilities as y_pred.",
        siblings=("categorical_crossentropy",),
        example=f"lossctl compute kld {_S}digits_onehot.csv {_S}digits_probs.csv",
        aliases=(
            _a("kld", "keras"),
            _a("KLDivergence", "keras"),
            _a("kullback_leibler_divergence", "keras"),
            _a("kl_div", "torch", log_input=True, **_TORCH),
            _a("KLDivLoss", "torch", log_input=True, **_TORCH),
        ),
        options={"log_input": False, "log_target": False},
        torch_mean="elements",
        divergences="Keras clips both inputs to [1e-7, 1] (each zero label adds about -1.4e-6; "
        "labels above 1 are clipped); PyTorch kl_div 'mean' divides by N*C and warns, "
        "'batchmean' by N.",
    ),
    LossSpec(
        name="cosine_similarity",
        func="divergence:cosine_similarity",
        family="divergence",
        task="similarity",
        target="values",
        prediction="values",
        kind="row",
        summary="Negative cosine similarity (Keras sign: -1 means identical).",
        formula="l = -sum_c normalize(y)_c normalize(p)_c",
        when="Comparing directions of embeddings or vectors.",
        siblings=("mean_squared_error",),
        example=f"lossctl compute cosine_similarity {_S}digits_onehot.csv {_S}digits_probs.csv",
        aliases=(_a("CosineSimilarity", "keras"),),
        conventions=("keras",),
        nonnegative=False,
        divergences="Keras returns -cos (in [-1, 1]); optax cosine_similarity returns +cos; "
        "PyTorch cosine_embedding_loss(y=1) returns 1 - cos.",
    ),
    # ----------------------------------------------------------------------------- margin
    LossSpec(
        name="hinge",
        func="margin:hinge",
        family="margin",
        task="binary",
        target="signed",
        prediction="scores",
        kind="elementwise",
        summary="Hinge loss for +-1 labels and real-valued scores.",
        formula="l = mean_c max(1 - y s, 0)   (y in {0,1} -> 2y - 1 when all labels are 0/1)",
        when="Maximum-margin binary classification (SVM-style scores).",
        siblings=("squared_hinge", "categorical_hinge", "soft_margin"),
        example=f"lossctl compute hinge {_S}signed_labels.csv {_S}margin_scores.csv",
        aliases=(_a("Hinge", "keras"),),
        features=("elementwise",),
        conventions=("keras",),
        divergences="Keras converts 0/1 labels to -1/+1 only if every label is 0 or 1; optax "
        "requires +-1; scikit-learn maps any two labels.",
    ),
    LossSpec(
        name="squared_hinge",
        func="margin:squared_hinge",
        family="margin",
        task="binary",
        target="signed",
        prediction="scores",
        kind="elementwise",
        summary="Squared hinge loss.",
        formula="l = mean_c max(1 - y s, 0)^2",
        when="Hinge with a smooth penalty for margin violations.",
        siblings=("hinge",),
        example=f"lossctl compute squared_hinge {_S}signed_labels.csv {_S}margin_scores.csv",
        aliases=(_a("SquaredHinge", "keras"),),
        features=("elementwise",),
        conventions=("keras",),
    ),
    LossSpec(
        name="categorical_hinge",
        func="margin:categorical_hinge",
        family="margin",
        task="multi-class",
        target="dense",
        prediction="scores",
        kind="row",
        summary="Keras's multi-class hinge on one-hot labels.",
        formula="l = max(max_c (1 - y_c) s_c - sum_c y_c s_c + 1, 0)",
        when="Multi-class maximum-margin training with one-hot labels.",
        siblings=("multi_margin", "hinge"),
        example=f"lossctl compute categorical_hinge {_S}digits_onehot.csv {_S}digits_logits.csv",
        aliases=(_a("CategoricalHinge", "keras"),),
        conventions=("keras",),
        divergences="The max over (1 - y) s includes the zero at the true class, so negative "
        "scores differ from PyTorch multi_margin_loss and scikit-learn hinge_loss.",
    ),
    LossSpec(
        name="multi_margin",
        func="margin:multi_margin",
        family="margin",
        task="multi-class",
        target="index",
        prediction="scores",
        kind="row",
        summary="PyTorch's multi-class margin loss on index targets.",
        formula="l = sum_{i != y} w_y max(0, margin - s_y + s_i)^p / C",
        when="Matching PyTorch MultiMarginLoss.",
        siblings=("categorical_hinge",),
        example=f"lossctl compute multi_margin {_S}digits_labels.csv {_S}digits_logits.csv",
        aliases=(
            _a("multi_margin_loss", "torch", **_TORCH),
            _a("MultiMarginLoss", "torch", **_TORCH),
        ),
        options={"p": 1, "margin": 1.0},
        features=("class_weight", "offset"),
        conventions=("torch",),
        default_convention="torch",
    ),
    LossSpec(
        name="soft_margin",
        func="margin:soft_margin",
        family="margin",
        task="binary",
        target="signed",
        prediction="scores",
        kind="elementwise",
        summary="PyTorch's logistic loss on +-1 labels.",
        formula="l = log(1 + exp(-y s))",
        when="Binary logistic regression written with +-1 labels.",
        siblings=("hinge", "binary_crossentropy"),
        example=f"lossctl compute soft_margin {_S}signed_labels.csv {_S}margin_scores.csv",
        aliases=(
            _a("soft_margin_loss", "torch", **_TORCH),
            _a("SoftMarginLoss", "torch", **_TORCH),
        ),
        features=("elementwise",),
        conventions=("torch",),
        default_convention="torch",
    ),
    LossSpec(
        name="multilabel_soft_margin",
        func="margin:multilabel_soft_margin",
        family="margin",
        task="multi-label",
        target="binary",
        prediction="logits",
        kind="row",
        summary="PyTorch's multi-label one-vs-all logistic loss.",
        formula="l = -(1/C) sum_c w_c [y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c)]",
        when="Multi-label classification from logits, matching PyTorch.",
        siblings=("binary_crossentropy",),
        example=f"lossctl compute multilabel_soft_margin {_S}multilabel_labels.csv "
        f"{_S}multilabel_logits.csv",
        aliases=(
            _a("multilabel_soft_margin_loss", "torch", **_TORCH),
            _a("MultiLabelSoftMarginLoss", "torch", **_TORCH),
        ),
        features=("class_weight",),
        conventions=("torch",),
        default_convention="torch",
        divergences="Equals binary_crossentropy --from-logits averaged over classes.",
    ),
    # ----------------------------------------------------------------------- segmentation
    LossSpec(
        name="dice",
        func="segmentation:dice",
        family="segmentation",
        task="segmentation",
        target="binary",
        prediction="probabilities",
        kind="row",
        summary="Dice loss per sample over the class axis.",
        formula="l = 1 - 2 sum_c y_c p_c / (sum_c y_c + sum_c p_c + 1e-7)",
        when="Segmentation masks with class imbalance (overlap rather than pixel accuracy).",
        siblings=("tversky",),
        example=f"lossctl compute dice {_S}multilabel_labels.csv {_S}multilabel_probs.csv",
        aliases=(_a("Dice", "keras"),),
        conventions=("keras",),
        divergences="Keras Dice defaults to axis=None: one scalar over the whole batch; lossctl "
        "reports it per sample (Keras axis=-1). optax dice_loss adds smooth=1 and applies "
        "softmax.",
    ),
    LossSpec(
        name="tversky",
        func="segmentation:tversky",
        family="segmentation",
        task="segmentation",
        target="binary",
        prediction="probabilities",
        kind="row",
        summary="Tversky loss: Dice with separate weights for false positives and negatives.",
        formula="l = 1 - TP / (TP + alpha FN + beta FP + 1e-7)   (Keras's code: alpha weighs "
        "false negatives, although its docstring says false positives)",
        when="Segmentation where missing a region costs more than a false alarm (alpha > beta).",
        siblings=("dice",),
        example=f"lossctl compute tversky {_S}multilabel_labels.csv {_S}multilabel_probs.csv "
        "--alpha 0.7 --beta 0.3",
        aliases=(_a("Tversky", "keras"),),
        options={"alpha": 0.5, "beta": 0.5},
        conventions=("keras",),
        divergences="alpha = beta = 0.5 gives Dice.",
    ),
)


def normalize(name: str) -> str:
    """Lookup key of a loss name: case-insensitive, '-' and '_' equivalent."""
    return name.strip().lower().replace("-", "_")


def _build_index() -> dict[str, tuple[LossSpec, Alias | None]]:
    index: dict[str, tuple[LossSpec, Alias | None]] = {}
    for spec in SPECS:
        for key, alias in [(spec.name, None)] + [(a.name, a) for a in spec.aliases]:
            k = normalize(key)
            if k in index and index[k][0] is not spec:
                raise RuntimeError(f"registry: {key!r} names two losses")
            if k in index and alias is None:
                continue
            index.setdefault(k, (spec, alias))
    return index


_INDEX = _build_index()


def names() -> list[str]:
    """Every canonical name, in registry order."""
    return [s.name for s in SPECS]


def lookup(name: str) -> tuple[LossSpec, Alias | None]:
    """The spec a name refers to and the alias used (None for the canonical name).

    Raises UsageError with "did you mean ...?" for an unknown name.
    """
    hit = _INDEX.get(normalize(name))
    if hit is not None:
        return hit
    keys = list(_INDEX)
    close = difflib.get_close_matches(normalize(name), keys, n=3, cutoff=0.6)
    shown = []
    for k in close:
        canon = _INDEX[k][0].name
        label = k if k == canon else f"{k} ({canon})"
        if label not in shown:
            shown.append(label)
    hint = (
        f"did you mean {', '.join(shown)}? Run `lossctl list` for every loss"
        if shown
        else "run `lossctl list` for every loss and its aliases"
    )
    raise UsageError(f"unknown loss {name!r}", hint=hint)


def get(name: str) -> LossSpec:
    """The spec for any name or alias."""
    return lookup(name)[0]


def options_for(spec: LossSpec, alias: Alias | None = None) -> dict[str, Any]:
    """The loss options with their defaults, alias defaults applied."""
    opts = dict(spec.options)
    if alias is not None:
        for k, v in alias.defaults.items():
            if k in opts:
                opts[k] = v
    return opts


def reduction_rules(spec: LossSpec) -> dict[str, str]:
    """How ``--reduction mean`` turns per-sample values into one number, per convention."""
    per = "mean over the class axis of the elementwise values" if spec.kind == "elementwise" else (
        "one value per row"
    )
    torch = {
        "rows": "sum(l) / N",
        "weights": "sum(w*l) / sum(w) with weights (PyTorch weight=), else sum(l) / N",
        "class_weights": "sum(w[y_n] * l_n) / sum(w[y_n]) over non-ignored rows with class "
        "weights, else / number of non-ignored rows; all ignored -> nan",
        "elements": "sum(l) / (N * C) (PyTorch 'mean'); --reduction batchmean gives sum(l) / N",
    }[spec.torch_mean]
    if spec.kind == "elementwise" and spec.torch_mean == "rows":
        torch = "mean over all N*C elements (= mean of the per-sample values); sum adds every element"
    rules = {
        "per_sample": per,
        "keras": "sum(w*l) / N (N = rows; with --ignore-class, the non-ignored rows; all "
        "ignored -> 0); mean_with_sample_weight: sum(w*l) / sum(w)",
        "torch": torch,
    }
    if spec.finalize == "sqrt":
        rules["keras"] = "sqrt(sum(w*l) / N) where l is the per-sample mean squared error"
        rules["torch"] = rules["keras"]
    return rules


def describe(spec: LossSpec) -> dict[str, Any]:
    """Everything ``list`` and ``explain`` show for a loss, as plain data (JSON-able)."""
    aliases: dict[str, list[str]] = {fw: [] for fw in FRAMEWORKS}
    for a in spec.aliases:
        aliases.setdefault(a.framework, []).append(a.name)
    return {
        "name": spec.name,
        "family": spec.family,
        "task": spec.task,
        "aliases": {k: v for k, v in aliases.items() if v},
        "y_true": TARGETS[spec.target],
        "y_pred": PREDICTIONS[spec.prediction],
        "returns": "elementwise [N, C], reduced to one value per row" if spec.kind == "elementwise"
        else "one value per row [N]",
        "options": {OPTIONS[k].flag: v for k, v in spec.options.items()},
        "features": [f"--{f.replace('_', '-')}" for f in spec.features],
        "conventions": list(spec.conventions),
        "default_convention": spec.default_convention,
        "summary": spec.summary,
        "formula": spec.formula,
        "reduction": reduction_rules(spec),
        "differences": spec.divergences,
        "when": spec.when,
        "siblings": list(spec.siblings),
        "example": spec.example,
    }


def explain_text(info: Mapping[str, Any]) -> str:
    """The ``lossctl explain`` page as Markdown (readable as plain text in a pipe)."""
    lines = [f"# {info['name']}", "", info["summary"], ""]
    if "alias" in info:
        a = info["alias"]
        implied = ", ".join(f"{k}={v}" for k, v in a["implies"].items())
        lines += [f"`{a['name']}` is the {a['framework']} name"
                  + (f"; it implies {implied}." if implied else "."), ""]
    lines += ["## Formula", "", "    " + info["formula"], ""]
    lines += ["## Inputs", "",
              f"- y_true: {info['y_true']}",
              f"- y_pred: {info['y_pred']}",
              f"- returns: {info['returns']}", ""]
    red = info["reduction"]
    lines += ["## Reduction (--reduction mean)", "",
              f"- per sample: {red['per_sample']}",
              f"- keras: {red['keras']}",
              f"- torch: {red['torch']}", ""]
    if info["differences"]:
        lines += ["## Where the frameworks differ", "", info["differences"], ""]
    lines += ["## When to use it", "", info["when"], ""]
    names = [f"{fw}: {', '.join(v)}" for fw, v in info["aliases"].items()]
    if names:
        lines += ["## Names", ""] + [f"- {n}" for n in names] + [""]
    opts = [f"{k} (default {v})" for k, v in info["options"].items()] + info["features"]
    if opts:
        lines += ["## Options", "", ", ".join(opts), ""]
    lines += ["## Example", "", "    " + info["example"], ""]
    if info["siblings"]:
        lines += ["## See also", "", ", ".join(info["siblings"]), ""]
    if info.get("doc"):
        lines += ["## Reference", "", *("    " + ln if ln else "" for ln in info["doc"].splitlines()), ""]
    return "\n".join(lines)
