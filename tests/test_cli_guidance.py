"""`lossctl list`, `explain`, `inspect`, and compute's diagnostics: all read the registry."""
from __future__ import annotations

import csv as csvmod
import dataclasses
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
def test_registry_example_runs_in_a_checkout(spec, monkeypatch):
    monkeypatch.chdir(ROOT)  # the registry's examples use samples/... paths, as the README does
    r = run_line(spec.example)
    assert r.exit_code == 0, f"{spec.example}\n{r.stderr}"
    assert np.isfinite(float(r.stdout.strip().splitlines()[0].split(",")[-1]))


def _explain_example(name: str) -> str:
    info = json.loads(run("explain", name, "-f", "json").stdout)
    cmd = info["example"]
    assert cmd.startswith("printf ") and "samples/" not in cmd
    assert "    " + cmd in run("explain", name).stdout
    return cmd


@pytest.mark.parametrize("spec", registry.SPECS, ids=lambda s: s.name)
def test_explain_example_runs_from_any_folder(spec, tmp_path, monkeypatch):
    """The example `explain` prints is a shell command that needs no file. The shell runs its
    `printf` (so quoting and escapes are the shell's), and lossctl reads that on stdin, with its
    arguments split as the shell splits them, in an empty folder. (One example per family runs
    entirely as a subprocess below; a process per loss would cost a minute of the suite.)"""
    import subprocess

    cmd = _explain_example(spec.name)
    head, sep, tail = cmd.partition(" | lossctl ")
    if "<(" in tail:  # a second input from process substitution: only a shell can give it
        _run_through_a_shell(cmd, tmp_path)
        return
    assert sep and "|" not in tail and ">" not in tail, cmd
    data = subprocess.run(["bash", "-c", head], capture_output=True, check=True).stdout
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, shlex.split(tail), input=data)
    assert r.exit_code == 0, f"{cmd}\n{r.stderr}"
    assert np.isfinite(float(r.stdout.strip()))
    assert r.stderr == "", r.stderr


@pytest.mark.parametrize("name", sorted({s.family: s.name for s in registry.SPECS}.values()))
def test_explain_example_runs_through_a_shell(name, tmp_path):
    """One loss of each family: the example exactly as printed, through bash, as its own
    process."""
    _run_through_a_shell(_explain_example(name), tmp_path)


