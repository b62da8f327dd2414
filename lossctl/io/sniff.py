"""What a text input looks like, decided on its first bytes: encoding, delimiter, header, kinds.

Text is UTF-8 with or without BOM, LF or CRLF, blank lines skipped (they still count for line
numbers). UTF-16/32, binary data (a hint names the format its magic bytes belong to, or its
compression) and old Mac CR-only line ends are errors with the command that converts them.

Delimiter
    Sniffed from the first :data:`SNIFF_BYTES` (64 KB): tab, ``;``, ``,`` or runs of
    spaces/tabs; the candidate whose field count is the same on the most lines wins (at least
    80% of the lines and more than one field), ties going to that order, so ``0,5;0,25`` is a
    semicolon file with decimal commas (an error with a hint) and ``1, 2, 3`` is a comma file.
    With no winner: tab for ``.tsv``, else comma. ``ReadOptions.delimiter`` forces one. When
    every line ends with a delimiter, the empty last field is dropped.

Header rule (``ReadOptions.header=None``), decided on the same sample:

    1. if some cell of the first row is a string (not a number, bool or missing value) and the
       cells below it in its column are all numbers or bools, the first row is a header; so
       it is when that string has a letter and no cell below has one, except numbers and
       bools (``tags`` above ``0;2``/``1``/``2 0``, ``date`` above ``2024-01-31``);
    2. otherwise, if the first row holds any number or bool, it is data;
    3. otherwise (every column is strings, e.g. string labels), the first row is a header only
       if none of its values reappears below in its column *and* some column repeats values
       below (labels repeat, a column name does not): ``label/cat/dog/cat`` has a header,
       ``cat/dog/cat`` has none, and ``label/cat/dog`` (too short to tell) has none;
    4. a file of one line of strings is a header (and then an error: no data rows).

    ``ReadOptions.header`` (True/False) overrides the rule.

Column kinds
    A column's kind (int, float, bool, string) comes from the sample: any non-numeric value
    there makes it a string column (string labels); a non-numeric value further down in a
    numeric column is an error that names the line.

Wide lines
    Sample lines of more than :data:`~lossctl.io.text_wide.WIDE_FIELDS` fields are never split
    into a string per cell: fields are counted with ``str.count`` and the same rules are
    applied to per-cell class codes computed with numpy (:func:`lossctl.io.sniff_wide.decide`):
    all numbers -> float columns, int where every sampled cell is an integer; the header rule as
    above.

The sizes are module constants (tests shrink them): :data:`SAMPLE_BYTES` is read up front,
:data:`SNIFF_BYTES` of it (whole lines, at most :data:`SNIFF_LINES`) decide.
"""
from __future__ import annotations

import codecs
import itertools
from collections import Counter
from collections.abc import Sequence
from lossctl.record import record
from typing import IO

import numpy as np

from lossctl.errors import InputError
from lossctl.io import sniff_wide, text_wide
from lossctl.io.cells import TYPED, cell_class, column_kind, odd_quote_line, split_lines
from lossctl.io.options import ReadOptions
from lossctl.io.spec import magic_hint
from lossctl.io.streams import read_upto
from lossctl.io.text_errors import (
    badnum_error,
    only_header_error,
    quote_error,
    stray_cr,
    utf8_error,
)

__all__ = ["Layout", "read_sample", "sniff"]

SAMPLE_BYTES = 1 << 20  # read up front (at least; more when ReadOptions.small_text_bytes is larger)
SNIFF_BYTES = 64 << 10  # delimiter, header and column types are decided on this much
SNIFF_LINES = 2000
MAX_LINE_BYTES = 1 << 30
SNIFF_ORDER = ("\t", ";", ",", " ")


@record
class Layout:
    delimiter: str
    header: bool
    names: Sequence[str]  # a list, or lazy names beyond lossctl.io.source.WIDE_COLUMNS columns
    nfields: int  # fields per line in the file (including a trailing empty one)
    trailing: bool  # every line ends with a delimiter: the last (empty) field is dropped
    kinds: list[str]  # per visible column: int / float / bool / str
    data_offset: int  # byte offset of the first line after the header
    first_line: int  # 1-based physical line number at data_offset
    guessed: bool = False  # the header was a guess (text above text): the reader says so
    wide: bool = False  # lines of more than text_wide.WIDE_FIELDS fields: the wide-row engine


def line_too_long() -> InputError:
    return InputError("has a line longer than 1 GB", hint="check that this is a text table")


