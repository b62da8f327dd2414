"""Label maps: class indices per element of N-D arrays, to one-hot maps and back, block by block.

A *label map* holds one class label per element: ``(N, H, W)`` segmentation masks, ``(N, T)``
token labels, any ``(N, d1, ..., dk)``. Its one-hot map adds a class axis of C one-hot values:
channels-last ``(N, d1, ..., dk, C)`` by default (``class_axis=-1``, as Keras ``to_categorical``
and ``tf.one_hot`` write it), ``(N, C, d1, ..., dk)`` with ``class_axis=1`` (PyTorch's layout,
``F.one_hot(t).permute(0, 3, 1, 2)`` for images), or any axis of the output. A label map of
shape ``(N, ..., 1)`` (Keras's sparse labels) loses its trailing 1, as ``to_categorical`` does.

Every element is converted exactly as one label of a label column is: :class:`MapEncoder` runs
the label column's :class:`~lossctl.encoding.OneHotEncoder` on the elements (so ``offset``,
``classes``, ``smooth``, ``dtype``, ``ignore_class``, the inference of C and every error are
the same), and :class:`MapDecoder` runs the :class:`~lossctl.decoding.SparseDecoder` on the
elements' class vectors (strict, ``argmax``, ties counted). Errors name the sample and the
element: ``row 3, element (12, 40)``.

Both work on blocks of whole samples ``(n, *dims)``; a sample whose one-hot map is larger than
a block is written in pieces of its C-order bytes (:meth:`MapEncoder.convert`), and a large
sample is decoded a run of elements at a time, so memory stays bounded by the block size.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from lossctl.decoding import SparseDecoder
from lossctl.encoding import OneHotEncoder
from lossctl.errors import UsageError, note, opt
from lossctl.labels import INT_RE, Location, default_location

__all__ = ["MapDecoder", "MapEncoder", "class_axis_of", "element_location", "onehot_map",
           "shape_text", "sparse_map"]


def shape_text(dims: Sequence[int]) -> str:
    """``(64, 64)`` -> ``"(N, 64, 64)"``: the shape of an input or output in messages."""
    return "(N, " + ", ".join(str(d) for d in dims) + ")" if len(dims) else "(N,)"


def class_axis_of(class_axis: int | None, ndim: int) -> int:
    """``class_axis`` (an axis of an array of ``ndim`` dimensions, negative from the end;
    None: the last) as a positive axis ``1 .. ndim - 1``."""
    k = -1 if class_axis is None else int(class_axis)
    a = k + ndim if k < 0 else k
    if not 1 <= a < ndim:
        raise UsageError(
            f"{opt('class_axis', k)} is not an axis of the classes of a {ndim}-D array",
            hint=f"axis 0 holds the samples: give 1 .. {ndim - 1}, or -1 for the last axis",
            option="class_axis")
    return a


def element_location(location: Location | None, grid: Sequence[int]) -> Location:
    """A location for element indices: flat element ``e`` of samples of shape ``grid`` ->
    ``"row 3, element (12, 40)"`` (``location`` names the sample)."""
    where = location or default_location
    grid = tuple(int(d) for d in grid)
    p = max(math.prod(grid), 1)

    def loc(e: int) -> str:
        sample, k = divmod(int(e), p)
        if not grid:  # one label per sample
            return where(sample)
        pos = tuple(int(i) for i in np.unravel_index(k, grid))
        return f"{where(sample)}, element {pos if len(pos) > 1 else pos[0]}"

    return loc


def _squeeze(dims: Sequence[int]) -> tuple[int, ...]:
    """A label map's element grid: ``dims`` without a trailing axis of 1 (Keras's labels; a
    column ``(1,)`` is one label per sample)."""
    dims = tuple(int(d) for d in dims)
    if dims == (1,):
        return ()
    if len(dims) >= 2 and dims[-1] == 1:
        note(f"the labels {shape_text(dims)} end in an axis of 1 (Keras's sparse labels): "
             f"read as {shape_text(dims[:-1])}, one label per element")
        return dims[:-1]
    return dims


class MapEncoder:
    """Label maps ``(n, *dims)`` -> one-hot maps, through a label column's encoder.

    Args:
        enc: the :class:`~lossctl.encoding.OneHotEncoder` of the options (not multi-label);
            its ``location`` names the samples (``Source.location``) and becomes an element
            location here.
        dims: the shape of one label map (a trailing axis of 1 is dropped, with a note).
        class_axis: the output's class axis (``-1``, the default: channels last; ``1``:
            PyTorch's ``(N, C, ...)``).
    """

    def __init__(self, enc: OneHotEncoder, dims: Sequence[int], *,
                 class_axis: int | None = None) -> None:
        if enc.multi_label:
            raise UsageError(f"{opt('multi_label', True)} reads rows of labels, not label maps "
                             f"of shape {shape_text(dims)}", hint=f"drop {opt('multi_label', True)}",
                             option="multi_label")
        self.enc = enc
        self.in_dims = tuple(int(d) for d in dims)
        self.grid = _squeeze(self.in_dims)
        self.elements = math.prod(self.grid)
        self.axis = class_axis_of(class_axis, len(self.grid) + 2)
        enc.unit = "element"
        enc.location = element_location(enc.location, self.grid)

    @property
    def num_classes(self) -> int:
        assert self.enc.space is not None, "the classes are not known yet"
        return self.enc.space.num_classes

    @property
    def out_dims(self) -> tuple[int, ...]:
        """One output sample's shape: ``grid`` with C inserted at the class axis."""
        g = self.grid
        return (*g[:self.axis - 1], self.num_classes, *g[self.axis - 1:])

    @property
    def sample_cells(self) -> int:
        """Values in one output sample."""
        return self.elements * self.num_classes

    def _flat(self, data: np.ndarray) -> np.ndarray:
        a = np.asarray(data)
        if a.shape[1:] != self.in_dims:
            raise ValueError(f"a block of shape {a.shape} for label maps of {self.in_dims}")
        return a.reshape(-1, 1)

    # -- first pass ------------------------------------------------------------------------
    def scan(self, data: np.ndarray, start: int = 0) -> None:
        """First pass over a block of samples (see :meth:`OneHotEncoder.scan`)."""
        self.enc.scan(self._flat(data), start * self.elements)

    # -- conversion ------------------------------------------------------------------------
    def _cols(self, data: np.ndarray, start: int) -> np.ndarray:
        """The class column of every element of a block (``-1`` for ``ignore_class``)."""
        rows, cols, m, ignored = self.enc._encode(self._flat(data), start * self.elements)
        out = np.full(m, -1, dtype=np.int64)
        out[rows] = cols
        return out

    def _values(self, shape: tuple[int, ...], hits: np.ndarray) -> np.ndarray:
        """An output of ``shape`` holding 1 (or the smoothed values) at the flat ``hits``."""
        enc, c = self.enc, self.num_classes
        if enc.smooth > 0:
            eps = enc.smooth
            out = np.full(shape, eps / c)
            out.reshape(-1)[hits] = (1.0 - eps) + eps / c
            return out
        out = np.zeros(shape, dtype=np.float64 if enc.dtype == "float" else np.int64)
        out.reshape(-1)[hits] = 1
        return out

    def _scatter(self, cols: np.ndarray) -> np.ndarray:
        """``(g, B)`` classes of elements (-1: ignored) -> their one-hot values ``(g, C, B)``:
        the output of ``g`` runs of the B elements after the class axis."""
        g, b = cols.shape
        c = self.num_classes
        flat = cols.reshape(-1)
        e = np.flatnonzero(flat >= 0)
        gi, bi = np.divmod(e, b)
        out = self._values((g, c, b), (gi * c + flat[e]) * b + bi)
        if self.enc.smooth > 0 and len(e) < len(flat):  # ignored elements: all zeros
            zg, zb = np.divmod(np.flatnonzero(flat < 0), b)
            out[zg, :, zb] = 0.0
        return out

    def transform(self, data: np.ndarray, start: int = 0) -> np.ndarray:
        """One block of label maps ``(n, *dims)`` -> ``(n, *out_dims)``."""
        cols = self._cols(data, start)
        n = len(data)
        if not n * self.elements:
            return self._values((n, *self.out_dims), np.empty(0, dtype=np.int64))
        b = math.prod(self.grid[self.axis - 1:])  # elements after the class axis
        return self._scatter(cols.reshape(-1, b)).reshape((n, *self.out_dims))

    def _piece(self, cols: np.ndarray, c0: int, c1: int) -> np.ndarray:
        """The output values of the elements ``cols`` (``(na, nb)``: their classes, -1 when
        ignored) for the classes ``c0 .. c1 - 1``: ``(na, c1 - c0, nb)``, flattened."""
        enc = self.enc
        hit = cols[:, None, :] == np.arange(c0, c1, dtype=np.int64)[None, :, None]
        if enc.smooth > 0:
            eps, c = enc.smooth, self.num_classes
            v = np.where(hit, (1.0 - eps) + eps / c, eps / c)
            v *= (cols >= 0)[:, None, :]
            return v.reshape(-1)
        return hit.astype(np.float64 if enc.dtype == "float" else np.int64).reshape(-1)

    def _pieces(self, cols: np.ndarray, width: int) -> Iterator[np.ndarray]:
        """One sample's output in C-order pieces of at most ``width`` values (``cols``: the
        classes of its elements). The output ``(A, C, B)`` (the elements before and after the
        class axis) is cut along A while a slice ``(C, B)`` fits, else along C, else along B."""
        c = self.num_classes
        b = math.prod(self.grid[self.axis - 1:])
        grid = cols.reshape(-1, b)  # (A, B)
        if c * b <= width:
            k = width // (c * b)
            for a0 in range(0, len(grid), k):
                yield self._scatter(grid[a0:a0 + k]).reshape(-1)
        elif b <= width:
            k = width // b
            for row in grid:
                for c0 in range(0, c, k):
                    yield self._piece(row[None, :], c0, min(c, c0 + k))
        else:
            for row in grid:
                for ci in range(c):
                    for b0 in range(0, b, width):
                        yield self._piece(row[None, b0:b0 + width], ci, ci + 1)

    def convert(self, blocks: Iterable[tuple[np.ndarray, int]], *,
                max_cells: int) -> Iterator[tuple[str, Any]]:
        """Convert ``(data, start)`` blocks of samples, a chunk of at most ``max_cells``
        output values at a time: yields ``("block", array (n, *out_dims))`` while a sample
        fits, else ``("pieces", iterator of 1-D C-order pieces)`` per sample (for
        :meth:`lossctl.out.Sink.write_row_pieces`; consume it before the next). Calls
        :meth:`OneHotEncoder.finish` at the end."""
        per = self.sample_cells
        step = max_cells // per if per else 1 << 30
        for data, start in blocks:
            data = np.asarray(data)
            if step >= 1:
                for i in range(0, len(data), step):
                    yield "block", self.transform(data[i:i + step], start + i)
                continue
            for i in range(len(data)):
                cols = self._cols(data[i:i + 1], start + i)
                yield "pieces", self._pieces(cols, max(1, max_cells))
        self.enc.finish()


