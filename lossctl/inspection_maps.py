"""``inspect`` of N-D inputs: where the classes are, and which loss to run on label maps.

Segmentation and sequence models give N-D arrays. Labels are class-index maps ``(N, H, W)``
(Keras also writes ``(N, H, W, 1)``; a sequence is ``(N, T)``, which may be a table of T label
columns) or one-hot maps of the predictions' shape; predictions hold C scores per element on a
*class axis*: axis 1 in PyTorch's layout ``(N, C, H, W)``, the last axis in Keras's
``(N, H, W, C)``.

:func:`inspect_maps` takes the shapes from the opened sources (headers only), keeps the class
axes they allow (1 and the last), and streams both inputs once, computing the per-element
statistics of :mod:`lossctl.detection` along every axis still possible (a class-index map is
described as one column of elements). The axis is then the one the labels' shape fits, or for
one-hot labels the one along which they are one-hot, or else the one along which the
predictions sum to 1; when nothing tells two axes apart (C equal to a side, and logits) the
layout is called ambiguous and the commands of both are given, each with its
``--class-axis``. The recommendations and the conversions (``onehot``/``sparse`` to NPY) carry
``--class-axis`` wherever the loss's convention would take the other axis, and
``--ignore-class`` for a void label (255 in masks).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from lossctl import budget, inputs, mismatch
from lossctl.detection import LabelInfo, LabelStats, PredInfo, PredStats
from lossctl.inspection import (
    Inspection,
    Invocation,
    Recommendation,
    _Ctx,
    _regression,
    fit_labels,
    label_options,
)
from lossctl.labelmaps import shape_text

__all__ = ["inspect_maps"]

#: Values of the statistics' blocks per input value (two axes' copies, each converted).
_COPIES = 4


def _sample_shape(src: Any, sel: Any) -> tuple[int, ...]:
    """One sample's shape: an N-D input's dims, ``(k,)`` for k columns, ``()`` for one."""
    dims_of = getattr(src, "dims_of", None)
    dims = dims_of(sel) if dims_of is not None else getattr(src, "dims", None)
    if dims is not None:
        return tuple(int(d) for d in dims)
    k = len(sel) if sel is not None else len(src.columns)
    return (k,) if k > 1 else ()


def _axis_name(axis: int, ndim: int) -> str:
    """Axis ``axis`` of an ``ndim``-D prediction array, as the user knows it."""
    if axis == 1:
        return "axis 1 (PyTorch's layout (N, C, ...))"
    return "the last axis (Keras's layout (N, ..., C))" if axis == ndim - 1 else f"axis {axis}"


def _printed(axis: int, ndim: int) -> int:
    """The ``--class-axis`` value of an axis: 1, or -1 for the last."""
    return -1 if axis == ndim - 1 and axis != 1 else axis


def _along(axis: int, c: int) -> Callable[[np.ndarray], np.ndarray]:
    """A block ``(n, *dims)`` as rows of the C values on ``axis`` (one row per element)."""
    return lambda x: np.moveaxis(x, axis, -1).reshape(-1, c)


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1, 1)


def _feed(src: Any, sel: Any, feeders: list[tuple[Callable, Any]], size: int,
          values: int) -> int:
    """Stream ``src`` once through every ``(view, stats)`` of ``feeders``; its samples."""
    inputs.set_block_rows((src,), budget.block_rows(size, 8 * max(values, 1) * _COPIES))
    n = 0
    for b in src.blocks(sel):
        x = np.asarray(b.data if hasattr(b, "data") and not isinstance(b, np.ndarray) else b)
        if x.ndim == 1:
            x = x[:, None]
        n += len(x)
        for view, stats in feeders:
            stats.feed(view(x))
    return n


def _layout(tdims: tuple[int, ...], pdims: tuple[int, ...] | None, n: int, **extra: Any) -> dict:
    out = {"y_true": [n, *tdims], "y_pred": None if pdims is None else [n, *pdims],
           "class_axis": None, "classes": None, "elements": None, "ambiguous": False}
    out.update(extra)
    return out


def inspect_maps(t: Any, tsel: Any, p: Any, psel: Any, how: Invocation,
                 size: int) -> Inspection:
    """Inspect inputs of which one at least is N-D (see the module docstring)."""
    tdims = _sample_shape(t, tsel)
    if p is None:
        return _labels_alone(t, tsel, tdims, how, size)
    pdims = _sample_shape(p, psel)
    ins = Inspection(y_true={}, y_pred=None, fits=True)
    if len(pdims) < 2:
        ins.fits = False
        ins.layout = _layout(tdims, pdims, t.nrows or 0)
        ins.problems.append(
            f"y_true holds label maps {shape_text(tdims)} but y_pred has shape "
            f"{shape_text(pdims)}: predictions for maps need a class axis besides the "
            "elements' axes, (N, C, H, W) (PyTorch) or (N, H, W, C) (Keras)")
        return ins
    ndim = len(pdims) + 1
    axes = sorted({1, ndim - 1})
    grid = {a: pdims[:a - 1] + pdims[a:] for a in axes}
    dense = tdims == pdims
    index_axes = [a for a in axes if tdims in (grid[a], (*grid[a], 1))]
    if not dense and not index_axes:
        ins.fits = False
        ins.layout = _layout(tdims, pdims, t.nrows or 0)
        fits = " or ".join(shape_text(grid[a]) for a in axes)
        ins.problems.append(
            f"y_true has shape {shape_text(tdims)} and y_pred {shape_text(pdims)}: class-index "
            f"labels need one label per element, {fits} (classes on axis 1 or on the last "
            "axis), and one-hot or probability maps the predictions' shape")
        return ins
    cand = axes if dense else index_axes
    lstats = {a: LabelStats() for a in cand} if dense else {0: LabelStats()}
    pstats = {a: PredStats() for a in cand}
    tviews = [(_along(a, pdims[a - 1]), lstats[a]) for a in cand] if dense \
        else [(_flat, lstats[0])]
    nt = _feed(t, tsel, tviews, size, math.prod(tdims or (1,)))
    np_ = _feed(p, psel, [(_along(a, pdims[a - 1]), pstats[a]) for a in cand], size,
                math.prod(pdims))
    if nt != np_:
        ins.fits = False
        ins.layout = _layout(tdims, pdims, nt)
        ins.problems.append(str(mismatch.rows([("y_true", None, nt), ("y_pred", None, np_)])))
        return ins
    linfo = {a: s.info() for a, s in lstats.items()}
    pinfo = {a: s.info() for a, s in pstats.items()}
    _decide(ins, linfo, pinfo, cand, dense, tdims, pdims, nt, how)
    return ins


def _decide(ins: Inspection, linfo: dict[int, LabelInfo], pinfo: dict[int, PredInfo],
            cand: list[int], dense: bool, tdims: tuple[int, ...], pdims: tuple[int, ...],
            n: int, how: Invocation) -> None:
    """Choose the class axis and recommend (see the module docstring)."""
    ndim = len(pdims) + 1
    if dense:
        chosen = [a for a in cand if linfo[a].encoding in ("onehot", "soft")]
        if not chosen:  # 0/1 or real values of the predictions' shape: element by element
            a = cand[-1]
            ins.layout = _layout(tdims, pdims, n, elements=math.prod(pdims))
            _describe(ins, linfo[a], pinfo[a], tdims, pdims)
            ins.notes.append(f"y_true and y_pred have one shape, {shape_text(pdims)}, and the "
                             "labels are not one-hot along an axis: losses compare them "
                             "element by element")
            _elementwise(_Ctx(linfo[a], pinfo[a], how, ins), ins)
            return
    else:
        chosen = list(cand)
    if len(chosen) > 1:
        sums = [a for a in chosen if pinfo[a].kind in ("probabilities", "log_probabilities")]
        if len(sums) == 1:
            chosen = sums
    ambiguous = len(chosen) > 1
    first = chosen[-1] if ambiguous else chosen[0]  # Keras's first when nothing tells
    c = pdims[first - 1]
    ins.layout = _layout(tdims, pdims, n, class_axis=_printed(first, ndim), classes=c,
                         elements=math.prod(pdims) // c, ambiguous=ambiguous)
    li = linfo[first] if dense else linfo[0]
    _describe(ins, li, pinfo[first], tdims, pdims)
    kind = "one-hot or probability maps" if dense else "class-index maps"
    if ambiguous:
        ins.notes.append(
            f"ambiguous layout: y_pred {shape_text(pdims)} may hold its classes on axis 1 "
            f"(PyTorch's (N, C, ...)) or on the last axis (Keras's (N, ..., C)), and "
            f"neither the shapes nor the values tell: the commands of both follow, each with "
            "its --class-axis; take the one of the framework that made y_pred")
    else:
        ins.notes.append(f"layout: y_true {shape_text(tdims)} ({kind}), y_pred "
                         f"{shape_text(pdims)} with the classes on {_axis_name(first, ndim)}; "
                         "the statistics are per element")
    for a in reversed(chosen) if ambiguous else chosen:
        lia = linfo[a] if dense else linfo[0]
        sub = replace(how, class_axis=_printed(a, ndim), explicit_axis=ambiguous)
        ctx = _Ctx(lia, pinfo[a], sub, ins)
        where = _axis_name(a, ndim)
        if dense:
            _dense_maps(ctx, where, tdims, ambiguous)
        else:
            _index_maps(ctx, where, tdims, ambiguous)


def _describe(ins: Inspection, li: LabelInfo, pi: PredInfo | None, tdims: tuple,
              pdims: tuple | None) -> None:
    ins.y_true = {**asdict(li), "shape": list(tdims)}
    ins.y_pred = None if pi is None else {**asdict(pi), "shape": list(pdims or ())}
    counts = [k for x, k in zip(li.classes, li.counts) if x != li.void]
    if li.encoding in ("index", "index_offset", "binary", "onehot") and len(counts) > 1 \
            and min(counts) > 0 and not li.classes_truncated:
        ins.imbalance = max(counts) / min(counts)
    if pi is not None and (pi.nan or pi.posinf or pi.neginf):
        ins.fits = False
        ins.problems.append(
            f"y_pred holds {pi.nan} NaN and {pi.posinf + pi.neginf} infinite values: every "
            "loss over them is NaN or infinite (compute names the first sample)")


def _onehot_map(how: Invocation, c: int, extra: list[str], axis: int | None,
                tdims: tuple, why: str) -> Recommendation:
    """``lossctl onehot`` of a label map to NPY (``--class-axis`` for axis 1, and for a
    table of label columns, which is read as one map only with it)."""
    args = ["-n", str(c), *extra]
    if axis == 1 or (axis is not None and len(tdims) == 1):
        args += ["--class-axis", str(axis)]
    base = replace(how, class_axis=None)
    return Recommendation("onehot", base.convert("onehot", *args, output="onehot.npy"), why)


def _sparse_map(how: Invocation, axis: int, why: str) -> Recommendation:
    args = ["--class-axis", "1"] if axis == 1 else []
    base = replace(how, class_axis=None)
    return Recommendation("sparse", base.convert("sparse", *args, output="labels.npy"), why)


def _index_maps(ctx: _Ctx, where: str, tdims: tuple, ambiguous: bool) -> None:
    li, c, axis = ctx.li, ctx.c, ctx.how.class_axis
    if li.encoding not in ("index", "index_offset", "binary"):
        ctx.problem(f"y_true {shape_text(tdims)} should hold one class index per element, but "
                    f"its values are not class indices: {li.reason}")
        return
    if c == 1:
        ctx.problem(f"y_pred has one channel on {where}: for binary maps give the labels the "
                    "predictions' shape (binary_crossentropy compares them element by element)")
        return
    fit = fit_labels(ctx, "element")
    if fit is None:
        return
    offset, void = fit
    extra = label_options(offset, void)
    on = f"classes on {where}" if ambiguous else f"{c} classes on {where}"
    if ctx.logits:
        torch = ("cross_entropy", f"PyTorch's CrossEntropyLoss: class-index maps and logits, {on}")
        keras = ("sparse_categorical_crossentropy",
                 f"class-index maps and logits, {on}", "--from-logits")
        for loss, why, *more in ((torch, keras) if axis == 1 else (keras, torch)):
            ctx.add(loss, why, *extra, *more)
    elif ctx.logp:
        ctx.add("nll", f"PyTorch's NLLLoss: class-index maps and log-probabilities, {on}", *extra)
    else:
        why = f"class-index maps and probabilities, {on}"
        if ctx.indep:
            why += " (not all summing to 1: Keras renormalises them)"
        ctx.add("sparse_categorical_crossentropy", why, *extra)
    ctx.ins.conversions.append(_onehot_map(
        ctx.how, c, extra, axis, tdims,
        f"one-hot maps with the {on}, for categorical_crossentropy and dice"))


def _dense_maps(ctx: _Ctx, where: str, tdims: tuple, ambiguous: bool) -> None:
    enc, axis = ctx.li.encoding, ctx.how.class_axis
    on = f"classes on {where}"
    if ctx.logits:
        ctx.add("categorical_crossentropy", f"{enc} maps and logits, {on}", "--from-logits")
        ctx.add("cross_entropy", f"PyTorch's CrossEntropyLoss with probability targets, {on}")
    elif ctx.logp:
        ctx.add("kl_div", f"PyTorch's KLDivLoss: log-probabilities against target maps, {on}",
                "--reduction", "batchmean")
    else:
        ctx.add("categorical_crossentropy", f"{enc} maps and probabilities, {on}")
        if enc == "onehot":
            ctx.add("dice", f"overlap of the predicted and true masks per sample, {on}")
    if enc == "onehot":
        ctx.ins.conversions.append(_sparse_map(
            ctx.how, axis, f"class-index maps for sparse_categorical_crossentropy ({on})"))


def _elementwise(ctx: _Ctx, ins: Inspection) -> None:
    """Labels of the predictions' shape that are not one-hot along an axis: binary targets
    per element, or regression."""
    ctx.how = replace(ctx.how, class_axis=None)
    enc = ctx.li.encoding
    if enc in ("multihot", "binary") or (enc == "soft" and not ctx.probs):
        if ctx.logits:
            ctx.add("binary_crossentropy", "0/1 targets per element with logits", "--from-logits")
        elif ctx.indep or ctx.probs:
            ctx.add("binary_crossentropy", "0/1 targets per element with probabilities")
            ctx.add("dice", "overlap of the predicted and true masks per sample")
        else:
            ctx.problem("0/1 labels but the predictions are neither probabilities nor logits")
        return
    _regression(ctx.li, ctx.c, ctx.add, ins)


def _labels_alone(t: Any, tsel: Any, tdims: tuple[int, ...], how: Invocation,
                  size: int) -> Inspection:
    """An N-D label input without predictions: a class-index map, or a one-hot map (on the
    last axis or axis 1), and the conversion to the other."""
    ndim = len(tdims) + 1
    axes = sorted({1, ndim - 1})
    flat = LabelStats()
    along = {a: LabelStats() for a in axes}
    views = [(_flat, flat)] + [(_along(a, tdims[a - 1]), along[a]) for a in axes]
    n = _feed(t, tsel, views, size, math.prod(tdims))
    ins = Inspection(y_true={}, y_pred=None, fits=True)
    onehot = [a for a in reversed(axes) if along[a].info().encoding == "onehot"]
    if onehot:
        a = onehot[0]
        li = along[a].info()
        ins.layout = _layout(tdims, None, n, class_axis=_printed(a, ndim), classes=tdims[a - 1],
                             elements=math.prod(tdims) // tdims[a - 1])
        _describe(ins, li, None, tdims, None)
        ins.notes.append(f"layout: one-hot maps {shape_text(tdims)} with the classes on "
                         f"{_axis_name(a, ndim)}")
        ins.conversions.append(_sparse_map(how, _printed(a, ndim),
                                           "class-index maps for sparse_categorical_crossentropy"))
        return ins
    li = flat.info()
    ins.layout = _layout(tdims, None, n, elements=math.prod(tdims))
    _describe(ins, li, None, tdims, None)
    ins.notes.append(f"layout: {shape_text(tdims)}, one value per element (not one-hot along "
                     "axis 1 or the last axis)")
    if li.encoding in ("index", "index_offset", "binary") and li.num_classes:
        void = li.void
        if void is not None:
            ins.notes.append(f"label {void} stands apart from the classes: if it marks "
                             f"elements to ignore, use --ignore-class {void}")
        extra = label_options(li.offset, void)
        for axis, name in ((-1, "Keras's (N, ..., C)"), (1, "PyTorch's (N, C, ...)")):
            ins.conversions.append(_onehot_map(how, li.num_classes, extra, axis, tdims,
                                               f"one-hot maps in {name}"))
    return ins
