"""``lossctl compare``: a planted difference is found, none is found where none was planted,
the p-value is the permutation test's, the intervals are paired, and every output form and the
gate work."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import sharp_probs
from typer.testing import CliRunner

from lossctl.cli import app
from lossctl.comparison import compare_models
from lossctl.losses import bootstrap

runner = CliRunner()




@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("compare")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 2000)
    np.savetxt(d / "y.csv", y, fmt="%d")
    np.savetxt(d / "base.csv", sharp_probs(rng, y, 1.0), delimiter=",")
    np.savetxt(d / "better.csv", sharp_probs(rng, y, 1.4), delimiter=",")
    return d


def test_a_planted_improvement_is_found():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 1500)
    a, b = sharp_probs(rng, y, 1.0), sharp_probs(rng, y, 1.3)
    c = compare_models("scce", y, [a, b], replicates=400)
    d = c.differences[0]
    assert d.verdict == "better" and d.p_value < 0.01
    assert d.low < d.delta < d.high < 0
    assert d.delta == pytest.approx(c.models[1].value - c.models[0].value)
    rev = compare_models("scce", y, [b, a], replicates=400).differences[0]
    assert rev.verdict == "worse" and rev.delta == -d.delta


def test_no_difference_is_found_where_none_was_planted():
    """Two models of the same quality (independent noise): at the 95% level, at most 3 of 20
    seeded test sets may show a 'significant' difference (expected: 1)."""
    found = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        y = rng.integers(0, 3, 400)
        c = compare_models("scce", y, [sharp_probs(rng, y, 1.0), sharp_probs(rng, y, 1.0)],
                           replicates=200, seed=seed)
        found += c.differences[0].verdict != "no significant difference"
    assert found <= 3, found


def test_identical_models_differ_by_nothing():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 300)
    p = sharp_probs(rng, y, 1.0)
    d = compare_models("scce", y, [p, p.copy()], replicates=100).differences[0]
    assert d.delta == 0 and d.p_value == 1 and d.verdict == "no significant difference"
    assert d.low == d.high == 0


def test_the_p_value_is_the_sign_flip_permutation_test():
    rng = np.random.default_rng(3)
    n, r = 500, 199
    y = rng.normal(size=n)
    a, b = y + rng.normal(size=n), y + 1.1 * rng.normal(size=n)
    d = compare_models("mse", y, [a, b], replicates=r).differences[0]
    diff = (b - y) ** 2 - (a - y) ** 2
    s = np.concatenate([bootstrap._weights("signs", 0, 0, k, r)
                        for k in range(0, n, bootstrap.SUB)])[:n]
    observed = abs(diff.mean())
    flipped = np.abs(s.T @ diff / n)
    want = (1 + np.sum(flipped >= observed * (1 - 1e-12))) / (1 + r)
    assert d.p_value == pytest.approx(want)


def test_the_interval_of_the_difference_is_paired():
    """Models with correlated errors: the paired interval of the difference is the
    percentiles of per-replicate differences, far narrower than the models' own intervals."""
    rng = np.random.default_rng(4)
    y = rng.normal(size=3000)
    common = rng.normal(size=3000)
    a = y + common
    b = y + common + 0.05 * rng.normal(size=3000)
    c = compare_models("mse", y, [a, b], replicates=300)
    d = c.differences[0]
    width = d.high - d.low
    assert width < 0.1 * (c.models[0].high - c.models[0].low)
    want = np.percentile(d.replicates, [2.5, 97.5])
    assert (d.low, d.high) == pytest.approx(tuple(want))


def test_a_higher_is_better_metric_is_better_when_it_grows():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 2000)
    c = compare_models("accuracy", y, [sharp_probs(rng, y, 0.5), sharp_probs(rng, y, 1.5)],
                       replicates=300)
    assert c.higher_is_better and c.differences[0].delta > 0
    assert c.differences[0].verdict == "better"


