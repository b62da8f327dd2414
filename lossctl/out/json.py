"""JSON and JSON Lines: rows as objects, whole values, strict JSON throughout.

* ``json`` sink: ``[`` then one object per row keyed by column names, then ``]``;
* ``jsonl`` sink: the same objects, one per line;
* :func:`write_json`: any JSON value as one indented document;
* :func:`~lossctl.out.document.json_document` (its own module): one object streamed field by
  field, arrays block by block.

Always strict JSON: ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON, so non-finite floats are
written as ``null`` and one :func:`lossctl.errors.warn` per output says how many. Floats keep full
round-trip precision (``repr``); numpy arrays and scalars are converted.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any

from lossctl.errors import warn
from lossctl.out.numbers import format_column, format_number
from lossctl.out.rows import RowStyle, block_text
from lossctl.out.sink import Sink
from lossctl.out.streams import write_text

__all__ = ["JsonSink", "json_column", "jsonable", "nonfinite_warning", "write_json"]

_NONFINITE_TEXT = frozenset({"nan", "-nan", "inf", "-inf"})


# --- tokens --------------------------------------------------------------------------------------


def json_column(col: Any) -> tuple[list[str], int]:
    """JSON tokens for a 1-D array (numbers, ``null`` for NaN/inf, quoted strings), and how many
    non-finite values became ``null``."""
    kind = col.dtype.kind
    if kind in "US":
        return [json.dumps(v) for v in col.tolist()], 0
    if kind == "O":
        values = col.tolist()
        tokens = [_json_scalar_token(v) for v in values]
        mapped = sum(1 for v, t in zip(values, tokens) if t == "null" and v is not None)
        return tokens, mapped
    import numpy as np

    cells = format_column(col)
    if kind != "f":
        return cells, 0
    bad = np.flatnonzero(~np.isfinite(col))
    for i in bad.tolist():
        cells[i] = "null"
    return cells, len(bad)


def _json_scalar_token(v: Any) -> str:
    text = format_number(v)
    if text in _NONFINITE_TEXT:
        return "null"
    if v is None:
        return "null"
    if isinstance(v, str):
        return json.dumps(v)
    return text


def nonfinite_warning(count: int) -> None:
    """The one warning of an output that wrote ``count`` non-finite values as ``null``."""
    if count:
        values = "value" if count == 1 else "values"
        warn(f"{count} non-finite {values} (NaN or infinity) written as null: JSON has no NaN")


def jsonable(obj: Any, counter: list[int]) -> Any:
    """``obj`` as plain Python for :func:`json.dumps`: numpy converted, non-finite floats
    ``None`` (counted in ``counter[0]``).

    Raises:
        TypeError: ``obj`` holds something JSON cannot represent.
    """
    import numpy as np

    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    elif isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            counter[0] += 1
            return None
        return float(obj)
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if isinstance(key, np.generic):
                key = key.item()
            out[key] = jsonable(value, counter)
        return out
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, counter) for v in obj]
    raise TypeError(f"cannot write a {type(obj).__name__} as JSON")


def row_style(columns: list[str], lines: bool) -> RowStyle:
    """Rows as JSON objects keyed by ``columns``: one a line (``lines``, JSON Lines) or the
    items of an indented array (``,\\n  `` between them)."""
    keys = [json.dumps(c) + ": " for c in columns]
    if lines:
        return RowStyle(sep=", ", prefix="{", suffix="}\n", keys=keys, json=True)
    return RowStyle(sep=", ", prefix="{", suffix="},\n  ", keys=keys, json=True, drop=4)


# --- the row writer ------------------------------------------------------------------------------


class JsonSink(Sink):
    """The ``json`` (one array of row objects) and ``jsonl`` (one object per line) writer;
    see :func:`~lossctl.out.open_sink`."""

    def __init__(self, fmt: str, columns, **kwargs: Any) -> None:
        if fmt not in ("json", "jsonl"):
            raise ValueError(f"JsonSink writes json or jsonl, not {fmt!r}")
        super().__init__(fmt, columns, **kwargs)
        self._style = row_style(self.columns, fmt == "jsonl")
        self._nonfinite = 0

    def _begin(self) -> None:
        if self.fmt == "json":
            self._fh.write("[")

    def _write_block(self, parts: list[Any], n: int) -> None:
        self._start()
        if n == 0:
            return
        first = self.rows_written == 0
        for text, mapped, _ in block_text(parts, n, self._style):
            self._nonfinite += mapped
            if self.fmt == "json":
                self._fh.write("\n  " if first else ",\n  ")
                first = False
            self._fh.write(text)

    def _finish(self) -> None:
        if self.fmt == "json":
            self._fh.write("]\n" if self.rows_written == 0 else "\n]\n")

    def _after_commit(self) -> None:
        nonfinite_warning(self._nonfinite)


# --- whole documents -----------------------------------------------------------------------------


def write_json(obj: Any, *, output: str | os.PathLike | None = None, stdout: Any = None) -> None:
    """Write one JSON document (indented, UTF-8, trailing newline).

    Strict JSON: ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON, so non-finite floats are
    written as ``null`` and one :func:`lossctl.errors.warn` says how many. numpy arrays and
    scalars are converted; floats keep full round-trip precision. For a document with arrays too
    big to hold as Python lists, stream it with :func:`~lossctl.out.json_document`.

    Args:
        obj: dicts, lists, tuples, strings, numbers, ``None``, numpy arrays and scalars, nested.
        output: a file path (written atomically); ``None`` or ``"-"`` for standard output.
        stdout: the stream used for standard output (default ``sys.stdout``); tests inject one.

    Raises:
        OutputError: the file cannot be written.
        TypeError: ``obj`` holds something JSON cannot represent.
    """
    counter = [0]
    clean = jsonable(obj, counter)
    text = json.dumps(clean, indent=2, allow_nan=False) + "\n"
    write_text(text, output, stdout)
    nonfinite_warning(counter[0])
