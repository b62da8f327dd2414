"""Several losses and metrics in one pass (``lossctl compute scce,brier_score,accuracy``): each
has exactly the value of a run of its own, in every output form, and options that would make
the losses read the inputs differently are refused."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from typer.testing import CliRunner

import lossctl
from lossctl.cli import app

runner = CliRunner()
DIGITS = ("samples/digits_labels.csv", "samples/digits_probs.csv")
CLASSIFY = ["scce", "brier_score", "accuracy", "top_k_accuracy", "expected_calibration_error"]


@pytest.fixture
def small_blocks(monkeypatch):
    from lossctl import budget

    monkeypatch.setattr(budget, "MAX_BLOCK_ROWS", 50)


@pytest.mark.parametrize("threads", [1, 2])
def test_each_value_is_the_value_of_its_own_run(small_blocks, threads):
    res = lossctl.evaluate(",".join(CLASSIFY), *DIGITS, threads=threads)
    got = [res, *res.others]
    assert [r.loss for r in got] == [lossctl.evaluate(n, *DIGITS).loss for n in CLASSIFY]
    for name, r in zip(CLASSIFY, got):
        alone = lossctl.evaluate(name, *DIGITS, threads=threads)
        assert r.value == alone.value, name
        np.testing.assert_array_equal(r.per_sample, alone.per_sample)


def test_regression_losses_with_weights_and_their_options():
    rng = np.random.default_rng(0)
    y, p, w = rng.normal(size=300), rng.normal(size=300), rng.uniform(0, 2, 300)
    res = lossctl.evaluate(["mse", "mae", "huber"], y, p, sample_weight=w, delta=0.5)
    assert [r.value for r in (res, *res.others)] == [
        lossctl.evaluate("mse", y, p, sample_weight=w).value,
        lossctl.evaluate("mae", y, p, sample_weight=w).value,
        lossctl.evaluate("huber", y, p, sample_weight=w, delta=0.5).value]


def test_each_interval_is_the_interval_of_its_own_run():
    res = lossctl.evaluate("scce,accuracy", *DIGITS, ci=90, replicates=100)
    for r, name in zip((res, *res.others), ("scce", "accuracy")):
        alone = lossctl.evaluate(name, *DIGITS, ci=90, replicates=100)
        np.testing.assert_array_equal(r.ci["values"], alone.ci["values"])


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_pipe_gets_one_row_per_loss():
    r = runner.invoke(app, ["compute", "scce,brier_score,accuracy", *DIGITS])
    assert r.exit_code == 0, r.stderr
    rows = _rows(r.stdout)
    assert [row["loss"] for row in rows] == ["sparse_categorical_crossentropy", "brier_score",
                                             "accuracy"]
    for row, name in zip(rows, ("scce", "brier_score", "accuracy")):
        assert float(row["value"]) == lossctl.evaluate(name, *DIGITS).value
    r = runner.invoke(app, ["compute", "scce,accuracy", *DIGITS, "--ci", "95"])
    assert r.stdout.splitlines()[0] == "loss,value,low,high,level"


def test_per_sample_rows_have_a_column_per_loss():
    r = runner.invoke(app, ["compute", "scce,brier_score", *DIGITS, "-f", "csv"])
    rows = _rows(r.stdout)
    assert list(rows[0]) == ["index", "label", "predicted", "sparse_categorical_crossentropy",
                             "brier_score"]
    alone = _rows(runner.invoke(app, ["compute", "brier_score", *DIGITS, "-f", "csv"]).stdout)
    assert [row["brier_score"] for row in rows] == [row["loss"] for row in alone]
    assert len(rows) == 270


def test_json_and_the_terminal_show_every_loss():
    doc = json.loads(runner.invoke(app, ["compute", "scce,accuracy", *DIGITS, "-f",
                                         "json"]).stdout)
    assert [d["loss"] for d in doc["losses"]] == ["sparse_categorical_crossentropy", "accuracy"]
    assert doc["losses"][1]["value"] == lossctl.evaluate("accuracy", *DIGITS).value
    out = runner.invoke(app, ["compute", "scce,accuracy", *DIGITS],
                        obj={"stdout_isatty": True}).stdout
    assert "2 values on 270 samples" in out and "accuracy" in out and "worst" in out.lower()


@pytest.mark.parametrize(("args", "phrase"), [
    (["--from-logits"], "--from-logits does not apply to brier_score"),
    (["--delta", "2"], "--delta applies to none of"),
    (["--compare", "keras,torch"], "--compare takes one loss"),
    (["--fail-above", "1"], "--fail-above takes one loss"),
])
def test_options_that_do_not_fit_every_loss_are_refused(args, phrase):
    r = runner.invoke(app, ["compute", "scce,brier_score", *DIGITS, *args])
    assert r.exit_code == 2 and phrase in r.stderr, r.stderr


def test_an_option_goes_to_the_losses_that_take_it():
    res = lossctl.evaluate("scce,top_k_accuracy", *DIGITS, k=2)
    assert res.others[0].value == lossctl.evaluate("top_k_accuracy", *DIGITS, k=2).value
    assert res.value == lossctl.evaluate("scce", *DIGITS).value


def test_a_loss_named_twice_is_refused():
    r = runner.invoke(app, ["compute", "scce,sparse_categorical_crossentropy", *DIGITS])
    assert r.exit_code == 2 and "given twice" in r.stderr
    r = runner.invoke(app, ["compute", "scce,nosuchloss", *DIGITS])
    assert r.exit_code == 2 and "nosuchloss" in r.stderr
