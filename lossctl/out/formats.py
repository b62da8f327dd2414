"""Output formats: the names, the file extensions that imply them, and choosing one.

Formats (:data:`FORMATS`):

* ``csv`` / ``tsv``: text, optional header row, floats with full ``repr`` round-trip precision,
  NaN as ``nan`` and infinities as ``inf`` / ``-inf`` (:mod:`lossctl.out.csv`);
* ``json``: an array of row objects (a sink), any JSON value (:func:`~lossctl.out.write_json`) or
  a document streamed field by field (:func:`~lossctl.out.json_document`); always strict JSON:
  NaN and infinities become ``null`` and a warning says how many (:mod:`lossctl.out.json`);
* ``jsonl``: one JSON object per row;
* ``npy``: one ``float64`` or ``int64`` array, written incrementally (:mod:`lossctl.out.npy`);
* ``parquet``: a table of typed columns (``int64``, ``float64``, ``string``), one row group per
  block or per few blocks, written with pyarrow (:mod:`lossctl.out.parquet`);
* ``table``: a table for people, rounded to ``precision`` digits (:mod:`lossctl.out.table`); the
  library draws it as plain aligned text, or hands the rows to an injected renderer (the CLI's is
  ``render.table_renderer()``, built on rich).

This module is imported by the CLI at start-up: it imports nothing but :mod:`os` and
:mod:`lossctl.errors` (no numpy).
"""
from __future__ import annotations

import os

from lossctl.errors import UsageError, opt

__all__ = ["BINARY", "EXTENSIONS", "FORMATS", "SORTS", "format_from_extension", "is_stdout", "resolve_format"]

FORMATS = ("table", "csv", "tsv", "json", "jsonl", "npy", "parquet")

#: What per-sample data output may be ordered by (:class:`lossctl.out.order.TopRows`).
SORTS = ("row", "loss")

#: Binary formats: never written to a terminal.
BINARY = ("npy", "parquet")

#: Output file extension -> format, used for an ``output`` path when no format is given.
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".npy": "npy",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def is_stdout(output: str | os.PathLike | None) -> bool:
    """Whether an ``output`` value means standard output (``None`` or ``"-"``)."""
    return output is None or (isinstance(output, str) and output == "-")


def npy_terminal_error(fmt: str = "npy") -> UsageError:
    """The refusal to write a binary format (NPY, Parquet) to a terminal."""
    shown = "NPY" if fmt == "npy" else "Parquet"
    return UsageError(
        f"refusing to write binary {shown} to a terminal",
        hint=f"redirect to a file (> out.{fmt}) or use {opt('output', f'out.{fmt}')}",
    )


def format_from_extension(output: str | os.PathLike) -> str:
    """The format implied by an output file name (``out.json`` -> ``"json"``).

    Args:
        output: the output path.

    Returns:
        One of :data:`FORMATS` (never ``"table"``).

    Raises:
        UsageError: the extension is missing or not one of :data:`EXTENSIONS`.
    """
    name = os.fspath(output)
    ext = os.path.splitext(name)[1].lower()
    known = " ".join(EXTENSIONS)
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    if not ext:
        message = f"cannot tell the output format of {name!r}: it has no extension"
    else:
        message = f"unknown output extension {ext!r} in {name!r}"
    raise UsageError(
        message, hint=f"give {opt('format')}, or use one of the extensions {known}", option="format"
    )


def resolve_format(
    fmt: str | None,
    output: str | os.PathLike | None,
    *,
    stdout_isatty: bool,
    plain: str = "csv",
) -> str:
    """Decide the output format of a command.

    An explicit ``fmt`` wins; otherwise the extension of the ``output`` path decides; otherwise
    the output goes to standard output and is a ``table`` when stdout is a terminal and ``plain``
    when it is not (a pipe or a file). Decide ``stdout_isatty`` with ``sys.stdout.isatty()``, not
    with rich's terminal detection (``FORCE_COLOR`` and friends make rich call a pipe a terminal).

    Args:
        fmt: the requested format; ``None`` or ``"auto"`` means "not given". Case-insensitive.
        output: the output path; ``None`` or ``"-"`` means standard output.
        stdout_isatty: whether standard output is a terminal.
        plain: the format for standard output when it is not a terminal.

    Returns:
        One of :data:`FORMATS`.

    Raises:
        UsageError: unknown format or extension, or NPY or Parquet bound for a terminal.
    """
    if plain not in FORMATS:
        raise ValueError(f"plain must be one of {FORMATS}, not {plain!r}")
    to_stdout = is_stdout(output)
    if fmt is not None and fmt.strip().lower() not in ("", "auto"):
        resolved = fmt.strip().lower()
        if resolved not in FORMATS:
            raise UsageError(
                f"unknown output format {fmt!r}",
                hint=f"choose one of: {', '.join(FORMATS)}",
                option="format",
            )
    elif not to_stdout:
        resolved = format_from_extension(output)  # type: ignore[arg-type]
    else:
        resolved = "table" if stdout_isatty else plain
    if resolved in BINARY and to_stdout and stdout_isatty:
        raise npy_terminal_error(resolved)
    return resolved
