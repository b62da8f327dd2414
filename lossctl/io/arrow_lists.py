"""The columns of a Parquet/Arrow schema, list columns included, and their conversion to numpy.

A schema field is one :class:`Segment` of the source's columns:

- ``scalar``: a number or string per row, one column (as before);
- ``vector``: a ``fixed_size_list<number>``, or a ``list``/``large_list<number>`` whose rows all
  have one length C (found in the first row that is not null, checked in every batch): C
  columns ``name[0]`` .. ``name[C-1]``, tabular like scalar columns (the usual way to store
  one probability vector per row);
- ``array``: lists of lists (of lists ...) of numbers, e.g. an ``(H, W)`` mask per row: one
  column entry, the name, whose blocks are ``(n, *shape)`` (an N-D source when selected);
- ``other``: any other type, one column that is an error when it is read.

A null row of a list column is NaN in all its values; a null element is NaN, as in a scalar
column. A row whose list length differs from the column's is an InputError naming the row.
pyarrow is imported inside these functions only.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from lossctl.record import record

import numpy as np

from lossctl.errors import InputError, ShapeError
from lossctl.io.source import WIDE_COLUMNS, LazyNames

__all__ = ["Segment", "dense", "find_shapes", "layout", "list_levels", "names", "variable"]

_RAGGED_HINT = ("store lists of one length in a column (pad them, or use a fixed_size_list "
                "column)")


@record
class Segment:
    """One schema field as columns of the source.

    Attributes:
        field: the field's position in the schema.
        name: the field's name.
        kind: ``"scalar"``, ``"vector"``, ``"array"`` or ``"other"``.
        levels: the list sizes per nesting level from the type (None: variable), for lists.
        shape: ``(C,)`` of a vector, the per-row shape of an array; None until known.
        start: the index of its first column in the source's columns.
        error: why this list column cannot be read (raised when it is selected), if anything.
    """

    field: int
    name: str
    kind: str
    levels: tuple[int | None, ...] = ()
    shape: tuple[int, ...] | None = None
    start: int = 0
    error: Exception | None = None

    @property
    def width(self) -> int:
        """The number of columns it takes in the source."""
        usable = self.kind == "vector" and self.shape and self.error is None
        return self.shape[0] if usable else 1


def _numeric(t) -> bool:
    import pyarrow as pa

    return (pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t)
            or pa.types.is_decimal(t) or pa.types.is_null(t))


def _is_list(t) -> bool:
    import pyarrow as pa

    return pa.types.is_fixed_size_list(t) or pa.types.is_list(t) or pa.types.is_large_list(t)


def list_levels(t) -> tuple[int | None, ...] | None:
    """The sizes of the nested list levels of a list-of-numbers type (None where variable), or
    None when ``t`` is not lists of numbers."""
    import pyarrow as pa

    sizes: list[int | None] = []
    while _is_list(t):
        sizes.append(t.list_size if pa.types.is_fixed_size_list(t) else None)
        t = t.value_type
    return tuple(sizes) if sizes and _numeric(t) else None


def layout(schema) -> list[Segment]:
    """The segments of a schema (list shapes from the types; variable ones still None)."""
    import pyarrow as pa

    out = []
    for j, f in enumerate(schema):
        t = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        levels = list_levels(t)
        if levels is None:
            scalar = _numeric(t) or pa.types.is_string(t) or pa.types.is_large_string(t)
            out.append(Segment(j, f.name, "scalar" if scalar else "other"))
            continue
        seg = Segment(j, f.name, "vector" if len(levels) == 1 else "array", levels)
        if None not in levels:
            seg.shape = tuple(int(s) for s in levels)
        out.append(seg)
    return out


def variable(segments: list[Segment]) -> list[Segment]:
    """The list columns whose shape the type does not tell."""
    return [s for s in segments if s.shape is None and s.kind in ("vector", "array")]


def find_shapes(segments: list[Segment], batches: Callable[[list[Segment]], Iterable],
                pick: Callable) -> None:
    """Fill in the shapes of variable-length list columns from their first rows that are not
    null (``batches(segments)``: record batches holding those, ``pick(batch, segment)`` one's
    column; read only when there are such columns)."""
    todo = variable(segments)
    for batch in batches(todo) if todo else ():
        for s in todo:
            if s.shape is None:
                col = pick(batch, s)
                col.validate(full=True)  # (Arrow IPC data is not checked when it is read)
                s.shape = _first_shape(col, len(s.levels))
        todo = [s for s in todo if s.shape is None]
        if not todo:
            break
    for s in todo:
        s.error = InputError(f"column '{s.name}' holds only null lists: its length is unknown",
                             hint="store its lists, or select other columns")
    for s in segments:
        if s.shape is not None and 0 in s.shape and s.error is None:
            s.error = ShapeError(f"column '{s.name}' holds lists of shape {s.shape}: no values",
                                 hint="store at least one value per list, or select other "
                                 "columns")


def _first_shape(col, depth: int) -> tuple[int, ...] | None:
    """The shape of the first row of ``col`` whose lists are known at every level."""
    import pyarrow.compute as pc

    valid = np.flatnonzero(~_nulls(col))
    for i in valid[:1000]:
        cur = col.slice(int(i), 1)
        shape = []
        for _ in range(depth):
            lengths = pc.list_value_length(cur).drop_null()
            if not len(lengths):
                break
            shape.append(int(lengths[0].as_py()))
            if shape[-1] == 0:
                return tuple(shape) + (0,) * (depth - len(shape))
            cur = cur.flatten()
        if len(shape) == depth:
            return tuple(shape)
    return None


def _nulls(col) -> np.ndarray:
    if not col.null_count:
        return np.zeros(len(col), dtype=bool)
    return col.is_null().to_numpy(zero_copy_only=False)


class _Ragged(Exception):
    def __init__(self, pos: int, got: int, level: int) -> None:
        super().__init__(pos)
        self.pos, self.got, self.level = pos, got, level


def dense(col, seg: Segment, first_row: int) -> np.ndarray:
    """A list column of a batch -> ``(n, *seg.shape)`` numpy (block dtype rule; writable).

    Raises:
        InputError: a row whose lists do not have ``seg.shape`` (names the row).
    """
    from lossctl.io.arrow import arrow_column

    if hasattr(col, "combine_chunks"):
        col = col.combine_chunks()
    try:
        out = _dense(col, seg.shape, seg.levels, lambda c: _leaf(c, seg.name, arrow_column))
    except _Ragged as r:
        row = first_row + r.pos
        if len(seg.shape) == 1:
            what = f"holds {r.got} values in this row, where its rows hold {seg.shape[0]}"
        else:
            what = (f"holds a list of {r.got} values at level {r.level + 1} in this row, where "
                    f"its rows have shape {seg.shape}")
        raise InputError(f"column '{seg.name}' {what}", row=row, hint=_RAGGED_HINT) from None
    return out if out.flags.writeable else out.copy()


def _leaf(values, name: str, arrow_column) -> np.ndarray:
    """The innermost values: floats without nulls cast by numpy straight into a new float64
    array (one copy; pyarrow's cast and then a copy to make it writable would be two), the
    rest by the scalar column rule."""
    import pyarrow as pa

    if not values.null_count and pa.types.is_floating(values.type):
        return values.to_numpy().astype(np.float64)
    return arrow_column(values, name)


def _dense(col, shape: Sequence[int], levels: Sequence[int | None], leaf) -> np.ndarray:
    """Level by level: the rows' lengths checked, then their values (null rows: NaN)."""
    import pyarrow.compute as pc

    if not shape:
        return leaf(col)
    n, width = len(col), shape[0]
    nulls = _nulls(col)
    if levels[0] is None:  # a variable list: every row must hold ``width`` values
        lengths = pc.list_value_length(col).fill_null(width).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero(lengths != width)
        if bad.size:
            raise _Ragged(int(bad[0]), int(lengths[bad[0]]), 0)
    try:
        sub = _dense(col.flatten(), shape[1:], levels[1:], leaf)  # the rows that are not null
    except _Ragged as r:
        r.pos = int(np.flatnonzero(~nulls)[r.pos // width])
        r.level += 1
        raise
    valid = n - int(nulls.sum())
    sub = sub.reshape(valid, *shape)
    if not valid or valid == n:
        return sub if valid else np.full((n, *shape), np.nan)
    out = np.full((n, *shape), np.nan)
    out[~nulls] = sub
    return out


class _Names(LazyNames):
    """Column names of wide segments, made when asked for."""

    def __init__(self, segments: list[Segment]) -> None:
        self._segs = segments
        self._starts = np.array([s.start for s in segments], dtype=np.int64)
        last = segments[-1] if segments else None
        self._n = last.start + last.width if last else 0

    def __len__(self) -> int:
        return self._n

    def _name(self, i: int) -> str:
        seg = self._segs[int(np.searchsorted(self._starts, i, side="right")) - 1]
        if seg.kind != "vector" or seg.width != (seg.shape or (None,))[0]:
            return seg.name
        return f"{seg.name}[{i - seg.start}]"


def names(segments: list[Segment]) -> list[str] | LazyNames:
    """Number the segments' columns (``start``) and name them: a list, or lazily made names
    beyond :data:`~lossctl.io.source.WIDE_COLUMNS` columns."""
    at = 0
    for s in segments:
        s.start = at
        at += s.width
    if at > WIDE_COLUMNS:
        return _Names(segments)
    out: list[str] = []
    for s in segments:
        if s.kind == "vector" and s.width == (s.shape or (None,))[0]:
            out.extend(f"{s.name}[{j}]" for j in range(s.width))
        else:
            out.append(s.name)
    return out
