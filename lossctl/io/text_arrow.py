"""The pyarrow text engine: ``pyarrow.csv.read_csv`` on chunks of ``ReadOptions.chunk_bytes``
cut at line ends, parsed one chunk ahead in a worker thread.

Every chunk is read into its own Arrow-allocated buffer (``pa.allocate_buffer`` filled by
``readinto``; the partial last line is copied to the next buffer): pyarrow is never handed
memory that Python owns or reuses. Releasing a Python buffer needs the GIL, and pyarrow's pool
threads release their input after the parse returns, so a Python-owned chunk could be released
during interpreter shutdown, which aborted the process ("terminate called without an active
exception").
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

import numpy as np

from lossctl.errors import InputError
from lossctl.io.arrow import arrow_column
from lossctl.io.cells import (
    FALSE,
    MISSING,
    TRUE,
    BadCell,
    check_range,
    convert,
    is_blank,
    split_lines,
)
from lossctl.io.readahead import Worker
from lossctl.io.sniff import MAX_LINE_BYTES, line_too_long
from lossctl.io.source import assemble
from lossctl.io.streams import readinto_exact
from lossctl.io.text_errors import (
    field_count_error,
    no_rows_hint,
    quote_error,
    utf8_error,
)

if TYPE_CHECKING:
    from lossctl.io.text import TextSource

__all__ = ["arrow_chunks", "byte_chunks"]

_CONVERSION_RE = re.compile(r"In CSV column #(\d+): CSV conversion error to (\w+)")


def arrow_chunks(src: TextSource, fp: IO[bytes], idx: list[int]) -> Iterator[np.ndarray]:
    """The selected columns of the text in ``fp`` (after the header), one array per chunk."""
    # Reading and parsing run one chunk ahead in a worker thread (pyarrow releases the GIL),
    # so they overlap with the conversion to numpy and with the consumer's own work.
    worker = Worker(_tables(src, fp, idx))
    src.track_worker(worker)
    tables = worker.items()
    row = 0
    try:
        for table, row0 in tables:
            arr = _table_to_numpy(src, table, idx, row0)
            row += len(arr)
            yield arr
        if row == 0:
            raise InputError("has no data rows", hint=no_rows_hint(src.layout))
    finally:
        tables.close()  # stops and joins the worker before the caller closes fp


def _tables(src: TextSource, fp: IO[bytes], idx: list[int]) -> Iterator[tuple[object, int]]:
    """Parsed chunks as (pyarrow Table, index of its first row); records line mapping."""
    lay = src.layout
    row = 0
    line = lay.first_line
    size = ChunkSize(src.options.chunk_bytes, len(set(idx)))
    for chunk in byte_chunks(fp, size):
        if lay.delimiter == " ":
            chunk = collapse_ws(chunk)
        nlines = count_lines(chunk)
        table = _parse_chunk(src, chunk, idx, line, row)
        size.saw(len(chunk), table.num_rows)
        blanks: tuple[int, ...] = ()
        if table.num_rows != nlines:  # pyarrow skipped empty lines: find them for locations
            blanks = blank_lines(chunk, line)
            if table.num_rows != nlines - len(blanks):
                msg = f"{table.num_rows} rows parsed, {nlines - len(blanks)} expected"
                raise _diagnose(src, chunk, line, row, msg)
        src.record(row, line, blanks)
        _check_range(src, chunk, table, idx, line, row)
        chunk = None  # free the text before waiting for the consumer (one chunk alive at a time)
        yield table, row
        row += table.num_rows
        line += nlines


def _check_range(src: TextSource, chunk, table, idx: list[int], line0: int, row0: int) -> None:
    """pyarrow reads a number beyond the float64 range (``1e400``) as inf: make that an error
    naming the cell, as the other engines do (``inf`` spelled out stays inf). The inf test is
    numpy's on the parsed pieces (no copy for columns without nulls), so that reading text
    never imports ``pyarrow.compute``."""
    import pyarrow as pa

    for i in idx:
        col = table.column(f"c{i}")
        if not pa.types.is_floating(col.type):
            continue
        infs = [np.isinf(p.to_numpy(zero_copy_only=False)) for p in col.chunks]
        if not any(m.any() for m in infs):
            continue
        where = np.flatnonzero(np.concatenate(infs))
        texts = _parse_chunk(src, chunk, [i], line0, row0, text=i).column(f"c{i}")
        try:
            check_range(texts.to_numpy(zero_copy_only=False), where, i)
        except BadCell as bad:
            raise src.cell_error(bad, row0, None) from None


def _block_size(chunk) -> int:
    """1 MB, or more when a line of the chunk is longer."""
    a = np.frombuffer(chunk, dtype=np.uint8)
    if len(a) <= 1 << 20:
        return 1 << 20
    ends = np.flatnonzero(a == 10)
    longest = int(np.max(np.diff(ends, prepend=-1))) if len(ends) else len(a)
    longest = max(longest, len(a) - (int(ends[-1]) + 1 if len(ends) else 0))
    return max(1 << 20, longest + 1)


def _parse_chunk(src: TextSource, chunk, idx: list[int], line0: int, row0: int,
                 text: int | None = None):
    """pyarrow.csv.read_csv on one chunk, with the sniffed column types (column ``text`` as
    strings)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    lay = src.layout
    names = [f"c{i}" for i in range(lay.nfields)]
    need = sorted(set(idx) | ({lay.nfields - 1} if lay.trailing else set()))
    ws = lay.delimiter == " "
    # pyarrow's blocks must hold the longest line (a line across two blocks is a "straddling
    # object" error); 1 MB blocks otherwise, so that the chunk is parsed in parallel. The
    # longest line is measured only when pyarrow says a line straddles: scanning every chunk
    # for its newlines cost a tenth of the reading time.
    block_size = 1 << 20
    read_options = pacsv.ReadOptions(column_names=names, use_threads=True, block_size=block_size)
    parse_options = pacsv.ParseOptions(
        delimiter="\t" if ws else lay.delimiter, quote_char=False if ws else '"',
        double_quote=True, escape_char=False, newlines_in_values=False, ignore_empty_lines=True,
    )
    while True:
        types = {}
        for i in need:
            kind = "str" if (i >= len(lay.kinds) or i in src.as_text or i == text) else lay.kinds[i]
            types[names[i]] = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}.get(kind, pa.string())
        convert_options = pacsv.ConvertOptions(
            column_types=types, include_columns=[names[i] for i in need],
            null_values=list(MISSING), true_values=list(TRUE), false_values=list(FALSE),
            strings_can_be_null=False, quoted_strings_can_be_null=True, check_utf8=True,
        )
        try:
            return pacsv.read_csv(pa.BufferReader(chunk), read_options=read_options,
                                  parse_options=parse_options, convert_options=convert_options)
        except pa.ArrowInvalid as e:
            msg = str(e)
            if "straddl" in msg and block_size == 1 << 20 and _block_size(chunk) > block_size:
                block_size = _block_size(chunk)
                read_options = pacsv.ReadOptions(column_names=names, use_threads=True,
                                                 block_size=block_size)
                continue
            m = _CONVERSION_RE.search(msg)
            if m and m.group(2) != "string" and int(m.group(1)) not in src.as_text:
                # a later value does not fit the sniffed type: hand this column over as text
                # (sticky) and convert it with the same rules as the Python engine
                src.as_text.add(int(m.group(1)))
                continue
            raise _diagnose(src, chunk, line0, row0, msg) from e


