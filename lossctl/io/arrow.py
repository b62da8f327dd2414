"""Parquet, Feather and Arrow IPC (file and stream) sources.

``ParquetFile.iter_batches`` and Arrow IPC record batches, one batch at a time; only the
selected columns are read. Integer, float, decimal, bool, null, string and dictionary-encoded
string columns are read (a null becomes NaN in a numeric column, ``""`` in a string column);
other types are an error naming the column. Arrow IPC data is validated before it is converted
(corrupt string offsets could crash the process). pyarrow is imported inside these functions
only.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from lossctl.errors import InputError, opt
from lossctl.io.cells import INT64_MAX
from lossctl.io.options import ReadOptions
from lossctl.io.source import Source, assemble
from lossctl.io.spec import read_head

__all__ = ["FeatherSource", "ParquetSource", "arrow_column"]

_WRITTEN = "check that the file was written completely"
_EMPTY = "check that the table is not empty"


def arrow_column(col, name: str) -> np.ndarray:
    """A pyarrow (Chunked)Array -> 1-D numpy with the block dtype rule."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_dictionary(t):
        col = pc.cast(col, t.value_type)
        t = col.type
    if pa.types.is_null(t):
        return np.full(len(col), np.nan)
    if pa.types.is_boolean(t) or pa.types.is_integer(t):
        if col.null_count:
            return pc.cast(col, pa.float64()).fill_null(np.nan).to_numpy()
        if pa.types.is_boolean(t):
            return pc.cast(col, pa.int64()).to_numpy()
        a = col.to_numpy()
        if a.dtype == np.uint64 and len(a) and int(a.max()) > INT64_MAX:
            return a.astype(np.float64)
        return a.astype(np.int64, copy=False)
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        if not pa.types.is_float64(t):
            col = pc.cast(col, pa.float64())
        if col.null_count:
            col = col.fill_null(np.nan)
        return col.to_numpy()
    if pa.types.is_string(t) or pa.types.is_large_string(t) or getattr(pa.types, "is_string_view", lambda _t: False)(t):
        if col.null_count:
            col = col.fill_null("")
        a = col.to_numpy(zero_copy_only=False)
        return a.astype(str) if len(a) else np.empty(0, dtype="<U1")
    raise InputError(f"column '{name}' has type {t}, not numbers or strings",
                     hint="store one number or string per column")


def _arrow_batch(batch, idx: list[int], names: list[str], validate: bool = False) -> np.ndarray:
    """Selected columns of a RecordBatch/Table -> (n, k) block array.

    ``validate``: check the columns' buffers first (Arrow IPC data is not checked when read,
    and converting a corrupt string column can crash the process).
    """
    cache: dict[int, np.ndarray] = {}
    cols = []
    for i in idx:
        if i not in cache:
            col = batch.column(i)
            if validate:
                col.validate(full=True)
            cache[i] = arrow_column(col, names[i])
        cols.append(cache[i])
    return assemble(cols, batch.num_rows)


def _arrow_msg(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__


class _ArrowSource(Source):
    def _check_types(self, schema, idx: list[int]) -> None:
        import pyarrow as pa

        for i in idx:
            t = schema.field(i).type
            if pa.types.is_dictionary(t):
                t = t.value_type
            ok = (pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t)
                  or pa.types.is_decimal(t) or pa.types.is_null(t) or pa.types.is_string(t)
                  or pa.types.is_large_string(t))
            if not ok:
                raise InputError(f"column '{schema.field(i).name}' has type {t}, not numbers or strings",
                                 hint=f"store one number or string per column (select others with {opt('cols')})")


