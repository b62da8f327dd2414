"""lossctl.evaluate: the one path from inputs to a value, for Python users and the CLI alike."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, subprocess_env
from typer.testing import CliRunner

import lossctl
from lossctl.cli import app
from lossctl.cli.flags import renderer
from lossctl.errors import DataError, InputError, UsageError

SAMPLES = ROOT / "samples"
LABELS, PROBS = SAMPLES / "digits_labels.csv", SAMPLES / "digits_probs.csv"
runner = CliRunner()


def cli_value(*args) -> float:
    r = runner.invoke(app, ["compute", *map(str, args)])
    assert r.exit_code == 0, r.stderr
    return float(r.stdout)


def test_files_give_the_cli_value_exactly():
    res = lossctl.evaluate("scce", str(LABELS), str(PROBS))
    assert res.value == cli_value("scce", LABELS, PROBS)
    assert res.loss == "sparse_categorical_crossentropy" and res.samples == 270
    assert res.per_sample.shape == (270,) and res.per_sample.mean() == pytest.approx(res.value)


def test_arrays_give_the_same_value_as_files():
    y = np.loadtxt(LABELS, skiprows=1, dtype=np.int64)
    p = np.loadtxt(PROBS, delimiter=",", skiprows=1)
    assert lossctl.evaluate("scce", y, p).value == lossctl.evaluate("scce", str(LABELS), str(PROBS)).value
    assert lossctl.evaluate("scce", y.tolist(), p.tolist()).value == cli_value("scce", LABELS, PROBS)
    npy = lossctl.evaluate("scce", str(SAMPLES / "digits_labels.npy"), str(SAMPLES / "digits_probs.npy"))
    assert npy.value == pytest.approx(cli_value("scce", LABELS, PROBS), rel=1e-15)


def test_one_file_with_both_column_sets():
    res = lossctl.evaluate("scce", str(SAMPLES / "digits_results.csv"), true_cols="label",
                           pred_cols="p*")
    assert res.value == pytest.approx(cli_value("scce", LABELS, PROBS), rel=1e-15)


def test_python_errors_name_the_python_option_and_the_cli_its_flag():
    with pytest.raises(DataError) as e:
        lossctl.evaluate("scce", str(SAMPLES / "digits_labels_1based.csv"), str(PROBS))
    assert "use offset=1" in str(e.value) and e.value.row == 0
    assert e.value.source.endswith("digits_labels_1based.csv") and e.value.location == "line 2"
    assert "use --offset 1" in e.value.render(renderer("compute"))
    with pytest.raises(InputError) as e:
        lossctl.evaluate("scce", str(SAMPLES / "digits_results.csv"), true_cols="label",
                         pred_cols="q*")
    assert e.value.option == "pred_cols" and "pred_cols" in str(e.value)
    r = runner.invoke(app, ["compute", "scce", str(SAMPLES / "digits_results.csv"),
                            "--true-cols", "label", "--pred-cols", "q*"])
    assert r.exit_code == 1 and "no column matches 'q*'" in r.stderr
    with pytest.raises(UsageError) as e:
        lossctl.evaluate("mse", [1.0], [1.0], delta=2)
    assert e.value.option == "delta" and str(e.value).startswith("delta does not apply")


def test_option_values_are_checked_before_any_input_is_read(tmp_path):
    missing = tmp_path / "missing.csv"
    with pytest.raises(UsageError, match="label_smoothing must lie in"):
        lossctl.evaluate("cce", str(missing), str(missing), label_smoothing=2)
    with pytest.raises(UsageError, match="unknown loss"):
        lossctl.evaluate("nope", str(missing), str(missing))
    with pytest.raises(UsageError, match="y_pred is missing"):
        lossctl.evaluate("scce", str(LABELS))


def test_loss_object_like_keras():
    y, p = [1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]
    scce = lossctl.Loss("scce")
    assert scce(y, p) == lossctl.evaluate("scce", y, p).value
    torch_ce = lossctl.Loss("CrossEntropyLoss", reduction="none")
    assert torch_ce([0], [[2.0, 0.0]]).tolist() == pytest.approx([math.log1p(math.exp(-2.0))])
    weighted = lossctl.Loss("mse", reduction="mean_with_sample_weight")
    assert weighted([[1.5], [2], [5]], [[1], [2], [3]], sample_weight=[1, 2, 3]) == pytest.approx(2.041667, abs=1e-6)
    with pytest.raises(UsageError):  # checked when the object is made, not when it is called
        lossctl.Loss("mse", from_logits=True)
    assert repr(lossctl.Loss("huber", delta=2.0)) == "Loss('huber', delta=2.0)"


def test_compare_in_one_pass_with_reasons():
    res = lossctl.evaluate("bce", [[1], [0]], [[0.0], [0.3]], compare=["keras", "torch"])
    rows = res.compare
    assert [r.convention for r in rows] == ["keras", "torch"]
    assert rows[0].value == pytest.approx(8.237385297, rel=1e-9)
    assert rows[1].value == pytest.approx(50.178337472, rel=1e-9)
    assert rows[0].reason == "reference" and "clamps log at -100" in rows[1].reason
    assert res.value == rows[0].value
    with pytest.raises(UsageError, match="compare takes keras, torch, keras-jax, sklearn or all"):
        lossctl.evaluate("bce", [[1]], [[0.5]], compare=["jax"])


def test_blocks_stream_to_a_callback(tmp_path):
    rng = np.random.default_rng(0)
    n = 200_000
    y = rng.integers(0, 4, n)
    logits = rng.normal(size=(n, 4))
    seen = []
    res = lossctl.evaluate("scce", y, logits, from_logits=True, keep=False,
                           on_block=lambda b: seen.append((b.start, b.per_sample.copy())))
    assert res.per_sample is None and len(seen) > 1  # several blocks, none kept
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    streamed = np.concatenate([v for _, v in seen])
    assert streamed.shape == (n,)
    assert math.fsum(streamed) / n == pytest.approx(res.value, rel=1e-12)


def test_report_data_and_json_form():
    res = lossctl.evaluate("scce", str(LABELS), str(PROBS), report=True, top=3)
    assert [w.index for w in res.report.worst][:1] == [159]
    assert len(res.report.per_class) == 10
    doc = res.to_dict()
    json.dumps(doc)  # JSON-able
    assert doc["value"] == res.value and len(doc["per_sample"]) == 270


def test_class_weights_from_a_file_source(tmp_path):
    w = tmp_path / "w.csv"
    w.write_text("1\n3\n0.5\n")
    lg = [[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [1.0, 1.0, 1.0]]
    from_list = lossctl.evaluate("cross_entropy", [0, 2, 1], lg, class_weight=[1, 3, 0.5])
    from_file = lossctl.evaluate("cross_entropy", [0, 2, 1], lg, class_weight=str(w))
    assert from_file.value == from_list.value == pytest.approx(0.897360, abs=1e-6)


def test_row_counts_have_one_text(tmp_path):
    with pytest.raises(lossctl.ShapeError) as e:
        lossctl.evaluate("scce", [0, 1, 2], [[0.5, 0.5]] * 2)
    text = str(e.value)
    assert text.startswith("y_true has 3 rows but y_pred has 2: Keras would fail with")
    assert "one row per sample" in text


def test_early_stop_while_pyarrow_parses_never_aborts(tmp_path):
    """A compute that fails on an early row of a large CSV, while the read-ahead thread has
    pyarrow parsing the next chunks, ends with its own exit status every time: the shutdown
    abort (status 134) that `os._exit` used to hide is fixed at its root."""
    rows = 120_000
    probs = tmp_path / "p.csv"
    with probs.open("w") as f:
        f.write("0.2,0.3,0.5\n" * 200 + "0.2,x,0.5\n" + "0.2,0.3,0.5\n" * (rows - 201))
    labels = tmp_path / "y.csv"
    labels.write_text("1\n" * rows)
    codes = []  # tests/test_io_shutdown.py loops the library's scenario 30 times; this, the CLI's
    for _ in range(4):
        proc = subprocess.run(
            [sys.executable, "-m", "lossctl", "compute", "scce", str(labels), str(probs),
             "--memory-limit", "64M"],
            capture_output=True, text=True, env=subprocess_env(), cwd=ROOT, timeout=60)
        codes.append(proc.returncode)
        assert proc.stderr.count("lossctl: error:") == 1 and "Traceback" not in proc.stderr
    assert codes == [1] * len(codes)
