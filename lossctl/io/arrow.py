"""Parquet, Feather and Arrow IPC (file and stream) sources.

``ParquetFile.iter_batches`` and Arrow IPC record batches, one batch at a time; only the
selected columns are read. Integer, float, decimal, bool, null, string and dictionary-encoded
string columns are read (a null becomes NaN in a numeric column, ``""`` in a string column);
other types are an error naming the column. Arrow IPC data is validated before it is converted
(corrupt string offsets could crash the process). pyarrow is imported inside these functions
only.

List columns (:mod:`lossctl.io.arrow_lists`): a ``fixed_size_list<number>`` column ``probs``
(or a ``list<number>`` one whose rows all hold C values) is the C columns ``probs[0]`` ..
``probs[C-1]``, selected together by ``probs`` or one by one by their names and globs, in
``(n, k)`` blocks with the scalar columns. A column of nested lists (an ``(H, W)`` array per
row) is one column entry; selected (alone) it makes the source N-D: ``dims`` is its per-row
shape and its blocks are ``(n, *dims)`` (see :mod:`lossctl.io.source`). The length of a
variable list is read from the column's first rows when the file is opened.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from lossctl.errors import InputError, UsageError, opt
from lossctl.io import arrow_lists as lists
from lossctl.io.cells import INT64_MAX
from lossctl.io.columns import select
from lossctl.io.options import ReadOptions
from lossctl.io.source import WIDE_COLUMNS, Source, to_str
from lossctl.io.spec import read_head

__all__ = ["FeatherSource", "ParquetSource", "arrow_column"]

_WRITTEN = "check that the file was written completely"
_EMPTY = "check that the table is not empty"


def _compute():
    """``pyarrow.compute``, imported only where a cast needs it (its import costs about 50 ms,
    a tenth of a small run; plain float and integer columns never need it)."""
    import pyarrow.compute as pc

    return pc


def arrow_column(col, name: str, *, narrow: bool = False) -> np.ndarray:
    """A pyarrow (Chunked)Array -> 1-D numpy with the block dtype rule. ``narrow``: a float16
    or float32 array without nulls comes back in its own dtype, without a copy where pyarrow
    allows one, for a caller that widens it as it copies it into the block."""
    import pyarrow as pa

    t = col.type
    if narrow and not col.null_count and (pa.types.is_float32(t) or pa.types.is_float16(t)):
        return col.to_numpy(zero_copy_only=False)
    if pa.types.is_dictionary(t):
        col = _compute().cast(col, t.value_type)
        t = col.type
    if pa.types.is_null(t):
        return np.full(len(col), np.nan)
    if pa.types.is_boolean(t) or pa.types.is_integer(t):
        if col.null_count:
            return _compute().cast(col, pa.float64()).fill_null(np.nan).to_numpy()
        if pa.types.is_boolean(t):
            return _compute().cast(col, pa.int64()).to_numpy()
        a = col.to_numpy()
        if a.dtype == np.uint64 and len(a) and int(a.max()) > INT64_MAX:
            return a.astype(np.float64)
        return a.astype(np.int64, copy=False)
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        if not pa.types.is_float64(t):
            col = _compute().cast(col, pa.float64())
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


def _arrow_msg(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__


def assemble_parts(parts: list[np.ndarray], n: int, order: str = "C") -> np.ndarray:
    """2-D parts ``(n, w)`` side by side -> one (n, k) array with the block dtype rule (a float
    block in ``order``: "F" copies each column contiguously)."""
    if len(parts) == 1 and parts[0].flags.writeable and parts[0].flags.c_contiguous \
            and parts[0].dtype in (np.int64, np.float64):
        return parts[0]  # (a fresh array of this batch, e.g. all the columns of one vector)
    k = sum(p.shape[1] for p in parts)
    if not parts:
        out = np.empty((n, 0), dtype=np.float64)
    elif any(p.dtype.kind == "U" for p in parts):
        parts = [p if p.dtype.kind == "U" else
                 to_str(p.astype(np.float64) if p.dtype.kind == "f" else p) for p in parts]
        width = max(p.dtype.itemsize // 4 for p in parts) or 1
        out = np.empty((n, k), dtype=f"<U{width}")
    elif all(p.dtype == np.int64 for p in parts):
        out = np.empty((n, k), dtype=np.int64)
    else:
        out = np.empty((n, k), dtype=np.float64, order=order)
    at = 0
    for p in parts:
        out[:, at : at + p.shape[1]] = p
        at += p.shape[1]
    return out


class _Plan:
    """What a selection reads: the schema fields, and the runs of columns of each."""

    def __init__(self, src: _ArrowSource, idx) -> None:
        segs = src._segments
        ids = np.asarray(idx, dtype=np.int64)
        seg_of = np.searchsorted(src._starts, ids, side="right") - 1
        self.fields = sorted({segs[int(j)].field for j in np.unique(seg_of)})
        local = ids - src._starts[seg_of]
        cut = np.flatnonzero((np.diff(seg_of) != 0) | (np.diff(local) != 1)) + 1
        bounds = np.concatenate(([0], cut, [len(ids)]))
        #: (segment, first local column, end local column) per run, in selection order
        self.runs = [(segs[int(seg_of[a])], int(local[a]), int(local[b - 1]) + 1)
                     for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        self.array = next((sg for sg, _, _ in self.runs if sg.kind == "array"), None)
        self.order = src.options.float_order()
        for sg, _, _ in self.runs:
            src._check_segment(sg)

    def convert(self, batch, pos: dict[int, int], first_row: int, validate: bool) -> np.ndarray:
        """The selected columns of a RecordBatch -> (n, k) block, or (n, *dims) of an array
        column. ``validate``: check the columns' buffers first (Arrow IPC data is not checked
        when read, and converting a corrupt string column can crash the process)."""
        cache: dict[int, np.ndarray] = {}
        for sg, _, _ in self.runs:
            if sg.field not in cache:
                col = batch.column(pos[sg.field])
                if validate:
                    col.validate(full=True)
                if sg.kind == "scalar":  # float32 widened as assemble_parts copies it
                    cache[sg.field] = arrow_column(col, sg.name, narrow=True)[:, None]
                else:
                    cache[sg.field] = lists.dense(col, sg, first_row)
        if self.array is not None:
            return cache[self.array.field]
        return assemble_parts([cache[sg.field][:, a:b] for sg, a, b in self.runs], batch.num_rows,
                              self.order)


class _ArrowSource(Source):
    _segments: list
    _starts: np.ndarray

    def _set_schema(self, schema, first_batches) -> None:
        """Columns from the schema; the lengths of variable lists from ``first_batches()``
        (record batches of every column, or of the variable-length ones by name)."""
        self._schema = schema
        segs = lists.layout(schema)
        lists.find_shapes(segs, first_batches, _pick)
        self._segments = segs
        self.columns = lists.names(segs)
        self._starts = np.array([sg.start for sg in segs], dtype=np.int64)
        self._groups = {sg.name: range(sg.start, sg.start + sg.width) for sg in segs
                        if sg.kind == "vector" and sg.shape and sg.error is None}
        self._arrays = [sg for sg in segs if sg.kind == "array"]
        if len(segs) == 1 and self._arrays and self._arrays[0].error is None:
            self.dims = self._arrays[0].shape

    def select(self, spec: str | None) -> list[int]:
        """Column SPEC -> indices (see :meth:`Source.select`); a vector column's name selects
        its columns. An array column is selected alone; it sets ``dims``."""
        empty = spec is None or not str(spec).strip()
        if not self._arrays:
            if empty and len(self.columns) > WIDE_COLUMNS:
                return range(len(self.columns))  # type: ignore[return-value]
            return select(spec, self.columns, self.name, self._groups)
        if empty and len(self._segments) > 1:
            raise UsageError(
                f"holds array columns ({_shapes(self._arrays)}) besides other columns: "
                f"choose with {opt('cols')}", source=self.name, option="cols",
                hint=f"select an array column alone, e.g. {opt('cols', self._arrays[0].name)}")
        idx = [0] if empty else select(spec, self.columns, self.name, self._groups)
        self._settle(idx, str(spec or ""))
        return idx

    def _settle(self, idx: list[int], spec: str) -> None:
        """An array column is selected alone; ``dims`` becomes the selection's row shape."""
        sg = self._array_of(idx)
        if sg is not None and len(idx) != 1:
            raise UsageError(
                f"column '{sg.name}' holds an array of shape {sg.shape} per row, so "
                f"{opt('cols', spec)} cannot select it with other columns", source=self.name,
                option="cols", hint=f"select it alone, e.g. {opt('cols', sg.name)}")
        if sg is not None:
            self._check_segment(sg)
        self.dims = None if sg is None else sg.shape

    def _array_of(self, idx) -> lists.Segment | None:
        """The array column a selection holds, if any."""
        if not self._arrays or not len(idx):
            return None
        seg_of = np.searchsorted(self._starts, np.asarray(idx, dtype=np.int64), side="right") - 1
        return next((self._segments[int(j)] for j in np.unique(seg_of)
                     if self._segments[int(j)].kind == "array"), None)

    def dims_of(self, cols) -> tuple[int, ...] | None:
        """The row shape of the selection ``cols`` (None: rows of columns)."""
        sg = self._array_of(self._check_cols(cols))
        return None if sg is None else sg.shape

    def _check_segment(self, sg) -> None:
        if sg.error is not None:
            raise sg.error
        if sg.kind == "other":
            t = self._schema.field(sg.field).type
            raise InputError(f"column '{sg.name}' has type {t}, not numbers or strings",
                             hint=f"store one number or string per column (select others "
                             f"with {opt('cols')})")

    def _plan(self, idx) -> _Plan:
        plan = _Plan(self, idx)
        if plan.array is not None and len(idx) != 1:
            raise UsageError(f"column '{plan.array.name}' holds an array per row: select it "
                             "alone", option="cols",
                             hint=f"select it alone, e.g. {opt('cols', plan.array.name)}")
        return plan


