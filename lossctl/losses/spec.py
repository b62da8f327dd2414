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
from lossctl.record import field, record
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
    "ROLES",
    "TARGETS",
    "TARGET_SHORT",
    "TASKS",
    "Alias",
    "LossSpec",
    "Option",
    "Role",
    "alias",
    "axes",
    "check_option",
]

#: Frameworks, in the order ``lossctl list`` shows their aliases.
FRAMEWORKS = ("keras", "tf.nn", "torch", "optax", "sklearn")

#: Whose numbers: the conventions a computation can follow. ``keras`` is Keras 3 on its default
#: TensorFlow backend; ``keras-jax`` is Keras 3 on its JAX, NumPy or PyTorch backend, which give
#: other numbers for a few losses (``explain`` says which); ``torch`` is PyTorch; ``sklearn`` is
#: scikit-learn's metrics (probabilities clipped at the dtype's epsilon, sample weights as
#: ``np.average``: ``sum(w*l) / sum(w)``, multi-output values averaged over the output columns).
CONVENTIONS = ("keras", "torch", "keras-jax", "sklearn")

#: How per-sample values become one number (see :mod:`lossctl.losses.reduction`).
REDUCTIONS = ("mean", "sum", "none", "mean_with_sample_weight", "batchmean")

#: Floating-point types a computation can run in.
DTYPES = ("float64", "float32")

#: Tasks, for ``lossctl list --task``.
TASKS = ("regression", "binary", "multi-class", "multi-label", "segmentation", "similarity",
         "sequence")

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
    "labels": "class labels (one column) or 0/1 indicator rows (multi-label), same shape as "
    "y_pred",
    "positive": "positive values (a deviance's domain), same shape as y_pred",
    "sequences": "integer label sequences [N, S], right-padded (the lengths say where)",
    "pair_labels": "integer labels, one per row: equal labels make positive pairs",
    "padded_indices": "class indices per row, padded with -1, [N, C]",
    "embeddings": "embeddings [N, D] (the anchors)",
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
    "labels": "labels",
    "positive": "positive values",
    "sequences": "label sequences",
    "pair_labels": "pair labels",
    "padded_indices": "indices, -1 pad",
    "embeddings": "anchor",
}

#: What y_pred must look like.
PREDICTIONS = {
    "values": "real values",
    "probabilities": f"probabilities ({opt('from_logits', True)} for logits)",
    "logits": "logits (raw scores)",
    "log-probabilities": "log-probabilities (log_softmax output)",
    "scores": "real-valued scores (decision function)",
    "rates": f"predicted rates (log-rates with {opt('log_input', True)})",
    "labels": "predicted class labels (one column) or 0/1 indicator rows (multi-label)",
    "frame-scores": "per-frame class scores [N, T, C], batch-first: log-probabilities "
    "(PyTorch, used as they are) or logits (Keras, tf.nn, optax: log_softmax applied)",
    "embeddings": "embeddings [N, D]",
    "distances": "distances (or scores) of pairs",
    "hidden": "hidden states [N, D], projected to logits by the linear layer",
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
    "l2|cosine": "be l2 or cosine",
    "tweedie": "be 0 or below, or 1 or above (no Tweedie distribution has a power in (0, 1))",
    "equal-width|equal-mass": "be equal-width or equal-mass",
}


