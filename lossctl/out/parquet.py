"""Parquet: a table of typed columns, written row group by row group with pyarrow.

Every column gets the type its first block decides, by the NPY rule applied per column:
integer (or bool) columns are ``int64``, float columns ``float64`` (values kept bit for bit:
NaN and infinities stay what they are, unlike JSON), text columns ``string``. A later block
must fit: floats after an ``int64`` column was started are refused, as NPY refuses them.

Blocks are gathered until they hold :attr:`ParquetSink.GROUP_CELLS` values, then written as one
row group (a block larger than that is its own row group), so memory stays within a block and a
row group whatever the number of rows. The file is written through the destination like every
other format: atomically for a file (a temporary file renamed at close), as a stream to a pipe
(a Parquet file is written front to back; its footer comes last), never to a terminal.

Rows wider than a block holds (``write_row_pieces``) and N-D rows are not Parquet's: the first
is refused by :func:`~lossctl.out.open_sink` (``max_cells``), the second by its ``item_shape``
check, before anything is written. A sink closed before any block is an empty table of
``float64`` columns (there was no block to decide the types).
"""
from __future__ import annotations

import contextlib
from typing import Any

from lossctl.out.formats import npy_terminal_error
from lossctl.out.sink import Sink, columns_of

__all__ = ["ParquetSink"]


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    if kind in "iub":
        return pa.int64()
    if kind == "f":
        return pa.float64()
    if kind in "USO":
        return pa.string()
    raise ValueError(f"cannot write columns of dtype kind {kind!r} to Parquet")


class _Gate:
    """The stream pyarrow writes to: the destination's, until an abort cuts it (the writer's
    close, or its finaliser, would otherwise end an aborted stream with a valid footer)."""

    closed = False

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.pos = 0
        self.cut = False

    def write(self, data: Any) -> int:
        if not self.cut:
            self.fh.write(data)
        self.pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self.pos

    def flush(self) -> None:
        if not self.cut:
            self.fh.flush()

    def close(self) -> None:  # the destination closes the stream itself
        pass

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


class ParquetSink(Sink):
    """The ``parquet`` writer; see :func:`~lossctl.out.open_sink`.

    Raises:
        UsageError: standard output is a terminal.
    """

    binary = True
    row_pieces = False
    #: values gathered before a row group is written (8 MB of float64)
    GROUP_CELLS = 1 << 20

    def __init__(self, fmt: str, columns, **kwargs: Any) -> None:
        if fmt != "parquet":
            raise ValueError(f"ParquetSink writes parquet, not {fmt!r}")
        super().__init__(fmt, columns, **kwargs)
        if self._dest.stdout_is_terminal():
            raise npy_terminal_error("parquet")
        self._schema: Any = None
        self._writer: Any = None
        self._pending: list[Any] = []  # tables not yet written
        self._pending_rows = 0
        self._gate: _Gate | None = None

    def _decide_schema(self, cols: list[Any]) -> None:
        import pyarrow as pa

        names = [str(c) for c in self.columns]
        self._schema = pa.schema([(name, _arrow_type(c.dtype.kind))
                                  for name, c in zip(names, cols)])

    def _table(self, cols: list[Any]) -> Any:
        import numpy as np
        import pyarrow as pa

        arrays = []
        for c, f in zip(cols, self._schema):
            kind = c.dtype.kind
            if pa.types.is_int64(f.type):
                if kind == "f":
                    raise ValueError(f"float values written to the int64 Parquet column "
                                     f"{f.name!r}")
                if kind not in "iub":
                    raise ValueError(f"{c.dtype} values written to the int64 Parquet column "
                                     f"{f.name!r}")
                arrays.append(pa.array(np.asarray(c, dtype=np.int64)))
            elif pa.types.is_float64(f.type):
                if kind not in "iubf":
                    raise ValueError(f"{c.dtype} values written to the float64 Parquet column "
                                     f"{f.name!r}")
                arrays.append(pa.array(np.asarray(c, dtype=np.float64)))
            else:
                values = c if kind in "US" else np.asarray(c, dtype=object)
                arrays.append(pa.array(values, type=pa.string()))
        return pa.Table.from_arrays(arrays, schema=self._schema)

    def _begin(self) -> None:
        import pyarrow.parquet as pq

        if self._schema is None:  # closed before any block: float64 columns
            import numpy as np

            self._decide_schema([np.empty(0)] * self.row_size)
        self._gate = _Gate(self._fh)
        self._writer = pq.ParquetWriter(self._gate, self._schema)

    def _write_block(self, parts: list[Any], n: int) -> None:
        cols = list(columns_of(parts))
        if self._schema is None:
            self._decide_schema(cols)
        table = self._table(cols)
        self._start()
        if n == 0:
            return
        self._pending.append(table)
        self._pending_rows += n
        if self._pending_rows * max(self.row_size, 1) >= self.GROUP_CELLS:
            self._flush()

    def _flush(self) -> None:
        """Write the gathered blocks as one row group."""
        if not self._pending:
            return
        import pyarrow as pa

        table = self._pending[0] if len(self._pending) == 1 else pa.concat_tables(self._pending)
        self._pending, self._pending_rows = [], 0
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def _finish(self) -> None:
        self._flush()
        writer, self._writer = self._writer, None
        writer.close()  # the footer; the destination (our file or stdout) stays open

    def _release(self) -> None:
        self._pending = []
        if self._writer is not None:  # aborted: nothing more reaches the destination
            self._gate.cut = True  # type: ignore[union-attr]
            writer, self._writer = self._writer, None
            with contextlib.suppress(Exception):
                writer.close()
