"""``lossctl inspect``: what the files hold, whether they fit together, and which loss to run.

:func:`inspect_arrays` takes the label and prediction arrays (and how the user named them on the
command line) and returns an :class:`Inspection`: the detected encodings (from
:mod:`lossctl.encoding`), the problems in the words of the framework errors users meet, and a
ranked list of recommendations, each a complete ``lossctl compute`` command line, plus the
conversion to run where converting the labels is the better fix. Plain data, no printing.
"""
from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from lossctl.encoding import LabelInfo, PredInfo, describe_labels, describe_predictions


@dataclass
class Recommendation:
    loss: str
    command: str
    why: str


@dataclass
class Inspection:
    y_true: dict[str, Any]
    y_pred: dict[str, Any] | None
    fits: bool
    problems: list[str] = field(default_factory=list)  # why they do not fit (fits is False)
    notes: list[str] = field(default_factory=list)  # fit once an option is given (--offset 1)
    recommendations: list[Recommendation] = field(default_factory=list)
    conversions: list[Recommendation] = field(default_factory=list)
    imbalance: float | None = None  # largest class count / smallest

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Invocation:
    """How the user named the inputs, to build command lines that run as they are."""

    true_path: str
    pred_path: str | None = None
    true_cols: str | None = None
    pred_cols: str | None = None
    pred_header: Sequence[str] | None = None  # names of the selected prediction columns

    def compute(self, loss: str, *extra: str) -> str:
        parts = ["lossctl", "compute", loss, self.true_path]
        if self.pred_path and self.pred_path != self.true_path:
            parts.append(self.pred_path)
        if self.true_cols:
            parts += ["--true-cols", self.true_cols]
        if self.pred_cols:
            parts += ["--pred-cols", self.pred_cols]
        parts += list(extra)
        return " ".join(shlex.quote(p) for p in parts)


def inspect_arrays(y_true: Any, y_pred: Any | None, how: Invocation) -> Inspection:
    """Describe the arrays and recommend losses. See the module docstring."""
    li = describe_labels(y_true)
    pi = describe_predictions(y_pred) if y_pred is not None else None
    ins = Inspection(y_true=asdict(li), y_pred=asdict(pi) if pi else None, fits=True)
    classy = li.encoding in ("index", "index_offset", "binary", "onehot", "multihot", "string", "signed")
    if classy and li.counts and len(li.counts) > 1 and min(li.counts) > 0:
        ins.imbalance = max(li.counts) / min(li.counts)
    if pi is None:
        _label_only(li, how, ins)
        return ins
    n_true, n_pred, c = li.rows, pi.rows, pi.columns
    if n_true != n_pred:
        ins.fits = False
        ins.problems.append(
            f"y_true has {n_true} rows but y_pred has {n_pred}: Keras would fail with "
            f"'logits and labels must have the same first dimension, got logits shape "
            f"[{n_pred},{c}] and labels shape [{n_true}]'; PyTorch with 'Expected input "
            f"batch_size ({n_pred}) to match target batch_size ({n_true})'. The files must "
            "hold one row per sample in the same order (a flattened or transposed array, or a "
            "header row read as data, are the usual causes)."
        )
        return ins
    if pi.nan or pi.posinf or pi.neginf:
        ins.problems.append(
            f"y_pred holds {pi.nan} NaN and {pi.posinf + pi.neginf} infinite values: every "
            "loss over them is NaN or infinite (compute names the first row)"
        )
        ins.fits = False
    _recommend(li, pi, how, ins)
    return ins


def _label_only(li: LabelInfo, how: Invocation, ins: Inspection) -> None:
    if li.encoding in ("index", "index_offset") and li.num_classes:
        args = ["-n", str(li.num_classes)]
        if li.offset:
            args += ["--offset", str(li.offset)]
        ins.conversions.append(Recommendation(
            "onehot",
            " ".join(["lossctl", "onehot", shlex.quote(how.true_path), *args, ">", "onehot.csv"]),
            "one-hot labels for categorical_crossentropy",
        ))
    elif li.encoding == "onehot":
        ins.conversions.append(Recommendation(
            "sparse", f"lossctl sparse {shlex.quote(how.true_path)} > labels.csv",
            "class indices for sparse_categorical_crossentropy",
        ))


