"""The engine behind ``lossctl compute``: validate, convert, compute, weight, mask, reduce.

Library use::

    from lossctl.engine import compute
    res = compute("scce", [1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    res.value        # 1.1769392...
    res.per_sample   # array([0.0512933, 2.3025851])

For inputs larger than memory, :class:`Computation` takes row blocks (``feed``) and keeps only
running sums (``finish``); :func:`compute` is ``feed`` once plus ``finish``.

What the engine does, so the loss functions do not have to:

- resolves any name or alias (:mod:`lossctl.losses.registry`) and the convention it implies;
- refuses options that do not apply to the loss (a usage error, exit 2);
- checks shapes and values and names the file, the row and the fix when they are wrong:
  class indices vs one-hot, labels out of range (suggesting ``--offset 1``), probabilities
  outside [0, 1] (suggesting ``--from-logits``), NaN or infinity;
- converts labels: ``--offset``, string labels through ``classes``, ``--ignore-class``;
- applies sample weights and class weights as each convention does, and reduces with the
  divisor each convention uses (:mod:`lossctl.losses.reduction`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from lossctl.errors import DataError, ShapeError, UsageError, note, warn
from lossctl.losses import registry
from lossctl.losses.reduction import REDUCTIONS, Accumulator

CONVENTIONS = ("keras", "torch")
DTYPES = ("float64", "float32")

#: Keras's epsilon; the clip bound lossctl reports as "clipped".
EPS = 1e-7
#: Probabilities up to this much above 1 (or below 0) are rounding noise: set to 1 (0) with a note.
PROB_TOLERANCE = 1e-6

Locate = Callable[[int], str]


@dataclass
class Side:
    """Where an input came from, for error messages."""

    name: str | None = None
    locate: Locate | None = None

    def where(self, row: int) -> dict[str, str | None]:
        return {
            "source": self.name,
            "location": self.locate(row) if self.locate else f"row {row}",
        }


@dataclass
class BlockResult:
    """What ``feed`` returns for one block: per-sample values and what the report needs."""

    start: int
    per_sample: np.ndarray  # (n,) float64: weighted like the frameworks' reduction="none"
    elementwise: np.ndarray | None  # (n, C) before the class axis is reduced, or None
    true_class: np.ndarray | None  # (n,) int64 (-1 for ignored rows), classification only
    pred_class: np.ndarray | None  # (n,) int64
    confidence: np.ndarray | None  # (n,) probability of the predicted class
    valid: np.ndarray  # (n,) bool, False for ignored rows


@dataclass
class Counters:
    """Conditions counted over all blocks, reported once at the end."""

    renormalised: int = 0  # probability rows not summing to 1 (Keras renormalises them)
    clipped: int = 0  # rows with a probability clipped/clamped by the convention
    rounded: int = 0  # probabilities within 1e-6 outside [0, 1], set to the bound
    ignored: int = 0
    logits_look_like_probs: int = 0
    saturated: int = 0  # rows whose every prediction sits at 0 or 1
    nonfinite: int = 0  # per-sample losses that are inf/NaN (overflow, or log(0) under torch)


@dataclass
class Result:
    """A finished computation."""

    loss: str
    alias: str | None
    convention: str
    reduction: str
    value: float | None
    samples: int
    classes: int | None
    options: dict[str, Any]
    counters: Counters
    per_sample: np.ndarray | None = None
    elementwise: np.ndarray | None = None
    true_class: np.ndarray | None = None
    pred_class: np.ndarray | None = None
    confidence: np.ndarray | None = None
    valid: np.ndarray | None = None
    spec: registry.LossSpec | None = field(default=None, repr=False)


class Computation:
    """One loss computation fed in row blocks. See the module docstring."""

    def __init__(
        self,
        loss: str,
        *,
        convention: str | None = None,
        reduction: str | None = None,
        dtype: str = "float64",
        offset: int | None = None,
        ignore_class: int | None = None,
        class_weight: Sequence[float] | None = None,
        classes: Sequence[str] | None = None,
        elementwise: bool | None = None,
        **options: Any,
    ) -> None:
        self.spec, self.alias = registry.lookup(loss)
        spec = self.spec
        defaults = dict(self.alias.defaults) if self.alias else {}
        self.convention = convention or defaults.get("convention") or spec.default_convention
        if self.convention not in CONVENTIONS:
            raise UsageError(
                f"unknown convention {self.convention!r}", hint=f"use one of {', '.join(CONVENTIONS)}"
            )
        self.reduction = reduction or "mean"
        if self.reduction == "sum_over_batch_size":
            self.reduction = "mean"
        if self.reduction not in REDUCTIONS:
            raise UsageError(
                f"unknown reduction {self.reduction!r}", hint=f"use one of {', '.join(REDUCTIONS)}"
            )
        if dtype not in DTYPES:
            raise UsageError(f"unknown dtype {dtype!r}", hint="use float64 or float32")
        self.dtype = np.dtype(dtype)

        # loss options: registry defaults, then alias defaults, then the user's
        self.options = registry.options_for(spec, self.alias)
        for key, value in options.items():
            if value is None:
                continue
            if key not in spec.options:
                flag = registry.OPTIONS[key].flag if key in registry.OPTIONS else key
                takes = ", ".join(registry.OPTIONS[k].flag for k in spec.options) or "no options"
                raise UsageError(
                    f"{flag} does not apply to {spec.name}",
                    hint=f"{spec.name} takes {takes}",
                )
            self.options[key] = value
        self._check_option_values()

        features = spec.features
        self.elementwise = bool(elementwise if elementwise is not None else defaults.get("elementwise"))
        if elementwise and spec.kind != "elementwise":
            raise UsageError(
                f"--elementwise does not apply to {spec.name}",
                hint="it is defined per sample (one value per row), not per class",
            )
        if offset and "offset" not in features:
            raise UsageError(
                f"--offset does not apply to {spec.name}",
                hint="it shifts class-index labels; this loss does not take class indices",
            )
        self.offset = int(offset or 0)
        if ignore_class is not None and "ignore_class" not in features:
            raise UsageError(
                f"--ignore-class does not apply to {spec.name}",
                hint="it is for class-index losses (sparse_categorical_crossentropy, "
                "cross_entropy, nll)",
            )
        if ignore_class is None and self.convention == "torch" and "ignore_class" in features:
            ignore_class = -100  # PyTorch's ignore_index default
        self.ignore_class = ignore_class
        self.class_weight = None if class_weight is None else np.asarray(class_weight, dtype=np.float64)
        self.class_weight_source: str | None = None  # the file the weights came from (messages)
        if self.class_weight is not None:
            if spec.task in ("regression", "similarity", "segmentation"):
                raise UsageError(
                    f"--class-weight does not apply to {spec.name}",
                    hint="class weights need class labels",
                )
            if self.convention == "torch" and "class_weight" not in features:
                raise UsageError(
                    f"--class-weight does not apply to {spec.name} under --convention torch",
                    hint="PyTorch's function has no weight argument; use --convention keras "
                    "(class weights as sample weights) or --sample-weight",
                )
            if self.class_weight.ndim != 1 or not np.all(np.isfinite(self.class_weight)):
                raise DataError("class weights must be a list of finite numbers")
            if np.any(self.class_weight < 0):
                raise DataError("class weights must not be negative",
                                hint="give --class-weight values of 0 or more")
        self.classes = list(classes) if classes is not None else None
        self.fn = spec.load()
        self.acc = Accumulator()
        self.counters = Counters()
        self.num_classes: int | None = None
        self.width: int | None = None
        self._from_logits = bool(self.options.get("from_logits", False))
        #: compute true/predicted classes and confidence for reports and per-sample rows;
        #: a caller that only wants the value turns it off (an argmax over (N, C) saved)
        self.details = True
        self._weighted = False  # a sample weight was given (PyTorch's weighted-mean divisor)
        self._hinge_convert: bool | None = None  # Keras's 0/1 -> -1/+1, decided on block 1

    # ------------------------------------------------------------------ validation helpers
    def _check_option_values(self) -> None:
        o = self.options
        name = self.spec.name

        def bad(flag: str, msg: str) -> UsageError:
            return UsageError(f"{flag} {msg} (got {o[flag.lstrip('-').replace('-', '_')]})")

        if o.get("label_smoothing") is not None and not 0 <= o["label_smoothing"] <= 1:
            raise bad("--label-smoothing", "must lie in [0, 1]")
        if "q" in o and not 0 < o["q"] < 1:
            raise bad("--q", "must lie in (0, 1)")
        if "quantile" in o and not 0 < o["quantile"] < 1:
            raise bad("--quantile", "must lie in (0, 1)")
        if "delta" in o and not o["delta"] > 0:
            raise bad("--delta", "must be positive")
        if name == "smooth_l1" and o["beta"] < 0:
            raise bad("--beta", "must not be negative")
        if "p" in o and o["p"] not in (1, 2):
            raise bad("--p", "must be 1 or 2")
        if o.get("gamma") is not None and o["gamma"] < 0:
            raise bad("--gamma", "must not be negative")
        if o.get("pos_weight") is not None and not self._from_logits_opt():
            raise UsageError(
                "--pos-weight needs --from-logits",
                hint="PyTorch and tf.nn define pos_weight on logits (BCEWithLogitsLoss)",
            )

    def _from_logits_opt(self) -> bool:
        return bool(self.options.get("from_logits", False))

    # ----------------------------------------------------------------------------- feed
    def feed(
        self,
        y_true: Any,
        y_pred: Any,
        sample_weight: Any = None,
        *,
        start: int = 0,
        true_side: Side | None = None,
        pred_side: Side | None = None,
        weight_side: Side | None = None,
    ) -> BlockResult:
        """Compute one block of rows; returns the per-sample values of these rows."""
        ts = true_side or Side("y_true")
        ps = pred_side or Side("y_pred")
        spec = self.spec
        pred = self._as_2d(y_pred, ps, "y_pred")
        if pred.dtype.kind not in "fiub":
            raise self._text_error(pred, ps, start, "prediction", "--pred-cols")
        n, c = pred.shape
        self._check_width(c, ps)
        pred = pred.astype(self.dtype, copy=False)
        self._check_finite(pred, ps, start, "prediction")
        true = self._as_2d(y_true, ts, "y_true")
        if true.shape[0] != n:
            raise ShapeError(
                f"y_true has {true.shape[0]} rows but y_pred has {n}",
                source=f"{ts.name} / {ps.name}" if ts.name and ps.name else None,
                hint="both files must hold one row per sample, in the same order",
            )
        index_target = spec.target == "index" or (
            spec.target == "index_or_dense" and true.shape[1] == 1 and c > 1
        )
        valid = np.ones(n, dtype=bool)
        labels = None
        if index_target:
            labels, valid = self._index_labels(true, c, ts, start)
            target: np.ndarray = labels
        else:
            target = self._dense_target(true, pred, ts, start)
        pred = self._check_prediction_domain(pred, ps, start, labels)

        kwargs = dict(self.options)
        if self.class_weight is not None and self.convention == "torch":
            if self.class_weight.shape[0] != c:
                raise ShapeError(
                    f"{self.class_weight.shape[0]} class weights for {c} classes",
                    source=self.class_weight_source,
                    hint=f"give --class-weight one weight per column of y_pred ({c})",
                )
            kwargs["class_weight"] = self.class_weight.astype(self.dtype)
        if spec.name in ("hinge", "squared_hinge"):
            kwargs["convert_labels"] = self._hinge_conversion(target, ts, start)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
            values = self.fn(target, pred, convention=self.convention, **kwargs)
        values = np.asarray(values)
        elementwise = None
        if spec.kind == "elementwise":
            elementwise = values
            with np.errstate(over="ignore", invalid="ignore"):  # counted below, warned once
                per_sample = values.mean(axis=1, dtype=values.dtype) if values.ndim == 2 else values
        else:
            per_sample = values
        per_sample = np.asarray(per_sample, dtype=np.float64)
        per_sample = np.where(valid, per_sample, 0.0)
        if elementwise is not None and not valid.all():
            elementwise = np.where(valid[:, None], elementwise, 0)

        # weights
        w = self._weights(sample_weight, n, weight_side, start)
        cls_true = self._true_class(true, labels, valid)  # needed for keras class weights
        if self.class_weight is not None and self.convention == "keras":
            if cls_true is None:  # several 0/1 label columns: no single class to weight a row by
                raise ShapeError(
                    f"--class-weight weights each row by its class, but y_true has "
                    f"{true.shape[1]} label columns (multi-label), so a row has no single class",
                    source=ts.name,
                    hint="weight the rows with --sample-weight instead",
                )
            if self.class_weight.shape[0] != max(c, 2):
                raise ShapeError(
                    f"{self.class_weight.shape[0]} class weights for {max(c, 2)} classes",
                    source=self.class_weight_source,
                    hint=f"give --class-weight one weight per class ({max(c, 2)})",
                )
            cw_rows = np.where(valid, self.class_weight[np.clip(cls_true, 0, None)], 0.0)
            w = cw_rows if w is None else w * cw_rows
        target_cw = None
        if (
            self.class_weight is not None
            and self.convention == "torch"
            and index_target
            and spec.torch_mean == "class_weights"
        ):
            target_cw = self.class_weight[np.where(valid, labels, 0)]
        with np.errstate(over="ignore", invalid="ignore"):  # inf losses: warned at finish
            self.acc.add(per_sample, weights=w, valid=valid, class_weights=target_cw, width=c)
            shown = per_sample if w is None else per_sample * np.where(valid, w, 0.0)
        self.counters.ignored += int((~valid).sum())
        if spec.finalize == "sqrt":
            shown = np.sqrt(shown)
        self.counters.nonfinite += int((~np.isfinite(per_sample) & valid).sum())
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):  # logits of +-1e308
            pred_cls, conf = self._predicted(pred) if self.details else (None, None)
        return BlockResult(
            start=start,
            per_sample=shown,
            elementwise=None if elementwise is None else np.asarray(elementwise),
            true_class=cls_true,
            pred_class=pred_cls,
            confidence=conf,
            valid=valid,
        )

    # ---------------------------------------------------------------------------- finish
    def finish(self) -> Result:
        """Reduce the running sums and emit the collected warnings (once each)."""
        spec = self.spec
        value: float | None
        if self.reduction == "none":
            value = None
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                value = self._reduce()
        self._emit_warnings()
        return Result(
            loss=spec.name,
            alias=self.alias.name if self.alias else None,
            convention=self.convention,
            reduction=self.reduction,
            value=value,
            samples=self.acc.rows,
            classes=self.num_classes,
            options={k: v for k, v in self.options.items()},
            counters=self.counters,
            spec=spec,
        )

    def _reduce(self) -> float:
        spec = self.spec
        keras = self.convention == "keras"
        empty = "zero" if keras else "nan"
        width = self.width or 1
        red = self.reduction
        if red == "sum":
            scale = width if (not keras and spec.kind == "elementwise") else 1.0
            value = self.acc.reduce(None, scale=scale)
        elif red == "mean_with_sample_weight":
            value = self.acc.reduce("weights", empty="zero")
        elif red == "batchmean":
            value = self.acc.reduce("rows", empty=empty)
        else:  # mean
            rule = "valid"
            if not keras:
                if spec.torch_mean == "elements":
                    rule = "elements"
                elif spec.torch_mean == "class_weights" and self.class_weight is not None:
                    rule = "class_weights"
                elif spec.torch_mean == "weights" and self._weighted:
                    rule = "weights"
            value = self.acc.reduce(rule, empty=empty)
        if spec.finalize == "sqrt":
            value = math.sqrt(value) if value >= 0 else math.nan
        return value

    def _emit_warnings(self) -> None:
        c = self.counters
        if c.renormalised:
            what = (
                "Keras renormalises them before clipping; PyTorch does not"
                if self.convention == "keras"
                else "PyTorch uses them as they are (Keras would renormalise them)"
            )
            rows = "probability row does" if c.renormalised == 1 else "probability rows do"
            warn(f"{c.renormalised} {rows} not sum to 1: {what}")
        if c.rounded:
            note(f"{c.rounded} probabilities within {PROB_TOLERANCE:g} outside [0, 1] were "
                 "treated as 0 or 1 (rounding noise)")
        if c.logits_look_like_probs:
            warn(
                f"--from-logits was given but all {c.logits_look_like_probs} prediction rows look "
                "like probabilities (in [0, 1], rows summing to 1); drop --from-logits if they are"
            )
        if c.nonfinite:
            rows = "loss is" if c.nonfinite == 1 else "losses are"
            warn(f"{c.nonfinite} per-sample {rows} not finite (inf or NaN): the predictions are "
                 "too large for float64, or a probability of exactly 0 was taken the log of")
        if c.saturated and c.saturated == self.acc.rows and self.acc.rows > 1:
            warn(f"every prediction is saturated at 0 or 1 ({c.saturated} rows): the loss is "
                 "dominated by clipping")

    # ------------------------------------------------------------------------- internals
    def _as_2d(self, a: Any, side: Side, what: str) -> np.ndarray:
        arr = np.asarray(a)
        if arr.ndim == 0:
            raise ShapeError(
                f"{what} is a single value, not one row per sample",
                source=side.name,
                hint="give an (N,) or (N, C) array",
            )
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ShapeError(
                f"{what} has shape {arr.shape}; lossctl takes (N,) or (N, C)",
                source=side.name,
                hint="reshape to (N, C) first, e.g. flatten the extra axes into rows",
            )
        if arr.dtype == bool:
            arr = arr.astype(np.int64)
        return arr

    def _check_width(self, c: int, side: Side) -> None:
        if self.width is None:
            self.width = c
            if self.spec.target in ("index", "dense", "index_or_dense") or self.spec.task in (
                "multi-class",
            ):
                self.num_classes = c
        elif c != self.width:
            raise ShapeError(f"y_pred changed from {self.width} to {c} columns", source=side.name)

    @staticmethod
    def _text_error(a: np.ndarray, side: Side, start: int, what: str, flag: str) -> DataError:
        """The error for text where numbers belong, naming the first cell that is not a number."""
        import re

        number = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*"
                            r"|\s*[+-]?(nan|inf|infinity)\s*"
                            r"|\s*(na|n/a|null|none)?\s*",  # the readers' missing values
                            re.ASCII | re.IGNORECASE)
        for i, row in enumerate(np.asarray(a).reshape(a.shape[0], -1)):
            for v in row:
                if not number.fullmatch(str(v)):  # stricter than float(): no '1_000', no '١'
                    return DataError(
                        f"{what} {str(v)!r} is not a number",
                        **side.where(start + i),
                        hint=f"fix or remove the row, or select the numeric columns with {flag}",
                    )
        return DataError(f"{what}s must be numbers, found text", source=side.name,
                         hint=f"select the numeric columns with {flag}")

    def _check_finite(self, a: np.ndarray, side: Side, start: int, what: str) -> None:
        """Raise for the first NaN/inf, naming its row. One sum first: NaN and +-inf propagate
        into it, so the (N, C) boolean mask is built only when something is wrong."""
        if a.dtype.kind != "f" or a.size == 0:
            return
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(np.add.reduce(a, axis=None)):  # NaN/inf propagate into a sum
                return  # (an overflowing sum of finite values falls through to the mask)
        bad = ~np.isfinite(a)
        if bad.any():
            i = int(np.argmax(bad.any(axis=1)))
            v = a[i][bad[i]][0]
            raise DataError(
                f"{what} {v} is not a finite number",
                **side.where(start + i),
                hint="remove or fix the row; NaN usually means the model diverged upstream",
            )

    def _whole(self, a: np.ndarray, side: Side, start: int, what: str) -> np.ndarray:
        """Float labels that are whole numbers -> int64; anything else is an error."""
        if a.dtype.kind in "iu":
            return a.astype(np.int64)
        if a.dtype.kind != "f":
            raise DataError(f"{what} must be numbers", source=side.name)
        bad = ~np.isfinite(a)
        if bad.any():
            i = int(np.argmax(bad.reshape(a.shape[0], -1).any(axis=1)))
            if np.isinf(a.reshape(a.shape[0], -1)[i][0]):  # 'inf', or an integer of 400 digits
                raise DataError(
                    f"label {a.reshape(a.shape[0], -1)[i][0]} is too large to be a class index",
                    **side.where(start + i),
                    hint="class labels are small integers 0..C-1: check the label column",
                )
            raise DataError(
                f"label {a.reshape(a.shape[0], -1)[i][0]} is missing or not a number",
                **side.where(start + i),
                hint="every row needs a class label",
            )
        frac = a != np.round(a)
        if frac.any():
            i = int(np.argmax(frac.reshape(a.shape[0], -1).any(axis=1)))
            v = a.reshape(a.shape[0], -1)[i][frac.reshape(a.shape[0], -1)[i]][0]
            raise DataError(
                f"label {v:g} is not a whole number",
                **side.where(start + i),
                hint="class labels must be integers (Keras would truncate it, PyTorch refuses it)",
            )
        if np.abs(a).max(initial=0) > 2**53:
            i = int(np.argmax((np.abs(a) > 2**53).reshape(a.shape[0], -1).any(axis=1)))
            raise DataError(f"label {a.reshape(a.shape[0], -1)[i][0]:g} is too large to be a "
                            "class index", **side.where(start + i),
                            hint="class labels are small integers 0..C-1: check the label column")
        return a.astype(np.int64)

    def _index_labels(
        self, true: np.ndarray, c: int, side: Side, start: int
    ) -> tuple[np.ndarray, np.ndarray]:
        spec = self.spec
        if true.shape[1] != 1:
            if true.shape[1] == c and c > 1:
                hint = (
                    "use categorical_crossentropy for one-hot labels, or convert them with "
                    "`lossctl sparse`"
                )
                if spec.name == "cross_entropy":
                    hint = "cross_entropy takes them as probability targets only when they have C columns"
                raise ShapeError(
                    f"{spec.name} takes one column of class indices, but y_true has {c} columns "
                    f"(it looks one-hot): Keras would fail with 'logits and labels must have the "
                    f"same first dimension'",
                    source=side.name,
                    hint=hint,
                )
            raise ShapeError(
                f"{spec.name} takes one column of class indices, but y_true has "
                f"{true.shape[1]} columns",
                source=side.name,
                hint="select the label column with --true-cols",
            )
        if c == 1:
            raise ShapeError(
                f"{spec.name} needs one prediction column per class, but y_pred has 1 column",
                hint="for a binary problem with P(positive) in one column use "
                "binary_crossentropy",
            )
        col = true[:, 0]
        if col.dtype.kind in "US":
            if not self.classes:
                raise DataError(
                    "labels are strings but the class names are unknown",
                    source=side.name,
                    hint="give --classes a,b,c in the order of the prediction columns, or a "
                    "prediction file whose header names the classes",
                )
            lookup = {name: i for i, name in enumerate(self.classes)}
            out = np.empty(col.shape[0], dtype=np.int64)
            for i, v in enumerate(col):
                s = str(v).strip()
                if s not in lookup:
                    raise DataError(
                        f"label {s!r} is not one of the classes {', '.join(self.classes)}",
                        **side.where(start + i),
                        hint="check --classes or the prediction header",
                    )
                out[i] = lookup[s]
            raw = out
            labels = out
        else:
            raw = self._whole(col, side, start, "labels")
            labels = raw - self.offset
        valid = np.ones(labels.shape[0], dtype=bool)
        if self.ignore_class is not None:
            valid = raw != self.ignore_class
        bad = valid & ((labels < 0) | (labels >= c))
        if bad.any():
            i = int(np.argmax(bad))
            v = int(raw[i])
            lo, hi = self.offset, self.offset + c
            hint = None
            if labels[i] == c and self.offset == 0:
                hint = f"labels look like 1..{c}: use --offset 1"
            elif labels[i] < 0 and self.offset == 0:
                hint = (
                    f"if {v} marks padding or unlabelled rows, use --ignore-class {v}"
                    if "ignore_class" in spec.features
                    else "class labels must be 0 or more"
                )
            else:
                hint = f"y_pred has {c} columns, so labels must lie in [{lo}, {hi})"
            raise DataError(
                f"label {v} is out of range [{lo}, {hi})",
                **side.where(start + i),
                hint=hint,
            )
        labels = np.where(valid, labels, 0)
        return labels, valid

    def _dense_target(self, true: np.ndarray, pred: np.ndarray, side: Side, start: int) -> np.ndarray:
        spec = self.spec
        n, c = pred.shape
        if true.dtype.kind in "US":
            raise DataError(
                f"{spec.name} takes numeric targets, but y_true holds text labels",
                source=side.name,
                hint="use sparse_categorical_crossentropy with --classes, or convert with "
                "`lossctl onehot`",
            )
        if true.shape[1] != c:
            if true.shape[1] == 1 and c > 1:
                kind = "class indices" if true.dtype.kind in "iu" or np.all(
                    np.asarray(true) == np.round(np.asarray(true, dtype=float))
                ) else "values"
                alt = {
                    "categorical_crossentropy": "sparse_categorical_crossentropy",
                    "categorical_focal_crossentropy": "sparse_categorical_crossentropy",
                    "kl_divergence": "sparse_categorical_crossentropy",
                    "poly1_cross_entropy": "cross_entropy",
                    "categorical_hinge": "multi_margin",
                }.get(spec.name, "sparse_categorical_crossentropy")
                raise ShapeError(
                    f"these labels are one column of {kind}, while the predictions have {c} "
                    f"columns: {spec.name} would fail with 'Shapes (N, 1) and (N, {c}) are "
                    f"incompatible'",
                    source=side.name,
                    hint=f"use {alt}, or convert with `lossctl onehot {side.name or 'LABELS'} -n {c}`",
                )
            raise ShapeError(
                f"y_true has {true.shape[1]} columns but y_pred has {c}",
                source=side.name,
                hint="select matching columns with --true-cols / --pred-cols",
            )
        t = true.astype(self.dtype, copy=False)
        self._check_finite(t, side, start, "label")
        check_unit = spec.target == "binary" or (
            spec.target == "dense" and spec.prediction == "probabilities"
        )
        if self.options.get("log_target"):
            check_unit = False  # y_true holds log-probabilities (PyTorch kl_div log_target=True)
        if check_unit:
            out = (t < 0) | (t > 1)
            if out.any():
                i = int(np.argmax(out.any(axis=1)))
                v = t[i][out[i]][0]
                hint = (
                    "binary labels must be 0/1 (or probabilities)"
                    if spec.target == "binary"
                    else "targets must be one-hot or probability rows"
                )
                if spec.target == "binary" and c == 1 and v == int(v) and v > 1:
                    hint = (
                        "several classes in one column are class indices: use "
                        "sparse_categorical_crossentropy"
                    )
                raise DataError(f"label {v:g} is outside [0, 1]", **side.where(start + i), hint=hint)
        if spec.target == "signed" and self.convention == "keras":
            pass  # hinge converts 0/1 itself (only when every label is 0/1), as Keras does
        return t

    def _check_prediction_domain(
        self, pred: np.ndarray, side: Side, start: int, labels: np.ndarray | None
    ) -> np.ndarray:
        spec = self.spec
        o = self.options
        is_prob = spec.prediction == "probabilities" and not o.get("from_logits") and not o.get(
            "log_input"
        )
        if spec.name == "kl_divergence" and o.get("log_input"):
            is_prob = False
        if is_prob:
            # whole-array min/max are contiguous SIMD passes; per-row statistics are computed
            # only where something can need them (numpy's axis=1 reductions are slow on short rows)
            lo = pred.min() if pred.size else 0.5  # an empty block is in range
            hi = pred.max() if pred.size else 0.5
            if lo < 0 or hi > 1:
                low = pred < 0
                high = pred > 1
                far = (pred < -PROB_TOLERANCE) | (pred > 1 + PROB_TOLERANCE)
                if far.any():
                    i = int(np.argmax(far.any(axis=1)))
                    v = pred[i][far[i]][0]
                    hint = "these look like logits: add --from-logits" if "from_logits" in spec.options else (
                        "give probabilities in [0, 1]"
                    )
                    raise DataError(
                        f"prediction {v:g} is not a probability (outside [0, 1])",
                        **side.where(start + i),
                        hint=hint,
                    )
                self.counters.rounded += int(low.sum() + high.sum())
                pred = np.clip(pred, 0, 1)
                lo, hi = max(lo, 0), min(hi, 1)
            if spec.target in ("dense", "index") and pred.shape[1] > 1:
                # row sums, for the warnings only; einsum is 4x faster than sum(axis=1) on short
                # rows and, unlike a BLAS matmul, starts no threads
                sums = np.einsum("ij->i", pred)
                if (sums <= 0).any():  # Keras would divide 0 by 0 (NaN), PyTorch take log(0)
                    i = int(np.argmax(sums <= 0))
                    raise DataError(
                        f"every probability in this row is 0, so it is not a distribution over "
                        f"the {pred.shape[1]} classes",
                        **side.where(start + i),
                        hint="each row must sum to 1; for scores or logits add --from-logits"
                        if "from_logits" in spec.options else "each row must sum to 1",
                    )
                self.counters.renormalised += int((np.abs(sums - 1) > 1e-3).sum())
            # rows at the clip bounds (the report's count), and rows saturated at 0/1 (a warning
            # when all are): per-row extremes, only when a report wants them or 0/1 occur
            if (lo < EPS or hi > 1 - EPS) and (self.details or lo == 0 or hi == 1):
                rmin, rmax, _ = _row_stats(pred)
                self.counters.clipped += int(((rmin < EPS) | (rmax > 1 - EPS)).sum())
                cand = ((rmin == 0) | (rmin == 1)) & ((rmax == 0) | (rmax == 1))
                if cand.any():  # a saturated row has its min and max in {0, 1}
                    sat = pred[cand]
                    self.counters.saturated += int(((sat == 0) | (sat == 1)).all(axis=1).sum())
        elif spec.prediction == "log-probabilities" or (spec.name == "kl_divergence" and o.get("log_input")):
            pos = pred > PROB_TOLERANCE
            if pos.any():
                i = int(np.argmax(pos.any(axis=1)))
                raise DataError(
                    f"prediction {pred[i][pos[i]][0]:g} is not a log-probability (> 0)",
                    **side.where(start + i),
                    hint="give log_softmax outputs; for logits use cross_entropy, for "
                    "probabilities sparse_categorical_crossentropy",
                )
        elif o.get("from_logits") and pred.shape[1] > 1:
            with np.errstate(over="ignore", invalid="ignore"):  # logits of +-1e308
                sums = pred.sum(axis=1)
                rows = ((pred >= 0) & (pred <= 1)).all(axis=1) & (np.abs(sums - 1) < 1e-3)
            if rows.all():
                self.counters.logits_look_like_probs += int(rows.sum())
        return pred

    def _hinge_conversion(self, target: np.ndarray, side: Side, start: int) -> bool:
        """Keras converts 0/1 hinge labels to -1/+1 only when EVERY label is 0 or 1. Decided on
        the first block; a later block that contradicts the decision is an error, never a
        silently different loss."""
        from lossctl.losses.margin import hinge_labels_are_binary

        binary = bool(hinge_labels_are_binary(target))
        if self._hinge_convert is None:
            self._hinge_convert = binary
        elif self._hinge_convert and not binary:
            bad = ~np.isin(target, (0, 1))
            i = int(np.argmax(bad.any(axis=1)))
            raise DataError(
                f"label {target[i][bad[i]][0]:g} appears after rows of 0/1 labels that were "
                "converted to -1/+1",
                **side.where(start + i),
                hint="use -1/+1 labels throughout (Keras converts 0/1 only when every label is 0/1)",
            )
        return self._hinge_convert

    def _weights(self, sw: Any, n: int, side: Side | None, start: int) -> np.ndarray | None:
        if sw is None:
            return None
        w = np.asarray(sw, dtype=np.float64).reshape(-1) if np.asarray(sw).dtype.kind in "fiub" else None
        s = side or Side("sample weights")
        if w is None:
            arr = np.asarray(sw)
            raise self._text_error(arr.reshape(arr.shape[0] if arr.ndim else 1, -1), s, start,
                                   "sample weight", "--weight-cols")
        if w.shape[0] != n:
            raise ShapeError(
                f"{w.shape[0]} sample weights for {n} rows",
                source=s.name,
                hint="give one weight per row (one column)",
            )
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"sample weight {w[i]:g} is not a finite non-negative number",
                **s.where(start + i),
                hint="weights must be 0 or more",
            )
        self._weighted = True
        return w

    def _true_class(self, true: np.ndarray, labels: np.ndarray | None, valid: np.ndarray) -> np.ndarray | None:
        spec = self.spec
        if spec.task in ("regression", "similarity", "segmentation", "multi-label"):
            return None
        if labels is not None:
            return np.where(valid, labels, -1)
        if true.dtype.kind in "US":
            return None
        t = np.asarray(true, dtype=np.float64)
        if t.shape[1] == 1:
            if spec.target == "signed":
                return (t[:, 0] > 0).astype(np.int64)
            return (t[:, 0] >= 0.5).astype(np.int64)
        if spec.task == "binary":  # multi-label binary columns: no single class
            return None
        return np.argmax(t, axis=1).astype(np.int64)

    def _predicted(self, pred: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        spec = self.spec
        if spec.task in ("regression", "similarity", "segmentation", "multi-label"):
            return None, None
        p = np.asarray(pred, dtype=np.float64)
        if p.shape[1] == 1:
            x = p[:, 0]
            if spec.prediction == "probabilities" and not self.options.get("from_logits"):
                prob = x
            elif spec.prediction == "scores":
                return (x > 0).astype(np.int64), None
            else:
                prob = 1 / (1 + np.exp(-np.clip(x, -700, 700)))
            cls = (prob >= 0.5).astype(np.int64)
            return cls, np.where(cls == 1, prob, 1 - prob)
        if spec.task == "binary":
            return None, None
        cls = np.argmax(p, axis=1).astype(np.int64)
        top = p[np.arange(p.shape[0]), cls]
        if spec.prediction == "probabilities" and not self.options.get("from_logits"):
            s = p.sum(axis=1)
            conf = np.divide(top, s, out=np.zeros_like(top), where=s > 0)
        elif spec.prediction == "log-probabilities":
            conf = np.exp(top)
        elif spec.prediction == "scores":
            conf = None
        else:
            m = p.max(axis=1, keepdims=True)
            conf = 1.0 / np.exp(p - m).sum(axis=1)
        return cls, conf


def _row_stats(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row minimum, maximum and float64 sum of a 2-D array.

    numpy's axis=1 reductions cost 3-10 ns per element on short rows (a per-row inner loop);
    for up to 32 columns, elementwise ufuncs over the columns cost about 1 ns per element.
    The sum adds the columns left to right (np.sum would pair them: the last bits may differ).
    """
    n, c = a.shape
    if c > 32 or c == 0:
        return a.min(axis=1), a.max(axis=1), a.sum(axis=1, dtype=np.float64)
    col = a[:, 0]
    rmin, rmax, rsum = col.copy(), col.copy(), col.astype(np.float64)
    for j in range(1, c):
        col = a[:, j]
        np.minimum(rmin, col, out=rmin)
        np.maximum(rmax, col, out=rmax)
        np.add(rsum, col, out=rsum)
    return rmin, rmax, rsum