def test_per_class_deltas_and_changed_samples(files):
    from lossctl import evaluate

    c = compare_models("scce", str(files / "y.csv"), [str(files / "base.csv"),
                                                      str(files / "better.csv")],
                       replicates=50, top=5)
    a = evaluate("scce", str(files / "y.csv"), str(files / "base.csv")).per_sample
    b = evaluate("scce", str(files / "y.csv"), str(files / "better.csv")).per_sample
    y = np.loadtxt(files / "y.csv", dtype=np.int64)
    d = c.differences[0]
    for row in d.per_class:
        k = int(row["label"])
        assert row["delta"] == pytest.approx(b[y == k].mean() - a[y == k].mean())
        assert row["count"] == int(np.sum(y == k))
    top = np.argsort(-np.abs(b - a), kind="stable")[:5]
    assert [r["index"] for r in d.changed] == top.tolist()
    assert d.changed[0]["delta"] == pytest.approx((b - a)[top[0]])
    assert [m.name for m in c.models] == ["base", "better"]


def test_changed_samples_beyond_the_memory_limit_are_left_out_with_a_note(files, monkeypatch):
    import lossctl.comparison as cmp

    real = cmp._Collector.__init__
    monkeypatch.setattr(cmp._Collector, "__init__", lambda self, limit: real(self, 1000))
    c = compare_models("scce", str(files / "y.csv"), [str(files / "base.csv"),
                                                      str(files / "better.csv")],
                       replicates=20)
    assert c.differences[0].changed == [] and "memory" in c.note
    assert c.differences[0].per_class  # per-class sums stream whatever the size


# --- the CLI ------------------------------------------------------------------------------------


def _cli(files, *args, tty=False):
    return runner.invoke(app, ["compare", str(files / "y.csv"), str(files / "base.csv"),
                               str(files / "better.csv"), "-l", "scce", "--replicates", "200",
                               *args], obj={"stdout_isatty": True} if tty else None)


def test_a_pipe_gets_one_csv_row_per_model(files):
    r = _cli(files)
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "model,value,low,high,delta,delta_low,delta_high,p_value,verdict"
    assert lines[1].startswith("base,") and lines[1].endswith(",baseline")
    assert lines[2].startswith("better,") and lines[2].endswith(",better")


def test_json_has_models_and_differences(files):
    doc = json.loads(_cli(files, "-f", "json", "--names", "a,b").stdout)
    assert [m["name"] for m in doc["models"]] == ["a", "b"]
    d = doc["differences"][0]
    assert d["baseline"] == "a" and d["candidate"] == "b" and d["verdict"] == "better"
    assert d["low"] < d["delta"] < d["high"] and "replicates" not in d


def test_the_terminal_report(files):
    out = _cli(files, "--top", "3", tty=True).stdout
    for text in ("95% CI low", "better - base", "p-value", "per class", "changed most"):
        assert text in out, text


def test_the_gate_fails_only_when_the_candidate_is_worse(files):
    assert _cli(files, "--fail-if-worse").exit_code == 0
    r = runner.invoke(app, ["compare", str(files / "y.csv"), str(files / "better.csv"),
                            str(files / "base.csv"), "-l", "scce", "--replicates", "200",
                            "--fail-if-worse"])
    assert r.exit_code == 3
    assert "lossctl: error: base is worse than better" in r.stderr


def test_names_must_match_the_models(files):
    r = _cli(files, "--names", "a,b,c")
    assert r.exit_code == 2 and "--names" in r.stderr


def test_one_model_is_a_usage_error(files):
    r = runner.invoke(app, ["compare", str(files / "y.csv"), str(files / "base.csv"), "-l",
                            "scce"])
    assert r.exit_code == 2 and "two models" in r.stderr


def test_the_plot_of_the_difference(files, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "diff.png"
    r = _cli(files, "--plot", str(out))
    assert r.exit_code == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_labels_from_standard_input_reach_every_model(files):
    """Y_TRUE as ``-`` is read once and replayed for each model's pass (it was read by the
    first model only, and the second had no rows)."""
    args = ["compare", "-l", "scce", str(files / "base.csv"), str(files / "better.csv"),
            "-f", "json", "--replicates", "100"]
    from_file = runner.invoke(app, args[:3] + [str(files / "y.csv")] + args[3:])
    piped = runner.invoke(app, args[:3] + ["-"] + args[3:],
                          input=(files / "y.csv").read_bytes())
    assert piped.exit_code == 0, piped.stderr
    assert json.loads(piped.stdout)["differences"] == json.loads(from_file.stdout)["differences"]
    values = [m["value"] for m in json.loads(piped.stdout)["models"]]
    assert values == [m["value"] for m in json.loads(from_file.stdout)["models"]]
