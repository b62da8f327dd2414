"""CSV and TSV: text, an optional header row, numbers that read back exactly.

``\\n`` line ends; a header row of the column names if ``header``; numbers as
:func:`~lossctl.out.numbers.format_number` writes them (floats with full ``repr`` round-trip
precision, NaN as ``nan`` and infinities as ``inf`` / ``-inf``, booleans as ``1``/``0``); text
cells quoted by the :mod:`csv` module where needed. Blocks of numbers never need quoting: their
lines are built in bulk (:func:`~lossctl.out.rows.block_text`, the same text as ``repr`` per
cell); integer blocks skip ``str()`` per cell (:func:`~lossctl.out.numbers.int_csv`). A row too
wide to hold is written piece by piece (:meth:`~lossctl.out.sink.Sink.write_row_pieces`), and so
is a header of lazily numbered names.
"""
from __future__ import annotations

import csv
import io
from typing import Any

from lossctl.out.numbers import format_column, int_csv
from lossctl.out.rows import RowStyle, block_text
from lossctl.out.sink import Sink, columns_of

__all__ = ["CsvSink"]


#: Header names written at a time when the names are made lazily (a wide output).
_HEADER_PIECE = 1 << 16


class CsvSink(Sink):
    """The ``csv`` (comma) and ``tsv`` (tab) writer; see :func:`~lossctl.out.open_sink`."""

    row_pieces = True

    def __init__(self, fmt: str, columns, **kwargs: Any) -> None:
        if fmt not in ("csv", "tsv"):
            raise ValueError(f"CsvSink writes csv or tsv, not {fmt!r}")
        super().__init__(fmt, columns, **kwargs)
        self.sep = "," if fmt == "csv" else "\t"
        self._csv: Any = None
        self._style = RowStyle(sep=self.sep)

    def _begin(self) -> None:
        self._csv = csv.writer(self._fh, delimiter=self.sep, lineterminator="\n")
        if not self.header:
            return
        if isinstance(self.columns, list):
            self._csv.writerow(self.columns)
            return
        n = len(self.columns)  # lazily made names: a piece at a time
        self._write_row(self.columns[a : a + _HEADER_PIECE] for a in range(0, n, _HEADER_PIECE))

    def _write_block(self, parts: list[Any], n: int) -> None:
        self._start()
        if n == 0:
            return
        if all(p.dtype.kind in "iub" for p in parts):  # integer blocks: no str() per cell
            self._fh.write(int_csv(parts, n, self.sep))
            return
        if all(p.dtype.kind in "iubf" for p in parts):
            # numbers never need quoting: lines built in bulk, a chunk at a time
            for text, _, _ in block_text(parts, n, self._style):
                self._fh.write(text)
            return
        self._csv.writerows(zip(*(format_column(c) for c in columns_of(parts))))

    def _write_pieces(self, pieces: Any) -> None:
        self._start()
        self._write_row(pieces)

    def _write_row(self, pieces: Any) -> None:
        """One line from pieces of cells (arrays or lists), separated as one row."""
        fh = self._fh
        first = True
        for p in pieces:
            if not len(p):
                continue
            if not first:
                fh.write(self.sep)
            first = False
            fh.write(self._piece_text(p))
        fh.write("\n")

    def _piece_text(self, p: Any) -> str:
        """The cells of one piece, separated, without a line end."""
        kind = getattr(p, "dtype", None)
        kind = kind.kind if kind is not None else "U"
        if kind in "iub":
            return int_csv([p.reshape(1, -1)], 1, self.sep)[:-1]
        if kind == "f":
            style = RowStyle(sep=self.sep, suffix="")
            return "".join(text for text, _, _ in block_text([p.reshape(1, -1)], 1, style))
        buf = io.StringIO()  # text: quoted where needed, as csv.writer does for whole rows
        csv.writer(buf, delimiter=self.sep, lineterminator="\n").writerow(
            p.tolist() if hasattr(p, "tolist") else list(p))
        return buf.getvalue()[:-1]
