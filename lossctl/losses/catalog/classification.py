"""Registry entries: Classification losses: binary, focal, categorical, sparse and PyTorch cross-entropy, NLL, Brier.

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
        name="binary_crossentropy",
        func="binary:binary_crossentropy",
        family="classification",
        task="binary",
        target="binary",
        prediction="probabilities",
        kind="elementwise",
        summary="Cross-entropy of independent binary labels (sigmoid outputs).",
        formula="l = -mean_c [y log p + (1 - y) log(1 - p)]",
        when="Binary classification, or multi-label where each column is its own yes/no. "
        "For exactly one class per row use categorical_crossentropy.",
        siblings=("categorical_crossentropy", "binary_focal_crossentropy", "hinge"),
        example=f"lossctl compute bce {_S}binary_labels.csv {_S}binary_probs.csv",
        aliases=(
            _a("bce", "keras"),
            _a("BinaryCrossentropy", "keras"),
            _a("binary_cross_entropy", "torch", **_TORCH),
            _a("BCELoss", "torch", **_TORCH),
            _a("binary_cross_entropy_with_logits", "torch", from_logits=True, **_TORCH),
            _a("BCEWithLogitsLoss", "torch", from_logits=True, **_TORCH),
            _a("sigmoid_cross_entropy_with_logits", "tf.nn", from_logits=True, elementwise=True),
            _a(
                "weighted_cross_entropy_with_logits",
                "tf.nn",
                from_logits=True,
                elementwise=True,
            ),
            _a("sigmoid_binary_cross_entropy", "optax", from_logits=True, elementwise=True),
        ),
        options={"from_logits": False, "label_smoothing": 0.0, "pos_weight": None},
        per_class_options=("pos_weight",),
        features=("elementwise", "class_weight"),
        divergences="Keras clips p to [1e-7, 1-1e-7]: BCE(y=1, p=0) = 16.118095; PyTorch clamps "
        "each log at -100: 100. Keras silently clips logits passed as "
        "probabilities; PyTorch refuses values outside [0, 1]; lossctl stops and suggests "
        f"{opt('from_logits', True)} when they look like logits.",
        torch_log_clamp=True,
    ),
    LossSpec(
        name="binary_focal_crossentropy",
        jax_backend="from logits, Keras on TensorFlow takes the cross-entropy term from the logits; on JAX, NumPy and PyTorch it clips the sigmoid",
        func="binary:binary_focal_crossentropy",
        family="classification",
        task="binary",
        target="binary",
        prediction="probabilities",
        kind="elementwise",
        summary="Binary cross-entropy down-weighted for easy examples (focal loss).",
        formula="l = -mean_c w (1 - p_t)^gamma log p_t, p_t = y p + (1 - y)(1 - p), "
        f"w = alpha y + (1 - alpha)(1 - y) with {opt('class_balancing', True)}, else 1",
        when="Heavily imbalanced binary or multi-label detection.",
        siblings=("binary_crossentropy", "sigmoid_focal_loss", "categorical_focal_crossentropy"),
        example=f"lossctl compute binary_focal_crossentropy {_S}binary_labels.csv "
        f"{_S}binary_probs.csv --gamma 2",
        aliases=(_a("BinaryFocalCrossentropy", "keras"),),
        options={
            "gamma": 2.0,
            "alpha": 0.25,
            "class_balancing": False,
            "from_logits": False,
            "label_smoothing": 0.0,
        },
        features=("elementwise",),
        conventions=("keras",),
        divergences="Keras applies alpha only with apply_class_balancing; torchvision's "
        "sigmoid_focal_loss applies alpha=0.25 by default; optax's alpha=None. From logits, "
        "Keras's default TensorFlow backend computes the cross-entropy term from the logits "
        "(y=1, logit -50, gamma=0: 50.0); its JAX, NumPy and PyTorch backends clip the sigmoid "
        f"first (16.118095; {opt('convention', 'keras-jax')}).",
    ),
    LossSpec(
        name="sigmoid_focal_loss",
        probability_form={"dense": "binary_focal_crossentropy"},
        func="binary:sigmoid_focal_loss",
        family="classification",
        task="binary",
        target="binary",
        prediction="logits",
        kind="elementwise",
        summary="optax's focal loss on logits, computed in log space.",
        formula=f"l = CE(x, y) (1 - p_t)^gamma [* alpha_t if {opt('alpha')} is given]",
        when="Focal loss from logits that stays stable for soft labels and small gamma.",
        siblings=("binary_focal_crossentropy", "binary_crossentropy"),
        example=f"lossctl compute sigmoid_focal_loss {_S}multilabel_labels.csv "
        f"{_S}multilabel_logits.csv",
        aliases=(_a("sigmoid_focal_loss", "optax", elementwise=True),),
        options={"gamma": 2.0, "alpha": None},
        features=("elementwise",),
        conventions=("keras",),
        divergences="torchvision.ops.sigmoid_focal_loss uses alpha=0.25 by default: pass "
        f"{opt('alpha', 0.25)} to match it.",
    ),
    LossSpec(
        name="categorical_crossentropy",
        keras_renormalises="renormalise-clip",
        binary_alternative="binary_crossentropy",
        index_alternative="sparse_categorical_crossentropy",
        func="categorical:categorical_crossentropy",
        family="classification",
        task="multi-class",
        target="dense",
        prediction="probabilities",
        kind="row",
        summary="Cross-entropy between one-hot (or soft) labels and a probability row.",
        formula="l = -sum_c y_c log p_c",
        when="Exactly one class per row, labels one-hot. Integer labels: use "
        "sparse_categorical_crossentropy. Independent labels: binary_crossentropy.",
        siblings=("sparse_categorical_crossentropy", "binary_crossentropy", "cross_entropy"),
        example=f"lossctl compute cce {_S}digits_onehot.csv {_S}digits_probs.csv",
        aliases=(
            _a("cce", "keras"),
            _a("CategoricalCrossentropy", "keras"),
            _a("softmax_cross_entropy_with_logits", "tf.nn", from_logits=True),
            _a("softmax_cross_entropy", "optax", from_logits=True),
            _a("safe_softmax_cross_entropy", "optax", from_logits=True),
        ),
        options={"from_logits": False, "label_smoothing": 0.0},
        features=("class_weight",),
        divergences="Keras renormalises each probability row to sum 1, then clips to "
        "[1e-7, 1-1e-7]; PyTorch (nll_loss of log p) does neither, so a row summing to 0.6 "
        "gives 1.098612 vs 1.609438.",
    ),
    LossSpec(
        name="categorical_focal_crossentropy",
        keras_renormalises="renormalise-clip",
        binary_alternative="binary_focal_crossentropy",
        index_alternative="sparse_categorical_crossentropy",
        func="categorical:categorical_focal_crossentropy",
        family="classification",
        task="multi-class",
        target="dense",
        prediction="probabilities",
        kind="row",
        summary="Categorical cross-entropy down-weighted for easy examples.",
        formula="l = -sum_c alpha (1 - p_c)^gamma y_c log p_c",
        when="Imbalanced multi-class problems with one-hot labels.",
        siblings=("categorical_crossentropy", "binary_focal_crossentropy"),
        example=f"lossctl compute categorical_focal_crossentropy {_S}digits_onehot.csv "
        f"{_S}digits_probs.csv",
        aliases=(_a("CategoricalFocalCrossentropy", "keras"),),
        options={"gamma": 2.0, "alpha": 0.25, "from_logits": False, "label_smoothing": 0.0},
        per_class_options=("alpha",),
        conventions=("keras",),
        divergences="Keras always applies alpha (gamma=0 gives 0.25 * CCE).",
    ),
    LossSpec(
        name="sparse_categorical_crossentropy",
        jax_backend="Keras on TensorFlow clips, then renormalises the clipped row; on JAX, NumPy and PyTorch it renormalises, then clips",
        keras_renormalises="clip-renormalise",
        func="categorical:sparse_categorical_crossentropy",
        family="classification",
        task="multi-class",
        target="index",
        prediction="probabilities",
        kind="row",
        summary="Categorical cross-entropy with integer class labels.",
        formula="l = -log p_y",
        when=f"Exactly one class per row, labels as integers 0..C-1 ({opt('offset', 1)} for 1..C). "
        "One-hot labels: categorical_crossentropy.",
        siblings=("categorical_crossentropy", "cross_entropy", "nll"),
        example=f"lossctl compute scce {_S}digits_labels.csv {_S}digits_probs.csv",
        aliases=(
            _a("scce", "keras"),
            _a("SparseCategoricalCrossentropy", "keras"),
            _a("sparse_softmax_cross_entropy_with_logits", "tf.nn", from_logits=True),
            _a("softmax_cross_entropy_with_integer_labels", "optax", from_logits=True),
        ),
        options={"from_logits": False, "label_smoothing": 0.0},
        features=("class_weight", "ignore_class", "offset"),
        torch_mean="class_weights",
        divergences="Keras on its default TensorFlow backend clips the probabilities to "
        "[1e-7, 1-1e-7] first and then renormalises the clipped row (with many classes the "
        "clipped tail adds up: a 50,000-class softmax scores about 0.3% higher); its JAX, NumPy "
        f"and PyTorch backends renormalise first and then clip ({opt('convention', 'keras-jax')}; "
        f"{opt('compare', 'keras,keras-jax')} shows both). PyTorch (nll_loss of log p) does "
        "neither. Ignored rows count 0 and the mean divides by the valid rows; an all-ignored "
        "batch gives 0 (PyTorch: NaN). Keras truncates float labels (1.7 -> 1); lossctl refuses "
        "them.",
    ),
    LossSpec(
        name="cross_entropy",
        probability_form={"index": "sparse_categorical_crossentropy", "dense": "categorical_crossentropy"},
        func="categorical:cross_entropy",
        family="classification",
        task="multi-class",
        target="index_or_dense",
        prediction="logits",
        kind="row",
        summary="PyTorch's cross_entropy: log_softmax of logits with index or probability targets.",
        formula="index: l = -w_y log softmax(x)_y; probabilities: l = -sum_c w_c y_c "
        "log softmax(x)_c",
        when="Matching PyTorch's CrossEntropyLoss exactly, including its weighted mean.",
        siblings=("sparse_categorical_crossentropy", "categorical_crossentropy", "nll"),
        example=f"lossctl compute cross_entropy {_S}digits_labels.csv {_S}digits_logits.csv",
        aliases=(_a("CrossEntropyLoss", "torch", **_TORCH),),
        options={"label_smoothing": 0.0},
        features=("class_weight", "ignore_class", "offset"),
        conventions=("torch",),
        default_convention="torch",
        torch_mean="class_weights",
        divergences="With class weights the mean divides by sum(w[y_n]) for index targets but by "
        "N for probability targets: 0.897360 vs 1.346040 on the same data.",
    ),
    LossSpec(
        name="nll",
        func="categorical:nll",
        family="classification",
        task="multi-class",
        target="index",
        prediction="log-probabilities",
        kind="row",
        summary="PyTorch's negative log-likelihood of log-probability inputs.",
        formula="l = -w_y x_y   (x = log-probabilities)",
        when="The model ends in log_softmax. Probabilities: sparse_categorical_crossentropy; "
        "logits: cross_entropy.",
        siblings=("cross_entropy", "sparse_categorical_crossentropy"),
        example=f"lossctl compute nll {_S}digits_labels.csv {_S}digits_logprobs.csv",
        aliases=(_a("nll_loss", "torch", **_TORCH), _a("NLLLoss", "torch", **_TORCH),
                 _a("NLLLoss2d", "torch", **_TORCH)),  # deprecated: NLLLoss on [N, C, H, W]
        features=("class_weight", "ignore_class", "offset"),
        conventions=("torch",),
        default_convention="torch",
        torch_mean="class_weights",
    ),
    LossSpec(
        name="categorical_generalized_cross_entropy",
        func="categorical:categorical_generalized_cross_entropy",
        family="classification",
        task="multi-class",
        target="index",
        prediction="probabilities",
        kind="row",
        summary="Generalized cross-entropy, robust to noisy labels (Zhang & Sabuncu 2018).",
        formula="l = (1 - p_y^q) / q",
        when="Training with noisy labels: interpolates between CE (q -> 0) and MAE (q = 1).",
        siblings=("sparse_categorical_crossentropy",),
        example=f"lossctl compute categorical_generalized_cross_entropy {_S}digits_labels.csv "
        f"{_S}digits_probs.csv --q 0.7",
        aliases=(_a("CategoricalGeneralizedCrossEntropy", "keras"),),
        options={"q": 0.5},
        features=("offset",),
        conventions=("keras",),
    ),
    LossSpec(
        name="poly1_cross_entropy",
        binary_alternative="binary_crossentropy",
        index_alternative="cross_entropy",
        func="categorical:poly1_cross_entropy",
        family="classification",
        task="multi-class",
        target="dense",
        prediction="logits",
        kind="row",
        summary="optax's Poly-1 loss: cross-entropy plus epsilon (1 - p_t).",
        formula="l = CE + epsilon (1 - sum_c y_c softmax(x)_c)",
        when="A drop-in CE variant (Leng et al. 2022) that adds weight to the leading "
        "polynomial term.",
        siblings=("categorical_crossentropy",),
        example=f"lossctl compute poly1_cross_entropy {_S}digits_onehot.csv {_S}digits_logits.csv",
        aliases=(_a("poly_loss_cross_entropy", "optax"),),
        options={"epsilon": 2.0},
        conventions=("keras",),
        nonnegative=False,
    ),
    LossSpec(
        name="brier_score",
        func="categorical:brier_score",
        family="classification",
        task="multi-class",
        target="index_or_dense",
        prediction="probabilities",
        kind="row",
        summary="Squared error between one-hot labels and probabilities (scikit-learn).",
        formula="l = sum_c (y_c - p_c)^2 (halved for two columns); one column of P(positive): "
        "(y - p)^2; class-index labels are one-hot encoded, as scikit-learn does",
        when="Calibration-sensitive scoring of probabilistic classifiers.",
        siblings=("categorical_crossentropy", "mean_squared_error"),
        example=f"lossctl compute brier_score {_S}binary_labels.csv {_S}binary_probs.csv",
        aliases=(_a("brier_score_loss", "sklearn"),),
        conventions=("keras", "sklearn"),
        divergences="scikit-learn's brier_score_loss halves the 2-column sum (scale_by_half) so "
        "binary scores stay in [0, 1]; multi-class scores lie in [0, 2].",
    ),
)
