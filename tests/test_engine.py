"""The engine: conventions, reductions, weights, masks, validation, block-wise feeding.

Golden numbers are the [V] (run) values of ../shared/reference/losses.md, produced by Keras 3.15.1
(TensorFlow 2.21), PyTorch 2.13 and scikit-learn 1.9.1.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from lossctl import evaluate as compute
from lossctl.engine import Computation
from lossctl.errors import DataError, ShapeError, UsageError
from lossctl.io import aligned
from lossctl.losses.reduction import CHUNK

LOGITS = np.array([[2, 0.5, -1], [0.1, 0.2, 0.3], [1, 1, 1]])
Y = np.array([0, 2, 1])
ONEHOT = np.eye(3)[Y]


def close(a, b, rtol=1e-6):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-9)


# --------------------------------------------------------------------------- worked examples
def test_issue_worked_examples():
    p = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    r = compute("categorical_crossentropy", [[0, 1, 0], [0, 0, 1]], p)
    close(r.value, 1.1769392)
    close(r.per_sample, [0.0512933, 2.3025851])
    # Keras's JAX/NumPy/PyTorch backends renormalise, then clip: the same number as the one-hot
    # loss. Its TensorFlow backend clips first (the 0 becomes 1e-7) and then renormalises the
    # clipped row: 1e-7 more on the first sample.
    sparse_jax = compute("sparse_categorical_crossentropy", [1, 2], p, convention="keras-jax")
    assert sparse_jax.value == pytest.approx(r.value, rel=1e-12)
    sparse_tf = compute("sparse_categorical_crossentropy", [1, 2], p)
    assert sparse_tf.per_sample[0] == pytest.approx(r.per_sample[0] + math.log1p(1e-7), rel=1e-12)
    assert sparse_tf.per_sample[1] == pytest.approx(r.per_sample[1], rel=1e-12)
    r = compute(
        "sigmoid_cross_entropy_with_logits",
        [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 0]],
        [[12, 3, 2], [3, 10, 1], [1, 2, 5], [4, 6.5, 1.2], [3, 6, 1]],
    )
    close(r.elementwise[0], [6.14419348e-06, 3.04858735e00, 2.12692801e00])
    r = compute("sparse_softmax_cross_entropy_with_logits", [2, 1], [[2, 0.5, 6], [0.1, 0, 3]])
    close(r.per_sample, [0.02215516, 3.09967364])
    close(compute("kl_divergence", [[0, 0, 0, 1]], [[0.1, 0.1, 0.1, 0.7]]).value, 0.3566708)
    r = compute("kl_div", [[0, 0, 0, 1]], np.log([[0.1, 0.1, 0.1, 0.7]]), reduction="batchmean")
    close(r.value, -math.log(0.7))
    r = compute("cce", [[0, 0, 0, 1], [0, 1, 0, 0]], [[0.1, 0.1, 0.1, 0.7], [0.1, 0.6, 0.1, 0.2]])
    close(r.per_sample, [0.35667494, 0.51082562])


# ------------------------------------------------------------------------------- reductions
def test_d8_sample_weighted_means():
    w = [1, 2, 0.5]
    r = compute("scce", Y, LOGITS, from_logits=True, sample_weight=w)
    close(r.value, 0.931501)  # Keras sum_over_batch_size: sum(w l) / N
    r = compute("scce", Y, LOGITS, from_logits=True, sample_weight=w, reduction="mean_with_sample_weight")
    close(r.value, 0.798430)  # Keras mean_with_sample_weight, = sklearn log_loss(sample_weight)


def test_d8_torch_class_weight_divisors():
    cw = [1, 3, 0.5]
    r = compute("cross_entropy", Y, LOGITS, class_weight=cw)
    close(r.value, 0.897360)  # index targets: sum(w_y l) / sum(w_y)
    r = compute("cross_entropy", ONEHOT, LOGITS, class_weight=cw)
    close(r.value, 1.346040)  # probability targets: / N
    r = compute("cross_entropy", Y, LOGITS, class_weight=cw, label_smoothing=0.1)
    close(r.value, 0.933834)
    r = compute("cross_entropy", ONEHOT, LOGITS, class_weight=cw, label_smoothing=0.1)
    close(r.value, 1.400751)


def test_label_smoothing_goldens():
    r = compute("cce", ONEHOT, LOGITS, from_logits=True, label_smoothing=0.1)
    close(r.per_sample, [0.391311, 1.011943, 1.098612])
    r = compute("scce", Y, LOGITS, from_logits=True, label_smoothing=0.1)
    close(r.per_sample, [0.391311, 1.011943, 1.098612])
    r = compute("bce", [[1], [0]], [[0.9], [0.3]], label_smoothing=0.2, reduction="none")
    close(r.per_sample, [0.325083, 0.441405])


def test_d9_weighted_regression():
    y, p, w = [[1.5], [2], [5]], [[1], [2], [3]], [1, 2, 3]
    close(compute("mse", y, p, sample_weight=w).value, 4.083333)
    close(compute("mse", y, p, sample_weight=w, reduction="mean_with_sample_weight").value, 2.041667)
    close(compute("mse_loss", y, p, sample_weight=w).value, 2.041667)
    close(compute("huber_loss", y, p, sample_weight=w).value, 1.541667)


def test_ignore_class_keras_and_torch():
    y = np.array([0, -1, 1])
    lg = LOGITS[[0, 1, 2]]
    r = compute("scce", y, lg, from_logits=True, ignore_class=-1)
    close(r.value, 0.669962)
    close(r.per_sample[1], 0.0)
    close(compute("scce", y, lg, from_logits=True, ignore_class=-1, reduction="sum").value, 1.339924)
    close(compute("cross_entropy", y, lg, ignore_class=-1).value, 0.669962)
    # torch ignores -100 by default
    close(compute("cross_entropy", [0, -100, 1], lg).value, 0.669962)


def test_d10_all_ignored():
    y = np.array([-1, -1])
    assert compute("scce", y, LOGITS[:2], from_logits=True, ignore_class=-1).value == 0.0
    assert math.isnan(compute("cross_entropy", y, LOGITS[:2], ignore_class=-1).value)


def test_torch_sum_of_elementwise_loss_sums_elements():
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = np.array([[0.5, 1.0], [2.0, 0.5]])
    e = (p - y) ** 2
    close(compute("mse_loss", y, p, reduction="sum").value, e.sum())
    close(compute("mse", y, p, reduction="sum").value, e.mean(axis=1).sum())
    close(compute("mse_loss", y, p).value, e.mean())


def test_kl_div_mean_vs_batchmean():
    t = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    lq = np.log(np.array([[0.3, 0.3, 0.4], [0.2, 0.2, 0.6]]))
    rows = (t * (np.log(t) - lq)).sum(axis=1)
    close(compute("kl_div", t, lq).value, rows.sum() / 6)
    close(compute("kl_div", t, lq, reduction="batchmean").value, rows.sum() / 2)
    close(compute("kl_div", t, lq, reduction="sum").value, rows.sum())


def test_rmse_sqrt_after_mean():
    y, p = [[0.0], [0.0]], [[3.0], [4.0]]
    r = compute("rmse", y, p)
    close(r.value, math.sqrt(12.5))
    close(r.per_sample, [3.0, 4.0])


def test_reduction_none_has_no_value_and_weighted_per_sample():
    r = compute("mse", [[0.0], [0.0]], [[1.0], [2.0]], sample_weight=[2, 1], reduction="none")
    assert r.value is None
    close(r.per_sample, [2.0, 4.0])  # Keras reduction=None returns w * l


def test_keras_class_weight_is_a_sample_weight():
    r = compute("scce", Y, LOGITS, from_logits=True, class_weight=[1, 3, 0.5])
    base = compute("scce", Y, LOGITS, from_logits=True).per_sample
    close(r.value, (base * np.array([1, 0.5, 3])).sum() / 3)


def test_float32_reproduces_keras_saturation():
    assert compute("bce", [[0]], [[1.0]], dtype="float32").value == pytest.approx(15.942385, rel=1e-6)
    assert compute("bce", [[1]], [[0.0]]).value == pytest.approx(16.118095, rel=1e-6)
    assert compute("bce", [[1]], [[0.0]], convention="torch").value == pytest.approx(100.0)


# ---------------------------------------------------------------------------------- blocks
@pytest.mark.parametrize(
    "block, n", [(1, 700), (7, 5000), (1000, 2 * CHUNK + 123), (CHUNK - 1, 2 * CHUNK + 123),
                 (CHUNK + 3, 2 * CHUNK + 123)]
)
def test_block_size_does_not_change_a_bit(block, n):
    rng = np.random.default_rng(5)
    c = 4
    logits = rng.normal(size=(n, c)) * 3
    y = rng.integers(0, c, size=n)
    w = rng.random(n)
    whole = compute("scce", y, logits, from_logits=True, sample_weight=w)
    comp = Computation("scce", from_logits=True)
    for start in range(0, n, block):
        s = slice(start, start + block)
        comp.feed(y[s], logits[s], w[s], start=start)
    assert comp.finish().value == whole.value


def test_aligned_rechunks_streams_of_different_block_sizes():
    class B:
        def __init__(self, d):
            self.data = d

    a = [B(np.arange(i, min(i + 3, 10))) for i in range(0, 10, 3)]
    b = [B(np.arange(i, min(i + 4, 10))) for i in range(0, 10, 4)]
    got = list(aligned(a, b, None))
    assert sum(x[1][0].shape[0] for x in got) == 10
    for start, (x, y, z) in got:
        assert z is None
        np.testing.assert_array_equal(x, y)
        assert x[0] == start


def test_aligned_reports_unequal_lengths():
    with pytest.raises(ShapeError):
        list(aligned([np.zeros(3)], [np.zeros(5)]))


# ------------------------------------------------------------------------------- diagnostics
def test_labels_one_based_get_offset_hint():
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(DataError) as e:
        compute("scce", [1, 3], p)
    # Python users read the Python option; the CLI renders the same reference as its flag
    assert "out of range [0, 3)" in str(e.value) and "use offset=1" in str(e.value)
    assert e.value.row == 1
    from lossctl.cli.flags import renderer

    assert "use --offset 1" in e.value.render(renderer("compute"))
    close(compute("scce", [1, 3], p, offset=1).value, math.log(3))


def test_one_hot_labels_to_sparse_loss():
    with pytest.raises(ShapeError) as e:
        compute("scce", np.eye(3), np.full((3, 3), 1 / 3))
    assert "one-hot" in str(e.value) and "categorical_crossentropy" in str(e.value)


def test_index_labels_to_categorical_loss_names_keras_error():
    with pytest.raises(ShapeError) as e:
        compute("cce", [[1], [2]], np.full((2, 10), 0.1))
    msg = str(e.value)
    assert "Shapes (N, 1) and (N, 10) are incompatible" in msg
    assert "sparse_categorical_crossentropy" in msg and "lossctl onehot" in msg


def test_probabilities_outside_unit_interval_suggest_from_logits():
    with pytest.raises(DataError) as e:
        compute("bce", [[1], [0]], [[2.0], [-3.0]])
    assert "from_logits=True" in str(e.value) and "row 0" in str(e.value)
    from lossctl.cli.flags import renderer

    assert "add --from-logits" in e.value.render(renderer("compute"))


def test_rounding_above_one_is_accepted_with_a_note():
    with pytest.warns(UserWarning, match="rounding"):
        r = compute("bce", [[1]], [[1.0000001]])
    assert math.isfinite(r.value)


def test_nan_prediction_names_the_row():
    with pytest.raises(DataError) as e:
        compute("mse", [[1], [2]], [[1], [np.nan]])
    assert "row 1" in str(e.value)


def test_fractional_labels_refused():
    with pytest.raises(DataError, match="not a whole number"):
        compute("scce", [1.5, 0], np.full((2, 3), 1 / 3))
    assert compute("scce", [1.0, 0.0], np.full((2, 3), 1 / 3)).samples == 2


def test_option_that_does_not_apply_is_a_usage_error():
    with pytest.raises(UsageError, match="^delta does not apply to categorical_crossentropy") as e:
        compute("cce", [[1, 0]], [[0.5, 0.5]], delta=2.0)
    assert e.value.option == "delta"
    with pytest.raises(UsageError):
        compute("mse", [[1]], [[1]], offset=1)
    with pytest.raises(UsageError):
        compute("cce", [[1, 0]], [[0.5, 0.5]], elementwise=True)


def test_unknown_loss_suggests():
    with pytest.raises(UsageError, match="(?i)did you mean"):
        compute("categorical_crossentropyy", [[1, 0]], [[0.5, 0.5]])


def test_names_are_case_and_dash_insensitive():
    a = compute("Sparse-Categorical-Crossentropy", [1], [[0.5, 0.5]]).value
    b = compute("SparseCategoricalCrossentropy", [1], [[0.5, 0.5]]).value
    assert a == b == pytest.approx(math.log(2))


def test_string_labels_need_classes():
    p = [[0.2, 0.8], [0.6, 0.4]]
    with pytest.raises(DataError, match="class names"):
        compute("scce", np.array(["dog", "cat"]), p)
    r = compute("scce", np.array(["dog", "cat"]), p, classes=["cat", "dog"])
    close(r.per_sample, [-math.log(0.8), -math.log(0.6)])


def test_sample_weights_validated():
    with pytest.raises(ShapeError, match="2 sample weights for 3 rows"):
        compute("mse", [[1], [2], [3]], [[1], [2], [3]], sample_weight=[1, 2])
    with pytest.raises(DataError, match="non-negative"):
        compute("mse", [[1], [2]], [[1], [2]], sample_weight=[1, -2])


def test_rows_not_summing_to_one_warn_once_with_count():
    with pytest.warns(UserWarning, match="2 probability rows do not sum to 1"):
        r = compute("cce", [[1, 0, 0], [0, 1, 0]], [[0.2, 0.2, 0.2], [0.3, 0.3, 0.3]])
    close(r.per_sample[0], math.log(3))  # D4: Keras renormalises
    with pytest.warns(UserWarning):
        r = compute("cce", [[0, 1, 0]], [[0.2, 0.2, 0.2]], convention="torch")
    close(r.value, 1.609438)  # D4: PyTorch nll(log p)


def test_hinge_conversion_decided_once_across_blocks():
    comp = Computation("hinge")
    comp.feed([[0], [1]], [[0.5], [0.5]])
    with pytest.raises(DataError, match="converted"):
        comp.feed([[2], [1]], [[0.5], [0.5]], start=2)


def test_library_entry_points_from_the_package():
    import subprocess
    import sys

    code = (
        "import sys, lossctl; assert 'numpy' not in sys.modules; "
        "from lossctl import compute, onehot, sparse, read_array; "
        "r = compute('scce', [1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]); "
        "print(round(r.value, 7), onehot([1, 2], num_classes=3).tolist(), sparse([[0, 1, 0]]).tolist())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == "1.1769392"
    assert "[[0, 1, 0], [0, 0, 1]]" in out.stdout
