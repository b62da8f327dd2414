"""Registry entries: optax's Fenchel-Young and margin losses: sparsemax, perceptron, hinge.

One :class:`~lossctl.losses.spec.LossSpec` per loss; its function lives in the family module
named by ``func``. Texts name options through :func:`~lossctl.errors.opt`.
"""
from __future__ import annotations

from lossctl.losses.spec import LossSpec
from lossctl.losses.spec import alias as _a

_S = "samples/"
_EL = {"elementwise": True}  # optax returns one value per score

SPECS: tuple[LossSpec, ...] = (
    LossSpec(
        name="sparsemax_loss",
        func="fenchel:sparsemax_loss",
        family="fenchel",
        task="binary",
        target="binary",
        prediction="logits",
        kind="elementwise",
        summary="optax's binary sparsemax loss on logits (zero once sparse_sigmoid(x) = y).",
        formula="l = sparse_plus(-x) if y else sparse_plus(x),   sparse_plus(z) = 0 (z <= -1), "
        "(z + 1)^2 / 4 (|z| < 1), z (z >= 1)",
        when="A binary loss whose gradient vanishes once the prediction is right by a margin "
        "(a sparse, smooth hinge).",
        siblings=("binary_crossentropy", "optax_hinge_loss"),
        example=f"lossctl compute sparsemax_loss {_S}multilabel_labels.csv "
        f"{_S}multilabel_logits.csv",
        aliases=(_a("sparsemax_loss", "optax", **_EL),),
        features=("elementwise",),
        conventions=("keras",),
        divergences="optax tests the label's truth: a soft label such as 0.3 counts as 1.",
    ),
    LossSpec(
        name="perceptron_loss",
        func="fenchel:perceptron_loss",
        family="fenchel",
        task="binary",
        target="signed",
        prediction="scores",
        kind="elementwise",
        summary="optax's binary perceptron loss on +-1 labels.",
        formula="l = max(0, -y s)",
        when="The perceptron criterion: only misclassified scores cost, with no margin.",
        siblings=("optax_hinge_loss", "hinge"),
        example=f"lossctl compute perceptron_loss {_S}signed_labels.csv {_S}margin_scores.csv",
        aliases=(_a("perceptron_loss", "optax", **_EL),),
        features=("elementwise",),
        conventions=("keras",),
        divergences="Labels are not converted: a 0 label gives 0 (optax requires +-1).",
    ),
    LossSpec(
        name="optax_hinge_loss",
        func="fenchel:optax_hinge_loss",
        family="fenchel",
        task="binary",
        target="signed",
        prediction="scores",
        kind="elementwise",
        summary="optax's binary hinge loss: +-1 labels as they are, elementwise.",
        formula="l = max(0, 1 - y s)   (no 0/1 -> -1/+1 conversion)",
        when="Porting optax code: hinge_loss without Keras's label conversion.",
        siblings=("hinge", "perceptron_loss"),
        example=f"lossctl compute optax_hinge_loss {_S}signed_labels.csv {_S}margin_scores.csv",
        aliases=(_a("hinge_loss", "optax", prefix_only=True, **_EL),),
        features=("elementwise",),
        conventions=("keras",),
        divergences="The name hinge_loss is scikit-learn's too (averaged, any two labels mapped "
        "to -1/+1), so optax's is reached as optax.hinge_loss. Keras hinge converts 0/1 labels "
        "to -1/+1 when all labels are 0/1; optax never does (a 0 label gives 1).",
    ),
    LossSpec(
        name="multiclass_hinge_loss",
        func="fenchel:multiclass_hinge_loss",
        family="fenchel",
        task="multi-class",
        target="index",
        prediction="scores",
        kind="row",
        summary="optax's multiclass (Crammer-Singer) hinge loss on class indices.",
        formula="l = max_c (s_c + 1 - [c = y]) - s_y = max(0, 1 + max_{c != y} s_c - s_y)",
        when="Multi-class maximum-margin training with integer labels.",
        siblings=("categorical_hinge", "multi_margin", "multiclass_perceptron_loss"),
        example=f"lossctl compute multiclass_hinge_loss {_S}digits_labels.csv "
        f"{_S}digits_logits.csv",
        aliases=(_a("multiclass_hinge_loss", "optax"),),
        features=("offset",),
        conventions=("keras",),
        divergences="Keras categorical_hinge takes its max over (1 - y) s, which includes the "
        "0 of the true class (a different number when every wrong score is negative); "
        "PyTorch multi_margin_loss sums over the wrong classes and divides by C.",
    ),
    LossSpec(
        name="multiclass_perceptron_loss",
        func="fenchel:multiclass_perceptron_loss",
        family="fenchel",
        task="multi-class",
        target="index",
        prediction="scores",
        kind="row",
        summary="optax's multiclass perceptron loss: the top score minus the true class's.",
        formula="l = max_c s_c - s_y",
        when="Structured/multiclass perceptron training (Collins 2002).",
        siblings=("multiclass_hinge_loss", "multiclass_sparsemax_loss"),
        example=f"lossctl compute multiclass_perceptron_loss {_S}digits_labels.csv "
        f"{_S}digits_logits.csv",
        aliases=(_a("multiclass_perceptron_loss", "optax"),),
        features=("offset",),
        conventions=("keras",),
    ),
    LossSpec(
        name="multiclass_sparsemax_loss",
        func="fenchel:multiclass_sparsemax_loss",
        family="fenchel",
        task="multi-class",
        target="index",
        prediction="scores",
        kind="row",
        summary="optax's multiclass sparsemax loss (the Fenchel-Young loss of sparsemax).",
        formula="p = sparsemax(s) (projection onto the simplex); l = sum_{p_c > 0} p_c (s_c - "
        "s_y) + 0.5 (1 - sum_c p_c^2)",
        when="Classification with sparse probability outputs (sparsemax instead of softmax).",
        siblings=("sparse_categorical_crossentropy", "multiclass_perceptron_loss"),
        example=f"lossctl compute multiclass_sparsemax_loss {_S}digits_labels.csv "
        f"{_S}digits_logits.csv",
        aliases=(_a("multiclass_sparsemax_loss", "optax"),),
        features=("offset",),
        conventions=("keras",),
    ),
)
