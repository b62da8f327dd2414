"""``lossctl inspect``: what the files hold, whether they fit together, and which loss to run.

:func:`inspect_inputs` opens the label and prediction sources (paths, ``-`` or arrays), streams
their row blocks through :class:`lossctl.detection.LabelStats` and
:class:`lossctl.detection.PredStats` in blocks sized from the memory budget (nothing is held
whole), and returns an :class:`Inspection`: the detected encodings, the problems in the words
of the framework errors users meet, and a ranked list of recommendations, each a complete
``lossctl compute`` command line, plus the conversion to run where converting the labels is the
better fix. Every command line carries the column, header and delimiter options the inputs were
read with, so it runs as printed. :func:`inspect_arrays` does the same for two arrays already in
memory. Plain data, no printing. N-D inputs (label maps, prediction maps: segmentation masks,
sequences) are inspected by :mod:`lossctl.inspection_maps`, which finds their layout.
"""
from __future__ import annotations

import contextlib
import shlex
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import IO, Any

import numpy as np

from lossctl import budget, inputs, mismatch
from lossctl.detection import (
    LabelInfo,
    LabelStats,
    PredInfo,
    PredStats,
    describe_label_stream,
    describe_labels,
    describe_predictions,
)
from lossctl.errors import UsageError, opt

__all__ = ["Inspection", "Invocation", "Recommendation", "inspect_arrays", "inspect_inputs"]


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
    #: N-D inputs: their shapes and the class axis found (see lossctl.inspection_maps)
    layout: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Delimiters as the command line spells them best (every one of these is accepted).
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", " ": "space"}


@dataclass
class Invocation:
    """How the user named the inputs, to build command lines that run as they are.

    Attributes:
        true_path, pred_path: the inputs as given (``pred_path`` None: the same file).
        true_cols, pred_cols: the column SPECs given.
        pred_header: names of the selected prediction columns (a file with a header).
        header: the input header option, when the user gave it.
        delimiter: the input delimiter, when the user gave it.
        true_named: the selected label columns have header names other than 0..k-1.
        class_axis: N-D inputs: the class axis of the predictions (1, or -1 for the last).
        explicit_axis: give ``--class-axis`` to every command (an ambiguous layout); otherwise
            only where it differs from the loss's convention (PyTorch's 1, Keras's -1).
    """

    true_path: str
    pred_path: str | None = None
    true_cols: str | None = None
    pred_cols: str | None = None
    pred_header: Sequence[str] | None = None
    header: bool | None = None
    delimiter: str | None = None
    true_named: bool = False
    class_axis: int | None = None
    explicit_axis: bool = False

    def _axis(self, loss: str) -> list[str]:
        if self.class_axis is None:
            return []
        from lossctl.losses import registry

        spec, alias = registry.lookup(loss)
        conv = (alias.defaults.get("convention") if alias else None) or spec.default_convention
        if self.explicit_axis or self.class_axis != (1 if conv == "torch" else -1):
            return ["--class-axis", str(self.class_axis)]
        return []

    def _delimiter(self) -> list[str]:
        if self.delimiter is None:
            return []
        return ["--delimiter", _DELIMITER_NAMES.get(self.delimiter, self.delimiter)]

    def compute(self, loss: str, *extra: str) -> str:
        parts = ["lossctl", "compute", loss, self.true_path]
        if self.pred_path:
            parts.append(self.pred_path)
        if self.true_cols:
            parts += ["--true-cols", self.true_cols]
        if self.pred_cols:
            parts += ["--pred-cols", self.pred_cols]
        if self.header is not None:
            parts.append("--header" if self.header else "--no-header")
        parts += self._delimiter()
        parts += list(extra) + self._axis(loss)
        return " ".join(shlex.quote(p) for p in parts)

    def convert(self, command: str, *args: str, output: str) -> str:
        """``lossctl onehot|sparse`` on the label columns, redirected to ``output``."""
        parts = ["lossctl", command, self.true_path, *args]
        if self.true_cols:
            parts += ["--cols", self.true_cols]
        if self.header is not None:  # the converters' --header writes the output's
            parts.append("--input-header" if self.header else "--no-input-header")
        parts += self._delimiter()
        if command == "sparse" and self.true_named:
            parts.append("--numbers")  # class indices, not the header's names
        return " ".join(shlex.quote(p) for p in parts) + " > " + output


# ------------------------------------------------------------------------------ streaming
def _blocks(src: Any, sel: Sequence[int]):
    """A new pass over the selected columns of ``src`` each time it is called."""
    return lambda: src.blocks(sel)


