"""Tests for lossctl.losses.margin.

Framework numbers below were produced by running the real libraries (outside this project's
environment, which never imports them): Keras 3.15.1 on TensorFlow 2.21.0 CPU (float32, the
Keras default; ``Loss(reduction=None)`` per-sample values) and PyTorch 2.13.0+cpu (float64 unless
marked f32, ``reduction="none"``), on the ``S``/label inputs defined here. Reference-document
numbers cite ``shared/reference/losses.md``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from lossctl.errors import UsageError
from lossctl.losses import margin as M

pytestmark = pytest.mark.filterwarnings("error")

S = [[2.0, 1.5, -1.0], [0.1, 0.2, 0.3], [0.5, -1.0, -3.0], [-0.3, 0.8, 0.2]]
L01 = [[1, 0, 0], [0, 1, 1], [1, 0, 1], [0, 0, 1]]
LPM = [[1, -1, -1], [-1, 1, 1], [1, -1, 1], [-1, -1, 1]]
L012 = [[2, 0, 0], [0, 1, 1], [1, 0, 1], [0, 0, 1]]
OH = [[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 1]]
IDX = [0, 0, 0, 2]
W = [1.0, 3.0, 0.5]

# Keras 3.15.1 / TF 2.21, float32, per-sample values.
K_HINGE_01 = [0.8333333134651184, 0.8666667342185974, 1.5, 1.100000023841858]
K_SQHINGE_01 = [2.0833332538604736, 0.7800000309944153, 5.416666507720947, 1.4566665887832642]
K_HINGE_PM = K_HINGE_01  # Keras output on LPM was identical to L01 (the 0/1 labels are converted)
K_SQHINGE_PM = K_SQHINGE_01
K_HINGE_012 = [0.6666666865348816, 0.8333333134651184, 1.8333333730697632, 0.9333333373069763]
K_SQHINGE_012 = [0.6666666865348816, 0.7100000381469727, 5.75, 0.8800000548362732]
K_CATHINGE = [0.5, 1.2000000476837158, 0.5, 1.600000023841858]

# PyTorch 2.13.0+cpu, float64, reduction="none".
T_MM_P1 = [0.16666666666666666, 0.7666666666666666, 0.0, 0.7000000000000001]
T_MM_P2 = [0.08333333333333333, 0.8833333333333334, 0.0, 0.9366666666666669]
T_MM_P1_M05_W = [0.0, 0.43333333333333335, 0.0, 0.18333333333333335]
T_MM_P2_M2_W = [0.75, 3.0833333333333335, 0.08333333333333333, 1.501666666666667]
T_MM_P1_M05_W_F32 = [0.0, 0.4333333671092987, 0.0, 0.18333333730697632]  # float32
T_SOFTMARGIN = [
    [0.1269280110429725, 1.7014132779827524, 0.31326168751822286],
    [0.744396660073571, 0.5981388693815918, 0.5543552444685271],
    [0.4740769841801067, 0.31326168751822286, 3.048587351573742],
    [0.5543552444685271, 1.1711006659477778, 0.5981388693815918],
]
# x=[1000,-1000,30,-30,5], y=[1,1,-1,1,-1]: PyTorch evaluates log(1 + exp(-y x)) literally and
# returns inf for the second element, whose exact value is 1000.
T_SOFTMARGIN_EXTREME = [0.0, math.inf, 30.000000000000092, 30.000000000000092, 5.006715348489118]
T_MLSM = [0.7138676588479825, 0.6322969246412299, 1.2786420077573573, 0.7745315932659657]
T_MLSM_W = [1.7959328962501138, 0.9386636301508701, 0.9793852408405487, 1.4555755590008854]
T_MLSM_EXTREME = [666.6666666666666]  # x=[1000,-1000,1000], y=[0,1,1]


def f32(x):
    return np.array(x, dtype=np.float32)


def f64(x):
    return np.array(x, dtype=np.float64)


# ------------------------------------------------------------------ hinge / squared hinge
@pytest.mark.parametrize(
    "labels, hinge_expected, sq_expected",
    [(L01, K_HINGE_01, K_SQHINGE_01), (LPM, K_HINGE_PM, K_SQHINGE_PM), (L012, K_HINGE_012, K_SQHINGE_012)],
    ids=["01-converted", "pm1", "012-not-converted"],
)
def test_hinge_matches_keras(labels, hinge_expected, sq_expected):
    h = M.hinge(f32(labels), f32(S))
    sq = M.squared_hinge(f32(labels), f32(S))
    assert h.dtype == sq.dtype == np.float32 and h.shape == sq.shape == (4, 3)
    np.testing.assert_allclose(h.mean(axis=-1), hinge_expected, rtol=1e-6)
    np.testing.assert_allclose(sq.mean(axis=-1), sq_expected, rtol=1e-6)


def test_hinge_label_rule_by_hand():
    # all labels 0/1 -> converted: y=0, s=0.5 gives max(1 + 0.5, 0) = 1.5
    assert M.hinge(f64([[0.0, 1.0]]), f64([[0.5, 0.5]])).tolist() == [[1.5, 0.5]]
    # one label outside {0,1} -> nothing converted: y=0 contributes max(1 - 0, 0) = 1
    assert M.hinge(f64([[0.0, 2.0]]), f64([[0.5, 0.5]])).tolist() == [[1.0, 0.0]]
    assert M.hinge_labels_are_binary(f64(L01)) and not M.hinge_labels_are_binary(f64(L012))
    assert not M.hinge_labels_are_binary(f64(LPM))


def test_hinge_convert_labels_override_for_blockwise_engine():
    # A block that happens to hold only 0/1 labels from an input that also has -1 labels must
    # not be converted: the engine passes the decision made over the whole input.
    y, s = f64([[0.0, 1.0]]), f64([[0.5, -0.5]])
    np.testing.assert_array_equal(M.hinge(y, s, convert_labels=False), [[1.0, 1.5]])
    np.testing.assert_array_equal(M.hinge(y, s, convert_labels=True), [[1.5, 1.5]])
    np.testing.assert_array_equal(M.squared_hinge(y, s, convert_labels=False), [[1.0, 2.25]])


def test_hinge_optax_never_converts():
    y, s = f64([[0.0, 1.0]]), f64([[0.5, -0.5]])
    np.testing.assert_array_equal(M.hinge(y, s, convention="optax"), [[1.0, 1.5]])
    np.testing.assert_array_equal(M.hinge(y, s, convention="torch"), M.hinge(y, s))


# ------------------------------------------------------------------ categorical hinge
def test_categorical_hinge_matches_keras_and_reference_d18():
    out = M.categorical_hinge(f32(OH), f32(S))
    assert out.dtype == np.float32 and out.shape == (4,)
    np.testing.assert_allclose(out, K_CATHINGE, rtol=1e-6)
    # D18: scores [0.5, -1, -3], y = 0 -> 0.5 (neg includes the 0 at the true class)
    assert M.categorical_hinge(f64([[1, 0, 0]]), f64([[0.5, -1.0, -3.0]]))[0] == 0.5
    # D18: [[2,1.5,-1],[.1,.2,.3]], y = [0, 0] -> Keras [0.5, 1.2]
    np.testing.assert_allclose(M.categorical_hinge(f64(OH[:2]), f64(S[:2])), [0.5, 1.2], rtol=1e-15)


# ------------------------------------------------------------------ multi_margin (PyTorch)
@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({}, T_MM_P1),
        ({"p": 2}, T_MM_P2),
        ({"margin": 0.5, "class_weight": W}, T_MM_P1_M05_W),
        ({"p": 2, "margin": 2.0, "class_weight": np.array(W)}, T_MM_P2_M2_W),
    ],
    ids=["p1", "p2", "p1-margin0.5-weight", "p2-margin2-weight"],
)
def test_multi_margin_matches_torch(kwargs, expected):
    out = M.multi_margin(np.array(IDX, dtype=np.int64), f64(S), convention="torch", **kwargs)
    assert out.shape == (4,) and out.dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-16)


def test_multi_margin_float32_matches_torch_float32():
    out = M.multi_margin(np.array(IDX, dtype=np.int64), f32(S), margin=0.5, class_weight=W)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, T_MM_P1_M05_W_F32, rtol=1e-7, atol=0)


def test_multi_margin_by_hand_and_reference_d18():
    # sample y=2, x=[-0.3, 0.8, 0.2]: (1 - 0.2 - 0.3) + (1 - 0.2 + 0.8) = 2.1, / C=3
    assert M.multi_margin(np.array([2]), f64([S[3]]))[0] == pytest.approx(0.7, rel=1e-15)
    # D18: [0.1667, 0.7667] for y = [0, 0]
    np.testing.assert_allclose(M.multi_margin(np.array([0, 0]), f64(S[:2])), [1 / 6, 0.7666666666666666], rtol=1e-14)
    # the true class is skipped even though its own term would be max(0, margin) > 0
    assert M.multi_margin(np.array([0]), f64([[5.0, -5.0]]))[0] == 0.0


def test_multi_margin_options_validated():
    with pytest.raises(UsageError):
        M.multi_margin(np.array(IDX), f64(S), p=3)
    with pytest.raises(UsageError):
        M.multi_margin(np.array(IDX), f64(S), class_weight=[1.0, 2.0])
    with pytest.raises(UsageError):
        M.multi_margin(np.array(IDX), f64(S), convention="jax")


# ------------------------------------------------------------------ soft margin (PyTorch)
def test_soft_margin_matches_torch():
    out = M.soft_margin(f64(LPM), f64(S), convention="torch")
    assert out.shape == (4, 3) and out.dtype == np.float64
    np.testing.assert_allclose(out, T_SOFTMARGIN, rtol=1e-14)


def test_soft_margin_extreme_is_exact_where_torch_overflows():
    x = f64([[1000.0, -1000.0, 30.0, -30.0, 5.0]])
    y = f64([[1.0, 1.0, -1.0, 1.0, -1.0]])
    out = M.soft_margin(y, x)
    assert np.all(np.isfinite(out))
    assert out[0, 1] == 1000.0  # PyTorch: inf
    finite = np.isfinite(T_SOFTMARGIN_EXTREME)
    np.testing.assert_allclose(out[0, finite], np.array(T_SOFTMARGIN_EXTREME)[finite], rtol=1e-14)
    out32 = M.soft_margin(f32(y), f32(x))
    assert out32.dtype == np.float32 and out32[0, 1] == np.float32(1000.0)


# ------------------------------------------------------------------ multilabel soft margin
@pytest.mark.parametrize("weight, expected", [(None, T_MLSM), (W, T_MLSM_W)], ids=["plain", "class-weight"])
def test_multilabel_soft_margin_matches_torch(weight, expected):
    out = M.multilabel_soft_margin(f64(L01), f64(S), convention="torch", class_weight=weight)
    assert out.shape == (4,) and out.dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-14)


def test_multilabel_soft_margin_extreme_and_by_hand():
    out = M.multilabel_soft_margin(f64([[0.0, 1.0, 1.0]]), f64([[1000.0, -1000.0, 1000.0]]))
    np.testing.assert_allclose(out, T_MLSM_EXTREME, rtol=1e-15)
    # x = 0 gives log 2 per class whatever the label
    assert M.multilabel_soft_margin(f64([[0.0, 1.0]]), f64([[0.0, 0.0]]))[0] == pytest.approx(math.log(2), rel=1e-15)
    out32 = M.multilabel_soft_margin(f32([[0.0, 1.0, 1.0]]), f32([[1000.0, -1000.0, 1000.0]]))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, T_MLSM_EXTREME, rtol=1e-7)


def test_multilabel_soft_margin_equals_mean_bce_from_logits():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 4)) * 4
    y = rng.integers(0, 2, size=(6, 4)).astype(float)
    p = 1 / (1 + np.exp(-x))
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=-1)
    # the naive reference loses ~1e-11 relative in log(1 - p) for p near 1
    np.testing.assert_allclose(M.multilabel_soft_margin(y, x), bce, rtol=1e-9)


# ------------------------------------------------------------------ dtype, shape, extremes
CASES = [
    ("hinge", lambda y, s, i: M.hinge(y, s), "elementwise"),
    ("squared_hinge", lambda y, s, i: M.squared_hinge(y, s), "elementwise"),
    ("categorical_hinge", lambda y, s, i: M.categorical_hinge(y, s), "row"),
    ("multi_margin", lambda y, s, i: M.multi_margin(i, s, p=2, class_weight=[1.0, 2.0, 0.5, 1.0]), "row"),
    ("soft_margin", lambda y, s, i: M.soft_margin(2 * y - 1, s), "elementwise"),
    (
        "multilabel_soft_margin",
        lambda y, s, i: M.multilabel_soft_margin(y, s, class_weight=[1.0, 2.0, 0.5, 1.0]),
        "row",
    ),
]


@pytest.mark.parametrize("name, call, kind", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_dtype_shape_and_extremes(name, call, kind, dtype, scale):
    rng = np.random.default_rng(7)
    idx = rng.integers(0, 4, size=5).astype(np.int64)
    y = np.eye(4, dtype=dtype)[idx]
    s = (rng.choice([-1.0, 1.0], size=(5, 4)) * scale).astype(dtype)
    out = call(y, s, idx)
    assert out.dtype == dtype
    assert out.shape == ((5, 4) if kind == "elementwise" else (5,))
    assert np.all(np.isfinite(out)) and np.all(out >= 0)


def test_invalid_convention():
    with pytest.raises(UsageError):
        M.hinge(f64(L01), f64(S), convention="tf")


def test_docstrings_have_conventions_section():
    for name in M.__all__:
        doc = getattr(M, name).__doc__
        assert "Returns:" in doc, name
        if name != "hinge_labels_are_binary":
            assert "Conventions:" in doc and ("ELEMENTWISE" in doc or "PER-SAMPLE" in doc), name