def _table_to_numpy(src: TextSource, table, idx: list[int], row0: int) -> np.ndarray:
    import pyarrow as pa

    lay = src.layout
    cols: dict[int, object] = {}
    try:
        if lay.trailing:  # the column after the trailing delimiter must stay empty
            vals = table.column(f"c{lay.nfields - 1}").to_numpy(zero_copy_only=False).astype(str)
            nz = np.flatnonzero(np.char.strip(vals) != "")
            if len(nz):
                raise BadCell(int(nz[0]), lay.nfields - 1, str(vals[nz[0]]), "trailing")
        for i in idx:
            if i in cols:
                continue
            col = table.column(f"c{i}")
            if pa.types.is_string(col.type):
                cols[i] = convert(col.to_numpy(zero_copy_only=False), lay.kinds[i], i)
            else:
                cols[i] = col  # typed by pyarrow: copied straight into the block below
    except BadCell as bad:
        raise src.cell_error(bad, row0, None)
    return assemble_arrow([cols[i] for i in idx], table.num_rows, src.options.float_order())


def _diagnose(src: TextSource, chunk, line0: int, row0: int, arrow_msg: str) -> InputError:
    """Find the line pyarrow choked on (Python scan of one chunk; error path only)."""
    lay = src.layout
    chunk = bytes(chunk)
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError as e:
        return utf8_error(line0 + chunk.count(b"\n", 0, e.start))
    row = row0
    for j, line in enumerate(text.split("\n")):
        if is_blank(line, lay.delimiter):
            continue
        line = line.rstrip("\r")
        if lay.delimiter != " " and line.count('"') % 2:
            return quote_error(f"line {line0 + j}", row)
        n = len(split_lines([line], lay.delimiter)[0])
        if n != lay.nfields:
            return field_count_error(line, n, lay, location=f"line {line0 + j}", row=row)
        row += 1
    return InputError(f"cannot parse ({arrow_msg.strip().splitlines()[0][:200]})",
                      location=f"lines {line0}-{line0 + text.count(chr(10))}")


