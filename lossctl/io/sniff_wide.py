"""Sniffing lines of more than :data:`~lossctl.io.text_wide.WIDE_FIELDS` fields: the rules of
:mod:`lossctl.io.sniff` (the header rule, trailing delimiters, column kinds) applied to per-cell
class codes, one byte per cell, never a string or a counter per cell.

The codes come from the spans of :class:`~lossctl.io.text_wide.Fields`: a span that numpy parses
is int or float cells (float where a ``.`` or ``e`` occurs; an integer too long for int64 is
classed by :func:`~lossctl.io.cells.cell_class`), any other span is classed cell by cell, at
most :data:`~lossctl.io.text_wide.SPLIT_CELLS` at a time. Header names are read from the header
line when asked for (:class:`LineNames`). Tested against the sniffer of narrow lines on the
inputs of ``tests/test_io_text.py``.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from lossctl.io.source import WIDE_COLUMNS, LazyNames, column_names
from lossctl.io.text_errors import badnum_error
from lossctl.io.text_wide import (
    ABSENT,
    BADNUM,
    BOOL,
    FLOAT,
    INT,
    MISSING,
    SPLIT_CELLS,
    STR,
    STR_L,
    Fields,
)

if TYPE_CHECKING:
    from lossctl.io.options import ReadOptions

__all__ = ["LineNames", "decide"]

_KINDS = ("int", "float", "bool", "badnum", "str")


class LineNames(LazyNames):
    """Header names read from the header line when asked for (``c.strip() or str(j + 1)``)."""

    def __init__(self, fields: Fields, width: int) -> None:
        self._fields, self._width = fields, width

    def __len__(self) -> int:
        return self._width

    def _name(self, i: int) -> str:
        if i < self._fields.n:
            return self._fields.cell(i).strip() or str(i + 1)
        return str(i + 1)


def _line_codes(f: Fields, width: int) -> np.ndarray:
    out = np.full(width, ABSENT, dtype=np.uint8)
    for a in range(0, f.n, SPLIT_CELLS):
        b = min(f.n, a + SPLIT_CELLS)
        out[a:b] = f.codes(a, b)
    return out


def decide(texts: list[bytes] | list[str], content: list[tuple[int, bytes]], delim: str,
           options: ReadOptions) -> tuple[bool, bool, int, bool, Sequence[str], list[str]]:
    """The header, field count, names and kinds of wide sample lines (bytes): (header,
    guessed, nfields, trailing, names, kinds), decided by the rules of :mod:`lossctl.io.sniff`."""
    fl = [Fields(x if isinstance(x, bytes) else x.encode("utf-8"), delim) for x in texts]
    codes = np.full((len(fl), max(f.n for f in fl)), ABSENT, dtype=np.uint8)
    for i, f in enumerate(fl):
        codes[i] = _line_codes(f, codes.shape[1])
        if i:
            f.forget()  # (the first line's bounds are kept for its names)
    from lossctl.io.sniff import decide_header  # (sniff imports this module)

    header, guessed = decide_header(
        options, lambda: _detect_header(fl, codes),
        lambda: (c.strip() for a in range(0, fl[0].n, SPLIT_CELLS)
                 for c in fl[0].texts(a, min(fl[0].n, a + SPLIT_CELLS))))
    data = list(range(1, len(fl)) if header else range(len(fl)))
    nfields, trailing = _fields(fl, data, header)
    width = nfields - (1 if trailing else 0)
    if header:
        names: Sequence[str] = LineNames(fl[0], width)
        if width <= WIDE_COLUMNS:
            names = list(names)
    else:
        names = column_names(width)
    line_of = [content[r + (1 if header else 0)][0] + 1 for r in range(len(data))]
    kinds = _kinds(fl, codes, data, nfields, width, names, line_of)
    return header, guessed, nfields, trailing, names, kinds


def _detect_header(fl: list[Fields], codes: np.ndarray) -> tuple[bool, bool]:
    """:func:`lossctl.io.sniff.detect_header` on class codes."""
    n0 = fl[0].n
    c0 = codes[0, :n0]
    str0 = (c0 == STR) | (c0 == STR_L)
    if not str0.any():
        return False, True
    if len(fl) == 1:
        return bool(str0.all()), True
    below = codes[1:, :n0]
    kept = (below != ABSENT) & (below != MISSING)
    typed = (below == INT) | (below == FLOAT) | (below == BOOL) | (below == BADNUM)
    all_typed = (~kept | typed).all(axis=0)
    no_letter = (~kept | (below != STR_L)).all(axis=0)
    if (str0 & kept.any(axis=0) & (all_typed | ((c0 == STR_L) & no_letter))).any():
        return True, True  # rule 1: a string above numbers, or a word above cells without letters
    if (~str0 & (c0 != MISSING)).any():
        return False, True  # rule 2: a number or bool in the first row
    return _names_above_repeats(fl, str0), False


def _names_above_repeats(fl: list[Fields], str0: np.ndarray) -> bool:
    """Rule 3 of the header rule, column piece by column piece."""
    repeats = False
    n0 = fl[0].n
    for a in range(0, n0, SPLIT_CELLS):
        b = min(n0, a + SPLIT_CELLS)
        first = fl[0].texts(a, b)
        below = [f.texts(a, min(b, f.n)) if f.n > a else [] for f in fl[1:]]
        for j in np.flatnonzero(str0[a:b]).tolist():
            vals = [r[j].strip() for r in below if j < len(r)]
            if first[j].strip() in vals:
                return False
            if len(set(vals)) < len(vals):
                repeats = True
    return repeats


def _fields(fl: list[Fields], data: list[int], header: bool) -> tuple[int, bool]:
    """:func:`lossctl.io.sniff._fields` on split lines."""
    nfields = fl[0].n
    trailing = False

    def last_empty(i: int) -> bool:
        return fl[i].cell(fl[i].n - 1).strip() == ""

    if data:
        mode = Counter(fl[i].n for i in data).most_common(1)[0][0]
        if header and mode == nfields + 1 and all(last_empty(i) for i in data if fl[i].n == mode):
            nfields, trailing = mode, True
        elif (nfields > 1 and all(fl[i].n == nfields and last_empty(i) for i in data)
              and (not header or last_empty(0))):
            trailing = True
    return nfields, trailing


def _kinds(fl: list[Fields], codes: np.ndarray, data: list[int], nfields: int, width: int,
           names: Sequence[str], line_of: list[int]) -> list[str]:
    """:func:`lossctl.io.sniff._kinds` (and :func:`~lossctl.io.cells.column_kind`) on codes."""
    good = [i for i in data if fl[i].n == nfields]
    d = codes[good, :width] if good else np.zeros((0, width), dtype=np.uint8)

    def has(*c: int) -> np.ndarray:
        hit = d == c[0]
        for x in c[1:]:
            hit |= d == x
        return hit.any(axis=0)

    ints, floats = has(INT), has(FLOAT)
    u8 = np.uint8
    k = np.where(ints, u8(0), u8(1))
    k[floats | has(MISSING)] = 1
    k[has(BOOL)] = np.where(ints | floats, u8(4), u8(2))[has(BOOL)]
    k[has(BADNUM)] = 3
    k[has(STR, STR_L)] = 4
    bad = np.flatnonzero(k == 3)
    if len(bad):
        j = int(bad[0])
        for r_i, i in enumerate(data):
            if fl[i].n == nfields and codes[i, j] == BADNUM:
                raise badnum_error(fl[i].cell(j).strip(), names[j], f"line {line_of[r_i]}", r_i)
    if len(k) and (k == k[0]).all():
        return [_KINDS[int(k[0])]] * len(k)
    return [_KINDS[c] for c in k.tolist()]
