"""The streaming row writer: :class:`Sink`, the base of every format's writer, and
:func:`open_sink`, which picks the writer for a format.

Columns arrive as numpy arrays in blocks of rows (:meth:`Sink.write`); each block is written out
right away (csv, tsv, json, jsonl, npy; parquet in row groups of a block or a few) or kept until :meth:`Sink.close` (table). Use a sink as a
context manager: a normal exit closes it, an exception aborts it (a file output is then left
untouched; standard output keeps what was already sent).

A writer for a new format subclasses :class:`Sink` and fills in the hooks ``_begin`` (header,
opening bracket), ``_write_block`` (one block of 2-D parts) and ``_finish`` (closing bracket,
fixed-up header); the base class owns the destination, the column rules and the lifecycle.

Rows too wide to hold whole (a one-hot row of 10^8 classes) are written in column pieces with
:meth:`Sink.write_row_pieces` by the formats that can (csv, tsv: text of one line; npy: a C-order
row is contiguous bytes, hook ``_write_pieces``); json, jsonl, parquet and table cannot, and
:func:`open_sink` refuses rows wider than its ``max_cells`` for them, before writing anything.

N-D rows (``item_shape``): every row is an array of one shape, a segmentation map ``(H, W)``,
a one-hot map ``(H, W, C)`` or a per-pixel loss map; the output is one ``(N, *item_shape)``
array. Only NPY holds such rows; the other formats are refused by :func:`open_sink`
(:func:`nd_rows_error`), before anything is written.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from lossctl.errors import UsageError, opt
from lossctl.out.formats import FORMATS
from lossctl.out.streams import Destination

__all__ = ["Renderer", "Sink", "nd_rows_error", "open_rows_sink", "open_sink", "split_columns",
           "wide_row_error"]

#: ``renderer(columns, rows, *, title, precision, show_header, file, plain)`` draws a table (see
#: :class:`lossctl.out.table.TableSink`); the CLI's ``render.table_renderer()`` makes one.
Renderer = Callable[..., None]

#: format -> (module, class) of its writer, imported when first used.
_WRITERS = {
    "csv": ("lossctl.out.csv", "CsvSink"),
    "tsv": ("lossctl.out.csv", "CsvSink"),
    "json": ("lossctl.out.json", "JsonSink"),
    "jsonl": ("lossctl.out.json", "JsonSink"),
    "npy": ("lossctl.out.npy", "NpySink"),
    "parquet": ("lossctl.out.parquet", "ParquetSink"),
    "table": ("lossctl.out.table", "TableSink"),
}


def split_columns(cols: Sequence[Any], ncolumns: int, what: str = "sink") -> tuple[list[Any], int]:
    """Check a block of columns and return it as 2-D parts and its number of rows.

    Args:
        cols: arrays (or array-likes) with the same number of rows ``n``; a 1-D ``(n,)`` array is
            one column, a 2-D ``(n, k)`` array is ``k`` columns.
        ncolumns: how many columns they must give together.
        what: the writer, for messages.

    Returns:
        ``(parts, n)``: each part a 2-D ``(n, k_i)`` array, in order.

    Raises:
        ValueError: arrays that are not 1-D or 2-D, rows that differ between arrays, or a number
            of columns other than ``ncolumns``.
    """
    import numpy as np

    parts = []
    n = None
    for c in cols:
        a = np.asarray(c)
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        elif a.ndim != 2:
            raise ValueError(f"{what}.write takes 1-D or 2-D arrays, not shape {a.shape}")
        if n is None:
            n = a.shape[0]
        elif a.shape[0] != n:
            raise ValueError(f"arrays with {n} and {a.shape[0]} rows written together")
        parts.append(a)
    got = sum(p.shape[1] for p in parts)
    if got != ncolumns:
        raise ValueError(f"{got} columns written to a {what} of {ncolumns} columns")
    return parts, n or 0


def wide_row_error(fmt: str, ncolumns: int) -> UsageError:
    """The refusal of a format that cannot write a row in pieces, for rows too wide to hold."""
    return UsageError(
        f"rows of {ncolumns} columns are too wide for {fmt} output within the memory limit",
        hint=f"write csv or npy ({opt('format', 'csv')} or {opt('format', 'npy')}), which stream "
        f"such rows in pieces, or raise {opt('memory_limit')}",
        option="format",
    )


def _shape_text(item_shape: Sequence[int]) -> str:
    return "(N, " + ", ".join(str(d) for d in item_shape) + ")"


def nd_rows_error(fmt: str, item_shape: Sequence[int], *, json: bool = False) -> UsageError:
    """The refusal of a format that holds rows of columns, for rows that are N-D arrays
    (``json``: JSON, which nests them, is offered too)."""
    what = "a terminal shows" if fmt == "a terminal" else f"{fmt} output holds"
    also = f"; or JSON ({opt('format', 'json')}), which nests them" if json else ""
    return UsageError(
        f"{what} rows of columns, but this output is one array of shape "
        f"{_shape_text(item_shape)}",
        hint=f"write NPY: {opt('format', 'npy')}, or an output file ending in .npy{also}",
        option="format",
    )


def _item_shape(item_shape: Sequence[int]) -> tuple[int, ...]:
    import operator

    try:
        shape = tuple(operator.index(d) for d in item_shape)
    except TypeError:
        raise ValueError(f"item_shape must be a tuple of ints, not {item_shape!r}") from None
    if not shape or any(d < 0 for d in shape):
        raise ValueError(f"item_shape must be a non-empty tuple of sizes >= 0, not {shape}")
    return shape


def columns_of(parts: Sequence[Any]):
    """The 1-D columns of 2-D parts, in order."""
    for p in parts:
        for j in range(p.shape[1]):
            yield p[:, j]


class Sink:
    """Streaming, row-oriented writer; the base of every format's writer.

    Don't construct one directly: :func:`open_sink` returns the writer for a format.

    Attributes:
        fmt: the format written.
        columns: column names (one name for an N-D sink).
        item_shape: the shape of every row of an N-D sink, else None.
        row_size: values per row (``len(columns)``, or the product of ``item_shape``).
        output: the file path, or ``None`` for standard output.
        rows_written: rows written so far.
    """

    #: The format writes bytes (NPY) rather than text.
    binary = False
    #: The format can write a row in column pieces (:meth:`write_row_pieces`).
    row_pieces = False

    def __init__(
        self,
        fmt: str,
        columns: Sequence[str],
        *,
        output: str | os.PathLike | None = None,
        stdout: Any = None,
        header: bool = True,
        nrows: int | None = None,
        vector: bool = False,
        item_shape: Sequence[int] | None = None,
    ) -> None:
        if nrows is not None and nrows < 0:
            raise ValueError(f"nrows must be >= 0, not {nrows}")
        self.item_shape = None if item_shape is None else _item_shape(item_shape)
        self.fmt = fmt
        # a lazy sequence of names (the numbered columns of a wide output) is kept, not copied
        lazy = isinstance(columns, Sequence) and not isinstance(columns, (list, tuple, str, range))
        self.columns = columns if lazy else [str(c) for c in columns]
        if vector and len(self.columns) != 1:
            raise ValueError(f"vector=True takes one column, not {len(self.columns)}")
        if self.item_shape is not None:
            if vector or len(self.columns) != 1:
                raise ValueError("item_shape takes one column name (what the values are) and "
                                 "excludes vector=True")
            import math

            self.row_size = math.prod(self.item_shape)
        else:
            self.row_size = len(self.columns)
        self.header = header
        self.nrows = nrows
        self.vector = vector
        self.rows_written = 0
        self._dest = Destination(output, stdout, binary=self.binary)
        self.output = self._dest.output
        self._started = False
        self._done = False

    # -- lifecycle --

    def __enter__(self) -> Sink:  # noqa: PYI034 - typing.Self needs Python 3.11
        self._open()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort(exc)
        return False

    @property
    def _fh(self) -> Any:
        return self._dest.fh

    def _open(self) -> None:
        if not self._done:
            self._dest.open()

    def _guard(self, action):
        """Run ``action``; OSErrors of our own writes become OutputError (BrokenPipe stays)."""
        return self._dest.guard(action)

    def _start(self) -> None:
        """Open the output and write what comes before the rows (once)."""
        if self._started:
            return
        self._open()
        self._started = True
        self._begin()

    # -- the hooks of a format --

    def _begin(self) -> None:
        """Write what comes before the first row (header, opening bracket)."""

    def _write_block(self, parts: list[Any], n: int) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """Write what comes after the last row; the output is already started."""

    def _after_commit(self) -> None:
        """Run once the output is complete (warnings about what was written)."""

    def _release(self) -> None:
        """Free what the writer holds besides the destination (a spool file)."""

    # -- writing --

    def write(self, *cols: Any) -> None:
        """Append a block of rows.

        Args:
            *cols: arrays with the same number of rows ``n``; a 1-D ``(n,)`` array is one column,
                a 2-D ``(n, k)`` array is ``k`` columns. Together they must give ``len(columns)``
                columns, in order. An N-D sink takes one array of shape ``(n, *item_shape)``.

        Raises:
            ValueError: wrong number of columns, rows that differ between arrays, a closed sink,
                a block of another shape than ``item_shape``, or a float block after an int64
                NPY was started.
            UsageError: string columns for npy.
            OutputError: the output cannot be written.
        """
        if self._done:
            raise ValueError("the sink is closed")
        if self.item_shape is not None:
            parts, n = self._nd_block(cols)
        else:
            parts, n = split_columns(cols, len(self.columns))
        self._guard(lambda: self._write_block(parts, n))
        self.rows_written += n

    def _nd_block(self, cols: Sequence[Any]) -> tuple[list[Any], int]:
        """One ``(n, *item_shape)`` array as the 2-D part ``(n, row_size)``."""
        import numpy as np

        if len(cols) != 1:
            raise ValueError(f"an N-D sink takes one array per block, not {len(cols)}")
        a = np.asarray(cols[0])
        if a.shape[1:] != self.item_shape:
            raise ValueError(f"a block of shape {a.shape} written to a sink of rows of shape "
                             f"{self.item_shape}")
        return [a.reshape(a.shape[0], self.row_size)], a.shape[0]

    def write_row_pieces(self, pieces: Any) -> None:
        """Append one row given as consecutive column pieces: 1-D arrays that together give
        ``row_size`` values, written as they come (csv, tsv and npy; a row of 10^8 values
        never has to be held at once; an N-D row in C order). Dtype rules as for :meth:`write`.

        Raises:
            UsageError: the format cannot write a row in pieces (json, jsonl, table).
            ValueError: the pieces do not give ``len(columns)`` values, or a closed sink.
        """
        if self._done:
            raise ValueError("the sink is closed")
        if not self.row_pieces:
            raise wide_row_error(self.fmt, len(self.columns))
        self._guard(lambda: self._write_pieces(_pieces_1d(pieces, self.row_size)))
        self.rows_written += 1

    def _write_pieces(self, pieces: Any) -> None:  # pragma: no cover - formats with row_pieces
        raise NotImplementedError

    def close(self) -> None:
        """Finish the output (closing bracket, NPY header, the table) and commit a file atomically.

        Raises:
            OutputError: the output cannot be written (a file output is then left untouched).
        """
        if self._done:
            return
        try:
            self._guard(self._start)
            self._guard(self._finish)
            self._dest.flush()
        except BaseException as exc:
            self.abort(exc)
            raise
        self._done = True
        self._release()
        self._dest.commit()
        self._after_commit()

    def abort(self, exc: BaseException | None = None) -> None:
        """Give up: a file output is discarded (the target untouched), nothing more is written.

        Args:
            exc: the exception that caused the abort, if any (handed to the atomic file).
        """
        if self._done:
            return
        self._done = True
        self._release()
        self._dest.abort(exc)


def _pieces_1d(pieces: Any, ncolumns: int):
    """The pieces of one row as 1-D arrays; checks that they give ``ncolumns`` values."""
    import numpy as np

    got = 0
    for p in pieces:
        a = np.asarray(p)
        if a.ndim != 1:
            a = a.reshape(-1) if a.ndim == 2 and a.shape[0] == 1 else a
        if a.ndim != 1:
            raise ValueError(f"write_row_pieces takes 1-D pieces, not shape {a.shape}")
        got += len(a)
        if got > ncolumns:
            raise ValueError(f"{got} or more values written as a row of {ncolumns} columns")
        yield a
    if got != ncolumns:
        raise ValueError(f"{got} values written as a row of {ncolumns} columns")


def open_sink(
    fmt: str,
    columns: Sequence[str],
    *,
    output: str | os.PathLike | None = None,
    stdout: Any = None,
    header: bool = True,
    nrows: int | None = None,
    precision: int = 6,
    title: str | None = None,
    renderer: Renderer | None = None,
    vector: bool = False,
    preview: int | None = None,
    max_cells: int | None = None,
    item_shape: Sequence[int] | None = None,
) -> Sink:
    """The streaming writer of ``fmt`` for rows of ``columns``.

    Formats:
        * csv/tsv: ``\\n`` line ends, a header row of ``columns`` if ``header``; numbers as
          :func:`~lossctl.out.format_number` writes them (NaN -> ``nan``); text cells quoted by the
          ``csv`` module where needed.
        * json: ``[`` then one object per row keyed by column names, then ``]``; NaN/inf -> ``null``
          and one warning with the count. jsonl: the same objects, one per line.
        * npy: a 2-D ``(nrows, ncols)`` array (1-D ``(nrows,)`` with ``vector``, N-D
          ``(nrows, *item_shape)`` with ``item_shape``), ``int64`` if
          the first block's columns are all integer (or bool), else ``float64``; string columns are
          refused. The header carries ``nrows`` when given; otherwise a file gets a placeholder
          header fixed up at close, and standard output (never seeked: it may be a pipe or an
          ``O_APPEND`` file) is spooled to a temporary file and copied out at close.
        * parquet: one typed column per column (``int64`` for integer or bool columns,
          ``float64`` for floats, bit for bit, ``string`` for text), decided by the first block;
          a row group per block or per few small blocks (:mod:`lossctl.out.parquet`). Never to a
          terminal; rows in pieces and N-D rows are refused.
        * table: all rows drawn at close, numbers rounded to ``precision`` digits, by ``renderer``
          (a file output asks it for plain text: no colour, no wrapping) or, without one, as a
          plain aligned text table.

    Args:
        fmt: one of :data:`~lossctl.out.FORMATS` (already resolved, see
            :func:`~lossctl.out.resolve_format`).
        columns: column names, one per output column.
        output: a file path (written through :func:`~lossctl.out.atomic_open`); ``None`` or
            ``"-"`` for standard output.
        stdout: the stream for standard output (default ``sys.stdout``, or ``sys.stdout.buffer``
            for npy); tests inject ``io.StringIO``/``io.BytesIO``.
        header: write the header row (csv/tsv) or the column headings (table).
        nrows: the total number of rows, when known up front (lets npy stream to a pipe).
        precision: significant digits in a table.
        title: table title.
        renderer: draws a table (see :data:`Renderer`); the CLI passes
            ``render.table_renderer()``. Other formats ignore it.
        preview: table only: keep the first and the last ``preview`` rows (see
            :class:`~lossctl.out.table.TableSink`).
        vector: the output is one column, and NPY writes it as a 1-D array (labels, per-sample
            losses: what PyTorch expects of targets).
        max_cells: the most values of a row the caller can hold at once; a row of more columns
            is written in pieces (:meth:`Sink.write_row_pieces`), which json, jsonl and table
            cannot do: they are refused here.
        item_shape: every row is an array of this shape (``(H, W)`` for a per-pixel loss map,
            ``(H, W, C)`` for a one-hot map): ``write`` takes blocks ``(n, *item_shape)`` and
            the output is one ``(nrows, *item_shape)`` NPY array, streamed (to a pipe too when
            ``nrows`` is given), with ``columns`` one name for what the values are. Only npy
            holds such rows: the other formats are refused (:func:`nd_rows_error`).

    Returns:
        The sink, not yet opened: use it in a ``with`` block.

    Raises:
        ValueError: unknown format, ``nrows < 0``, or ``vector`` with other than one column.
        UsageError: npy or parquet to standard output that is a terminal; json, jsonl,
            parquet or table for rows of more than ``max_cells`` columns; any format but npy
            with ``item_shape``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    if item_shape is not None:
        shape = _item_shape(item_shape)
        if fmt != "npy":
            raise nd_rows_error(fmt, shape)
    import importlib

    module, name = _WRITERS[fmt]
    cls = getattr(importlib.import_module(module), name)
    if max_cells is not None and len(columns) > max_cells and not cls.row_pieces:
        raise wide_row_error(fmt, len(columns))
    kwargs: dict[str, Any] = {} if item_shape is None else {"item_shape": item_shape}
    if fmt == "table":
        kwargs = {"precision": precision, "title": title, "renderer": renderer,
                  "preview": preview}
    return cls(
        fmt, columns, output=output, stdout=stdout, header=header, nrows=nrows, vector=vector,
        **kwargs,
    )


