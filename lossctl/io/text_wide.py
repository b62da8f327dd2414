"""The wide-row text engine: lines of more than :data:`WIDE_FIELDS` fields, parsed line by line
straight into numpy, never one Python object per cell on the usual path.

Why a third engine
    The ``csv`` module makes a Python string per cell (a line of a million fields is 60 MB of
    strings) and pyarrow's ``read_csv`` keeps per-column state for every column: a two-line CSV of
    a million columns took 6 GB either way. Here a line stays bytes: its field count is a
    ``bytes.count`` of the delimiter, its numbers come from ``np.fromstring(..., sep=delim)`` on
    byte spans of at most :data:`SPLIT_CELLS` fields, checked against the field count and a set of
    allowed bytes (digits, sign, ``.``, ``e``, spaces: our number grammar, nothing numpy accepts
    beyond it). A span that does not parse that way (``nan``, an empty cell, a typo) is split into
    strings and converted by :func:`lossctl.io.cells.convert`, the rules and messages the other
    engines use, at most :data:`SPLIT_CELLS` cells at a time.

Quotes
    A line holding a double quote is split by the ``csv`` module, exactly as the other engines
    split it, at the cost of one Python string per field of that line (about 60 bytes each).
    Selected string or bool columns are converted the same way. Memory stays bounded for numeric
    lines without quotes, the point of this engine; a line itself is held whole as bytes.

Errors
    Lines are read in groups of about ``ReadOptions.chunk_bytes``; a group is checked as the
    Python engine checks its whole input (UTF-8, unbalanced quotes, stray carriage returns, field
    counts, in that order), then converted row by row; every message comes from
    :mod:`lossctl.io.text_errors` and names the line. Rows wider than a block are yielded in
    column pieces (:meth:`lossctl.io.source.Source.pieces`).

Sniffing wide lines is :mod:`lossctl.io.sniff_wide`, on the same :class:`Fields`.
"""
from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING

import numpy as np

from lossctl.errors import InputError
from lossctl.io.cells import INT64_MAX, BadCell, cell_class, convert, split_lines
from lossctl.io.source import Piece
from lossctl.io.text_errors import (
    field_count_error,
    no_rows_hint,
    quote_error,
    stray_cr,
    utf8_error,
)

if TYPE_CHECKING:
    from lossctl.io.text import TextSource

__all__ = ["SPLIT_CELLS", "WIDE_FIELDS", "Fields", "cell_code", "field_count", "wide_chunks",
           "wide_pieces"]

#: Lines with more fields than this are read by this engine. Measured on a 2-core machine, 20 MB
#: CSVs of floats read whole by ``open_source().blocks()``, each a fresh process, min-max of 3
#: runs (the pyarrow engine / this one): 1,000 columns 0.55-0.75 s, 150 MB / 0.80-0.88 s, 66 MB;
#: 2,000 columns 1.01-1.12 s, 190 MB / 0.87-0.94 s, 64 MB; 4,000 columns 1.26-1.63 s, 220 MB /
#: 0.79-0.89 s, 67 MB; 32,000 columns 11.2 s, 735 MB / 0.74 s, 68 MB (at 100 columns pyarrow
#: takes 0.38 s and this engine 1.1 s: its cost is per line and per number, pyarrow's per column).
WIDE_FIELDS = 2048
#: Fields converted at a time (bounds the strings of a span that needs the per-cell rules).
SPLIT_CELLS = 1 << 16
#: The longest line read (as lossctl.io.sniff.MAX_LINE_BYTES).
_MAX_LINE = 1 << 30

# cell class codes (one byte per cell), and the kinds of a column
MISSING, INT, FLOAT, BOOL, BADNUM, STR, STR_L, ABSENT = range(8)  # STR_L: a string with a letter
_CODE = {"missing": MISSING, "int": INT, "float": FLOAT, "bool": BOOL, "badnum": BADNUM}
_KINDS = ("int", "float", "bool", "badnum", "str")
_KIND_CODE = {k: i for i, k in enumerate(_KINDS)}


