"""Writing results: the one output layer every command uses.

Modules (one writer per format):

* :mod:`~lossctl.out.formats`: :data:`FORMATS`, :data:`EXTENSIONS`, :func:`resolve_format`;
* :mod:`~lossctl.out.files`: :func:`check_output` (a bad output fails before any work) and
  :func:`atomic_open` (a file changes only if everything was written);
* :mod:`~lossctl.out.streams`: standard output, text or binary;
* :mod:`~lossctl.out.numbers`: :func:`format_number`, numbers as text that read back exactly;
* :mod:`~lossctl.out.sink`: :func:`open_sink`, the streaming row writer of a format, and the
  :class:`Sink` base class; the writers are in :mod:`~lossctl.out.csv` (csv, tsv),
  :mod:`~lossctl.out.json` (json, jsonl, :func:`write_json`), :mod:`~lossctl.out.npy`,
  :mod:`~lossctl.out.parquet` and :mod:`~lossctl.out.table`;
* :mod:`~lossctl.out.document`: :func:`json_document`, one JSON object streamed field by field;
* :mod:`~lossctl.out.value`: :func:`write_value`, one number.

Every file output goes through :func:`atomic_open`: a temporary file in the target's folder,
renamed over the target only when everything was written, so a failure never leaves a half-written
or clobbered file. Standard output is written as the data comes; a :class:`BrokenPipeError` there
is left to propagate (the CLI ends quietly on it).

This package is library code: it never imports typer, rich or the CLI's render module (the table
format takes an injected renderer: the CLI passes ``render.table_renderer()``). Importing
``lossctl.out`` or ``lossctl.out.formats`` loads no numpy: the CLI reads the format list at
start-up. The other names are imported on first use, and numpy only inside the functions that
need it.
"""
from __future__ import annotations

from lossctl.out.formats import (
    EXTENSIONS,
    FORMATS,
    format_from_extension,
    resolve_format,
)

#: Public names imported on first use: name -> module.
_LAZY = {
    "TEMP_PREFIX": "lossctl.out.files",
    "atomic_open": "lossctl.out.files",
    "check_output": "lossctl.out.files",
    "format_number": "lossctl.out.numbers",
    "JsonArray": "lossctl.out.document",
    "JsonDocument": "lossctl.out.document",
    "json_document": "lossctl.out.document",
    "Sink": "lossctl.out.sink",
    "open_sink": "lossctl.out.sink",
    "plain_table": "lossctl.out.table",
    "write_json": "lossctl.out.json",
    "write_value": "lossctl.out.value",
}

__all__ = ["EXTENSIONS", "FORMATS", "format_from_extension", "resolve_format"]
__all__ += list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lossctl.out' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
