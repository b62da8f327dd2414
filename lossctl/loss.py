"""A configured loss object, called like a Keras loss: ``Loss("scce", convention="torch")(y, p)``.

In the style of Keras's ``LossFunctionWrapper``: the name, convention, reduction and options are
fixed (and validated) when the object is made; each call computes the loss of one batch through
the same pipeline as :func:`lossctl.evaluate` and the CLI.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Loss"]


class Loss:
    """A loss with its convention, reduction and options fixed.

    >>> from lossctl import Loss
    >>> scce = Loss("scce")
    >>> round(scce([1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]), 7)
    1.1769392
    >>> Loss("CrossEntropyLoss", reduction="none")([0], [[2.0, 0.0]]).round(6).tolist()
    [0.126928]

    Args:
        name: any loss name or alias (``lossctl list``).
        convention: ``"keras"`` or ``"torch"`` (default: what the name implies).
        reduction: ``"mean"`` (default), ``"sum"``, ``"none"``, ``"mean_with_sample_weight"``,
            ``"batchmean"``.
        **options: the loss's options (``from_logits=True``, ``delta=2``, ``offset=1``, ...),
            and any keyword of :func:`lossctl.evaluate` except the inputs.

    Raises:
        UsageError: an unknown name, an option the loss does not take, a value out of range.
    """

    def __init__(self, name: str, *, convention: str | None = None,
                 reduction: str | None = None, **options: Any) -> None:
        from lossctl.pipeline import make_computations, request

        self.name = name
        self.convention = convention
        self.reduction = reduction
        self.options = dict(options)
        req = request(name, convention=convention, reduction=reduction, **self.options)
        self.spec = make_computations(req)[0].spec  # validates everything up front

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        """The loss of one batch: a float, or the per-sample array with ``reduction="none"``."""
        from lossctl.pipeline import evaluate

        res = evaluate(self.name, y_true, y_pred, sample_weight=sample_weight,
                       convention=self.convention, reduction=self.reduction, **self.options)
        return res.per_sample if res.reduction == "none" else res.value

    def __repr__(self) -> str:
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        conv = f", convention={self.convention!r}" if self.convention else ""
        red = f", reduction={self.reduction!r}" if self.reduction else ""
        return f"Loss({self.name!r}{conv}{red}{opts})"
