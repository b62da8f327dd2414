"""Registry entries: Margin losses: hinge family, multi-margin, soft margin.

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
        name="hinge",
        label_conversion="hinge",
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
        label_conversion="hinge",
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
        binary_alternative="hinge",
        index_alternative="multi_margin",
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
        probability_form={"dense": "binary_crossentropy"},
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
        divergences=f"Equals binary_crossentropy {opt('from_logits', True)} averaged over classes.",
    ),
)
