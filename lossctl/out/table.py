"""The ``table`` format: rows for people, rounded to ``precision`` significant digits.

All rows are kept and drawn at close. The drawing is injected: :class:`TableSink` calls
``renderer(columns, rows, *, title, precision, show_header, file, plain)`` (the CLI passes
``render.table_renderer()``, a rich table), with ``plain=True`` for a file output (no
colour, no wrapping, whatever ``FORCE_COLOR`` says). Without a renderer the library writes a plain
aligned text table itself (:func:`plain_table`), so this module never imports rich.
"""
from __future__ import annotations

import math
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

from lossctl.out.sink import Renderer, Sink, columns_of

__all__ = ["TableSink", "format_cell", "is_number", "plain_table"]


def is_number(value: Any) -> bool:
    """Whether a table cell holds a number (Python or numpy int, float or bool)."""
    if isinstance(value, (bool, int, float)):
        return True
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, (numpy.number, numpy.bool_))


def format_cell(value: Any, precision: int = 6) -> str:
    """A cell as text for people: floats to ``precision`` significant digits, ints exact.

    The same rule as the CLI's ``render.format_cell``: ``None`` is an empty cell, NaN ``nan``,
    infinities ``inf``/``-inf``, booleans ``1``/``0``, floats ``f"{x:.{precision}g}"``.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    numpy = sys.modules.get("numpy")
    if isinstance(value, bool) or (numpy is not None and isinstance(value, numpy.bool_)):
        return "1" if value else "0"
    if isinstance(value, int) or (numpy is not None and isinstance(value, numpy.integer)):
        return str(int(value))
    if isinstance(value, float) or (numpy is not None and isinstance(value, numpy.floating)):
        x = float(value)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return f"{x:.{precision}g}"
    return str(value)


def _width(text: str) -> int:
    """Terminal columns of ``text``: wide (CJK) characters count 2, combining marks 0."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def plain_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    precision: int = 6,
    show_header: bool = True,
    file: Any,
    plain: bool = True,
) -> None:
    """Write rows as an aligned text table, the renderer used when none is injected.

    Numeric columns are right-aligned, text columns left-aligned, two spaces apart; the headings
    are underlined with dashes; the title, if any, comes first::

        losses
        label   p0      p1
        -----  ---  ------
            1  0.3  1e-300

    Args:
        columns: headings, one per column.
        rows: rows of cells (numbers, strings, ``None``), each ``len(columns)`` long.
        title: the first line.
        precision: significant digits for float cells (see :func:`format_cell`).
        show_header: write the headings.
        file: the text stream to write to.
        plain: accepted for the renderer signature; the output is always plain text.
    """
    ncols = len(columns)
    numeric = [
        all(r[j] is None or is_number(r[j]) for r in rows) and any(r[j] is not None for r in rows)
        for j in range(ncols)
    ]
    body = [[format_cell(v, precision) for v in row] for row in rows]
    heads = [str(c) for c in columns]
    widths = [
        max([_width(heads[j]) if show_header else 0] + [_width(r[j]) for r in body])
        for j in range(ncols)
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(_pad(c, w, num) for c, w, num in zip(cells, widths, numeric)).rstrip()

    out = [title] if title else []
    if show_header:
        out.append(line(heads))
        out.append("  ".join("-" * w for w in widths))
    out.extend(line(r) for r in body)
    file.write("".join(text + "\n" for text in out))


class TableSink(Sink):
    """The ``table`` writer; see :func:`~lossctl.out.open_sink`.

    Args:
        precision: significant digits of float cells.
        title: shown above the table.
        renderer: ``renderer(columns, rows, *, title, precision, show_header, file, plain)``; the
            default :func:`plain_table` writes aligned text.
    """

    def __init__(
        self,
        fmt: str,
        columns,
        *,
        precision: int = 6,
        title: str | None = None,
        renderer: Renderer | None = None,
        **kwargs: Any,
    ) -> None:
        if fmt != "table":
            raise ValueError(f"TableSink writes table, not {fmt!r}")
        super().__init__(fmt, columns, **kwargs)
        self.precision = precision
        self.title = title
        self.renderer = renderer if renderer is not None else plain_table
        self._rows: list[list[Any]] = []

    def _write_block(self, parts: list[Any], n: int) -> None:
        self._start()
        if n == 0:
            return
        cells = [c.tolist() for c in columns_of(parts)]
        self._rows.extend([list(r) for r in zip(*cells)])

    def _finish(self) -> None:
        self.renderer(
            self.columns,
            self._rows,
            title=self.title,
            precision=self.precision,
            show_header=self.header,
            file=self._fh,
            plain=self.output is not None,  # a file: plain text, no colour, no wrapping
        )
