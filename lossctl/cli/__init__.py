"""The ``lossctl`` command line: parse, build the request, call the library, write.

* :mod:`~lossctl.cli.root`: the typer app, root options, :func:`main` (signals);
* :mod:`~lossctl.cli.env`: the injected :class:`~lossctl.cli.env.Environment` (streams, TTYs);
* :mod:`~lossctl.cli.boundary`: errors, warnings and usage errors as one stderr line;
* :mod:`~lossctl.cli.flags`: library option names rendered as flags;
* :mod:`~lossctl.cli.options`: shared options, and the ones generated from the library;
* one module per command group: :mod:`~lossctl.cli.compute`, :mod:`~lossctl.cli.convert`
  (onehot, sparse), :mod:`~lossctl.cli.catalog` (list, explain), :mod:`~lossctl.cli.inspect`,
  :mod:`~lossctl.cli.models` (compare).

Only this package imports typer; only :mod:`lossctl.render` imports rich.
"""
from __future__ import annotations

from typing import Any

__all__ = ["COMMANDS", "SUMMARIES", "app", "load_commands", "main"]

#: The module that defines each command. ``lossctl compute ...`` imports only
#: :mod:`~lossctl.cli.compute` (start-up time); anything else (help, an unknown name) all.
COMMANDS = {"compute": "compute", "onehot": "convert", "sparse": "convert", "list": "catalog",
            "explain": "catalog", "inspect": "inspect", "compare": "models"}


#: The first line of each command's help, as ``lossctl --help`` lists it. ``lossctl --help``,
#: ``--version`` and an unknown command register these summaries instead of importing the
#: command modules (and, through them, the registry of every loss); a test holds each equal to
#: its command's own help.
SUMMARIES = {
    "compute": "Compute a loss exactly as Keras or PyTorch would, with a per-sample breakdown.",
    "inspect": "Say what the files hold (class indices, one-hot, probabilities, logits, ...), "
               "whether they fit together, and which loss to run, with the full command line.",
    "explain": "Explain a loss: formula, what each framework does and where they differ, when "
               "to use it, input shapes, a runnable example and its siblings.",
    "list": "List every loss: names in each framework, task, what y_true and y_pred must be, "
            "options.",
    "compare": "Compare models on the same labels: each model's value with its interval, the "
               "paired difference with its interval and a permutation p-value, per-class deltas "
               "and the samples that changed most.",
    "onehot": "Convert class labels (N,) to one-hot rows [N, C].",
    "sparse": "Convert one-hot rows [N, C] (or probabilities, or multi-hot rows) to class "
              "labels (N,).",
}


def load_commands(command: str | None = None, *, summaries: bool = False) -> None:
    """Register ``command``'s module with the app, or every command module (None); with
    ``summaries``, a command that is not one of ours registers only :data:`SUMMARIES` (enough
    for the root help, ``--version`` and "no such command")."""
    import importlib

    if command not in COMMANDS and summaries:
        from lossctl.cli.root import app

        for name, text in SUMMARIES.items():
            app.command(name=name, help=text, add_help_option=False)(_summary_only)
        return
    names = [COMMANDS[command]] if command in COMMANDS else dict.fromkeys(COMMANDS.values())
    for name in names:
        importlib.import_module(f"lossctl.cli.{name}")


def _summary_only() -> None:  # never run: a named command loads its module instead
    raise AssertionError("a summary command ran")


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
