"""Registry entries: scikit-learn's classification and ranking metrics (log loss, hinge loss,
0-1 and Hamming losses, coverage error, label ranking loss, D² log-loss and Brier scores).

One :class:`~lossctl.losses.spec.LossSpec` per metric; the functions and the D² reductions
live in :mod:`lossctl.losses.scores`.
"""
from __future__ import annotations

from lossctl.errors import opt
from lossctl.losses.spec import LossSpec
from lossctl.losses.spec import alias as _a

_S = "samples/"
_SK = {"conventions": ("sklearn",), "default_convention": "sklearn"}
_W = "sample weights: sum(w*l) / sum(w) (np.average)"
_ABSENT = ("classes absent from y_true need scikit-learn's labels=; here the classes are the "
           f"prediction columns ({opt('classes')} names them), as labels=range(C)")


def _spec(**kw) -> LossSpec:
    fields = {"family": "classification", "task": "multi-class", "kind": "row", **_SK}
    fields.update(kw)
    return LossSpec(**fields)


SPECS: tuple[LossSpec, ...] = (
    _spec(
        name="log_loss",
        func="scores:log_loss",
        target="index_or_dense",
        prediction="probabilities",
        summary="scikit-learn's log loss: cross-entropy with probabilities clipped at the "
        "dtype's epsilon.",
        formula="l = -sum_k y_k log(clip(p_k, eps, 1 - eps)), eps = finfo(dtype).eps; one column "
        "of P(positive) is read as [1 - p, p]",
        when="Scoring probabilistic classifiers exactly as scikit-learn does.",
        siblings=("categorical_crossentropy", "sparse_categorical_crossentropy",
                  "binary_crossentropy", "d2_log_loss_score"),
        example=f"lossctl compute sklearn.log_loss {_S}digits_labels.csv {_S}digits_probs.csv",
        aliases=(_a("log_loss", "sklearn"),),
        options={"normalize": True},
        features=("offset",),
        divergences="scikit-learn clips at 2.22e-16 (float64) and does not renormalise rows; "
        "Keras clips at 1e-7 (a probability of 0 costs 36.04 here, 16.12 in Keras) and "
        f"renormalises categorical rows. {opt('normalize', False)} sums; {_W}; {_ABSENT}.",
    ),
    _spec(
        name="hinge_loss",
        func="scores:hinge_loss",
        target="index_or_dense",
        prediction="scores",
        summary="scikit-learn's hinge loss of decision functions (Crammer-Singer for several "
        "classes).",
        formula="binary (one score column, -1/+1 or 0/1 labels): l = max(0, 1 - y s); "
        "several classes: l = max(0, 1 - (s_y - max_{k != y} s_k))",
        when="Scoring SVM-style decision functions as scikit-learn does.",
        siblings=("hinge", "categorical_hinge", "multi_margin"),
        example=f"lossctl compute sklearn.hinge_loss {_S}signed_labels.csv {_S}margin_scores.csv",
        aliases=(_a("hinge_loss", "sklearn"),),
        features=("offset",),
        divergences="Keras's hinge averages max(0, 1 - y s) over columns of -1/+1 labels; its "
        "categorical_hinge equals the several-class form here. scikit-learn reads a y_true "
        f"holding one class only as all -1 (LabelBinarizer); {_W}; {_ABSENT}.",
    ),
    _spec(
        name="zero_one_loss",
        func="scores:zero_one_loss",
        target="labels",
        prediction="labels",
        summary="scikit-learn's 0-1 loss: the fraction of wrong predicted labels "
        "(1 - accuracy).",
        formula="l = [y != p]; multi-label indicator rows: l = [any_c y_c != p_c]",
        when=f"Error rate of hard predictions; {opt('normalize', False)} counts the errors.",
        siblings=("hamming_loss",),
        example=f"lossctl compute sklearn.zero_one_loss {_S}multilabel_labels.csv "
        f"{_S}multilabel_labels.csv",
        aliases=(_a("zero_one_loss", "sklearn"),),
        options={"normalize": True},
        divergences="Takes predicted labels, not probabilities (threshold or argmax first). "
        f"{opt('normalize', False)} gives the (weighted) number of errors; {_W}.",
    ),
    _spec(
        name="hamming_loss",
        func="scores:hamming_loss",
        target="labels",
        prediction="labels",
        summary="scikit-learn's Hamming loss: the fraction of wrong labels.",
        formula="l = mean_c [y_c != p_c] (one column: the 0-1 loss)",
        when="Multi-label predictions where each wrong label counts, not each wrong row.",
        siblings=("zero_one_loss",),
        example=f"lossctl compute sklearn.hamming_loss {_S}multilabel_labels.csv "
        f"{_S}multilabel_labels.csv",
        aliases=(_a("hamming_loss", "sklearn"),),
        divergences=f"Predicted labels, not probabilities; {_W}.",
    ),
    _spec(
        name="coverage_error",
        func="scores:coverage_error",
        task="multi-label",
        target="binary",
        prediction="scores",
        summary="scikit-learn's coverage error: how many top-ranked labels cover all true "
        "labels.",
        formula="l = #{k : s_k >= min_{j: y_j = 1} s_j} (0 for a row without true labels)",
        when="Multi-label ranking: the best value is the mean number of true labels.",
        siblings=("label_ranking_loss",),
        example=f"lossctl compute sklearn.coverage_error {_S}multilabel_labels.csv "
        f"{_S}multilabel_probs.csv",
        aliases=(_a("coverage_error", "sklearn"),),
        divergences=f"A multi-label indicator y_true of two or more columns; ties count; {_W}.",
    ),
    _spec(
        name="label_ranking_loss",
        func="scores:label_ranking_loss",
        task="multi-label",
        target="binary",
        prediction="scores",
        summary="scikit-learn's label ranking loss: the fraction of (true, false) label pairs "
        "ranked wrongly.",
        formula="l = #{(t, f): s_f >= s_t} / (n_true n_false); 0 when a row's labels are all "
        "true or all false",
        when="Multi-label ranking quality independent of the number of labels.",
        siblings=("coverage_error",),
        example=f"lossctl compute sklearn.label_ranking_loss {_S}multilabel_labels.csv "
        f"{_S}multilabel_probs.csv",
        aliases=(_a("label_ranking_loss", "sklearn"),),
        divergences=f"Ties count as wrongly ranked pairs; {_W}.",
    ),
    _spec(
        name="d2_log_loss_score",
        func="scores:log_loss",
        target="index_or_dense",
        prediction="probabilities",
        summary="scikit-learn's D² log-loss score: the fraction of the class-frequency model's "
        "log loss explained (higher is better).",
        formula="value = 1 - sum_n w l_n / sum_n w l0_n, l0 the log loss of the weighted class "
        "frequencies of y_true; per sample: the log loss",
        when=f"A pseudo-R² for probabilistic classifiers; {opt('fail_below')} gates it.",
        siblings=("log_loss", "d2_brier_score"),
        example=f"lossctl compute sklearn.d2_log_loss_score {_S}digits_labels.csv "
        f"{_S}digits_probs.csv",
        aliases=(_a("d2_log_loss_score", "sklearn"),),
        features=("offset",),
        aggregate="scores:D2LogLoss",
        higher_is_better=True,
        nonnegative=False,
        divergences="The null model comes from running class sums (one pass, no values held); "
        f"fewer than 2 rows give NaN; {_ABSENT}.",
    ),
    _spec(
        name="d2_brier_score",
        func="scores:brier",
        target="index_or_dense",
        prediction="probabilities",
        summary="scikit-learn's D² Brier score: the fraction of the class-frequency model's "
        "Brier score explained (higher is better).",
        formula="value = 1 - sum_n w b_n / sum_n w b0_n, b the Brier score (halved for two "
        "classes), b0 that of the weighted class frequencies; per sample: the Brier score",
        when=f"A calibration-aware skill score; {opt('fail_below')} gates it.",
        siblings=("brier_score", "d2_log_loss_score"),
        example=f"lossctl compute sklearn.d2_brier_score {_S}binary_labels.csv "
        f"{_S}binary_probs.csv",
        aliases=(_a("d2_brier_score", "sklearn"),),
        features=("offset",),
        aggregate="scores:D2Brier",
        higher_is_better=True,
        nonnegative=False,
        divergences="The null model comes from running class sums (one pass); fewer than 2 rows "
        f"give NaN; {_ABSENT}.",
    ),
)