@record(frozen=True)
class Option:
    """A loss option: its Python name (the CLI derives the flag), type, help and domain.

    ``domain`` is a key of :data:`DOMAINS`; a loss may narrow it (``LossSpec.option_domains``).
    """

    name: str
    type: type
    help: str
    metavar: str = "X"
    domain: str = "finite"
    #: the option may also be one value per class (``0.25,0.5,1`` or a list), for the losses
    #: that list it in ``LossSpec.per_class_options``
    per_class: bool = False


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
                   "PyTorch/tf.nn): one number, or one per column (W1,W2,..., PyTorch's "
                   "per-class pos_weight).", "W", ">=0", per_class=True),
            Option("delta", float, "Huber threshold between quadratic and linear (default 1).",
                   "D", ">0"),
            Option("beta", float, "Smooth-L1 threshold (default 1) / Tversky weight of false "
                   "positives (default 0.5).", "B", ">=0"),
            Option("log_input", bool, "poisson_nll: Y_PRED holds log-rates (PyTorch default). "
                   "kl_divergence: Y_PRED holds log-probabilities (implied by kl_div/KLDivLoss; "
                   "the default of the optax KL divergences)."),
            Option("full", bool, "poisson_nll: add the Stirling term / gaussian_nll: add "
                   "0.5 log(2 pi) (PyTorch full=True)."),
            Option("quantile", float, "Pinball quantile in (0, 1) (default 0.5).", "Q", "(0,1)"),
            Option("gamma", float, "Focal exponent (default 2).", "G", ">=0"),
            Option("alpha", float, "Focal alpha (0.25; categorical focal: also one per "
                   "class, A1,A2,..., as Keras takes a list) / Tversky weight of false "
                   "negatives (0.5).", "A", "finite", per_class=True),
            Option("class_balancing", bool, "binary_focal_crossentropy: apply alpha (Keras "
                   "apply_class_balancing)."),
            Option("q", float, "Generalized cross-entropy exponent in (0, 1) (default 0.5).",
                   "Q", "(0,1)"),
            Option("epsilon", float, "Poly-1 coefficient (default 2) / optax cosine_similarity "
                   "and cosine_distance: the lower clip of each squared norm (default 0).", "E"),
            Option("smooth", float, "optax dice losses: added to the numerator and the "
                   "denominator of each ratio (default 1).", "S", ">=0"),
            Option("ignore_background", bool, "optax dice_loss / generalized Dice: leave class "
                   "0 (the background) out of the mean over classes."),
            Option("log_target", bool, "kl_divergence (PyTorch): Y_TRUE holds log-probabilities."),
            Option("p", float, "multi_margin exponent, 1 or 2 (default 1) / triplet_margin: "
                   "the degree of the distance's norm (default 2).", "P", "{1,2}"),
            Option("margin", float, "Margin: multi_margin (default 1), hinge_embedding (1), "
                   "margin_ranking and cosine_embedding (0), triplet_margin (1), circle "
                   "(0.4).", "M"),
            Option("eps", float, "gaussian_nll: the lower clamp of the variance (default "
                   "1e-6) / triplet_margin: added to the difference, PyTorch, or to the sum of "
                   "powers, optax (default 1e-6).", "E", ">=0"),
            Option("swap", bool, "triplet_margin: use the smaller of d(anchor, negative) and "
                   "d(positive, negative) (PyTorch swap=True)."),
            Option("distance", str, "triplet_margin_with_distance: l2 (PyTorch's default, "
                   "pairwise_distance) or cosine (1 - cosine_similarity).", "l2|cosine",
                   "l2|cosine"),
            Option("temperature", float, "ntxent: the temperature dividing the cosine "
                   "similarities (default 0.07).", "T", ">0"),
            Option("remove_diagonal", bool, "circle: leave each sample out of its own "
                   "positives (Keras remove_diagonal, default on)."),
            Option("blank", int, "CTC: the blank class (default 0; tf.nn also counts from the "
                   "end, -1 for the last).", "K"),
            Option("zero_infinity", bool, "CTC (PyTorch): an infinite loss (a sequence too "
                   "short for its target) counts 0."),
            Option("log_epsilon", float, "CTC (optax): the number optax writes for log(0) "
                   "(optax's names: -1e5); it runs optax's recursion.", "E"),
            Option("axis", str, "Dice/Tversky: the axes each overlap is summed over, as Keras's "
                   "axis: none (Keras's default: one ratio over the whole batch) or axis numbers "
                   "such as 1 (each row of a 2-D input) or 1,2 (each image's classes of "
                   "[N, H, W, C] maps); 0 is the batch axis.", "AXES", "axes"),
            Option("power", float, "Tweedie power (scikit-learn mean_tweedie_deviance, "
                   "d2_tweedie_score; default 0): 0 normal (squared error), 1 Poisson, 2 gamma, "
                   "3 inverse Gaussian; none lies in (0, 1).", "P", "tweedie"),
            Option("normalize", bool, "scikit-learn's normalize (zero_one_loss, log_loss): on "
                   "(default), the (weighted) mean; off, the (weighted) sum, as reduction sum."),
            Option("k", int, "top_k_accuracy: a row is a hit when its true class is among the K "
                   "highest scores (default 2, as scikit-learn).", "K", ">0"),
            Option("bins", int, "Calibration metrics: the bins of the reliability table "
                   "(calibration errors: 15; brier_decomposition: 10).", "B", ">0"),
            Option("binning", str, "Calibration errors: equal-width bins of the confidence "
                   "(default) or equal-mass bins, each holding as many rows.",
                   "equal-width|equal-mass", "equal-width|equal-mass"),
        )
    }
)


# --- inputs by role -------------------------------------------------------------------------------


