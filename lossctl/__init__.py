"""lossctl: loss values exactly as Keras, PyTorch and optax compute them, per-sample
breakdowns, label conversion, and the reasons the frameworks disagree.

The library layer (``lossctl.losses``, ``lossctl.encoding``, ``lossctl.readers``,
``lossctl.writers``, ``lossctl.errors``) never imports typer or rich. Importing ``lossctl`` itself
is cheap: numpy is loaded only when a library function that needs it is first used.
"""
from __future__ import annotations

from lossctl.errors import (
    DataError,
    ExitCode,
    InputError,
    LossctlError,
    LossctlNote,
    LossctlWarning,
    OutputError,
    ShapeError,
    UsageError,
)

__all__ = [
    "DataError",
    "ExitCode",
    "InputError",
    "LossctlError",
    "LossctlNote",
    "LossctlWarning",
    "OutputError",
    "ShapeError",
    "UsageError",
    "__version__",
]


def __getattr__(name: str):
    # Lazy: importlib.metadata costs a few ms, numpy-backed modules far more.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("lossctl")
        except PackageNotFoundError:  # running from a source tree that was never installed
            return "0+unknown"
    raise AttributeError(f"module 'lossctl' has no attribute {name!r}")