def compute(
    loss: str,
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    true_side: Side | None = None,
    pred_side: Side | None = None,
    weight_side: Side | None = None,
    **kwargs: Any,
) -> Result:
    """Compute a loss on whole arrays. Keyword arguments as :class:`Computation`."""
    comp = Computation(loss, **kwargs)
    block = comp.feed(
        y_true,
        y_pred,
        sample_weight,
        true_side=true_side,
        pred_side=pred_side,
        weight_side=weight_side,
    )
    res = comp.finish()
    res.per_sample = block.per_sample
    res.elementwise = block.elementwise
    res.true_class = block.true_class
    res.pred_class = block.pred_class
    res.confidence = block.confidence
    res.valid = block.valid
    return res


def aligned(*streams: Any) -> Any:
    """Zip block iterators of different block sizes into row-aligned tuples of arrays.

    Each stream yields objects with a ``.data`` array (rows first); ``None`` streams yield None
    in their slot. Yields ``(start, (a, b, ...))`` with equal row counts. A stream that ends
    early raises ShapeError naming how many rows each had.
    """
    iters = [iter(s) if s is not None else None for s in streams]
    bufs: list[list[np.ndarray]] = [[] for _ in streams]
    have = [0] * len(streams)
    done = [s is None for s in streams]
    start = 0
    while True:
        for k, it in enumerate(iters):
            while it is not None and not done[k] and have[k] == 0:
                try:
                    blk = next(it)
                except StopIteration:
                    done[k] = True
                    break
                data = blk.data if hasattr(blk, "data") else np.asarray(blk)
                if data.shape[0]:
                    bufs[k].append(data)
                    have[k] += data.shape[0]
        live = [k for k in range(len(streams)) if iters[k] is not None]
        counts = [have[k] for k in live]
        if all(c == 0 for c in counts):
            return
        n = min(counts)
        if n == 0:
            # count every stream to the end (discarding the data) so the message has the sizes
            totals = []
            for k in range(len(streams)):
                if iters[k] is None:
                    totals.append(None)
                    continue
                total = start + have[k]
                for blk in iters[k]:
                    total += (blk.data if hasattr(blk, "data") else np.asarray(blk)).shape[0]
                totals.append(total)
            err = ShapeError(
                "the inputs have different numbers of rows: "
                + ", ".join(f"input {k + 1} has {t}" for k, t in enumerate(totals) if t is not None),
                hint="every input must hold one row per sample, in the same order",
            )
            err.row_counts = totals  # type: ignore[attr-defined]
            raise err
        out: list[np.ndarray | None] = []
        for k in range(len(streams)):
            if iters[k] is None:
                out.append(None)
                continue
            parts, got = [], 0
            while got < n:
                head = bufs[k][0]
                take = min(n - got, head.shape[0])
                parts.append(head[:take])
                if take == head.shape[0]:
                    bufs[k].pop(0)
                else:
                    bufs[k][0] = head[take:]
                got += take
            have[k] -= n
            out.append(parts[0] if len(parts) == 1 else np.concatenate(parts))
        yield start, tuple(out)
        start += n