def _pick(batch, sg):
    """A segment's column in a batch read by name (projected) or whole."""
    names = batch.schema.names
    return batch.column(names.index(sg.name) if names.count(sg.name) == 1 else sg.field)


def _shapes(arrays) -> str:
    return ", ".join(f"'{a.name}' {a.shape}" for a in arrays[:5])


class ParquetSource(_ArrowSource):
    """A Parquet file; ``filesystem``: a pyarrow file system holding ``path`` (a remote one,
    :mod:`lossctl.io.remote`), else a local path."""

    def __init__(self, name: str, options: ReadOptions, *, path: str, filesystem=None) -> None:
        import pyarrow as pa

        super().__init__(name, "parquet", options)
        self._path, self._fs = path, filesystem
        pf = self._open()
        try:
            self.nrows = pf.metadata.num_rows
            self._set_schema(pf.schema_arrow, lambda segs: self._batches(pf, segs, 1024))
        except pa.ArrowException as e:
            raise InputError(f"is a corrupt Parquet file ({_arrow_msg(e)})", hint=_WRITTEN) from e
        finally:
            if hasattr(pf, "close"):
                pf.close()
        self.has_header = True
        if self.nrows == 0:
            raise InputError("has no data rows", hint=_EMPTY)

    def _open(self):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            # pre_buffer=False: pyarrow's default pre-buffering keeps every row group read so
            # far in memory until the file is closed (the whole file by the end of a pass);
            # buffer_size: column chunks read 1 MB at a time instead of whole (a row group of
            # 1M rows x 11 columns held ~100 MB more: 10M rows at the default memory limit peaked
            # at 309 MB, 64M at 209 MB)
            return pq.ParquetFile(self._path, pre_buffer=False, buffer_size=1 << 20,
                                  filesystem=self._fs)
        except (pa.ArrowException, OSError, ValueError) as e:
            raise InputError(f"is not a valid Parquet file ({_arrow_msg(e)})", hint=_WRITTEN) from e

    def _batches(self, pf, segs, rows: int) -> Iterator:
        """Record batches of ``rows`` rows of the segments' fields (by name when the names are
        unique, else every column)."""
        import pyarrow as pa

        names = self._schema.names
        by_name = len(set(names)) == len(names)
        cols = [names[f] for f in sorted({sg.field for sg in segs})] if by_name else None
        try:
            yield from pf.iter_batches(batch_size=rows, columns=cols, use_threads=True)
        except pa.ArrowException as e:
            raise InputError(f"is a corrupt Parquet file ({_arrow_msg(e)})", hint=_WRITTEN) from e

    def _chunks(self, idx: list[int]) -> Iterator[np.ndarray]:
        plan = self._plan(idx)
        pf = self._open()
        names = self._schema.names
        segs = [self._segments[f] for f in plan.fields]
        unique = len(set(names)) == len(names)
        pos = {f: (j if unique else f) for j, f in enumerate(plan.fields)}
        row = 0
        try:
            for batch in self._batches(pf, segs, self.options.block_rows):
                yield plan.convert(batch, pos, row, validate=False)
                row += batch.num_rows
        finally:
            if hasattr(pf, "close"):
                pf.close()


