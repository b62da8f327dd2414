"""Registry entries: classification metrics (accuracy, top-k and balanced accuracy, macro and
micro F1, the confusion matrix, ROC AUC, average precision) and calibration metrics (expected
and maximum calibration error, the Brier score decomposition).

One :class:`~lossctl.losses.spec.LossSpec` per metric, registered like a loss; the functions
and the aggregates that reduce them live in :mod:`lossctl.losses.metrics` and
:mod:`lossctl.losses.calibration`. The extra tables (confusion matrix, per-class scores, the
reliability table, the Brier components) are the aggregate's ``details()``.
"""
from __future__ import annotations

from lossctl.errors import opt
from lossctl.losses.spec import LossSpec
from lossctl.losses.spec import alias as _a

_S = "samples/"
_DIGITS = f"{_S}digits_labels.csv {_S}digits_probs.csv"
_BINARY = f"{_S}binary_labels.csv {_S}binary_probs.csv"
_SK = {"conventions": ("sklearn",), "default_convention": "sklearn"}
_W = "sample weights as scikit-learn applies them (they weight every count)"
_CLASSES = ("y_pred is one column per class (probabilities, scores or logits: the argmax, the "
            "first of equal maxima, is predicted) with class indices or one-hot y_true, or one "
            "column of predicted labels, or one column of P(positive) thresholded at 0.5 "
            "(p > 0.5 is class 1); the classes are the prediction columns (scikit-learn's "
            "labels=range(C)), or the labels that occur")
_COUNTS = "running pair counts: any number of rows, no values held"


def _held(bound: str) -> str:
    """How a ranking holds its scores, and the streaming approximation beyond the limit."""
    return ("Exact while every score fits the memory limit (about 40 bytes a value); beyond it "
            "a streaming approximation: each class's scores binned into buckets of relative "
            "width 2**-12 (a bucket's scores tied), the bound on the error in the details "
            f"({bound}) and a warning; raise {opt('memory_limit')} for the exact value")


def _spec(**kw) -> LossSpec:
    fields = {"family": "metrics", "task": "multi-class", "kind": "row",
              "target": "index_or_dense", "prediction": "scores", "features": ("offset",),
              "higher_is_better": True, **_SK}
    fields.update(kw)
    return LossSpec(**fields)


