"""lossctl: loss values exactly as Keras, PyTorch and optax compute them, per-sample
breakdowns, label conversion, and the reasons the frameworks disagree.

::

    import lossctl
    lossctl.evaluate("scce", "samples/digits_labels.csv", "samples/digits_probs.csv").value
    lossctl.evaluate("scce", [1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]).per_sample
    lossctl.Loss("CrossEntropyLoss")([0, 1], [[2.0, 0.0], [0.0, 2.0]])
    lossctl.onehot([1, 2], 3)

The library (everything but :mod:`lossctl.cli` and :mod:`lossctl.render`) never imports typer or
rich. Importing ``lossctl`` itself is cheap: numpy is loaded only when a library function that
needs it is first used.
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
    ThresholdExceeded,
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
    "ThresholdExceeded",
    "UsageError",
    "__version__",
]


#: Library entry points, imported on first use (numpy is loaded then, not by ``import lossctl``).
_LAZY = {
    "evaluate": ("lossctl.pipeline", "evaluate"),
    "compute": ("lossctl.pipeline", "evaluate"),  # the name of the earlier releases
    "Evaluation": ("lossctl.pipeline", "Evaluation"),
    "Request": ("lossctl.pipeline", "Request"),
    "Result": ("lossctl.result", "Result"),
    "Loss": ("lossctl.loss", "Loss"),
    "Computation": ("lossctl.engine", "Computation"),
    "onehot": ("lossctl.encoding", "onehot"),
    "sparse": ("lossctl.decoding", "sparse"),
    "describe_labels": ("lossctl.detection", "describe_labels"),
    "describe_predictions": ("lossctl.detection", "describe_predictions"),
    "open_source": ("lossctl.io", "open_source"),
    "read_array": ("lossctl.io", "read_array"),
    "ReadOptions": ("lossctl.io", "ReadOptions"),
    "inspect_arrays": ("lossctl.inspection", "inspect_arrays"),
}
__all__ += list(_LAZY)


def __getattr__(name: str):
    # Lazy: importlib.metadata costs a few ms, numpy-backed modules far more.
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("lossctl")
        except PackageNotFoundError:  # running from a source tree that was never installed
            return "0+unknown"
    raise AttributeError(f"module 'lossctl' has no attribute {name!r}")