def _size_blocks(src: Any, columns: int, size: int) -> None:
    inputs.set_block_rows((src,), budget.block_rows(size, 8 * max(columns, 1)))


def _numeric(part: np.ndarray) -> np.ndarray:
    """A part of a text block as numbers when every cell is one (the other columns of the
    block made it text), else as it is."""
    if part.dtype.kind not in "US":
        return part
    try:
        return part.astype(np.float64)
    except ValueError:
        return part


def _one_pass(t: Any, tsel: list[int], psel: list[int], size: int) -> tuple[LabelInfo, PredInfo]:
    """Labels and predictions of one source that can be read only once (standard input)."""
    _size_blocks(t, len(tsel) + len(psel), size)
    ls, ps = LabelStats(), PredStats()
    k = len(tsel)
    for b in t.blocks(list(tsel) + list(psel)):
        both = b if isinstance(b, np.ndarray) else b.data
        ls.feed(_numeric(both[:, :k]))
        ps.feed(_numeric(both[:, k:]))
    return ls.info(), ps.info()


def _name(value: Any, placeholder: str) -> str:
    return value if isinstance(value, str) else placeholder


def inspect_inputs(
    y_true: Any,
    y_pred: Any = None,
    *,
    true_cols: str | None = None,
    pred_cols: str | None = None,
    header: bool | None = None,
    delimiter: str | None = None,
    memory_limit: str | int = budget.DEFAULT,
    stdin: IO[bytes] | None = None,
) -> Inspection:
    """Describe two inputs (or the labels alone) and recommend losses, streaming their rows.

    Args:
        y_true, y_pred: paths (``file.npz:key``, ``-``) or arrays. ``y_pred=None`` with
            ``pred_cols``: both from ``y_true``; without: the labels alone.
        true_cols, pred_cols: column SPECs.
        header, delimiter: how to read text inputs (None: detected).
        memory_limit: the budget the blocks are sized from (``"256M"``).
        stdin: the binary stream read for ``-``.
    """
    size = budget.parse_size(memory_limit)
    if isinstance(y_true, str) and y_true == "-" and isinstance(y_pred, str) and y_pred == "-":
        raise UsageError(f"{opt('y_true')} and {opt('y_pred')} cannot both be standard input")
    ro = inputs.read_options(header, delimiter, size)
    same = y_pred is None and pred_cols is not None
    pi = pred_header = None
    with contextlib.ExitStack() as stack:
        t = stack.enter_context(inputs.open_input(y_true, "y_true", ro, stdin))
        tsel = inputs.select(t, true_cols, "true_cols")
        # header names other than 0..k-1 on the label columns: sparse would write them
        true_named = t.has_header and tsel is not None and any(
            t.columns[i] != str(j) for j, i in enumerate(tsel))
        p = psel = None
        if y_pred is not None or same:
            p = t if same else stack.enter_context(inputs.open_input(y_pred, "y_pred", ro, stdin))
            psel = inputs.select(p, pred_cols, "pred_cols")
        how = Invocation(_name(y_true, "Y_TRUE"),
                         None if y_pred is None else _name(y_pred, "Y_PRED"), true_cols,
                         pred_cols, None, header=header, delimiter=ro.delimiter,
                         true_named=true_named)
        if _dims(t, tsel) is not None or (p is not None and _dims(p, psel) is not None):
            from lossctl.inspection_maps import inspect_maps

            return inspect_maps(t, tsel, p, psel, how, size)
        if same and t.single_pass:
            li, pi = _one_pass(t, tsel, psel, size)
        else:
            _size_blocks(t, len(tsel), size)
            li = describe_label_stream(_blocks(t, tsel), again=not t.single_pass)
            if p is not None:
                _size_blocks(p, len(psel), size)
                ps = PredStats()
                for b in _blocks(p, psel)():
                    ps.feed(b)
                pi = ps.info()
        if p is not None and p.has_header and li.encoding == "string":  # matched by name
            pred_header = [p.columns[i] for i in psel]
    how.pred_header = pred_header
    return _inspect(li, pi, how)


def _dims(src: Any, sel: Any) -> tuple[int, ...] | None:
    """The sample shape of an N-D input (None: rows of columns); ``select`` has set it for a
    selected column of nested lists."""
    return src.dims


