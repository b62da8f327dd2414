"""Blocks of rows as text, built in bulk: the lines of CSV/TSV, JSON Lines and JSON arrays.

A row is ``prefix`` + its cells joined by ``sep`` + ``suffix``, a cell optionally preceded by
its key (JSON's ``"loss": ``). :func:`block_text` writes a block of 2-D parts this way, a few
thousand cells at a time, and gives the same text as formatting cell by cell
(:func:`~lossctl.out.numbers.format_column`, :func:`~lossctl.out.json.json_column`):

* a chunk of at least :data:`BULK_CELLS` cells: each part's cells as one Arrow string array
  (:func:`~lossctl.out.numbers.column_text`, in C order), grouped into rows by a list join and
  joined with the other parts' by element-wise joins; the text is the values buffer of the
  result, decoded once;
* a smaller chunk (the few rows of a report table, a row of a wide output): cell by cell, as
  before, so small outputs never import pyarrow.

Chunks of at most :data:`TEXT_CELLS` cells bound the temporaries (tens of bytes a cell) for any
block size and row width. numpy and pyarrow are imported inside the functions.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from lossctl.record import record

__all__ = ["BULK_CELLS", "TEXT_CELLS", "RowStyle", "block_text"]

#: Cells formatted at a time: bounds the Arrow temporaries of a chunk (~100 bytes a cell).
TEXT_CELLS = 1 << 18
#: Chunks of fewer cells are formatted cell by cell (the fixed cost of the kernels, the import).
BULK_CELLS = 1 << 12
#: Blocks of at least twice this many cells are formatted in chunks of at least this many on
#: several threads, in order.
PARALLEL_CELLS = 1 << 15


@record
class RowStyle:
    """How a row is laid out: ``prefix`` + cells joined by ``sep`` + ``suffix``; ``keys`` (one per
    column, or None) precede the cells; ``json``: non-finite floats become ``null`` (counted) and
    strings are JSON strings; ``drop``: characters cut from the end of each chunk's text (the
    separator after its last row)."""

    sep: str
    prefix: str = ""
    suffix: str = "\n"
    keys: Sequence[str] | None = None
    json: bool = False
    drop: int = 0


def block_text(parts: list[Any], n: int, style: RowStyle) -> Iterator[tuple[str, int, int]]:
    """The text of a block's rows, a chunk at a time, with each chunk's count of non-finite
    values written as ``null`` (JSON) and its number of rows.

    Args:
        parts: 2-D ``(n, k_i)`` arrays side by side (numbers; strings and objects for JSON).
        n: their number of rows (> 0).
        style: the layout of a row.

    Yields:
        ``(text, nonfinite, rows)`` per chunk of rows, in order.
    """
    width = sum(p.shape[1] for p in parts)
    if width == 0:  # rows without cells: no text, as cell by cell
        return
    bulk = n * width >= BULK_CELLS and _bulk_kinds(parts, style)
    pool, ways = _pool() if bulk and n * width >= 2 * PARALLEL_CELLS else (None, 1)
    # TEXT_CELLS cells in flight in all, a share on each thread, PARALLEL_CELLS at least
    step = max(1, TEXT_CELLS // width // ways)
    if pool is not None:
        step = max(step, -(-PARALLEL_CELLS // width))
    ranges = [(a, min(n, a + step)) for a in range(0, n, step)]
    if pool is not None:
        for i in range(0, len(ranges), ways):
            futures = [pool.submit(_bulk_text, [p[a:b] for p in parts], b - a, style)
                       for a, b in ranges[i:i + ways]]
            for (a, b), f in zip(ranges[i:i + ways], futures):
                yield (*f.result(), b - a)
        return
    for a, b in ranges:
        chunk = [p[a:b] for p in parts]
        if (b - a) * width >= BULK_CELLS and bulk:
            yield (*_bulk_text(chunk, b - a, style), b - a)
        else:
            yield (*_cell_text(chunk, style), b - a)


_POOL: list[tuple[Any, int]] = []


def _pool() -> tuple[Any, int]:
    """Threads formatting the chunks of a block side by side (pyarrow's kernels release the
    GIL), one per core (:func:`lossctl.budget.threads`), and their number; ``(None, 1)`` on
    one core."""
    if not _POOL:
        from lossctl import budget

        cores = budget.threads()
        if cores > 1:
            from concurrent.futures import ThreadPoolExecutor

            _POOL.append((ThreadPoolExecutor(cores, thread_name_prefix="lossctl-text"), cores))
        else:
            _POOL.append((None, 1))
    return _POOL[0]


def _bulk_kinds(parts: list[Any], style: RowStyle) -> bool:
    return all(p.dtype.kind in "iubf" or (style.json and p.dtype.kind in "USO") for p in parts)


def _cells(parts: list[Any], style: RowStyle) -> tuple[list[list[str]], int]:
    """The cells of every column as lists of text (the cell-by-cell rule)."""
    from lossctl.out.json import json_column
    from lossctl.out.numbers import format_column
    from lossctl.out.sink import columns_of

    columns, bad = [], 0
    for c in columns_of(parts):
        if style.json:
            tokens, mapped = json_column(c)
            bad += mapped
        else:
            tokens = format_column(c)
        columns.append(tokens)
    if style.keys is not None:
        columns = [[key + t for t in tokens] for key, tokens in zip(style.keys, columns)]
    return columns, bad


def _cell_text(parts: list[Any], style: RowStyle) -> tuple[str, int]:
    columns, bad = _cells(parts, style)
    sep, pre, suf = style.sep, style.prefix, style.suffix
    text = "".join([pre + sep.join(row) + suf for row in zip(*columns)])
    return (text[:-style.drop] if style.drop else text), bad


def _part_cells(part: Any, style: RowStyle) -> tuple[Any, int]:
    """A 2-D part's cells in C order as an Arrow string array, and its non-finite count."""
    import pyarrow as pa

    from lossctl.out.numbers import column_text

    flat = part.reshape(-1)
    if flat.dtype.kind in "iubf":
        return column_text(flat, nonfinite="null" if style.json else None)
    from lossctl.out.json import json_column

    tokens, bad = json_column(flat)
    return pa.array(tokens, type=pa.string()), bad


