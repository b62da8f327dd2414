"""Shards: an input that is a glob (``'preds/*.parquet'``) or a directory, read as one source
whose rows are the shards' rows one shard after another.

The order is stable: paths sorted naturally (``part-2`` before ``part-10``). Labels and
predictions given as two shard sets are paired by name (:func:`pair_shards`): ``labels/part-3``
with ``preds/part-3``, or ``y_3.csv`` with ``p_3.npy`` (the numbers in the names); a shard of
one set without its match in the other is an error naming it, never a silent shift of rows. In a directory every file is a
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

__all__ = ["ShardSource", "is_glob", "natural", "open_shards", "align_shards", "pair_shards",
           "shard_paths", "shard_stems"]

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
        counts: list[int | None] = []
        for i, path in enumerate(paths):
            with open_source(path, options) as src:
                if i == 0:
                    self.kind, self.columns = src.kind, list(src.columns)
                    self.has_header, self.dims = src.has_header, src.dims
                else:
                    self._check_like_first(src, path)
                counts.append(src.nrows)
        self.counts = counts  # each shard's rows (None: a text shard, not counted)
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

    def select(self, spec: str | None) -> list[int] | None:
        """Column SPEC -> indices, as the first shard selects them (a JSON lines list field
        or a Parquet vector column by its name, an array column with its shape); every shard
        is selected alike when its rows are read."""
        self._spec = spec
        with self._open(self.paths[0], self.options) as src:
            idx = src.select(spec)
            self.dims = src.dims_of(idx)
        return idx

    def _chunks(self, idx: list[int]) -> Iterator[np.ndarray]:
        row = 0
        self._offsets = []
        for path in self.paths:
            src = self._open(path, self.options)
            try:
                if getattr(self, "_spec", None) is not None:
                    src.select(self._spec)  # (settles an array column's shape)
                self._check_like_first(src, path)
                self._offsets.append((row, path, src))
                for chunk in src.blocks(idx if self.columns else None):
                    yield chunk.data
                    row += chunk.data.shape[0]
            finally:
                src.close()

    def progress(self) -> tuple[int, int]:
        """(shards begun, shards) while the rows are read."""
        return len(self._offsets), len(self.paths)

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


# ------------------------------------------------------------------------------ pairing
_EXT = re.compile(r"(\.[A-Za-z][A-Za-z0-9]{0,7})+$")


def shard_stems(paths: list[str]) -> list[str]:
    """Each path relative to the set's common folder, without its extensions."""
    if len(paths) == 1:
        rel = [paths[0].replace("\\", "/").rsplit("/", 1)[-1]]
    else:
        root = os.path.commonpath([p.replace("://", ":/") for p in paths])
        rel = [os.path.relpath(p.replace("://", ":/"), root) for p in paths]
    return [_EXT.sub("", r) for r in rel]


def shard_keys(paths: list[str]) -> list:
    """What pairs a shard with its match: the numbers in its name when every name has some
    and they tell the shards apart, else its name (relative, without extensions)."""
    stems = shard_stems(paths)
    numbers = [tuple(int(d) for d in re.findall(r"\d+", s)) for s in stems]
    if all(numbers) and len(set(numbers)) == len(numbers):
        return numbers
    return stems


def pair_shards(first: list[str], other: list[str], names: tuple[str, str]) -> list[str]:
    """``other`` in the order that pairs each of its shards with ``first``'s by name (see
    :func:`shard_keys`); two sets whose names have nothing in common are paired in their
    natural order when their counts agree.

    Raises:
        ShapeError: a shard of one set has no match in the other (names it).
    """
    from lossctl.errors import ShapeError

    a, b = shard_keys(first), shard_keys(other)
    if [type(k) for k in a[:1]] != [type(k) for k in b[:1]]:  # numbers in one set only
        a, b = shard_stems(first), shard_stems(other)
    if a == b:
        return list(other)
    where = {k: i for i, k in enumerate(b)}
    if set(a) == set(b) and len(where) == len(b):
        return [other[where[k]] for k in a]
    if not set(a) & set(b) and len(a) == len(b):
        return list(other)
    lone = [first[i] for i, k in enumerate(a) if k not in where]
    if lone:
        what = f"{lone[0]} (in {names[0]}) has no matching shard in {names[1]}"
    else:
        known = set(a)
        what = (f"{next(other[i] for i, k in enumerate(b) if k not in known)} (in {names[1]}) "
                f"has no matching shard in {names[0]}")
    raise ShapeError(f"the shard sets do not pair up: {what} ({len(first)} shards against "
                     f"{len(other)})", hint="give both as matching shards (the same file names, "
                     "or the same numbers in them)")


def align_shards(first: Source, other: Source | None) -> None:
    """Put ``other``'s shards in the order that pairs them with ``first``'s by name, and check
    that paired shards whose rows are known hold the same number (else a shift of rows would
    pair a label with another sample's prediction)."""
    from lossctl.errors import ShapeError

    if not (isinstance(first, ShardSource) and isinstance(other, ShardSource)) or first is other:
        return
    order = pair_shards(first.paths, other.paths, (first.name, other.name))
    counts = dict(zip(other.paths, other.counts))
    other.paths, other.counts = order, [counts[p] for p in order]
    for a, b, n, m in zip(first.paths, other.paths, first.counts, other.counts):
        if n is not None and m is not None and n != m:
            raise ShapeError(f"shard {b} holds {m} rows, but its match {a} holds {n}",
                             source=other.name, hint="paired shards must hold the same samples "
                             "in the same order")