class ParquetSource(_ArrowSource):
    def __init__(self, name: str, options: ReadOptions, *, path: str) -> None:
        super().__init__(name, "parquet", options)
        self._path = path
        pf = self._open()
        schema = pf.schema_arrow
        self._schema = schema
        self.columns = list(schema.names)
        self.has_header = True
        self.nrows = pf.metadata.num_rows
        if hasattr(pf, "close"):
            pf.close()
        if self.nrows == 0:
            raise InputError("has no data rows", hint=_EMPTY)

    def _open(self):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self._path)
        except (pa.ArrowException, OSError, ValueError) as e:
            raise InputError(f"is not a valid Parquet file ({_arrow_msg(e)})", hint=_WRITTEN) from e

    def _chunks(self, idx: list[int]) -> Iterator[np.ndarray]:
        import pyarrow as pa

        self._check_types(self._schema, idx)
        pf = self._open()
        names = self.columns
        uniq = sorted(set(idx))
        by_name = len(set(names)) == len(names)
        cols = [names[i] for i in uniq] if by_name else None
        pos = {i: j for j, i in enumerate(uniq)} if by_name else {i: i for i in uniq}
        sub = [pos[i] for i in idx]
        sub_names = [names[i] for i in uniq] if by_name else names
        try:
            for batch in pf.iter_batches(batch_size=self.options.block_rows, columns=cols, use_threads=True):
                yield _arrow_batch(batch, sub, sub_names)
        except pa.ArrowException as e:
            raise InputError(f"is a corrupt Parquet file ({_arrow_msg(e)})", hint=_WRITTEN) from e
        finally:
            if hasattr(pf, "close"):
                pf.close()


class FeatherSource(_ArrowSource):
    def __init__(self, name: str, options: ReadOptions, *, path: str) -> None:
        import pyarrow as pa

        super().__init__(name, "feather", options)
        self._path = path
        head = read_head(path, 8, name)
        self._format = "v1" if head.startswith(b"FEA1") else "file" if head.startswith(b"ARROW1") else "stream"
        reader, fp = self._open()
        try:
            self._schema = reader.schema
            self.columns = list(self._schema.names)
            self.has_header = True
            if self._format == "file":
                self.nrows = reader.count_rows() if hasattr(reader, "count_rows") else None
            elif self._format == "v1":
                self.nrows = reader.num_rows
        except (pa.ArrowException, OSError, ValueError) as e:
            raise InputError(f"is not a valid Feather/Arrow file ({_arrow_msg(e)})", hint=_WRITTEN) from e
        finally:
            if fp is not None:
                fp.close()
        if self.nrows == 0:
            raise InputError("has no data rows", hint=_EMPTY)

    def _open(self):
        import pyarrow as pa

        fp = None
        try:
            if self._format == "v1":
                import warnings

                from pyarrow import feather

                with warnings.catch_warnings():  # "Feather V1 is deprecated": still readable
                    warnings.simplefilter("ignore", DeprecationWarning)
                    return feather.read_table(self._path, memory_map=False), None
            fp = pa.OSFile(self._path, "rb")
            if self._format == "file":
                return pa.ipc.open_file(fp), fp
            return pa.ipc.open_stream(fp), fp
        except (pa.ArrowException, OSError, ValueError) as e:
            if fp is not None:
                fp.close()
            raise InputError(f"is not a valid Feather/Arrow file ({_arrow_msg(e)})", hint=_WRITTEN) from e

    def _chunks(self, idx: list[int]) -> Iterator[np.ndarray]:
        import pyarrow as pa

        self._check_types(self._schema, idx)
        reader, fp = self._open()
        try:
            yield from self._batches(reader, idx)
        except pa.ArrowException as e:
            raise InputError(f"is a corrupt Feather/Arrow file ({_arrow_msg(e)})", hint=_WRITTEN) from e
        finally:
            if fp is not None:
                fp.close()

    def _batches(self, reader, idx: list[int]) -> Iterator[np.ndarray]:
        if self._format == "v1":
            for batch in reader.to_batches(max_chunksize=self.options.block_rows):
                yield _arrow_batch(batch, idx, self.columns, validate=True)
        elif self._format == "file":
            for i in range(reader.num_record_batches):
                yield _arrow_batch(reader.get_batch(i), idx, self.columns, validate=True)
        else:
            rows = 0
            for batch in reader:
                rows += batch.num_rows
                yield _arrow_batch(batch, idx, self.columns, validate=True)
            if rows == 0:
                raise InputError("has no data rows", hint=_EMPTY)
