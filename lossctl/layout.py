"""N-D inputs: segmentation maps, sequences, any class axis, seen by the engine as rows.

A 2-D input ``(N, C)`` is N rows of C classes. An N-D input is N samples (images, sequences),
each a grid of *elements* (pixels, tokens) that each hold a row of C classes on the **class
axis**: PyTorch's axis 1 (``(N, C, d1, ..., dk)`` with targets ``(N, d1, ..., dk)``), Keras's
last axis (``(N, d1, ..., dk, C)`` with labels ``(N, d1, ..., dk)`` or ``(N, ..., 1)``), or any
axis given with ``class_axis``. :class:`Layout` moves the class axis last and flattens the
elements, so a block of n samples becomes ``n * P`` rows of C classes (P elements per sample)
that the loss functions compute exactly as 2-D rows; the values go back to the sample's grid
for the per-element map, and are reduced per sample for the per-sample values.

Which axis: ``class_axis`` when given; otherwise the convention's (torch 1, keras -1), unless
only the other axis fits the labels' shape (integer label maps fix the layout), in which case
that one is taken and a note says so. Dense targets (one-hot or probability maps) have the
predictions' shape, so only the convention (or ``class_axis``) decides.

Sample weights: one per sample ``(N,)`` (broadcast over its elements), or one per element
``(N, d1, ..., dk)`` / ``(N, ..., 1)``, as Keras multiplies a weight map into its loss map.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from lossctl.record import record
from typing import Any

import numpy as np

from lossctl.errors import ShapeError, note, opt
from lossctl.validation import Input

__all__ = ["ElementInput", "Layout", "decide"]


def _dims(shape: Sequence[int]) -> str:
    return "(N, " + ", ".join(str(d) for d in shape) + ")" if shape else "(N,)"


@record(frozen=True)
class Layout:
    """How one sample of an N-D input maps to rows of classes.

    Attributes:
        dims: the shape of one sample of ``y_pred`` (everything after the first axis).
        axis: the class axis within ``dims`` (0-based; axis 1 of the array is 0 here).
    """

    dims: tuple[int, ...]
    axis: int

    @property
    def classes(self) -> int:
        return self.dims[self.axis]

    @property
    def grid(self) -> tuple[int, ...]:
        """The elements' shape: ``dims`` without the class axis, e.g. ``(H, W)``."""
        return self.dims[:self.axis] + self.dims[self.axis + 1:]

    @property
    def elements(self) -> int:
        """Elements per sample (P)."""
        return math.prod(self.grid)

    # ------------------------------------------------------------------ to rows
    def rows(self, a: np.ndarray) -> np.ndarray:
        """``(n, *dims)`` -> ``(n * P, C)``: the class axis last, the elements flattened."""
        moved = np.moveaxis(a, 1 + self.axis, -1)
        return moved.reshape(-1, self.classes)

    def index_rows(self, a: np.ndarray) -> np.ndarray:
        """Label maps ``(n, *grid)`` or ``(n, *grid, 1)`` -> ``(n * P, 1)``."""
        return a.reshape(-1, 1)

    def weight_rows(self, w: np.ndarray, n: int) -> np.ndarray:
        """Sample weights ``(n,)`` or weight maps ``(n, *grid)`` / ``(n, *grid, 1)`` ->
        ``(n * P,)``."""
        if w.ndim == 1:
            return np.repeat(w, self.elements)
        return w.reshape(-1)

    # ------------------------------------------------------------------ from rows
    def grid_map(self, values: np.ndarray, n: int) -> np.ndarray:
        """Per-element values ``(n * P,)`` -> ``(n, *grid)``."""
        return values.reshape((n, *self.grid))

    def class_map(self, values: np.ndarray, n: int) -> np.ndarray:
        """Per-class values ``(n * P, C)`` -> ``(n, *dims)`` (the input's own layout)."""
        moved = values.reshape((n, *self.grid, self.classes))
        return np.moveaxis(moved, -1, 1 + self.axis)

    def per_sample(self, values: np.ndarray, n: int) -> np.ndarray:
        """``(n * P,)`` or ``(n * P, k)`` -> ``(n, P)`` / ``(n, P * k)`` (one row per sample)."""
        return values.reshape(n, -1)

    # ------------------------------------------------------------------ shapes
    def check_labels(self, true_dims: tuple[int, ...], inp: Input, spec_name: str) -> None:
        """Integer labels must hold one label per element: ``grid`` or ``grid + (1,)``."""
        if true_dims in (self.grid, (*self.grid, 1)):
            return
        if true_dims == self.dims:
            hint = ("these look like one-hot or probability maps: use a loss of dense "
                    "targets (categorical_crossentropy, cross_entropy with probability targets)")
        else:
            hint = (f"labels need one class index per element, shape {_dims(self.grid)}; check "
                    f"{opt('class_axis')}")
        raise ShapeError(
            f"{spec_name} takes class-index labels of shape {_dims(self.grid)} for predictions "
            f"of shape {_dims(self.dims)} (classes on axis {self.axis + 1}), but "
            f"{opt(inp.role)} has shape {_dims(true_dims)}", source=inp.name, hint=hint)

    def check_same(self, dims: tuple[int, ...], inp: Input, what: str) -> None:
        if dims != self.dims:
            raise ShapeError(f"{opt(inp.role)} has shape {_dims(dims)}, but {opt('y_pred')} has "
                             f"{_dims(self.dims)}: {what} must have the same shape",
                             source=inp.name)

    def check_weights(self, dims: tuple[int, ...], inp: Input) -> None:
        if dims in ((), self.grid, (*self.grid, 1)):
            return
        raise ShapeError(
            f"{opt('sample_weight')} has shape {_dims(dims)}; with predictions of shape "
            f"{_dims(self.dims)} it takes one weight per sample (N,) or one per element "
            f"{_dims(self.grid)}", source=inp.name)