SPECS: tuple[LossSpec, ...] = (
    _spec(
        name="accuracy",
        per_sample="correct",
        func="metrics:accuracy",
        summary="Accuracy: the fraction of rows whose predicted class is the true class "
        "(higher is better).",
        formula="l = [argmax_k p_k == y] (one column: labels [p == y], or [(p > 0.5) == y]); "
        "value = sum(w l) / sum(w)",
        when=f"The plain hit rate of a classifier; {opt('fail_below')} gates it in CI.",
        siblings=("balanced_accuracy", "top_k_accuracy", "zero_one_loss", "confusion_matrix"),
        example=f"lossctl compute accuracy {_DIGITS}",
        aliases=(_a("accuracy_score", "sklearn"),),
        divergences=f"scikit-learn's accuracy_score takes predicted labels; here {_CLASSES}. "
        f"It is 1 - zero_one_loss; {_W}.",
    ),
    _spec(
        name="top_k_accuracy",
        per_sample="correct",
        func="metrics:top_k_accuracy",
        summary="Top-k accuracy: the fraction of rows whose true class is among the k highest "
        "scores (higher is better).",
        formula="l = [#{j : s_j > s_y, or s_j = s_y and j > y} < k]; value = sum(w l) / sum(w)",
        when="Many-class problems where a short list of guesses is what counts.",
        siblings=("accuracy",),
        example=f"lossctl compute top_k_accuracy {_DIGITS} --k 3",
        aliases=(_a("top_k_accuracy_score", "sklearn"),),
        options={"k": 2},
        aggregate="metrics:TopK",
        divergences="Ties rank as scikit-learn's stable sort (of equal scores the higher class "
        "index first). One score column: with k = 1 the threshold is 0.5 when every score is in "
        "[0, 1], else 0, decided over all rows as scikit-learn does; k >= 2 is always a hit. "
        f"{_W}.",
    ),
    _spec(
        name="balanced_accuracy",
        per_sample="correct",
        func="metrics:balanced_accuracy",
        summary="Balanced accuracy: the mean recall over the classes (higher is better).",
        formula="value = mean_{k present} C_kk / sum_j C_kj (C: the weighted confusion matrix, "
        "rows true); per sample: [predicted == y]",
        when="Imbalanced classes, where plain accuracy rewards predicting the majority.",
        siblings=("accuracy", "f1_macro", "confusion_matrix"),
        example=f"lossctl compute balanced_accuracy {_DIGITS}",
        aliases=(_a("balanced_accuracy_score", "sklearn"),),
        aggregate="metrics:BalancedAccuracy",
        divergences="Classes absent from y_true are left out of the mean, as scikit-learn "
        f"(which warns); adjusted=True is not offered. {_CLASSES}; {_COUNTS}; {_W}.",
    ),
    _spec(
        name="f1_macro",
        per_sample="correct",
        func="metrics:f1_macro",
        summary="Macro F1: the mean of the per-class F1 scores (higher is better).",
        formula="F1_k = 2 TP_k / (2 TP_k + FP_k + FN_k) (0 when 0 / 0); value = mean_k F1_k",
        when="Imbalanced classes where every class matters equally.",
        siblings=("f1_micro", "balanced_accuracy", "confusion_matrix"),
        example=f"lossctl compute f1_macro {_DIGITS}",
        aggregate="metrics:MacroF1",
        divergences="scikit-learn's f1_score(average='macro'); a class never true nor predicted "
        "counts 0, as scikit-learn with labels=range(C). The per-class precision, recall and F1 "
        f"come with the result. {_CLASSES}; {_COUNTS}; {_W}.",
    ),
    _spec(
        name="f1_micro",
        per_sample="correct",
        func="metrics:f1_micro",
        summary="Micro F1: F1 of the counts pooled over the classes (higher is better).",
        formula="value = 2 sum TP / (2 sum TP + sum FP + sum FN); with one label per row, the "
        "accuracy",
        when="One F1 over every row; equal to accuracy for single-label classification.",
        siblings=("f1_macro", "accuracy"),
        example=f"lossctl compute f1_micro {_DIGITS}",
        aggregate="metrics:MicroF1",
        divergences="scikit-learn's f1_score(average='micro'); the per-class scores come with "
        f"the result. {_CLASSES}; {_COUNTS}; {_W}.",
    ),
    _spec(
        name="confusion_matrix",
        per_sample="correct",
        func="metrics:confusion_matrix",
        summary="The confusion matrix (rows: true class, columns: predicted class); its value is "
        "the accuracy (higher is better).",
        formula="C_ij = sum_n w_n [y_n = i][predicted_n = j]; value = trace(C) / sum(C)",
        when="Seeing which classes are confused with which; the matrix is what -f csv|tsv "
        "write (a header of predicted classes, a row per true class), is in the JSON output "
        "(details, with the class names) and is drawn as a table on a terminal.",
        siblings=("accuracy", "balanced_accuracy", "f1_macro"),
        example=f"lossctl compute confusion_matrix {_DIGITS}",
        aliases=(_a("confusion_matrix", "sklearn"),),
        aggregate="metrics:ConfusionMatrix",
        data_table="confusion_matrix",
        divergences="scikit-learn's confusion_matrix (with sample weights the entries are "
        f"weight sums); normalize= is not offered. {_CLASSES}; {_COUNTS}.",
    ),
    _spec(
        name="roc_auc",
        per_sample="score",
        func="curves:roc_auc",
        summary="ROC AUC: the probability that a positive row scores above a negative one "
        "(higher is better).",
        formula="binary: sum_{i pos, j neg} w_i w_j ([s_i > s_j] + [s_i = s_j]/2) / (W_pos "
        "W_neg); several classes: the mean one-vs-rest AUC",
        when="Ranking quality of scores independent of any threshold.",
        siblings=("average_precision", "accuracy"),
        example=f"lossctl compute roc_auc {_BINARY}",
        aliases=(_a("roc_auc_score", "sklearn"), _a("roc_auc_ovr", "sklearn")),
        aggregate="curves:RocAuc",
        nonnegative=False,
        divergences="scikit-learn's roc_auc_score (multi_class='ovr', average='macro'). One "
        "score column with 0/1 labels, or two (the second is ranked), is binary; only one class "
        "present gives NaN. scikit-learn refuses several-class scores that do not sum to 1; "
        "here any scores are ranked. Per sample: the score ranked. "
        + _held("auc_error_bound: sum_b P_b N_b / (2 P N)") + ".",
    ),
    _spec(
        name="average_precision",
        per_sample="score",
        func="curves:average_precision",
        summary="Average precision: the area under the precision-recall steps (higher is "
        "better).",
        formula="AP = sum_t (R_t - R_{t-1}) P_t over the distinct scores in decreasing order; "
        "several classes: the mean one-vs-rest AP",
        when="Ranking quality when positives are rare (retrieval, detection).",
        siblings=("roc_auc",),
        example=f"lossctl compute average_precision {_BINARY}",
        aliases=(_a("average_precision_score", "sklearn"),),
        aggregate="curves:AveragePrecision",
        nonnegative=False,
        divergences="scikit-learn's average_precision_score (no interpolation); no positive "
        "row gives 0. Several classes: a class absent from y_true counts 0 (scikit-learn "
        "needs every class present). Per sample: the score ranked. "
        + _held("ap_error_bound") + ".",
    ),
    _spec(
        name="expected_calibration_error",
        func="calibration:expected_calibration_error",
        prediction="probabilities",
        summary="Expected calibration error: the weighted mean gap between confidence and "
        "accuracy over confidence bins (lower is better).",
        formula="ECE = sum_b (W_b / W) |acc_b - conf_b|; confidence = max probability, correct "
        "= [argmax == y]",
        when=f"Is a model's confidence its accuracy? {opt('fail_above')} gates it; the "
        "reliability table comes with the result.",
        siblings=("maximum_calibration_error", "brier_decomposition"),
        example=f"lossctl compute expected_calibration_error {_DIGITS}",
        options={"bins": 15, "binning": "equal-width"},
        aggregate="calibration:ExpectedCalibration",
        higher_is_better=False,
        divergences="scikit-learn has none (its convention: sample weights as np.average); "
        "torchmetrics' CalibrationError(norm='l1') is this with equal-width bins. Equal-width "
        f"bins (b/B, (b+1)/B] use running sums; {opt('binning', 'equal-mass')} holds every "
        "confidence within the memory limit. Per sample: |confidence - correct|.",
    ),
    _spec(
        name="maximum_calibration_error",
        func="calibration:maximum_calibration_error",
        prediction="probabilities",
        summary="Maximum calibration error: the largest gap between confidence and accuracy "
        "over the confidence bins (lower is better).",
        formula="MCE = max_{b: W_b > 0} |acc_b - conf_b|",
        when="The worst-calibrated confidence range, for safety-critical thresholds.",
        siblings=("expected_calibration_error", "brier_decomposition"),
        example=f"lossctl compute maximum_calibration_error {_DIGITS} --bins 10",
        options={"bins": 15, "binning": "equal-width"},
        aggregate="calibration:MaximumCalibration",
        higher_is_better=False,
        divergences="As expected_calibration_error (torchmetrics' norm='max'); empty bins do "
        "not count. Per sample: |confidence - correct|.",
    ),
    _spec(
        name="brier_decomposition",
        func="calibration:brier_decomposition",
        task="binary",
        prediction="probabilities",
        summary="The Brier score with its Murphy decomposition: reliability, resolution and "
        "uncertainty (lower is better).",
        formula="BS = REL - RES + UNC + WBV - 2 WBC (WBV, WBC: within-bin terms, 0 when the "
        "forecasts are constant within bins)",
        when="Why a probabilistic forecast scores as it does: miscalibration (REL) against "
        "discrimination (RES).",
        siblings=("brier_score", "expected_calibration_error", "d2_brier_score"),
        example=f"lossctl compute brier_decomposition {_BINARY}",
        options={"bins": 10},
        aggregate="calibration:BrierDecomposition",
        higher_is_better=False,
        divergences="The value is scikit-learn's brier_score_loss; the components are binned "
        "by forecast probability (equal-width bins) and computed exactly from running sums. "
        "Several probability columns are decomposed per class and summed (two halved, as "
        "scikit-learn's scale_by_half).",
    ),
)
