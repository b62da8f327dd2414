"""Why one loss gives different numbers under different conventions (``compare=[...]``).

The pipeline computes the loss once per convention over the same rows; :func:`reasons` says, for
each value after the first, what makes it differ: renormalised rows, clipping, weighted means,
the sum over elements, and the notes each registry entry carries.
"""
from __future__ import annotations

from collections.abc import Sequence
from lossctl.record import record
from typing import Any

from lossctl.losses.spec import LossSpec

__all__ = ["Run", "reasons"]


@record
class Run:
    """One convention's result, as :func:`reasons` needs it."""

    convention: str
    reduction: str
    value: float | None
    options: dict[str, Any]
    counters: Any


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _why(spec: LossSpec, base: Run, run: Run, weighted: bool, class_weighted: bool) -> list[str]:
    why = []
    c = base.counters
    if {base.convention, run.convention} == {"keras", "keras-jax"}:
        return [spec.jax_backend] if spec.jax_backend else []
    if "sklearn" in (base.convention, run.convention):
        return _sklearn_why(spec, base, run, weighted)
    if c.renormalised and spec.target in ("dense", "index") and spec.kind == "row":
        why.append(f"Keras renormalises {_plural(c.renormalised, 'row')} that do not sum to 1; "
                   "PyTorch does not")
    if c.clipped and spec.prediction_kind(run.options) == "probabilities":
        at = f"{_plural(c.clipped, 'row')} at the bounds"
        if spec.torch_log_clamp:
            why.append(f"Keras clips probabilities to [1e-7, 1-1e-7], PyTorch clamps log at "
                       f"-100 ({at})")
        else:
            why.append(f"Keras clips probabilities to [1e-7, 1-1e-7] ({at}); PyTorch takes "
                       "log of them as they are")
    if "always" in spec.compare_notes:
        why.append(spec.compare_notes["always"])
    if weighted and spec.torch_mean == "weights":
        why.append("weighted mean: Keras divides sum(w*l) by N, PyTorch by sum(w)")
    if class_weighted and spec.torch_mean == "class_weights":
        why.append("class weights: Keras uses them as sample weights (divides by N), "
                   "PyTorch divides by the sum of the targets' weights")
    if spec.kind == "elementwise" and run.reduction == "sum":
        why.append("sum: Keras sums per-sample means, PyTorch sums every element")
    if weighted and "weighted" in spec.compare_notes:
        why.append(spec.compare_notes["weighted"])
    return why


def _sklearn_why(spec: LossSpec, base: Run, run: Run, weighted: bool) -> list[str]:
    """Why scikit-learn's number differs from another convention's."""
    other = run.convention if base.convention == "sklearn" else base.convention
    why = []
    if spec.aggregate and spec.conventions != ("sklearn",):
        why.append("scikit-learn reduces each output column on its own (multioutput="
                   "'uniform_average'), then averages the columns")
    divides_by_n = other != "torch" or spec.torch_mean != "weights"
    if weighted and divides_by_n:
        who = "Keras" if other != "torch" else "PyTorch"
        why.append(f"weighted mean: scikit-learn divides sum(w*l) by sum(w), {who} by N")
    return why


def reasons(spec: LossSpec, runs: Sequence[Run], *, weighted: bool,
            class_weighted: bool) -> list[str]:
    """One line per run: ``"reference"`` for the first, then why each value differs from it."""
    base = runs[0]
    out = []
    for run in runs:
        if run is base:
            out.append("reference")
            continue
        if base.value is not None and run.value is not None and (
            base.value == run.value
            or abs(base.value - run.value) <= 1e-12 * max(abs(base.value), 1)
        ):
            out.append("same value")
            continue
        why = _why(spec, base, run, weighted, class_weighted)
        fallback = spec.divergences or "the conventions compute this loss differently"
        if {base.convention, run.convention} == {"keras", "keras-jax"}:
            fallback = "Keras's TensorFlow and JAX backends compute this loss differently"
        out.append("; ".join(why) if why else fallback)
    return out