def read_sample(fp: IO[bytes], options: ReadOptions) -> tuple[bytes, bool]:
    """The first bytes of a text input (whole inputs up to ``small_text_bytes``) and whether
    they are all of it. Very long lines: at least two whole lines are read (in steps of
    :data:`SAMPLE_BYTES`, so a sample of two 6 MB lines is not read as 16 MB)."""
    want = max(SAMPLE_BYTES, options.small_text_bytes) + 1
    data = read_upto(fp, want)
    if len(data) < want:
        return data, True
    parts = [data]
    size, newlines = len(data), data.count(b"\n")
    while newlines < 2:
        more = read_upto(fp, SAMPLE_BYTES)
        if not more:
            return b"".join(parts), True
        parts.append(more)
        size += len(more)
        newlines += more.count(b"\n")
        if size > MAX_LINE_BYTES:
            raise line_too_long()
    return b"".join(parts), False


def sniff(sample: bytes, eof: bool, options: ReadOptions, ext: str) -> Layout:
    """Decide encoding, delimiter, header and column kinds from the start of a text input."""
    _check_encoding(sample)
    bom = len(codecs.BOM_UTF8) if sample.startswith(codecs.BOM_UTF8) else 0
    body = sample[bom:]
    _check_text(sample, body[:SNIFF_BYTES])
    lines = _sample_lines(body, eof)
    # leading blank lines are skipped (and counted)
    lead = 0
    while lead < len(lines) and lines[lead].strip(b" \t") == b"":
        lead += 1
    content = list(itertools.islice(((i, x) for i, x in enumerate(lines)
                                     if i >= lead and x.strip(b" \t") != b""), SNIFF_LINES))
    del lines
    if not content:
        raise InputError("has no data rows", hint="the input is empty")
    long = any(len(x) >= text_wide.WIDE_FIELDS for _, x in content)  # wide lines stay bytes
    if not long:
        content = _decoded(content)
    texts = [x for _, x in content]
    delim = options.delimiter or sniff_delimiter(texts, ext)
    bad = odd_quote_line(texts, delim)
    if bad is not None:
        raise quote_error(f"line {content[bad][0] + 1}")
    wide = long and is_wide(texts, delim)
    if long and not wide:
        content = _decoded(content)
        texts = [x for _, x in content]
    decide = sniff_wide.decide if wide else _decide
    header, guessed, nfields, trailing, names, kinds = decide(texts, content, delim, options)
    if header and eof and len(content) == 1:
        raise only_header_error()
    consumed = content[0][0] + 1 if header else lead  # lines before the data: blanks, header
    offset = _line_offset(body, consumed)
    return Layout(delim, header, names, nfields, trailing, kinds, bom + offset, consumed + 1,
                  guessed, wide)


def _decoded(content: list[tuple[int, bytes]]) -> list[tuple[int, str]]:
    return [(i, x.decode("utf-8")) for i, x in content]


def is_wide(texts: list[str] | list[bytes], delim: str) -> bool:
    """Whether a sample line has more than :data:`~lossctl.io.text_wide.WIDE_FIELDS` fields
    (then the wide-row engine reads the input)."""
    limit = text_wide.WIDE_FIELDS
    return any(len(x) >= limit and text_wide.field_count(x, delim) > limit for x in texts)


def decide_header(options: ReadOptions, detect, first_cells) -> tuple[bool, bool]:
    """(header, guessed): the user's ``header``, else ``detect()`` -> (header, certain); an
    uncertain header whose cells (``first_cells()``) are all known labels is data."""
    if options.header is not None:
        return options.header, False
    header, certain = detect()
    if header and not certain and options.known_labels is not None:
        known = set(options.known_labels)
        header, certain = (False, True) if all(c in known for c in first_cells()) else (True, True)
    return header, header and not certain


def _decide(texts: list[str], content: list[tuple[int, str]], delim: str, options: ReadOptions
            ) -> tuple[bool, bool, int, bool, list[str], list[str]]:
    """(header, guessed, nfields, trailing, names, kinds) of the sample lines."""
    rows = split_lines(texts, delim)
    header, guessed = decide_header(options, lambda: detect_header(rows, delim),
                                    lambda: (c.strip() for c in rows[0]))
    first = rows[0]
    data = rows[1:] if header else rows
    nfields, trailing = _fields(first, data, header)
    width = nfields - (1 if trailing else 0)
    names = _names(first, width) if header else [str(j + 1) for j in range(width)]
    line_of = [content[r + (1 if header else 0)][0] + 1 for r in range(len(data))]
    kinds = _kinds(data, nfields, width, delim, names, line_of)
    return header, guessed, nfields, trailing, names, kinds