class MapDecoder:
    """One-hot (or probability) maps ``(n, *dims)`` -> label maps ``(n, *grid)``, through a
    label column's decoder, per element.

    Args:
        dec: the :class:`~lossctl.decoding.SparseDecoder` of the options (strict or
            ``argmax``; ``threshold`` writes text, which a label map cannot hold); its
            ``location`` names the samples and becomes an element location here.
        dims: the shape of one input sample, class axis included.
        class_axis: the input's class axis (``-1``, the default; ``1``: ``(N, C, ...)``).
    """

    def __init__(self, dec: SparseDecoder, dims: Sequence[int], *,
                 class_axis: int | None = None) -> None:
        self.dims = tuple(int(d) for d in dims)
        self.axis = class_axis_of(class_axis, len(self.dims) + 1)
        if dec.threshold is not None:
            raise UsageError(
                f"{opt('threshold')} writes lists of labels, which a label map of shape "
                f"{shape_text(self.grid)} cannot hold",
                hint=f"use {opt('argmax', True)} for one label per element, or keep the "
                "multi-hot map as it is (it is the target of binary losses)", option="threshold")
        names = dec.classes
        if names is not None and not all(INT_RE.fullmatch(str(x)) for x in names):
            raise UsageError(
                f"{opt('classes')} names classes by text, and a label map is written as NPY, "
                "which holds numbers", hint=f"give integer names, or drop {opt('classes')}",
                option="classes")
        self.dec = dec
        self.elements = math.prod(self.grid)
        dec.unit = "element"
        dec.location = element_location(dec.location, self.grid)

    @property
    def num_classes(self) -> int:
        return self.dims[self.axis - 1]

    @property
    def grid(self) -> tuple[int, ...]:
        """One output sample's shape: ``dims`` without the class axis."""
        return self.dims[:self.axis - 1] + self.dims[self.axis:]

    def transform(self, data: np.ndarray, start: int = 0, *, max_cells: int = 1 << 22) -> np.ndarray:
        """One block ``(n, *dims)`` -> ``(n, *grid)`` labels, decoded a run of at most
        ``max_cells`` input values at a time (a copy of that size when the class axis is not
        the last)."""
        x = np.asarray(data)
        if x.shape[1:] != self.dims:
            raise ValueError(f"a block of shape {x.shape} for maps of {self.dims}")
        n, c, p = len(x), self.num_classes, self.elements
        b = math.prod(self.dims[self.axis:])  # elements after the class axis
        out = np.empty(n * p, dtype=np.int64)
        if not out.size:
            return out.reshape((n, *self.grid))
        x3 = x.reshape(-1, c, b)  # (sample * elements before the class axis, C, after)
        run = max(1, max_cells // max(c, 1))
        first = start * p
        if b <= run:  # whole groups of b elements at a time
            k = max(1, run // b)
            for g0 in range(0, len(x3), k):
                rows = np.moveaxis(x3[g0:g0 + k], 1, 2).reshape(-1, c)
                out[g0 * b:g0 * b + len(rows)] = self.dec.transform(rows, first + g0 * b)
        else:
            for g in range(len(x3)):
                for b0 in range(0, b, run):
                    rows = x3[g, :, b0:b0 + run].T
                    e0 = g * b + b0
                    out[e0:e0 + len(rows)] = self.dec.transform(rows, first + e0)
        return out.reshape((n, *self.grid))

    def convert(self, blocks: Iterable[tuple[np.ndarray, int]], *,
                max_cells: int) -> Iterator[np.ndarray]:
        """Decode ``(data, start)`` blocks; calls :meth:`SparseDecoder.finish` at the end."""
        for data, start in blocks:
            yield self.transform(data, start, max_cells=max_cells)
        self.dec.finish()


def onehot_map(labels: Any, num_classes: int | None = None, *, class_axis: int | None = None,
               location: Location | None = None, **options: Any) -> np.ndarray:
    """One-hot encode a whole label map ``(N, d1, ..., dk)``: ``(N, d1, ..., dk, C)``, or the
    class axis at ``class_axis``. ``options`` are :class:`~lossctl.encoding.OneHotEncoder`'s
    (``offset``, ``classes``, ``dtype``, ``smooth``, ``ignore_class``)."""
    arr = np.asarray(labels)
    if arr.ndim < 2:
        arr = arr.reshape(-1, 1)
    enc = OneHotEncoder(num_classes, location=location, **options)
    m = MapEncoder(enc, arr.shape[1:], class_axis=class_axis)
    if enc.needs_scan:
        m.scan(arr, 0)
        enc.finish_scan()
    out = m.transform(arr, 0)
    enc.finish()
    return out


def sparse_map(maps: Any, *, class_axis: int | None = None, location: Location | None = None,
               **options: Any) -> np.ndarray:
    """Decode a whole one-hot (or probability) map ``(N, d1, ..., dk, C)`` (or the class axis
    at ``class_axis``) to labels ``(N, d1, ..., dk)``. ``options`` are
    :class:`~lossctl.decoding.SparseDecoder`'s (``argmax``, ``offset``, ``classes``, ``tol``)."""
    x = np.asarray(maps)
    dec = SparseDecoder(location=location, **options)
    out = MapDecoder(dec, x.shape[1:], class_axis=class_axis).transform(x, 0)
    dec.finish()
    return out
