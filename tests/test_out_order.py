"""``--sort loss|row --top K``: the running top-K (:class:`lossctl.out.order.TopRows`) and
``compute``'s data output, against a full sort of a normal run's per-sample rows."""
from __future__ import annotations

import io
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from lossctl.cli import app
from lossctl.errors import UsageError
from lossctl.out.order import TopRows

runner = CliRunner()


def run(*args, tty: bool = False):
    obj = {"stdout_isatty": True} if tty else None
    return runner.invoke(app, [str(a) for a in args], obj=obj)


def full_order(loss: np.ndarray, index: np.ndarray) -> np.ndarray:
    """A stable descending sort by loss (non-finite first), ties by row index."""
    key = np.where(np.isfinite(loss), loss, np.inf)
    return np.lexsort((index, -key))


@pytest.mark.parametrize("top", [0, 1, 7, 50, 1000, None])
def test_top_rows_equal_a_full_sort(top):
    rng = np.random.default_rng(1)
    n = 300
    loss = rng.choice([0.5, 1.0, 2.0, np.nan, np.inf, 3.0], size=n)  # many ties
    index = np.arange(n)
    names = np.array([f"r{i}" for i in range(n)])
    held = TopRows("loss", top, 1 << 30)
    for a in range(0, n, 37):
        held.add(loss[a:a + 37], index[a:a + 37], (index[a:a + 37], names[a:a + 37],
                                                   loss[a:a + 37]))
    order = full_order(loss, index)[:top]
    got = held.columns()
    np.testing.assert_array_equal(got[0], index[order])
    np.testing.assert_array_equal(got[1], names[order])
    np.testing.assert_array_equal(got[2], loss[order])


def test_row_order_keeps_the_first_rows_and_the_memory_limit_holds():
    held = TopRows("row", 5, 1 << 30)
    for a in range(0, 20, 3):
        held.add(None, np.arange(a, min(a + 3, 20)), (np.arange(a, min(a + 3, 20)),))
    assert held.columns()[0].tolist() == [0, 1, 2, 3, 4]
    held = TopRows("loss", None, 1000)
    with pytest.raises(UsageError, match="beyond the memory limit") as e:
        held.add(np.zeros(100), np.arange(100), (np.zeros(100),))
    assert e.value.option == "sort"


@pytest.fixture
def big(tmp_path):
    """60,000 rows of few distinct losses (ties everywhere), in blocks with --threads 1
    --memory-limit 64M."""
    rng = np.random.default_rng(5)
    n = 60_000
    rows = rng.dirichlet(np.ones(3), size=6)
    pick = rng.integers(0, 6, n)
    np.save(tmp_path / "y.npy", rng.integers(0, 3, n))
    np.save(tmp_path / "p.npy", rows[pick])
    return tmp_path


def normal_rows(folder) -> dict[str, np.ndarray]:
    res = run("compute", "scce", folder / "y.npy", folder / "p.npy", "-f", "csv")
    assert res.exit_code == 0, res.output
    data = np.genfromtxt(io.StringIO(res.stdout), delimiter=",", names=True)
    return {k: data[k] for k in data.dtype.names}


BLOCKS = ("--memory-limit", "64M", "--threads", "1")


@pytest.mark.parametrize("top", ["25", "100000"])  # and larger than N
def test_compute_sort_loss_top_equals_a_sorted_normal_run(big, top):
    ref = normal_rows(big)
    order = full_order(ref["loss"], ref["index"])[:int(top)]
    res = run("compute", "scce", big / "y.npy", big / "p.npy", "--sort", "loss", "--top", top,
              "-f", "csv", *BLOCKS)
    assert res.exit_code == 0, res.output
    got = np.genfromtxt(io.StringIO(res.stdout), delimiter=",", names=True)
    assert len(got) == len(order)
    for name in ("index", "label", "predicted", "loss"):
        np.testing.assert_array_equal(got[name], ref[name][order])


def test_every_format_and_sort_without_top(big, tmp_path):
    ref = normal_rows(big)
    order = full_order(ref["loss"], ref["index"])
    res = run("compute", "scce", big / "y.npy", big / "p.npy", "--sort", "loss", *BLOCKS)
    got = np.genfromtxt(io.StringIO(res.stdout), delimiter=",", names=True)  # csv in a pipe
    np.testing.assert_array_equal(got["index"], ref["index"][order])
    args = ("compute", "scce", big / "y.npy", big / "p.npy", "--sort", "loss", "--top", "9")
    run(*args, "-o", tmp_path / "t.parquet")
    t = pq.read_table(tmp_path / "t.parquet")
    assert t.column("index").to_pylist() == ref["index"][order[:9]].astype(int).tolist()
    run(*args, "-o", tmp_path / "t.npy")
    a = np.load(tmp_path / "t.npy")  # index, label, predicted, loss
    np.testing.assert_array_equal(a[:, 0], ref["index"][order[:9]])
    np.testing.assert_array_equal(a[:, 3], ref["loss"][order[:9]])
    doc = json.loads(run(*args, "-f", "json").stdout)
    assert doc["sort"] == "loss" and doc["top"] == 9 and "per_sample" not in doc
    assert [r["index"] for r in doc["rows"]] == ref["index"][order[:9]].astype(int).tolist()
    assert all(r["predicted"] != "" for r in doc["rows"])
    lines = run(*args, "-f", "jsonl").stdout.splitlines()
    assert json.loads(lines[0])["index"] == int(ref["index"][order[0]])
    res = run("compute", "scce", big / "y.npy", big / "p.npy", "--sort", "row", "--top", "4",
              "-f", "csv")
    assert [line.split(",")[0] for line in res.stdout.splitlines()[1:]] == ["0", "1", "2", "3"]


def test_table_unchanged_and_elementwise_refused(tmp_path):
    (tmp_path / "y.csv").write_text("0,1\n1,0\n0,1\n")
    (tmp_path / "p.csv").write_text("0.2,0.8\n0.6,0.4\n0.9,0.1\n")
    res = run("compute", "cce", tmp_path / "y.csv", tmp_path / "p.csv", "--elementwise",
              "--sort", "loss", "-f", "csv")
    assert res.exit_code == 2 and "--sort orders per-sample rows" in res.output
    plain = run("compute", "cce", tmp_path / "y.csv", tmp_path / "p.csv", "--top", "2", tty=True)
    sorted_ = run("compute", "cce", tmp_path / "y.csv", tmp_path / "p.csv", "--top", "2",
                  "--sort", "loss", tty=True)
    assert plain.exit_code == sorted_.exit_code == 0
    assert plain.stdout == sorted_.stdout  # the report: --top is its worst samples, as before
