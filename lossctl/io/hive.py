"""Hive-partitioned Parquet: a directory laid out ``key=value/.../part.parquet`` is one dataset
whose partition keys are columns.

Read with ``pyarrow.dataset`` (``partitioning="hive"``) over the files in the natural order of
:mod:`~lossctl.io.shards` (``part-2`` before ``part-10``), so the rows are those of the shards
one after another; the scanner reads only the selected columns, in batches of the block size,
one file at a time (bounded read-ahead), so memory stays within the budget. A key's values
are typed as pyarrow infers them: integers when every value is one, else strings. A key is a
column like any other in a column SPEC (``cols="label"``), placed after the files' columns;
an empty selection takes the files' own columns only (the keys say where a row was written,
they are not predictions). Works on local directories and, with an fsspec file system, on
remote ones (:mod:`lossctl.io.remote`).
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from lossctl.errors import InputError
from lossctl.io.arrow import _ArrowSource, _arrow_msg
from lossctl.io.options import ReadOptions

__all__ = ["HiveSource", "hive_files"]

_PARQUET = (".parquet", ".pq", ".parq")
_HINT = "check that every file is Parquet with the same columns, below key=value folders"


def hive_files(paths: list[str], root: str, filesystem=None) -> list[str] | None:
    """The files (paths in ``filesystem``, local paths without one) when every one is a
    Parquet file whose folders below ``root`` are all ``key=value``; else None."""
    if filesystem is not None:
        paths = [filesystem._strip_protocol(p) for p in paths]
    base = root.rstrip("/\\")
    keyed = False
    for p in paths:
        if not p.lower().endswith(_PARQUET) or not p.startswith(base):
            return None
        folders = p[len(base):].replace("\\", "/").strip("/").split("/")[:-1]
        if not all("=" in f and not f.startswith("=") for f in folders):
            return None
        keyed = keyed or bool(folders)
    return paths if keyed else None


class HiveSource(_ArrowSource):
    """The rows of a hive-partitioned Parquet dataset. See the module docstring."""

    def __init__(self, name: str, options: ReadOptions, *, root: str, files: list[str],
                 filesystem=None) -> None:
        import pyarrow as pa
        import pyarrow.dataset as ds

        super().__init__(name, "parquet", options)
        if filesystem is not None:
            from lossctl.io.remote import arrow_filesystem

            filesystem = arrow_filesystem(filesystem)
        try:
            self._dataset = ds.dataset(files, format="parquet", filesystem=filesystem,
                                       partitioning="hive", partition_base_dir=root)
            self._keys = list(self._dataset.partitioning.schema.names)
            self.nrows = self._dataset.count_rows()
            self._set_schema(self._dataset.schema, lambda segs: self._batches(segs, 1024))
        except (pa.ArrowException, OSError, ValueError) as e:
            raise InputError(f"is not a readable hive-partitioned Parquet dataset "
                             f"({_arrow_msg(e)})", hint=_HINT) from e
        self.has_header = True
        if self.nrows == 0:
            raise InputError("has no data rows", hint="check that the dataset is not empty")

    def select(self, spec: str | None) -> list[int]:
        """As :meth:`_ArrowSource.select`; an empty SPEC selects the files' own columns."""
        if (spec is None or not str(spec).strip()) and self._keys:
            idx = list(range(len(self.columns) - len(self._keys)))
            self._settle(idx, "")
            return idx
        return super().select(spec)

    def _batches(self, segs, rows: int) -> Iterator:
        import pyarrow as pa

        names = self._schema.names
        cols = [names[f] for f in sorted({sg.field for sg in segs})]
        try:
            scanner = self._dataset.scanner(columns=cols, batch_size=rows, use_threads=True,
                                            batch_readahead=2, fragment_readahead=1)
            for batch in scanner.to_batches():
                if batch.num_rows:
                    yield batch
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"cannot read the dataset ({_arrow_msg(e)})", hint=_HINT) from e

    def _chunks(self, idx: list[int]) -> Iterator[np.ndarray]:
        plan = self._plan(idx)
        segs = [self._segments[f] for f in plan.fields]
        pos = {f: j for j, f in enumerate(plan.fields)}
        row = 0
        for batch in self._batches(segs, self.options.block_rows):
            yield plan.convert(batch, pos, row, validate=False)
            row += batch.num_rows
