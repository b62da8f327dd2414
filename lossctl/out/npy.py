"""NPY: one ``float64`` or ``int64`` array, written incrementally.

The array is 2-D ``(nrows, ncols)``, 1-D ``(nrows,)`` for a ``vector`` sink of one column
(labels and per-sample losses: PyTorch wants 1-D targets), or N-D ``(nrows, *item_shape)``
for a sink of N-D rows (label maps, one-hot maps, per-pixel loss maps). It is ``int64`` if the first block's
columns are all integer (or bool), else ``float64``; string columns are refused. Bytes are
little-endian, C order: a file identical to :func:`numpy.save` of the same array.

The header carries the row count. When ``nrows`` is given it is written first and every block
streams straight out (even to a pipe); otherwise a file gets a placeholder header of fixed size,
overwritten at close, and standard output (never seeked: it may be a pipe or an ``O_APPEND`` file)
or a FIFO is spooled to a temporary file and copied out at close.

A row too wide to hold is written in column pieces (:meth:`~lossctl.out.sink.Sink.write_row_pieces`):
a C-order row is contiguous bytes, so its pieces are written one after the other.
"""
from __future__ import annotations

from typing import Any

from lossctl.errors import UsageError, opt
from lossctl.out.files import TEMP_PREFIX
from lossctl.out.formats import npy_terminal_error
from lossctl.out.sink import Sink

__all__ = ["NpySink", "npy_header"]

_NPY_MAGIC = b"\x93NUMPY\x01\x00"
_NPY_PREFIX = len(_NPY_MAGIC) + 2  # magic + version + uint16 header length
_NPY_ALIGN = 64
_NPY_PLACEHOLDER_ROWS = 10**19 - 1  # as many digits as any int64 row count


def npy_header(descr: str, shape: tuple[int, ...], total: int | None = None) -> bytes:
    """An NPY 1.0 header; ``total`` pads it to a fixed size (to overwrite a placeholder)."""
    body = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {tuple(shape)!r}, }}"
    if total is None:
        total = -(-(_NPY_PREFIX + len(body) + 1) // _NPY_ALIGN) * _NPY_ALIGN
    size = total - _NPY_PREFIX
    if len(body) + 1 > size or size > 0xFFFF:
        raise ValueError(f"NPY header for shape {shape} does not fit in {total} bytes")
    text = body + " " * (size - len(body) - 1) + "\n"
    return _NPY_MAGIC + size.to_bytes(2, "little") + text.encode("latin1")


class NpySink(Sink):
    """The ``npy`` writer; see :func:`~lossctl.out.open_sink`.

    Raises:
        UsageError: standard output is a terminal.
    """

    binary = True
    row_pieces = True

    def __init__(self, fmt: str, columns, **kwargs: Any) -> None:
        if fmt != "npy":
            raise ValueError(f"NpySink writes npy, not {fmt!r}")
        super().__init__(fmt, columns, **kwargs)
        if self._dest.stdout_is_terminal():
            raise npy_terminal_error()
        self._dtype: Any = None
        self._header_at = 0
        self._header_size: int | None = None
        self._spool: Any = None

    def _shape(self, rows: int) -> tuple[int, ...]:
        if self.item_shape is not None:
            return (rows, *self.item_shape)
        return (rows,) if self.vector else (rows, len(self.columns))

    def _check_dtypes(self, parts: list[Any]) -> None:
        """Numbers only; the first block decides int64 or float64."""
        import numpy as np

        for p in parts:
            if p.dtype.kind in "USO":
                raise UsageError(
                    "NPY output holds numbers only, and this output has text columns",
                    hint=f"write it as csv, tsv or json ({opt('format', 'csv')})",
                    option="format",
                )
            if p.dtype.kind not in "iubf":
                raise ValueError(f"cannot write {p.dtype} columns to NPY")
        if self._dtype is None:
            all_int = all(p.dtype.kind in "iub" for p in parts)
            self._dtype = np.dtype("<i8") if all_int else np.dtype("<f8")
        elif self._dtype.kind == "i" and any(p.dtype.kind == "f" for p in parts):
            raise ValueError("float columns written after the NPY output was started as int64")

    def _write_pieces(self, pieces: Any) -> None:
        import numpy as np

        for p in pieces:
            self._check_dtypes([p])
            self._start()
            target = self._spool if self._spool is not None else self._fh
            if p.size:
                piece = np.ascontiguousarray(p, dtype=self._dtype)
                target.write(memoryview(piece).cast("B"))

    def _write_block(self, parts: list[Any], n: int) -> None:
        import numpy as np

        self._check_dtypes(parts)
        if len(parts) == 1:  # one array: written from its own buffer when it can be
            block = np.ascontiguousarray(parts[0], dtype=self._dtype)
        else:
            block = np.empty((n, self.row_size), dtype=self._dtype)
            j = 0
            for p in parts:
                block[:, j : j + p.shape[1]] = p
                j += p.shape[1]
        self._start()
        target = self._spool if self._spool is not None else self._fh
        if block.size:
            target.write(memoryview(block.reshape(-1)).cast("B"))

    def _begin(self) -> None:
        if self._dtype is None:  # no block before the first write or close: float64
            import numpy as np

            self._dtype = np.dtype("<f8")
        descr = self._dtype.str
        if self.nrows is not None:
            self._fh.write(npy_header(descr, self._shape(self.nrows)))
        elif self.output is not None and self._fh.seekable():  # fixed up at close
            # (our temporary file; a FIFO or device given as the output is spooled like stdout)
            placeholder = npy_header(descr, self._shape(_NPY_PLACEHOLDER_ROWS))
            self._header_at = self._fh.tell()
            self._header_size = len(placeholder)
            self._fh.write(placeholder)
        else:
            import tempfile

            # closed by _release
            self._spool = tempfile.TemporaryFile(prefix=TEMP_PREFIX)  # noqa: SIM115

    def _finish(self) -> None:
        descr = self._dtype.str
        if self.nrows is not None:
            if self.rows_written != self.nrows:
                raise ValueError(
                    f"the NPY sink was told nrows={self.nrows} "
                    f"but {self.rows_written} rows were written"
                )
        elif self._header_size is not None:
            end = self._fh.tell()
            self._fh.seek(self._header_at)
            self._fh.write(npy_header(descr, self._shape(self.rows_written), self._header_size))
            self._fh.seek(end)
        elif self._spool is not None:
            import shutil

            self._fh.write(npy_header(descr, self._shape(self.rows_written)))
            self._spool.seek(0)
            shutil.copyfileobj(self._spool, self._fh, 1 << 20)

    def _release(self) -> None:
        if self._spool is not None:
            import contextlib

            with contextlib.suppress(Exception):
                self._spool.close()
            self._spool = None
