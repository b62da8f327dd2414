"""Text tables (CSV, TSV, whitespace): the :class:`TextSource`.

The layout (encoding, delimiter, header, column kinds) is sniffed from the first bytes
(:mod:`lossctl.io.sniff`); cells are split and converted by the rules of
:mod:`lossctl.io.cells`; every error names the line (:mod:`lossctl.io.text_errors`).

Engines: lines of more than :data:`~lossctl.io.text_wide.WIDE_FIELDS` fields (2,048) are read by
the wide-row engine (:mod:`lossctl.io.text_wide`: line by line into numpy, rows wider than a
block in column pieces). Otherwise inputs up to ``ReadOptions.small_text_bytes`` (1 MB) are
parsed whole in pure Python
(:mod:`lossctl.io.text_python`, the ``csv`` module; importing pyarrow would cost more than
parsing), larger ones by ``pyarrow.csv.read_csv`` on chunks of ``ReadOptions.chunk_bytes``
(8 MB) cut at line ends, multi-threaded inside each chunk (:mod:`lossctl.io.text_arrow`).
Chunks are independent, so a parse or type problem in a chunk is located exactly and a column
sniffed as integer that turns out to hold ``2.5`` is re-read as text for that chunk and
converted by the same rules as the Python engine. The engines give the same values and errors
(tested). Reading and parsing run one chunk ahead in a worker thread, overlapping with the
consumer.

Measured on a 1,000,000 x 10 float CSV (110 MB, page cache warm) on a 2-core machine, each run
a fresh process, 9 interleaved rounds, min / median seconds of the read itself (the machine was
shared with other jobs, hence the spread): ``open_source().blocks()`` 0.21 / 0.35,
``read_array`` 0.26 / 0.47, ``pandas.read_csv(...).to_numpy()`` 0.17 / 0.27,
``pyarrow.csv.read_csv`` (whole file) 0.68 / 0.87, ``pyarrow.csv.open_csv`` (its own streaming
reader) 0.42 / 0.50, ``np.loadtxt`` 1.77 / 1.93. Whole process (python start, imports, read):
streaming 0.36 / 0.54 versus the pandas one-liner 0.63 / 0.73.
"""
from __future__ import annotations

import io
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from typing import IO

import numpy as np

from lossctl.errors import note, opt
from lossctl.io.cells import BadCell
from lossctl.io.options import ReadOptions
from lossctl.io.sniff import Layout, read_sample, sniff
from lossctl.io.source import LazyNames, Piece, Source
from lossctl.io.streams import Prefixed
from lossctl.io.text_errors import cell_error

__all__ = ["TextSource"]


class TextSource(Source):
    """A text table, read by the Python engine (small inputs) or the pyarrow engine.

    Attributes:
        layout: what the sniffer decided (:class:`~lossctl.io.sniff.Layout`).
        as_text: columns the pyarrow engine hands over as strings (a value that did not fit
            the sniffed type was found; sticky for later chunks and passes).
    """

    def __init__(
        self,
        name: str,
        options: ReadOptions,
        *,
        opener: Callable[[], IO[bytes]] | None = None,
        stream: IO[bytes] | None = None,
        ext: str = "",
    ) -> None:
        super().__init__(name, "text", options)
        self._opener = opener
        fp = stream if stream is not None else opener()
        try:
            sample, eof = read_sample(fp, options)
            self.layout: Layout = sniff(sample, eof, options, ext)
        except BaseException:
            if stream is None:
                fp.close()
            raise
        names = self.layout.names
        self.columns = names if isinstance(names, LazyNames) else list(names)
        self.has_header = self.layout.header
        if self.layout.guessed:
            shown = ", ".join(repr(n) for n in self.layout.names[:5])
            note(f"{name}: line {self.layout.first_line - 1} ({shown}) was taken as a header, "
                 "because its values never reappear below while the column repeats its "
                 f"values; if it is data, give {opt('header', False)}")
        self.nrows = None
        self._segments: list[tuple[int, int, tuple[int, ...]]] = []  # (row_start, line_start, blanks)
        self.as_text: set[int] = set()
        self._small = eof and len(sample) <= options.small_text_bytes
        self._keep(fp, sample, stream is not None)

    def _keep(self, fp: IO[bytes], sample: bytes, is_stream: bool) -> None:
        """Hold what the passes over the data need: the whole small input, or the stream."""
        rest = sample[self.layout.data_offset :]
        self._data = rest if self._small else b""
        self._fp: IO[bytes] | None = None
        if self._small or not is_stream:
            if not is_stream:
                fp.close()
            return
        self._single_pass = True
        self._fp = Prefixed(rest, fp)

    # -- location -------------------------------------------------------------------------------------
    def location(self, row: int) -> str:
        row = int(row)
        segs = self._segments
        i = bisect_right(segs, (row, float("inf"))) - 1
        if i < 0:
            return f"line {self.layout.first_line + row}"
        row_start, line_start, blanks = segs[i]
        line = line_start + (row - row_start)
        for b in blanks:
            if b <= line:
                line += 1
            else:
                break
        return f"line {line}"

    def record(self, row_start: int, line_start: int, blanks: tuple[int, ...]) -> None:
        """Remember where a chunk starts (once: later passes read the same chunks)."""
        segs = self._segments
        if segs and line_start <= segs[-1][1]:
            return
        if segs and segs[-1][0] == row_start:  # the previous chunk held only blank lines: merge
            segs[-1] = (row_start, segs[-1][1], segs[-1][2] + blanks)
        else:
            segs.append((row_start, line_start, blanks))

    def cell_error(self, bad: BadCell, row0: int, line_text: str | None):
        """The InputError for a cell of the chunk whose first data row is ``row0``."""
        row = row0 + bad.row
        return cell_error(bad, self.layout, row, self.location(row), line_text)

    # -- reading --------------------------------------------------------------------------------------
    def _open_data(self) -> IO[bytes]:
        """The text after the header, for one pass."""
        if self._small:
            return io.BytesIO(self._data)
        if self._fp is not None:
            fp, self._fp = self._fp, None
        else:
            fp = self._opener()
            fp.seek(self.layout.data_offset)
        self._cleanup.append(fp.close)
        return fp

    def _chunks(self, idx: Sequence[int]) -> Iterator[np.ndarray]:
        if self.layout.wide:
            from lossctl.io.text_wide import wide_chunks

            fp = self._open_data()
            try:
                yield from wide_chunks(self, fp, idx)
            finally:
                fp.close()
            return
        if self._small:
            from lossctl.io.text_python import python_chunks

            yield from python_chunks(self, self._data, idx)
            return
        from lossctl.io.text_arrow import arrow_chunks

        fp = self._open_data()
        try:
            yield from arrow_chunks(self, fp, idx)
        finally:
            fp.close()

    def _pieces(self, idx: Sequence[int], width: int) -> Iterator[Piece]:
        if not self.layout.wide:
            yield from super()._pieces(idx, width)
            return
        from lossctl.io.text_wide import wide_pieces

        fp = self._open_data()
        try:
            yield from wide_pieces(self, fp, idx, width)
        finally:
            fp.close()