# --- chunks of bytes ----------------------------------------------------------------------------------


class ChunkSize:
    """Bytes of text per chunk, so that the parsed chunk fits ``budget`` bytes too.

    Parsed, a text cell takes 8 bytes however short it is: a column of one-digit labels
    ("1\n", 2 bytes a row) is four times its text as int64, and once more as the numpy block.
    The first chunk assumes such rows; later ones follow the bytes per row seen so far.
    """

    #: the smallest chunk (pyarrow's per-call overhead dominates below this)
    FLOOR = 64 << 10

    def __init__(self, budget: int, ncols: int) -> None:
        self.budget = budget
        self.row_cells = max(ncols, 1)
        self.text = 0
        self.rows = 0

    def __int__(self) -> int:
        text_per_row = self.text / self.rows if self.rows else 2 * self.row_cells
        ratio = min(1.0, text_per_row / (8 * self.row_cells))
        return max(int(self.budget * ratio), min(self.FLOOR, self.budget))

    def saw(self, text_bytes: int, rows: int) -> None:
        self.text += text_bytes
        self.rows += rows


def byte_chunks(fp: IO[bytes], size: int | ChunkSize) -> Iterator[object]:
    """Yield ``pyarrow.Buffer`` chunks of about ``int(size)`` bytes (read again before each
    chunk) that end at a line end (the last may not). Each chunk is a fresh Arrow allocation
    that nothing else writes to."""
    import pyarrow as pa

    carry = b""  # the partial last line of the previous chunk (a copy)
    while True:
        cap = max(int(size), 1)
        while len(carry) >= cap:  # a line longer than the buffer: grow it
            if len(carry) > MAX_LINE_BYTES:
                raise line_too_long()
            cap = 2 * cap
        buf = pa.allocate_buffer(cap)
        view = memoryview(buf).cast("B")
        view[: len(carry)] = carry
        got = len(carry) + readinto_exact(fp, view[len(carry) :])
        if got < cap:  # end of input inside this chunk
            view.release()
            if got:
                yield buf.slice(0, got)
            return
        cut = _last_newline(view)
        carry = bytes(view) if cut < 0 else bytes(view[cut + 1 :])
        view.release()
        if cut >= 0:
            out, buf = buf.slice(0, cut + 1), None  # the consumer holds the only reference
            yield out
            out = None


def _last_newline(view: memoryview) -> int:
    """Index of the last b"\\n" in view, or -1 (copies only a tail of it in the usual case)."""
    n = len(view)
    window = 1 << 16
    while True:
        start = max(0, n - window)
        i = bytes(view[start:]).rfind(b"\n")
        if i >= 0:
            return start + i
        if start == 0:
            return -1
        window *= 8


def arrow_copy(data) -> object:
    """A copy of ``data`` (any bytes-like object) in an Arrow-allocated buffer."""
    import pyarrow as pa

    src = memoryview(data).cast("B")
    buf = pa.allocate_buffer(len(src))
    view = memoryview(buf).cast("B")
    view[:] = src
    view.release()
    return buf


