"""Registry entries: Overlap losses for segmentation: Dice, Tversky.

One :class:`~lossctl.losses.spec.LossSpec` per loss; its function lives in the family module
named by ``func``. Texts name options through :func:`~lossctl.errors.opt`.
"""
from __future__ import annotations

from lossctl.losses.spec import LossSpec
from lossctl.losses.spec import alias as _a

_TORCH = {"convention": "torch"}
_S = "samples/"

SPECS: tuple[LossSpec, ...] = (
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
