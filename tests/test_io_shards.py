"""Shards: a glob or a directory is one source, its files' rows in natural order; the value is
exactly the one-file value; errors name the shard and its own row."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT

import lossctl
from lossctl.errors import DataError, InputError
from lossctl.io import open_source, read_array
from lossctl.io.shards import shard_paths

SAMPLES = ROOT / "samples"


@pytest.fixture(scope="module")
def digits():
    y = read_array(str(SAMPLES / "digits_labels.csv"))[0].reshape(-1)
    p = read_array(str(SAMPLES / "digits_probs.csv"))[0].astype(np.float64)
    return y, p


def _shard(tmp_path, y, p, n=16):
    (tmp_path / "y").mkdir()
    (tmp_path / "p").mkdir()
    for i, (a, b) in enumerate(zip(np.array_split(y, n), np.array_split(p, n))):
        np.save(tmp_path / "y" / f"part-{i}.npy", a)
        pq.write_table(pa.table({f"p{j}": b[:, j] for j in range(b.shape[1])}),
                       tmp_path / "p" / f"part-{i}.parquet")
        np.savetxt(tmp_path / "p" / f"part-{i}.csv", b, delimiter=",", fmt="%.17g")


def test_sixteen_shards_give_exactly_the_one_file_value(tmp_path, digits):
    y, p = digits
    _shard(tmp_path, y, p)
    whole = lossctl.evaluate("scce", y, p)
    for ys, ps in ((tmp_path / "y", str(tmp_path / "p" / "*.parquet")),
                   (str(tmp_path / "y" / "*.npy"), str(tmp_path / "p" / "*.csv"))):
        got = lossctl.evaluate("scce", str(ys), ps)
        assert got.value == whole.value
        assert np.array_equal(got.per_sample, whole.per_sample)
    with open_source(str(tmp_path / "y")) as src:
        assert src.nrows == len(y)  # binary shards know their rows


def test_natural_order_and_hidden_files_are_skipped(tmp_path):
    for name in ("part-10.csv", "part-2.csv", "part-1.csv", ".part-0.csv", "_SUCCESS"):
        (tmp_path / name).write_text("1\n")
    sub = tmp_path / "day=3"
    sub.mkdir()
    (sub / "part-0.csv").write_text("1\n")
    got = [p[len(str(tmp_path)) + 1:] for p in shard_paths(str(tmp_path))]
    assert got == ["day=3/part-0.csv", "part-1.csv", "part-2.csv", "part-10.csv"]


def test_a_bad_row_names_its_shard_and_line(tmp_path, digits):
    y, p = digits
    _shard(tmp_path, y, p)
    bad = tmp_path / "p" / "part-5.csv"
    lines = bad.read_text().splitlines()
    lines[2] = "0.1,x" + ",0.1" * (p.shape[1] - 2)
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as e:
        lossctl.evaluate("scce", str(tmp_path / "y"), str(tmp_path / "p" / "*.csv"))
    assert f"shard {bad}, line 3" in str(e.value)


def test_shards_must_agree_and_patterns_must_match(tmp_path):
    (tmp_path / "a-1.csv").write_text("0.1,0.9\n0.2,0.8\n")
    (tmp_path / "a-2.csv").write_text("0.1,0.8,0.1\n")
    with pytest.raises(InputError, match="but the first shard"):
        open_source(str(tmp_path / "a-*.csv"))
    with pytest.raises(InputError, match="no file matches"):
        open_source(str(tmp_path / "nothing-*.csv"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="is a directory, and it holds no file"):
        open_source(str(tmp_path / "empty"))
