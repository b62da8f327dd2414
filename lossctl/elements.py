"""N-D inputs in the engine: :class:`ElementFeeds`, the part of
:class:`~lossctl.engine.Computation` that feeds samples of elements (segmentation maps,
sequences; :mod:`lossctl.layout`) and the overlap losses (:mod:`lossctl.overlap`).

A block of ``n`` N-D samples is computed as ``n * P`` rows of classes by the same code as 2-D
rows (``Computation._rows``), reduced over all rows for the value, and per sample for the
per-sample values: each sample's value is what the framework gives for a batch of that one
sample (:func:`lossctl.losses.reduction.per_sample_values`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lossctl import predictions as preds
from lossctl.blocks import BlockResult, Elements
from lossctl.errors import ShapeError, note, opt
from lossctl.layout import ElementInput, Layout, decide
from lossctl.losses.reduction import per_sample_values
from lossctl.validation import Input, check_finite, dense_target, sample_weights

__all__ = ["ElementFeeds"]


class ElementFeeds:
    """Mixed into :class:`~lossctl.engine.Computation` (whose attributes it uses)."""

    layout: Layout | None
    _index: bool

    def _feed_elements(self, true: np.ndarray, pred: np.ndarray, sample_weight: Any,
                       start: int, inputs: tuple[Input, Input, Input]) -> BlockResult:
        """One block of N-D samples: their elements computed as rows, then reduced per sample
        (each sample's value is what the framework gives for a batch of that one sample)."""
        ts, ps, ws = inputs
        n = pred.shape[0]
        if true.shape[0] != n:
            from lossctl import mismatch

            raise mismatch.rows([("y_true", ts.name, true.shape[0]), ("y_pred", ps.name, n)])
        lay, index = self._layout(true, pred, ts, ps)
        el = (ElementInput(ts, lay), ElementInput(ps, lay),
              ElementInput(ws, lay) if ws is not None else Input("sample_weight"))
        p = lay.elements
        self.samples += n
        if self.overlap is not None:
            return self._feed_overlap(lay.rows(true), lay.rows(pred), sample_weight, start,
                                      (*el[:2], ws), lay, n)
        w = None
        if sample_weight is not None:
            w = np.asarray(sample_weight)
            if w.dtype.kind in "fiub" and w.shape[:1] == (n,):
                lay.check_weights(w.shape[1:], ws)
                w = lay.weight_rows(w, n)
        true_rows = lay.index_rows(true) if index else lay.rows(true)
        rows = self._rows(true_rows, lay.rows(pred), w, start * p, *el)
        shown = self._add(rows, lay.classes)
        rule, scale, empty = self._rule()
        per = per_sample_values(
            lay.per_sample(rows.values, n),
            None if rows.weights is None else lay.per_sample(rows.weights, n),
            lay.per_sample(rows.valid, n),
            None if rows.class_weights is None else lay.per_sample(rows.class_weights, n),
            rule=rule, scale=scale, empty=empty, width=lay.classes)
        if self.spec.finalize == "sqrt":
            per = np.sqrt(per)
        valid = lay.per_sample(rows.valid, n).any(axis=1)
        self._track_extremes(per, valid)
        grid = None
        if self.elementwise:
            grid = (lay.class_map(rows.elementwise, n) if rows.elementwise is not None
                    else lay.grid_map(shown, n))
        pred_cls, _ = self._predicted(rows.pred)
        return BlockResult(start=start, per_sample=per, elementwise=grid, true_class=None,
                           pred_class=None, confidence=None, valid=valid,
                           elements=Elements(shown, rows.true_class, pred_cls, rows.valid))

    def _layout(self, true: np.ndarray, pred: np.ndarray, ts: Input,
                ps: Input) -> tuple[Layout, bool]:
        """The layout (decided on the first block; later blocks must have the same shapes),
        and whether ``y_true`` holds class indices."""
        spec = self.spec
        pdims, tdims = tuple(pred.shape[1:]), tuple(true.shape[1:])
        if self.layout is None:
            index = spec.target == "index" or (spec.target == "index_or_dense"
                                               and tdims != pdims)
            if pred.ndim < 2:
                raise ShapeError(f"{opt('y_pred')} has one value per sample, but "
                                 f"{opt('y_true')} has shape {true.shape}", source=ps.name)
            self.layout = decide(pdims, tdims, convention=self.convention,
                                 class_axis=self.class_axis, index_labels=index, inp=ps)
            self._index = index
            if self.class_weight is not None and self.convention != "torch":
                note(f"Keras's Model.fit refuses {opt('class_weight')} for targets of 3 or more "
                     "dimensions; each element is weighted by the weight of its class, as a "
                     "sample-weight map would")
        lay = self.layout
        if pdims != lay.dims:
            raise ShapeError(f"{opt('y_pred')} changed from samples of shape {lay.dims} to "
                             f"{pdims}", source=ps.name)
        if self._index:
            lay.check_labels(tdims, ts, spec.name)
        elif tdims != lay.dims:
            lay.check_same(tdims, ts, "targets")
        return lay, self._index

    def _feed_overlap(self, true: np.ndarray, pred: np.ndarray, sample_weight: Any,
                      start: int, inputs: tuple[Input, Input, Input], lay: Layout | None,
                      n: int) -> BlockResult:
        """Dice and Tversky: the rows validated as for any loss, the overlap summed over the
        loss's ``axis`` (:mod:`lossctl.overlap`); one sample weight per sample."""
        ts, ps, ws = inputs
        w = None if sample_weight is None else sample_weights(sample_weight, n, ws, start)
        rows_start = start * (lay.elements if lay is not None else 1)
        pred = self._cast(pred, ps, rows_start)
        self._check_width(pred.shape[1], ps)
        check_finite(pred, ps, rows_start, "prediction")
        target = dense_target(true, pred.shape[1], ts, rows_start, spec=self.spec,
                              dtype=self.dtype, options=self.options)
        pred = preds.check_domain(pred, ps, rows_start, spec=self.spec, options=self.options,
                                  convention=self.convention, counters=self.counters,
                                  details=False)
        if lay is not None:
            target, pred = lay.class_map(target, n), lay.class_map(pred, n)
        per = self.overlap.feed(target, pred, w, self.reduction)
        self._track_extremes(per, np.ones(n, dtype=bool))
        return BlockResult(start=start, per_sample=per, elementwise=None, true_class=None,
                           pred_class=None, confidence=None, valid=np.ones(n, dtype=bool))