def _bulk_text(parts: list[Any], n: int, style: RowStyle) -> tuple[str, int]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from lossctl.out.numbers import text_scalar

    rows: list[Any] = []
    bad, col = 0, 0
    for part in parts:
        k = part.shape[1]
        cells, mapped = _part_cells(part, style)
        bad += mapped
        if style.keys is not None:
            keys = pa.array(list(style.keys[col:col + k]), type=pa.string())
            cells = pc.binary_join_element_wise(keys.take(np.tile(np.arange(k), n)), cells,
                                                text_scalar(""))
        if k > 1:
            offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
            cells = pc.binary_join(pa.ListArray.from_arrays(offsets, cells), text_scalar(style.sep))
        rows.append(cells)
        col += k
    # two joins: one with the separator, one for the ends (one join of separators as
    # arguments takes longer than both)
    body = pc.binary_join_element_wise(*rows, text_scalar(style.sep)) if len(rows) > 1 else rows[0]
    ends = [e if isinstance(e, pa.Array) else text_scalar(e)
            for e in (style.prefix, body, style.suffix) if isinstance(e, pa.Array) or e]
    lines = pc.binary_join_element_wise(*ends, text_scalar("")) if len(ends) > 1 else body
    return _values_text(lines, style.drop), bad


def _values_text(lines: Any, drop: int) -> str:
    """The strings of an Arrow string array one after the other, as one ``str`` (read from
    its values buffer), less ``drop`` characters at the end."""
    import numpy as np

    if len(lines) == 0:
        return ""
    _, offsets, values = lines.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32, count=len(lines) + 1, offset=4 * lines.offset)
    start, end = int(ends[0]), int(ends[-1]) - drop
    if values is None or end <= start:
        return ""
    return str(memoryview(values)[start:end], "utf-8")