@record(frozen=True)
class Role:
    """An input of a loss by role: the name a loss gives Y_TRUE or Y_PRED (``anchor``,
    ``positive``), or a further input (``var``, ``input2``, ``negative``), which the CLI takes as
    ``--NAME SOURCE`` and Python as ``NAME=`` (any readable source or an array).

    ``per_row``: one row per sample, aligned with Y_TRUE and streamed in blocks with it (its
    rows are checked against theirs); ``False``: read whole, once (a matrix such as a linear
    layer's weight). ``integer``: integer values (lengths, class indices), else floats in the
    computation's dtype. ``scalar``: one number may stand for every element (``--var 0.5``).
    """

    name: str
    help: str
    per_row: bool = True
    integer: bool = False
    scalar: bool = False
    metavar: str = "SOURCE"


#: Every role a loss may name (``LossSpec.inputs``). The first two of a loss's roles name
#: Y_TRUE and Y_PRED; the further ones are generated as options (``--var``) by the CLI.
ROLES: Mapping[str, Role] = MappingProxyType(
    {
        r.name: r
        for r in (
            # names of the two positional inputs (PyTorch's and Keras's words)
            Role("target", "the targets"),
            Role("input", "the predictions (PyTorch's input)"),
            Role("input1", "the first inputs to rank or compare, [N] or [N, D]"),
            Role("anchor", "the anchor embeddings, [N, D]"),
            Role("positive", "the positive embeddings (same class as the anchor), [N, D]"),
            Role("labels", "integer class labels, [N]; equal labels make positive pairs"),
            Role("embeddings", "the embeddings, [N, D]"),
            Role("relevance", "relevance labels of the items of each list (query), [N, L]"),
            Role("scores", "the items' scores (logits), [N, L]"),
            Role("hidden", "hidden states, [N, D], before the linear layer"),
            Role("targets", "label sequences, [N, S] right-padded integer labels"),
            Role("log_probs", "per-frame scores, [N, T, C] batch-first: log-probabilities "
                 "(PyTorch) or logits (Keras, tf.nn, optax)"),
            # further inputs
            Role("var", "Variances of the Gaussian: one per element of Y_PRED, one per row "
                 f"(homoscedastic) or one number ({opt('var', 0.5)})", scalar=True),
            Role("input2", "The second inputs, the same shape as Y_PRED (input1)"),
            Role("negative", "The negative embeddings, [N, D], the same shape as Y_TRUE "
                 "(anchor)"),
            Role("where", "ranking_softmax_loss: 1 for the items of each list that take part, "
                 "0 for those left out (optax's where), the same shape as Y_PRED",
                 integer=True),
            Role("item_weights", "ranking_softmax_loss: a weight per item multiplying its "
                 "relevance label (optax's weights), the same shape as Y_PRED"),
            Role("linear_weight", "The linear layer's weight, [C, D] (one row per class), "
                 "read whole", per_row=False),
            Role("linear_bias", "The linear layer's bias, [C], read whole", per_row=False),
            Role("input_lengths", "CTC: the frames of each sequence, [N] (default: all T), or "
                 "one number for every sequence", integer=True, scalar=True, metavar="LENGTHS"),
            Role("target_lengths", "CTC: the labels of each sequence, [N] (default: all S; "
                 "Keras: the non-zero labels), or one number for every sequence",
                 integer=True, scalar=True, metavar="LENGTHS"),
        )
    }
)


def check_option(name: str, value: Any, domain: str | None = None, *,
                 per_class: bool = False) -> Any:
    """Validate one option value against its domain; returns it (ints for int options).
    ``per_class``: a list of values (or ``"a,b,c"``) is accepted too, each in the domain, and
    returned as a tuple of floats.

    Raises:
        UsageError: not a number, NaN or infinite, or outside the domain; it names the option
            (``option=name``) and the value.
    """
    spec = OPTIONS[name]
    many = isinstance(value, (list, tuple)) or (isinstance(value, str) and "," in value)
    if spec.per_class and many:
        if not per_class:
            raise UsageError(f"{opt(name)} takes one number for this loss, not a list "
                             f"({value!r})", option=name)
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(float(check_option(name, v.strip() if isinstance(v, str) else v, domain))
                     for v in items)
    if spec.per_class and isinstance(value, str):  # one value, as the CLI passes it
        value = value.strip()
    if (domain or spec.domain) == "axes":
        return axes(name, value)
    if "|" in (domain or spec.domain):  # a choice of words
        words = (domain or spec.domain).split("|")
        word = str(value).strip().lower()
        if word not in words:
            raise UsageError(f"{opt(name)} must {DOMAINS[domain or spec.domain]} (got "
                             f"{value!r})", option=name)
        return word
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
        "tweedie": number <= 0 or number >= 1,
    }[dom]
    if not ok:
        raise UsageError(f"{opt(name)} must {DOMAINS[dom]} (got {value!r})", option=name)
    if dom == "{1,2}":
        return int(number)  # (multi_margin's p)
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