# --- bytes -> fields ------------------------------------------------------------------------------


def _charset(delim: str, as_int: bool) -> bytes:
    """Bytes a span may hold to be handed to np.fromstring: our number grammar and separators
    (no space with a tab delimiter: numpy's whitespace separator would match it)."""
    chars = b"0123456789+-" + (b"" if as_int else b".eE")
    return chars + (b"\t" if delim == "\t" else b" \t" + delim.encode())


_WS_RE = re.compile(r"[ \t]+")
#: Bytes looked at in one numpy operation when counting whitespace runs.
_WINDOW = 1 << 20


def _blank(a: np.ndarray) -> np.ndarray:
    return (a == 32) | (a == 9)


def _ws_runs(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) offsets of the runs of non-blank bytes (space/tab blanks)."""
    word = ~_blank(np.frombuffer(raw, dtype=np.uint8))
    if not len(word):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    edges = np.diff(word.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _ws_count(raw: bytes) -> int:
    """Runs of non-blank bytes, a window at a time (at least one field)."""
    if b" " not in raw and b"\t" not in raw:
        return 1
    count, prev = 0, False
    for lo in range(0, len(raw), _WINDOW):
        word = ~_blank(np.frombuffer(raw, dtype=np.uint8, count=min(_WINDOW, len(raw) - lo), offset=lo))
        count += int(np.count_nonzero(word[1:] & ~word[:-1])) + int(bool(word[0]) and not prev)
        prev = bool(word[-1])
    return max(count, 1)


def field_count(line: str | bytes, delim: str) -> int:
    """Fields of one line, as :func:`~lossctl.io.cells.split_lines` would split it, counted
    without splitting it (a line holding a quote is split by the csv module)."""
    if delim == " ":
        return _ws_count(line.encode("utf-8") if isinstance(line, str) else line)
    if isinstance(line, bytes):
        if b'"' in line:
            return len(split_lines([line.decode("utf-8")], delim)[0])
        return line.count(delim.encode()) + 1
    if '"' in line:
        return len(split_lines([line], delim)[0])
    return line.count(delim) + 1


class Fields:
    """One line (bytes, without its line end) cut into fields.

    The field bounds are found with numpy; a delimited line holding a double quote is split by
    the ``csv`` module instead (``cells``), exactly as the other engines split it.
    """

    __slots__ = ("_bounds", "cells", "delim", "n", "raw")

    def __init__(self, raw: bytes, delim: str) -> None:
        self.raw, self.delim = raw, delim
        self.cells: list[str] | None = None
        self._bounds: np.ndarray | None = None
        if delim != " " and b'"' in raw:
            self.cells = split_lines([raw.decode("utf-8")], delim)[0]
            self.n = len(self.cells)
        elif delim == " ":
            self.n = field_count(raw, " ")
        else:
            self.n = raw.count(delim.encode()) + 1

    def _cuts(self) -> np.ndarray:
        """Delimited: the offsets of the delimiters. Whitespace: (starts, ends) of the fields."""
        if self._bounds is None:
            if self.delim == " ":
                starts, ends = _ws_runs(self.raw)
                if not len(starts):  # a line of blanks: one empty field
                    starts = ends = np.zeros(1, dtype=np.int64)
                self._bounds = np.stack((starts, ends))
            else:
                cuts = np.flatnonzero(np.frombuffer(self.raw, dtype=np.uint8) == ord(self.delim))
                self._bounds = cuts.astype(np.int32) if len(self.raw) < 2**31 else cuts
        return self._bounds

    def forget(self) -> None:
        """Drop the field bounds (they are found again when needed)."""
        self._bounds = None

    def bounds(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) byte offsets of fields ``a .. b-1`` (not for ``cells`` lines)."""
        cuts = self._cuts()
        if self.delim == " ":
            return cuts[0, a:b], cuts[1, a:b]
        starts = cuts[max(a - 1, 0) : b - 1] + 1
        ends = cuts[a : min(b, self.n - 1)]
        if a == 0:
            starts = np.concatenate(([0], starts))
        if b == self.n:
            ends = np.concatenate((ends, [len(self.raw)]))
        return starts, ends

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Byte range of fields ``a .. b-1`` (``a < b``)."""
        if a == 0 and b == self.n:
            return 0, len(self.raw)
        if self.delim != " " and self._bounds is None and b - a == 1 and a in (0, self.n - 1):
            d = self.delim.encode()  # the first or last field, without finding every delimiter
            return (0, self.raw.find(d)) if a == 0 else (self.raw.rfind(d) + 1, len(self.raw))
        cuts = self._cuts()
        if self.delim == " ":
            return int(cuts[0, a]), int(cuts[1, b - 1])
        return (0 if a == 0 else int(cuts[a - 1]) + 1), (len(self.raw) if b == self.n else int(cuts[b - 1]))

    def texts(self, a: int, b: int) -> list[str]:
        """Fields ``a .. b-1`` as strings, not stripped."""
        if self.cells is not None:
            return self.cells[a:b]
        lo, hi = self.span(a, b)
        text = self.raw[lo:hi].decode("utf-8")
        return _WS_RE.split(text.strip(" \t")) if self.delim == " " else text.split(self.delim)

    def cell(self, j: int) -> str:
        return self.texts(j, j + 1)[0]

    def line(self) -> str:
        return self.raw.decode("utf-8", "replace")

    def numbers(self, a: int, b: int, as_int: bool) -> np.ndarray | None:
        """Fields ``a .. b-1`` parsed by numpy, or None when a field is not plainly a number of
        our grammar (then :func:`~lossctl.io.cells.convert` decides)."""
        if self.cells is not None or b <= a:
            return None
        lo, hi = self.span(a, b)
        chunk = self.raw if (lo == 0 and hi == len(self.raw)) else self.raw[lo:hi]
        if not chunk or chunk.translate(None, _charset(self.delim, as_int)):
            return None  # (translate deletes the allowed bytes: nothing may be left)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", DeprecationWarning)
                v = np.fromstring(chunk, dtype=np.int64 if as_int else np.float64, sep=self.delim)
        except (ValueError, DeprecationWarning):
            return None
        if len(v) != b - a:
            return None
        if as_int and len(v) and (int(v.max()) == INT64_MAX or int(v.min()) == -INT64_MAX - 1):
            return None  # numpy clamps integers beyond int64 silently
        if not as_int and np.isinf(v).any():
            return None  # 1e400: no inf is spelled in this span (no letters), so it overflowed
        return v

    def codes(self, a: int, b: int) -> np.ndarray:
        """Class codes of fields ``a .. b-1`` (the classes of :func:`~lossctl.io.cells.cell_class`)."""
        if self.numbers(a, b, as_int=False) is None:
            return np.array([cell_code(c, self.delim) for c in self.texts(a, b)], dtype=np.uint8)
        starts, ends = self.bounds(a, b)
        lo = int(starts[0])
        span = np.frombuffer(self.raw, dtype=np.uint8, count=int(ends[-1]) - lo, offset=lo)
        floaty = (span == 46) | (span == 101) | (span == 69)  # . e E
        has = np.maximum.reduceat(floaty, starts - lo)  # (np.add would make it int64 first)
        out = np.where(has, FLOAT, INT).astype(np.uint8)
        for j in np.flatnonzero(~has & (ends - starts >= 19)).tolist():  # beyond int64?
            out[j] = cell_code(self.cell(a + j), self.delim)
        return out


def cell_code(cell: str, delim: str) -> int:
    s = cell.strip()
    k = cell_class(s, delim)
    if k == "str":
        return STR_L if any(ch.isalpha() for ch in s) else STR
    return _CODE[k]


# --- reading --------------------------------------------------------------------------------------


class _Plan:
    """How the selected columns convert: their runs of consecutive columns, and whether they
    are all numbers (int64 when all int)."""

    def __init__(self, kinds: list[str], idx: Sequence[int]) -> None:
        codes = np.fromiter((_KIND_CODE[k] for k in kinds), dtype=np.uint8, count=len(kinds))
        arr = np.arange(idx.start, idx.stop, idx.step) if isinstance(idx, range) else np.asarray(idx, dtype=np.int64)
        sel = codes[arr] if len(arr) else codes[:0]
        self.k = len(arr)
        self.as_int = bool(len(sel)) and bool((sel == 0).all())
        self.numeric = bool(((sel == 0) | (sel == 1)).all())
        self.idx = idx
        if isinstance(idx, range) and idx.step == 1:
            self.runs = [(idx.start, idx.stop)] if len(idx) else []
        else:
            cut = np.flatnonzero(np.diff(arr) != 1) + 1
            starts = np.concatenate(([0], cut)).tolist()
            ends = np.concatenate((cut, [len(arr)])).tolist()
            self.runs = [(int(arr[s]), int(arr[e - 1]) + 1) for s, e in zip(starts, ends) if e > s]

    def pieces(self, width: int) -> Iterator[list[tuple[int, int]]]:
        """The runs cut into pieces of ``width`` selected columns."""
        piece: list[tuple[int, int]] = []
        have = 0
        for a, b in self.runs:
            while a < b:
                take = min(b - a, width - have)
                piece.append((a, a + take))
                have += take
                a += take
                if have == width:
                    yield piece
                    piece, have = [], 0
        if piece:
            yield piece


def _span_values(f: Fields, a: int, b: int, as_int: bool, r: int) -> np.ndarray:
    """Fields ``a .. b-1`` of row ``r`` as numbers: numpy, or the per-cell rules."""
    v = f.numbers(a, b, as_int)
    if v is not None:
        return v
    parts = []
    for s in range(a, b, SPLIT_CELLS):
        e = min(b, s + SPLIT_CELLS)
        v = f.numbers(s, e, as_int) if b - a > SPLIT_CELLS else None
        if v is None:
            try:
                v = convert(f.texts(s, e), "int" if as_int else "float", s)
            except BadCell as bad:
                raise BadCell(r, s + bad.row, bad.value, bad.why) from None
        parts.append(v)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _runs_values(f: Fields, runs: list[tuple[int, int]], as_int: bool, r: int) -> np.ndarray:
    parts = [_span_values(f, a, b, as_int, r) for a, b in runs]
    if not parts:
        return np.zeros(0, dtype=np.int64 if as_int else np.float64)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _lines(fp: IO[bytes], src: TextSource) -> Iterator[tuple[list[bytes], list[int], int, tuple[int, ...]]]:
    """Groups of data lines of about ``chunk_bytes``: (lines without line ends, their physical
    numbers, the number of the group's first line, the numbers of its blank lines)."""
    if isinstance(fp, io.RawIOBase):
        fp = io.BufferedReader(fp, 1 << 16)
    lay = src.layout
    ws = lay.delimiter == " "
    line = lay.first_line
    group: list[bytes] = []
    numbers: list[int] = []
    blanks: list[int] = []
    first, size = line, 0
    while True:
        raw = fp.readline(_MAX_LINE + 1)
        if not raw:
            break
        if len(raw) > _MAX_LINE:
            from lossctl.io.sniff import line_too_long

            raise line_too_long()
        raw = (raw[:-1] if raw.endswith(b"\n") else raw).rstrip(b"\r")
        if (raw.strip(b" \t\r") if ws else raw) == b"":
            blanks.append(line)
        else:
            group.append(raw)
            numbers.append(line)
            size += len(raw)
        line += 1
        if group and size >= src.options.chunk_bytes:
            yield group, numbers, first, tuple(blanks)
            group, numbers, blanks, first, size = [], [], [], line, 0
    if group or blanks:
        yield group, numbers, first, tuple(blanks)


def _check(src: TextSource, group: list[bytes], numbers: list[int], row0: int) -> list[Fields]:
    """The checks of the Python engine, on one group of lines, in its order."""
    lay = src.layout
    d = lay.delimiter
    for r, raw in enumerate(group):
        if not raw.isascii():
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                raise utf8_error(numbers[r]) from None
    if d != " ":
        for r, raw in enumerate(group):
            if b'"' in raw and raw.count(b'"') % 2:
                raise quote_error(f"line {numbers[r]}", row0 + r)
    for r, raw in enumerate(group):
        if b"\r" in raw:
            raise stray_cr(f"line {numbers[r]}", row0 + r)
    fields = []
    for r, raw in enumerate(group):
        f = Fields(raw, d)
        if f.n != lay.nfields:
            raise field_count_error(f.line(), f.n, lay, location=f"line {numbers[r]}", row=row0 + r)
        fields.append(f)
    if lay.trailing:
        last = lay.nfields - 1
        for r, f in enumerate(fields):
            cell = f.cell(last)
            if cell.strip():
                raise src.cell_error(BadCell(r, last, cell, "trailing"), row0, f.line())
    return fields


def _rows(src: TextSource, plan: _Plan, fields: list[Fields], row0: int) -> np.ndarray:
    """One group of checked lines -> its (n, k) block."""
    if not plan.numeric:  # string or bool columns: the Python engine's conversion
        from lossctl.io.text_python import convert_rows

        rows = [f.texts(0, f.n) for f in fields]
        return convert_rows(src, rows, plan.idx, lambda r: fields[r].line(), row0)
    try:
        vals = [_runs_values(f, plan.runs, plan.as_int, r) for r, f in enumerate(fields)]
    except BadCell as bad:
        raise src.cell_error(bad, row0, fields[bad.row].line()) from None
    return vals[0][None, :] if len(vals) == 1 else np.stack(vals)  # int64 and float64 rows: float64


def _open(fp: IO[bytes], src: TextSource) -> Iterator[tuple[list[Fields], int]]:
    """Checked groups of lines and the index of their first row; records line numbers."""
    row = 0
    for group, numbers, first, blanks in _lines(fp, src):
        src.record(row, first, blanks)
        if not group:
            continue
        yield _check(src, group, numbers, row), row
        row += len(group)
    if row == 0:
        raise InputError("has no data rows", hint=no_rows_hint(src.layout))


def wide_chunks(src: TextSource, fp: IO[bytes], idx: Sequence[int]) -> Iterator[np.ndarray]:
    """The selected columns of the text in ``fp`` (after the header), one array per group."""
    plan = _Plan(src.layout.kinds, idx)
    for fields, row0 in _open(fp, src):
        yield _rows(src, plan, fields, row0)


def wide_pieces(src: TextSource, fp: IO[bytes], idx: Sequence[int], width: int) -> Iterator[Piece]:
    """Rows of the selected columns in column pieces of ``width`` columns."""
    plan = _Plan(src.layout.kinds, idx)
    for fields, row0 in _open(fp, src):
        for r, f in enumerate(fields):
            if not plan.numeric:
                row = _rows(src, plan, [f], row0 + r)
                for c in range(0, plan.k, width):
                    yield Piece(row[:, c : c + width], row0 + r, c, c + width >= plan.k)
                continue
            col = 0
            for runs in plan.pieces(width):
                try:
                    v = _runs_values(f, runs, plan.as_int, 0)
                except BadCell as bad:
                    raise src.cell_error(bad, row0 + r, f.line()) from None
                col += len(v)
                yield Piece(v[None, :], row0 + r, col - len(v), col >= plan.k)
