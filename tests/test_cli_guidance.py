"""`lossctl list`, `explain`, `inspect`, and compute's diagnostics: all read the registry."""
from __future__ import annotations

import csv as csvmod
import io
import json
import shlex
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lossctl.cli import app
from lossctl.losses import registry

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
runner = CliRunner()


def run(*args, input=None, tty=False):
    """``lossctl *args``; ``tty`` injects an environment whose stdout is a terminal."""
    obj = {"stdout_isatty": True} if tty else None
    return runner.invoke(app, [str(a) for a in args], input=input, obj=obj)


def run_line(line: str):
    """Run a printed `lossctl ...` command line (from explain or inspect) as a user would."""
    argv = shlex.split(line)
    assert argv[0] == "lossctl"
    if ">" in argv:  # a conversion redirect: run it and capture stdout instead
        argv = argv[: argv.index(">")]
    return runner.invoke(app, argv[1:])


# ---------------------------------------------------------------------------------------- list
def test_list_in_a_pipe_is_csv_with_every_loss():
    r = run("list")
    assert r.exit_code == 0
    rows = list(csvmod.DictReader(io.StringIO(r.stdout)))
    assert [row["name"] for row in rows] == registry.names()
    assert set(rows[0]) >= {"name", "task", "keras", "tf.nn", "torch", "optax", "sklearn", "y_true", "y_pred", "options"}
    bce = next(row for row in rows if row["name"] == "binary_crossentropy")
    assert "BCELoss" in bce["torch"] and "sigmoid_cross_entropy_with_logits" in bce["tf.nn"]


def test_list_task_filter_and_json():
    r = run("list", "--task", "multi-class", "-f", "json")
    rows = json.loads(r.stdout)
    assert rows and all(row["task"] == "multi-class" for row in rows)
    assert "sparse_categorical_crossentropy" in [row["name"] for row in rows]
    assert "mean_squared_error" not in [row["name"] for row in rows]


def test_list_table_on_a_terminal():
    r = run("list", tty=True)
    assert r.exit_code == 0 and "sparse_categorical_crossentropy" in r.stdout and "┃" in r.stdout


# ------------------------------------------------------------------------------------- explain
@pytest.mark.parametrize("spec", registry.SPECS, ids=lambda s: s.name)
def test_every_loss_has_explain_text(spec):
    for field in ("summary", "formula", "when", "example"):
        assert getattr(spec, field).strip(), f"{spec.name} lacks {field}"
    assert len(spec.doc) > 80, f"{spec.name}'s function has no real docstring"
    assert spec.siblings or spec.family in ("regression",), f"{spec.name} names no sibling"
    for sib in spec.siblings:
        registry.get(sib)  # every sibling named is a real loss


