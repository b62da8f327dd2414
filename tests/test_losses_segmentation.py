"""Tests for lossctl.losses.segmentation.

Framework numbers below were produced by running Keras 3.15.1 on TensorFlow 2.21.0 CPU (float32,
the Keras default) outside this project's environment, on the ``YS``/``PS`` inputs defined here:
``Dice(axis=1, reduction=None)``, ``Dice()`` (default axis=None, pooled over the batch),
``Tversky(alpha, beta, axis=1, reduction=None)`` and ``Tversky(alpha, beta)``.
"""
from __future__ import annotations

import numpy as np
import pytest

from lossctl.errors import UsageError
from lossctl.losses import segmentation as S

pytestmark = pytest.mark.filterwarnings("error")

YS = [[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 1, 1, 1]]
PS = [[0.9, 0.2, 0.6, 0.0], [0.1, 0.0, 0.8, 0.3], [0.0, 0.0, 0.0, 0.0], [0.2, 0.7, 0.9, 0.4]]

K_DICE_AXIS1 = [0.4054054021835327, 0.9090908765792847, 1.0, 0.23076927661895752]
K_DICE_DEFAULT = 0.4234234690666199  # axis=None: one ratio pooled over the whole batch
K_DICE_AXIS1_MEAN = 0.6363164186477661  # Dice(axis=1)(...) with the default reduction
K_TVERSKY_73_AXIS1 = [0.4240838289260864, 0.9056603908538818, 1.0, 0.2753623127937317]
K_TVERSKY_73_DEFAULT = 0.4415358304977417
K_TVERSKY_37_AXIS1 = [0.3854748606681824, 0.9122806787490845, 1.0, 0.18032795190811157]
K_TVERSKY_37_DEFAULT = 0.4040968418121338


def f32(x):
    return np.array(x, dtype=np.float32)


def f64(x):
    return np.array(x, dtype=np.float64)


def test_dice_per_sample_matches_keras_axis1():
    out = S.dice(f32(YS), f32(PS))
    assert out.dtype == np.float32 and out.shape == (4,)
    np.testing.assert_allclose(out, K_DICE_AXIS1, rtol=1e-6)
    assert out.mean() == pytest.approx(K_DICE_AXIS1_MEAN, rel=1e-6)


def test_dice_pooled_matches_keras_default_axis_none():
    sums = S.overlap_sums(f32(YS), f32(PS))
    assert sums.shape == (4, len(S.OVERLAP_COLUMNS)) and sums.dtype == np.float32
    pooled = S.dice_from_sums(sums.sum(axis=0))
    assert pooled.shape == () and pooled == pytest.approx(K_DICE_DEFAULT, rel=1e-6)
    # the pooled ratio is not the mean of the per-sample values
    assert abs(pooled - S.dice(f32(YS), f32(PS)).mean()) > 0.1


def test_dice_pooled_from_blocks_equals_whole_batch():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, size=(50, 6)).astype(float)
    p = rng.uniform(size=(50, 6))
    whole = S.dice_from_sums(S.overlap_sums(y, p).sum(axis=0))
    blocks = sum(S.overlap_sums(y[i : i + 16], p[i : i + 16]).sum(axis=0) for i in range(0, 50, 16))
    assert S.dice_from_sums(blocks) == pytest.approx(whole, rel=1e-14)
    direct = 1 - 2 * (y * p).sum() / (y.sum() + p.sum() + 1e-7)
    assert whole == pytest.approx(direct, rel=1e-14)


def test_dice_keras_docstring_example():
    # keras.losses.dice docstring (4-D inputs flattened per sample): axis=(1,2,3) -> [0.5,
    # 0.75757575]; axis=None -> 0.6164384.
    y = f32([[1, 1, 0, 0], [1, 1, 0, 0]])
    p = f32([[0, 1, 0, 1], [0.4, 0, 0, 0.9]])
    np.testing.assert_allclose(S.dice(y, p), [0.5, 0.75757575], rtol=1e-6)
    assert S.dice_from_sums(S.overlap_sums(y, p).sum(axis=0)) == pytest.approx(0.6164384, rel=1e-6)


def test_dice_by_hand_float64():
    # row 0: I = 1.1, Σy = 2, Σp = 1.7 -> 1 - 2.2 / (3.7 + 1e-7)
    out = S.dice(f64(YS), f64(PS))
    assert out[0] == pytest.approx(1 - 2.2 / (3.7 + 1e-7), rel=1e-15)
    assert out[2] == 1.0  # empty row: 1 - 0 / eps
    assert S.dice(f64([[1.0, 0.0]]), f64([[1.0, 0.0]]))[0] == pytest.approx(1e-7 / 2, rel=1e-6)


@pytest.mark.parametrize(
    "alpha, beta, per_sample, pooled",
    [(0.7, 0.3, K_TVERSKY_73_AXIS1, K_TVERSKY_73_DEFAULT), (0.3, 0.7, K_TVERSKY_37_AXIS1, K_TVERSKY_37_DEFAULT)],
)
def test_tversky_matches_keras(alpha, beta, per_sample, pooled):
    out = S.tversky(f32(YS), f32(PS), alpha=alpha, beta=beta)
    assert out.dtype == np.float32 and out.shape == (4,)
    np.testing.assert_allclose(out, per_sample, rtol=1e-6)
    total = S.overlap_sums(f32(YS), f32(PS)).sum(axis=0)
    assert S.tversky_from_sums(total, alpha=alpha, beta=beta) == pytest.approx(pooled, rel=1e-6)


def test_tversky_alpha_weights_missed_target_mass_as_keras_code_does():
    # row 0: TP = 1.1, Σ y(1-p) = 0.9 (false negatives), Σ (1-y)p = 0.6 (false positives)
    out = S.tversky(f64(YS[:1]), f64(PS[:1]), alpha=0.7, beta=0.3)[0]
    assert out == pytest.approx(1 - 1.1 / (1.1 + 0.7 * 0.9 + 0.3 * 0.6 + 1e-7), rel=1e-14)
    assert out != pytest.approx(1 - 1.1 / (1.1 + 0.7 * 0.6 + 0.3 * 0.9 + 1e-7), rel=1e-6)


def test_tversky_half_half_is_dice_up_to_eps():
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, size=(20, 5)).astype(float)
    p = rng.uniform(size=(20, 5))
    np.testing.assert_allclose(S.tversky(y, p), S.dice(y, p), rtol=1e-6)


@pytest.mark.parametrize("fn", [S.dice, S.tversky])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_shape_and_extremes(fn, dtype):
    y = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 1], [0, 1, 0]], dtype=dtype)
    p = np.array([[0, 0, 0], [1, 1, 1], [0, 1, 0], [1e-30, 1, 1e-30]], dtype=dtype)
    out = fn(y, p)
    assert out.dtype == dtype and out.shape == (4,)
    assert np.all(np.isfinite(out)) and np.all((out >= 0) & (out <= 1))
    assert out[0] == 1.0 and out[2] == 1.0  # nothing predicted where the targets are
    assert out[1] < 1e-6  # perfect overlap


def test_y_true_cast_and_convention_checked():
    assert S.dice(f64(YS), f32(PS)).dtype == np.float32
    np.testing.assert_array_equal(S.dice(f64(YS), f64(PS), convention="torch"), S.dice(f64(YS), f64(PS)))
    with pytest.raises(UsageError):
        S.dice(f64(YS), f64(PS), convention="pytorch")


def test_docstrings_have_conventions_section():
    for name in ("dice", "tversky"):
        doc = getattr(S, name).__doc__
        assert "Conventions:" in doc and "PER-SAMPLE" in doc and "axis=None" in doc