# --- encoding and lines ---------------------------------------------------------------------------


def _check_encoding(sample: bytes) -> None:
    if sample.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise InputError("file is UTF-32", hint="convert it with iconv -f UTF-32 -t UTF-8")
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(sample[:4096]):
        raise InputError("file is UTF-16", hint="convert with iconv -f UTF-16 -t UTF-8 in.csv > out.csv")


def _check_text(sample: bytes, head: bytes) -> None:
    if b"\x00" in head or _control_ratio(head) > 0.01:
        hint = magic_hint(sample) or "give a CSV/TSV/text file, or an .npy/.npz/.parquet/.feather file by its extension"
        raise InputError("is not a text file (binary data)", hint=hint)
    if b"\r" in head and b"\n" not in head and head.count(b"\r") > 1:
        raise InputError("uses old Mac line ends (CR only)", hint="convert with: tr '\\r' '\\n' < in.csv > out.csv")


def _sample_lines(body: bytes, eof: bool) -> list[bytes]:
    """The whole lines of the first SNIFF_BYTES, checked to be UTF-8, CR stripped. When that is
    one very long line that may be a header (it holds a byte no number has), the line below it
    too, so that the header rule and the column kinds see data."""
    end = len(body) if eof else body.rfind(b"\n") + 1
    stop = end
    if end > SNIFF_BYTES:
        nl = body.find(b"\n", SNIFF_BYTES)
        stop = min(end, nl + 1) if nl >= 0 else end
    lines = _split(body, 0, stop)
    nonblank = [x for x in lines if x.strip(b" \t\r")]
    if len(nonblank) == 1 and stop < end and nonblank[0].translate(None, _NUMBER_BYTES):
        while stop < end:
            nl = body.find(b"\n", stop)
            nxt = end if nl < 0 else min(end, nl + 1)
            more = _split(body, stop, nxt)
            lines += more
            stop = nxt
            if more[0].strip(b" \t\r"):
                break
    ascii_ = body[:stop].isascii() if stop <= _COPY_LIMIT else all(x.isascii() for x in lines)
    if not ascii_:
        try:
            str(memoryview(body)[:stop], "utf-8")
        except UnicodeDecodeError as e:
            raise utf8_error(1 + body.count(b"\n", 0, e.start)) from e
    if body.find(b"\r", 0, stop) < 0:  # no CR at all: nothing to strip or refuse
        return lines
    lines = [x.rstrip(b"\r") for x in lines]
    for j, line in enumerate(lines):  # a CR left is inside a line (old Mac ends, a stray byte)
        if b"\r" in line:
            raise stray_cr(f"line {j + 1}")
    return lines


#: The bytes of numbers, delimiters and blanks (a line of only these is no header).
_NUMBER_BYTES = b"0123456789+-.eE,;\t \r"


#: Regions up to this size are copied and split in C; longer ones (one line of 100 MB) are
#: cut a line at a time, so that the region is not held twice.
_COPY_LIMIT = 4 << 20


def _split(body: bytes, start: int, stop: int) -> list[bytes]:
    """The lines of ``body[start:stop]`` (a last line without its line end included)."""
    if stop - start <= _COPY_LIMIT:
        region = body[start:stop]
        lines = region.split(b"\n")
        if not region or region.endswith(b"\n"):
            lines.pop()
        return lines
    lines = []
    pos = start
    while pos < stop:
        nl = body.find(b"\n", pos, stop)
        e = nl if nl >= 0 else stop
        lines.append(body[pos:e])
        pos = e + 1
    return lines


def _line_offset(body: bytes, nlines: int) -> int:
    """Byte offset just after the first ``nlines`` lines."""
    offset = 0
    for _ in range(nlines):
        nl = body.find(b"\n", offset)
        offset = nl + 1 if nl >= 0 else len(body)
    return offset


def _looks_utf16(b: bytes) -> bool:
    if len(b) < 8:
        return False
    even, odd = b[0::2], b[1::2]
    return (odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even)) or (
        even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd)
    )


def _control_ratio(b: bytes) -> float:
    if not b:
        return 0.0
    a = np.frombuffer(b, dtype=np.uint8)
    bad = (a < 32) & (a != 9) & (a != 10) & (a != 13) & (a != 12)
    return float(bad.mean())


# --- fields, names, kinds ---------------------------------------------------------------------------


