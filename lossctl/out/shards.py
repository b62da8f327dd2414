"""Per-sample rows written per shard: ``-o DIR/`` on a shard set.

Each shard of Y_TRUE gets one file in the folder, named after it (its path below the shard
set's folder, the extension the format's): ``labels/part-3.npy`` in csv to the folder ``out``
is ``out/part-3.csv``. Each file is written by the process that computed the shard (a worker of
``jobs``, a Dask worker), atomically (:func:`~lossctl.out.files.atomic_open`), with the rows'
global index, so the files in shard order hold exactly the rows one ``-o rows.csv`` would (a
shard without rows writes no file).

:func:`targets` decides the names before any work (and refuses a name twice, or a name that is
an input); :class:`ShardWriter` writes one shard's blocks.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from lossctl.errors import OutputError, UsageError, opt

__all__ = ["FORMATS", "ShardWriter", "is_folder_output", "targets"]

#: the per-sample formats a shard's file can take (a table or one JSON document cannot be
#: cut), and the extension of its files
FORMATS = ("csv", "tsv", "jsonl", "npy", "parquet")
SUFFIX = {"csv": ".csv", "tsv": ".tsv", "jsonl": ".jsonl", "npy": ".npy", "parquet": ".parquet"}


def is_folder_output(output: str | os.PathLike | None) -> bool:
    """``-o DIR/`` (a trailing slash) or an existing folder."""
    if output is None or output == "-":
        return False
    out = os.fspath(output)
    return out.endswith(("/", os.sep)) or os.path.isdir(out)


def targets(folder: str, shards: Sequence[str], fmt: str | None,
            inputs: Sequence[str]) -> list[str]:
    """The file of each shard in ``folder`` (created if missing; its parent must exist).

    Raises:
        UsageError: no per-sample format, or one a shard's file cannot take.
        OutputError: two shards would write one file, a file would be an input, or the folder
            cannot be made.
    """
    from lossctl.io.shards import shard_stems
    from lossctl.out.files import check_output

    if fmt not in FORMATS:
        raise UsageError(
            f"{opt('shard_output')} {folder} writes each shard's per-sample rows to a file of its "
            f"own, and needs their format" + ("" if fmt is None else f" ({fmt} cannot be cut "
                                              "into files)"),
            hint=f"add {opt('shard_format', 'csv')} (or {', '.join(FORMATS[1:])})",
            option="shard_format")
    folder = os.fspath(folder).rstrip("/" + os.sep) or os.sep
    if not os.path.isdir(folder):
        parent = os.path.dirname(os.path.abspath(folder))
        if not os.path.isdir(parent):
            raise OutputError(f"cannot make the folder {folder}: {parent} does not exist",
                              hint=f"create it first (mkdir -p {parent})", option="shard_output")
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as err:
            raise OutputError(f"cannot make the folder {folder}: {err.strerror or err}",
                              option="shard_output") from None
    names = [os.path.join(folder, stem + SUFFIX[fmt]) for stem in shard_stems(list(shards))]
    seen: dict[str, str] = {}
    for name, shard in zip(names, shards):
        if name in seen:
            raise OutputError(f"shards {seen[name]} and {shard} would both be written to "
                              f"{name}", hint="give shards whose names differ beyond their "
                              "extensions", option="shard_output")
        seen[name] = shard
        os.makedirs(os.path.dirname(name), exist_ok=True)
        check_output(name, inputs)
    return names


class ShardWriter:
    """``on_block`` of one shard's evaluation: its per-sample rows to ``path`` in ``fmt``.
    Use as a context manager (the file appears only when every row was written)."""

    def __init__(self, path: str, fmt: str, precision: int) -> None:
        import contextlib

        self.path, self.fmt, self.precision = path, fmt, precision
        self._stack = contextlib.ExitStack()
        self._sink: Any = None
        self.ev: Any = None

    def __call__(self, block: Any) -> None:
        from lossctl.out.sink import open_rows_sink

        if self._sink is None:
            self._sink = self._stack.enter_context(open_rows_sink(
                self.ev.rows, block, self.ev.width, self.fmt, values_only=self.fmt == "npy",
                output=self.path, precision=self.precision))
        self._sink.write(*self.ev.rows.arrays(block))

    def __enter__(self) -> ShardWriter:
        self._stack.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._stack.__exit__(*exc)
