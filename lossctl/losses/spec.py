"""What a registry entry is: :class:`LossSpec`, :class:`Alias`, :class:`Option`, and the words
they use (frameworks, tasks, conventions, reductions, input kinds).

The entries themselves live in :mod:`lossctl.losses.catalog` (one module per family, beside the
family's functions); :mod:`lossctl.losses.registry` indexes them. Everything a loss needs beyond
its function is a field here, so the engine never tests a loss's name: how its labels convert
(``label_conversion``), which loss to suggest for class indices (``index_alternative``), what
``log_input`` makes of its predictions, which notes ``compare`` adds, the domain of its options.

Texts name options through :func:`lossctl.errors.opt`, so Python users read ``offset=1`` and the
command line ``--offset 1``. This module imports nothing heavy (no numpy): the CLI reads it to
build its options.
"""
from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lossctl.errors import UsageError, opt

__all__ = [
    "CONVENTIONS",
    "DTYPES",
    "FEATURES",
    "FRAMEWORKS",
    "OPTIONS",
    "PREDICTIONS",
    "PREFIXES",
    "PREFIX_CONVENTIONS",
    "REDUCTIONS",
    "TARGETS",
    "TARGET_SHORT",
    "TASKS",
    "Alias",
    "LossSpec",
    "Option",
    "alias",
    "axes",
    "check_option",
]

#: Frameworks, in the order ``lossctl list`` shows their aliases.
FRAMEWORKS = ("keras", "tf.nn", "torch", "optax", "sklearn")

#: Whose numbers: the conventions a computation can follow. ``keras`` is Keras 3 on its default
#: TensorFlow backend; ``keras-jax`` is Keras 3 on its JAX, NumPy or PyTorch backend, which give
#: other numbers for a few losses (``explain`` says which); ``torch`` is PyTorch.
CONVENTIONS = ("keras", "torch", "keras-jax")

#: How per-sample values become one number (see :mod:`lossctl.losses.reduction`).
REDUCTIONS = ("mean", "sum", "none", "mean_with_sample_weight", "batchmean")

#: Floating-point types a computation can run in.
DTYPES = ("float64", "float32")

#: Tasks, for ``lossctl list --task``.
TASKS = ("regression", "binary", "multi-class", "multi-label", "segmentation", "similarity")

#: Engine-level features a loss may accept (refused for the others).
FEATURES = ("class_weight", "ignore_class", "offset", "elementwise")

#: What y_true must look like.
TARGETS = {
    "values": "real values, same shape as y_pred",
    "binary": "0/1 (or probabilities in [0, 1]), same shape as y_pred",
    "index": f"class indices 0..C-1, one column (use {opt('offset')} for 1..C)",
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
    "probabilities": f"probabilities ({opt('from_logits', True)} for logits)",
    "logits": "logits (raw scores)",
    "log-probabilities": "log-probabilities (log_softmax output)",
    "scores": "real-valued scores (decision function)",
    "rates": f"predicted rates (log-rates with {opt('log_input', True)})",
}


# --- options --------------------------------------------------------------------------------------

#: Domains an option value may be restricted to. Every numeric option must be finite.
DOMAINS = {
    "finite": "be a finite number",
    ">0": "be positive",
    ">=0": "not be negative",
    "[0,1]": "lie in [0, 1]",
    "(0,1)": "lie in (0, 1)",
    "{1,2}": "be 1 or 2",
    "axes": "be none or axis numbers such as 1,2",
}


@dataclass(frozen=True)
class Option:
    """A loss option: its Python name (the CLI derives the flag), type, help and domain.

    ``domain`` is a key of :data:`DOMAINS`; a loss may narrow it (``LossSpec.option_domains``).
    """

    name: str
    type: type
    help: str
    metavar: str = "X"
    domain: str = "finite"


