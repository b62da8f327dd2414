"""NPY arrays, read in row blocks.

Never ``np.load`` (but for a Fortran-order N-D file, memory-mapped, below): the header is
parsed with ``numpy.lib.format`` and rows are read in blocks with ``readinto`` (memory stays
bounded, pipes work). ``allow_pickle`` is never
used: an object array is refused before any of its bytes are read. ``(N,)`` and ``(N, 1)`` are
one column, ``(N, C)`` is C columns named ``"1".."C"`` (lazily, see
:func:`~lossctl.io.source.column_names`); a 0-D array is a :class:`~lossctl.errors.ShapeError`.
bool and integers become int64 (uint64 above the int64 range: float64), floats float64,
``<U``/UTF-8 ``S`` strings ``<U``; a file shorter than its header announces is an error naming
the row where the data ends. 2-D Fortran-order arrays are read whole (their rows are not
contiguous), then sliced.

An array of rank 3 or more (``(N, H, W, C)``, ``(N, C, T)``, ...) is an N-D source
(:attr:`~lossctl.io.source.Source.dims` ``= shape[1:]``, no columns): C-order data is read in
blocks of whole samples like rows, from files and streams alike, and reshaped to
``(n, *dims)``; a Fortran-order one is read from an ``.npy`` file through
``np.load(mmap_mode="r")``, a block of samples at a time, and refused from a stream or an NPZ
(its samples are not contiguous). Strings are refused in N-D arrays, and so is a 0-size
dimension after the first.

Rows too wide for a block (:meth:`~lossctl.io.source.Source.pieces`) are read in column pieces:
a C-order row is contiguous bytes, so a run of consecutive columns is read piece by piece with
``readinto`` (the columns before and after it are skipped). Other selections, and Fortran order,
read whole rows.
"""
from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Iterator, Sequence
from typing import IO

import numpy as np

from lossctl.errors import InputError, LossctlError, ShapeError
from lossctl.io.cells import INT64_MAX
from lossctl.io.options import ReadOptions
from lossctl.io.source import Block, Piece, Source, column_names, contiguous, is_all
from lossctl.io.spec import magic_hint
from lossctl.io.streams import looks_texty, read_upto, readinto_exact

__all__ = ["NpySource"]

NPY_READ_BYTES = 64 << 20  # at most this many bytes per readinto
MAP_BYTES = 32 << 20  # bytes of a Fortran-order N-D file mapped at once
_REWRITE = "the file was cut short: write it again"


