"""JSON lines (``.jsonl``, ``.ndjson``): one JSON object per line, its fields the columns.

Read by pyarrow's streaming JSON reader (``pyarrow.json.open_json``) in blocks of
``chunk_bytes``, so a file larger than memory streams. Fields are columns as in CSV (selected
by name, 1-based number or glob); a field holding a list of numbers (``"probs": [0.1, 0.9]``)
is a vector, its values the columns ``probs[0]`` .. ``probs[C-1]``, selected together by
``probs`` (as a Parquet list column, :mod:`lossctl.io.arrow_lists`). The column types are
inferred from the first block: a field that holds whole numbers there and fractions later is
read as numbers from the start (ints are widened to float64), so a later block never changes
a column's type. Standard input that starts with ``{`` is JSON lines too (spooled to a
temporary file, as a Parquet file on a pipe).
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from lossctl.errors import InputError
from lossctl.io.arrow import _ArrowSource, _arrow_msg
from lossctl.io.options import ReadOptions

__all__ = ["JsonlSource"]

_HINT = "each line must be one JSON object, with the same fields of the same types"


class JsonlSource(_ArrowSource):
    def __init__(self, name: str, options: ReadOptions, *, path: str, filesystem=None) -> None:
        """``filesystem``: a pyarrow file system holding ``path`` (:mod:`lossctl.io.remote`)."""
        import pyarrow as pa

        super().__init__(name, "jsonl", options)
        self._path, self._fs = path, filesystem
        self._schema_read = None
        reader = self._open()
        try:
            self._schema_read = _widened(reader.schema)
        finally:
            reader.close()
        reader = self._open()
        try:
            self._set_schema(reader.schema, lambda segs: self._batches(reader))
        except pa.ArrowException as e:
            raise InputError(f"is not valid JSON lines ({_arrow_msg(e)})", hint=_HINT) from e
        finally:
            reader.close()
        self.has_header = True

    def _open(self):
        import pyarrow as pa
        import pyarrow.json as pj

        block = max(1 << 16, min(self.options.chunk_bytes, 1 << 30))
        parse = None if self._schema_read is None else pj.ParseOptions(
            explicit_schema=self._schema_read, unexpected_field_behavior="error")
        stream = None
        try:
            if self._fs is not None:
                stream = self._fs.open_input_stream(self._path)
            reader = pj.open_json(self._path if stream is None else stream,
                                  read_options=pj.ReadOptions(block_size=block),
                                  parse_options=parse)
            return reader if stream is None else _Owning(reader, stream)
        except (pa.ArrowException, OSError, ValueError) as e:
            if stream is not None:
                stream.close()
            msg = _arrow_msg(e)
            if "Empty" in msg or "empty" in msg:
                raise InputError("has no data rows", hint="check that the file is not empty") from e
            raise InputError(f"is not valid JSON lines ({msg})", hint=_HINT) from e

    def _batches(self, reader) -> Iterator:
        import pyarrow as pa

        try:
            yield from reader
        except pa.ArrowException as e:
            raise InputError(f"is not valid JSON lines ({_arrow_msg(e)})", hint=_HINT) from e

    def _chunks(self, idx: list[int]) -> Iterator[np.ndarray]:
        plan = self._plan(idx)
        pos = {f: f for f in plan.fields}
        reader = self._open()
        rows = 0
        try:
            for batch in self._batches(reader):
                yield plan.convert(batch, pos, rows, validate=False)
                rows += batch.num_rows
        finally:
            reader.close()
        if rows == 0:
            raise InputError("has no data rows", hint="check that the file is not empty")


class _Owning:
    """A reader that closes the stream it reads when it is closed."""

    def __init__(self, reader, stream) -> None:
        self._reader, self._stream = reader, stream
        self.schema = reader.schema

    def __iter__(self):
        return iter(self._reader)

    def close(self) -> None:
        try:
            self._reader.close()
        finally:
            self._stream.close()


def _widened(schema):
    """The schema with int64 fields (and lists of them) read as float64: a later block may hold
    fractions where the first held whole numbers. Labels stay exact (whole floats)."""
    import pyarrow as pa

    def widen(t):
        if pa.types.is_integer(t):
            return pa.float64()
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return pa.list_(widen(t.value_type))
        return t

    return pa.schema([pa.field(f.name, widen(f.type)) for f in schema])
