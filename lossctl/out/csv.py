"""CSV and TSV: text, an optional header row, numbers that read back exactly.

``\\n`` line ends; a header row of the column names if ``header``; numbers as
:func:`~lossctl.out.numbers.format_number` writes them (floats with full ``repr`` round-trip
precision, NaN as ``nan`` and infinities as ``inf`` / ``-inf``, booleans as ``1``/``0``); text
cells quoted by the :mod:`csv` module where needed. Blocks of numbers never need quoting and are
joined directly (about 5x faster than :class:`csv.writer`); integer blocks skip ``str()`` per cell
(:func:`~lossctl.out.numbers.int_csv`).
"""
from __future__ import annotations

import csv
from typing import Any

from lossctl.out.numbers import format_column, int_csv
from lossctl.out.sink import Sink, columns_of

__all__ = ["CsvSink"]


class CsvSink(Sink):
    """The ``csv`` (comma) and ``tsv`` (tab) writer; see :func:`~lossctl.out.open_sink`."""

    def __init__(self, fmt: str, columns, **kwargs: Any) -> None:
        if fmt not in ("csv", "tsv"):
            raise ValueError(f"CsvSink writes csv or tsv, not {fmt!r}")
        super().__init__(fmt, columns, **kwargs)
        self.sep = "," if fmt == "csv" else "\t"
        self._csv: Any = None

    def _begin(self) -> None:
        self._csv = csv.writer(self._fh, delimiter=self.sep, lineterminator="\n")
        if self.header:
            self._csv.writerow(self.columns)

    def _write_block(self, parts: list[Any], n: int) -> None:
        self._start()
        if n == 0:
            return
        if all(p.dtype.kind in "iub" for p in parts):  # integer blocks: no str() per cell
            self._fh.write(int_csv(parts, n, self.sep))
            return
        cells = [format_column(c) for c in columns_of(parts)]
        if all(p.dtype.kind in "iubf" for p in parts):
            # numbers never need quoting: join directly (about 5x faster than csv.writer)
            self._fh.write("\n".join(map(self.sep.join, zip(*cells))) + "\n")
        else:
            self._csv.writerows(zip(*cells))