def count_lines(chunk) -> int:
    """Number of lines in a chunk (a last line without a newline counts)."""
    a = np.frombuffer(chunk, dtype=np.uint8)
    if not len(a):
        return 0
    return int(np.count_nonzero(a == 10)) + (0 if a[-1] == 10 else 1)


def blank_lines(chunk, line0: int) -> tuple[int, ...]:
    """Physical numbers of the empty lines ("" or "\\r") of a chunk that starts a line."""
    a = np.frombuffer(chunk, dtype=np.uint8)
    nl = np.flatnonzero(a == 10)
    if not len(nl):
        return ()
    starts = np.empty_like(nl)
    starts[0] = 0
    starts[1:] = nl[:-1] + 1
    lens = nl - starts
    blank = lens == 0
    cr = lens == 1
    if cr.any():
        blank |= cr & (a[np.minimum(starts, len(a) - 1)] == 13)
    return tuple((np.flatnonzero(blank) + line0).tolist())


def collapse_ws(chunk):
    """Whitespace-run delimited bytes -> tab delimited: runs of spaces/tabs become one tab,
    runs at a line start or end disappear (numpy, no Python loop). Returns the chunk itself
    when it holds no whitespace, else an Arrow-allocated copy."""
    a = np.frombuffer(chunk, dtype=np.uint8)
    if not len(a):
        return chunk
    ws = (a == 32) | (a == 9) | (a == 13)
    if not ws.any():
        return chunk
    prev = np.empty_like(ws)
    prev[0] = False
    prev[1:] = ws[:-1]
    nxt = np.empty_like(ws)
    nxt[-1] = False
    nxt[:-1] = ws[1:]
    starts = np.flatnonzero(ws & ~prev)
    ends = np.flatnonzero(ws & ~nxt)
    before_nl = np.ones(len(starts), dtype=bool)
    has_before = starts > 0
    before_nl[has_before] = a[starts[has_before] - 1] == 10
    after_nl = np.ones(len(ends), dtype=bool)
    has_after = ends < len(a) - 1
    after_nl[has_after] = a[ends[has_after] + 1] == 10
    keep = ~ws
    keep[starts[~(before_nl | after_nl)]] = True
    out = a[keep]  # a copy: the only whitespace left is the first byte of each inner run
    out[(out == 32) | (out == 9) | (out == 13)] = 9
    return arrow_copy(out)


# --- typed columns into blocks ----------------------------------------------------------------------


def _arrow_dtype(col) -> np.dtype:
    """The numpy dtype a typed pyarrow column becomes in a block."""
    import pyarrow as pa

    if col.null_count or pa.types.is_floating(col.type):
        return np.dtype(np.float64)
    return np.dtype(np.int64)  # int64 / bool without nulls


def assemble_arrow(cols: list, n: int, order: str = "C") -> np.ndarray:
    """Like :func:`~lossctl.io.source.assemble`, but typed pyarrow columns are copied piece by
    piece into the block."""
    if not any(not isinstance(c, np.ndarray) for c in cols):
        return assemble(cols, n, order)
    import pyarrow as pa

    if any(isinstance(c, np.ndarray) and c.dtype.kind == "U" for c in cols):
        return assemble([c if isinstance(c, np.ndarray) else arrow_column(c, "") for c in cols], n)
    dtypes = [c.dtype if isinstance(c, np.ndarray) else _arrow_dtype(c) for c in cols]
    ints = all(d == np.int64 for d in dtypes)
    out = np.empty((n, len(cols)), dtype=np.int64 if ints else np.float64, order="C" if ints else order)
    for j, c in enumerate(cols):
        if isinstance(c, np.ndarray):
            out[:, j] = c
            continue
        r = 0
        for piece in c.chunks:
            m = len(piece)
            if piece.null_count or pa.types.is_boolean(piece.type):
                import pyarrow.compute as pc

                if piece.null_count:
                    piece = pc.cast(piece, pa.float64()).fill_null(np.nan)
                else:
                    piece = pc.cast(piece, pa.int64())
            out[r : r + m, j] = piece.to_numpy(zero_copy_only=False)
            r += m
    return out
