"""The inputs of an evaluation: arrays or sources, opened, selected and zipped into row blocks.

An input may be an array (or a list) or anything :func:`lossctl.io.open_source` reads; either
way the pipeline sees a source with ``columns``, ``select``, ``blocks`` and ``location``.
Errors of a source are about the pipeline's options: a reader's ``cols`` becomes
``true_cols``, ``pred_cols`` or ``weight_cols``, depending on the input.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from typing import IO, Any

import numpy as np

from lossctl import budget
from lossctl.errors import DataError, LossctlError, ShapeError, UsageError, opt
from lossctl.io import ReadOptions, aligned, open_source, read_array
from lossctl.io.columns import select as select_columns

__all__ = [
    "ArraySource",
    "aligned_blocks",
    "class_weights",
    "open_input",
    "read_options",
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
        src.options = dataclasses.replace(src.options, block_rows=rows)


def _split_same_file(blocks: Iterator, k: int, name: str | None) -> Iterator:
    """(start, (labels, predictions, weights)) from one pass over blocks holding both column
    sets. A text label column makes the whole block text: convert the predictions back."""
    for start, (both, w) in blocks:
        yt, yp = both[:, :k], both[:, k:]
        if yp.dtype.kind in "US":
            try:
                yp = yp.astype(np.float64)
            except ValueError:
                raise DataError("predictions must be numbers, found text", source=name,
                                hint=f"select the numeric columns with {opt('pred_cols')}"
                                ) from None
        yield start, (yt, yp, w)


def _data(blocks: Iterator) -> Iterator[np.ndarray]:
    for b in blocks:
        yield b.data if hasattr(b, "data") else b


def aligned_blocks(t: Any, p: Any, w: Any, tsel: list[int], psel: list[int],
                   wsel: list[int] | None, *, same_file: bool) -> Iterator:
    """``(start, (y_true, y_pred, weights))`` blocks with equal row counts.

    One file read once holds both column sets when it cannot be read twice (a pipe).
    """
    roles = [("y_true", t.name), ("y_pred", p.name), ("sample_weight", w.name if w else None)]
    columns = None if psel is None else len(psel)
    wblocks = None if w is None else _renamed(w.blocks(wsel), "weight_cols")
    if same_file and t.single_pass:
        both = _renamed(t.blocks(tsel + psel), "cols")
        zipped = aligned(both, wblocks, roles=[roles[0], roles[2]], columns=columns)
        return _split_same_file(zipped, len(tsel), t.name)
    return aligned(_renamed(t.blocks(tsel), "true_cols"), _renamed(p.blocks(psel), "pred_cols"),
                   wblocks, roles=roles, columns=columns)


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
