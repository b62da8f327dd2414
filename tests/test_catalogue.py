"""The catalogue is complete: every loss each framework exports (tests/fixtures/
framework_exports.json, written by make_exports.py from the installed frameworks) is in the
registry under ``framework.NAME``, with a framework-computed fixture, or listed below with the
reason it cannot apply.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lossctl.losses import registry

FIXTURES = Path(__file__).parent / "fixtures"
EXPORTS = json.loads((FIXTURES / "framework_exports.json").read_text(encoding="utf-8"))
FRAMEWORKS = ("keras", "torch", "optax", "tf.nn", "sklearn")

#: Exported names that are not losses of labels and predictions, and why.
NOT_APPLICABLE = {
    "keras": {
        "Loss": "the base class of Keras losses",
        "get": "a lookup utility (name -> loss)",
        "serialize": "a configuration utility",
        "deserialize": "a configuration utility",
    },
    "torch": {},
    "optax": {
        "make_fenchel_young_loss": "a factory: it builds a loss from a max function given in "
        "code (sparsemax_loss and multiclass_perceptron_loss are two it makes)",
        "smooth_labels": "a transform of targets, not a loss (label_smoothing does it)",
    },
    "tf.nn": {
        "compute_average_loss": "a reduction helper for distributed training (sum / global "
        "batch size): --reduction sum and the batch size give it",
        "scale_regularization_loss": "scales a regularization term of model weights",
        "nce_loss": "needs the output layer's weights and biases and random negative sampling, "
        "not labels and predictions",
        "sampled_softmax_loss": "needs the output layer's weights and biases and random "
        "negative sampling, not labels and predictions",
    },
    "sklearn": {},
}


def _fixture_frameworks() -> dict[str, set[str]]:
    """canonical loss name -> the frameworks of its fixture cases."""
    out: dict[str, set[str]] = {}
    for path in [FIXTURES / "framework_values.json", *sorted(FIXTURES.glob("values_*.json"))]:
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            name = case["canonical"] or registry.get(case["loss"]).name
            fw = case["framework"]
            out.setdefault(name, set()).add(fw)
            if case["loss"] in EXPORTS["tf.nn"]:
                out[name].add("tf.nn")
    return out


CASES = [(fw, name) for fw in FRAMEWORKS for name in EXPORTS[fw]]


@pytest.mark.parametrize(("framework", "name"), CASES, ids=[f"{f}.{n}" for f, n in CASES])
def test_every_exported_loss_is_in_the_registry(framework, name):
    if name in NOT_APPLICABLE[framework]:
        return
    spec, alias = registry.lookup(f"{framework}.{name}")  # raises if not this framework's
    assert framework in registry.framework_of(spec), (framework, name, spec.name)


def test_every_exported_loss_has_a_fixture_of_its_framework():
    have = _fixture_frameworks()
    missing = []
    for fw, name in CASES:
        if name in NOT_APPLICABLE[fw]:
            continue
        try:
            spec = registry.lookup(f"{fw}.{name}")[0]
        except Exception:
            continue  # reported by the test above
        if fw not in have.get(spec.name, set()):
            missing.append(f"{fw}.{name} ({spec.name})")
    assert not missing, f"no {len(missing)} framework fixtures: {missing}"


def test_not_applicable_names_are_exported():
    stale = [f"{fw}.{n}" for fw, names in NOT_APPLICABLE.items() for n in names
             if n not in EXPORTS[fw]]
    assert not stale, stale