#: Every loss option. A loss lists the ones it takes (with its own default) in ``LossSpec.options``.
OPTIONS: Mapping[str, Option] = MappingProxyType(
    {
        o.name: o
        for o in (
            Option("from_logits", bool, "Y_PRED holds logits (raw scores), not probabilities. "
                   "Default: what the loss name implies (PyTorch's cross_entropy and the "
                   "tf.nn/optax names take logits)."),
            Option("label_smoothing", float, "Smooth the targets: binary y*(1-EPS)+EPS/2, "
                   "categorical y*(1-EPS)+EPS/C (also for integer labels).", "EPS", "[0,1]"),
            Option("pos_weight", float, "Weight of the positive term (BCE from logits, as "
                   "PyTorch/tf.nn).", "W", ">=0"),
            Option("delta", float, "Huber threshold between quadratic and linear (default 1).",
                   "D", ">0"),
            Option("beta", float, "Smooth-L1 threshold (default 1) / Tversky weight of false "
                   "positives (default 0.5).", "B", ">=0"),
            Option("log_input", bool, "poisson_nll: Y_PRED holds log-rates (PyTorch default). "
                   "kl_divergence: Y_PRED holds log-probabilities (implied by kl_div/KLDivLoss)."),
            Option("full", bool, "poisson_nll: add the Stirling term (PyTorch full=True)."),
            Option("quantile", float, "Pinball quantile in (0, 1) (default 0.5).", "Q", "(0,1)"),
            Option("gamma", float, "Focal exponent (default 2).", "G", ">=0"),
            Option("alpha", float, "Focal alpha (0.25) / Tversky weight of false negatives "
                   "(0.5).", "A", "finite"),
            Option("class_balancing", bool, "binary_focal_crossentropy: apply alpha (Keras "
                   "apply_class_balancing)."),
            Option("q", float, "Generalized cross-entropy exponent in (0, 1) (default 0.5).",
                   "Q", "(0,1)"),
            Option("epsilon", float, "Poly-1 coefficient (default 2).", "E"),
            Option("log_target", bool, "kl_divergence (PyTorch): Y_TRUE holds log-probabilities."),
            Option("p", int, "multi_margin exponent, 1 or 2 (default 1).", "P", "{1,2}"),
            Option("margin", float, "multi_margin margin (default 1).", "M"),
            Option("axis", str, "Dice/Tversky: the axes each overlap is summed over, as Keras's "
                   "axis: none (Keras's default: one ratio over the whole batch) or axis numbers "
                   "such as 1 (each row of a 2-D input) or 1,2 (each image's classes of "
                   "[N, H, W, C] maps); 0 is the batch axis.", "AXES", "axes"),
        )
    }
)


def check_option(name: str, value: Any, domain: str | None = None) -> Any:
    """Validate one option value against its domain; returns it (ints for int options).

    Raises:
        UsageError: not a number, NaN or infinite, or outside the domain; it names the option
            (``option=name``) and the value.
    """
    spec = OPTIONS[name]
    if (domain or spec.domain) == "axes":
        return axes(name, value)
    if spec.type is bool:
        if not isinstance(value, bool):
            raise UsageError(f"{opt(name)} takes True or False, not {value!r}", option=name)
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{opt(name)} must be a number, not {value!r}", option=name) from None
    dom = domain or spec.domain
    if not math.isfinite(number):
        raise UsageError(f"{opt(name)} must {DOMAINS[dom]} (got {value!r})",
                         hint="NaN and infinite values are never meaningful here", option=name)
    ok = {
        "finite": True,
        ">0": number > 0,
        ">=0": number >= 0,
        "[0,1]": 0 <= number <= 1,
        "(0,1)": 0 < number < 1,
        "{1,2}": number in (1, 2),
    }[dom]
    if not ok:
        raise UsageError(f"{opt(name)} must {DOMAINS[dom]} (got {value!r})", option=name)
    if spec.type is int:
        if number != int(number):
            raise UsageError(f"{opt(name)} must be a whole number (got {value!r})", option=name)
        return int(number)
    return value


