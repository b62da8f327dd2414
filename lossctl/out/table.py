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

from lossctl.errors import opt
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
    caption: str | None = None,
    gap: int | None = None,
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
        caption: a line after the table (a preview says how many rows there are).
        gap: in a preview, where the omitted rows were: a line of ``...`` there.
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
    lines = [line(r) for r in body]
    if gap is not None:
        lines.insert(gap, line(["..."] * ncols))
    out.extend(lines)
    if caption:
        from lossctl.errors import render_options

        out.append(render_options(caption))
    file.write("".join(text + "\n" for text in out))


class TableSink(Sink):
    """The ``table`` writer; see :func:`~lossctl.out.open_sink`.

    Args:
        precision: significant digits of float cells.
        title: shown above the table.
        renderer: ``renderer(columns, rows, *, title, precision, show_header, file, plain)``; the
            default :func:`plain_table` writes aligned text. A preview passes two more keywords:
            ``caption`` (how many rows there are and how to get all of them) and ``gap`` (the
            index in ``rows`` where the omitted rows were).
        preview: keep only the first and the last ``preview`` rows (and their row numbers, in a
            first column ``#``): a table for a person, of any number of rows, in bounded memory
            and time. ``None`` keeps every row.
    """

    def __init__(
        self,
        fmt: str,
        columns,
        *,
        precision: int = 6,
        title: str | None = None,
        renderer: Renderer | None = None,
        preview: int | None = None,
        **kwargs: Any,
    ) -> None:
        if fmt != "table":
            raise ValueError(f"TableSink writes table, not {fmt!r}")
        super().__init__(fmt, columns, **kwargs)
        self.precision = precision
        self.title = title
        self.renderer = renderer if renderer is not None else plain_table
        self.preview = preview
        self._rows: list[list[Any]] = []
        self._tail: Any = None
        if preview is not None:
            import collections

            self._tail = collections.deque(maxlen=preview)
        self._seen = 0

    def _write_block(self, parts: list[Any], n: int) -> None:
        self._start()
        if n == 0:
            return
        if self.preview is None:
            cells = [c.tolist() for c in columns_of(parts)]
            self._rows.extend([list(r) for r in zip(*cells)])
            return
        room = max(self.preview - len(self._rows), 0)
        head = min(room, n)
        first = max(head, n - self.preview)  # only the last rows of the block can be the tail
        for lo, hi, into in ((0, head, self._rows), (first, n, self._tail)):
            if hi > lo:
                cells = [c[lo:hi].tolist() for c in columns_of(parts)]
                for k, r in enumerate(zip(*cells)):
                    into.append([self._seen + lo + k, *r])
        self._seen += n

    def _finish(self) -> None:
        extra: dict[str, Any] = {}
        columns, rows = self.columns, self._rows
        if self.preview is not None:
            tail = [r for r in self._tail if r[0] >= len(self._rows)]
            omitted = self._seen - len(rows) - len(tail)
            columns = ["#", *self.columns]
            if omitted > 0:
                extra = {"gap": len(rows), "caption": (
                    f"{self._seen:,} rows: the first {len(rows)} and the last {len(tail)} are "
                    f"shown. For all of them, pipe the output or write it with {opt('output')}")}
            rows = rows + tail
        self.renderer(
            columns,
            rows,
            title=self.title,
            precision=self.precision,
            show_header=self.header,
            file=self._fh,
            plain=self.output is not None,  # a file: plain text, no colour, no wrapping
            **extra,
        )
