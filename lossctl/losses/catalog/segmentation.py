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
    LossSpec(
        name="dice_loss",
        func="segmentation:dice_loss",
        family="segmentation",
        task="segmentation",
        target="binary",
        prediction="probabilities",
        kind="samples",
        summary="optax's soft Dice loss: softmax of logits, one smoothed ratio per class, "
        "averaged over the classes.",
        formula="dice_c = 1 - (I_c + smooth) / (I_c + alpha (P_c - I_c) + beta (T_c - I_c) + "
        "smooth), summed over the spatial axes (none for [N, C] rows); l = mean_c dice_c",
        when="Porting optax segmentation code: one-hot targets and logits, per-class Dice.",
        siblings=("dice", "binary_dice_loss", "multiclass_generalized_dice_loss"),
        example=f"lossctl compute dice_loss {_S}multilabel_labels.csv {_S}multilabel_logits.csv",
        aliases=(_a("dice_loss", "optax"),),
        options={"from_logits": True, "smooth": 1.0, "alpha": 0.5, "beta": 0.5,
                 "ignore_background": False},
        conventions=("keras",),
        divergences="Keras Dice has no smoothing and no softmax and pools over its axis; "
        "optax sums each class over the spatial axes only, so on 2-D rows every element is "
        "its own ratio. optax's alpha weighs the false positives (Keras Tversky's alpha the "
        "false negatives).",
    ),
    LossSpec(
        name="binary_dice_loss",
        func="segmentation:binary_dice_loss",
        family="segmentation",
        task="segmentation",
        target="binary",
        prediction="probabilities",
        kind="samples",
        summary="optax's binary Dice loss: sigmoid of logits, one smoothed ratio per sample.",
        formula="l = 1 - (I + smooth) / (I + 0.5 (P - I) + 0.5 (T - I) + smooth), the sums over "
        "every element of the sample",
        when="Binary masks from logits (one ratio per image or row).",
        siblings=("dice", "dice_loss"),
        example=f"lossctl compute binary_dice_loss {_S}multilabel_labels.csv "
        f"{_S}multilabel_logits.csv",
        aliases=(_a("binary_dice_loss", "optax"),),
        options={"from_logits": True, "smooth": 1.0},
        conventions=("keras",),
        divergences="Keras Dice(axis=1) on sigmoid outputs is the same ratio without the "
        "smoothing term (1e-7 in the denominator instead).",
    ),
    LossSpec(
        name="multiclass_generalized_dice_loss",
        func="segmentation:multiclass_generalized_dice_loss",
        family="segmentation",
        task="segmentation",
        target="binary",
        prediction="probabilities",
        kind="batch",
        summary="optax's generalized Dice loss: per-class Dice weighted by the inverse "
        "squared class frequencies of the whole batch.",
        formula="w_c = C (1 / (f_c^2 + 1e-7)) / sum_k 1 / (f_k^2 + 1e-7), f_c = sum of the "
        "targets of class c; l_n = mean_c w_c dice_{n,c}; value = mean_n l_n",
        when="Segmentation with very unbalanced classes (Sudre et al. 2017).",
        siblings=("dice_loss", "dice"),
        example=f"lossctl compute multiclass_generalized_dice_loss {_S}multilabel_labels.csv "
        f"{_S}multilabel_logits.csv",
        aliases=(_a("multiclass_generalized_dice_loss", "optax"),),
        options={"from_logits": True, "smooth": 1.0, "ignore_background": False},
        conventions=("keras",),
        divergences="optax returns one number for the batch: the class weights depend on every "
        "sample, so the per-sample values are each sample's share of that mean.",
    ),
)
