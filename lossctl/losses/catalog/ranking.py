"""Registry entries: optax's ranking losses (one row per query: relevance labels, scores).

One :class:`~lossctl.losses.spec.LossSpec` per loss; its function lives in the family module
named by ``func``. Texts name options through :func:`~lossctl.errors.opt`.
"""
from __future__ import annotations

from lossctl.errors import opt
from lossctl.losses.spec import LossSpec
from lossctl.losses.spec import alias as _a

_S = "samples/"

SPECS: tuple[LossSpec, ...] = (
    LossSpec(
        name="ranking_softmax_loss",
        func="ranking:ranking_softmax_loss",
        family="ranking",
        task="multi-label",
        target="dense",
        prediction="logits",
        kind="samples",
        inputs=("relevance", "scores", "where", "item_weights"),
        optional_inputs=("where", "item_weights"),
        summary="optax's listwise ranking softmax loss: cross-entropy of the scores' softmax "
        "against the (unnormalised) relevance labels of each list.",
        formula="l = -sum_i y_i log softmax(s)_i over the items of a list (one row per query); "
        f"{opt('where')} leaves items out, {opt('item_weights')} multiplies the labels",
        when="Learning to rank: one row per query, one column per candidate item.",
        siblings=("categorical_crossentropy",),
        example=f"lossctl compute ranking_softmax_loss {_S}multilabel_labels.csv "
        f"{_S}multilabel_logits.csv",
        aliases=(_a("ranking_softmax_loss", "optax"),),
        conventions=("keras",),
        divergences="optax's default reduce_fn=jnp.mean averages over the lists with at least "
        f"one valid item (lossctl's mean); reduce_fn=None is {opt('reduction', 'none')} (an "
        "all-masked list gives 0). Labels are not normalised, unlike a softmax cross-entropy "
        "on distributions.",
    ),
)
