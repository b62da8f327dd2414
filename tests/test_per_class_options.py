"""Per-class option vectors: PyTorch's per-column ``pos_weight`` and Keras's per-class focal
``alpha`` (the numbers are in tests/fixtures/values_perclass.json, from the frameworks)."""
from __future__ import annotations

import numpy as np
import pytest

import lossctl
from lossctl.errors import UsageError

Y = np.array([[1, 0, 1], [0, 1, 1]], dtype=float)
Z = np.array([[2.0, -1.0, 0.5], [-0.3, 1.2, 3.0]])


def _bce(y, z, pw):
    return -(pw * y * -np.logaddexp(0, -z) + (1 - y) * -np.logaddexp(0, z))


@pytest.mark.parametrize("given", [[1.0, 2.0, 3.0], (1, 2, 3), "1,2,3", " 1, 2 ,3 "])
def test_pos_weight_vector_spellings(given):
    res = lossctl.evaluate("BCEWithLogitsLoss", Y, Z, pos_weight=given)
    assert res.value == pytest.approx(_bce(Y, Z, np.array([1.0, 2.0, 3.0])).mean(), rel=1e-14)


def test_pos_weight_vector_of_the_wrong_length():
    with pytest.raises(UsageError, match="pos_weight has 2 values but the predictions have 3"):
        lossctl.evaluate("BCEWithLogitsLoss", Y, Z, pos_weight=[1.0, 2.0])


def test_each_value_is_checked_against_the_domain():
    with pytest.raises(UsageError, match="pos_weight"):
        lossctl.evaluate("BCEWithLogitsLoss", Y, Z, pos_weight="1,-2,3")
    with pytest.raises(UsageError, match="pos_weight"):
        lossctl.evaluate("BCEWithLogitsLoss", Y, Z, pos_weight="1,nan,3")


def test_a_list_for_a_loss_that_takes_one_number_is_refused():
    with pytest.raises(UsageError, match="takes one number for this loss"):
        lossctl.evaluate("binary_focal_crossentropy", Y, 1 / (1 + np.exp(-Z)), alpha=[0.1, 0.2])


def test_cli_alpha_list(invoke, write_text):
    y = write_text("y.csv", "0,0,1\n0,1,0\n")
    p = write_text("p.csv", "0.2,0.3,0.5\n0.1,0.7,0.2\n")
    one = invoke("compute", "CategoricalFocalCrossentropy", y, p, "--alpha", "0.3")
    vec = invoke("compute", "CategoricalFocalCrossentropy", y, p, "--alpha", "0.3,0.3,0.3")
    diff = invoke("compute", "CategoricalFocalCrossentropy", y, p, "--alpha", "0.1,0.2,0.3")
    assert one.exit_code == vec.exit_code == diff.exit_code == 0, diff.stderr
    assert float(one.stdout) == pytest.approx(float(vec.stdout), rel=1e-6)
    assert float(diff.stdout) != pytest.approx(float(one.stdout), rel=1e-3)
    bad = invoke("compute", "tversky", y, p, "--alpha", "0.1,0.2")
    assert bad.exit_code == 2 and "--alpha takes one number" in bad.stderr
