"""Tests for lossctl.losses.regression.

Framework numbers below were produced by running the real libraries (outside this project's
environment, which never imports them): Keras 3.15.1 on TensorFlow 2.21.0 CPU (float32, the
Keras default), PyTorch 2.13.0+cpu (float64 unless marked f32) and scikit-learn 1.9.1, with the
``Y``/``P`` inputs defined here. Reference-document numbers cite ``shared/reference/losses.md``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from lossctl.errors import UsageError
from lossctl.losses import regression as R

pytestmark = pytest.mark.filterwarnings("error")  # no RuntimeWarning may escape a loss function

Y = [[0.0, 1.5, -2.0], [3.0, 100.0, -50.0]]
P = [[1.0, 2.0, -1.0], [0.5, 110.0, -40.0]]
YC = [[0.0, 1.0, 3.0], [5.0, 2.0, 0.0]]  # counts
PR = [[0.5, 1.0, 2.0], [4.0, 0.0, 3.0]]  # rates
PL = [[0.5, 0.0, 0.693], [1.5, -2.0, 1.0]]  # log-rates

# Keras 3.15.1 / TF 2.21, float32, Loss(reduction=None)(Y, P): per-sample values.
K_MSE = [0.75, 68.75]
K_MAE = [0.8333333134651184, 7.5]
K_MAPE = [333333312.0, 37.77777862548828]
K_MSLE = [0.17123132944107056, 0.3236463963985443]
K_HUBER1 = [0.375, 7.0]
K_HUBER2 = [0.375, 13.0]
K_LOGCOSH = [0.3292253613471985, 6.809091091156006]
K_POISSON = [0.4735194444656372, 10.76823902130127]  # Poisson()(YC, PR)
K_METRIC_RMSE = 5.894913196563721  # keras.metrics.RootMeanSquaredError on (Y, P)

# PyTorch 2.13.0+cpu, float64, reduction="none": elementwise values.
T_HUBER1 = [[0.5, 0.125, 0.5], [2.0, 9.5, 9.5]]
T_HUBER2 = [[0.5, 0.125, 0.5], [3.0, 18.0, 18.0]]
T_SL1_1 = [[0.5, 0.125, 0.5], [2.0, 9.5, 9.5]]
T_SL1_2 = [[0.25, 0.0625, 0.25], [1.5, 9.0, 9.0]]
T_SL1_0 = [[1.0, 0.5, 1.0], [2.5, 10.0, 10.0]]
T_PNLL_LOG = [
    [1.6487212707001282, 1.0, -0.0792943394588359],
    [-3.0183109296619355, 4.135335283236612, 2.718281828459045],
]
T_PNLL_LOG_FULL = [
    [1.6487212707001282, 1.0, 1.684787204084221],
    [1.752536121930289, 4.787141767841148, 2.718281828459045],
]
T_PNLL_RATE = [
    [0.5, 0.9999999900000001, -0.07944155667983566],
    [-2.9314718180994532, 36.841361487904734, 3.0],
]
T_PNLL_RATE_FULL = [
    [0.5, 0.9999999900000001, 1.6846399868632211],
    [1.8393752334927713, 37.49316797250927, 3.0],
]
# PyTorch 2.13.0+cpu, float32.
T32_PNLL_LOG_FULL = [
    [1.6487212181091309, 1.0, 1.6847872734069824],
    [1.7525362968444824, 4.787141799926758, 2.7182817459106445],
]

# scikit-learn 1.9.1, multioutput="raw_values" (per output column, mean over rows).
SK_PINBALL_09 = [1.175, 0.5249999999999999, 0.5499999999999998]
SK_PINBALL_05 = [0.875, 2.625, 2.75]
SK_RMSE_RAW = [1.9039432764659772, 7.079901129253148, 7.106335201775948]

ALL = [
    (R.mean_squared_error, {}),
    (R.mean_absolute_error, {}),
    (R.mean_absolute_percentage_error, {}),
    (R.mean_squared_logarithmic_error, {}),
    (R.root_mean_squared_error, {}),
    (R.huber, {"delta": 1.5}),
    (R.smooth_l1, {"beta": 0.5}),
    (R.log_cosh, {}),
    (R.poisson, {}),
    (R.poisson_nll, {"full": True}),
    (R.poisson_nll, {"log_input": False, "full": True}),
    (R.pinball, {"quantile": 0.3}),
    (R.l2_loss, {}),
]
IDS = [f"{fn.__name__}{kw or ''}" for fn, kw in ALL]
# poisson_nll on log-rates overflows exp() beyond ~88.7 / ~709.8 by definition (tested separately)
EXTREME = [(fn, kw) for fn, kw in ALL if not (fn is R.poisson_nll and kw.get("log_input", True))]
EXTREME_IDS = [f"{fn.__name__}{kw or ''}" for fn, kw in EXTREME]


def f32(x):
    return np.array(x, dtype=np.float32)


def f64(x):
    return np.array(x, dtype=np.float64)


# ------------------------------------------------------------------ Keras 3 (float32)
@pytest.mark.parametrize(
    "fn, kwargs, expected",
    [
        (R.mean_squared_error, {}, K_MSE),
        (R.mean_absolute_error, {}, K_MAE),
        (R.mean_absolute_percentage_error, {}, K_MAPE),
        (R.mean_squared_logarithmic_error, {}, K_MSLE),
        (R.huber, {"delta": 1.0}, K_HUBER1),
        (R.huber, {"delta": 2.0}, K_HUBER2),
        (R.log_cosh, {}, K_LOGCOSH),
    ],
    ids=["mse", "mae", "mape", "msle", "huber1", "huber2", "log_cosh"],
)
def test_keras_float32_per_sample(fn, kwargs, expected):
    out = fn(f32(Y), f32(P), convention="keras", **kwargs)
    assert out.dtype == np.float32 and out.shape == (2, 3)
    np.testing.assert_allclose(out.mean(axis=-1), expected, rtol=1e-6)


def test_keras_poisson_float32():
    out = R.poisson(f32(YC), f32(PR))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=-1), K_POISSON, rtol=1e-6)


def test_rmse_keras_metric_and_sklearn():
    sq = R.root_mean_squared_error(f32(Y), f32(P))
    # lossctl/Keras/torch: sqrt of the mean of all squared errors.
    np.testing.assert_allclose(np.sqrt(sq.mean()), K_METRIC_RMSE, rtol=1e-6)
    # scikit-learn takes the root per output column (then averages those roots).
    sq64 = R.root_mean_squared_error(f64(Y), f64(P))
    np.testing.assert_allclose(np.sqrt(sq64.mean(axis=0)), SK_RMSE_RAW, rtol=1e-12)
    assert not math.isclose(float(np.mean(SK_RMSE_RAW)), float(np.sqrt(sq64.mean())), rel_tol=1e-3)
    # elementwise values are the squared errors
    np.testing.assert_array_equal(sq64, R.mean_squared_error(f64(Y), f64(P)))


# ------------------------------------------------------------------ PyTorch
@pytest.mark.parametrize("convention", ["torch", "keras", "optax"])
@pytest.mark.parametrize("delta, expected", [(1.0, T_HUBER1), (2.0, T_HUBER2)])
def test_huber_matches_torch_in_every_convention(convention, delta, expected):
    out = R.huber(f64(Y), f64(P), convention=convention, delta=delta)
    np.testing.assert_allclose(out, expected, rtol=1e-15)


@pytest.mark.parametrize("beta, expected", [(1.0, T_SL1_1), (2.0, T_SL1_2), (0.0, T_SL1_0)])
def test_smooth_l1_matches_torch(beta, expected):
    out = R.smooth_l1(f64(Y), f64(P), convention="torch", beta=beta)
    np.testing.assert_allclose(out, expected, rtol=1e-15)


def test_smooth_l1_is_huber_over_beta_and_l1_at_zero():
    e = f64([[0.5, 2.0, 4.0]])
    z = np.zeros_like(e)
    # reference D14: huber delta=2 -> [0.125, 2, 6]; smooth_l1 beta=2 -> [0.0625, 1, 3]
    np.testing.assert_allclose(R.huber(z, e, delta=2.0), [[0.125, 2.0, 6.0]])
    np.testing.assert_allclose(R.smooth_l1(z, e, beta=2.0), [[0.0625, 1.0, 3.0]])
    np.testing.assert_array_equal(R.smooth_l1(z, e, beta=0.0), np.abs(e))


@pytest.mark.parametrize(
    "kwargs, pred, expected",
    [
        ({}, PL, T_PNLL_LOG),
        ({"full": True}, PL, T_PNLL_LOG_FULL),
        ({"log_input": False}, PR, T_PNLL_RATE),
        ({"log_input": False, "full": True}, PR, T_PNLL_RATE_FULL),
    ],
    ids=["log", "log_full", "rate", "rate_full"],
)
def test_poisson_nll_matches_torch(kwargs, pred, expected):
    out = R.poisson_nll(f64(YC), f64(pred), convention="torch", **kwargs)
    np.testing.assert_allclose(out, expected, rtol=1e-13)


def test_poisson_nll_float32_matches_torch_float32():
    out = R.poisson_nll(f32(YC), f32(PL), convention="torch", full=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, T32_PNLL_LOG_FULL, rtol=2e-6)


def test_poisson_nll_stirling_by_hand():
    # y = 5 > 1 adds 5 log 5 - 5 + 0.5 log(10 pi); y <= 1 adds nothing.
    y, x = f64([[5.0, 1.0, 0.0]]), f64([[0.3, 0.3, 0.3]])
    base = np.exp(0.3) - y * 0.3
    stirling = 5 * math.log(5) - 5 + 0.5 * math.log(2 * math.pi * 5)
    np.testing.assert_allclose(R.poisson_nll(y, x, full=True), base + [[stirling, 0.0, 0.0]], rtol=1e-15)


def test_poisson_reference_d15_and_eps_per_convention():
    y, p = f64([[0.0, 1.0, 3.0]]), f64([[0.5, 1.0, 2.0]])
    assert R.poisson(y, p).mean() == pytest.approx(0.473519, abs=5e-7)  # Keras (D15)
    assert R.poisson_nll(y, p).mean() == pytest.approx(1.585353, abs=5e-7)  # torch default log_input
    # eps is added, not clipped: Keras 1e-7, PyTorch 1e-8
    one, zero = f64([[1.0]]), f64([[0.0]])
    assert R.poisson(one, zero)[0, 0] == pytest.approx(-math.log(1e-7), rel=1e-15)
    assert R.poisson(one, zero, convention="torch")[0, 0] == pytest.approx(-math.log(1e-8), rel=1e-15)
    np.testing.assert_allclose(R.poisson(y, p, convention="torch"), R.poisson_nll(y, p, log_input=False))


# ------------------------------------------------------------------ scikit-learn
@pytest.mark.parametrize("q, expected", [(0.9, SK_PINBALL_09), (0.5, SK_PINBALL_05)])
def test_pinball_matches_sklearn(q, expected):
    out = R.pinball(f64(Y), f64(P), quantile=q)
    np.testing.assert_allclose(out.mean(axis=0), expected, rtol=1e-14)


def test_pinball_half_is_half_mae():
    np.testing.assert_allclose(R.pinball(f64(Y), f64(P)), 0.5 * R.mean_absolute_error(f64(Y), f64(P)))


def test_mape_is_percent_and_sklearn_fraction():
    # reference D16: Keras 3.333333e+08 (percent, eps 1e-7)
    y, p = f64([[0.0, 100.0, -50.0]]), f64([[1.0, 110.0, -40.0]])
    assert R.mean_absolute_percentage_error(y, p).mean() == pytest.approx(3.333333e08, rel=1e-6)
    # away from zero targets, lossctl / 100 == scikit-learn's fraction: (0.1 + 0.2) / 2
    y2, p2 = f64([[100.0, -50.0]]), f64([[110.0, -40.0]])
    assert R.mean_absolute_percentage_error(y2, p2).mean() / 100 == pytest.approx(0.15, rel=1e-14)


def test_msle_clamps_negative_like_keras():
    # reference D17: y=0.5, p=-0.5 -> 0.164402 (p replaced by eps), log(x + 1) not log1p
    out = R.mean_squared_logarithmic_error(f64([[0.5]]), f64([[-0.5]]))
    assert out[0, 0] == pytest.approx(0.164402, abs=5e-7)
    assert out[0, 0] == pytest.approx((math.log(1e-7 + 1) - math.log(1.5)) ** 2, rel=1e-15)


# ------------------------------------------------------------------ reference-doc numbers
def test_reference_d9_weighted_means_from_elementwise():
    # pred=[1,2,3], target=[1.5,2,5], w=[1,2,3], shape (N,1)
    y, p, w = f64([[1.5], [2.0], [5.0]]), f64([[1.0], [2.0], [3.0]]), f64([1.0, 2.0, 3.0])
    per = R.mean_squared_error(y, p).mean(axis=-1)
    assert (w * per).sum() / 3 == pytest.approx(4.083333, abs=5e-7)  # keras sum_over_batch_size
    assert (w * per).sum() / w.sum() == pytest.approx(2.041667, abs=5e-7)  # torch weight / sklearn
    h = R.huber(y, p, convention="torch").mean(axis=-1)
    assert (w * h).sum() / 3 == pytest.approx(1.541667, abs=5e-7)  # torch huber weight: / N


def test_l2_loss_is_half_squared_error():
    e = R.l2_loss(f64(Y), f64(P))
    np.testing.assert_array_equal(e, 0.5 * R.mean_squared_error(f64(Y), f64(P)))
    assert e[1, 1] == 50.0  # 0.5 * 10**2


def test_log_cosh_forms_and_limits():
    e = f64([[1e-4, 0.5, 3.0, -3.0, 40.0, -40.0]])
    z = np.zeros_like(e)
    exact = np.log(np.cosh(e))
    exact[0, 0] = 1e-8 / 2 - 1e-16 / 12  # series: log cosh e = e²/2 - e⁴/12 + ...
    # Keras's form cancels for tiny e (absolute error ~1e-17, as in Keras itself): atol
    np.testing.assert_allclose(R.log_cosh(z, e), exact, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(R.log_cosh(z, e, convention="optax"), exact, rtol=1e-12, atol=1e-16)
    big = f64([[1000.0, -1000.0, 1e6, -1e6]])
    np.testing.assert_allclose(R.log_cosh(np.zeros_like(big), big), np.abs(big) - math.log(2), rtol=1e-15)


# ------------------------------------------------------------------ dtype, shape, extremes
@pytest.mark.parametrize("fn, kwargs", ALL, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept_and_elementwise_shape(fn, kwargs, dtype):
    rng = np.random.default_rng(1)
    y = rng.uniform(0.1, 5, size=(7, 4)).astype(dtype)
    p = rng.uniform(0.1, 5, size=(7, 4)).astype(dtype)
    out = fn(y, p, **kwargs)
    assert out.dtype == dtype
    assert out.shape == (7, 4)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("fn, kwargs", EXTREME, ids=EXTREME_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_finite(fn, kwargs, dtype):
    y = np.array([[0.0, 1000.0, -1000.0, 1e6, 3.0]], dtype=dtype)
    p = np.array([[1000.0, 0.0, 1000.0, 0.0, 3.0]], dtype=dtype)
    if fn in (R.poisson, R.poisson_nll):  # counts and rates are non-negative
        y, p = np.abs(y), np.abs(p)
    out = fn(y, p, **kwargs)
    assert out.dtype == dtype
    assert np.all(np.isfinite(out)), out


def test_float32_reproduces_keras_float32_rounding():
    # In float32 the Keras log-cosh values are reproduced to the last bit or one ulp; the float64
    # computation is the exact value, which Keras's float32 result misses by ~1e-7.
    out32 = R.log_cosh(f32(Y), f32(P)).mean(axis=-1)
    np.testing.assert_allclose(out32, np.float32(K_LOGCOSH), rtol=1.2e-7, atol=0)


def test_poisson_nll_log_rate_overflow_is_inf_without_warning():
    # exp(1000) exceeds the float range: the true loss is larger than any float, as in PyTorch.
    out = R.poisson_nll(f64([[1.0, 1.0]]), f64([[1000.0, -1000.0]]))
    assert out[0, 0] == np.inf
    assert out[0, 1] == pytest.approx(1000.0, rel=1e-15)  # exp(-1000) - 1 * (-1000)
    out32 = R.poisson_nll(f32([[2.0]]), f32([[50.0]]))
    assert out32.dtype == np.float32 and np.isfinite(out32).all()


def test_y_true_cast_to_y_pred_dtype():
    out = R.mean_squared_error(f64(Y), f32(P))
    assert out.dtype == np.float32


# ------------------------------------------------------------------ options
@pytest.mark.parametrize(
    "call",
    [
        lambda: R.huber(f64(Y), f64(P), delta=0.0),
        lambda: R.huber(f64(Y), f64(P), delta=-1.0),
        lambda: R.smooth_l1(f64(Y), f64(P), beta=-0.5),
        lambda: R.pinball(f64(Y), f64(P), quantile=1.5),
        lambda: R.pinball(f64(Y), f64(P), quantile=-0.1),
        lambda: R.mean_squared_error(f64(Y), f64(P), convention="jax"),
    ],
)
def test_invalid_options_raise_usage_error(call):
    with pytest.raises(UsageError):
        call()


def test_huber_boundary_equal_in_keras_and_torch():
    # |e| == delta: Keras takes the quadratic branch (<=), PyTorch the linear one (<); same value.
    y, p = f32([[0.0, 0.0]]), f32([[2.0, -2.0]])
    k = R.huber(y, p, delta=2.0)
    t = R.huber(y, p, convention="torch", delta=2.0)
    np.testing.assert_array_equal(k, [[2.0, 2.0]])
    np.testing.assert_array_equal(t, k)


def test_docstrings_have_conventions_section():
    for name in R.__all__:
        doc = getattr(R, name).__doc__
        assert "Conventions:" in doc and "Returns:" in doc and "ELEMENTWISE" in doc, name