@record(frozen=True)
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


@record(frozen=True)
class LossSpec:
    """One registry entry: the function, its inputs, names, options, and the explain texts."""

    name: str
    func: str  # "module:function" inside lossctl.losses
    family: str
    task: str
    target: str  # key of TARGETS
    prediction: str  # key of PREDICTIONS
    #: "elementwise": fn returns (N, C); "row": fn returns (N,) (both on validated rows);
    #: "samples": fn gets the blocks as read (any rank), validates its own labels and returns
    #: (N,) or (values, counted rows); "batch": the same over all rows at once (pairs across
    #: the batch), within the memory limit
    kind: str
    summary: str
    formula: str
    when: str
    siblings: tuple[str, ...]
    example: str
    aliases: tuple[Alias, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)  # option name -> default
    option_domains: Mapping[str, str] = field(default_factory=dict)  # narrower than OPTIONS'
    #: options this loss also takes as one value per class (see ``Option.per_class``)
    per_class_options: tuple[str, ...] = ()
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
    #: why a per-sample value of this loss can be infinite, for the warning that counts them
    #: (default: predictions beyond float64, or the log of a probability of exactly 0)
    nonfinite_cause: str = ""
    #: the reduction when none is given: "sum" for a loss that is one number per tensor in
    #: its framework (tf.nn.l2_loss)
    default_reduction: str = "mean"
    #: an overlap ratio (Dice, Tversky): summed over the ``axis`` option, not per row
    overlap: bool = False
    #: the inputs by role (keys of :data:`ROLES`): the names of Y_TRUE and Y_PRED, then the
    #: further inputs, passed to the function as keyword arguments of those names; () means
    #: (y_true, y_pred) and no further input
    inputs: tuple[str, ...] = ()
    #: further inputs that may be left out (the function then gets None)
    optional_inputs: tuple[str, ...] = ()
    #: "linear": Y_PRED holds hidden states, turned into logits by the ``linear_weight`` (and
    #: ``linear_bias``) roles before anything else (PyTorch linear_cross_entropy)
    projection: str | None = None
    #: the divisor of ``mean`` whatever the convention: "counts" (the per-row counts the
    #: function returns, such as ntxent's positive pairs)
    mean_divisor: str | None = None
    #: a score where higher is better (scikit-learn's d2_*): ``fail_below`` is its gate
    higher_is_better: bool = False
    #: what one per-sample value is, for the report: "loss" (higher is worse), "correct" (1
    #: right, 0 wrong: the accuracies' rows), "score" (the score a ranking ranks: no sample is
    #: worse by its value alone)
    per_sample: str = "loss"
    #: "module:Class" in lossctl.losses: how scikit-learn reduces the values when it is not a
    #: weighted mean of them (roots or medians per output column, maxima, D² ratios to a null
    #: model; see :mod:`lossctl.losses.reduction`). Used under the sklearn convention, and
    #: under any convention for the losses only scikit-learn defines.
    aggregate: str | None = None
    #: the key of the aggregate's ``details()`` table that csv/tsv data output writes in place
    #: of the per-sample rows ("confusion_matrix": the matrix itself), unless ``reduction``
    #: is "none"
    data_table: str | None = None
    #: ("each": ``mean`` divides each row's value by its count, the function's third result,
    #: then averages over the rows: PyTorch CTC's target lengths; a function returns counts
    #: only under the conventions that divide so)
    #: the self-contained example ``explain`` prints (``printf ... | lossctl compute ...``),
    #: for a loss whose inputs the generic one cannot make (further inputs by role)
    inline_example: str = ""

    @property
    def extra_inputs(self) -> tuple[str, ...]:
        """The roles beyond Y_TRUE and Y_PRED."""
        return self.inputs[2:]

    def role_names(self) -> tuple[str, str]:
        """What this loss calls Y_TRUE and Y_PRED."""
        return (self.inputs[0], self.inputs[1]) if self.inputs else ("y_true", "y_pred")

    def load(self) -> Callable:
        """Import and return the loss function (imports numpy)."""
        module, fn = self.func.split(":")
        return getattr(importlib.import_module(f"lossctl.losses.{module}"), fn)

    @property
    def layout_free(self) -> bool:
        """Its function gives the same bits on a column-major ``(N, C)`` block as on a row-major
        one (its module says so with ``LAYOUT_FREE = True``), so a reader may build such blocks
        where that saves a transposition (Arrow and CSV columns, widened NPY floats)."""
        module = self.func.split(":")[0]
        return bool(getattr(importlib.import_module(f"lossctl.losses.{module}"), "LAYOUT_FREE", False))

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
