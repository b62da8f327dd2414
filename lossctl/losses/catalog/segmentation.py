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
        summary="Dice loss: one minus the soft overlap of masks and probabilities.",
        formula="l = 1 - 2 sum y p / (sum y + sum p + 1e-7), the sums over axis (default: "
        "every element of the batch, one ratio)",
        when="Segmentation masks with class imbalance (overlap rather than pixel accuracy).",
        siblings=("tversky",),
        example=f"lossctl compute dice {_S}multilabel_labels.csv {_S}multilabel_probs.csv",
        aliases=(_a("Dice", "keras"),),
        options={"axis": None},
        conventions=("keras",),
        overlap=True,
        divergences="Keras Dice defaults to axis=None: one ratio over the whole batch, not the "
        "mean of per-sample ratios (axis=1 for 2-D rows, axis=1,2,3 for [N, H, W, C] maps). "
        "optax dice_loss adds smooth=1 and applies softmax.",
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
        formula="l = 1 - TP / (TP + alpha FN + beta FP + 1e-7), summed over axis (default: the "
        "whole batch)   (Keras's code: alpha weighs false negatives, although its docstring "
        "says false positives)",
        when="Segmentation where missing a region costs more than a false alarm (alpha > beta).",
        siblings=("dice",),
        example=f"lossctl compute tversky {_S}multilabel_labels.csv {_S}multilabel_probs.csv "
        "--alpha 0.7 --beta 0.3",
        aliases=(_a("Tversky", "keras"),),
        options={"alpha": 0.5, "beta": 0.5, "axis": None},
        conventions=("keras",),
        overlap=True,
        divergences="alpha = beta = 0.5 gives Dice. Like Dice, Keras's default axis=None "
        "pools the whole batch into one ratio.",
    ),
)
