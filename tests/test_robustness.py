"""Robustness: no file lost, no internal error, messages that say what is in the file.

Each test here failed before its fix (the adversarial run of the robustness issue)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, subprocess_env
from typer.testing import CliRunner

from lossctl.cli import app

S = ROOT / "samples"
runner = CliRunner()


def lossctl(*args, stdin=None, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lossctl", *map(str, args)], stdin=stdin,
                          capture_output=True, env=env or subprocess_env(), cwd=ROOT, timeout=60,
                          **kw)


# --- files and data never lost ----------------------------------------------------------------


def test_output_equal_to_standard_input_is_refused(tmp_path):
    y = tmp_path / "y.csv"
    y.write_text("0\n1\n2\n")
    with y.open("rb") as stdin:
        proc = lossctl("onehot", "-", "-n", "3", "-o", y, stdin=stdin)
    assert proc.returncode == 1
    assert b"same file as the input <stdin>" in proc.stderr
    assert y.read_text() == "0\n1\n2\n"  # untouched
    with y.open("rb") as stdin:  # the same through compute
        proc = lossctl("compute", "scce", "-", S / "digits_probs.csv", "-f", "csv", "-o", y,
                       stdin=stdin)
    assert proc.returncode == 1 and y.read_text() == "0\n1\n2\n"


def test_a_long_output_name_is_written(tmp_path):
    name = tmp_path / ("o" * 240 + ".csv")  # 244 characters: valid, near NAME_MAX (255)
    proc = lossctl("onehot", S / "digits_labels.csv", "-o", name)
    assert proc.returncode == 0, proc.stderr
    assert name.read_text().count("\n") == 270
    assert [p.name for p in tmp_path.iterdir()] == [name.name]


# --- no internal errors ------------------------------------------------------------------------


def test_closed_stdout_is_one_clean_error():
    proc = subprocess.run(
        f"{sys.executable} -m lossctl compute scce samples/digits_labels.csv "
        "samples/digits_probs.csv >&-", shell=True, capture_output=True, env=subprocess_env(),
        cwd=ROOT, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.decode().splitlines() == [
        "lossctl: error: standard output is closed; nothing can be written"]


def test_an_ascii_stdout_and_non_ascii_class_names(tmp_path):
    (tmp_path / "y.csv").write_text("é\nb\né\n", encoding="utf-8")
    proc = lossctl("onehot", tmp_path / "y.csv", "--header", env=subprocess_env(PYTHONIOENCODING="ascii"))
    err = proc.stderr.decode("ascii", "replace")
    assert proc.returncode == 1 and "internal error" not in err
    assert "standard output is ascii" in err and "PYTHONIOENCODING=utf-8" in err
    ok = lossctl("onehot", tmp_path / "y.csv", "--header", env=subprocess_env(PYTHONIOENCODING="utf-8"))
    assert ok.returncode == 0 and ok.stdout.decode("utf-8").splitlines()[0] == "b,é"


def test_a_fraction_close_to_a_whole_number_is_shown_exactly(tmp_path):
    (tmp_path / "y.csv").write_text("2.9999999999\n1\n")
    (tmp_path / "p.csv").write_text("0.1,0.5,0.4\n0.2,0.7,0.1\n")
    r = runner.invoke(app, ["compute", "scce", str(tmp_path / "y.csv"), str(tmp_path / "p.csv")])
    assert r.exit_code == 1 and "label 2.9999999999 is not a whole number" in r.stderr


def test_float32_overflow_is_an_error_not_a_numpy_warning(tmp_path):
    (tmp_path / "y.csv").write_text("1,1\n1,1\n")
    (tmp_path / "p.csv").write_text("1e39,0.5\n0.2,0.7\n")
    r = runner.invoke(app, ["compute", "mse", str(tmp_path / "y.csv"), str(tmp_path / "p.csv"),
                            "--dtype", "float32"])
    assert r.exit_code == 1 and "RuntimeWarning" not in r.stderr
    assert "line 1: prediction 1e+39 is beyond float32" in r.stderr and "--dtype float64" in r.stderr


def test_npz_keys_with_colons_and_slashes(tmp_path):
    p = np.loadtxt(S / "digits_probs.csv", delimiter=",", skiprows=1)
    y = np.loadtxt(S / "digits_labels.csv", skiprows=1, dtype=np.int64)
    np.savez(tmp_path / "r.npz", **{"run:1/probs": p, "y": y})
    r = runner.invoke(app, ["compute", "scce", f"{tmp_path}/r.npz:y", f"{tmp_path}/r.npz:run:1/probs"])
    assert r.exit_code == 0, r.stderr
    assert float(r.stdout) == pytest.approx(0.23187772564346193, rel=1e-12)
    r = runner.invoke(app, ["compute", "scce", f"{tmp_path}/r.npz:y", f"{tmp_path}/r.npz:run:2/probs"])
    assert r.exit_code == 1 and "has no array 'run:2/probs'" in r.stderr and "run:1/probs" in r.stderr


def test_npy_header_claiming_4gb_is_refused_unread(tmp_path):
    import struct

    bad = tmp_path / "h.npy"
    bad.write_bytes(b"\x93NUMPY\x02\x00" + struct.pack("<I", 4_000_000_000) + b"{'descr'")
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "lossctl", "compute",
                           "scce", S / "digits_labels.csv", bad], capture_output=True,
                          env=subprocess_env(), cwd=ROOT, timeout=60)
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == 1
    assert lines[0].startswith("lossctl: error: ") and "header of 4000000000 bytes" in lines[0]
    assert int(lines[-1]) < 150_000  # KB: never read (it took 8.2 GB)


# --- output a person and a program can use ------------------------------------------------------


def test_per_sample_npy_is_one_dimensional(tmp_path):
    out = tmp_path / "l.npy"
    r = runner.invoke(app, ["compute", "scce", str(S / "digits_labels.csv"),
                            str(S / "digits_probs.csv"), "-o", str(out)])
    assert r.exit_code == 0 and np.load(out).shape == (270,)
    out = tmp_path / "e.npy"
    r = runner.invoke(app, ["compute", "bce", str(S / "binary_labels.csv"),
                            str(S / "binary_probs.csv"), "--elementwise", "-o", str(out)])
    assert r.exit_code == 0 and np.load(out).shape == (150, 1)


def test_json_is_streamed_with_every_field(tmp_path):
    import json

    r = runner.invoke(app, ["compute", "scce", str(S / "digits_labels.csv"),
                            str(S / "digits_probs.csv"), "-f", "json"])
    doc = json.loads(r.stdout)
    assert doc["value"] == pytest.approx(0.23187772564346193, rel=1e-15)
    assert len(doc["per_sample"]) == doc["samples"] == 270 and doc["classes"] == 10
    assert doc["predictions"].startswith("probabilities")


# --- output a person can read --------------------------------------------------------------------


def _on_a_terminal(*args, columns=80):
    return runner.invoke(app, [str(a) for a in args], obj={"stdout_isatty": True},
                         env={"COLUMNS": str(columns)})


def test_onehot_on_a_terminal_is_a_preview_of_any_length(tmp_path):
    """100,000 labels used to render 100,004 table lines (224 s); now the first and last rows,
    the count, and how to get everything."""
    y = tmp_path / "y.csv"
    y.write_text("".join(f"{i % 3}\n" for i in range(100_000)))
    result = _on_a_terminal("onehot", y)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) < 40
    assert "100,000" in result.stdout and "-o" in result.stdout
    rows = [[c.strip() for c in line.strip("│ ").split("│")] for line in lines if line.startswith("│")]
    assert rows[0] == ["0", "1", "0", "0"] and rows[-1] == ["99999", "1", "0", "0"]
    assert sum(r[0] == "⋮" for r in rows) == 1 and len(rows) == 21


def test_sparse_on_a_terminal_is_a_preview(tmp_path):
    p = tmp_path / "onehot.npy"
    np.save(p, np.eye(4)[np.arange(50_000) % 4])
    result = _on_a_terminal("sparse", p)
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) < 40
    assert "50,000" in result.stdout


def test_a_wide_onehot_table_hides_no_value(tmp_path):
    """At 80 columns a 30-class one-hot table showed blank cells: the table is split into
    column groups that each fit, and every value is printed."""
    y = tmp_path / "y.csv"
    y.write_text("".join(f"{i}\n" for i in range(30)))
    result = _on_a_terminal("onehot", y, columns=80)
    assert result.exit_code == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "…" not in result.stdout
    digits = [tok for line in result.stdout.splitlines()
              for tok in line.replace("│", " ").replace("┃", " ").split() if tok in ("0", "1")]
    ones = [tok for tok in digits if tok == "1"]
    assert len(ones) >= 20  # the first and last ten rows' ones, each in its group (no blanks)


@pytest.mark.parametrize("engine", ["python", "arrow", "wide"])
def test_a_number_beyond_the_float_range_is_named_by_every_text_engine(tmp_path, engine):
    """1e400 read as inf was reported as "prediction inf" / "label inf"."""
    rows, width = {"python": (5, 3), "arrow": (200_000, 3), "wide": (3, 3000)}[engine]
    bad_row = rows - 2
    line = ",".join(["0.001"] * width)
    with (tmp_path / "p.csv").open("w") as f:
        for i in range(rows):
            f.write(line.replace("0.001", "1e400", 1) if i == bad_row else line)
            f.write("\n")
    (tmp_path / "y.csv").write_text("1\n" * rows)
    proc = lossctl("compute", "cce" if width > 3 else "scce", tmp_path / "y.csv",
                   tmp_path / "p.csv", *(["--pred-cols", "1-3000"] if width > 3 else []))
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert f"p.csv, line {bad_row + 1}: '1e400' in column '1' is beyond the float64 range" in err
    inf = tmp_path / "inf.csv"  # inf spelled out stays inf: a non-finite prediction
    inf.write_text("0.5,inf,0.5\n")
    (tmp_path / "y1.csv").write_text("1\n")
    assert "prediction inf is not a finite number" in lossctl(
        "compute", "scce", tmp_path / "y1.csv", inf).stderr.decode()
