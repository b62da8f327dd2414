"""Shards: an input that is a glob (``'preds/*.parquet'``) or a directory, read as one source
whose rows are the shards' rows one shard after another.

The order is stable: paths sorted naturally (``part-2`` before ``part-10``), so labels and
predictions written as matching shards line up row for row. In a directory every file is a
shard except hidden ones (``.x``, ``_SUCCESS``, ``_common_metadata``: names starting with ``.``
or ``_``), searched recursively. Every shard must have the columns (names, or count) and the
per-row shape of the first; a shard that differs is an error naming it. Each shard is opened
when its rows are reached and closed after, so memory is one shard reader's; an error in the
data names the shard and its own row (:meth:`ShardSource.location`).
"""
from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator

import numpy as np

from lossctl.errors import InputError
from lossctl.io.options import ReadOptions
from lossctl.io.source import Source

__all__ = ["ShardSource", "is_glob", "natural", "open_shards", "shard_paths"]

_GLOB = re.compile(r"[*?\[]")


def is_glob(spec: str) -> bool:
    """A spec with glob characters that is not itself an existing path."""
    return bool(_GLOB.search(spec)) and not os.path.exists(spec)


def natural(path: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]


def shard_paths(spec: str) -> list[str]:
    """The files of a glob or a directory, in natural order."""
    if os.path.isdir(spec):
        found = []
        for root, dirs, files in os.walk(spec):
            dirs[:] = [d for d in dirs if not d.startswith((".", "_"))
                       or "=" in d]  # hive partitions (key=value) are kept
            found += [os.path.join(root, f) for f in files if not f.startswith((".", "_"))]
        if not found:
            raise InputError("is a directory, and it holds no file to read", source=spec,
                             hint="give a file inside it, or a directory that holds the shards")
    else:
        found = [p for p in glob.glob(spec, recursive=True) if os.path.isfile(p)]
        if not found:
            raise InputError("no file matches this pattern", source=spec,
                             hint="check the pattern (quote it, so the shell passes it on)")
    return sorted(found, key=natural)


def open_shards(spec: str, paths: list[str], options: ReadOptions, *, root: str | None = None,
                filesystem=None) -> Source:
    """The source of the files ``paths`` found under the directory ``root``: a hive-partitioned
    Parquet dataset (:mod:`lossctl.io.hive`) when they are Parquet files below ``key=value``
    folders, else shards. ``filesystem``: the fsspec file system of remote ``paths`` (then URLs
    whose stripped form lies below ``root``)."""
    from lossctl.io.hive import HiveSource, hive_files

    if root is not None:
        files = hive_files(paths, root, filesystem)
        if files is not None:
            return HiveSource(spec, options, root=root, files=files, filesystem=filesystem)
    return ShardSource(spec, paths, options)


class ShardSource(Source):
    """The rows of several files as one source. See the module docstring."""

    def __init__(self, name: str, paths: list[str], options: ReadOptions) -> None:
        from lossctl.io.spec import open_source

        super().__init__(name, "shards", options)
        self.paths = paths
        self._open = open_source
        counts = []
        for i, path in enumerate(paths):
            with open_source(path, options) as src:
                if i == 0:
                    self.kind, self.columns = src.kind, list(src.columns)
                    self.has_header, self.dims = src.has_header, src.dims
                else:
                    self._check_like_first(src, path)
                counts.append(src.nrows)
        self.nrows = None if any(c is None for c in counts) else int(sum(counts))
        self._offsets: list[tuple[int, str, Source]] = []  # (first row, path, source) read

    def _check_like_first(self, src: Source, path: str) -> None:
        if len(src.columns) != len(self.columns) or (
                self.has_header and src.has_header and list(src.columns) != self.columns):
            raise InputError(
                f"has the columns {_short(src.columns)}, but the first shard "
                f"({self.paths[0]}) has {_short(self.columns)}", source=path,
                hint="every shard must hold the same columns")
        if src.dims != self.dims:
            raise InputError(f"holds rows of shape {src.dims}, but the first shard holds "
                             f"{self.dims}", source=path, hint="every shard must hold the "
                             "same per-row shape")

    def _chunks(self, idx: list[int]) -> Iterator[np.ndarray]:
        row = 0
        self._offsets = []
        for path in self.paths:
            src = self._open(path, self.options)
            try:
                self._check_like_first(src, path)
                self._offsets.append((row, path, src))
                for chunk in src.blocks(idx if self.columns else None):
                    yield chunk.data
                    row += chunk.data.shape[0]
            finally:
                src.close()

    def location(self, row: int) -> str:
        """A row of the whole -> ``"shard PATH, line N"``, in that shard's own terms."""
        row = int(row)
        for start, path, src in reversed(self._offsets):
            if row >= start:
                return f"shard {path}, {src.location(row - start)}"
        return f"row {row}"


def _short(names) -> str:
    names = list(names)
    shown = ", ".join(map(str, names[:6]))
    return f"[{shown}{', ...' if len(names) > 6 else ''}] ({len(names)})"
