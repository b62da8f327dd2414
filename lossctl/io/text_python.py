"""The pure-Python text engine: a small input parsed whole with the ``csv`` module (no pyarrow
import), converted by :func:`lossctl.io.cells.convert` like the pyarrow engine's text columns."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from lossctl.errors import InputError
from lossctl.io.cells import BadCell, convert, is_blank, odd_quote_line, split_lines
from lossctl.io.source import assemble
from lossctl.io.text_errors import (
    field_count_error,
    no_rows_hint,
    quote_error,
    stray_cr,
    utf8_error,
)

if TYPE_CHECKING:
    from lossctl.io.text import TextSource

__all__ = ["python_chunks"]


def python_chunks(src: TextSource, data: bytes, idx: list[int]) -> Iterator[np.ndarray]:
    """The selected columns of ``data`` (the input after its header) as one array."""
    lay = src.layout
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = lay.first_line + data.count(b"\n", 0, e.start)
        raise utf8_error(line) from e
    keep, linenos, blanks = _data_lines(text, lay.first_line, lay.delimiter)
    if not keep:
        raise InputError("has no data rows", hint=no_rows_hint(lay))
    src.record(0, lay.first_line, tuple(blanks))
    _check_lines(keep, linenos, text, lay.delimiter)
    rows = split_lines(keep, lay.delimiter)
    for r, fields in enumerate(rows):
        if len(fields) != lay.nfields:
            raise field_count_error(keep[r], len(fields), lay, location=f"line {linenos[r]}", row=r)
    yield convert_rows(src, rows, idx, lambda r: keep[r])


def _data_lines(text: str, first_line: int, delim: str) -> tuple[list[str], list[int], list[int]]:
    """(data lines without their CR, their line numbers, the line numbers of blank lines)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    keep: list[str] = []
    linenos: list[int] = []
    blanks: list[int] = []
    for j, line in enumerate(lines):
        ln = first_line + j
        if is_blank(line, delim):
            blanks.append(ln)
        else:
            keep.append(line.rstrip("\r"))
            linenos.append(ln)
    return keep, linenos, blanks


def _check_lines(keep: list[str], linenos: list[int], text: str, delim: str) -> None:
    """Unbalanced quotes and stray CRs, named by line (row r is keep[r])."""
    if delim != " " and '"' in text:
        bad = odd_quote_line(keep, delim)
        if bad is not None:
            raise quote_error(f"line {linenos[bad]}", bad)
    if "\r" in text:  # CRLF ends were stripped: a CR left is inside a line
        for j, line in enumerate(keep):
            if "\r" in line:
                raise stray_cr(f"line {linenos[j]}", j)


def convert_rows(src: TextSource, rows: list[list[str]], idx: Sequence[int],
                 line_of: Callable[[int], str], row0: int = 0) -> np.ndarray:
    """Split rows -> the (n, k) block of the selected columns (``row0``: the index of the first
    row, for messages)."""
    lay = src.layout
    cache: dict[int, np.ndarray] = {}
    if lay.trailing:
        last = lay.nfields - 1
        for r, f in enumerate(rows):
            if f[last].strip():
                raise src.cell_error(BadCell(r, last, f[last], "trailing"), row0, line_of(r))
    try:
        for i in idx:
            if i not in cache:
                cache[i] = convert([f[i] for f in rows], lay.kinds[i], i)
    except BadCell as bad:
        raise src.cell_error(bad, row0, line_of(bad.row))
    return assemble([cache[i] for i in idx], len(rows))