def inspect_arrays(y_true: Any, y_pred: Any | None, how: Invocation) -> Inspection:
    """Describe two arrays in memory and recommend losses. See the module docstring."""
    if np.ndim(y_true) >= 3 or (y_pred is not None and np.ndim(y_pred) >= 3):
        from lossctl.inspection_maps import inspect_maps

        size = budget.parse_size(budget.DEFAULT)
        ro = inputs.read_options(None, None, size)
        t = inputs.ArraySource(y_true, "y_true", ro)
        p = None if y_pred is None else inputs.ArraySource(y_pred, "y_pred", ro)
        return inspect_maps(t, t.select(None), p, None if p is None else p.select(None), how,
                            size)
    li = describe_labels(y_true)
    pi = describe_predictions(y_pred) if y_pred is not None else None
    return _inspect(li, pi, how)


def _inspect(li: LabelInfo, pi: PredInfo | None, how: Invocation) -> Inspection:
    ins = Inspection(y_true=asdict(li), y_pred=asdict(pi) if pi else None, fits=True)
    classy = li.encoding in ("index", "index_offset", "binary", "onehot", "multihot", "string", "signed")
    counts = [n for x, n in zip(li.classes, li.counts) if x != li.void] if li.void is not None \
        else li.counts
    if classy and counts and len(counts) > 1 and min(counts) > 0 and not li.classes_truncated:
        ins.imbalance = max(counts) / min(counts)
    if li.classes_truncated and li.encoding != "string":
        ins.notes.append(f"y_true holds more than {len(li.classes)} distinct label values: its "
                         "classes and counts show the smallest of them; so many values are "
                         "rarely class labels")
    elif li.classes_truncated and pi is None:
        ins.notes.append(f"y_true: {li.reason}")
    if pi is None:
        _label_only(li, how, ins)
        return ins
    n_true, n_pred, c = li.rows, pi.rows, pi.columns
    if n_true != n_pred:
        ins.fits = False
        err = mismatch.rows([("y_true", None, n_true), ("y_pred", None, n_pred)], columns=c)
        ins.problems.append(str(err))  # the one text of this mismatch (lossctl.mismatch)
        return ins
    if pi.nan or pi.posinf or pi.neginf:
        ins.problems.append(
            f"y_pred holds {pi.nan} NaN and {pi.posinf + pi.neginf} infinite values: every "
            "loss over them is NaN or infinite (compute names the first row)"
        )
        ins.fits = False
    _recommend(li, pi, how, ins)
    return ins


def _onehot(how: Invocation, c: int, offset: int, why: str,
            void: int | None = None) -> Recommendation:
    args = ["-n", str(c), *label_options(offset, void)]
    return Recommendation("onehot", how.convert("onehot", *args, output="onehot.csv"), why)


def _sparse(how: Invocation) -> Recommendation:
    return Recommendation("sparse", how.convert("sparse", output="labels.csv"),
                          "class indices for sparse_categorical_crossentropy")


def _label_only(li: LabelInfo, how: Invocation, ins: Inspection) -> None:
    if li.encoding in ("index", "index_offset") and li.num_classes:
        if li.void is not None:
            ins.notes.append(f"label {li.void} stands apart from the classes: if it marks rows "
                             f"to ignore, use --ignore-class {li.void}")
        ins.conversions.append(_onehot(how, li.num_classes, li.offset,
                                       "one-hot labels for categorical_crossentropy", li.void))
    elif li.encoding == "onehot":
        ins.conversions.append(_sparse(how))


class _Ctx:
    """What every recommender needs: the two descriptions, the output and ``add``."""

    def __init__(self, li: LabelInfo, pi: PredInfo, how: Invocation, ins: Inspection) -> None:
        self.li, self.pi, self.how, self.ins = li, pi, how, ins
        self.c = pi.columns
        kind = pi.kind
        self.logits = kind == "logits"
        self.probs = kind == "probabilities"
        self.indep = kind == "independent_probabilities"
        self.logp = kind == "log_probabilities"

    def add(self, loss: str, why: str, *extra: str) -> None:
        if "--ignore-class" in extra:  # only the losses that take it
            from lossctl.losses import registry

            if "ignore_class" not in registry.get(loss).features:
                return
        self.ins.recommendations.append(Recommendation(loss, self.how.compute(loss, *extra), why))

    def problem(self, text: str) -> None:
        self.ins.fits = False
        self.ins.problems.append(text)


def _recommend(li: LabelInfo, pi: PredInfo, how: Invocation, ins: Inspection) -> None:
    ctx = _Ctx(li, pi, how, ins)
    enc = li.encoding
    if enc == "string":
        _string(ctx)
    elif enc in ("index", "index_offset"):
        _index(ctx)
    elif enc in ("onehot", "soft") and li.columns > 1:
        _dense(ctx)
    elif enc in ("binary", "multihot") or (enc == "soft" and li.columns == 1):
        _binary(ctx)
    elif enc == "signed":
        _signed(ctx)
    else:
        _regression(li, ctx.c, ctx.add, ins)


