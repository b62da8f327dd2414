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


#: Library entry points, imported on first use (numpy is loaded then, not by ``import lossctl``).
_LAZY = {
    "compute": "lossctl.engine",
    "Computation": "lossctl.engine",
    "onehot": "lossctl.encoding",
    "sparse": "lossctl.encoding",
    "describe_labels": "lossctl.encoding",
    "describe_predictions": "lossctl.encoding",
    "open_source": "lossctl.readers",
    "read_array": "lossctl.readers",
    "ReadOptions": "lossctl.readers",
    "inspect_arrays": "lossctl.inspection",
}
__all__ += list(_LAZY)


def __getattr__(name: str):
    # Lazy: importlib.metadata costs a few ms, numpy-backed modules far more.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("lossctl")
        except PackageNotFoundError:  # running from a source tree that was never installed
            return "0+unknown"
    raise AttributeError(f"module 'lossctl' has no attribute {name!r}")
