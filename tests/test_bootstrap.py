"""The bootstrap of ``--ci``: exact Poisson weights, replicates that are the same bits for any
split of the rows, replicate values divided as the value is, and intervals that cover."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import lossctl
from lossctl.cli import app
from lossctl.losses import bootstrap
from lossctl.losses.bootstrap import CHUNK, COLUMNS, SUB, Replicates, poisson_weights

runner = CliRunner()
DIGITS = ("samples/digits_labels.csv", "samples/digits_probs.csv")


@pytest.fixture
def small_blocks(monkeypatch):
    from lossctl import budget

    monkeypatch.setattr(budget, "MAX_BLOCK_ROWS", 1000)


def _columns(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cols = np.zeros((n, len(COLUMNS)))
    cols[:, 0] = rng.standard_exponential(n)
    cols[:, 1] = 1.0
    cols[:, 3] = 1.0
    return cols


# --- weights ------------------------------------------------------------------------------------


def test_poisson_weights_have_poisson_frequencies():
    k = poisson_weights(np.random.default_rng(0), (4000, 500)).ravel()  # 2M draws
    for j in range(7):
        p = math.exp(-1.0) / math.factorial(j)
        sd = math.sqrt(p * (1 - p) / k.size)
        assert abs(np.mean(k == j) - p) < 5 * sd, j
    assert abs(k.mean() - 1) < 0.005 and abs(k.var() - 1) < 0.01
    assert k.max() >= 7  # the tail beyond the bytes' table is drawn too


def test_straddling_bytes_are_decided_by_the_exact_distribution():
    table, cdf = bootstrap._poisson_table()
    undecided = np.flatnonzero(table == 255)
    assert 0 < undecided.size < 10
    for v in undecided:  # each such byte's interval holds a step of the distribution
        assert np.any((cdf > v / 256) & (cdf < (v + 1) / 256))


def test_sign_weights_are_fair_coins():
    s = bootstrap._weights("signs", 3, 0, 0, 1000)
    assert set(np.unique(s)) == {-1.0, 1.0}
    assert abs(s.mean()) < 0.01


# --- any split, the same bits -------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_replicates_are_the_same_for_any_split_and_merge(seed):
    n = 2 * CHUNK + 12_345
    cols = _columns(n, seed)
    whole = Replicates(50, seed=9)
    whole.add(0, cols)
    want = whole.values("valid")
    rng = np.random.default_rng(seed)
    cuts = sorted(set(rng.integers(1, n, rng.integers(1, 9)).tolist())
                  | ({CHUNK, CHUNK + 1} if seed % 2 else set()))
    bounds = [0, *cuts, n]
    parts = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        part = Replicates(50, seed=9)
        mid = int(rng.integers(a, b + 1))
        part.add(a, cols[a:mid])
        part.add(mid, cols[mid:b])
        parts.append(part)
    main = parts[0]
    for part in parts[1:]:
        main.merge(part)
    np.testing.assert_array_equal(main.values("valid"), want)


def test_out_of_order_parts_are_refused():
    a, b = Replicates(5), Replicates(5)
    a.add(0, _columns(10))
    b.add(20, _columns(10))
    with pytest.raises(ValueError):
        a.merge(b)


def test_a_seed_changes_the_weights_and_the_same_seed_repeats_them():
    cols = _columns(5000)
    vals = []
    for seed in (1, 1, 2):
        r = Replicates(40, seed=seed)
        r.add(0, cols)
        vals.append(r.values("samples"))
    np.testing.assert_array_equal(vals[0], vals[1])
    assert not np.array_equal(vals[0], vals[2])


def test_threads_and_blocks_give_the_same_interval(small_blocks):
    rng = np.random.default_rng(4)
    n = CHUNK + 5000
    y = rng.integers(0, 3, n)
    p = rng.dirichlet(np.ones(3), n)
    one = lossctl.evaluate("scce", y, p, ci=95, replicates=64, threads=1)
    two = lossctl.evaluate("scce", y, p, ci=95, replicates=64, threads=2)
    np.testing.assert_array_equal(one.ci["values"], two.ci["values"])
    assert one.ci["low"] == two.ci["low"] and one.ci["high"] == two.ci["high"]


# --- replicate values divided as the value is ---------------------------------------------------


def _expected(num: np.ndarray, den: np.ndarray, replicates: int, seed: int = 0) -> np.ndarray:
    """sum(k num) / sum(k den) with the weights of bootstrap._weights (one chunk)."""
    n = num.shape[0]
    assert n <= CHUNK
    k = np.concatenate([bootstrap._weights("poisson", seed, 0, s, replicates)
                        for s in range(0, n, SUB)])[:n]
    return (k.T @ num) / (k.T @ den)


def test_keras_weighted_mean_divides_by_the_samples():
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 4, 500), rng.dirichlet(np.ones(4), 500)
    w = rng.uniform(0, 3, 500)
    plain = lossctl.evaluate("scce", y, p)
    res = lossctl.evaluate("scce", y, p, sample_weight=w, ci=95, replicates=30)
    want = _expected(w * plain.per_sample, np.ones(500), 30)
    np.testing.assert_allclose(res.ci["values"], want, rtol=1e-12)


def test_torch_class_weighted_mean_divides_by_the_targets_weights():
    rng = np.random.default_rng(2)
    y, z = rng.integers(0, 3, 400), rng.normal(size=(400, 3))
    cw = np.array([0.5, 2.0, 1.0])
    plain = lossctl.evaluate("cross_entropy", y, z, convention="torch", reduction="none")
    res = lossctl.evaluate("cross_entropy", y, z, convention="torch", class_weight=cw, ci=95,
                           replicates=30)
    want = _expected(cw[y] * plain.per_sample, cw[y], 30)
    np.testing.assert_allclose(res.ci["values"], want, rtol=1e-12)
    assert res.value == pytest.approx(np.sum(cw[y] * plain.per_sample) / np.sum(cw[y]))


def test_n_d_samples_are_resampled_whole_with_their_valid_pixels():
    rng = np.random.default_rng(3)
    n, c, h, w = 60, 3, 4, 5
    y = rng.integers(0, c, (n, h, w))
    y[rng.random((n, h, w)) < 0.2] = 255
    z = rng.normal(size=(n, c, h, w))
    el = lossctl.evaluate("cross_entropy", y, z, convention="torch", ignore_class=255,
                          elementwise=True).elementwise.reshape(n, -1)
    valid = (y != 255).reshape(n, -1)
    res = lossctl.evaluate("cross_entropy", y, z, convention="torch", ignore_class=255, ci=90,
                           replicates=25)
    want = _expected(np.where(valid, el, 0).sum(axis=1), valid.sum(axis=1).astype(float), 25)
    np.testing.assert_allclose(res.ci["values"], want, rtol=1e-12)


def test_rmse_replicates_are_roots():
    rng = np.random.default_rng(5)
    y, p = rng.normal(size=300), rng.normal(size=300)
    res = lossctl.evaluate("root_mean_squared_error", y, p, ci=95, replicates=20)
    want = np.sqrt(_expected((y - p) ** 2, np.ones(300), 20))
    np.testing.assert_allclose(res.ci["values"], want, rtol=1e-12)


# --- coverage -----------------------------------------------------------------------------------


def test_the_interval_covers_the_true_mean_at_its_level():
    """200 seeded data sets of 150 exponential losses (true mean 1): the 90% percentile
    intervals cover the mean in 84-95% of them (90% +- 2.5 standard errors; the percentile
    bootstrap of a skewed mean runs a little below its level at this size)."""
    rng = np.random.default_rng(11)
    covered = 0
    trials = 200
    for t in range(trials):
        x = rng.standard_exponential(150)
        res = lossctl.evaluate("mae", np.zeros(150), x, ci=90, replicates=300, seed=t)
        covered += res.ci["low"] <= 1.0 <= res.ci["high"]
    assert 0.84 * trials <= covered <= 0.95 * trials, covered


def test_the_standard_error_is_the_standard_error_of_the_mean():
    x = np.random.default_rng(6).standard_exponential(4000)
    res = lossctl.evaluate("mae", np.zeros_like(x), x, ci=95, replicates=1000)
    assert res.ci["standard_error"] == pytest.approx(x.std() / math.sqrt(x.size), rel=0.1)


# --- where it does not apply --------------------------------------------------------------------


@pytest.mark.parametrize(("loss", "extra"), [("roc_auc", {}), ("scce", {"reduction": "none"}),
                                             ("dice", {})])
def test_values_that_are_not_means_of_samples_refuse_ci(loss, extra):
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 50), rng.random(50)
    if loss == "scce":
        p = rng.dirichlet(np.ones(2), 50)
    with pytest.raises(lossctl.LossctlError) as err:
        lossctl.evaluate(loss, y, p, ci=95, **extra)
    assert err.value.option == "ci"


@pytest.mark.parametrize("level", [0, 100, -5, 150])
def test_a_level_outside_0_100_is_a_usage_error(level):
    r = runner.invoke(app, ["compute", "scce", *DIGITS, "--ci", str(level)])
    assert r.exit_code == 2
    assert "--ci" in r.stderr and "percent" in r.stderr


# --- the CLI ------------------------------------------------------------------------------------


def test_a_pipe_gets_the_value_and_its_interval_as_csv():
    r = runner.invoke(app, ["compute", "scce", *DIGITS, "--ci", "95", "--replicates", "200"])
    assert r.exit_code == 0, r.stderr
    header, row, *rest = r.stdout.splitlines()
    assert header == "value,low,high,level" and not rest
    value, low, high, level = map(float, row.split(","))
    want = lossctl.evaluate("scce", *DIGITS, ci=95, replicates=200)
    assert (value, low, high, level) == (want.value, want.ci["low"], want.ci["high"], 95.0)
    assert low < value < high


def test_json_and_the_terminal_show_the_interval():
    doc = json.loads(runner.invoke(app, ["compute", "scce", *DIGITS, "--ci", "90", "-f",
                                         "json"]).stdout)
    assert doc["ci"]["level"] == 90 and doc["ci"]["low"] < doc["value"] < doc["ci"]["high"]
    assert doc["ci"]["replicates"] == 1000 and doc["ci"]["seed"] == 0 and "values" not in doc["ci"]
    table = runner.invoke(app, ["compute", "scce", *DIGITS, "--ci", "90"],
                          obj={"stdout_isatty": True}).stdout
    assert "90% CI" in table and "bootstrap, 1000 replicates, seed 0" in table


def test_the_seed_option_changes_the_interval_and_repeats_it():
    def run(seed):
        return runner.invoke(app, ["compute", "scce", *DIGITS, "--ci", "95", "--seed",
                                   str(seed), "--replicates", "100"]).stdout
    assert run(1) == run(1) != run(2)