def _fields(first: list[str], data: list[list[str]], header: bool) -> tuple[int, bool]:
    """Fields per line, and whether every line ends with a delimiter (an empty last field)."""
    nfields = len(first)
    trailing = False
    if data:
        counts = Counter(len(r) for r in data)
        mode = counts.most_common(1)[0][0]
        if header and mode == nfields + 1 and all(r[-1].strip() == "" for r in data if len(r) == mode):
            nfields, trailing = mode, True
        elif (nfields > 1 and all(len(r) == nfields and r[-1].strip() == "" for r in data)
              and (not header or first[-1].strip() == "")):
            trailing = True
    return nfields, trailing


def _names(first: list[str], width: int) -> list[str]:
    names = [c.strip() or str(j + 1) for j, c in enumerate(first[:width])]
    return names + [str(j + 1) for j in range(len(names), width)]


def _kinds(data: list[list[str]], nfields: int, width: int, delim: str, names: list[str],
           line_of: list[int]) -> list[str]:
    """Column kinds from the data rows of the sample; a locale-formatted number is an error."""
    kinds = []
    for j in range(width):
        classes = Counter(cell_class(r[j].strip(), delim) for r in data if len(r) == nfields)
        kind = column_kind(classes)
        if kind == "badnum":
            for r_i, r in enumerate(data):
                if len(r) == nfields and cell_class(r[j].strip(), delim) == "badnum":
                    raise badnum_error(r[j].strip(), names[j], f"line {line_of[r_i]}", r_i)
        kinds.append(kind)
    return kinds


# --- delimiter and header -----------------------------------------------------------------------------


def sniff_delimiter(lines: list[str], ext: str) -> str:
    """Pick the delimiter whose field count is the same on the most lines (see module doc)."""
    lines = lines[:200]
    best = None
    for order, d in enumerate(SNIFF_ORDER):
        sep = d.encode() if lines and isinstance(lines[0], bytes) else d
        if d != " " and not any(sep in x for x in lines):
            continue
        short = [x if isinstance(x, str) else x.decode("utf-8") for x in lines
                 if len(x) < text_wide.WIDE_FIELDS]
        counts = Counter(len(r) for r in split_lines(short, d)) if short else Counter()
        counts.update(text_wide.field_count(x, d) for x in lines if len(x) >= text_wide.WIDE_FIELDS)
        mode, hits = counts.most_common(1)[0]
        frac = hits / len(lines)
        if mode > 1 and frac >= 0.8:
            score = (frac, -order)
            if best is None or score > best[0]:
                best = (score, d)
    if best is not None:
        return best[1]
    return "\t" if ext == ".tsv" else ","


def _has_letter(s: str) -> bool:
    return any(ch.isalpha() for ch in s)


def detect_header(rows: list[list[str]], delim: str) -> tuple[bool, bool]:
    """The header rule of the module docstring, on parsed sample rows: (header, certain).

    Text above numbers is a header for certain; a first line of text above text (rule 3) is a
    guess, which the reader reports."""
    first = [c.strip() for c in rows[0]]
    below = rows[1:]
    cls0 = [cell_class(c, delim) for c in first]
    if "str" not in cls0:
        return False, True
    if not below:  # one line of strings: a header (then: no data rows)
        return all(c == "str" for c in cls0), True
    if _string_above_values(first, cls0, below, delim):
        return True, True
    if any(c in TYPED for c in cls0):
        return False, True
    return _names_above_repeats(first, cls0, below), False


def _string_above_values(first: list[str], cls0: list[str], below: list[list[str]], delim: str) -> bool:
    """Rule 1: a string above numbers/bools, or a word above cells without letters."""
    for j, c in enumerate(cls0):
        if c != "str":
            continue
        col = [r[j].strip() for r in below if j < len(r)]
        classes = [cell_class(x, delim) for x in col]
        kept = [(x, k) for x, k in zip(col, classes) if k != "missing"]
        if not kept:
            continue
        if all(k in TYPED for _, k in kept):
            return True  # a string above numbers/bools
        if _has_letter(first[j]) and all(k in TYPED or not _has_letter(x) for x, k in kept):
            return True  # a word above cells without letters ("0;2", "2024-01-01", "1 2")
    return False


def _names_above_repeats(first: list[str], cls0: list[str], below: list[list[str]]) -> bool:
    """Rule 3: all strings; a header if no first value reappears and some column repeats."""
    repeats = False
    for j, c in enumerate(cls0):
        if c != "str":
            continue
        vals = [r[j].strip() for r in below if j < len(r)]
        if first[j] in vals:
            return False
        if len(set(vals)) < len(vals):
            repeats = True
    return repeats
