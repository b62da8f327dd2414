"""Registry entries: Divergences and similarities: KL divergence, cosine similarity.

One :class:`~lossctl.losses.spec.LossSpec` per loss; its function lives in the family module
named by ``func``. Texts name options through :func:`~lossctl.errors.opt`.
"""
from __future__ import annotations

from lossctl.errors import opt
from lossctl.losses.spec import LossSpec
from lossctl.losses.spec import alias as _a

_TORCH = {"convention": "torch"}
_S = "samples/"

SPECS: tuple[LossSpec, ...] = (
    LossSpec(
        name="kl_divergence",
        binary_alternative="binary_crossentropy",
        index_alternative="sparse_categorical_crossentropy",
        log_input_prediction="log-probabilities",
        compare_notes={"always": "Keras clips both inputs to [1e-7, 1]; PyTorch 'mean' divides by N*C "
                   f"(use {opt('reduction', 'batchmean')} for N)"},
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
    LossSpec(
        name="optax_kl_divergence",
        func="divergence:optax_kl_divergence",
        family="divergence",
        task="multi-class",
        target="dense",
        prediction="probabilities",
        log_input_prediction="log-probabilities",
        binary_alternative="binary_crossentropy",
        kind="row",
        summary="optax's KL divergence KL(y_true || y_pred) of log-predictions, unclipped.",
        formula="l = sum_c t_c (log t_c - lq_c) (0 where t_c = 0); with "
        f"{opt('log_target', True)}: sum_c exp(lt_c) (lt_c - lq_c)",
        when="Porting optax code: predictions as log-probabilities, one value per example, "
        "mean over the rows.",
        siblings=("kl_divergence", "generalized_kl_divergence"),
        example=f"lossctl compute optax_kl_divergence {_S}digits_onehot.csv "
        f"{_S}digits_probs.csv --no-log-input",
        aliases=(
            _a("kl_divergence", "optax", prefix_only=True),
            _a("kl_divergence_with_log_targets", "optax", log_target=True),
        ),
        options={"log_input": True, "log_target": False},
        conventions=("keras",),
        divergences="optax kl_divergence(log_predictions, targets) takes the predictions first "
        "and in log space and clips nothing, where Keras KLDivergence (the bare name "
        "kl_divergence) clips both inputs to [1e-7, 1], so optax's is reached as "
        "optax.kl_divergence; PyTorch kl_div has the same formula but its 'mean' divides by "
        "N*C.",
    ),
    LossSpec(
        name="generalized_kl_divergence",
        func="divergence:generalized_kl_divergence",
        family="divergence",
        task="regression",
        target="counts",
        prediction="rates",
        kind="row",
        summary="optax's generalized KL divergence of unnormalised measures (log-predictions).",
        formula="l = sum_c [t_c (log t_c - lq_c) + exp(lq_c) - t_c]   (0 log 0 = 0)",
        when="Non-negative targets that need not sum to 1 (counts, intensities, NMF-style "
        "fits); equals the KL divergence for distributions.",
        siblings=("optax_kl_divergence", "poisson_nll"),
        example=f"lossctl compute generalized_kl_divergence {_S}regression_true.csv "
        f"{_S}regression_pred.csv --no-log-input",
        aliases=(
            _a("generalized_kl_divergence", "optax"),
            _a("convex_kl_divergence", "optax"),
        ),
        options={"log_input": True},
        conventions=("keras",),
        divergences="optax's convex_kl_divergence is the deprecated name of the same function. "
        f"{opt('log_input', False)} takes the predictions themselves (lossctl's convenience).",
    ),
    LossSpec(
        name="optax_cosine_similarity",
        func="divergence:optax_cosine_similarity",
        family="divergence",
        task="similarity",
        target="values",
        prediction="values",
        kind="row",
        summary="optax's cosine similarity: +cos (1 means the same direction).",
        formula="l = sum_c p_c t_c / (sqrt(max(|p|^2, eps)) sqrt(max(|t|^2, eps)))",
        when="Porting optax code that maximises the cosine; Keras's loss of the same name is "
        "its negative.",
        siblings=("cosine_similarity", "cosine_distance"),
        example=f"lossctl compute optax_cosine_similarity {_S}digits_onehot.csv "
        f"{_S}digits_probs.csv",
        aliases=(_a("cosine_similarity", "optax", prefix_only=True),),
        options={"epsilon": 0.0},
        option_domains={"epsilon": ">=0"},
        conventions=("keras",),
        nonnegative=False,
        divergences="The bare name cosine_similarity is Keras's -cos (a zero vector gives 0); "
        "optax's +cos is optax.cosine_similarity, and a zero vector gives NaN with its "
        f"default {opt('epsilon', 0)}.",
    ),
    LossSpec(
        name="cosine_distance",
        func="divergence:cosine_distance",
        family="divergence",
        task="similarity",
        target="values",
        prediction="values",
        kind="row",
        summary="optax's cosine distance: 1 - cos (0 means the same direction).",
        formula="l = 1 - sum_c p_c t_c / (sqrt(max(|p|^2, eps)) sqrt(max(|t|^2, eps)))",
        when="Comparing directions with a non-negative loss in [0, 2].",
        siblings=("cosine_similarity", "optax_cosine_similarity"),
        example=f"lossctl compute cosine_distance {_S}digits_onehot.csv {_S}digits_probs.csv",
        aliases=(_a("cosine_distance", "optax"),),
        options={"epsilon": 0.0},
        option_domains={"epsilon": ">=0"},
        conventions=("keras",),
        divergences="Keras cosine_similarity + 1 gives the same value except for zero vectors "
        f"(Keras 1, optax NaN with {opt('epsilon', 0)}); PyTorch cosine_embedding_loss(y=1) "
        "floors the squared norms at 1e-12.",
    ),
)
