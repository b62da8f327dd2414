"""Library option names as command-line flags: the only place that knows both.

The library names options in its messages through :func:`lossctl.errors.opt` (``offset``); the
CLI renders them as its flags (``--offset 1``) with :func:`renderer`. A flag is the option's
name with ``-`` for ``_`` unless a command says otherwise (the converters' input header is
``--input-header``, because their ``--header`` writes the output's).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lossctl.errors import NO_VALUE

__all__ = ["COMMAND_FLAGS", "FLAGS", "flag", "renderer"]

#: Options whose flag is not ``--name-with-dashes``, and the positional arguments.
FLAGS: dict[str, str] = {
    "y_true": "Y_TRUE",
    "y_pred": "Y_PRED",
    "loss": "LOSS",
    "input": "INPUT",
    "output": "-o",
    "num_classes": "-n/--num-classes",
    "format": "--format",
    "shard_output": "-o",  # -o DIR/: a file per shard
    "shard_format": "--format",
}

#: Per-command differences.
COMMAND_FLAGS: dict[str, dict[str, str]] = {
    "onehot": {"header": "--input-header"},
    "sparse": {"header": "--input-header", "tol": "--tolerance"},
}

_POSITIONAL = {"Y_TRUE", "Y_PRED", "LOSS", "INPUT"}


def flag(name: str, command: str | None = None) -> str:
    """The flag (or argument name) of a library option in ``command``."""
    own = COMMAND_FLAGS.get(command or "", {})
    if name in own:
        return own[name]
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def _value(v: Any) -> str:
    import shlex

    text = v if isinstance(v, str) else str(v)
    return shlex.quote(text)


def renderer(command: str | None = None) -> Callable[[str, Any], str]:
    """A :data:`lossctl.errors.FlagRenderer` for ``command``: ``offset=1`` -> ``--offset 1``,
    ``from_logits=True`` -> ``--from-logits``, ``header=False`` -> ``--no-header``."""

    def render(name: str, value: Any) -> str:
        f = flag(name, command)
        if value is NO_VALUE or f in _POSITIONAL:
            return f
        f = f.split("/")[0]  # "-n/--num-classes" with a value: "-n 8"
        if value is True:
            return f
        if value is False and f.startswith("--"):
            return "--no-" + f[2:]
        if isinstance(value, list):
            return f"{f} {_value(','.join(map(str, value)))}"
        return f"{f} {_value(value)}"

    return render
