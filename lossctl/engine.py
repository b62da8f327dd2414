"""The engine: one loss computation fed in row blocks, reduced from running sums.

:class:`Computation` is what Keras's ``LossFunctionWrapper`` + ``reduce_weighted_values`` are to
Keras: the one place where a loss function's values are validated, weighted, masked and
reduced. The pipeline (:mod:`lossctl.pipeline`) feeds it blocks of aligned rows
(:meth:`Computation.feed`) and asks for the value at the end (:meth:`Computation.finish`); only
running sums are kept, so any number of rows fits in bounded memory, and the sums are taken
over fixed chunks, so the value does not depend on how the rows were split into blocks.

What the engine does, so the loss functions do not have to:

- resolves any name or alias (:mod:`lossctl.losses.registry`) and the convention it implies;
- refuses options that do not apply to the loss, or values outside their domain (usage errors);
- checks shapes and values (:mod:`lossctl.validation`, :mod:`lossctl.predictions`), naming the
  file, the row and the fix;
- converts labels: ``offset``, string labels through ``classes``, ``ignore_class``;
- applies sample weights and class weights as each convention does, and reduces with the
  divisor each convention uses (:mod:`lossctl.losses.reduction`).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lossctl import budget
from lossctl import predictions as preds
from lossctl.diagnostics import Diagnostics, reading
from lossctl.blocks import BlockResult, Counters, Elements, Rows
from lossctl.elements import ElementFeeds, RoleFeeds
from lossctl.layout import Layout
from lossctl.parts import Parts
from lossctl.resampling import Resampling
from lossctl.errors import DataError, ShapeError, UsageError, note, opt, warn
from lossctl.losses import registry
from lossctl.losses.reduction import Accumulator, aggregator
from lossctl.losses.spec import CONVENTIONS, DTYPES, REDUCTIONS
from lossctl.result import Result
from lossctl.validation import (
    Input,
    as_2d,
    finite_bounds,
    dense_target,
    index_labels,
    sample_weights,
    shown,
    text_error,
)

__all__ = ["BlockResult", "Computation", "Counters", "Elements"]

_NOT_CLASSES = ("regression", "similarity", "segmentation")


def _row_mean(values: np.ndarray) -> np.ndarray:
    """The mean over the class axis (Keras's per-sample value), in the values' dtype; a row of
    finite values whose sum overflows is averaged scaled by 2**-64, so its mean stays finite."""
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite losses: warned once
        mean = values.mean(axis=1, dtype=values.dtype)
        bad = np.isinf(mean)
        if bad.any():
            rows = bad & np.isfinite(values).all(axis=1)
            if rows.any():
                scaled = (values[rows] * 2.0**-64).mean(axis=1, dtype=values.dtype)
                mean[rows] = scaled * 2.0**64
    return mean


def _class_axis(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        try:
            value = int(str(value))
        except ValueError:
            raise UsageError(f"{opt('class_axis')} takes an axis number, not {value!r}",
                             hint="1 for PyTorch's (N, C, ...), -1 for Keras's (N, ..., C)",
                             option="class_axis") from None
    if int(value) == 0:
        raise UsageError(f"{opt('class_axis', 0)} is the axis of the samples",
                         hint="the classes are on axis 1 (PyTorch's layout) or -1 (Keras's)",
                         option="class_axis")
    return int(value)


def _choice(name: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise UsageError(f"unknown {opt(name)} {value!r}", hint=f"use one of {', '.join(allowed)}",
                         option=name)
    return value


class Computation(ElementFeeds, RoleFeeds, Parts, Resampling):
    """One loss computation fed in row blocks. See the module docstring.

    Args:
        loss: any loss name or alias.
        convention: ``"keras"`` (Keras 3 on TensorFlow), ``"torch"`` or ``"keras-jax"`` (Keras 3
            on JAX/NumPy/PyTorch); default: what the name implies.
        reduction: one of :data:`~lossctl.losses.spec.REDUCTIONS` (``sum_over_batch_size`` is
            ``mean``); default ``mean``.
        dtype: ``"float64"`` or ``"float32"`` (Keras computes in float32).
        offset, ignore_class, class_weight, classes, elementwise: see :func:`lossctl.evaluate`.
        roles: the further inputs given (``LossSpec.inputs``): names, or names mapped to
            their constants (a role read whole, or one number); per-row roles come with each
            block (:meth:`feed`).
        **options: the loss's own options (``from_logits``, ``delta``, ...).
    """

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
        class_axis: int | None = None,
        roles: Any = None,
        **options: Any,
    ) -> None:
        self.spec, self.alias = registry.lookup(loss)
        self._check_roles(roles)
        defaults = dict(self.alias.defaults) if self.alias else {}
        self.convention = _choice(
            "convention", convention or defaults.get("convention") or self.spec.default_convention,
            CONVENTIONS)
        red = reduction or self.spec.default_reduction
        self.reduction = _choice("reduction", "mean" if red == "sum_over_batch_size" else red,
                                 REDUCTIONS)
        self.dtype = np.dtype(_choice("dtype", dtype, DTYPES))
        self.options = registry.resolve_options(self.spec, self.alias, options)
        if self.options.get("normalize") is False and self.reduction != "none":
            if self.reduction not in ("mean", "sum"):
                raise UsageError(f"{opt('normalize', False)} is scikit-learn's sum; it does not "
                                 f"combine with {opt('reduction', self.reduction)}",
                                 option="normalize")
            self.reduction = "sum"  # scikit-learn's normalize=False
        #: scikit-learn's reduction when it is not a weighted mean (a root or median per output
        #: column, a maximum, a D² ratio: lossctl.losses.reduction), made on the first block
        self._aggregate = aggregator(self.spec, self.convention, self.reduction)
        self.aggregate = None
        #: what the values an aggregate holds (medians, quantiles) may take
        self.memory_limit = budget.usable(budget.parse_size(budget.DEFAULT))
        #: the options the caller set (not defaults): what decides how messages explain things
        self.given = {k for k, v in options.items() if v is not None}
        #: how the predictions are read (probabilities, logits, ...) and why
        self.reading = reading(self.spec, self.alias, self.options, self.given)
        self.elementwise = bool(elementwise if elementwise is not None
                                else defaults.get("elementwise"))
        self._check_features(offset, ignore_class)
        self.class_axis = _class_axis(class_axis)
        #: N-D inputs: how a sample's elements map to rows (decided on the first block)
        self.layout: Layout | None = None
        self._index = False
        #: Dice and Tversky: the overlap over the loss's axis (lossctl.overlap)
        self.overlap = None
        if self.spec.overlap:
            from lossctl.overlap import Overlap

            self.overlap = Overlap(self.spec, self.options)
        self.samples = 0
        self.offset = int(offset or 0)
        if ignore_class is None and self.convention == "torch" and "ignore_class" in self.spec.features:
            ignore_class = -100  # PyTorch's ignore_index default
        self.ignore_class = ignore_class
        self.class_weight = self._class_weights(class_weight)
        self.class_weight_source: str | None = None  # the file the weights came from (messages)
        self.classes = list(classes) if classes is not None else None
        self.fn = self.spec.load()
        self.acc = Accumulator()
        self.replicates = {}  # bootstrap and sign-flip replicates (lossctl.resampling)
        self.ci_level: float | None = None
        self.counters = Counters()
        self.num_classes: int | None = None
        self.width: int | None = None
        #: compute true/predicted classes and confidence for reports and per-sample rows;
        #: a caller that only wants the value turns it off (an argmax over (N, C) saved)
        self.details = True
        self._weighted = False  # a sample weight was given (PyTorch's weighted-mean divisor)
        self._hinge_convert: bool | None = None  # Keras's 0/1 -> -1/+1, decided on block 1
        #: count the signs that data and loss disagree (off for a diagnostic's own shadow)
        self.diagnose = True
        self.diagnostics = Diagnostics(self)
        #: the largest and smallest per-sample value (what a gate with reduction "none" checks)
        self.extremes: tuple[float, float] | None = None

    # ------------------------------------------------------------------ option checks
    def _check_features(self, offset: int | None, ignore_class: int | None) -> None:
        spec = self.spec
        if self.elementwise and spec.overlap:
            raise UsageError(f"{opt('elementwise')} does not apply to {spec.name}",
                             hint="an overlap is a ratio of sums: it has no value per element",
                             option="elementwise")
        if offset and "offset" not in spec.features:
            raise UsageError(f"{opt('offset')} does not apply to {spec.name}",
                             hint="it shifts class-index labels; this loss does not take class "
                             "indices", option="offset")
        if ignore_class is not None and "ignore_class" not in spec.features:
            raise UsageError(f"{opt('ignore_class')} does not apply to {spec.name}",
                             hint="it is for class-index losses (sparse_categorical_crossentropy, "
                             "cross_entropy, nll)", option="ignore_class")

    def _class_weights(self, class_weight: Sequence[float] | None) -> np.ndarray | None:
        if class_weight is None:
            return None
        spec = self.spec
        if spec.task in _NOT_CLASSES:
            raise UsageError(f"{opt('class_weight')} does not apply to {spec.name}",
                             hint="class weights need class labels", option="class_weight")
        if self.convention == "torch" and "class_weight" not in spec.features:
            raise UsageError(
                f"{opt('class_weight')} does not apply to {spec.name} under "
                f"{opt('convention', 'torch')}",
                hint=f"PyTorch's function has no weight argument; use "
                f"{opt('convention', 'keras')} (class weights as sample weights) or "
                f"{opt('sample_weight')}",
                option="class_weight",
            )
        cw = np.asarray(class_weight, dtype=np.float64)
        if cw.ndim != 1 or not np.all(np.isfinite(cw)):
            raise DataError("class weights must be a list of finite numbers", option="class_weight")
        if np.any(cw < 0):
            raise DataError("class weights must not be negative",
                             hint=f"give {opt('class_weight')} values of 0 or more",
                             option="class_weight")
        return cw

    # ----------------------------------------------------------------------------- feed
    def feed(
        self,
        y_true: Any,
        y_pred: Any,
        sample_weight: Any = None,
        *,
        start: int = 0,
        inputs: Sequence[Input] | None = None,
        roles: dict[str, Any] | None = None,
    ) -> BlockResult:
        """Compute one block of samples; returns the per-sample values of these samples.

        2-D inputs are rows ``(n, C)``; N-D inputs (a rank of 3 or more) are samples of elements
        (:mod:`lossctl.layout`). ``inputs`` names the y_true, y_pred and sample-weight inputs
        for messages; ``roles`` holds the block's rows of each per-row further input.
        """
        ts, ps, ws = inputs or (Input("y_true"), Input("y_pred"), Input("sample_weight"))
        pred, true = np.asarray(y_pred), np.asarray(y_true)
        self.role_blocks = dict(roles or {})
        if self.spec.kind in ("samples", "batch"):
            return self._feed_samples(true, pred, sample_weight, start, (ts, ps, ws))
        if self.role_blocks and (pred.ndim >= 3 or true.ndim >= 3):
            raise ShapeError(f"{self.spec.name} takes (N,) or (N, C) inputs with its further "
                             f"inputs, not arrays of shape {pred.shape}", source=ps.name)
        if self.layout is not None or pred.ndim >= 3 or true.ndim >= 3:
            if self._aggregate is not None:
                raise ShapeError(f"{self.spec.name} under scikit-learn's rules takes 2-D inputs "
                                 "(samples by output columns or classes)", source=ps.name)
            return self._feed_elements(true, pred, sample_weight, start, (ts, ps, ws))
        if self.overlap is not None:
            pred2, true2 = as_2d(pred, ps), as_2d(true, ts)
            self.samples += pred2.shape[0]
            return self._feed_overlap(true2, pred2, sample_weight, start, (ts, ps, ws), None,
                                      pred2.shape[0])
        if self.elementwise and self.spec.kind != "elementwise":
            raise UsageError(f"{opt('elementwise')} does not apply to {self.spec.name} on 2-D "
                             "inputs", hint="it is defined per sample (one value per row), not "
                             "per class; on N-D inputs it gives the map of per-element losses",
                             option="elementwise")
        self.samples += as_2d(pred, ps).shape[0]
        rows = self._rows(true, pred, sample_weight, start, ts, ps, ws)
        shown = self._add(rows, rows.pred.shape[1])
        self._replicate(start, rows.values, rows.weights, rows.valid, rows.class_weights,
                        n=rows.valid.shape[0], width=rows.pred.shape[1])
        if self.spec.finalize == "sqrt":
            shown = np.sqrt(shown)
        self._track_extremes(shown, rows.valid)
        pred_cls, conf = self._predicted(rows.pred)
        return BlockResult(start=start, per_sample=shown,
                           elementwise=None if rows.elementwise is None
                           else np.asarray(rows.elementwise),
                           true_class=rows.true_class, pred_class=pred_cls, confidence=conf,
                           valid=rows.valid)

    def _rows(self, y_true: Any, y_pred: Any, sample_weight: Any, start: int, ts: Input,
              ps: Input, ws: Input) -> Rows:
        """Validate one block of rows ``(n, C)`` and compute its values."""
        spec = self.spec
        pred = as_2d(y_pred, ps)
        if spec.projection:  # hidden states -> logits (linear_cross_entropy)
            pred = self._project(pred, ps)
        if pred.dtype.kind not in "fiub":
            raise text_error(pred, ps, start, "prediction")
        n, c = pred.shape
        self._check_width(c, ps)
        pred = self._cast(pred, ps, start)
        if c == 1 and spec.binary_alternative:
            renormalised = spec.keras_renormalises or spec.prediction == "logits"
            raise ShapeError(
                f"{spec.name} spreads each row over one column per class, but {opt('y_pred')} "
                "has 1 column: one column is the probability of the positive class of a binary "
                "problem, " + ("and each row would be renormalised to 1, giving a loss of 0 "
                               "whatever the prediction" if renormalised else
                               "not a distribution over classes"),
                source=ps.name, hint=f"use {spec.binary_alternative}")
        bounds = finite_bounds(pred, ps, start, "prediction")
        true = as_2d(y_true, ts)
        if true.shape[0] != n:
            from lossctl import mismatch

            raise mismatch.rows([("y_true", ts.name, true.shape[0]), ("y_pred", ps.name, n)],
                                columns=c)
        index_target = spec.target == "index" or (
            spec.target == "index_or_dense" and true.shape[1] == 1 and c > 1
        )
        valid = np.ones(n, dtype=bool)
        labels = None
        if index_target:
            labels, valid = index_labels(true, c, ts, start, spec=spec, classes=self.classes,
                                         offset=self.offset, ignore_class=self.ignore_class)
            target: np.ndarray = labels
        else:
            target = dense_target(true, c, ts, start, spec=spec, dtype=self.dtype,
                                  options=self.options)
        pred = preds.check_domain(pred, ps, start, spec=spec, options=self.options,
                                  convention=self.convention, counters=self.counters,
                                  details=self.details, bounds=bounds)
        if self.diagnose:
            self.diagnostics.block(true, pred, sample_weight, start, index_target)
        values, elementwise = self._values(target, pred, valid, ts, start)
        w = None if sample_weight is None else sample_weights(sample_weight, n, ws, start)
        if w is not None:
            self._weighted = True
        cls_true = self._true_class(true, labels, valid)
        w = self._keras_class_weights(w, cls_true, valid, true, c, ts)
        target_cw = None
        if (self.class_weight is not None and self.convention == "torch" and index_target
                and spec.torch_mean == "class_weights"):
            target_cw = self.class_weight[np.where(valid, labels, 0)]
        if self._aggregate is not None:
            if self.aggregate is None:
                self.aggregate = self._aggregate(dict(self.options), self.memory_limit)
            self.aggregate.add(target, pred, values if elementwise is None else elementwise, w)
        return Rows(values, elementwise, w, valid, target_cw, cls_true, pred)

    def _values(self, target: np.ndarray, pred: np.ndarray, valid: np.ndarray, ts: Input,
                start: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The loss function's values: per row (n,), and elementwise (n, C) if it has them."""
        kwargs = dict(self.options)
        c = pred.shape[1]
        if self.class_weight is not None and self.convention == "torch":
            if self.class_weight.shape[0] != c:
                raise ShapeError(
                    f"{self.class_weight.shape[0]} class weights for {c} classes",
                    source=self.class_weight_source,
                    hint=f"give {opt('class_weight')} one weight per column of "
                    f"{opt('y_pred')} ({c})", option="class_weight")
            kwargs["class_weight"] = self.class_weight.astype(self.dtype)
        if self.spec.label_conversion == "hinge":
            kwargs["convert_labels"] = self._hinge_conversion(target, ts, start)
        kwargs.update(self._role_kwargs(pred.shape[0], start, two_d=True))
        with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
            values = np.asarray(self.fn(target, pred, convention=self.convention, **kwargs))
        elementwise = None
        if self.spec.kind == "elementwise":
            elementwise = values
            per_row = _row_mean(values) if values.ndim == 2 else values
        else:
            per_row = values
        per_row = np.where(valid, np.asarray(per_row, dtype=np.float64), 0.0)
        if elementwise is not None and not valid.all():
            elementwise = np.where(valid[:, None], elementwise, 0)
        return per_row, elementwise

    def _keras_class_weights(self, w: np.ndarray | None, cls_true: np.ndarray | None,
                             valid: np.ndarray, true: np.ndarray, c: int,
                             ts: Input) -> np.ndarray | None:
        """Keras: class weights are per-row sample weights ``w[y]`` (``Model.fit``)."""
        if self.class_weight is None or self.convention == "torch":
            return w
        if cls_true is None:  # several 0/1 label columns: no single class to weight a row by
            raise ShapeError(
                f"{opt('class_weight')} weights each row by its class, but {opt('y_true')} has "
                f"{true.shape[1]} label columns (multi-label), so a row has no single class",
                source=ts.name,
                hint=f"weight the rows with {opt('sample_weight')} instead",
                option="class_weight",
            )
        k = max(c, 2)
        if self.class_weight.shape[0] != k:
            raise ShapeError(f"{self.class_weight.shape[0]} class weights for {k} classes",
                             source=self.class_weight_source,
                             hint=f"give {opt('class_weight')} one weight per class ({k})",
                             option="class_weight")
        rows = np.where(valid, self.class_weight[np.clip(cls_true, 0, None)], 0.0)
        return rows if w is None else w * rows

    def _add(self, rows: Rows, c: int) -> np.ndarray:
        """Add one block's rows to the running sums; returns their weighted values
        (``w * l``, 0 where ignored), the frameworks' ``reduction="none"`` values."""
        v, w, valid = rows.values, rows.weights, rows.valid
        with np.errstate(over="ignore", invalid="ignore"):  # inf losses: warned at finish
            self.acc.add(v, weights=w, valid=valid, class_weights=rows.class_weights, width=c)
            shown = v if w is None else v * np.where(valid, w, 0.0)
        self.counters.ignored += int((~valid).sum())
        self.counters.nonfinite += int((~np.isfinite(v) & valid).sum())
        return shown

    def _predicted(self, pred: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        if not self.details or self.spec.prediction == "labels":
            return None, None
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):  # logits of +-1e308
            return preds.predicted(pred, self.spec, self.options)

    # ---------------------------------------------------------------------------- finish
    def finish(self) -> Result:
        """The reduced value (None for ``reduction="none"``) and how it was computed, as a
        :class:`~lossctl.result.Result`; emits the collected warnings."""
        value = None
        if self.reduction != "none":
            with np.errstate(over="ignore", invalid="ignore"):
                value = self._reduce()
        self._emit_warnings()
        return Result(
            loss=self.spec.name, alias=self.alias.name if self.alias else None,
            convention=self.convention, reduction=self.reduction, value=value,
            samples=self.samples, classes=self.num_classes, options=dict(self.options),
            counters=self.counters, spec=self.spec, reading=str(self.reading),
            extremes=self.extremes,
            elements=None if self.layout is None else self.acc.rows,
            shape=None if self.layout is None else self.layout.dims,
            details=None if self.aggregate is None else self.aggregate.details(),
            ci=self._intervals(self.ci_level) if self.replicates and value is not None else None,
        )

    def _rule(self) -> tuple[str | None, float, str]:
        """How ``reduction`` divides: (divisor rule of :class:`Accumulator`, or None for a
        sum; a scale of the sum; what a zero divisor gives)."""
        spec = self.spec
        keras = self.convention != "torch"  # keras and keras-jax reduce alike
        empty = "zero" if keras else "nan"
        red = self.reduction
        if red == "sum":
            width = self.width or 1
            return None, (width if (not keras and spec.kind == "elementwise") else 1.0), empty
        if red == "mean_with_sample_weight":
            return "weights", 1.0, "zero"
        if red == "batchmean":
            return "rows", 1.0, empty
        if spec.mean_divisor == "counts":  # ntxent: the positive pairs, NaN if none (optax)
            return "class_weights", 1.0, "nan"
        rule = "valid"  # mean (and the per-sample values of "none")
        if self.convention == "sklearn":  # np.average: sum(w*l) / sum(w); no rows -> NaN
            return "weights", 1.0, "nan"
        if not keras:
            if spec.torch_mean == "elements":
                rule = "elements"
            elif spec.torch_mean == "class_weights" and self.class_weight is not None:
                rule = "class_weights"
            elif spec.torch_mean == "weights" and self._weighted:
                rule = "weights"
        return rule, 1.0, empty

    def _reduce(self) -> float:
        if self.overlap is not None:
            return self.overlap.value(self.reduction, samples=self.samples)
        if self._aggregate is not None:  # scikit-learn's own reduction of this metric
            return self.aggregate.value() if self.aggregate is not None else math.nan
        rule, scale, empty = self._rule()
        # batchmean divides by the samples (an N-D sample is many rows)
        value = self.acc.reduce(rule, empty=empty, scale=scale,
                                divisor=self.samples if rule == "rows" else None)
        if self.spec.finalize == "sqrt":
            value = math.sqrt(value) if value >= 0 else math.nan
        return value

    def _emit_warnings(self) -> None:
        c = self.counters
        if c.renormalised:
            rule = self.spec.keras_renormalises
            if self.convention == "torch":
                what = "PyTorch uses them as they are (Keras would renormalise them)"
            elif self.convention == "sklearn":
                what = "scikit-learn uses them as they are (it warns, Keras would renormalise)"
            elif rule == "clip-renormalise" and self.convention == "keras":
                what = ("Keras (TensorFlow backend) clips them to [1e-7, 1-1e-7] and then "
                        "renormalises them")
            else:
                what = "Keras renormalises them before clipping; PyTorch does not"
            rows = "probability row does" if c.renormalised == 1 else "probability rows do"
            scores = (f" ({c.above_one} with scores above 1: not probabilities)"
                      if c.above_one else "")
            warn(f"{c.renormalised} {rows} not sum to 1{scores}: {what}")
        if c.rounded:
            note(f"{c.rounded} probabilities within {preds.PROB_TOLERANCE:g} outside [0, 1] were "
                 "treated as 0 or 1 (rounding noise)")
        if c.nonfinite:
            rows = "loss is" if c.nonfinite == 1 else "losses are"
            why = self.spec.nonfinite_cause or ("the predictions are too large for float64, "
                                                 "or a probability of exactly 0 was taken the "
                                                 "log of")
            warn(f"{c.nonfinite} per-sample {rows} not finite (inf or NaN): {why}")
        if c.saturated and c.saturated == self.acc.rows and self.acc.rows > 1:
            warn(f"every prediction is saturated at 0 or 1 ({c.saturated} rows): the loss is "
                 "dominated by clipping")
        if self.diagnose:
            self.diagnostics.finish()

    # ------------------------------------------------------------------------- internals
    def _cast(self, a: np.ndarray, inp: Input, start: int) -> np.ndarray:
        """``a`` in the computation's dtype; a finite value float32 cannot hold is an error."""
        if a.dtype == self.dtype:
            return a
        with np.errstate(over="ignore", invalid="ignore"):
            out = a.astype(self.dtype)
        if self.dtype == np.float32 and a.dtype.kind == "f":
            lost = np.isinf(out) & np.isfinite(a)
            if lost.any():
                i = int(np.argmax(lost.any(axis=1)))
                v = a[i][lost[i]][0]
                raise DataError(
                    f"prediction {shown(v)} is beyond float32 (largest "
                    f"{float(np.finfo(np.float32).max):.4g}), which {opt('dtype', 'float32')} "
                    "computes in", **inp.where(start + i),
                    hint=f"use {opt('dtype', 'float64')}", option="dtype")
        return out

    def _track_extremes(self, values: np.ndarray, valid: np.ndarray) -> None:
        v = values[valid] if not valid.all() else values
        if not v.size:
            return
        with np.errstate(invalid="ignore"):
            hi, lo = float(np.max(v)), float(np.min(v))
        if self.extremes is not None:
            hi, lo = max(hi, self.extremes[0]), min(lo, self.extremes[1])
        self.extremes = (hi, lo)

    def _check_width(self, c: int, inp: Input) -> None:
        if self.width is None:
            self.width = c
            if self.spec.target in ("index", "dense", "index_or_dense") or self.spec.task in (
                "multi-class",
            ):
                self.num_classes = c
        elif c != self.width:
            raise ShapeError(f"{opt('y_pred')} changed from {self.width} to {c} columns",
                             source=inp.name)

    def _hinge_conversion(self, target: np.ndarray, inp: Input, start: int) -> bool:
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
                f"label {shown(target[i][bad[i]][0])} appears after rows of 0/1 labels that were "
                "converted to -1/+1",
                **inp.where(start + i),
                hint="use -1/+1 labels throughout (Keras converts 0/1 only when every label is 0/1)",
            )
        return self._hinge_convert

    def _true_class(self, true: np.ndarray, labels: np.ndarray | None,
                    valid: np.ndarray) -> np.ndarray | None:
        spec = self.spec
        if spec.task in _NOT_CLASSES + ("multi-label",) or spec.target == "labels":
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
