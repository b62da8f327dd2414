"""Streaming JSON documents: one object whose fields are written in order, arrays block by block.

A result with ten million per-sample losses never has to exist as one Python list::

    with json_document(output="r.json") as doc:
        doc.field("loss", "scce")
        with doc.array("per_sample") as arr:
            for block in blocks:
                arr.write(block)            # 1-D: numbers; 2-D: one list per row
        with doc.array("rows", columns=["label", "loss"]) as rows:
            rows.write(labels, losses)      # one object per row, the column rules of a sink
        doc.field("value", 0.23)

writes::

    {
      "loss": "scce",
      "per_sample": [
        0.1,
        0.2
      ],
      "rows": [
        {"label": 1, "loss": 0.5}
      ],
      "value": 0.23
    }

Strict JSON like :func:`~lossctl.out.write_json`: non-finite floats are written as ``null`` and one
warning at the end counts them all; floats keep full round-trip precision. Fields other than
streamed arrays are laid out as ``json.dumps(value, indent=2)`` does. Like a sink, the document is a
context manager: a normal exit closes it (a file output is renamed into place), an exception
aborts it (a file output is left untouched).
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from lossctl.out.json import json_column, jsonable, nonfinite_warning
from lossctl.out.rows import RowStyle, block_text
from lossctl.out.sink import split_columns
from lossctl.out.streams import Destination

__all__ = ["JsonArray", "JsonDocument", "json_document"]

_FIELD = "  "
_ITEM = "    "


class JsonDocument:
    """One JSON object written to a file (atomically) or to standard output, field by field.

    Use :func:`json_document` to make one.
    """

    def __init__(self, *, output: str | os.PathLike | None = None, stdout: Any = None) -> None:
        self._dest = Destination(output, stdout, binary=False)
        self.output = self._dest.output
        self._names: set[str] = set()
        self._array: JsonArray | None = None
        self._started = False
        self._done = False
        self.nonfinite = 0  # non-finite floats written as null so far

    # -- lifecycle --

    def __enter__(self) -> JsonDocument:  # noqa: PYI034 - typing.Self needs Python 3.11
        self._dest.guard(self._dest.open)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort(exc)
        return False

    def _write(self, text: str) -> None:
        def action() -> None:
            fh = self._dest.open()
            if not self._started:
                self._started = True
                fh.write("{")
            fh.write(text)

        self._dest.guard(action)

    def _key(self, name: str) -> str:
        if self._done:
            raise ValueError("the JSON document is closed")
        if not isinstance(name, str):
            raise TypeError(f"JSON field names are strings, not {type(name).__name__}")
        if self._array is not None:
            raise ValueError(f"the array {self._array.name!r} is still open")
        if name in self._names:
            raise ValueError(f"the field {name!r} was already written")
        sep = ",\n" if self._names else "\n"
        self._names.add(name)
        return f"{sep}{_FIELD}{json.dumps(name)}: "

    # -- writing --

    def field(self, name: str, value: Any) -> None:
        """Write the field ``name`` with a whole value (as :func:`~lossctl.out.write_json` would).

        Raises:
            ValueError: the name was already written, or an array is still open.
            TypeError: ``value`` holds something JSON cannot represent.
            OutputError: the output cannot be written.
        """
        counter = [0]
        text = json.dumps(jsonable(value, counter), indent=2, allow_nan=False)
        key = self._key(name)
        self.nonfinite += counter[0]
        self._write(key + text.replace("\n", "\n" + _FIELD))

    def array(self, name: str, columns: Sequence[str] | None = None) -> JsonArray:
        """Start the array field ``name``, to be filled block by block; close it (or leave its
        ``with`` block) before the next field.

        Args:
            name: the field name.
            columns: give column names to write one object per row (``arr.write(*cols)`` with the
                column rules of a sink); without them ``arr.write(block)`` takes one 1-D array
                (its numbers, strings or booleans are the items) or one 2-D array (each row is an
                item, a list).

        Returns:
            The array writer.
        """
        key = self._key(name)
        self._write(key + "[")
        self._array = JsonArray(self, name, columns)
        return self._array

    def close(self) -> None:
        """Finish the object (closing an array still open) and commit a file atomically.

        Raises:
            OutputError: the output cannot be written (a file output is then left untouched).
        """
        if self._done:
            return
        try:
            if self._array is not None:
                self._array.close()
            self._write("\n}\n" if self._names else "}\n")
            self._dest.flush()
        except BaseException as exc:
            self.abort(exc)
            raise
        self._done = True
        self._dest.commit()
        nonfinite_warning(self.nonfinite)

    def abort(self, exc: BaseException | None = None) -> None:
        """Give up: a file output is discarded (the target untouched), nothing more is written."""
        if self._done:
            return
        self._done = True
        self._array = None
        self._dest.abort(exc)


class JsonArray:
    """An array field of a :class:`JsonDocument`, written block by block (see
    :meth:`JsonDocument.array`). An exception out of its ``with`` block aborts the document."""

    def __init__(self, doc: JsonDocument, name: str, columns: Sequence[str] | None) -> None:
        self.name = name
        self.columns = None if columns is None else [str(c) for c in columns]
        self.items_written = 0
        self._doc = doc
        self._shape: tuple[int, ...] | None = None  # () for scalar items, (k,) for rows of k
        self._closed = False

    def __enter__(self) -> JsonArray:  # noqa: PYI034
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.close()
        else:
            self._doc.abort(exc)
        return False

    def _texts(self, cols: tuple[Any, ...]) -> Iterator[tuple[str, int, int]]:
        """The items of a block as text, a chunk at a time: ``(text, nonfinite, items)``; rows of
        columns, numbers and rows of numbers built in bulk (:func:`~lossctl.out.rows.block_text`),
        N-D items nested item by item."""
        if self.columns is not None:
            parts, n = split_columns(cols, len(self.columns), "JSON array")
            style = RowStyle(sep=", ", prefix=_ITEM + "{", suffix="},\n", json=True, drop=2,
                             keys=[json.dumps(c) + ": " for c in self.columns])
        else:
            a = self._array_of(cols)
            if a.ndim > 2:  # N-D items (a loss map per sample): nested lists
                items, mapped = self._items(a)
                if items:
                    yield _ITEM + f",\n{_ITEM}".join(items), mapped, len(items)
                return
            n = len(a)
            parts = [a.reshape(n, 1) if a.ndim == 1 else a]
            if a.ndim == 1:
                style = RowStyle(sep=", ", prefix=_ITEM, suffix=",\n", json=True, drop=2)
            else:
                style = RowStyle(sep=", ", prefix=_ITEM + "[", suffix="],\n", json=True, drop=2)
        yield from block_text(parts, n, style)

    def _array_of(self, cols: tuple[Any, ...]) -> Any:
        """The one array of a block of an array without columns, its item shape checked."""
        import numpy as np

        if len(cols) != 1:
            raise ValueError(f"write takes one array, not {len(cols)}, without columns")
        a = np.asarray(cols[0])
        if a.ndim == 0:
            raise ValueError("a JSON array is written from arrays of items, not a scalar")
        shape = a.shape[1:]
        if self._shape is None:
            self._shape = shape
        elif shape != self._shape:
            raise ValueError(f"rows of shape {shape} after rows of shape {self._shape}")
        return a

    def _items(self, a: Any) -> tuple[list[str], int]:
        """N-D items as nested lists, one text each, and the non-finite count."""
        tokens, mapped = json_column(a.reshape(-1))
        return nest_tokens(tokens, len(a), a.shape[1:]), mapped

    def write(self, *cols: Any) -> None:
        """Append a block of items (see :meth:`JsonDocument.array`).

        Raises:
            ValueError: the array is closed, or the block does not fit the array.
            OutputError: the output cannot be written.
        """
        if self._closed or self._doc._done:
            raise ValueError(f"the JSON array {self.name!r} is closed")
        for text, mapped, items in self._texts(cols):
            self._doc._write((",\n" if self.items_written else "\n") + text)
            self._doc.nonfinite += mapped
            self.items_written += items

    def close(self) -> None:
        """End the array; the document takes the next field."""
        if self._closed:
            return
        self._closed = True
        self._doc._array = None
        self._doc._write(f"\n{_FIELD}]" if self.items_written else "]")


def nest_tokens(tokens: list[str], n: int, shape: tuple[int, ...]) -> list[str]:
    """The JSON texts of ``n`` items of ``shape`` from the tokens of their values in C order:
    ``nest_tokens(list("123456"), 1, (2, 3))`` -> ``["[[1, 2, 3], [4, 5, 6]]"]``."""
    import math

    for k in range(len(shape) - 1, -1, -1):
        d = shape[k]
        groups = n * math.prod(shape[:k])
        tokens = ["[" + ", ".join(tokens[g * d:(g + 1) * d]) + "]" for g in range(groups)]
    return tokens


def json_document(*, output: str | os.PathLike | None = None, stdout: Any = None) -> JsonDocument:
    """A streaming JSON object writer (see the module documentation).

    Args:
        output: a file path (written atomically); ``None`` or ``"-"`` for standard output.
        stdout: the stream used for standard output (default ``sys.stdout``); tests inject one.

    Returns:
        The document: use it in a ``with`` block, then ``doc.field(name, value)`` and
        ``with doc.array(name) as arr: arr.write(block)`` in the order the fields should appear.
    """
    return JsonDocument(output=output, stdout=stdout)
