"""Text lines -> fields -> values: the splitting and number rules both text engines share.

Fields
    Quotes (``"``, doubled to escape) work in delimited mode, not in whitespace mode; a quoted
    value cannot span lines. In delimited mode a line of only spaces is a row with one field (a
    field-count error); in whitespace mode it is blank.

Numbers
    ``[+-]digits`` is an integer (int64; beyond int64 it is a float), ``1.5 .5 5. 1e-3`` and
    ``nan``/``inf``/``infinity`` in any case and with a sign are floats, spaces around a value
    are ignored. Missing values are an empty cell, ``NA``, ``N/A``, ``n/a``, ``NULL``, ``null``
    and ``None`` (NaN in numeric columns; string columns keep them as literal strings); bools are
    ``true``/``false`` as written in lower, title or upper case. Digit grouping (``1,234.5``,
    ``1.234,5``, ``1'234``) and, where ``,`` is not the delimiter, a decimal comma (``0,5``) are
    errors with a hint about the locale and the delimiter; in a comma file a quoted ``"0,5"`` is
    a string (a multi-label cell).

A column's kind (int, float, bool, str) comes from its cells in the sniffed sample
(:func:`column_kind`); :func:`convert` is the one place text becomes numbers.
"""
from __future__ import annotations

import csv
import math
import re
from collections import Counter

import numpy as np

__all__ = ["BadCell", "cell_class", "check_range", "column_kind", "convert", "overflows",
           "split_lines"]