def open_rows_sink(rows: Any, block: Any, width: int | None, fmt: str, *,
                   map_fmt: str | None = None, values_only: bool = False,
                   shown: str | None = None, nrows: int | None = None, **kwargs: Any) -> Sink:
    """The sink of an evaluation's per-sample rows (a :class:`lossctl.result.SampleRows`
    layout), opened on their first ``block``.

    N-D elementwise losses (a loss map per sample) are one NPY array ``(N, *map shape)`` in
    ``map_fmt`` (default ``fmt``), any other format refused by :func:`nd_rows_error` naming
    ``shown`` (default the format). Other rows are ``rows.columns`` in ``fmt`` (``values_only``:
    the values alone); one column of per-sample losses is a 1-D NPY array, as the frameworks'
    ``reduction="none"`` returns, elementwise losses keep the prediction's shape (``(N, 1)`` for
    one column). ``nrows`` is given to NPY only; ``kwargs`` go to :func:`open_sink`.
    """
    e = block.elementwise
    if rows.elementwise and e is not None and e.ndim > 2:
        fmt = map_fmt or fmt
        if fmt != "npy":
            raise nd_rows_error(shown or fmt, e.shape[1:], json=True)
        return open_sink("npy", ["loss"], nrows=nrows, item_shape=e.shape[1:], **kwargs)
    rows.values_only = values_only
    columns = rows.columns(block, width or 1)
    return open_sink(fmt, columns, nrows=nrows if fmt == "npy" else None,
                     vector=fmt == "npy" and len(columns) == 1 and not rows.elementwise,
                     **kwargs)
