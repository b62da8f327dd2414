"""`lossctl compute` end to end: worked examples, every output form, terminal vs pipe, gates."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lossctl.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
runner = CliRunner()


def run(*args: str, input: str | bytes | None = None, tty: bool = False):
    """``lossctl *args``; ``tty`` injects an environment whose stdout is a terminal."""
    obj = {"stdout_isatty": True} if tty else None
    return runner.invoke(app, [str(a) for a in args], input=input, obj=obj)


def csv(path: Path, rows, header: str | None = None) -> Path:
    lines = [header] if header else []
    lines += [",".join(repr(float(v)) if isinstance(v, float) else str(v) for v in np.atleast_1d(r)) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def worked(tmp_path):
    return {
        "onehot": csv(tmp_path / "onehot.csv", [[0, 1, 0], [0, 0, 1]]),
        "labels": csv(tmp_path / "labels.csv", [1, 2]),
        "probs": csv(tmp_path / "probs.csv", [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]),
        "ml_labels": SAMPLES / "multilabel_labels.csv",
        "ml_logits": SAMPLES / "multilabel_logits.csv",
        "sp_labels": csv(tmp_path / "sp.csv", [2, 1]),
        "sp_logits": csv(tmp_path / "spl.csv", [[2, 0.5, 6], [0.1, 0, 3]]),
        "kl_true": csv(tmp_path / "klt.csv", [[0, 0, 0, 1]]),
        "kl_pred": csv(tmp_path / "klp.csv", [[0.1, 0.1, 0.1, 0.7]]),
        "kl_logpred": csv(tmp_path / "kllp.csv", [np.log([0.1, 0.1, 0.1, 0.7]).tolist()]),
        "cce_true": csv(tmp_path / "ct.csv", [[0, 0, 0, 1], [0, 1, 0, 0]]),
        "cce_pred": csv(tmp_path / "cp.csv", [[0.1, 0.1, 0.1, 0.7], [0.1, 0.6, 0.1, 0.2]]),
    }


def value(result) -> float:
    assert result.exit_code == 0, result.stderr
    return float(result.stdout.strip())


# ------------------------------------------------------------------- the worked examples
def test_worked_example_cce_and_scce(worked):
    assert value(run("compute", "categorical_crossentropy", worked["onehot"], worked["probs"])) == pytest.approx(1.1769392, rel=1e-7)
    assert value(run("compute", "sparse_categorical_crossentropy", worked["labels"], worked["probs"])) == pytest.approx(1.1769392, rel=1e-7)
    r = run("compute", "cce", worked["onehot"], worked["probs"], "-r", "none")
    assert [float(x) for x in r.stdout.split()] == pytest.approx([0.0512933, 2.3025851], rel=1e-6)


def test_worked_example_sigmoid_elementwise(worked):
    for args in (["sigmoid_cross_entropy_with_logits"], ["binary_crossentropy", "--from-logits", "--elementwise"]):
        r = run("compute", *args, worked["ml_labels"], worked["ml_logits"])
        assert r.exit_code == 0, r.stderr
        rows = [[float(x) for x in line.split(",")] for line in r.stdout.split()]
        assert len(rows) == 5 and len(rows[0]) == 3
        assert rows[0] == pytest.approx([6.14419348e-06, 3.04858735e00, 2.12692801e00], rel=1e-7)


def test_worked_example_sparse_softmax(worked):
    r = run("compute", "sparse_softmax_cross_entropy_with_logits", worked["sp_labels"], worked["sp_logits"], "-r", "none")
    assert [float(x) for x in r.stdout.split()] == pytest.approx([0.02215516, 3.09967364], rel=1e-7)


def test_worked_example_kl(worked):
    assert value(run("compute", "kl_divergence", worked["kl_true"], worked["kl_pred"])) == pytest.approx(0.3566708, rel=1e-6)
    r = run("compute", "kl_div", worked["kl_true"], worked["kl_logpred"], "--reduction", "batchmean")
    assert value(r) == pytest.approx(-math.log(0.7), rel=1e-7)
    r = run("compute", "cce", worked["cce_true"], worked["cce_pred"], "-r", "none")
    assert [float(x) for x in r.stdout.split()] == pytest.approx([0.35667494, 0.51082562], rel=1e-7)


# ---------------------------------------------------------------------------------- outputs
DIGITS = (SAMPLES / "digits_labels.csv", SAMPLES / "digits_probs.csv")


def test_pipe_gets_full_precision_value_alone():
    r = run("compute", "scce", *DIGITS)
    assert r.exit_code == 0
    assert r.stdout.count("\n") == 1
    v = float(r.stdout)
    assert repr(v) == r.stdout.strip()  # full round-trip precision
    assert r.stderr == ""


def test_reduction_none_one_line_per_sample():
    r = run("compute", "scce", *DIGITS, "-r", "none")
    lines = r.stdout.split()
    assert len(lines) == 270
    assert np.mean([float(x) for x in lines]) == pytest.approx(value(run("compute", "scce", *DIGITS)), rel=1e-12)


@pytest.mark.parametrize("fmt, sep", [("csv", ","), ("tsv", "\t")])
def test_per_sample_rows(fmt, sep):
    r = run("compute", "scce", *DIGITS, "-f", fmt)
    lines = r.stdout.splitlines()
    assert lines[0].split(sep) == ["index", "label", "predicted", "loss"]
    assert len(lines) == 271
    first = lines[1].split(sep)
    assert first[0] == "0" and first[1] == "9"


def test_jsonl_and_json():
    r = run("compute", "scce", *DIGITS, "-f", "jsonl")
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(rows) == 270 and set(rows[0]) == {"index", "label", "predicted", "loss"}
    r = run("compute", "scce", *DIGITS, "-f", "json")
    obj = json.loads(r.stdout)
    for key in ("loss", "convention", "reduction", "value", "samples", "per_sample"):
        assert key in obj
    assert obj["loss"] == "sparse_categorical_crossentropy" and obj["samples"] == 270
    assert np.mean(obj["per_sample"]) == pytest.approx(obj["value"], rel=1e-12)


def test_json_elementwise_and_none_value(worked):
    r = run("compute", "bce", worked["ml_labels"], worked["ml_logits"], "--from-logits", "--elementwise", "-r", "none", "-f", "json")
    obj = json.loads(r.stdout)
    assert obj["value"] is None
    assert np.array(obj["elementwise"]).shape == (5, 3)


def test_npy_output_file(tmp_path):
    out = tmp_path / "per_sample.npy"
    r = run("compute", "scce", *DIGITS, "-o", out)
    assert r.exit_code == 0, r.stderr
    a = np.load(out, allow_pickle=False)
    assert a.shape[0] == 270
    assert a.reshape(-1).mean() == pytest.approx(value(run("compute", "scce", *DIGITS)), rel=1e-12)


def test_npy_to_terminal_refused():
    r = run("compute", "scce", *DIGITS, "-f", "npy", tty=True)
    assert r.exit_code == 2 and "terminal" in r.stderr


def test_terminal_gets_the_report():
    r = run("compute", "scce", *DIGITS, "--top", "3", tty=True)
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    for phrase in ("sparse_categorical_crossentropy", "0.2318777", "worst 3 samples", "per class", "per-sample loss", "accuracy"):
        assert phrase in out
    assert "159" in out  # the worst sample of the digits set (true 4, predicted 8)


def test_an_accuracys_report_lists_the_wrong_rows_and_each_class_error_rate():
    r = run("compute", "accuracy", *DIGITS, "--top", "5", tty=True)
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    worst = out[out.index("worst 5 samples"):out.index("per class")]
    rows = [ln.split("│")[1:-1] for ln in worst.splitlines() if ln.startswith("│")]
    assert len(rows) == 5 and all(c[1].strip() != c[2].strip() for c in rows)  # true != predicted
    assert all(c[-1].strip() == "0" for c in rows)  # 0: wrong
    assert "error rate" in out and "share of errors" in out and "per-sample" not in out
    assert "mean loss" not in out and "share of loss" not in out


def test_a_rankings_report_ranks_no_sample_worst_and_calls_its_values_scores():
    binary = (SAMPLES / "binary_labels.csv", SAMPLES / "binary_probs.csv")
    r = run("compute", "roc_auc", *binary, tty=True)
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    tables = out[out.index("╯"):]  # after the summary panel (whose first row is named loss)
    assert "worst" not in tables and "mean score" in tables and "per-sample score" in tables
    assert "loss" not in tables and "accuracy" not in tables


def test_a_loss_report_keeps_its_loss_columns_and_puts_non_finite_rows_first(tmp_path):
    y = csv(tmp_path / "y.csv", [[0], [1], [0]], "label")
    p = csv(tmp_path / "p.csv", [[0.9, 0.1], [0.5, 0.5], [0.0, 1.0]], "a,b")
    r = run("compute", "scce", y, p, "--convention", "torch", "--top", "2", tty=True)
    out = r.stdout
    worst = out[out.index("worst 2 samples"):out.index("per class")]
    rows = [ln.split("│")[1:-1] for ln in worst.splitlines() if ln.startswith("│")]
    assert [c[0].strip() for c in rows] == ["2", "1"], out  # -log(0) first, then -log(0.5)
    assert rows[0][-1].strip() == "inf" and rows[1][-1].strip() == "0.693147"
    assert "mean loss" in out and "share of loss" in out


def test_same_file_columns():
    r = run("compute", "scce", SAMPLES / "digits_results.csv", "--true-cols", "label", "--pred-cols", "p*")
    assert value(r) == pytest.approx(value(run("compute", "scce", *DIGITS)), rel=1e-15)


def test_same_file_needs_both_column_specs():
    r = run("compute", "scce", SAMPLES / "digits_results.csv")
    assert r.exit_code == 2 and "--pred-cols" in r.stderr


def test_stdin_as_predictions():
    text = (SAMPLES / "digits_probs.csv").read_text()
    r = run("compute", "scce", DIGITS[0], "-", input=text)
    assert value(r) == pytest.approx(value(run("compute", "scce", *DIGITS)), rel=1e-15)


def test_npy_inputs_match_csv():
    r = run("compute", "scce", SAMPLES / "digits_labels.npy", SAMPLES / "digits_probs.npy")
    assert value(r) == pytest.approx(value(run("compute", "scce", *DIGITS)), rel=1e-15)


def test_string_labels_use_prediction_header():
    r = run("compute", "scce", SAMPLES / "animals_labels.csv", SAMPLES / "animals_probs.csv")
    assert r.exit_code == 0, r.stderr
    r = run("compute", "scce", SAMPLES / "animals_labels.csv", SAMPLES / "animals_probs.csv", "-f", "csv")
    assert r.stdout.splitlines()[1].split(",")[1] in ("cat", "dog", "bird")


def test_sample_and_class_weights(tmp_path):
    w = csv(tmp_path / "w.csv", [1.0] * 270)
    base = value(run("compute", "scce", *DIGITS))
    assert value(run("compute", "scce", *DIGITS, "--sample-weight", w)) == base
    assert value(run("compute", "scce", *DIGITS, "--class-weight", ",".join(["1"] * 10))) == base
    cwf = csv(tmp_path / "cw.csv", [2.0] * 10)
    assert value(run("compute", "scce", *DIGITS, "--class-weight", cwf)) == pytest.approx(2 * base)


def test_compare_explains_the_difference(tmp_path):
    y = csv(tmp_path / "y.csv", [[1], [0]])
    p = csv(tmp_path / "p.csv", [[0.0], [0.3]])
    r = run("compute", "bce", y, p, "--compare", "keras,torch")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "convention,value,reason"
    keras, torch = (float(line.split(",")[1]) for line in lines[1:3])
    assert keras == pytest.approx((16.118095 + -math.log(0.7)) / 2, rel=1e-6)
    assert torch == pytest.approx((100 - math.log(0.7)) / 2, rel=1e-6)
    assert "clamps log at -100" in lines[2]


def test_fail_above_exits_3():
    r = run("compute", "scce", *DIGITS, "--fail-above", "0.1")
    assert r.exit_code == 3 and "above --fail-above" in r.stderr
    assert float(r.stdout) > 0.1  # the value is still printed
    assert run("compute", "scce", *DIGITS, "--fail-above", "1").exit_code == 0


def test_torch_alias_selects_torch_convention(tmp_path):
    y = csv(tmp_path / "y.csv", [[1.0], [2.0], [3.0]])
    p = csv(tmp_path / "p.csv", [[1.5], [2.0], [5.0]])
    w = csv(tmp_path / "w.csv", [1.0, 2.0, 3.0])
    assert value(run("compute", "mse", y, p, "--sample-weight", w)) == pytest.approx(4.083333, rel=1e-6)
    assert value(run("compute", "MSELoss", y, p, "--sample-weight", w)) == pytest.approx(2.041667, rel=1e-6)


def test_float32_saturation(tmp_path):
    y = csv(tmp_path / "y.csv", [0])
    p = csv(tmp_path / "p.csv", [1.0])
    assert value(run("compute", "bce", y, p, "--dtype", "float32")) == pytest.approx(15.942385, rel=1e-7)


# ----------------------------------------------------------------------------- error paths
def test_framework_error_shapes_incompatible(tmp_path):
    """`ValueError: Shapes (32, 1) and (32, 10) are incompatible`, reproduced with lossctl files."""
    rng = np.random.default_rng(0)
    y = csv(tmp_path / "y.csv", rng.integers(0, 10, 32))
    p = csv(tmp_path / "p.csv", rng.dirichlet(np.ones(10), 32).tolist())
    r = run("compute", "categorical_crossentropy", y, p)
    assert r.exit_code == 1
    assert "Shapes (N, 1) and (N, 10) are incompatible" in r.stderr
    assert "sparse_categorical_crossentropy" in r.stderr and "lossctl onehot" in r.stderr


def test_framework_error_first_dimension(tmp_path):
    """`logits and labels must have the same first dimension, got logits shape [12,16] and
    labels shape [204]`: one-hot labels flattened into one column."""
    rng = np.random.default_rng(1)
    y = csv(tmp_path / "y.csv", rng.integers(0, 16, 204))
    p = csv(tmp_path / "p.csv", rng.normal(size=(12, 16)).tolist())
    r = run("compute", "scce", y, p, "--from-logits")
    assert r.exit_code == 1
    assert "Y_TRUE has 204 rows but Y_PRED has 12" in r.stderr and "one row per sample" in r.stderr
    assert "logits shape [12,16] and labels shape [204]" in r.stderr


def test_one_based_labels_suggest_offset():
    r = run("compute", "scce", SAMPLES / "digits_labels_1based.csv", DIGITS[1])
    assert r.exit_code == 1
    assert "digits_labels_1based.csv, line" in r.stderr and "--offset 1" in r.stderr
    assert value(run("compute", "scce", SAMPLES / "digits_labels_1based.csv", DIGITS[1], "--offset", "1")) == pytest.approx(
        value(run("compute", "scce", *DIGITS)), rel=1e-15)


def test_logits_as_probabilities_suggest_from_logits():
    r = run("compute", "scce", DIGITS[0], SAMPLES / "digits_logits.csv")
    assert r.exit_code == 1 and "--from-logits" in r.stderr and "digits_logits.csv, line 2" in r.stderr


def test_option_that_does_not_apply_is_exit_2():
    r = run("compute", "scce", *DIGITS, "--delta", "2")
    assert r.exit_code == 2 and "--delta does not apply" in r.stderr


def test_unknown_loss_is_exit_2_with_suggestion():
    r = run("compute", "sparse_categorical_crossentropi", *DIGITS)
    assert r.exit_code == 2 and "did you mean sparse_categorical_crossentropy" in r.stderr.lower()


def test_output_equal_to_input_refused():
    before = DIGITS[1].read_bytes()
    r = run("compute", "scce", *DIGITS, "-f", "csv", "-o", DIGITS[1])
    assert r.exit_code == 1 and DIGITS[1].read_bytes() == before


def test_every_error_is_one_line_without_traceback():
    r = run("compute", "cce", *DIGITS)
    assert r.stderr.count("lossctl: error:") == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize("via_stdin", [False, True])
def test_same_file_with_string_labels(tmp_path, via_stdin):
    text = "label,bird,cat,dog\ncat,0.1,0.8,0.1\ndog,0.2,0.2,0.6\n"
    f = tmp_path / "results.csv"
    f.write_text(text)
    src = "-" if via_stdin else f
    r = run("compute", "scce", src, "--true-cols", "label", "--pred-cols", "2-4", "-f", "csv",
            input=text if via_stdin else None)
    assert r.exit_code == 0, r.stderr
    rows = [line.split(",") for line in r.stdout.splitlines()[1:]]
    assert [row[1] for row in rows] == ["cat", "dog"]
    assert [float(row[3]) for row in rows] == pytest.approx([-math.log(0.8), -math.log(0.6)])