def _axis(k: int, ndim: int, dims: tuple[int, ...]) -> int:
    """``class_axis`` of the array (1..ndim-1, or negative) -> an index into ``dims``."""
    a = k + ndim if k < 0 else k
    if not 1 <= a < ndim:
        raise ShapeError(
            f"{opt('class_axis', k)} is not an axis of the classes of an array of shape "
            f"{_dims(dims)}", hint="axis 0 holds the samples: give 1 .. "
            f"{ndim - 1}, or -1 for the last axis", option="class_axis")
    return a - 1


def decide(pred_dims: tuple[int, ...], true_dims: tuple[int, ...] | None, *,
           convention: str, class_axis: int | None, index_labels: bool,
           inp: Input | None = None) -> Layout:
    """The layout of an N-D computation, decided on its first block (see the module docstring).

    Args:
        pred_dims: one sample's shape of ``y_pred``.
        true_dims: one sample's shape of ``y_true`` (None when it has none).
        convention: the computation's convention (its default class axis).
        class_axis: the user's ``class_axis`` (an axis of the array), or None.
        index_labels: ``y_true`` holds class indices (one per element).
    """
    ndim = len(pred_dims) + 1
    if ndim < 2:
        raise ShapeError(f"{opt('y_pred')} has one value per sample; N-D predictions need a "
                         "class or value axis", source=inp.name if inp else None)
    if class_axis is not None:
        return Layout(pred_dims, _axis(class_axis, ndim, pred_dims))
    default = 0 if convention == "torch" else len(pred_dims) - 1
    lay = Layout(pred_dims, default)
    if not index_labels or true_dims is None or len(pred_dims) < 2:
        return lay
    other = Layout(pred_dims, len(pred_dims) - 1 if default == 0 else 0)
    fits = [x for x in (lay, other) if true_dims in (x.grid, (*x.grid, 1))]
    if len(fits) == 1 and fits[0] is other:
        where = ("axis 1, PyTorch's layout (N, C, ...)" if other.axis == 0 else
                 "the last axis, Keras's layout (N, ..., C)")
        note(f"the labels {_dims(true_dims)} fit predictions {_dims(pred_dims)} with the "
             f"classes on {where}, not on the {convention} convention's axis: computed that way "
             f"({opt('class_axis', other.axis + 1 if other.axis == 0 else -1)} says so "
             "explicitly)")
        return other
    if len(fits) == 2 and lay.axis != other.axis:
        note(f"the labels {_dims(true_dims)} fit predictions {_dims(pred_dims)} with the classes "
             f"on axis 1 or on the last axis; the {convention} convention's axis "
             f"({'1' if default == 0 else '-1'}) was taken: give {opt('class_axis')} to choose")
    return lay


class ElementInput(Input):
    """An :class:`~lossctl.validation.Input` whose rows are elements: an error about element
    row ``r`` names its sample (``r // P``) and the element's position in the grid."""

    def __init__(self, base: Input, layout: Layout) -> None:
        super().__init__(base.role, base.name, base.locate)
        self.layout = layout

    def where(self, row: int) -> dict[str, Any]:
        p = self.layout.elements
        sample, k = divmod(int(row), p)
        pos = tuple(int(i) for i in np.unravel_index(k, self.layout.grid))
        out = super().where(sample)
        out["location"] = f"{out['location']}, element {pos if len(pos) > 1 else pos[0]}"
        return out