def _run_through_a_shell(cmd: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    from conftest import subprocess_env

    shell = cmd.replace("| lossctl ", f"| {sys.executable} -m lossctl ")
    proc = subprocess.run(["bash", "-c", shell], cwd=tmp_path, capture_output=True, text=True,
                          env=subprocess_env(), timeout=60)
    assert proc.returncode == 0, f"{cmd}\n{proc.stderr}"
    assert np.isfinite(float(proc.stdout.strip()))
    assert proc.stderr == "", proc.stderr


@pytest.mark.parametrize("spec", registry.SPECS, ids=lambda s: s.name)
def test_explain_reads_as_prose_at_80_columns(spec):
    text = run("explain", spec.name).stdout
    for line in text.splitlines():
        if line.startswith("    "):
            continue  # formulas and commands keep their own lines
        assert len(line) <= 80, line
        assert "``" not in line and line.strip() not in ("Args:", "Returns:", "Conventions:"), line


def test_explain_page_contents():
    r = run("explain", "CrossEntropyLoss")
    assert r.exit_code == 0
    out = r.stdout
    for phrase in ("# cross_entropy", "## Formula", "log softmax", "torch:", "## Example",
                   "lossctl compute cross_entropy - --true-cols y", "## See also",
                   "implies convention=torch"):
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
            name = f"{a.framework}.{a.name}" if a.prefix_only else a.name  # (bare: another loss)
            assert registry.get(name) is spec
            assert registry.get(name.upper()) is spec
            assert registry.get(name.replace("_", "-")) is spec


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


def _results_table(path: Path, labels: np.ndarray, preds: np.ndarray, *, header: list[str] | None,
                   sep: str = ",") -> None:
    """One file holding the label columns then the prediction columns."""
    lab = labels.reshape(len(labels), -1)
    lines = [sep.join(header)] if header else []
    for y, p in zip(lab, preds):
        lines.append(sep.join([*(str(int(v)) for v in y), *(repr(float(v)) for v in p)]))
    path.write_text("\n".join(lines) + "\n")


def _same_file_cases(tmp: Path) -> list[tuple[str, ...]]:
    """inspect argument lists over files of tmp (run from tmp): one file holding both."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 10, 60)
    z = rng.normal(size=(60, 10))
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    pnames = [f"p{j}" for j in range(10)]
    _results_table(tmp / "d_1based.csv", y + 1, probs, header=["label", *pnames])
    _results_table(tmp / "d_onehot.csv", np.eye(10, dtype=int)[y], z,
                   header=[*(f"y{j}" for j in range(10)), *(f"z{j}" for j in range(10))])
    _results_table(tmp / "d_bare.csv", y, probs, header=None)
    _results_table(tmp / "d_semi.txt", y, probs, header=["label", *pnames], sep=";")
    return [
        ("d_1based.csv", "--true-cols", "label", "--pred-cols", "p*"),
        ("d_onehot.csv", "--true-cols", "y*", "--pred-cols", "z*"),
        ("d_bare.csv", "--true-cols", "1", "--pred-cols", "2-11", "--no-header"),
        ("d_semi.txt", "--true-cols", "label", "--pred-cols", "p*", "--delimiter", ";"),
    ]


INSPECT_RUNS = (
    [(f"samples/{yt}", f"samples/{yp}") for _, yt, yp, *_ in CASES]
    + [("samples/digits_labels.npy", "samples/digits_probs.npy"),
       ("samples/digits_labels.csv", "samples/digits_logits.csv"),
       ("samples/digits_labels.csv", "samples/digits_logprobs.csv"),
       ("samples/binary_labels.csv", "samples/binary_probs.csv"),
       ("samples/multilabel_labels.csv", "samples/multilabel_logits.csv"),
       ("samples/digits_labels.csv",), ("samples/digits_labels_1based.csv",),
       ("samples/digits_onehot.csv",),
       ("samples/digits_results.csv", "--true-cols", "label", "--pred-cols", "p*")]
)


def _run_every_printed_command(args: tuple[str, ...]) -> list[str]:
    r = run("inspect", *args, "-f", "json")
    assert r.exit_code == 0, r.stderr
    info = json.loads(r.stdout)
    printed = info["recommendations"] + info["conversions"]
    assert printed, f"inspect {args} printed no command"
    for item in printed:
        done = run_line(item["command"])
        assert done.exit_code == 0, f"{item['command']}\n{done.stderr}"
        out = done.stdout.splitlines()
        if item["loss"] == "onehot":  # one row of C columns per label
            assert len(out) == info["y_true"]["rows"], item["command"]
            assert {line.count(",") for line in out} == {int(item["command"].split("-n ")[1].split()[0]) - 1}
        elif item["loss"] == "sparse":  # one class index per row
            assert len(out) == info["y_true"]["rows"] and all(s.isdigit() for s in out), out[:3]
        else:
            assert np.isfinite(float(out[0])), item["command"]
    return [item["command"] for item in printed]


@pytest.mark.parametrize("args", INSPECT_RUNS, ids=lambda a: " ".join(a).replace("samples/", ""))
def test_every_command_inspect_prints_runs(args, monkeypatch):
    monkeypatch.chdir(ROOT)
    _run_every_printed_command(args)


def test_every_command_inspect_prints_runs_for_one_file_holding_both(tmp_path, monkeypatch):
    """Conversions carry the label columns (--cols), and every command the header and
    delimiter options the user gave: `lossctl onehot d_all.csv -n 10` alone fails."""
    monkeypatch.chdir(tmp_path)
    cases = _same_file_cases(tmp_path)
    printed = {args[0]: _run_every_printed_command(args) for args in cases}
    conv = [c for c in printed["d_1based.csv"] if c.startswith("lossctl onehot")]
    assert conv == ["lossctl onehot d_1based.csv -n 10 --offset 1 --cols label > onehot.csv"]
    assert "lossctl sparse d_onehot.csv --cols 'y*' --numbers > labels.csv" in printed["d_onehot.csv"]
    assert all("--no-header" in c or "--no-input-header" in c for c in printed["d_bare.csv"])
    assert all("--delimiter semicolon" in c for c in printed["d_semi.txt"])
    monkeypatch.chdir(ROOT)
    conv = _run_every_printed_command(INSPECT_RUNS[-1])[-1]
    assert conv == "lossctl onehot samples/digits_results.csv -n 10 --cols label > onehot.csv"


def test_inspect_memory_limit_option(monkeypatch):
    monkeypatch.chdir(ROOT)
    args = ("samples/digits_labels_1based.csv", "samples/digits_probs.csv", "-f", "json")
    default = run("inspect", *args)
    small = run("inspect", *args, "--memory-limit", "64M")
    assert small.exit_code == 0, small.stderr
    assert json.loads(small.stdout) == json.loads(default.stdout)
    r = run("inspect", *args, "--memory-limit", "10M")
    assert r.exit_code == 2 and "--memory-limit 10M is too small" in r.stderr


def test_inspect_one_file_on_standard_input_read_once(tmp_path):
    """Standard input larger than what is kept in memory is read once, holding both column
    sets, and described as the file is."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 10, 12_000)
    p = rng.dirichlet(np.ones(10), 12_000)
    path = tmp_path / "all.csv"
    _results_table(path, y, p, header=["label", *(f"p{j}" for j in range(10))])
    assert path.stat().st_size > 1 << 20  # beyond ReadOptions.small_text_bytes: a stream
    args = ("--true-cols", "label", "--pred-cols", "p*", "-f", "json")
    from_file = json.loads(run("inspect", path, *args).stdout)
    r = run("inspect", "-", *args, input=path.read_bytes())
    assert r.exit_code == 0, r.stderr
    from_stdin = json.loads(r.stdout)
    assert from_stdin["y_true"] == from_file["y_true"] and from_stdin["y_pred"] == from_file["y_pred"]
    assert from_stdin["y_true"]["counts"] == np.bincount(y, minlength=10).tolist()
    assert from_stdin["recommendations"][0]["command"].startswith(
        "lossctl compute sparse_categorical_crossentropy - --true-cols label")


def test_inspect_streams_the_same_description_in_small_blocks(tmp_path):
    """Blocks sized from a small budget give exactly the whole-array description, and a
    row-count mismatch found at the end of two streams is the one text of lossctl.mismatch."""
    from lossctl.detection import describe_labels, describe_predictions
    from lossctl.inspection import inspect_inputs

    rng = np.random.default_rng(5)
    n = 200_003
    y = rng.integers(1, 11, n)
    p = rng.dirichlet(np.ones(10), n)
    p[150_001] = 0.5  # one row not summing to 1, beyond the first blocks
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "p.npy", p)
    ins = inspect_inputs(str(tmp_path / "y.npy"), str(tmp_path / "p.npy"), memory_limit="64M")
    assert ins.y_true == dataclasses.asdict(describe_labels(y))
    assert ins.y_pred == dataclasses.asdict(describe_predictions(p))
    assert ins.y_pred["first_row_not_summing_to_one"] == 150_001
    assert ins.y_true["encoding"] == "index_offset" and ins.notes  # --offset 1
    np.save(tmp_path / "p2.npy", p[:-3])
    ins = inspect_inputs(str(tmp_path / "y.npy"), str(tmp_path / "p2.npy"), memory_limit="64M")
    assert not ins.fits and ins.y_pred["rows"] == n - 3
    assert ins.problems[0].startswith(f"y_true has {n} rows but y_pred has {n - 3}:")


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