def _string(ctx: _Ctx) -> None:
    li = ctx.li
    names = list(ctx.how.pred_header or [])
    if li.classes_truncated:  # more distinct values than are counted, or rows uncounted
        ctx.problem(f"y_true: {li.reason}; its classes cannot all be matched to the prediction "
                    "columns")
        return
    missing = [x for x in li.classes if x not in names]
    if not names or missing:
        shown = ", ".join(map(str, missing[:5])) if names else ", ".join(map(str, li.classes[:5]))
        ctx.problem(
            f"the labels are text ({li.num_classes} classes) but the prediction columns do "
            f"not name them all (missing: {shown}); give --classes in the order of the "
            "prediction columns, or a prediction file whose header names the classes"
        )
        return
    extra = ("--from-logits",) if ctx.logits else ()
    ctx.add("sparse_categorical_crossentropy",
            "text labels mapped to the prediction columns by the header"
            + (" ; predictions are logits" if ctx.logits else ""), *extra)
    if ctx.logits:
        ctx.add("cross_entropy", "PyTorch's CrossEntropyLoss on the same logits")


def void_note(void: int, count: int, c: int, unit: str = "row") -> str:
    """Why ``--ignore-class`` is recommended for a label outside the classes."""
    what = ("255 marks void pixels (unlabelled, object borders) in segmentation masks such as "
            "Pascal VOC's" if void == 255 else
            "-100 is PyTorch's ignore_index" if void == -100 else
            f"a label apart from the classes usually marks {unit}s to ignore")
    return (f"label {void} ({count} {unit}s) is not one of the {c} classes of y_pred: {what}. "
            f"Use --ignore-class {void} (Keras ignore_class, PyTorch ignore_index)")


def fit_labels(ctx: _Ctx, unit: str = "row") -> tuple[int, int | None] | None:
    """``(offset, void)`` for class-index labels against ``ctx.c`` classes: the offset they
    need (0 or 1) and the label to ignore (a void label, or one value at or above C while
    the others fit), each with a note; None (and a problem) when they do not fit."""
    c, li, ins = ctx.c, ctx.li, ctx.ins
    void = li.void
    rest = [x for x in li.classes if x != void]
    lo = rest[0] if rest else 0
    hi = li.offset + li.num_classes - 1 if li.num_classes else 0
    if void is None and hi >= c and not li.classes_truncated:
        above = [x for x in rest if x >= c]
        if len(above) == 1 and len(rest) >= 3 and not (lo >= 1 and hi == c):
            void = above[0]
            rest = rest[:-1]
            hi = rest[-1]
    if hi >= c:
        if lo >= 1 and hi == c:
            ins.notes.append(
                f"the labels run 1..{c} while y_pred has {c} columns (0..{c - 1}): "
                f"Keras would fail with 'Received a label value of {c} which is outside the "
                f"valid range of [0, {c})', PyTorch with 'Target {c} is out of bounds'. "
                "They start at 1: use --offset 1"
            )
            offset = 1
        else:
            ctx.problem(
                f"labels go up to {hi} but y_pred has only {c} columns: Keras would fail "
                f"with 'Received a label value of {hi} which is outside the valid range of "
                f"[0, {c})'"
            )
            return None
    else:
        offset = 1 if lo >= 1 and li.encoding == "index_offset" and hi == c else 0
    if void is not None:
        count = li.counts[li.classes.index(void)] if void in li.classes else 0
        ins.notes.append(void_note(void, count, c, unit))
        if li.counts and len(rest) > 1:  # the imbalance of the classes, not of the void
            counts = [n for x, n in zip(li.classes, li.counts) if x != void]
            ins.imbalance = max(counts) / min(counts) if min(counts) > 0 else None
    return offset, void


def label_options(offset: int, void: int | None) -> list[str]:
    """The options of class-index labels: ``--offset``, ``--ignore-class``."""
    return (["--offset", str(offset)] if offset else []) + (
        ["--ignore-class", str(void)] if void is not None else [])


