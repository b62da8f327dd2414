"""``compute confusion_matrix``: -f csv|tsv write the matrix itself, -f json nests it with the
class names; the expected matrices are counted here with numpy (as scikit-learn defines them:
rows are true classes, columns predicted ones)."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from lossctl.cli import app

runner = CliRunner()
NAMES = ["bird", "cat", "dog", "fish"]


def run(*args, tty: bool = False):
    obj = {"stdout_isatty": True} if tty else None
    return runner.invoke(app, [str(a) for a in args], obj=obj)


def expected(t: np.ndarray, p: np.ndarray, c: int, w: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(t * c + p, weights=w, minlength=c * c).reshape(c, c)


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(7)
    n, c = 200, len(NAMES)
    t = rng.integers(0, c, n)
    scores = rng.dirichlet(np.ones(c), size=n)
    pred = scores.argmax(axis=1)
    w = rng.integers(1, 5, n) / 4  # quarters: the weight sums are exact
    (tmp_path / "y.csv").write_text("label\n" + "\n".join(NAMES[i] for i in t) + "\n")
    (tmp_path / "yi.csv").write_text("\n".join(str(i + 1) for i in t) + "\n")
    (tmp_path / "p.csv").write_text(",".join(NAMES) + "\n" + "\n".join(
        ",".join(repr(float(v)) for v in row) for row in scores) + "\n")
    (tmp_path / "pn.csv").write_text("\n".join(
        ",".join(repr(float(v)) for v in row) for row in scores) + "\n")
    (tmp_path / "w.csv").write_text("\n".join(repr(float(v)) for v in w) + "\n")
    return tmp_path, t, pred, w


def table(text: str, sep: str) -> tuple[list[str], list[str], np.ndarray]:
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    header, body = rows[0], rows[1:]
    return header, [r[0] for r in body], np.array([[float(x) for x in r[1:]] for r in body])


@pytest.mark.parametrize("fmt, sep", [("csv", ","), ("tsv", "\t")])
def test_csv_is_the_matrix_with_string_class_names(data, fmt, sep):
    folder, t, pred, _ = data
    res = run("compute", "confusion_matrix", folder / "y.csv", folder / "p.csv", "-f", fmt, "-q")
    assert res.exit_code == 0, res.output
    header, true_names, m = table(res.stdout, sep)
    assert header == ["true \\ predicted", *NAMES]
    assert true_names == NAMES
    np.testing.assert_array_equal(m, expected(t, pred, len(NAMES)))
    assert "." not in res.stdout.split("\n", 1)[1]  # counts are integers


def test_weighted_matrix_and_numbered_classes(data):
    folder, t, pred, w = data
    res = run("compute", "confusion_matrix", folder / "yi.csv", folder / "pn.csv", "--offset",
              "1", "--sample-weight", folder / "w.csv", "-f", "csv")
    assert res.exit_code == 0, res.output
    header, true_names, m = table(res.stdout, ",")
    assert header[1:] == true_names == ["1", "2", "3", "4"]  # the labels as the user gave them
    np.testing.assert_array_equal(m, expected(t, pred, len(NAMES), w))


def test_json_nests_the_matrix_with_names(data, tmp_path):
    folder, t, pred, _ = data
    out = tmp_path / "cm.json"
    res = run("compute", "confusion_matrix", folder / "y.csv", folder / "p.csv", "-o", out, "-q")
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    cm = doc["details"]["confusion_matrix"]
    assert cm["names"] == NAMES and cm["labels"] == [0, 1, 2, 3]
    assert cm["matrix"] == expected(t, pred, len(NAMES)).tolist()
    assert len(doc["per_sample"]) == len(t)  # the document keeps its per-sample values
    assert doc["value"] == pytest.approx(float(np.mean(t == pred)))


def test_terminal_shows_names_and_other_outputs_keep_rows(data):
    folder, t, _, _ = data
    res = run("compute", "confusion_matrix", folder / "y.csv", folder / "p.csv", tty=True)
    assert res.exit_code == 0, res.output
    assert "fish" in res.stdout
    # per-sample values stay per-sample: --reduction none, and jsonl
    res = run("compute", "confusion_matrix", folder / "y.csv", folder / "p.csv", "-r", "none",
              "-f", "csv", "-q")
    assert res.stdout.splitlines()[0] == "index,label,predicted,loss"
    res = run("compute", "confusion_matrix", folder / "y.csv", folder / "p.csv", "-f", "jsonl",
              "-q")
    assert len(res.stdout.splitlines()) == len(t)


def test_predicted_labels_column(tmp_path):
    (tmp_path / "t.csv").write_text("3\n1\n2\n3\n3\n")
    (tmp_path / "p.csv").write_text("3\n2\n2\n1\n3\n")
    res = run("compute", "confusion_matrix", tmp_path / "t.csv", tmp_path / "p.csv", "-f", "csv")
    assert res.exit_code == 0, res.output
    header, true_names, m = table(res.stdout, ",")
    assert header[1:] == true_names == ["1", "2", "3"]
    t = np.array([3, 1, 2, 3, 3]) - 1
    p = np.array([3, 2, 2, 1, 3]) - 1
    np.testing.assert_array_equal(m, expected(t, p, 3))
