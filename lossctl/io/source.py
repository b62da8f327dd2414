"""The :class:`Source` every reader implements, its :class:`Block` of rows, and the helpers that
cut, join and assemble blocks.

Values (:class:`Block`)
    ``data`` is 2-D ``(n, k)``: int64 when every selected column is integral, float64 when
    numeric, numpy unicode (``<U``) when any selected column holds strings (string labels).
    Bool columns, and text columns of only ``true``/``false``, become int64 0/1. Missing values
    in numeric columns (an empty cell, ``NA``, ``N/A``, ``null``, ``NULL``, ``None``; a null in
    Parquet/Arrow) become NaN, which makes that block float64. The dtype is decided per block
    (for text, per parsed chunk of ``ReadOptions.chunk_bytes``): an integer column that holds a
    fraction or a missing value further down yields float64 blocks there, earlier blocks stay
    int64; values are never changed (integers above 2**53 in a float block are rounded, which is
    fine for predictions and only happens to labels that are invalid anyway). A source with no
    data rows (empty text, header only, a 0-row array) is an InputError "no data rows".

N-D sources
    :attr:`Source.dims` is None for a tabular source (1-D and 2-D arrays, text, Parquet/Arrow
    scalar and vector columns): its blocks are ``(n, k)`` over the selected columns, as above.
    An NPY/NPZ array of rank 3 or more, or one Parquet/Arrow column of nested lists (a list of
    lists of numbers per row, e.g. ``(H, W)``), is an N-D source: ``dims`` is the shape of one
    row (everything after the first axis, e.g. ``(H, W, C)`` or ``(C, H, W)``; nothing is
    transposed, the class axis is the caller's choice) and :meth:`Source.blocks` /
    :meth:`Source.read` yield ``data`` of shape ``(n, *dims)``, cut along the first axis only
    (whole samples: a block holds ``options.block_rows`` samples, at least one; size it with
    ``budget.block_rows(budget, prod(dims) * 8)``). ``nrows`` is the first axis' length. Dtypes
    as above, numbers only (bool -> int64, ints -> int64, floats -> float64, a null -> NaN).

    An N-D array (NPY/NPZ) has no columns: its ``columns`` is ``[]``, ``select(None)`` (or
    ``""``) returns None (everything; ``blocks(None)``, ``read(None)``) and any column SPEC is a
    :class:`~lossctl.errors.UsageError` with ``option="cols"`` (renamed to
    ``true_cols``/``pred_cols``/``weight_cols`` by the pipeline). A Parquet/Arrow file names
    each nested column once in ``columns`` (never a name per value); ``select("mask")``
    returns ``[its index]`` and sets ``dims`` to its row shape, a selection of other columns
    sets it back to None (``dims`` follows the latest ``select``). ``select(None)`` selects the
    nested column when it is the file's only column (then ``dims`` is set when the file is
    opened), and is a UsageError when the file holds others too. A nested column is selected
    alone: with other columns it is a UsageError. :meth:`Source.pieces` (column pieces of wide
    rows) is a ShapeError on an N-D source.

    A Parquet/Arrow column of ``fixed_size_list<number>`` (or of ``list<number>`` whose rows
    all have one length) is tabular: C columns ``probs[0]`` .. ``probs[C-1]``, selected together
    by the column's name or one by one by theirs (see :mod:`lossctl.io.arrow`).

Wide rows
    A source of more than :data:`WIDE_COLUMNS` columns numbers them lazily
    (:class:`NumberedNames`, not a list of strings) and selects all of them as a ``range``.
    :meth:`Source.pieces` yields blocks of at most a given number of cells: whole rows while a
    row fits, else one row at a time in column pieces (:class:`Piece`); NPY reads such rows
    piece by piece, wide text lines are parsed piece by piece.

Closing
    :meth:`Source.close` first closes every block iterator it handed out and stops (and waits
    for) every reader thread working for it, then closes its files: no thread of ours is still
    inside pyarrow, or reading a closed file, once ``close`` returns.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from lossctl.record import record
from typing import Any

import numpy as np

from lossctl.errors import InputError, LossctlError, ShapeError, UsageError, opt
from lossctl.io.columns import select
from lossctl.io.options import ReadOptions

__all__ = ["WIDE_COLUMNS", "Block", "LazyNames", "NumberedNames", "Piece", "Source",
           "column_names"]

#: Sources with more columns than this number them lazily and select all of them as a range
#: (a list of a million names or indices alone would take 36-64 MB).
WIDE_COLUMNS = 4096


class LazyNames(Sequence):
    """Column names made when asked for: a sequence of str that compares equal to the list of
    the same names. Subclasses give ``__len__`` and ``_name(i)``."""

    def _name(self, i: int) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._name(j) for j in range(*i.indices(len(self)))]
        n = len(self)
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("column index out of range")
        return self._name(i)

    def __iter__(self) -> Iterator[str]:
        return (self._name(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (list, tuple, LazyNames)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(repr(x) for x in self[:3])
        return f"<{type(self).__name__} of {len(self)}: {shown}, ...>"


class NumberedNames(LazyNames):
    """The names ``str(first) .. str(first + n - 1)``, made when asked for."""

    def __init__(self, n: int, first: int = 1) -> None:
        self.n, self.first = int(n), int(first)

    def __len__(self) -> int:
        return self.n

    def _name(self, i: int) -> str:
        return str(self.first + i)

    def __contains__(self, x: object) -> bool:
        try:
            v = int(x)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False
        return isinstance(x, str) and str(v) == x and 0 <= v - self.first < self.n


def column_names(k: int) -> list[str] | NumberedNames:
    """``"1" .. "k"``: a list, or lazily numbered names beyond :data:`WIDE_COLUMNS` columns."""
    return NumberedNames(k) if k > WIDE_COLUMNS else [str(j + 1) for j in range(k)]


def is_all(idx: Sequence[int], k: int) -> bool:
    """True when ``idx`` selects columns ``0 .. k-1`` in order."""
    if isinstance(idx, range):
        return len(idx) == k and (k == 0 or (idx.start == 0 and idx.step == 1))
    return len(idx) == k and all(i == j for j, i in enumerate(idx))


def contiguous(idx: Sequence[int]) -> bool:
    """True when ``idx`` is a run of consecutive increasing columns."""
    if isinstance(idx, range):
        return idx.step == 1 or len(idx) <= 1
    return all(idx[j + 1] - idx[j] == 1 for j in range(len(idx) - 1))


@record
class Block:
    """A run of consecutive rows of the selected columns.

    Attributes:
        data: ``(n, k)`` array (``(n, *dims)`` from an N-D source); int64, float64 or ``<U``
            (see the module docstring).
        start: 0-based index of the block's first data row in the source.
    """

    data: np.ndarray
    start: int

    def __len__(self) -> int:
        return len(self.data)


@record
class Piece:
    """Columns ``col .. col + width`` of the selection, for rows ``start .. start + n``.

    Attributes:
        data: ``(n, width)`` array, dtypes as in :class:`Block`.
        start: 0-based index of the first row.
        col: position of the piece's first column in the selection.
        last: the piece ends its rows (``col == 0`` and ``last`` is a whole-row block).
    """

    data: np.ndarray
    start: int
    col: int = 0
    last: bool = True


class Source:
    """An opened array source. Use as a context manager; :meth:`close` releases files.

    Attributes:
        name: the source as the user wrote it (``<stdin>`` for ``-``).
        kind: ``"text"``, ``"npy"``, ``"npz"``, ``"parquet"`` or ``"feather"``.
        columns: column names (header names, or ``"1".."k"``).
        has_header: True when the names came from the data (text header, Parquet/Arrow schema).
        nrows: number of data rows if known up front (binary formats), else None (text); for
            an N-D source, the length of the first axis.
        dims: None for a tabular source (blocks ``(n, k)``); the shape of one row of an N-D
            source (blocks ``(n, *dims)``), see the module docstring.
    """

    name: str
    kind: str
    columns: list[str]
    has_header: bool
    nrows: int | None
    dims: tuple[int, ...] | None

    def __init__(self, name: str, kind: str, options: ReadOptions) -> None:
        self.name = name
        self.kind = kind
        self.options = options
        self.columns = []
        self.has_header = False
        self.nrows = None
        self.dims = None
        self._single_pass = False
        self._passes = 0
        self._closed = False
        self._cleanup: list[Callable[[], None]] = []
        self._iterators: weakref.WeakSet = weakref.WeakSet()  # handed out by blocks()/read()
        self._workers: weakref.WeakSet = weakref.WeakSet()  # reader threads working for us

    # -- selection ----------------------------------------------------------------------------------
    def select(self, spec: str | None) -> list[int] | None:
        """Column SPEC -> 0-based column indices, in the order written.

        SPEC is a comma-separated list of column names, 1-based numbers, ranges ``2-11`` and
        shell globs on names (``p*``). An exact name wins over a number or range of the same
        spelling. None (or an empty string) selects all columns.

        On an N-D array (``dims`` set, no ``columns``) None selects everything and returns None.

        Raises:
            InputError: a part matches no column (``option="cols"``); the hint lists the
                available columns.
            UsageError: a SPEC on an N-D array, which has no columns (``option="cols"``).
        """
        if self.dims is not None and not self.columns:
            if spec is None or not str(spec).strip():
                return None
            raise self._no_columns(str(spec))
        if (spec is None or not str(spec).strip()) and len(self.columns) > WIDE_COLUMNS:
            return range(len(self.columns))  # type: ignore[return-value]
        return select(spec, self.columns, self.name)

    def dims_of(self, cols: Sequence[int] | None) -> tuple[int, ...] | None:
        """The row shape of the blocks of selection ``cols``: ``dims`` of an N-D array, the
        shape of a selected Parquet/Arrow array column, None for rows of columns."""
        return self.dims

    def _no_columns(self, spec: str) -> UsageError:
        return UsageError(
            f"{opt('cols', spec)} selects columns, but this is {self.shape_text()}: an N-D "
            "array has no columns",
            source=self.name, option="cols",
            hint=f"choose the class axis with {opt('class_axis')}, or save the arrays you "
            "need separately",
        )

    def shape_text(self) -> str:
        """``"a 4-D array of shape (8, 64, 64, 21)"`` (N-D sources) for messages."""
        shape = (self.nrows if self.nrows is not None else "N", *(self.dims or ()))
        return f"a {len(shape)}-D array of shape ({', '.join(map(str, shape))})"

    # -- reading ------------------------------------------------------------------------------------
    def blocks(self, cols: list[int] | None = None) -> Iterator[Block]:
        """Yield the selected columns in blocks of ``options.block_rows`` rows.

        Files can be iterated again (each call re-reads from the start, and concurrent iterators
        are independent); standard input only once.
        """
        return self._track(self._guard(rebatch(self._start(cols), self.options.block_rows)))

    def read(self, cols: list[int] | None = None) -> Block:
        """All rows of the selected columns as one :class:`Block` (start 0)."""
        k = len(self._check_cols(cols))
        parts = list(self._track(self._guard(self._start(cols))))
        if not parts:
            return Block(np.empty((0, *(self.dims or (k,))), dtype=np.float64), 0)
        return Block(concat(parts), 0)

    def pieces(self, cols: list[int] | None = None, *, max_cells: int) -> Iterator[Piece]:
        """Yield the selected columns in blocks of at most ``max_cells`` cells.

        Whole rows (``col == 0``, ``last``) of at most ``options.block_rows`` rows while a row
        fits in ``max_cells``; otherwise one row at a time, in column pieces of ``max_cells``
        columns, in order (the last one ``last``). NPY files and wide text lines are read piece
        by piece, so a row never has to fit in memory at once (a text line does, as bytes).
        """
        if self.dims is not None:
            raise ShapeError(f"holds {self.shape_text()}, not rows of columns to cut into pieces",
                             source=self.name, hint="give an array of shape (N,) or (N, C)")
        idx = self._check_cols(cols)
        if max_cells < 1:
            raise ValueError(f"max_cells must be >= 1, not {max_cells}")
        k = len(idx)
        if k <= max_cells:
            rows = max(1, min(self.options.block_rows, max_cells // max(k, 1)))
            return self._track(self._guard(_as_pieces(rebatch(self._start(idx), rows))))
        self._begin_pass()
        return self._track(self._guard(self._pieces(idx, max_cells)))

    def _pieces(self, idx: Sequence[int], width: int) -> Iterator[Piece]:
        """Rows wider than ``width`` in column pieces; this default cuts whole rows (formats
        that can read part of a row override it)."""
        k = len(idx)
        for b in rebatch(self._chunks(idx), 1):
            for c in range(0, k, width):
                yield Piece(b.data[:, c : c + width], b.start, c, c + width >= k)

    def _start(self, cols: list[int] | None) -> Iterator[np.ndarray]:
        idx = self._check_cols(cols)
        self._begin_pass()
        return self._chunks(idx)

    def _begin_pass(self) -> None:
        if self._closed:
            raise ValueError(f"read from {self.name}, which is closed")
        if self._single_pass and self._passes:
            raise InputError(
                "standard input can be read only once", source=self.name,
                hint="save it to a file and pass the file name",
            )
        self._passes += 1

    @property
    def single_pass(self) -> bool:
        """True when the source can be read only once (standard input, a named pipe)."""
        return self._single_pass

    def location(self, row: int) -> str:
        """0-based data row -> ``"row N"`` (binary formats) or ``"line N"`` (text)."""
        return f"row {int(row)}"

    def close(self) -> None:
        """Stop the iterators and reader threads of this source, then release its open files
        and remove its temporary files. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for it in list(self._iterators):
            try:
                it.close()
            except Exception:  # ValueError: running in another thread; stopped just below
                pass
        for worker in list(self._workers):
            worker.stop()
        while self._cleanup:
            fn = self._cleanup.pop()
            try:
                fn()
            except Exception:  # closing must not mask the error that made us close
                pass

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        dims = "" if self.dims is None else f" dims={self.dims}"
        return (f"<{type(self).__name__} {self.name!r} kind={self.kind} "
                f"columns={len(self.columns)} nrows={self.nrows}{dims}>")

    # -- helpers for subclasses ---------------------------------------------------------------------
    def _chunks(self, idx: list[int]) -> Iterator[np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def track_worker(self, worker) -> None:
        """Have :meth:`close` stop ``worker`` (a :class:`~lossctl.io.readahead.Worker`)."""
        self._workers.add(worker)

    def _track(self, gen: Iterator) -> Iterator:
        it = _Iterator(gen, self)
        self._iterators.add(it)
        return it

    def _check_cols(self, cols: Sequence[int] | None) -> Sequence[int]:
        k = len(self.columns)
        if cols is None:
            return range(k) if k > WIDE_COLUMNS else list(range(k))
        if isinstance(cols, range):
            lo, hi = (min(cols[0], cols[-1]), max(cols[0], cols[-1])) if len(cols) else (0, -1)
            if not (0 <= lo and hi < k):
                raise ValueError(f"column indices {cols} out of range for {k} columns of {self.name}")
            return cols
        out = [int(c) for c in cols]
        bad = [c for c in out if not 0 <= c < k]
        if bad:
            raise ValueError(f"column indices {bad} out of range for {k} columns of {self.name}")
        return out

    def _guard(self, it: Iterator[Block]) -> Iterator[Block]:
        try:
            yield from it
        except LossctlError as e:
            raise e.with_source(self.name)
        except OSError as e:
            raise InputError(f"read failed: {e.strerror or e}", source=self.name) from e


def _as_pieces(blocks: Iterator[Block]) -> Iterator[Piece]:
    """Whole-row blocks as pieces; closing this generator closes ``blocks``."""
    try:
        for b in blocks:
            yield Piece(b.data, b.start)
    finally:
        blocks.close()  # type: ignore[attr-defined]


class _Iterator:
    """An iterator handed out by a source: after :meth:`Source.close` it raises ValueError (like
    a closed file) instead of ending early as if the data had ended."""

    __slots__ = ("__weakref__", "_gen", "_src")

    def __init__(self, gen: Iterator, src: Source) -> None:
        self._gen = gen
        self._src = src

    def __iter__(self) -> _Iterator:
        return self

    def __next__(self):
        if self._src._closed:
            raise ValueError(f"read from {self._src.name}, which is closed")
        try:
            return next(self._gen)
        except StopIteration:
            if self._src._closed:  # closed by another thread while we waited
                raise ValueError(f"read from {self._src.name}, which is closed") from None
            raise

    def close(self) -> None:
        self._gen.close()


# === blocks ===========================================================================================


def concat(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate row blocks, promoting int64 -> float64 -> str as needed."""
    if len(parts) == 1:
        return parts[0]
    if any(p.dtype.kind == "U" for p in parts):
        parts = [p if p.dtype.kind == "U" else to_str(p) for p in parts]
    return np.concatenate(parts, axis=0)


def to_str(a: np.ndarray) -> np.ndarray:
    return a.astype(str)


def rebatch(chunks: Iterator[np.ndarray], n: int) -> Iterator[Block]:
    """Re-cut arrays of any row count into blocks of exactly n rows (the last may be shorter).

    Closing this generator closes ``chunks``."""
    pending: list[np.ndarray] = []
    have = 0
    start = 0
    try:
        for a in chunks:
            if not len(a):
                continue
            if pending:
                need = n - have
                if len(a) < need:
                    pending.append(a)
                    have += len(a)
                    continue
                pending.append(a[:need])
                yield Block(concat(pending), start)
                start += n
                a = a[need:]
                pending, have = [], 0
            i = 0
            while len(a) - i >= n:
                yield Block(a[i : i + n], start)
                start += n
                i += n
            if i < len(a):
                pending, have = [a[i:]], len(a) - i
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    if pending:
        yield Block(concat(pending), start)


def assemble(cols: list[np.ndarray], n: int, order: str = "C") -> np.ndarray:
    """1-D column arrays -> one (n, k) array with the block dtype rule (a float block in
    ``order``: "F" writes each column contiguously)."""
    if not cols:
        return np.empty((n, 0), dtype=np.float64)
    if any(c.dtype.kind == "U" for c in cols):
        cols = [c if c.dtype.kind == "U" else to_str(c) for c in cols]
        width = max(c.dtype.itemsize // 4 for c in cols) or 1
        out = np.empty((n, len(cols)), dtype=f"<U{width}")
    elif all(c.dtype == np.int64 for c in cols):
        out = np.empty((n, len(cols)), dtype=np.int64)
    else:
        out = np.empty((n, len(cols)), dtype=np.float64, order=order)
    for j, c in enumerate(cols):
        out[:, j] = c
    return out
