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
)
