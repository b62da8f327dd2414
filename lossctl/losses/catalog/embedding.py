"""Registry entries: losses of several inputs (Gaussian NLL, embedding pairs, triplets, pair
losses over the batch, a linear layer's cross-entropy).

Each declares its inputs by role (``inputs=``; :mod:`lossctl.losses.embedding` says how): the
names of Y_TRUE and Y_PRED, then the further inputs the CLI takes as ``--NAME SOURCE``.
"""
from __future__ import annotations

from lossctl.errors import opt
from lossctl.losses.spec import LossSpec
from lossctl.losses.spec import alias as _a

_TORCH = {"convention": "torch"}
_S = "samples/"

SPECS: tuple[LossSpec, ...] = (
    LossSpec(
        name="gaussian_nll",
        nonnegative=False,
        func="embedding:gaussian_nll",
        family="regression",
        task="regression",
        target="values",
        prediction="values",
        kind="elementwise",
        inputs=("target", "input", "var"),
        summary="PyTorch's Gaussian negative log-likelihood, with the variance as an input.",
        formula="l = 0.5 (log max(var, eps) + (input - target)^2 / max(var, eps))  "
        "(+ 0.5 log(2 pi) with full)",
        when="Regression models that predict a mean and a variance (heteroscedastic "
        "uncertainty).",
        siblings=("mean_squared_error", "poisson_nll"),
        example=f"lossctl compute gaussian_nll {_S}regression_true.csv {_S}regression_pred.csv "
        "--var 400",
        inline_example="printf 'y,mu,v\\n3.0,2.5,0.5\\n-0.5,0.0,1.0\\n2.0,2.1,0.2\\n' | lossctl "
        "compute gaussian_nll - --true-cols y --pred-cols mu --var-cols v",
        aliases=(_a("gaussian_nll_loss", "torch", **_TORCH),
                 _a("GaussianNLLLoss", "torch", **_TORCH)),
        options={"full": False, "eps": 1e-6},
        features=("elementwise",),
        conventions=("torch",),
        default_convention="torch",
        divergences=f"PyTorch clamps the variance at {opt('eps')} (the docs say 'added'); var "
        "may be one per element, one per row (broadcast) or one number. Keras and optax have "
        "no such loss.",
    ),
    LossSpec(
        name="cosine_embedding",
        func="embedding:cosine_embedding",
        family="similarity",
        task="similarity",
        target="signed",
        prediction="embeddings",
        kind="samples",
        inputs=("target", "input1", "input2"),
        summary="PyTorch's cosine embedding loss of pairs labelled similar (1) or not (-1).",
        formula="y = 1: 1 - cos(x1, x2);  y = -1: max(0, cos(x1, x2) - margin)",
        when="Learning embeddings from pairs marked similar or dissimilar.",
        siblings=("cosine_similarity", "hinge_embedding", "margin_ranking"),
        example=f"lossctl compute cosine_embedding {_S}signed_labels.csv {_S}margin_scores.csv "
        f"--input2 {_S}binary_probs.csv",
        inline_example="printf 'y,a0,a1,b0,b1\\n1,1.0,0.2,0.9,0.1\\n-1,0.5,0.5,-0.4,0.6\\n"
        "1,0.1,0.9,0.3,0.8\\n' | lossctl compute cosine_embedding - --true-cols y "
        "--pred-cols 'a*' --input2-cols 'b*'",
        aliases=(_a("cosine_embedding_loss", "torch", **_TORCH),
                 _a("CosineEmbeddingLoss", "torch", **_TORCH)),
        options={"margin": 0.0},
        conventions=("torch",),
        default_convention="torch",
        divergences="cos adds 1e-12 to each squared norm; labels other than +-1 give 0. Keras "
        "cosine_similarity is -cos with no label.",
    ),
    LossSpec(
        name="triplet_margin",
        func="embedding:triplet_margin",
        family="similarity",
        task="similarity",
        target="embeddings",
        prediction="embeddings",
        kind="samples",
        inputs=("anchor", "positive", "negative"),
        summary="PyTorch's triplet margin loss: the anchor nearer its positive than its "
        "negative by a margin.",
        formula="l = max(||a - p + eps||_p - ||a - n + eps||_p + margin, 0)  (swap: "
        "min(d(a, n), d(p, n)))",
        when="Metric learning from (anchor, positive, negative) triplets.",
        siblings=("triplet_margin_with_distance", "optax_triplet_margin"),
        example=f"lossctl compute triplet_margin {_S}digits_probs.csv {_S}digits_logits.csv "
        f"--negative {_S}digits_logprobs.csv",
        inline_example="printf 'a0,a1,p0,p1,n0,n1\\n0,0,0.1,0.1,1,0\\n1,1,1.1,1.1,0,1\\n' | "
        "lossctl compute triplet_margin - --true-cols 'a*' --pred-cols 'p*' --negative-cols "
        "'n*'",
        aliases=(_a("triplet_margin_loss", "torch", **_TORCH),
                 _a("TripletMarginLoss", "torch", **_TORCH)),
        options={"margin": 1.0, "p": 2.0, "eps": 1e-6, "swap": False},
        option_domains={"margin": ">0", "p": ">=0"},
        conventions=("torch",),
        default_convention="torch",
        divergences="PyTorch adds eps to each component of the difference before the norm; "
        "optax adds it to the sum of powers and takes no absolute value "
        "(optax_triplet_margin).",
    ),
    LossSpec(
        name="triplet_margin_with_distance",
        func="embedding:triplet_margin_with_distance",
        family="similarity",
        task="similarity",
        target="embeddings",
        prediction="embeddings",
        kind="samples",
        inputs=("anchor", "positive", "negative"),
        summary="PyTorch's triplet margin loss with a named distance (l2 or cosine).",
        formula="l = max(d(a, p) - d(a, n) + margin, 0), d = pairwise_distance or "
        "1 - cosine_similarity",
        when="Triplet training with a cosine distance.",
        siblings=("triplet_margin",),
        example=f"lossctl compute triplet_margin_with_distance {_S}digits_probs.csv "
        f"{_S}digits_logits.csv --negative {_S}digits_logprobs.csv --distance cosine",
        inline_example="printf 'a0,a1,p0,p1,n0,n1\\n0.2,0,0.1,0.1,1,0\\n1,1,1.1,1.1,0,1\\n' | "
        "lossctl compute triplet_margin_with_distance - --true-cols 'a*' --pred-cols 'p*' "
        "--negative-cols 'n*' --distance cosine",
        aliases=(_a("triplet_margin_with_distance_loss", "torch", **_TORCH),
                 _a("TripletMarginWithDistanceLoss", "torch", **_TORCH)),
        options={"margin": 1.0, "swap": False, "distance": "l2"},
        option_domains={"margin": ">0"},
        conventions=("torch",),
        default_convention="torch",
        divergences=f"PyTorch takes any Python callable; lossctl names two: "
        f"{opt('distance', 'l2')} (pairwise_distance, eps 1e-6) and "
        f"{opt('distance', 'cosine')}.",
    ),
    LossSpec(
        name="optax_triplet_margin",
        func="embedding:optax_triplet_margin",
        family="similarity",
        task="similarity",
        target="embeddings",
        prediction="embeddings",
        kind="samples",
        inputs=("anchor", "positive", "negative"),
        summary="optax's triplet margin loss (eps inside the root, no absolute value).",
        formula="l = max(d(a, p) - d(a, n) + margin, 0), d(x, y) = (sum (x - y)^p + eps)^(1/p)",
        when="Matching optax.losses.triplet_margin_loss.",
        siblings=("triplet_margin",),
        example=f"lossctl compute optax.triplet_margin_loss {_S}digits_probs.csv "
        f"{_S}digits_logits.csv --negative {_S}digits_logprobs.csv",
        inline_example="printf 'a0,a1,p0,p1,n0,n1\\n0,0,0.1,0.1,1,0\\n1,1,1.1,1.1,0,1\\n' | "
        "lossctl compute optax_triplet_margin - --true-cols 'a*' --pred-cols 'p*' "
        "--negative-cols 'n*'",
        aliases=(_a("triplet_margin_loss", "optax", prefix_only=True),),
        options={"margin": 1.0, "p": 2.0, "eps": 1e-6},
        option_domains={"p": ">0"},
        conventions=("keras",),
        divergences="optax computes power(power(a - b, p).sum() + eps, 1/p): with p=2 "
        "identical embeddings are sqrt(eps) apart (PyTorch: eps sqrt(D)); odd p sums signed "
        "differences. The bare name triplet_margin_loss is PyTorch's.",
    ),
    LossSpec(
        name="linear_cross_entropy",
        func="embedding:linear_cross_entropy",
        family="classification",
        task="multi-class",
        target="index_or_dense",
        prediction="hidden",
        kind="row",
        inputs=("target", "hidden", "linear_weight", "linear_bias"),
        optional_inputs=("linear_bias",),
        projection="linear",
        summary="PyTorch's cross_entropy of a linear layer's logits (hidden @ W.T + b).",
        formula="logits = input W^T + b;  l = cross_entropy(logits, target)",
        when="Language-model heads: the loss straight from the hidden states and the output "
        "layer's weight.",
        siblings=("cross_entropy",),
        example=f"lossctl compute linear_cross_entropy {_S}animals_labels.csv "
        f"{_S}animals_probs.csv --linear-weight '2,0,0;0,2,0;0,0,2' --classes bird,cat,dog",
        inline_example="printf 'y,h0,h1\\n1,0.5,2.0\\n0,1.5,-0.5\\n2,0.1,0.3\\n' | lossctl "
        "compute linear_cross_entropy - --true-cols y --pred-cols 'h*' --linear-weight "
        "'1,0;0,1;0.5,0.5'",
        aliases=(_a("linear_cross_entropy", "torch", **_TORCH),
                 _a("LinearCrossEntropyLoss", "torch", **_TORCH)),
        options={"label_smoothing": 0.0},
        features=("class_weight", "ignore_class", "offset"),
        conventions=("torch",),
        default_convention="torch",
        torch_mean="class_weights",
        divergences=f"{opt('linear_weight')} is [C, D], one row per class (nn.Linear's "
        "layout); the values equal cross_entropy of the logits computed first.",
    ),
    LossSpec(
        name="circle",
        func="embedding:circle",
        family="similarity",
        task="similarity",
        target="pair_labels",
        prediction="embeddings",
        kind="batch",
        inputs=("labels", "embeddings"),
        summary="Keras's Circle loss: every pair of the batch, weighted by how far it is from "
        "its optimum.",
        formula="l_i = softplus(LSE_P(i) (-gamma a_p (m - d)) + LSE_N(i) (gamma a_n (1 - m - d))), "
        "d = 1 - cos",
        when="Metric learning with class labels and L2-normalised embeddings.",
        siblings=("ntxent", "triplet_margin"),
        example=f"lossctl compute circle {_S}digits_labels.csv {_S}digits_probs.csv",
        inline_example="printf 'y,e0,e1\\n0,1,0\\n0,0.8,0.6\\n1,0,1\\n1,-0.6,0.8\\n' | lossctl "
        "compute circle - --true-cols y --pred-cols 'e*'",
        aliases=(_a("Circle", "keras"), _a("circle", "keras")),
        options={"gamma": 80.0, "margin": 0.4, "remove_diagonal": True},
        conventions=("keras",),
        divergences="A whole-batch loss: each row's value depends on every row, so lossctl "
        f"computes over all rows at once within {opt('memory_limit')}. Keras masks the rows "
        "with loss 0: the mean divides by the rows with a positive loss.",
    ),
    LossSpec(
        name="ntxent",
        func="embedding:ntxent",
        family="similarity",
        task="similarity",
        target="pair_labels",
        prediction="embeddings",
        kind="batch",
        inputs=("labels", "embeddings"),
        mean_divisor="counts",
        summary="optax's NT-Xent (SimCLR) contrastive loss over the positive pairs of the batch.",
        formula="l = mean over positive pairs (i, j) of -log(e^s_ij / (e^s_ij + sum_neg e^s_ik)), "
        "s = cos / temperature",
        when="Contrastive self-supervised learning (SimCLR) with pair labels.",
        siblings=("circle",),
        example=f"lossctl compute ntxent {_S}digits_labels.csv {_S}digits_probs.csv",
        inline_example="printf 'y,e0,e1\\n0,1,0\\n0,0.8,0.6\\n1,0,1\\n1,-0.6,0.8\\n' | lossctl "
        "compute ntxent - --true-cols y --pred-cols 'e*'",
        aliases=(_a("ntxent", "optax"),),
        options={"temperature": 0.07},
        conventions=("keras",),
        divergences="optax returns only the mean over positive pairs; lossctl's per-sample "
        "value is each anchor's sum over its pairs, and mean divides by the number of pairs. "
        f"A whole-batch loss, within {opt('memory_limit')}.",
    ),
)
