"""The ``lossctl`` command line: parse, build the request, call the library, write.

* :mod:`~lossctl.cli.app`: the typer app, root options, :func:`main` (signals);
* :mod:`~lossctl.cli.env`: the injected :class:`~lossctl.cli.env.Environment` (streams, TTYs);
* :mod:`~lossctl.cli.boundary`: errors, warnings and usage errors as one stderr line;
* :mod:`~lossctl.cli.flags`: library option names rendered as flags;
* :mod:`~lossctl.cli.options`: shared options, and the ones generated from the library;
* one module per command group: :mod:`~lossctl.cli.compute`, :mod:`~lossctl.cli.convert`
  (onehot, sparse), :mod:`~lossctl.cli.catalog` (list, explain), :mod:`~lossctl.cli.inspect`.

Only this package imports typer; only :mod:`lossctl.render` imports rich.
"""
from __future__ import annotations

from lossctl.cli import catalog, compute, convert, inspect  # noqa: F401  (register the commands)
from lossctl.cli.app import app, main

__all__ = ["app", "main"]
