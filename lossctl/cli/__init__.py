"""The ``lossctl`` command line: parse, build the request, call the library, write.

* :mod:`~lossctl.cli.root`: the typer app, root options, :func:`main` (signals);
* :mod:`~lossctl.cli.env`: the injected :class:`~lossctl.cli.env.Environment` (streams, TTYs);
* :mod:`~lossctl.cli.boundary`: errors, warnings and usage errors as one stderr line;
* :mod:`~lossctl.cli.flags`: library option names rendered as flags;
* :mod:`~lossctl.cli.options`: shared options, and the ones generated from the library;
* one module per command group: :mod:`~lossctl.cli.compute`, :mod:`~lossctl.cli.convert`
  (onehot, sparse), :mod:`~lossctl.cli.catalog` (list, explain), :mod:`~lossctl.cli.inspect`.

Only this package imports typer; only :mod:`lossctl.render` imports rich.
"""
from __future__ import annotations

from typing import Any

__all__ = ["COMMANDS", "app", "load_commands", "main"]

#: The module that defines each command. ``lossctl compute ...`` imports only
#: :mod:`~lossctl.cli.compute` (start-up time); anything else (help, an unknown name) all.
COMMANDS = {"compute": "compute", "onehot": "convert", "sparse": "convert", "list": "catalog",
            "explain": "catalog", "inspect": "inspect"}


def load_commands(command: str | None = None) -> None:
    """Register ``command``'s module with the app, or every command module (None)."""
    import importlib

    names = [COMMANDS[command]] if command in COMMANDS else dict.fromkeys(COMMANDS.values())
    for name in names:
        importlib.import_module(f"lossctl.cli.{name}")


def main() -> None:
    """The ``lossctl`` console script and ``python -m lossctl`` (see
    :func:`lossctl.cli.root.main`)."""
    from lossctl.cli.root import main as _main

    _main()


def __getattr__(name: str) -> Any:
    """``lossctl.cli.app``: the typer app with every command registered (tests, in-process
    callers)."""
    if name == "app":
        load_commands()
        from lossctl.cli.root import app

        globals()["app"] = app
        return app
    raise AttributeError(name)