class FeatherSource(_ArrowSource):
    """A Feather/Arrow file; ``filesystem`` as in :class:`ParquetSource`."""

    def __init__(self, name: str, options: ReadOptions, *, path: str, filesystem=None) -> None:
        import pyarrow as pa

        super().__init__(name, "feather", options)
        self._path, self._fs = path, filesystem
        if filesystem is None:
            head = read_head(path, 8, name)
        else:
            with filesystem.open_input_stream(path) as f:
                head = f.read(8)
        self._format = "v1" if head.startswith(b"FEA1") else "file" if head.startswith(b"ARROW1") else "stream"
        reader, fp = self._open()
        try:
            self.has_header = True
            if self._format == "file":
                self.nrows = reader.count_rows() if hasattr(reader, "count_rows") else None
            elif self._format == "v1":
                self.nrows = reader.num_rows
            self._set_schema(reader.schema, lambda segs: self._record_batches(reader))
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
                    if self._fs is None:
                        return feather.read_table(self._path, memory_map=False), None
                    with self._fs.open_input_file(self._path) as f:
                        return feather.read_table(f, memory_map=False), None
            fp = pa.OSFile(self._path, "rb") if self._fs is None else \
                self._fs.open_input_file(self._path)
            if self._format == "file":
                return pa.ipc.open_file(fp), fp
            return pa.ipc.open_stream(fp), fp
        except (pa.ArrowException, OSError, ValueError) as e:
            if fp is not None:
                fp.close()
            raise InputError(f"is not a valid Feather/Arrow file ({_arrow_msg(e)})", hint=_WRITTEN) from e

    def _chunks(self, idx: list[int]) -> Iterator[np.ndarray]:
        import pyarrow as pa

        plan = self._plan(idx)
        pos = {f: f for f in plan.fields}
        reader, fp = self._open()
        try:
            rows = 0
            for batch in self._record_batches(reader):
                yield plan.convert(batch, pos, rows, validate=True)
                rows += batch.num_rows
            if rows == 0:
                raise InputError("has no data rows", hint=_EMPTY)
        except pa.ArrowException as e:
            raise InputError(f"is a corrupt Feather/Arrow file ({_arrow_msg(e)})", hint=_WRITTEN) from e
        finally:
            if fp is not None:
                fp.close()

    def _record_batches(self, reader) -> Iterator:
        if self._format == "v1":
            yield from reader.to_batches(max_chunksize=self.options.block_rows)
        elif self._format == "file":
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)
        else:
            yield from reader