# Missing values in numeric columns. String columns keep these as literal strings.
MISSING = ("", "NA", "N/A", "n/a", "NULL", "null", "None")
MISSING_SET = frozenset(MISSING)
TRUE = ("true", "True", "TRUE")
FALSE = ("false", "False", "FALSE")
_BOOL_SET = frozenset(TRUE + FALSE)
# [0-9], not \d: Python's \d also matches other scripts' digits, which pyarrow rejects.
_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf(?:inity)?)", re.IGNORECASE
)
# Numbers written for a locale: digit grouping (1,234.5  1.234,5  1'234) anywhere, and a
# decimal comma (0,5) where ',' is not the delimiter (in a comma file "0,5" must be quoted and
# is more likely a multi-label cell). Both are errors with a hint, never silently strings.
_THOUSANDS_RE = re.compile(
    r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[+-]?[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+|[+-]?[0-9]{1,3}(?:'[0-9]{3})+(?:\.[0-9]+)?"
)
_DECIMAL_COMMA_RE = re.compile(r"[+-]?[0-9]+,[0-9]+")
INT64_MAX = 2**63 - 1
#: cell classes that are a value of a typed (non-string) column
TYPED = frozenset(("int", "float", "bool", "badnum"))


class BadCell(Exception):
    """Internal: a cell that does not convert; turned into an InputError with its line."""

    def __init__(self, row: int, col: int, value: str, why: str = "") -> None:
        super().__init__(value)
        self.row, self.col, self.value, self.why = row, col, value, why


# --- fields ---------------------------------------------------------------------------------------


def split_ws(line: str) -> list[str]:
    s = line.strip(" \t\r")
    return re.split(r"[ \t]+", s) if s else [""]


def _no_field_limit() -> None:
    """The csv module refuses fields over 131,072 characters; a cell is as long as its line."""
    if csv.field_size_limit() < 1 << 30:
        csv.field_size_limit(1 << 30)


def split_lines(lines: list[str], delim: str) -> list[list[str]]:
    """Split lines into fields; a quote never spans lines (each line is parsed on its own)."""
    if delim == " ":
        return [split_ws(x) for x in lines]
    _no_field_limit()
    reader = csv.reader(lines, delimiter=delim, quotechar='"', doublequote=True, strict=False)
    rows = []
    try:
        for fields in reader:
            if reader.line_num != len(rows) + 1:  # an open quote swallowed the next line: redo singly
                return [next(csv.reader([x], delimiter=delim, quotechar='"', strict=False), [""])
                        for x in lines]
            rows.append(fields)
    except csv.Error:  # a stray \r inside a line: split it as a space here; the parser names it
        return [next(csv.reader([x.replace("\r", " ")], delimiter=delim, quotechar='"',
                                strict=False), [""]) for x in lines]
    return rows


def odd_quote_line(lines: list[str] | list[bytes], delim: str) -> int | None:
    """Index of the first line (str or bytes) with an unbalanced double quote (delimited
    mode), else None."""
    if delim == " ":
        return None
    for i, x in enumerate(lines):
        q = '"' if isinstance(x, str) else b'"'
        if q in x and x.count(q) % 2:  # type: ignore[arg-type]
            return i
    return None


def is_blank(line: str, delim: str) -> bool:
    return (line.strip(" \t\r") if delim == " " else line.rstrip("\r")) == ""


# --- cells ----------------------------------------------------------------------------------------


def cell_class(s: str, delim: str = ",") -> str:
    """Classify one stripped cell: missing / int / float / bool / badnum / str."""
    if s in MISSING_SET:
        return "missing"
    if _INT_RE.fullmatch(s):
        # (long digit strings never reach int(): Python limits int() to 4300 digits)
        return "int" if len(s) <= 20 and abs(int(s)) <= INT64_MAX else "float"
    if _FLOAT_RE.fullmatch(s):
        return "float"
    if s in _BOOL_SET:
        return "bool"
    if _THOUSANDS_RE.fullmatch(s) or (delim != "," and _DECIMAL_COMMA_RE.fullmatch(s)):
        return "badnum"
    return "str"


def column_kind(classes: Counter) -> str:
    """The column's kind from the classes of its cells in the sniff sample."""
    if classes["str"]:
        return "str"
    if classes["badnum"]:
        return "badnum"
    if classes["bool"]:
        return "bool" if not (classes["int"] or classes["float"]) else "str"
    if classes["float"] or classes["missing"]:
        return "float"
    if classes["int"]:
        return "int"
    return "float"  # an all-missing column


def convert(cells, kind: str, col: int) -> np.ndarray:
    """Convert one column of text cells (list or object/str array) by ``kind``.

    The one place text becomes numbers, shared by the three engines. Raises BadCell (row is the
    index into ``cells``).
    """
    if kind == "str":
        a = np.asarray(cells, dtype=str) if len(cells) else np.empty(0, dtype="<U1")
        return np.char.strip(a) if a.size else a
    n = len(cells)
    if n == 0:
        return np.empty(0, dtype=np.int64 if kind in ("int", "bool") else np.float64)
    if kind in ("int", "float"):
        # fast path: numpy parses; the ascii/underscore check keeps it to our grammar
        joined = "".join(cells) if isinstance(cells, list) else "".join(np.asarray(cells, dtype=object).tolist())
        if joined.isascii() and "_" not in joined:
            try:
                if kind == "int":
                    return np.array(cells, dtype=np.int64)
                out = np.array(cells, dtype=np.float64)
            except (ValueError, OverflowError, TypeError):
                pass
            else:
                if not np.isinf(out).any():
                    return out
                check_range(cells, np.flatnonzero(np.isinf(out)), col)
                return out
    return _convert_slow(list(cells), kind, col)


def overflows(cell: str) -> bool:
    """Whether a cell that reads as +-inf is a finite number beyond the float64 range
    (``1e400``), not an ``inf`` spelled out."""
    return "inf" not in cell.lower()


def check_range(cells, where, col: int) -> None:
    """Raise BadCell (why ``range``) for the first of the cells at ``where`` (that read as
    +-inf) that is a finite number beyond the float64 range."""
    for i in where.tolist():
        if overflows(str(cells[i])):
            raise BadCell(int(i), col, str(cells[i]), "range")


def _convert_slow(cells: list[str], kind: str, col: int) -> np.ndarray:
    vals: list = []
    ints = kind in ("int", "bool")
    for i, c in enumerate(cells):
        s = c.strip()
        if kind == "bool":
            v = _bool_value(s, i, col, c)
        elif s in MISSING_SET:
            v = np.nan
        elif _INT_RE.fullmatch(s):
            v = int(s) if len(s) <= 20 else INT64_MAX + 1
            if abs(v) > INT64_MAX:
                v = float(s)
        elif _FLOAT_RE.fullmatch(s):
            v = float(s)
            if math.isinf(v) and overflows(s):
                raise BadCell(i, col, c, "range")
        else:
            raise BadCell(i, col, c)
        if ints and not isinstance(v, int):
            ints = False
        vals.append(v)
    if ints:
        return np.array(vals, dtype=np.int64)
    return np.array(vals, dtype=np.float64)


def _bool_value(s: str, i: int, col: int, raw: str) -> int | float:
    if s in TRUE:
        return 1
    if s in FALSE:
        return 0
    if s in MISSING_SET:
        return np.nan
    raise BadCell(i, col, raw, "bool")
