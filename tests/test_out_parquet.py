"""Parquet output: the sink (types, row groups, atomic files, refusals) and ``-f parquet`` of
``compute``, ``onehot`` and ``sparse`` against their CSV and NPY outputs."""
from __future__ import annotations

import io
import os

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from lossctl.cli import app
from lossctl.errors import UsageError
from lossctl.out import TEMP_PREFIX, open_sink, resolve_format
from lossctl.out import parquet as out_parquet

runner = CliRunner()


def run(*args, tty: bool = False):
    obj = {"stdout_isatty": True} if tty else None
    return runner.invoke(app, [str(a) for a in args], obj=obj)


def read(path_or_bytes) -> pa.Table:
    if isinstance(path_or_bytes, bytes):
        return pq.read_table(io.BytesIO(path_or_bytes))
    return pq.read_table(path_or_bytes)


# --- the sink ------------------------------------------------------------------------------------


def test_types_follow_the_first_block_and_floats_are_exact(tmp_path):
    out = tmp_path / "x.parquet"
    losses = np.array([0.1 + 0.2, np.nan, np.inf, -np.inf, 5e-324])
    with open_sink("parquet", ["index", "name", "flag", "small", "loss"], output=str(out)) as s:
        s.write(np.arange(5), np.array(list("abcde")), np.array([True, False] * 2 + [True]),
                np.arange(5, dtype=np.uint8), losses)
    t = read(out)
    assert [str(f.type) for f in t.schema] == ["int64", "string", "int64", "int64", "double"]
    got = t.column("loss").to_numpy()
    assert got.tobytes() == losses.tobytes()  # bit for bit, NaN and infinities included
    assert t.column("name").to_pylist() == list("abcde")
    assert t.column("flag").to_pylist() == [1, 0, 1, 0, 1]


def test_blocks_are_gathered_into_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(out_parquet.ParquetSink, "GROUP_CELLS", 20)
    out = tmp_path / "x.parquet"
    with open_sink("parquet", ["a", "b"], output=str(out)) as s:
        for start in range(0, 30, 3):  # blocks of 3 rows: 6 cells, a group every 4 blocks
            s.write(np.arange(start, start + 3), np.arange(start, start + 3) * 0.5)
        s.write(np.arange(30, 60), np.arange(30, 60) * 0.5)  # one block beyond the size
    f = pq.ParquetFile(out)
    sizes = [f.metadata.row_group(i).num_rows for i in range(f.metadata.num_row_groups)]
    assert sizes == [12, 12, 36]  # the last gathers 2 blocks of 3 with the large one
    assert f.read().column("a").to_pylist() == list(range(60))


def test_a_later_block_must_fit_the_types(tmp_path):
    out = tmp_path / "x.parquet"
    out.write_bytes(b"old")
    with pytest.raises(ValueError, match="float values written to the int64"), \
            open_sink("parquet", ["a"], output=str(out)) as s:
        s.write(np.arange(3))
        s.write(np.array([0.5]))
    assert out.read_bytes() == b"old"  # atomic: the target is untouched
    assert not [n for n in os.listdir(tmp_path) if n.startswith(TEMP_PREFIX)]


def test_stdout_gets_a_stream_and_an_abort_no_footer():
    buf = io.BytesIO()
    with open_sink("parquet", ["a"], stdout=buf) as s:
        s.write(np.arange(4))
    assert read(buf.getvalue()).column("a").to_pylist() == [0, 1, 2, 3]
    buf = io.BytesIO()
    with pytest.raises(RuntimeError), open_sink("parquet", ["a"], stdout=buf) as s:
        s.write(np.arange(4))
        raise RuntimeError("stop")
    with pytest.raises(pa.ArrowInvalid):  # a cut stream has no footer: not a valid file
        read(buf.getvalue())


def test_empty_sink_is_an_empty_table():
    buf = io.BytesIO()
    with open_sink("parquet", ["a", "b"], stdout=buf):
        pass
    t = read(buf.getvalue())
    assert t.num_rows == 0 and t.schema.names == ["a", "b"]


def test_refusals():
    class Tty(io.BytesIO):
        def isatty(self):
            return True

    with pytest.raises(UsageError, match="binary Parquet to a terminal"):
        open_sink("parquet", ["a"], stdout=Tty())
    with pytest.raises(UsageError, match="binary Parquet to a terminal"):
        resolve_format("parquet", None, stdout_isatty=True)
    with pytest.raises(UsageError, match="rows of columns"):
        open_sink("parquet", ["loss"], item_shape=(2, 2))
    with pytest.raises(UsageError, match="too wide for parquet"):
        open_sink("parquet", ["a", "b", "c"], max_cells=2)
    assert resolve_format(None, "out.parquet", stdout_isatty=True) == "parquet"
    assert resolve_format(None, "out.pq", stdout_isatty=False) == "parquet"


# --- compute -f parquet against its CSV and NPY outputs -----------------------------------------