def _index(ctx: _Ctx) -> None:
    li, c, ins = ctx.li, ctx.c, ctx.ins
    # classes are sorted and, when cut, the smallest: the first is the least label
    rest = [x for x in li.classes if x != li.void]
    lo = rest[0] if rest else 0
    hi = li.offset + li.num_classes - 1 if li.num_classes else 0
    if c == 1:
        if ctx.pi.kind in ("real", "logits") and len(li.classes) > 2:
            ins.imbalance = None
            ins.notes.append(
                f"whole-number targets ({lo}..{hi}) with one column of real predictions: "
                "read as regression (for classification, y_pred needs one column per class)"
            )
            _regression(li, c, ctx.add, ins)
            return
        ctx.problem(f"the labels are class indices ({lo}..{hi}) but y_pred has one column: a "
                    "multi-class loss needs one column per class")
        return
    fit = fit_labels(ctx)
    if fit is None:
        return
    offset, void = fit
    extra = label_options(offset, void)
    if ctx.logits:
        ctx.add("sparse_categorical_crossentropy",
                f"one column of class indices and {c} columns of logits", *extra, "--from-logits")
        ctx.add("cross_entropy", "PyTorch's CrossEntropyLoss on the same logits", *extra)
    elif ctx.logp:
        ctx.add("nll", "class indices with log-probabilities (PyTorch NLLLoss)", *extra)
    else:
        why = f"one column of class indices and {c} columns of probabilities"
        if ctx.indep:
            why += " (rows do not all sum to 1: Keras renormalises them)"
        ctx.add("sparse_categorical_crossentropy", why, *extra)
        ctx.add("categorical_generalized_cross_entropy", "robust to noisy labels", *extra)
    ins.conversions.append(_onehot(
        ctx.how, c, offset,
        "for categorical_crossentropy, which needs one-hot labels (with these labels it "
        f"would fail with 'Shapes (N, 1) and (N, {c}) are incompatible')", void,
    ))


def _dense(ctx: _Ctx) -> None:
    li, c, enc = ctx.li, ctx.c, ctx.li.encoding
    if li.columns != c:
        ctx.problem(f"y_true has {li.columns} columns but y_pred has {c}: Keras would fail with "
                    f"'Shapes (N, {li.columns}) and (N, {c}) are incompatible'")
        return
    if ctx.logits:
        ctx.add("categorical_crossentropy", f"{enc} labels with {c} columns of logits",
                "--from-logits")
        ctx.add("cross_entropy", "PyTorch's CrossEntropyLoss with probability targets")
    elif ctx.logp:
        ctx.add("kl_div", "PyTorch's KLDivLoss: log-probabilities against target probabilities",
                "--reduction", "batchmean")
    else:
        ctx.add("categorical_crossentropy", f"{enc} labels with {c} columns of probabilities")
        if enc == "soft":
            ctx.add("kl_divergence", "soft targets: the divergence is 0 when the rows match")
    if enc == "onehot":
        ctx.ins.conversions.append(_sparse(ctx.how))


def _binary(ctx: _Ctx) -> None:
    li, c = ctx.li, ctx.c
    if li.columns != c:
        text = (f"y_true has {li.columns} columns but y_pred has {c}: binary and multi-label "
                "losses compare column by column")
        if li.encoding == "binary" and c > 1:
            text += ("; one 0/1 column against several prediction columns usually means class "
                     "indices: use sparse_categorical_crossentropy")
        ctx.problem(text)
        return
    if ctx.logits:
        ctx.add("binary_crossentropy", "independent 0/1 labels with logits", "--from-logits")
        if c > 1:
            ctx.add("multilabel_soft_margin", "PyTorch's multi-label loss on the same logits")
        ctx.add("sigmoid_focal_loss", "focal loss for imbalanced labels, from logits")
    elif ctx.indep or ctx.probs:
        ctx.add("binary_crossentropy", "independent 0/1 labels with probabilities")
        ctx.add("binary_focal_crossentropy", "focal loss for imbalanced labels")
        if c > 1:
            ctx.add("dice", "overlap of the predicted and true sets per sample")
    else:
        ctx.problem("0/1 labels but the predictions are neither probabilities nor logits")


def _signed(ctx: _Ctx) -> None:
    if ctx.li.columns != ctx.c:
        ctx.problem(f"y_true has {ctx.li.columns} columns but y_pred has {ctx.c}")
        return
    ctx.add("hinge", "+-1 labels with real-valued scores")
    ctx.add("squared_hinge", "smooth penalty for margin violations")
    ctx.add("soft_margin", "logistic loss on +-1 labels (PyTorch SoftMarginLoss)")


def _regression(li: LabelInfo, c: int, add: Any, ins: Inspection) -> None:
    if li.columns != c:
        ins.fits = False
        ins.problems.append(f"y_true has {li.columns} columns but y_pred has {c}: regression "
                            "losses compare them element by element")
        return
    add("mean_squared_error", "real-valued targets and predictions")
    add("mean_absolute_error", "robust to outliers")
    add("huber", "quadratic near 0, linear in the tails")
