"""One-hot decoding: one-hot, score or multi-hot rows -> class labels, block by block.

The inverse of :mod:`lossctl.encoding`, strict by default: a row that is not exactly one-hot is an
error naming the row and the option that fits (``argmax`` for probabilities or scores,
``threshold`` for multi-hot rows). :class:`SparseDecoder` works on row blocks (any input
streams through it), and on rows too wide for a block in column pieces
(:meth:`SparseDecoder.transform_pieces`: a running arg-max, strict check or threshold, with the
messages of whole rows); :func:`sparse` wraps it for whole arrays.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from lossctl.errors import DataError, ShapeError, UsageError, note, opt
from lossctl.labels import INT_RE, Location, default_location, fmt, plural

__all__ = ["SparseDecoder", "sparse"]

_SPARSE_HINT = f"use {opt('argmax', True)} for probabilities or scores, or {opt('threshold')} T for multi-hot rows"


class SparseDecoder:
    """One-hot (or score / multi-hot) rows -> labels, block by block.

    Modes:
        * strict (default): every row must be exactly one-hot: one value within ``tol`` of 1, the
          rest within ``tol`` of 0. A row of zeros, several ones, a value outside {0, 1} or NaN is
          a :class:`DataError` naming the row and suggesting ``--argmax``.
        * ``argmax=True``: the column of the largest value; ties go to the lowest index and are
          counted in a note (as ``np.argmax``). NaN is an error.
        * ``threshold=T``: every column with a value ``> T`` (the rule of Keras
          ``binary_accuracy``) -> the labels joined by ``;`` in one text cell (empty if none,
          counted in a note).

    Labels are column indices plus ``offset``, or ``classes[j]`` when class names are given
    (``--classes`` or the header of the one-hot input). Names that are all plain integers
    (``"1"``, ``"10"``, as ``onehot --header`` writes for integer labels) give int64 labels.

    Args:
        argmax: arg-max mode.
        threshold: threshold mode (exclusive with ``argmax``).
        offset: added to the column index (inverse of ``onehot --offset``).
        classes: names for the columns, in column order (exclusive with a non-zero ``offset``).
        tol: tolerance of the strict check.
        location: maps a 0-based data row to the text used in messages.
    """

    #: What a class vector belongs to, in messages: "row" (an (N, C) input) or "element" (the
    #: class vectors of a one-hot map, :mod:`lossctl.labelmaps`: their columns are classes).
    unit = "row"

    def __init__(
        self,
        *,
        argmax: bool = False,
        threshold: float | None = None,
        offset: int = 0,
        classes: Sequence[str] | None = None,
        tol: float = 1e-6,
        location: Location | None = None,
    ) -> None:
        if argmax and threshold is not None:
            raise UsageError(f"{opt('argmax', True)} and {opt('threshold')} exclude each other",
                             hint=f"use {opt('argmax', True)} for one label per row, {opt('threshold')} T for several")
        if threshold is not None and math.isnan(threshold):
            raise UsageError(f"{opt('threshold')} must be a number, got nan")
        if classes is not None and offset:
            raise UsageError(f"{opt('classes')} and {opt('offset')} exclude each other",
                             hint=f"{opt('classes')} names the columns; {opt('offset')} numbers them from K")
        self.argmax = argmax
        self.threshold = threshold
        self.offset = int(offset)
        self.classes = classes  # stripped by the setter
        if not (isinstance(tol, (int, float)) and math.isfinite(tol) and 0 <= tol <= 0.5):
            raise UsageError(f"{opt('tol')} must be a number in [0, 0.5] (got {tol!r})",
                             hint="how far from 0 and 1 a one-hot value may be, e.g. 1e-6",
                             option="tol")
        self.tol = float(tol)
        self.location: Location = location or default_location
        self.num_classes: int | None = None
        self._ties = 0
        self._first_tie: int | None = None
        self._none = 0
        self._first_none: int | None = None
        self._names_cache: tuple[Any, int, np.ndarray | None] | None = None
        self._int_names: bool | None = None

    @property
    def multi(self) -> bool:
        """True in threshold mode (output cells are ';'-joined label lists)."""
        return self.threshold is not None

    @property
    def classes(self) -> Sequence[str] | None:
        return self._classes

    @classes.setter
    def classes(self, value: Sequence[str] | None) -> None:
        self._classes = None if value is None else _clean(value)
        self._names_cache = None
        self._int_names = None

    def _check_names(self, c: int) -> None:
        if self.classes is not None and len(self.classes) != c:
            raise ShapeError(
                f"{plural(len(self.classes), 'class name')} for {plural(c, 'column')}",
                hint=f"give one {opt('classes')} name per column of the one-hot input",
            )

    def _names_are_ints(self) -> bool:
        """Class names that are all plain integers ("1".."10") give int64 labels."""
        if self._int_names is None:
            self._int_names = self.classes is not None and all(
                INT_RE.fullmatch(c) and str(int(c)) == c for c in self.classes)
        return self._int_names

    def _names(self, c: int) -> np.ndarray | None:
        self._check_names(c)
        if self.classes is None:
            return None
        cached = self._names_cache
        if cached is not None and cached[0] is self.classes and cached[1] == c:
            return cached[2]
        if self._names_are_ints():
            names = np.fromiter((int(x) for x in self.classes), dtype=np.int64, count=c)
        else:
            names = np.asarray(list(self.classes), dtype=str)
        self._names_cache = (self.classes, c, names)
        return names

    def _label_of(self, j: int) -> Any:
        """The label of column ``j`` (one value: int, or str with names)."""
        if self.classes is None:
            return j + self.offset
        return int(self.classes[j]) if self._names_are_ints() else self.classes[j]

    def _numeric(self, arr: np.ndarray, start: int, col: int = 0) -> np.ndarray:
        if arr.dtype.kind in "biuf":
            return arr.astype(np.float64, copy=False)
        try:
            return np.char.strip(arr.astype(str)).astype(np.float64)
        except ValueError:
            pass
        for i in range(arr.shape[0]):
            for j in range(arr.shape[1]):
                cell = str(arr[i, j]).strip()
                try:
                    float(cell)
                except ValueError:
                    raise DataError(
                        f"value {fmt(cell)} in column {col + j + 1} is not a number",
                        location=self.location(start + i),
                        hint="sparse reads one-hot rows of numbers; select the class columns "
                        f"with {opt('cols')}",
                    ) from None
        raise DataError("the one-hot input is not numeric",
                        hint=f"select the class columns with {opt('cols')}")

    def transform(self, data: np.ndarray, start: int = 0) -> np.ndarray:
        """Convert one (n, C) block to (n,) labels: int64, or str with names / threshold."""
        arr = np.asarray(data)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ShapeError(f"one-hot input must be 2-D (N, C), got shape {arr.shape}")
        n, c = arr.shape
        if self.num_classes is None:
            self.num_classes = c
        names = self._names(c)
        x = self._numeric(arr, start)
        self._check_nan(x, start)
        if self.threshold is not None:
            return self._threshold(x, start, names)
        if self.argmax:
            idx = np.argmax(x, axis=1) if n else np.zeros(0, dtype=np.int64)
            if n:
                rowmax = x[np.arange(n), idx]
                self._count_ties((x == rowmax[:, None]).sum(axis=1) > 1, start)
        else:
            idx = self._strict(x, start)
        return self._out(idx.astype(np.int64), names)

    def _at(self, j: int) -> str:
        """Where value ``j`` of a class vector is: its column, or its class (elements)."""
        return f"in column {j + 1}" if self.unit == "row" else f"of class {j}"

    def _check_nan(self, x: np.ndarray, start: int, col: int = 0) -> None:
        nan = np.isnan(x)
        if nan.any():
            i, j = (int(v) for v in np.argwhere(nan)[0])
            where = (f"in column {col + j + 1} (class {self._label(col + j)})"
                     if self.unit == "row" else self._at(col + j))
            raise DataError(
                f"value nan {where}", location=self.location(start + i),
                hint=f"fill in the value or remove the {self.unit}",
            )

    def _label(self, j: int) -> str:
        if self.classes is not None and j < len(self.classes):
            return self.classes[j]
        return str(j + self.offset)

    def _out(self, idx: np.ndarray, names: np.ndarray | None) -> np.ndarray:
        if names is not None:
            return names[idx] if len(idx) else np.empty(0, dtype=names.dtype)
        return idx + self.offset

    def _strict(self, x: np.ndarray, start: int) -> np.ndarray:
        tol = self.tol
        is1 = np.abs(x - 1.0) <= tol
        is0 = np.abs(x) <= tol
        bad = ~(is0 | is1)
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            raise self._not_01(x[i, j], j, start + i)
        ones = is1.sum(axis=1)
        zero = ones == 0
        if zero.any():
            raise self._all_zeros(start + int(np.flatnonzero(zero)[0]))
        many = ones > 1
        if many.any():
            i = int(np.flatnonzero(many)[0])
            raise self._many_ones(int(ones[i]), np.flatnonzero(is1[i])[:5].tolist(), start + i)
        return np.argmax(is1, axis=1)

    def _not_01(self, value: float, j: int, row: int) -> DataError:
        return DataError(
            f"value {fmt(value)} {self._at(j)} is not 0 or 1, so the {self.unit} is not one-hot",
            location=self.location(row),
            hint=_SPARSE_HINT if self.unit == "row" else
            f"use {opt('argmax', True)} for probabilities or scores",
        )

    def _all_zeros(self, row: int) -> DataError:
        if self.unit == "row":
            hint = (f"use {opt('argmax', True)} to take the first column for such rows, or "
                    f"{opt('threshold')} T to allow rows without a class")
        else:
            hint = f"use {opt('argmax', True)} to take class 0 for such elements"
        return DataError(f"the {self.unit} is all zeros, so it has no class",
                         location=self.location(row), hint=hint)

    def _many_ones(self, count: int, cols: list[int], row: int) -> DataError:
        if self.unit == "row":
            shown = "columns " + ", ".join(str(j + 1) for j in cols[:5])
            hint = (f"use {opt('threshold', 0.5)} for multi-hot rows (all active classes), or "
                    f"{opt('argmax', True)} for the first one")
        else:
            shown = "classes " + ", ".join(str(j) for j in cols[:5])
            hint = f"use {opt('argmax', True)} for the first one"
        return DataError(f"the {self.unit} has {count} ones ({shown}), so it is not one-hot",
                         location=self.location(row), hint=hint)

    def _threshold(self, x: np.ndarray, start: int, names: np.ndarray | None) -> np.ndarray:
        active = x > self.threshold
        labels = ([str(v) for v in names.tolist()] if names is not None
                  else [str(j + self.offset) for j in range(x.shape[1])])
        out = [";".join(labels[j] for j in np.flatnonzero(row)) for row in active]
        self._count_none(~active.any(axis=1), start)
        return np.asarray(out, dtype=str) if out else np.empty(0, dtype="<U1")

    def _count_none(self, none: np.ndarray, start: int) -> None:
        if none.any():
            self._none += int(none.sum())
            if self._first_none is None:
                self._first_none = start + int(np.flatnonzero(none)[0])

    def _count_ties(self, tied: np.ndarray, start: int) -> None:
        if tied.any():
            self._ties += int(tied.sum())
            if self._first_tie is None:
                self._first_tie = start + int(np.flatnonzero(tied)[0])

    # -- rows in column pieces -------------------------------------------------------------
    def transform_pieces(self, pieces: Iterable[Any], width: int | None = None) -> Iterator[np.ndarray]:
        """Labels of rows given as pieces (:meth:`lossctl.io.Source.pieces`: objects with
        ``data``, ``start``, ``col`` and ``last``), one array per whole-row block or per row.

        A whole-row piece converts as :meth:`transform`; a row cut into column pieces is decoded
        piece by piece (running arg-max and tie count, strict one-hot check, threshold), with the
        same labels, notes and errors as the whole row would give. ``width`` (the number of
        columns) lets a wrong number of class names be reported before any row.
        """
        if width is not None:
            self._check_names(width)
        scan: _RowScan | None = None
        for p in pieces:
            if p.col == 0 and p.last:
                yield self.transform(p.data, p.start)
                continue
            if p.col == 0 or scan is None:
                scan = _RowScan(self, p.start)
            scan.feed(np.asarray(p.data), p.col)
            if p.last:
                yield scan.finish()
                scan = None

    def finish(self) -> None:
        """Emit the closing notes (ties resolved, rows without an active class); once."""
        if self._ties:
            lowest = "column" if self.unit == "row" else "class"
            note(f"{plural(self._ties, self.unit)} had tied maxima, resolved to the lowest {lowest} "
                 f"(first: {self.location(self._first_tie or 0)})")
        if self._none:
            note(f"{plural(self._none, 'row')} had no value above the threshold "
                 f"{self.threshold!r} and became empty cells "
                 f"(first: {self.location(self._first_none or 0)})")
        self._ties = self._none = 0
        self._first_tie = self._first_none = None


def _clean(classes: Sequence[str]) -> Sequence[str]:
    """Class names, stripped; a lazy sequence of names (a wide header) is kept as it is."""
    if isinstance(classes, (list, tuple)) or not isinstance(classes, Sequence):
        return [str(c).strip() for c in classes]
    return classes


class _RowScan:
    """One row decoded across its column pieces (see :meth:`SparseDecoder.transform_pieces`)."""

    def __init__(self, dec: SparseDecoder, row: int) -> None:
        self.dec, self.row = dec, row
        self.cols = 0
        self.best = -np.inf
        self.best_j = -1
        self.equal = 0  # values equal to the running maximum
        self.bad: tuple[float, int] | None = None  # strict: the first value not 0 or 1
        self.ones: list[int] = []  # strict: the first columns holding a one
        self.nones = 0
        self.active: list[int] = []  # threshold: the columns above it

    def feed(self, data: np.ndarray, col: int) -> None:
        dec = self.dec
        if data.ndim == 1:
            data = data[None, :]
        x = dec._numeric(data, self.row, col)[0]
        dec._check_nan(x[None, :], self.row, col)
        self.cols = col + len(x)
        if dec.threshold is not None:
            self.active.extend((np.flatnonzero(x > dec.threshold) + col).tolist())
        elif dec.argmax:
            if len(x):
                j = int(np.argmax(x))
                m = x[j]
                if m > self.best or self.best_j < 0:
                    self.best, self.best_j, self.equal = m, col + j, int(np.count_nonzero(x == m))
                elif m == self.best:
                    self.equal += int(np.count_nonzero(x == m))
        else:
            is1 = np.abs(x - 1.0) <= dec.tol
            bad = ~(is1 | (np.abs(x) <= dec.tol))
            if self.bad is None and bad.any():
                j = int(np.flatnonzero(bad)[0])
                self.bad = (float(x[j]), col + j)
            hits = np.flatnonzero(is1)
            self.nones += len(hits)
            self.ones.extend((hits[: 5 - len(self.ones)] + col).tolist() if len(self.ones) < 5 else [])

    def finish(self) -> np.ndarray:
        dec, row = self.dec, self.row
        if dec.num_classes is None:
            dec.num_classes = self.cols
        dec._check_names(self.cols)
        if dec.threshold is not None:
            dec._count_none(np.array([not self.active]), row)
            return np.asarray([";".join(str(dec._label_of(j)) for j in self.active)], dtype=str)
        if dec.argmax:
            dec._count_ties(np.array([self.equal > 1]), row)
            j = self.best_j
        elif self.bad is not None:
            raise dec._not_01(self.bad[0], self.bad[1], row)
        elif self.nones == 0:
            raise dec._all_zeros(row)
        elif self.nones > 1:
            raise dec._many_ones(self.nones, self.ones, row)
        else:
            j = self.ones[0]
        return np.asarray([dec._label_of(j)])


def sparse(
    onehot_rows,
    *,
    argmax: bool = False,
    threshold: float | None = None,
    offset: int = 0,
    classes: Sequence[str] | None = None,
    tol: float = 1e-6,
    location: Location | None = None,
    class_axis: int | None = None,
) -> np.ndarray:
    """Turn a whole (N, C) one-hot / score / multi-hot array into labels.

    ``sparse([[0, 1, 0], [0, 0, 1]])`` is ``[1, 2]``. See :class:`SparseDecoder` for the modes.
    An N-D one-hot map ``(N, d1, ..., dk, C)`` (classes on ``class_axis``, default the last)
    gives label maps ``(N, d1, ..., dk)`` (:func:`lossctl.labelmaps.sparse_map`).

    Returns:
        (N,) int64 labels (plus ``offset``); str labels with ``classes``; with ``threshold``,
        (N,) str cells of ``;``-joined labels.
    """
    x = np.asarray(onehot_rows)
    if x.ndim >= 3:
        from lossctl.labelmaps import sparse_map

        return sparse_map(x, class_axis=class_axis, argmax=argmax, threshold=threshold,
                          offset=offset, classes=classes, tol=tol, location=location)
    if class_axis is not None and x.ndim == 2:
        from lossctl.labelmaps import class_axis_of

        class_axis_of(class_axis, 2)
    dec = SparseDecoder(argmax=argmax, threshold=threshold, offset=offset, classes=classes,
                        tol=tol, location=location)
    out = dec.transform(x, 0)
    dec.finish()
    return out
