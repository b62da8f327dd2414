"""The inputs of an evaluation: arrays or sources, opened, selected and zipped into row blocks.

An input may be an array (or a list) or anything :func:`lossctl.io.open_source` reads; either
way the pipeline sees a source with ``columns``, ``select``, ``blocks`` and ``location``.
Errors of a source are about the pipeline's options: a reader's ``cols`` becomes
``true_cols``, ``pred_cols`` or ``weight_cols``, depending on the input.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import IO, Any

import numpy as np

from lossctl import budget
from lossctl.errors import DataError, LossctlError, ShapeError, UsageError, opt
from lossctl.io import ReadOptions, aligned, open_source, read_array
from lossctl.io.columns import select as select_columns
from lossctl.record import replace

__all__ = [
    "ArraySource",
    "aligned_blocks",
    "class_weights",
    "open_input",
    "read_options",
    "role_constant",
    "select",
    "set_block_rows",
    "weight_column",
]

_COLS = {"y_true": "true_cols", "y_pred": "pred_cols", "sample_weight": "weight_cols"}


def _is_source(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def read_options(header: bool | None, delimiter: str | None, budget_bytes: int) -> ReadOptions:
    """Read options whose text chunks fit the memory budget (a chunk is parsed into about
    three times its size: the bytes, pyarrow's table, the numpy block)."""
    return ReadOptions(header=header, delimiter=delimiter,
                       chunk_bytes=budget.chunk_bytes(budget_bytes))


class ArraySource:
    """An in-memory array with the interface of a :class:`lossctl.io.Source`."""

    kind = "array"
    has_header = False
    single_pass = False

    def __init__(self, value: Any, role: str, options: ReadOptions) -> None:
        a = np.asarray(value)
        if a.dtype == object:  # a list mixing None and numbers, or strings
            try:
                a = a.astype(np.float64)
            except (TypeError, ValueError):
                a = a.astype(str)
        self.data = a
        self.name: str | None = None
        self.role = role
        self.options = options
        self.nrows = int(a.shape[0]) if a.ndim else 1
        #: one sample's shape of an N-D array (rank 3 or more), else None (rows of columns)
        self.dims = tuple(int(d) for d in a.shape[1:]) if a.ndim >= 3 else None
        width = 1 if a.ndim < 2 else int(a.shape[1])
        self.columns = [] if self.dims else [str(j + 1) for j in range(width)]

    def select(self, spec: str | None) -> list[int] | None:
        if self.dims is not None:
            if spec is not None:
                raise UsageError(f"{opt('cols')} does not apply: an array of shape "
                                 f"{self.data.shape} has no columns", option="cols")
            return None
        return select_columns(spec, self.columns, self.role)

    def blocks(self, cols: list[int] | None = None) -> Iterator[np.ndarray]:
        a = self.data
        if a.ndim >= 2 and bool(a.shape[0]) and a.dtype == bool:
            a = a.astype(np.int64)
        if a.ndim == 2 and cols is not None and cols != list(range(a.shape[1])):
            a = a[:, cols]
        step = self.options.block_rows
        if a.ndim == 0:
            yield a
            return
        for s in range(0, a.shape[0], step):
            yield a[s:s + step]

    def read(self, cols: list[int] | None = None) -> np.ndarray:
        return np.concatenate(list(self.blocks(cols))) if self.nrows else self.data

    @staticmethod
    def location(row: int) -> str:
        return f"row {int(row)}"

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> ArraySource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_input(value: Any, role: str, options: ReadOptions, stdin: IO[bytes] | None) -> Any:
    """A source for one input: ``value`` opened (a path, ``-``) or wrapped (an array)."""
    if _is_source(value):
        return open_source(os.fspath(value), options, stdin=stdin)
    return ArraySource(value, role, options)


def _renamed(it: Iterator, option: str) -> Iterator:
    try:
        yield from it
    except LossctlError as err:
        raise err.rename_option("cols", option)


def select(src: Any, spec: str | None, option: str) -> list[int]:
    """Column indices of ``spec`` in ``src``; errors name ``option`` (``true_cols``...)."""
    try:
        return src.select(spec)
    except LossctlError as err:
        raise err.rename_option("cols", option)


def weight_column(src: Any, spec: str | None, *, maps: bool = False) -> list[int] | None:
    """The one column of the sample weights; with ``maps`` (N-D predictions), also every
    column of a table or an N-D array: a weight per element of a sequence or an image."""
    sel = select(src, spec, "weight_cols")
    if sel is None or (maps and spec is None):
        return sel
    if len(sel) != 1:
        raise ShapeError(f"sample weights must be one column, found {len(sel)}",
                         source=src.name, hint=f"select it with {opt('weight_cols')}",
                         option="weight_cols")
    return sel


def set_block_rows(sources: Sequence[Any], rows: int) -> None:
    """Give every (distinct) source blocks of ``rows`` rows."""
    for src in {id(s): s for s in sources if s is not None}.values():
        src.options = replace(src.options, block_rows=rows)


def _numbers(block: np.ndarray, role: str, name: str | None, option: str) -> np.ndarray:
    """A column group split from a block whose other columns were text: back to numbers."""
    if block.dtype.kind not in "US":
        return block
    try:
        return block.astype(np.float64)
    except ValueError:
        what = "predictions" if role == "y_pred" else f"{role.replace('_', ' ')} values"
        raise DataError(f"{what} must be numbers, found text", source=name,
                        hint=f"select the numeric columns with {opt(option)}") from None


def _data(blocks: Iterator) -> Iterator[np.ndarray]:
    for b in blocks:
        yield b.data if hasattr(b, "data") else b


#: one input of the zip: its role, source, selected columns and the option naming them
Group = tuple[str, Any, "list[int] | None", str]


def aligned_blocks(t: Any, p: Any, w: Any, tsel: list[int], psel: list[int],
                   wsel: list[int] | None, *, same_file: bool,
                   extra: Sequence[tuple[str, Any, list[int] | None]] = ()) -> Iterator:
    """``(start, (y_true, y_pred, weights, roles))`` blocks with equal row counts; ``roles``
    maps each per-row further input of ``extra`` (``(role, source, columns)``) to its rows.

    A source that cannot be read twice (a pipe) and holds several inputs (Y_TRUE and Y_PRED
    of one file, a role's columns of Y_TRUE's file) is read once, its column groups split.
    """
    groups: list[Group] = [("y_true", t, tsel, "true_cols"), ("y_pred", p, psel, "pred_cols")]
    if w is not None:
        groups.append(("sample_weight", w, wsel, "weight_cols"))
    groups += [(role, src, sel, f"{role}_cols") for role, src, sel in extra]
    streams: list[tuple[Any, list[int]]] = []  # (source, groups read from it)
    for k, (_, src, sel, _) in enumerate(groups):
        joint = next((s for s in streams if s[0] is src and src.single_pass and sel is not None
                      and groups[s[1][0]][2] is not None), None) if same_file or k >= 2 else None
        if joint is not None:
            joint[1].append(k)
        else:
            streams.append((src, [k]))
    its, roles = [], []
    for src, members in streams:
        cols = None if groups[members[0]][2] is None else [
            c for k in members for c in groups[k][2]]
        option = groups[members[0]][3] if len(members) == 1 else "cols"
        its.append(_renamed(src.blocks(cols), option))
        roles.append((groups[members[0]][0], src.name))
    columns = None if psel is None else len(psel)
    return _split(aligned(*its, roles=roles, columns=columns), streams, groups)


def _split(zipped: Iterator, streams: list, groups: list[Group]) -> Iterator:
    """Each zipped tuple (one array per stream) as the arrays of the groups."""
    for start, arrays in zipped:
        out: list[Any] = [None] * len(groups)
        for (src, members), block in zip(streams, arrays):
            if len(members) == 1:
                out[members[0]] = block
                continue
            at = 0
            for k in members:
                width = len(groups[k][2])
                part = block[:, at:at + width]
                at += width
                out[k] = part if k == 0 else _numbers(part, groups[k][0], src.name,
                                                       groups[k][3])
        roles = {g[0]: out[k] for k, g in enumerate(groups) if k >= 2 and g[0] != "sample_weight"}
        weights = next((out[k] for k, g in enumerate(groups) if g[0] == "sample_weight"), None)
        yield start, (out[0], out[1], weights, roles)


def role_constant(name: str, value: Any, options: ReadOptions, stdin: IO[bytes] | None
                  ) -> np.ndarray | None:
    """A further input read whole (``Role.per_row`` off: a matrix, from a source or written
    inline as ``1,0;0,1``), or one number for every element (``Role.scalar``: ``0.5``); None
    for a per-row input (streamed with the rows)."""
    from lossctl.losses.spec import ROLES

    role = ROLES[name]
    if isinstance(value, str) and not os.path.exists(value):
        inline = _inline_numbers(value)
        if inline is not None and (role.scalar and inline.size == 1 or not role.per_row):
            return inline.reshape(()) if role.per_row else inline
    if not _is_source(value):
        arr = np.asarray(value)
        if arr.ndim == 0 and arr.dtype.kind in "fiu":
            if not role.scalar:
                raise UsageError(f"{opt(name)} takes one row per sample, not one number",
                                 option=name)
            return arr
        return None if role.per_row else arr
    if role.per_row:
        return None
    arr, _ = read_array(os.fspath(value), options, None, stdin=stdin)
    return arr


def _inline_numbers(text: str) -> np.ndarray | None:
    """``0.5`` or ``1,0;0,1`` (rows separated by ``;``) as an array; None if not numbers."""
    rows = [r for r in text.strip().split(";") if r.strip()]
    try:
        values = [[float(x) for x in r.split(",")] for r in rows]
    except ValueError:
        return None
    if not values or len({len(v) for v in values}) != 1:
        return None
    arr = np.asarray(values, dtype=np.float64)
    return arr.reshape(-1) if len(values) == 1 and ";" not in text else arr


def class_weights(value: Any, options: ReadOptions, stdin: IO[bytes] | None
                  ) -> tuple[list[float] | None, str | None]:
    """Class weights as a list, and the source they were read from (None for a list)."""
    if value is None:
        return None, None
    if not _is_source(value):
        return list(np.asarray(value, dtype=np.float64).reshape(-1)), None
    spec = os.fspath(value)
    arr, src = read_array(spec, options, None, stdin=stdin)
    if arr.ndim == 2 and arr.shape[1] != 1 and arr.shape[0] == 1:
        arr = arr.T
    if arr.ndim == 2 and arr.shape[1] != 1:
        raise ShapeError(f"class weights must be one column, found {arr.shape[1]}",
                         source=src.name, option="class_weight")
    if arr.dtype.kind not in "fiub":
        raise DataError("class weights must be numbers", source=src.name, option="class_weight")
    return arr.reshape(-1).astype(np.float64).tolist(), src.name