def _per_sample(tmp_path, y, p, *extra):
    """The parquet, csv and npy per-sample outputs of one run."""
    outs = {}
    for fmt in ("parquet", "csv", "npy"):
        path = tmp_path / f"out.{fmt}"
        res = run("compute", "scce", y, p, "-o", path, "-q", *extra)
        assert res.exit_code == 0, res.output
        outs[fmt] = path
    t = read(outs["parquet"])
    c = pacsv.read_csv(outs["csv"], convert_options=pacsv.ConvertOptions(
        column_types={"label": pa.string(), "predicted": pa.string()}))
    return t, c, np.load(outs["npy"])


@pytest.mark.parametrize("sample", ["digits", "animals"])
def test_compute_matches_csv_and_npy(tmp_path, sample):
    samples = os.path.join(os.path.dirname(__file__), "..", "samples")
    y = os.path.join(samples, f"{sample}_labels.csv")
    p = os.path.join(samples, f"{sample}_probs.csv")
    t, c, v = _per_sample(tmp_path, y, p)
    assert t.schema.names == ["index", "label", "predicted", "loss"]
    assert t.column("loss").to_numpy().tobytes() == v.tobytes()
    assert t.column("index").to_pylist() == c.column("index").to_pylist()
    kind = pa.string() if sample == "animals" else pa.int64()
    assert t.schema.field("label").type == kind  # string class names stay strings
    for name in ("label", "predicted"):
        assert [str(x) for x in t.column(name).to_pylist()] == c.column(name).to_pylist()


def test_compute_multi_block_input(tmp_path):
    rng = np.random.default_rng(3)
    n = 50_000  # two blocks with --threads 1 --memory-limit 64M
    p = rng.dirichlet(np.ones(3), size=n)
    np.save(tmp_path / "y.npy", rng.integers(0, 3, n))
    np.save(tmp_path / "p.npy", p)
    t, c, v = _per_sample(tmp_path, tmp_path / "y.npy", tmp_path / "p.npy",
                          "--memory-limit", "64M", "--threads", "1")
    assert t.num_rows == n == len(v)
    assert t.column("loss").to_numpy().tobytes() == v.tobytes()
    assert t.column("index").to_pylist() == list(range(n))
    assert t.column("label").to_pylist() == [int(x) for x in c.column("label").to_pylist()]


def test_compute_refusals(tmp_path):
    samples = os.path.join(os.path.dirname(__file__), "..", "samples")
    y = os.path.join(samples, "digits_labels.csv")
    p = os.path.join(samples, "digits_probs.csv")
    res = run("compute", "scce", y, p, "-f", "parquet", tty=True)
    assert res.exit_code == 2 and "binary Parquet to a terminal" in res.output
    # never over an input: refused before anything is computed
    copy = tmp_path / "p.parquet"
    run("compute", "scce", y, p, "-o", copy, "-q")
    before = copy.read_bytes()
    res = run("compute", "scce", copy, "--true-cols", "label", "--pred-cols", "loss", "-o", copy)
    assert res.exit_code != 0 and "refusing to overwrite an input" in res.output
    assert copy.read_bytes() == before
    # N-D elementwise maps are one array: NPY only, as for the other formats of rows
    rng = np.random.default_rng(0)
    np.save(tmp_path / "m.npy", rng.integers(0, 3, (4, 2, 2)))
    np.save(tmp_path / "mp.npy", rng.dirichlet(np.ones(3), size=(4, 2, 2)))
    res = run("compute", "scce", tmp_path / "m.npy", tmp_path / "mp.npy", "--reduction", "none",
              "--elementwise", "-f", "parquet", "-o", tmp_path / "maps.parquet")
    assert res.exit_code == 2 and "one array of shape" in res.output
    assert not (tmp_path / "maps.parquet").exists()


# --- onehot and sparse share the sink ------------------------------------------------------------


def test_onehot_and_sparse(tmp_path):
    (tmp_path / "y.csv").write_text("label\ncat\ndog\ncat\nbird\n")
    res = run("onehot", tmp_path / "y.csv", "-o", tmp_path / "oh.parquet")
    assert res.exit_code == 0, res.output
    res = run("onehot", tmp_path / "y.csv", "-o", tmp_path / "oh.npy")
    t = read(tmp_path / "oh.parquet")
    assert all(pa.types.is_int64(f.type) for f in t.schema)
    np.testing.assert_array_equal(
        np.column_stack([c.to_numpy() for c in t.columns]), np.load(tmp_path / "oh.npy"))
    res = run("sparse", tmp_path / "oh.npy", "-o", tmp_path / "sp.parquet")
    assert res.exit_code == 0, res.output
    run("sparse", tmp_path / "oh.npy", "-o", tmp_path / "sp.npy")
    t = read(tmp_path / "sp.parquet")
    assert t.num_columns == 1
    np.testing.assert_array_equal(t.column(0).to_numpy(), np.load(tmp_path / "sp.npy"))