def _recommend(li: LabelInfo, pi: PredInfo, how: Invocation, ins: Inspection) -> None:
    c = pi.columns
    enc, kind = li.encoding, pi.kind
    rec = ins.recommendations
    conv = ins.conversions

    def add(loss: str, why: str, *extra: str) -> None:
        rec.append(Recommendation(loss, how.compute(loss, *extra), why))

    logits = kind == "logits"
    probs = kind == "probabilities"
    indep = kind == "independent_probabilities"
    logp = kind == "log_probabilities"

    if enc == "string":
        names = list(how.pred_header or [])
        missing = [x for x in li.classes if x not in names]
        if not names or missing:
            ins.fits = False
            shown = ", ".join(map(str, missing[:5])) if names else ", ".join(map(str, li.classes[:5]))
            ins.problems.append(
                f"the labels are text ({li.num_classes} classes) but the prediction columns do "
                f"not name them all (missing: {shown}); give --classes in the order of the "
                "prediction columns, or a prediction file whose header names the classes"
            )
            return
        extra = ("--from-logits",) if logits else ()
        add("sparse_categorical_crossentropy",
            "text labels mapped to the prediction columns by the header"
            + (" ; predictions are logits" if logits else ""), *extra)
        if logits:
            add("cross_entropy", "PyTorch's CrossEntropyLoss on the same logits")
        return

    if enc in ("index", "index_offset"):
        hi = max(li.classes) if li.classes else 0
        lo = min(li.classes) if li.classes else 0
        offset = 0
        if c == 1:
            if kind in ("real", "logits") and len(li.classes) > 2:
                ins.imbalance = None
                ins.notes.append(
                    f"whole-number targets ({lo}..{hi}) with one column of real predictions: "
                    "read as regression (for classification, y_pred needs one column per class)"
                )
                _regression(li, c, add, ins)
                return
            ins.fits = False
            ins.problems.append(
                f"the labels are class indices ({lo}..{hi}) but y_pred has one column: a "
                "multi-class loss needs one column per class"
            )
            return
        if hi >= c:
            if lo >= 1 and hi == c:
                offset = 1
                ins.notes.append(
                    f"the labels run 1..{c} while y_pred has {c} columns (0..{c - 1}): "
                    f"Keras would fail with 'Received a label value of {c} which is outside the "
                    f"valid range of [0, {c})', PyTorch with 'Target {c} is out of bounds'. "
                    "They start at 1: use --offset 1"
                )
            else:
                ins.fits = False
                ins.problems.append(
                    f"labels go up to {hi} but y_pred has only {c} columns: Keras would fail "
                    f"with 'Received a label value of {hi} which is outside the valid range of "
                    f"[0, {c})'"
                )
                return
        elif lo >= 1 and enc == "index_offset" and hi == c:
            offset = 1
        extra: list[str] = []
        if offset:
            extra += ["--offset", str(offset)]
        if logits:
            add("sparse_categorical_crossentropy",
                f"one column of class indices and {c} columns of logits", *extra, "--from-logits")
            add("cross_entropy", "PyTorch's CrossEntropyLoss on the same logits", *extra)
        elif logp:
            add("nll", "class indices with log-probabilities (PyTorch NLLLoss)", *extra)
        else:
            why = f"one column of class indices and {c} columns of probabilities"
            if indep:
                why += " (rows do not all sum to 1: Keras renormalises them)"
            add("sparse_categorical_crossentropy", why, *extra)
            add("categorical_generalized_cross_entropy", "robust to noisy labels", *extra)
        args = ["-n", str(c)] + (["--offset", str(offset)] if offset else [])
        conv.append(Recommendation(
            "onehot",
            " ".join(["lossctl", "onehot", shlex.quote(how.true_path), *args, ">", "onehot.csv"]),
            "for categorical_crossentropy, which needs one-hot labels (with these labels it "
            f"would fail with 'Shapes (N, 1) and (N, {c}) are incompatible')",
        ))
        return

    if enc in ("onehot", "soft") and li.columns > 1:
        if li.columns != c:
            ins.fits = False
            ins.problems.append(
                f"y_true has {li.columns} columns but y_pred has {c}: Keras would fail with "
                f"'Shapes (N, {li.columns}) and (N, {c}) are incompatible'"
            )
            return
        if logits:
            add("categorical_crossentropy", f"{enc} labels with {c} columns of logits", "--from-logits")
            add("cross_entropy", "PyTorch's CrossEntropyLoss with probability targets")
        elif logp:
            add("kl_div", "PyTorch's KLDivLoss: log-probabilities against target probabilities",
                "--reduction", "batchmean")
        else:
            add("categorical_crossentropy", f"{enc} labels with {c} columns of probabilities")
            if enc == "soft":
                add("kl_divergence", "soft targets: the divergence is 0 when the rows match")
        if enc == "onehot":
            conv.append(Recommendation(
                "sparse", f"lossctl sparse {shlex.quote(how.true_path)} > labels.csv",
                "class indices for sparse_categorical_crossentropy",
            ))
        return

    if enc in ("binary", "multihot") or (enc == "soft" and li.columns == 1):
        if li.columns != c:
            ins.fits = False
            ins.problems.append(
                f"y_true has {li.columns} columns but y_pred has {c}: binary and multi-label "
                "losses compare column by column"
            )
            if enc == "binary" and c > 1:
                ins.problems[-1] += (
                    "; one 0/1 column against several prediction columns usually means class "
                    "indices: use sparse_categorical_crossentropy"
                )
            return
        if logits:
            add("binary_crossentropy", "independent 0/1 labels with logits", "--from-logits")
            if c > 1:
                add("multilabel_soft_margin", "PyTorch's multi-label loss on the same logits")
            add("sigmoid_focal_loss", "focal loss for imbalanced labels, from logits")
        elif indep or probs:
            add("binary_crossentropy", "independent 0/1 labels with probabilities")
            add("binary_focal_crossentropy", "focal loss for imbalanced labels")
            if c > 1:
                add("dice", "overlap of the predicted and true sets per sample")
        else:
            ins.fits = False
            ins.problems.append("0/1 labels but the predictions are neither probabilities nor "
                                "logits")
        return

    if enc == "signed":
        if li.columns != c:
            ins.fits = False
            ins.problems.append(f"y_true has {li.columns} columns but y_pred has {c}")
            return
        add("hinge", "+-1 labels with real-valued scores")
        add("squared_hinge", "smooth penalty for margin violations")
        add("soft_margin", "logistic loss on +-1 labels (PyTorch SoftMarginLoss)")
        return

    _regression(li, c, add, ins)


def _regression(li: LabelInfo, c: int, add: Any, ins: Inspection) -> None:
    if li.columns != c:
        ins.fits = False
        ins.problems.append(f"y_true has {li.columns} columns but y_pred has {c}: regression "
                            "losses compare them element by element")
        return
    add("mean_squared_error", "real-valued targets and predictions")
    add("mean_absolute_error", "robust to outliers")
    add("huber", "quadratic near 0, linear in the tails")
