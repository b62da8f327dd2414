"""No silent wrong numbers: each common mistake gives a warning or an error naming the cause and
the right fix, through the CLI as a user meets it (issue: diagnostics in both directions)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import lossctl
from lossctl.cli import app

ROOT = Path(__file__).resolve().parent.parent
S = ROOT / "samples"
runner = CliRunner()
RIGHT = 0.23187772564346193  # the loss of the digits probabilities (scce)


def run(*args, tty=False):
    return runner.invoke(app, [str(a) for a in args], obj={"stdout_isatty": True} if tty else None)


def warnings_of(r) -> list[str]:
    return [ln for ln in r.stderr.splitlines() if ln.startswith("lossctl: warning: ")]


# --- probabilities given to a loss that takes logits ------------------------------------------


@pytest.mark.parametrize("loss, cause, fix", [
    ("CrossEntropyLoss", "CrossEntropyLoss (torch) takes logits",
     "use sparse_categorical_crossentropy with --convention torch"),
    ("cross_entropy", "cross_entropy takes logits",
     "use sparse_categorical_crossentropy with --convention torch"),
    ("sparse_softmax_cross_entropy_with_logits", "(tf.nn) takes logits",
     "use sparse_categorical_crossentropy (it takes probabilities)"),
    ("softmax_cross_entropy_with_integer_labels", "(optax) takes logits",
     "use sparse_categorical_crossentropy (it takes probabilities)"),
])
def test_softmax_probabilities_to_a_logits_loss_warn_with_the_right_value(loss, cause, fix):
    r = run("compute", loss, S / "digits_labels.csv", S / "digits_probs.csv")
    assert r.exit_code == 0
    assert float(r.stdout) == pytest.approx(1.6007956, rel=1e-6)  # the framework's own number
    (w,) = warnings_of(r)
    for phrase in (cause, "all 270 prediction rows look like probabilities",
                   "rows summing to 1", "softmax is applied a second time", fix,
                   "their loss is 0.231878"):
        assert phrase in w, (phrase, w)
    assert "--from-logits" not in w  # the name implied logits: no flag was typed


def test_the_typed_flag_is_named_when_it_was_typed():
    r = run("compute", "scce", S / "digits_labels.csv", S / "digits_probs.csv", "--from-logits")
    (w,) = warnings_of(r)
    assert w.startswith("lossctl: warning: --from-logits was given") and "drop --from-logits" in w


def test_sigmoid_probabilities_to_bce_with_logits():
    r = run("compute", "BCEWithLogitsLoss", S / "binary_labels.csv", S / "binary_probs.csv")
    (w,) = warnings_of(r)
    assert "BCEWithLogitsLoss (torch) takes logits" in w and "sigmoid is applied a second time" in w
    assert "use binary_crossentropy with --convention torch" in w
    right = float(run("compute", "binary_crossentropy", S / "binary_labels.csv",
                      S / "binary_probs.csv", "--convention", "torch").stdout)
    assert f"their loss is {right:.6g}" in w


def test_strict_makes_it_an_error_and_real_logits_pass_quietly():
    r = run("compute", "CrossEntropyLoss", S / "digits_labels.csv", S / "digits_probs.csv", "--strict")
    assert r.exit_code == 1 and r.stdout == "" and "--strict makes warnings errors" in r.stderr
    r = run("compute", "CrossEntropyLoss", S / "digits_labels.csv", S / "digits_logits.csv", "--strict")
    assert r.exit_code == 0 and r.stderr == ""
    assert float(r.stdout) == pytest.approx(RIGHT, rel=1e-9)


def test_the_report_says_how_the_predictions_were_read():
    r = run("compute", "CrossEntropyLoss", S / "digits_labels.csv", S / "digits_logits.csv", tty=True)
    assert "predictions  logits (CrossEntropyLoss (torch) takes logits)" in r.stdout
    r = run("compute", "scce", S / "digits_labels.csv", S / "digits_probs.csv", tty=True)
    assert "probabilities (scce (keras) takes probabilities)" in r.stdout


# --- binary data to a categorical loss, multi-class data to a binary one ------------------------


def test_one_column_of_p_positive_to_categorical_crossentropy_is_an_error():
    for extra in ((), ("--compare", "keras,torch")):
        r = run("compute", "cce", S / "binary_labels.csv", S / "binary_probs.csv", *extra)
        assert r.exit_code == 1 and r.stdout == ""
        assert "has 1 column" in r.stderr and "Use binary_crossentropy" in r.stderr


def test_onehot_with_softmax_rows_to_a_binary_loss_warns():
    r = run("compute", "bce", S / "digits_onehot.csv", S / "digits_probs.csv")
    assert r.exit_code == 0
    (w,) = warnings_of(r)
    assert "one-hot (10 columns" in w and "10 independent binary problems" in w
    assert "categorical_crossentropy (0.231878 here)" in w


# --- a pandas index column --------------------------------------------------------------------


def _pandas_files(tmp_path):
    y = np.loadtxt(S / "digits_labels.csv", skiprows=1, dtype=np.int64)
    p = np.loadtxt(S / "digits_probs.csv", delimiter=",", skiprows=1)
    probs = tmp_path / "probs.csv"  # as df.to_csv("probs.csv") writes it
    probs.write_text("," + ",".join(f"p{j}" for j in range(10)) + "\n" + "".join(
        f"{i}," + ",".join(repr(float(v)) for v in row) + "\n" for i, row in enumerate(p)))
    labels = tmp_path / "labels.csv"
    labels.write_text(",label\n" + "".join(f"{i},{v}\n" for i, v in enumerate(y)))
    return labels, probs


def test_an_index_column_is_named_with_the_column_spec_that_fixes_it(tmp_path):
    labels, probs = _pandas_files(tmp_path)
    r = run("compute", "scce", S / "digits_labels.csv", probs)
    assert r.exit_code == 1
    assert "column 1 of Y_PRED holds 0, 1, 2, ...: a row index" in r.stderr
    assert "--pred-cols 'p*'" in r.stderr and "--from-logits" not in r.stderr
    r = run("compute", "scce", labels, S / "digits_probs.csv")
    assert r.exit_code == 1 and "column 1 of Y_TRUE" in r.stderr and "--true-cols label" in r.stderr
    fixed = run("compute", "scce", labels, probs, "--true-cols", "label", "--pred-cols", "p*")
    assert fixed.exit_code == 0 and float(fixed.stdout) == pytest.approx(RIGHT, rel=1e-12)


def test_scores_are_never_told_to_be_logits(tmp_path):
    (tmp_path / "y.csv").write_text("0\n1\n2\n")
    (tmp_path / "p.csv").write_text("2,1,1\n1,6,1\n1,1,8\n")
    r = run("compute", "scce", tmp_path / "y.csv", tmp_path / "p.csv", "--convention", "torch")
    assert r.exit_code == 1 and "--from-logits" not in r.stderr
    assert "divide each row by its sum" in r.stderr
    (tmp_path / "n.csv").write_text("2,1,-1\n1,6,1\n1,1,8\n")
    r = run("compute", "scce", tmp_path / "y.csv", tmp_path / "n.csv")
    assert r.exit_code == 1 and "These look like logits: add --from-logits" in r.stderr


def test_keras_renormalises_non_negative_scores_with_a_warning(tmp_path):
    (tmp_path / "y.csv").write_text("0\n1\n2\n")
    (tmp_path / "p.csv").write_text("2,1,1\n1,6,1\n1,1,8\n")
    r = run("compute", "cce", S / "digits_onehot.csv", S / "digits_probs.csv")  # sanity
    assert r.exit_code == 0
    r = run("compute", "scce", tmp_path / "y.csv", tmp_path / "p.csv")
    assert r.exit_code == 0
    (w,) = warnings_of(r)
    assert "3 probability rows do not sum to 1 (3 with scores above 1" in w
    assert "clips them to [1e-7, 1-1e-7] and then renormalises" in w


# --- gates and option values ---------------------------------------------------------------------


def test_fail_above_works_with_every_reduction():
    y, p = S / "digits_labels.csv", S / "digits_probs.csv"
    r = run("compute", "scce", y, p, "-r", "none", "--fail-above", "4")
    assert r.exit_code == 3 and "the largest per-sample loss 4.537" in r.stderr
    assert len(r.stdout.splitlines()) == 270  # the data is written first
    assert run("compute", "scce", y, p, "-r", "none", "--fail-above", "5").exit_code == 0
    assert run("compute", "scce", y, p, "-r", "sum", "--fail-above", "60").exit_code == 3
    r = run("compute", "cosine_similarity", S / "digits_onehot.csv", p, "--fail-below", "-0.5")
    assert r.exit_code == 3 and "below --fail-below -0.5" in r.stderr


@pytest.mark.parametrize("args, phrase", [
    (("--fail-above", "nan"), "--fail-above must be a finite number"),
    (("--fail-below", "inf"), "--fail-below must be a finite number"),
])
def test_a_gate_that_can_never_fail_is_refused(args, phrase):
    r = run("compute", "scce", S / "digits_labels.csv", S / "digits_probs.csv", *args)
    assert r.exit_code == 2 and phrase in r.stderr and r.stdout == ""


@pytest.mark.parametrize("loss, args, phrase", [
    ("multi_margin", ("--margin", "nan"), "--margin must be a finite number"),
    ("huber", ("--delta", "inf"), "--delta must be positive"),
    ("huber", ("--delta", "nan"), "--delta must be positive"),
    ("pinball", ("--quantile", "nan"), "--quantile must lie in (0, 1)"),
    ("bce", ("--label-smoothing", "nan"), "--label-smoothing must lie in [0, 1]"),
])
def test_nan_and_infinite_parameters_are_usage_errors(loss, args, phrase):
    r = run("compute", loss, S / "regression_true.csv", S / "regression_pred.csv", *args)
    assert r.exit_code == 2 and phrase in r.stderr, r.stderr


def test_sparse_tolerance_nan_is_a_usage_error():
    r = run("sparse", S / "digits_onehot.csv", "--tolerance", "nan")
    assert r.exit_code == 2 and "--tolerance must be a number in [0, 0.5]" in r.stderr


# --- reductions that cannot overflow ------------------------------------------------------------


def test_a_mean_of_finite_values_is_finite(tmp_path):
    (tmp_path / "y.csv").write_text("0\n" * 4)
    (tmp_path / "p.csv").write_text("1.5e308\n" * 4)
    r = run("compute", "mae", tmp_path / "y.csv", tmp_path / "p.csv")
    assert r.exit_code == 0 and float(r.stdout) == 1.5e308
    big = lossctl.evaluate("mae", np.zeros((70_000, 2)), np.full((70_000, 2), 1.5e308))
    assert big.value == 1.5e308 and np.all(big.per_sample == 1.5e308)
    assert math.isinf(lossctl.evaluate("mae", np.zeros(4), np.full(4, 1.5e308), reduction="sum").value)


# --- headers, void labels, transposed arrays, all-ignored batches ------------------------------


def test_a_guessed_header_is_said_and_class_names_keep_the_row(tmp_path):
    (tmp_path / "y.csv").write_text("bird\ncat\ndog\ncat\ndog\n")
    (tmp_path / "p.csv").write_text("bird,cat,dog\n0.1,0.5,0.4\n0.2,0.7,0.1\n0.2,0.2,0.6\n0.1,0.8,0.1\n0.3,0.3,0.4\n")
    r = run("compute", "scce", tmp_path / "y.csv", tmp_path / "p.csv", "--classes", "bird,cat,dog")
    assert r.exit_code == 0 and r.stderr == ""  # 'bird' is a class: a label, not a header
    expected = -np.mean(np.log([0.1, 0.7, 0.6, 0.8, 0.4]))
    assert float(r.stdout) == pytest.approx(expected, rel=1e-12)
    r = run("onehot", tmp_path / "y.csv")
    assert "line 1 ('bird') was taken as a header" in r.stderr and "--no-input-header" in r.stderr
    assert len(r.stdout.splitlines()) == 4


def test_void_label_255_suggests_ignore_class(tmp_path):
    y = np.loadtxt(S / "digits_labels.csv", skiprows=1, dtype=np.int64)
    y[5] = 255
    np.save(tmp_path / "y.npy", y)
    r = run("compute", "scce", tmp_path / "y.npy", S / "digits_probs.csv")
    assert r.exit_code == 1 and "row 5" in r.stderr and "use --ignore-class 255" in r.stderr
    assert run("compute", "scce", tmp_path / "y.npy", S / "digits_probs.csv",
               "--ignore-class", "255").exit_code == 0


def test_transposed_predictions_are_named(tmp_path):
    p = np.loadtxt(S / "digits_probs.csv", delimiter=",", skiprows=1)
    np.save(tmp_path / "pT.npy", p.T)
    r = run("compute", "scce", S / "digits_labels.csv", tmp_path / "pT.npy")
    assert r.exit_code == 1 and "it looks transposed" in r.stderr and "(a.T)" in r.stderr


def test_an_all_ignored_batch_says_why_its_value_is_0_or_nan():
    r = runner.invoke(app, ["compute", "scce", "-", str(S / "digits_probs.csv"), "--ignore-class", "-1"],
                      input="-1\n" * 270)
    assert r.exit_code == 0 and float(r.stdout) == 0.0
    assert "every row is ignored (--ignore-class -1): Keras gives 0" in r.stderr
    r = runner.invoke(app, ["compute", "CrossEntropyLoss", "-", str(S / "digits_logits.csv")],
                      input="-100\n" * 270)
    assert math.isnan(float(r.stdout)) and "PyTorch NaN" in r.stderr
