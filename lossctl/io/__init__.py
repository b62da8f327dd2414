"""One array reader for every command: text (CSV/TSV/whitespace), NPY, NPZ, Parquet, Feather/Arrow.

Open a source with :func:`open_source` (or read it whole with :func:`read_array`); it gives column
names, a column-SPEC selector, a block iterator and a row -> "line N"/"row N" mapper for messages::

    from lossctl.io import ReadOptions, open_source

    with open_source("results.csv", ReadOptions(header=True)) as src:
        y = src.select("label")
        for block in src.blocks(y):          # Block(data=(n, k) ndarray, start=first row index)
            ...

An N-D source (an NPY/NPZ array of rank 3 or more, a Parquet/Arrow column of nested lists) has
``src.dims``, the shape of one sample, and yields blocks ``(n, *dims)`` of whole samples: an
array has no columns (``src.select(None)``), a nested column is selected by its name (see
:mod:`~lossctl.io.source`). A Parquet/Arrow vector column ``probs`` is the columns ``probs[0]``
.. ``probs[C-1]``.

Zip several sources row by row with :func:`aligned`; read ahead in a worker thread with
:func:`prefetch`. Rows too wide for a block come in column pieces from
:meth:`Source.pieces` (``src.pieces(cols, max_cells=n)``: whole rows while a row has at most
``n`` cells, else one row at a time in pieces of ``n`` columns).

Modules, one concept each:

- :mod:`~lossctl.io.options`: :class:`ReadOptions` and the delimiter names (no numpy);
- :mod:`~lossctl.io.spec`: the source spec (path, ``-``, ``file.npz:key``), format detection,
  standard input and pipes, spooling; :func:`open_source`, :func:`read_array`;
- :mod:`~lossctl.io.source`: :class:`Source`, :class:`Block`, the value (dtype) rules;
- :mod:`~lossctl.io.columns`: column SPECs;
- text: :mod:`~lossctl.io.sniff` (encoding, delimiter, header rule, column kinds; for lines of
  thousands of fields :mod:`~lossctl.io.sniff_wide`),
  :mod:`~lossctl.io.cells` (fields and number rules), :mod:`~lossctl.io.text` (the source),
  :mod:`~lossctl.io.text_python`, :mod:`~lossctl.io.text_arrow` and
  :mod:`~lossctl.io.text_wide` (the three engines: small inputs, large ones, lines of
  thousands of fields), :mod:`~lossctl.io.text_errors` (their messages);
- :mod:`~lossctl.io.npy`, :mod:`~lossctl.io.npz`, :mod:`~lossctl.io.arrow` (Parquet, Feather,
  Arrow IPC; their list columns: :mod:`~lossctl.io.arrow_lists`);
- :mod:`~lossctl.io.readahead` (:func:`prefetch`), :mod:`~lossctl.io.align` (:func:`aligned`);
- :mod:`~lossctl.io.streams`: byte-stream helpers.

Every error is a :class:`~lossctl.errors.LossctlError` naming the source, the line ("line N",
1-based, counting the header and blank lines) or row ("row N", 0-based; ``row`` holds the
0-based data row when the error is about one) and the fix; options are named through
:func:`~lossctl.errors.opt` (``header=False`` in Python, its flag on the command line),
column-selection errors carry ``option="cols"``.

Importing this package (or :mod:`lossctl.io.options`) loads neither numpy nor pyarrow: the names
below are imported on first use. pyarrow is imported only to read Parquet/Arrow files and text
inputs larger than ``ReadOptions.small_text_bytes``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from lossctl.io.options import DELIMITERS, ReadOptions, normalize_delimiter

if TYPE_CHECKING:
    from lossctl.io.align import aligned
    from lossctl.io.readahead import prefetch
    from lossctl.io.source import Block, Source
    from lossctl.io.spec import open_source, read_array

__all__ = [
    "DELIMITERS",
    "Block",
    "ReadOptions",
    "Source",
    "aligned",
    "normalize_delimiter",
    "open_source",
    "prefetch",
    "read_array",
]

_LAZY = {
    "open_source": "lossctl.io.spec",
    "read_array": "lossctl.io.spec",
    "Source": "lossctl.io.source",
    "Block": "lossctl.io.source",
    "prefetch": "lossctl.io.readahead",
    "aligned": "lossctl.io.align",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # next time without __getattr__
        return value
    raise AttributeError(f"module 'lossctl.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
