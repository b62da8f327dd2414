"""The sklearn convention and scikit-learn's metrics: sample weights as np.average, classes
absent from y_true, normalize, clipping at the dtype's epsilon, the reductions that are not a
mean (per-column roots, medians, maxima, D² ratios), gates on scores, and the errors.

The numbers scikit-learn gives are in tests/fixtures/values_{deviance,scores}.json (computed by
scikit-learn itself); the figures below were computed with scikit-learn 1.9.1 too.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from lossctl import evaluate
from lossctl.engine import Computation
from lossctl.errors import DataError, ShapeError, UsageError
from lossctl.losses import registry
from lossctl.losses.reduction import weighted_percentile

Y = np.array([[3.0, 1.0], [0.5, 2.0], [2.0, 3.0], [7.0, 1.5]])
P = np.array([[2.5, 1.2], [0.1, 2.2], [2.0, 2.5], [8.0, 1.0]])
W = np.array([1.0, 2.0, 0.5, 1.0])


def col(a):
    return np.asarray(a, dtype=np.float64).reshape(-1, 1)


# ------------------------------------------------------------------------ the convention itself
def test_sklearn_names_select_the_sklearn_convention():
    r = evaluate("sklearn.mean_squared_error", Y, P)
    assert (r.loss, r.convention) == ("mean_squared_error", "sklearn")
    assert evaluate("mse", Y, P).convention == "keras"
    assert evaluate("mse", Y, P, convention="sklearn").convention == "sklearn"


def test_sample_weights_are_np_average():
    e2 = np.mean((Y - P) ** 2, axis=1)
    sk = evaluate("mse", Y, P, sample_weight=W, convention="sklearn").value
    keras = evaluate("mse", Y, P, sample_weight=W, convention="keras").value
    assert sk == pytest.approx(np.sum(W * e2) / np.sum(W), rel=1e-12)
    assert keras == pytest.approx(np.sum(W * e2) / len(W), rel=1e-12)
    # per-sample values are w * l, as the frameworks' unreduced output
    r = evaluate("mse", Y, P, sample_weight=W, convention="sklearn", reduction="none")
    np.testing.assert_allclose(r.per_sample, W * e2)


def test_compare_includes_sklearn(tmp_path):
    r = evaluate("mse", Y, P, sample_weight=W, compare=["keras", "torch", "sklearn"])
    rows = {c.convention: c for c in r.compare}
    assert set(rows) == {"keras", "torch", "sklearn"}
    assert rows["sklearn"].value == pytest.approx(rows["torch"].value)
    assert "scikit-learn divides sum(w*l) by sum(w)" in rows["sklearn"].reason
    assert "sklearn" in [c.convention for c in evaluate("mse", Y, P, compare=["all"]).compare]


# ------------------------------------------------------------------------- classification
PROBS = np.array([[0.7, 0.2, 0.0, 0.1], [0.1, 0.6, 0.0, 0.3], [0.2, 0.2, 0.1, 0.5],
                  [0.25, 0.25, 0.25, 0.25]])
LABELS = col([0, 1, 3, 3])  # class 2 is absent from y_true: the 4 columns declare it


def test_log_loss_with_a_class_absent_from_y_true():
    r = evaluate("sklearn.log_loss", LABELS, PROBS)
    expected = -np.mean(np.log([0.7, 0.6, 0.5, 0.25]))
    assert r.value == pytest.approx(expected, rel=1e-12)  # sklearn labels=[0, 1, 2, 3]


def test_log_loss_clips_at_the_dtype_epsilon():
    y, p = col([0, 1]), np.array([[0.0, 1.0], [0.0, 1.0]])
    r = evaluate("log_loss", y, p, reduction="none")
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(r.per_sample, [-math.log(eps), -math.log(1 - eps)], rtol=1e-12)
    assert r.per_sample[0] == pytest.approx(36.04365338911715)
    r32 = evaluate("log_loss", y, p, dtype="float32", reduction="none")
    assert r32.per_sample[0] == pytest.approx(-math.log(np.finfo(np.float32).eps), rel=1e-6)
    keras = evaluate("categorical_crossentropy", np.eye(2)[[0, 1]], p, dtype="float64")
    assert keras.value != pytest.approx(r.value)  # Keras clips at 1e-7


def test_normalize_false_is_the_weighted_sum():
    mean = evaluate("log_loss", LABELS, PROBS, sample_weight=W)
    total = evaluate("log_loss", LABELS, PROBS, sample_weight=W, normalize=False)
    assert total.reduction == "sum"
    assert total.value == pytest.approx(mean.value * W.sum(), rel=1e-12)
    wrong = evaluate("zero_one_loss", col([0, 1, 2, 1]), col([0, 2, 2, 0]), normalize=False)
    assert wrong.value == 2.0
    with pytest.raises(UsageError, match="normalize"):
        evaluate("zero_one_loss", col([0, 1]), col([0, 1]), normalize=False,
                 reduction="batchmean")


def test_zero_one_and_hamming_on_indicator_matrices():
    y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
    p = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]])
    assert evaluate("zero_one_loss", y, p).value == pytest.approx(2 / 3)
    assert evaluate("hamming_loss", y, p).value == pytest.approx(3 / 9)
    with pytest.raises(DataError, match="not a class label"):
        evaluate("zero_one_loss", col([0.5, 1]), col([0, 1]))


def test_hinge_loss_binary_and_crammer_singer():
    assert evaluate("sklearn.hinge_loss", col([0, 1, 1]), col([0.5, -0.2, 2.0])).value == \
        pytest.approx((1.5 + 1.2 + 0.0) / 3)
    s = np.array([[2.0, 0.5, 1.5], [0.0, 0.2, 0.1]])
    # margins: 2.0 - 1.5 = 0.5 -> 0.5; 0.2 - 0.1 = 0.1 -> 0.9
    assert evaluate("hinge_loss", col([0, 1]), s).value == pytest.approx(0.7)


def test_ranking_metrics():
    y = np.array([[1, 0, 0], [0, 0, 1], [1, 1, 1], [0, 0, 0]])
    s = np.array([[0.75, 0.5, 1.0], [1.0, 0.2, 0.1], [0.1, 0.2, 0.3], [0.3, 0.1, 0.2]])
    np.testing.assert_allclose(evaluate("coverage_error", y, s, reduction="none").per_sample,
                               [2, 3, 3, 0])
    np.testing.assert_allclose(evaluate("label_ranking_loss", y, s, reduction="none").per_sample,
                               [0.5, 1.0, 0.0, 0.0])


def test_d2_scores_of_classifiers():
    y = col([0, 1, 1, 0])
    p = col([0.1, 0.8, 0.6, 0.3])
    # the null model predicts the class frequency 0.5 everywhere
    ll = -np.mean(np.log([0.9, 0.8, 0.6, 0.7]))
    assert evaluate("d2_log_loss_score", y, p).value == pytest.approx(1 - ll / math.log(2))
    brier = np.mean(np.square([0.1, 0.2, 0.4, 0.3]))
    assert evaluate("d2_brier_score", y, p).value == pytest.approx(1 - brier / 0.25)
    assert math.isnan(evaluate("d2_brier_score", y[:1], p[:1]).value)  # fewer than 2 rows


# ------------------------------------------------------------------------------- regression
def test_rmse_under_sklearn_takes_the_root_per_column():
    e2 = (Y - P) ** 2
    sk = evaluate("rmse", Y, P, convention="sklearn").value
    assert sk == pytest.approx(np.mean(np.sqrt(e2.mean(axis=0))), rel=1e-12)
    assert evaluate("rmse", Y, P).value == pytest.approx(math.sqrt(e2.mean()), rel=1e-12)


def test_median_and_max_error():
    e = np.abs(Y - P)
    assert evaluate("median_absolute_error", Y, P).value == pytest.approx(
        np.mean(np.median(e, axis=0)))
    assert evaluate("max_error", Y[:, :1], P[:, :1]).value == pytest.approx(1.0)
    with pytest.raises(ShapeError, match="one output column"):
        evaluate("max_error", Y, P)
    with pytest.raises(UsageError, match="no sample weights"):
        evaluate("max_error", Y[:, :1], P[:, :1], sample_weight=W)


def test_weighted_percentile_matches_the_median_with_unit_weights():
    a = np.random.default_rng(0).normal(size=(9, 3))
    for n in (8, 9):
        np.testing.assert_allclose(weighted_percentile(a[:n], np.ones(n), 50), np.median(a[:n], 0))
    assert np.isnan(weighted_percentile(a, np.zeros(9), 50)).all()


def test_reductions_do_not_depend_on_the_blocks():
    r = np.random.default_rng(1)
    y, p = r.uniform(0.5, 5, (50, 2)), r.uniform(0.5, 5, (50, 2))
    w = r.uniform(0, 2, 50)
    for name in ("median_absolute_error", "sklearn.root_mean_squared_error",
                 "d2_absolute_error_score", "d2_pinball_score"):
        whole = Computation(name)
        whole.feed(y, p, w)
        parts = Computation(name)
        for a in range(0, 50, 7):
            parts.feed(y[a:a + 7], p[a:a + 7], w[a:a + 7], start=a)
        assert whole.finish().value == parts.finish().value, name


def test_tweedie_domain_and_power():
    y, p = col([1.0, 0.0, 2.0]), col([1.5, 0.5, 2.5])
    assert evaluate("mean_poisson_deviance", y, p).value > 0
    with pytest.raises(DataError, match="strictly positive targets"):
        evaluate("mean_gamma_deviance", y, p)
    with pytest.raises(UsageError, match="power"):
        evaluate("mean_tweedie_deviance", y, p, power=0.5)
    with pytest.raises(DataError, match="log1p"):
        evaluate("mean_squared_log_error", col([-1.0, 1.0]), col([0.0, 1.0]))


def test_d2_scores_are_higher_is_better_and_gated_from_below():
    spec = registry.get("d2_tweedie_score")
    assert spec.higher_is_better and not spec.nonnegative
    y, p = col([1.0, 2.0, 3.0, 4.0]), col([1.1, 2.2, 2.7, 4.1])
    r = evaluate("d2_tweedie_score", y, p, fail_below=0.99)
    assert 0.9 < r.value < 0.99
    from lossctl.errors import ThresholdExceeded

    with pytest.raises(ThresholdExceeded):
        r.gate()
    evaluate("d2_tweedie_score", y, p, fail_below=0.5).gate()
    with pytest.raises(UsageError, match="does not apply"):
        evaluate("d2_tweedie_score", y, p, reduction="sum")
    from lossctl.errors import LossctlWarning

    with pytest.warns(LossctlWarning, match="not defined"):
        assert math.isnan(evaluate("d2_tweedie_score", col([2.0, 2.0]), col([1.0, 3.0])).value)


def test_held_values_fail_clearly_beyond_the_memory_limit():
    comp = Computation("median_absolute_error")
    comp.memory_limit = 1000  # bytes: 25 values
    with pytest.raises(UsageError, match="memory limit"):
        comp.feed(np.zeros((100, 1)), np.ones((100, 1)))


def test_mape_fraction_is_not_keras_mape():
    y, p = col([2.0, 4.0]), col([1.0, 5.0])
    assert registry.get("sklearn.mean_absolute_percentage_error").name == "mape_fraction"
    assert registry.get("mean_absolute_percentage_error").name == "mean_absolute_percentage_error"
    sk = evaluate("sklearn.mean_absolute_percentage_error", y, p).value
    assert sk == pytest.approx(0.375)
    assert evaluate("mape", y, p).value == pytest.approx(37.5)


def test_cli_convention_and_fail_below(tmp_path):
    from typer.testing import CliRunner

    from lossctl.cli import app

    f = tmp_path / "d.csv"
    f.write_text("y,p,w\n3,2.5,1\n-0.5,0,2\n2,2.1,0.5\n7,7.8,3\n")
    run = CliRunner().invoke
    base = ["compute", "mse", str(f), "--true-cols", "y", "--pred-cols", "p",
            "--sample-weight", str(f), "--weight-cols", "w"]
    r = run(app, base + ["--convention", "sklearn"])
    assert r.exit_code == 0, r.output
    assert float(r.stdout.strip()) == pytest.approx(0.41153846153846135)
    r = run(app, ["compute", "sklearn.d2_absolute_error_score", str(f), "--true-cols", "y",
                  "--pred-cols", "p", "--fail-below", "0.99"])
    assert r.exit_code == 3
    assert float(r.stdout.strip()) == pytest.approx(0.7764705882352941)