def axes(name: str, value: Any) -> tuple[int, ...] | None:
    """An ``axis`` value: ``None``/``"none"`` (every axis, the batch included) or axis numbers
    (``1``, ``"1,2"``, ``(1, 2)``, negative from the end) as a sorted tuple; 0 is refused (a
    streamed batch is summed over only as a whole, with ``none``)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "")):
        return None
    items = value.split(",") if isinstance(value, str) else (
        list(value) if isinstance(value, (list, tuple)) else [value])
    try:
        out = tuple(sorted({int(str(v).strip()) for v in items}))
    except ValueError:
        raise UsageError(f"{opt(name)} must {DOMAINS['axes']} (got {value!r})",
                         option=name) from None
    if 0 in out:
        raise UsageError(f"{opt(name)} includes axis 0, the batch",
                         hint=f"{opt(name, 'none')} sums over the whole batch; axes from 1 sum "
                         "within each sample", option=name)
    return out


# --- entries ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alias:
    """Another name for a loss, the framework it comes from, and the defaults it implies.

    ``prefix_only``: the bare name means another loss (a name two frameworks use for
    different things, as optax ``cosine_similarity`` (+cos) and Keras ``CosineSimilarity``
    (-cos)); this meaning is reached only as ``framework.name`` (``optax.cosine_similarity``).
    """

    name: str
    framework: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    prefix_only: bool = False


def alias(name: str, framework: str, *, prefix_only: bool = False, **defaults: Any) -> Alias:
    """An :class:`Alias` (the catalogue's shorthand)."""
    return Alias(name, framework, MappingProxyType(defaults), prefix_only)


#: Framework prefixes of loss names (``torch.mse``, ``tf.nn.l2_loss``), longest first, and the
#: convention each selects when it names a loss its framework defines.
PREFIXES = {"tf.nn.": "tf.nn", "keras.": "keras", "torch.": "torch", "optax.": "optax",
            "sklearn.": "sklearn"}
PREFIX_CONVENTIONS = {"keras": "keras", "tf.nn": "keras", "torch": "torch", "sklearn": "sklearn"}


@dataclass(frozen=True)
class LossSpec:
    """One registry entry: the function, its inputs, names, options, and the explain texts."""

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
    option_domains: Mapping[str, str] = field(default_factory=dict)  # narrower than OPTIONS'
    features: tuple[str, ...] = ()
    conventions: tuple[str, ...] = ("keras", "torch")  # frameworks that define this loss
    default_convention: str = "keras"
    finalize: str | None = None  # "sqrt": applied after reduction (RMSE)
    nonnegative: bool = True
    # PyTorch's "mean" divisor for this loss when it differs from the number of rows:
    #   "weights" (mse/l1 with weight: sum(w)), "class_weights" (index-target CE/NLL with weight),
    #   "elements" (kl_div: N*C)
    torch_mean: str = "rows"
    #: "hinge": Keras converts 0/1 labels to -1/+1 when every label is 0 or 1
    label_conversion: str | None = None
    #: the loss to suggest when this dense-target loss is given one column of class indices
    index_alternative: str | None = None
    #: what y_pred holds when ``log_input`` is on, if that changes how it is checked
    log_input_prediction: str | None = None
    #: PyTorch clamps each log term at -100 (BCE) instead of taking log of p as it is
    torch_log_clamp: bool = False
    #: Keras renormalises probability rows (so non-negative scores above 1 are accepted):
    #: "renormalise-clip" (categorical: every backend) or "clip-renormalise" (sparse: TensorFlow)
    keras_renormalises: str | None = None
    #: the loss spreads a row over one column per class (softmax or renormalisation): one
    #: column is a binary problem, for which this is the loss to use
    binary_alternative: str | None = None
    #: for a loss that takes logits and has no from_logits option: the loss of probabilities,
    #: by target kind ("index", "dense")
    probability_form: Mapping[str, str] = field(default_factory=dict)
    #: why Keras's JAX/NumPy/PyTorch backends ("keras-jax") give another number than its
    #: TensorFlow backend ("keras"), for the few losses where they do
    jax_backend: str = ""
    #: extra reasons ``compare`` gives: "always", and "weighted" (with sample weights)
    compare_notes: Mapping[str, str] = field(default_factory=dict)
    divergences: str = ""  # where the frameworks disagree, shown by `explain`
    #: an overlap ratio (Dice, Tversky): summed over the ``axis`` option, not per row
    overlap: bool = False

    def load(self) -> Callable:
        """Import and return the loss function (imports numpy)."""
        module, fn = self.func.split(":")
        return getattr(importlib.import_module(f"lossctl.losses.{module}"), fn)

    @property
    def doc(self) -> str:
        """The function's docstring: the formula and convention notes shown by ``explain``."""
        return inspect.getdoc(self.load()) or ""

    def domain(self, option: str) -> str:
        """The domain of one of this loss's options."""
        return self.option_domains.get(option, OPTIONS[option].domain)

    def prediction_kind(self, options: Mapping[str, Any]) -> str:
        """What y_pred holds with these options: a key of :data:`PREDICTIONS`."""
        if options.get("log_input") and self.log_input_prediction:
            return self.log_input_prediction
        if options.get("from_logits") and self.prediction == "probabilities":
            return "logits"
        return self.prediction