def npy_header(fp: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Read magic + header from a stream; never touches the data (no unpickling possible)."""
    from numpy.lib import format as npformat

    head = read_upto(fp, 8)
    if len(head) < 8 or not head.startswith(b"\x93NUMPY"):
        raise _bad_magic(head)
    version = (head[6], head[7])
    header = _header_bytes(fp, version)  # its length is checked before it is read
    try:
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(io.BytesIO(header))
        elif version == (2, 0):
            shape, fortran, dtype = npformat.read_array_header_2_0(io.BytesIO(header))
        else:
            from numpy.lib import _format_impl

            shape, fortran, dtype = _format_impl._read_array_header(io.BytesIO(header), version)
    except LossctlError:
        raise
    except Exception as e:  # numpy raises ValueError, SyntaxError, tokenize.TokenError, ...
        raise InputError(f"has a corrupt NPY header ({type(e).__name__}: {str(e)[:100]})",
                         hint="re-create the file with numpy.save") from e
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise InputError(f"has a corrupt NPY header (negative dimension in shape {shape})",
                         hint="re-create the file with numpy.save")
    return shape, bool(fortran), np.dtype(dtype)


#: numpy's own limit (``max_header_size`` of ``np.load``): a longer header is refused unread.
MAX_HEADER_BYTES = 10_000


def _header_bytes(fp: IO[bytes], version: tuple[int, int]) -> bytes:
    """The header's length field and text, refusing a length beyond MAX_HEADER_BYTES before
    reading it (a file can claim a header of 4 GB)."""
    size_bytes = 2 if version == (1, 0) else 4
    raw = read_upto(fp, size_bytes)
    if len(raw) < size_bytes:
        raise InputError("is a truncated NPY file (it ends inside the header)",
                         hint="check that the file was written completely")
    length = int.from_bytes(raw, "little")
    if length > MAX_HEADER_BYTES:
        raise InputError(f"has an NPY header of {length} bytes, more than numpy's limit of "
                         f"{MAX_HEADER_BYTES}: it is corrupt or not made by numpy.save",
                         hint="re-create the file with numpy.save")
    text = read_upto(fp, length)
    if len(text) < length:
        raise InputError("is a truncated NPY file (it ends inside the header)",
                         hint="check that the file was written completely")
    return raw + text


def _bad_magic(head: bytes) -> InputError:
    if head and b"\x93NUMPY".startswith(head[:6]) and len(head) < 8:
        return InputError("is a truncated NPY file (it ends inside the header)",
                          hint="check that the file was written completely")
    if not head:
        return InputError("is empty, not an NPY file", hint="check that the file was written completely")
    hint = magic_hint(head)
    if hint is None and looks_texty(head):
        hint = "it looks like text: give it a .csv or .txt extension"
    return InputError("is not an NPY file (bad magic bytes)", hint=hint or "write it with numpy.save")


def check_npy_dtype(dtype: np.dtype) -> None:
    if dtype.hasobject:
        raise InputError(
            "refused: object arrays can run code when loaded (pickle), so lossctl never loads them",
            hint="save plain numbers or strings, e.g. np.save(path, a.astype(float)) or a.astype(str)",
        )
    if dtype.fields is not None or dtype.subdtype is not None:
        raise InputError(f"has a structured dtype {dtype}, not a plain array",
                         hint="save one plain (N, C) array, e.g. with numpy.lib.recfunctions.structured_to_unstructured")
    if dtype.kind not in "biufUS":
        raise InputError(f"has dtype {dtype}, which is not numbers or strings",
                         hint="save numbers (int/float/bool) or string labels")


def npy_shape(shape: tuple[int, ...]) -> tuple[int, int, tuple[int, ...] | None]:
    """``(rows, values per row, dims)``: dims is None for 1-D and 2-D arrays, else ``shape[1:]``."""
    if len(shape) == 0:
        raise ShapeError("holds a 0-D array (a single number), not rows",
                         hint="save an array of shape (N,) or (N, C)")
    n = shape[0]
    if len(shape) > 2:
        dims = tuple(shape[1:])
        if 0 in dims:
            raise ShapeError(f"holds a {len(shape)}-D array of shape {shape}, whose samples "
                             "hold no values (a dimension of size 0)",
                             hint="save an array with at least one value in every dimension")
        return n, math.prod(dims), dims
    k = 1 if len(shape) == 1 else shape[1]
    if k == 0:
        raise ShapeError(f"has shape {shape}: no columns", hint="save an array of shape (N,) or (N, C)")
    return n, k, None


class _BadText(Exception):
    """A '<U' NPY cell that is not valid text; the caller adds the absolute row."""

    def __init__(self, row: int) -> None:
        super().__init__(row)
        self.row = row


def npy_convert(raw: np.ndarray, order: str = "C") -> np.ndarray:
    """NPY dtype -> block dtype: bool/ints -> int64, floats -> float64, strings -> '<U'.
    ``order="F"``: floats that are widened come back column-major (the same one copy)."""
    kind = raw.dtype.kind
    if kind == "f":
        if order == "F" and raw.ndim == 2 and raw.dtype != np.float64:
            out = np.empty(raw.shape, dtype=np.float64, order="F")
            out[...] = raw
            return out
        return raw.astype(np.float64, copy=False) if raw.dtype.isnative else raw.astype(np.float64)
    if kind == "b":
        return raw.astype(np.int64)
    if kind == "i":
        return raw.astype(np.int64, copy=False) if raw.dtype.isnative else raw.astype(np.int64)
    if kind == "u":
        if raw.dtype.itemsize == 8 and raw.size and int(raw.max()) > INT64_MAX:
            return raw.astype(np.float64)
        return raw.astype(np.int64)
    if kind == "U":
        return _valid_text(raw if raw.dtype.isnative else raw.astype(raw.dtype.newbyteorder("=")))
    if kind == "S":
        try:
            return np.char.decode(raw, "utf-8")
        except UnicodeDecodeError as e:
            raise InputError("holds byte strings that are not UTF-8", hint="save strings as str ('<U')") from e
    raise InputError(f"unsupported dtype {raw.dtype}")  # pragma: no cover - filtered by check_npy_dtype


def _valid_text(out: np.ndarray) -> np.ndarray:
    """UCS-4 cells beyond U+10FFFF (or surrogates) are not text: refuse them (_BadText)."""
    if out.size:
        cps = np.ascontiguousarray(out).view(np.uint32)
        bad = (cps > 0x10FFFF) | ((cps >= 0xD800) & (cps <= 0xDFFF))
        if bad.any():
            raise _BadText(int(np.argmax(bad.reshape(out.shape[0], -1).any(axis=1))))
    return out


def final_dtype(dtype: np.dtype) -> np.dtype | None:
    """The NPY dtype if blocks can be read into it directly (already int64/float64, native)."""
    if dtype.isnative and dtype in (np.dtype(np.float64), np.dtype(np.int64)):
        return dtype
    return None


def _member_error(src: Source, e: Exception) -> Exception:
    """A corrupt NPZ member (zip and zlib errors) as an InputError; anything else as it is."""
    if src.kind != "npz":
        return e
    from lossctl.io.npz import _CORRUPT_HINT, _zip_errors

    if isinstance(e, _zip_errors()):
        return InputError(f"is a corrupt NPZ file ({e})", hint=_CORRUPT_HINT)
    return e


class NpySource(Source):
    """NPY read in row blocks with readinto; also the member reader of
    :class:`~lossctl.io.npz.NpzSource`."""

    def __init__(
        self,
        name: str,
        options: ReadOptions,
        *,
        opener: Callable[[], IO[bytes]] | None,
        stream: IO[bytes] | None = None,
        path: str | None = None,
        kind: str = "npy",
        size: int | None = None,
    ) -> None:
        super().__init__(name, kind, options)
        self._opener = opener
        self._path = path
        fp = stream if stream is not None else opener()
        try:
            self._read_header(fp, path, size)
        except BaseException:
            if stream is None:
                fp.close()
            raise
        if stream is not None:
            self._single_pass = True
            self._stream = fp
        else:
            fp.close()
            self._stream = None

    def _read_header(self, fp: IO[bytes], path: str | None, size: int | None) -> None:
        """Shape, order and dtype; the size check (files) and the empty check."""
        shape, fortran, dtype = npy_header(fp)
        check_npy_dtype(dtype)
        n, k, dims = npy_shape(shape)
        if dims is not None and dtype.kind in "US":
            raise InputError(f"holds a {len(shape)}-D array of strings (shape {shape}): N-D "
                             "inputs must be numbers",
                             hint="save class indices (integers), or string labels as (N,)")
        header_len = None
        if size is None and path is not None:
            size = os.fstat(fp.fileno()).st_size
            header_len = fp.tell()
        elif size is not None:
            header_len = fp.tell()
        self._shape, self._fortran, self._dtype = shape, fortran, dtype
        self.columns = [] if dims is not None else column_names(k)
        self.dims = dims
        self.nrows = n
        self._k = k
        self._rowbytes = k * dtype.itemsize
        if size is not None and header_len is not None and size - header_len < n * self._rowbytes:
            rows = (size - header_len) // self._rowbytes if self._rowbytes else 0
            raise InputError(
                f"is truncated: the header says {n} rows but the data holds {rows}",
                location=f"row {rows}", row=rows, hint=_REWRITE,
            )
        if n == 0:
            raise InputError(f"has no data rows (shape {shape})", hint="check that the array is not empty")
        if dims is not None and fortran and path is None:
            raise InputError(
                f"holds a Fortran-order {len(shape)}-D array, whose samples are not contiguous: "
                "it can be read a block at a time only from an .npy file",
                hint="save it in C order, e.g. np.save(path, np.ascontiguousarray(a))")

    def read(self, cols: list[int] | None = None) -> Block:
        """All rows at once into one preallocated array: peak memory is the result plus one raw
        block (int64/float64 files are read straight into the result, no block at all)."""
        idx = self._all() if self.dims is not None else self._check_cols(cols)
        kind = self._dtype.kind
        if self._fortran or kind in "US" or (kind == "u" and self._dtype.itemsize == 8):
            return super().read(cols)  # dtype or width decided per block
        out = _empty((self.nrows, len(idx)), np.float64 if kind == "f" else np.int64)
        self._begin_pass()
        fp = self._open_data()
        try:
            self._read_into(fp, out, idx)
        except LossctlError as e:
            raise e.with_source(self.name)
        except OSError as e:
            raise InputError(f"read failed: {e.strerror or e}", source=self.name) from e
        finally:
            fp.close()
        return Block(self._shaped(out), 0)

    def _read_into(self, fp: IO[bytes], out: np.ndarray, idx: Sequence[int]) -> None:
        all_cols = is_all(idx, self._k)
        if final_dtype(self._dtype) is not None and all_cols:
            got = readinto_exact(fp, memoryview(out.view(np.uint8).reshape(-1)))
            if got < out.nbytes:
                raise self._truncated(0, got)
            return
        for start, raw in self._raw_blocks(fp):  # casts bool/ints/floats in place
            out[start : start + len(raw)] = raw if all_cols else raw[:, idx]

    def _open_data(self) -> IO[bytes]:
        if self._stream is not None:
            fp, self._stream = self._stream, None
            return fp
        fp = self._opener()
        npy_header(fp)  # skip the header again
        return fp

    def _all(self) -> range:
        """Every value of a row (an N-D sample is read as one row of prod(dims) values)."""
        return range(self._k)

    def _shaped(self, arr: np.ndarray) -> np.ndarray:
        """``(n, k)`` rows as ``(n, *dims)`` samples (a view); tabular rows as they are."""
        return arr if self.dims is None else arr.reshape(len(arr), *self.dims)

    def _chunks(self, idx: list[int]) -> Iterator[np.ndarray]:
        if self.dims is not None:
            idx = self._all()
            if self._fortran:
                yield from self._mapped_chunks()
                return
        fp = self._open_data()
        self._cleanup.append(fp.close)
        try:
            for arr in self._chunks_from(fp, idx):
                yield self._shaped(arr)
        finally:
            fp.close()

    def _mapped_chunks(self) -> Iterator[np.ndarray]:
        """A Fortran-order N-D file: blocks of samples copied out of ``np.load(mmap_mode="r")``.

        A sample's values are ``nrows`` apart all over the file, so a block is copied in runs
        of columns (Fortran-order positions in a sample) of about :data:`MAP_BYTES` of the file,
        the file mapped again for each: the pages a run touched leave the resident set with it."""
        n, k, step = self.nrows, self._k, self.options.block_rows
        per_map = max(1, MAP_BYTES // max(1, n * self._dtype.itemsize))
        for s in range(0, n, step):
            m = min(step, n - s)
            part = _empty((m, k), self._dtype)  # columns in Fortran order of a sample
            for a in range(0, k, per_map):
                mm = self._map()
                part[:, a : a + per_map] = mm.reshape(n, k, order="F")[s : s + m, a : a + per_map]
                del mm
            yield npy_convert(np.ascontiguousarray(part.reshape((m, *self.dims), order="F")))

    def _map(self) -> np.ndarray:
        try:
            mm = np.load(self._path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as e:
            raise InputError(f"cannot map the array: {e}", hint=_REWRITE) from e
        if mm.shape != self._shape or mm.dtype != self._dtype or not mm.flags.f_contiguous:
            raise InputError("changed while it was read", hint="read it again")
        return mm

    def _rows_per_read(self) -> int:
        if self.dims is not None:  # whole blocks of samples (sized by the caller's budget)
            return self.options.block_rows
        return max(1, min(self.options.block_rows, NPY_READ_BYTES // max(1, self._rowbytes)))

    def _raw_blocks(self, fp: IO[bytes]) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, raw rows) read into one reused buffer: each view is valid until the next."""
        n, k = self.nrows, self._k
        rows_per = self._rows_per_read()
        buf = _empty((min(rows_per, n), k), self._dtype)
        done = 0
        while done < n:
            m = min(rows_per, n - done)
            view = buf[:m]
            got = readinto_exact(fp, memoryview(view.view(np.uint8).reshape(-1)))
            if got < view.nbytes:
                raise self._truncated(done, got)
            yield done, view
            done += m

    def _chunks_from(self, fp: IO[bytes], idx: list[int]) -> Iterator[np.ndarray]:
        row = 0
        try:
            for arr in self._chunks_raw(fp, idx):
                yield arr
                row += len(arr)
        except _BadText as bad:
            raise InputError(
                "holds a string that is not valid text (a code point beyond U+10FFFF or a "
                "surrogate)",
                location=f"row {row + bad.row}", row=row + bad.row,
                hint="re-create the array from valid str values",
            ) from None

    def _chunks_raw(self, fp: IO[bytes], idx: list[int]) -> Iterator[np.ndarray]:
        if self._fortran:
            yield from self._fortran_chunks(fp, idx)
        elif final_dtype(self._dtype) is not None and is_all(idx, self._k):
            yield from self._direct_chunks(fp)
        else:
            all_cols = is_all(idx, self._k)
            for _, view in self._raw_blocks(fp):
                conv = npy_convert(view if all_cols else view[:, idx],
                                   self.options.float_order(self.dims))
                yield conv.copy() if np.shares_memory(conv, view) else conv  # never hand out the buffer

    def _pieces(self, idx: Sequence[int], width: int) -> Iterator[Piece]:
        """Rows wider than ``width``: a run of consecutive columns is read piece by piece."""
        if self._fortran or not contiguous(idx):
            yield from super()._pieces(idx, width)
            return
        fp = self._open_data()
        self._cleanup.append(fp.close)
        try:
            yield from self._row_pieces(fp, idx[0], idx[-1] + 1, width)
        except Exception as e:
            err = _member_error(self, e)
            if err is e:
                raise
            raise err from e
        finally:
            fp.close()

    def _row_pieces(self, fp: IO[bytes], a: int, b: int, width: int) -> Iterator[Piece]:
        """Columns ``a .. b-1`` of every row, ``width`` at a time, read into one buffer."""
        item = self._dtype.itemsize
        buf = np.empty(min(width, b - a), dtype=self._dtype)
        for row in range(self.nrows):
            self._skip(fp, a * item, row)
            for c in range(0, b - a, width):
                view = buf[: min(width, b - a - c)]
                if readinto_exact(fp, memoryview(view.view(np.uint8))) < view.nbytes:
                    raise self._truncated(row, 0)
                try:
                    conv = npy_convert(view[None, :])
                except _BadText:
                    raise InputError(
                        "holds a string that is not valid text (a code point beyond U+10FFFF "
                        "or a surrogate)", location=f"row {row}", row=row,
                        hint="re-create the array from valid str values") from None
                conv = conv.copy() if np.shares_memory(conv, view) else conv
                yield Piece(conv, row, c, c + len(view) >= b - a)
            self._skip(fp, (self._k - b) * item, row)

    def _skip(self, fp: IO[bytes], nbytes: int, row: int) -> None:
        """Pass over ``nbytes`` of the data (seek in a file, read and drop from a stream)."""
        if nbytes <= 0:
            return
        if fp.seekable():
            fp.seek(nbytes, os.SEEK_CUR)
            return
        scratch = bytearray(min(nbytes, 1 << 20))
        while nbytes > 0:
            got = readinto_exact(fp, memoryview(scratch)[: min(nbytes, len(scratch))])
            if not got:
                raise self._truncated(row, 0)
            nbytes -= got

    def _fortran_chunks(self, fp: IO[bytes], idx: list[int]) -> Iterator[np.ndarray]:
        """Fortran order stores column after column: rows are not contiguous, so read it whole."""
        raw = np.empty(self._shape[::-1], dtype=self._dtype)
        got = readinto_exact(fp, memoryview(raw.reshape(-1).view(np.uint8)))
        if got < raw.nbytes:
            raise InputError("is truncated: the file ends before the data the header announces",
                             hint=_REWRITE)
        arr = raw.T.reshape(self.nrows, self._k)
        step = self.options.block_rows
        for s in range(0, self.nrows, step):
            yield npy_convert(np.ascontiguousarray(arr[s : s + step][:, idx]))

    def _direct_chunks(self, fp: IO[bytes]) -> Iterator[np.ndarray]:
        """Native int64/float64, all columns: read straight into each block, no copy."""
        n, k = self.nrows, self._k
        rows_per = self._rows_per_read()
        done = 0
        while done < n:
            m = min(rows_per, n - done)
            out = _empty((m, k), self._dtype)
            got = readinto_exact(fp, memoryview(out.view(np.uint8).reshape(-1)))
            if got < out.nbytes:
                raise self._truncated(done, got)
            yield out
            done += m

    def _truncated(self, done: int | None, got: int) -> InputError:
        rows = (done or 0) + got // max(1, self._rowbytes)
        return InputError(
            f"is truncated: the header says {self.nrows} rows but the data ends at row {rows}",
            location=f"row {rows}", row=rows, hint=_REWRITE,
        )


def _empty(shape: tuple[int, ...], dtype) -> np.ndarray:
    """``np.empty``, with a row too large for memory (a header can claim any shape) as a clean
    ShapeError instead of a MemoryError."""
    try:
        return np.empty(shape, dtype=dtype)
    except (MemoryError, ValueError) as e:
        size = math.prod(shape) * np.dtype(dtype).itemsize
        raise ShapeError(f"needs {size / 2**30:.1f} GiB for a block of {shape[0]} row(s) of "
                         f"{math.prod(shape[1:])} values, more than this machine can allocate",
                         hint="check the array's shape") from e
