"""N-D inputs and inputs by role in the engine: :class:`ElementFeeds`, the part of
:class:`~lossctl.engine.Computation` that feeds samples of elements (segmentation maps,
sequences; :mod:`lossctl.layout`) and the overlap losses (:mod:`lossctl.overlap`), and
:class:`RoleFeeds`, the part that checks and passes a loss's further inputs (``var``,
``input2``, ``negative``: :mod:`lossctl.losses.embedding` says how a loss declares them) and
feeds the ``samples`` and ``batch`` kinds.

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
from lossctl.errors import DataError, ShapeError, UsageError, note, opt
from lossctl.layout import ElementInput, Layout, decide
from lossctl.losses.reduction import per_sample_values
from lossctl.validation import (
    Input,
    as_2d,
    check_finite,
    dense_target,
    sample_weights,
    shown,
    text_error,
)

__all__ = ["ElementFeeds", "RoleFeeds"]


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
        if self.replicates:
            self._replicate(start, lay.per_sample(rows.values, n),
                            None if rows.weights is None else lay.per_sample(rows.weights, n),
                            lay.per_sample(rows.valid, n),
                            None if rows.class_weights is None
                            else lay.per_sample(rows.class_weights, n),
                            n=n, per=p, width=lay.classes)
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


class RoleFeeds:
    """Mixed into :class:`~lossctl.engine.Computation`: a loss's inputs by role."""

    #: constants of the roles read whole (a weight matrix) or given as one number
    role_values: dict[str, np.ndarray]
    #: the per-row roles' current block, and their sources (for messages)
    role_blocks: dict[str, np.ndarray]
    role_inputs: dict[str, Input]

    def _check_roles(self, given: Any) -> None:
        """Every required role given, and none the loss does not take (usage errors, before
        any input is read). ``given``: role names, or a mapping of names to constants."""
        from lossctl.losses import registry

        spec = self.spec
        names = set(given or ())
        extra = spec.extra_inputs
        for name in sorted(names - set(extra)):
            users = registry.role_users(name)
            raise UsageError(f"{opt(name)} does not apply to {spec.name}",
                             hint=(f"it is an input of {', '.join(users)}" if users else
                                   "no loss takes it") + (
                                 f"; {spec.name} takes {', '.join(opt(r) for r in extra)}"
                                 if extra else f"; {spec.name} takes Y_TRUE and Y_PRED only"),
                             option=name)
        for name in extra:
            if name not in names and name not in spec.optional_inputs:
                raise UsageError(f"{spec.name} needs {name}: give {opt(name)} SOURCE",
                                 hint=_role_help(name), option=name)
        self.role_values = {k: v for k, v in (given.items() if isinstance(given, dict) else ())
                            if v is not None}
        self.role_blocks = {}
        self.role_inputs = {}

    def _role_array(self, name: str, value: Any, n: int | None, start: int,
                    two_d: bool) -> np.ndarray:
        """One role's block (``n`` rows; None for a constant) as numbers in the computation's
        dtype (int64 for an integer role), finite."""
        from lossctl.losses.spec import ROLES

        role = ROLES[name]
        inp = self.role_inputs.get(name, Input(name))
        a = np.asarray(value)
        if a.dtype.kind not in "fiub":
            raise text_error(a.reshape(a.shape[0] if a.ndim else 1, -1), inp, start,
                             name.replace("_", " ") + " value")
        if n is not None and a.ndim and a.shape[0] != n:
            from lossctl import mismatch

            raise mismatch.rows([("y_pred", None, n), (name, inp.name, a.shape[0])])
        flat = a.reshape(a.shape[0] if a.ndim else 1, -1)
        check_finite(flat if a.dtype.kind == "f" else flat.astype(np.float64), inp, start,
                     name.replace("_", " ") + " value")
        if role.integer:
            if a.dtype.kind == "f":
                bad = a != np.round(a)
                if bad.any():
                    i = int(np.argmax(bad.reshape(flat.shape).any(axis=1)))
                    raise DataError(f"{name.replace('_', ' ')} value "
                                    f"{shown(flat[i][bad.reshape(flat.shape)[i]][0])} is not a "
                                    "whole number", **inp.where(start + i), option=name)
            out = a.astype(np.int64)
        else:
            out = a.astype(self.dtype, copy=False)
        if two_d and n is not None and out.ndim <= 2:
            out = as_2d(out, Input(name, inp.name))
        return out

    def _role_kwargs(self, n: int, start: int, *, two_d: bool) -> dict[str, Any]:
        """The keyword arguments of the loss function: every further role, its block's rows
        (per-row roles) or its constant; None for an optional role not given."""
        spec = self.spec
        out: dict[str, Any] = {}
        for name in spec.extra_inputs:
            if spec.projection and name in ("linear_weight", "linear_bias"):
                continue  # used up by the projection
            if name in self.role_blocks:
                out[name] = self._role_array(name, self.role_blocks[name], n, start, two_d)
            elif name in self.role_values:
                out[name] = self._role_array(name, self.role_values[name], None, start, False)
            else:
                out[name] = None
        return out

    def _project(self, pred: np.ndarray, inp: Input) -> np.ndarray:
        """``LossSpec.projection == "linear"``: hidden states (n, D) to logits (n, C)."""
        from lossctl.losses.embedding import project

        if pred.dtype.kind not in "fiub":
            return pred  # (reported as text by the caller)
        hidden = pred.astype(np.float64, copy=False)
        check_finite(hidden, inp, 0, "hidden state")
        bias = self.role_values.get("linear_bias")
        with np.errstate(over="ignore", invalid="ignore"):
            return project(hidden, self._role_array("linear_weight",
                                                    self.role_values["linear_weight"], None, 0,
                                                    False),
                           None if bias is None else self._role_array("linear_bias", bias, None,
                                                                      0, False))

    def _feed_samples(self, true: np.ndarray, pred: np.ndarray, sample_weight: Any, start: int,
                      inputs: tuple[Input, Input, Input]) -> BlockResult:
        """Kinds ``samples`` and ``batch``: the function gets the blocks as read (numbers,
        Y_PRED finite) and its roles, and returns per-sample values (and the rows counted)."""
        ts, ps, ws = inputs
        if pred.ndim == 0 or true.ndim == 0:
            raise ShapeError(f"{opt('y_pred' if pred.ndim == 0 else 'y_true')} is a single "
                             "value, not one row per sample", hint="give an (N,) or (N, D) array")
        n = pred.shape[0]
        if true.shape[0] != n:
            from lossctl import mismatch

            raise mismatch.rows([("y_true", ts.name, true.shape[0]), ("y_pred", ps.name, n)])
        for a, inp, what in ((pred, ps, "prediction"), (true, ts, "label")):
            if a.dtype.kind not in "fiub":
                raise text_error(a.reshape(n, -1), inp, start, what)
        flat = pred.reshape(n, -1)
        pred = self._cast(flat, ps, start).reshape(pred.shape)
        check_finite(flat.astype(self.dtype, copy=False), ps, start, "prediction")
        if true.dtype.kind == "f":
            check_finite(true.reshape(n, -1), ts, start, "label")
        self.samples += n
        self.width = flat.shape[1] if n else self.width
        kwargs = dict(self.options)
        kwargs.update(self._role_kwargs(n, start, two_d=False))
        with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
            out = self.fn(true, pred, convention=self.convention, **kwargs)
        values, valid, counts = (out + (None, None))[:3] if isinstance(out, tuple) else (
            out, None, None)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        valid = np.ones(n, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
        w = None if sample_weight is None else sample_weights(sample_weight, n, ws, start)
        if w is not None:
            self._weighted = True
        summed = values
        if self.spec.mean_divisor == "each" and counts is not None:
            # PyTorch CTC's mean: each value over its count (target length), then the mean
            if self.reduction == "mean":
                summed = values / np.asarray(counts, dtype=np.float64)
            counts = None
        with np.errstate(over="ignore", invalid="ignore"):
            self.acc.add(np.where(valid, summed, 0.0), weights=w, valid=valid,
                         class_weights=counts)
            self._replicate(start, np.where(valid, summed, 0.0), w, valid, counts, n=n)
            shown_values = np.where(valid, values if w is None else values * w, 0.0)
        self.counters.nonfinite += int((~np.isfinite(values) & valid).sum())
        self._track_extremes(shown_values, valid)
        return BlockResult(start=start, per_sample=shown_values, elementwise=None,
                           true_class=None, pred_class=None, confidence=None, valid=valid)


def _role_help(name: str) -> str:
    from lossctl.losses.spec import ROLES

    return ROLES[name].help + " (a file, file.npz:key, - for standard input, or an array)"