@pytest.mark.parametrize("spec", registry.SPECS, ids=lambda s: s.name)
def test_explain_example_runs(spec, monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples use samples/... paths, as the README does
    r = run_line(spec.example)
    assert r.exit_code == 0, f"{spec.example}\n{r.stderr}"
    assert np.isfinite(float(r.stdout.strip().splitlines()[0].split(",")[-1]))


def test_explain_page_contents():
    r = run("explain", "CrossEntropyLoss")
    assert r.exit_code == 0
    out = r.stdout
    for phrase in ("# cross_entropy", "## Formula", "log softmax", "torch:", "## Example",
                   "lossctl compute cross_entropy samples/", "## See also", "implies convention=torch"):
        assert phrase in out
    r = run("explain", "cce")
    assert "sparse_categorical_crossentropy" in r.stdout and "binary_crossentropy" in r.stdout
    assert "renormalises" in r.stdout  # where Keras and PyTorch differ


def test_explain_json_and_unknown():
    info = json.loads(run("explain", "kl_div", "-f", "json").stdout)
    assert info["name"] == "kl_divergence" and info["alias"]["implies"]["log_input"] is True
    r = run("explain", "klx_div")
    assert r.exit_code == 2 and "did you mean" in r.stderr.lower()


def test_every_alias_resolves_to_its_loss():
    for spec in registry.SPECS:
        for a in spec.aliases:
            assert registry.get(a.name) is spec
            assert registry.get(a.name.upper()) is spec
            assert registry.get(a.name.replace("_", "-")) is spec


# ------------------------------------------------------------------------------------- inspect
CASES = [
    # (name, y_true, y_pred, expected label encoding, expected prediction kind, first loss)
    ("index 0..9 + softmax", "digits_labels.csv", "digits_probs.csv", "index", "probabilities", "sparse_categorical_crossentropy"),
    ("index 1..10 + softmax", "digits_labels_1based.csv", "digits_probs.csv", "index_offset", "probabilities", "sparse_categorical_crossentropy"),
    ("one-hot + logits", "digits_onehot.csv", "digits_logits.csv", "onehot", "logits", "categorical_crossentropy"),
    ("multi-label + sigmoid", "multilabel_labels.csv", "multilabel_probs.csv", "multihot", "independent_probabilities", "binary_crossentropy"),
    ("+-1 + scores", "signed_labels.csv", "margin_scores.csv", "signed", "logits", "hinge"),
    ("regression", "regression_true.csv", "regression_pred.csv", None, "real", "mean_squared_error"),
    ("strings + header", "animals_labels.csv", "animals_probs.csv", "string", "probabilities", "sparse_categorical_crossentropy"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_inspect_names_encoding_and_first_recommendation_runs(case, monkeypatch):
    _, yt, yp, enc, kind, loss = case
    monkeypatch.chdir(ROOT)
    r = run("inspect", f"samples/{yt}", f"samples/{yp}", "-f", "json")
    assert r.exit_code == 0, r.stderr
    info = json.loads(r.stdout)
    if enc is not None:
        assert info["y_true"]["encoding"] == enc
    assert info["y_pred"]["kind"] == kind
    assert info["fits"] is True
    first = info["recommendations"][0]
    assert first["loss"] == loss
    done = run_line(first["command"])
    assert done.exit_code == 0, f"{first['command']}\n{done.stderr}"
    assert np.isfinite(float(done.stdout))


def test_inspect_offset_case_carries_the_offset(monkeypatch):
    monkeypatch.chdir(ROOT)
    info = json.loads(run("inspect", "samples/digits_labels_1based.csv", "samples/digits_probs.csv", "-f", "json").stdout)
    assert "--offset 1" in info["recommendations"][0]["command"]
    conv = info["conversions"][0]["command"]
    assert conv == "lossctl onehot samples/digits_labels_1based.csv -n 10 --offset 1 > onehot.csv"
    made = run_line(conv)
    assert made.exit_code == 0 and made.stdout.splitlines()[0].count(",") == 9


def test_inspect_same_file_columns_in_command(monkeypatch):
    monkeypatch.chdir(ROOT)
    info = json.loads(run("inspect", "samples/digits_results.csv", "--true-cols", "label", "--pred-cols", "p*", "-f", "json").stdout)
    cmd = info["recommendations"][0]["command"]
    assert "--true-cols label" in cmd and "--pred-cols 'p*'" in cmd
    assert run_line(cmd).exit_code == 0


def test_inspect_mismatch_reason_and_strict(tmp_path):
    y = tmp_path / "y.csv"
    y.write_text("\n".join(str(i % 16) for i in range(204)) + "\n")
    p = tmp_path / "p.npy"
    np.save(p, np.zeros((12, 16)))
    r = run("inspect", y, p, "-f", "json")
    info = json.loads(r.stdout)
    assert info["fits"] is False
    assert "logits shape [12,16] and labels shape [204]" in info["problems"][0]
    assert r.exit_code == 0
    r = run("inspect", y, p, "-f", "json", "--strict")
    assert r.exit_code == 1 and "do not fit" in r.stderr


def test_inspect_table_on_terminal(monkeypatch):
    monkeypatch.chdir(ROOT)
    r = run("inspect", "samples/digits_labels_1based.csv", "samples/digits_probs.csv", tty=True)
    assert r.exit_code == 0
    assert "index_offset" in r.stdout and "--offset 1" in r.stdout and "recommended" in r.stdout


def test_inspect_labels_alone(monkeypatch):
    monkeypatch.chdir(ROOT)
    info = json.loads(run("inspect", "samples/digits_labels.csv", "-f", "json").stdout)
    assert info["y_pred"] is None and info["y_true"]["num_classes"] == 10


# ------------------------------------------------------------------------ compute diagnostics
def test_compute_warns_once_with_count_and_strict_fails(tmp_path):
    y = tmp_path / "y.csv"
    y.write_text("0\n1\n2\n")
    p = tmp_path / "p.csv"
    p.write_text("0.2,0.2,0.2\n0.1,0.8,0.1\n0.3,0.3,0.3\n")
    r = run("compute", "scce", y, p)
    assert r.exit_code == 0
    assert r.stderr.count("lossctl: warning:") == 1 and "2 probability rows do not sum to 1" in r.stderr
    assert run("compute", "scce", y, p, "--no-warn").stderr == ""
    r = run("compute", "scce", y, p, "--strict")
    assert r.exit_code == 1 and "do not sum to 1" in r.stderr


def test_compute_warns_when_logits_look_like_probabilities():
    r = run("compute", "scce", SAMPLES / "digits_labels.csv", SAMPLES / "digits_probs.csv", "--from-logits")
    assert r.exit_code == 0 and "look like probabilities" in r.stderr
