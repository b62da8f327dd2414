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


# ------------------------------------------------------------------- pairing shard sets by name
def _shards(root, names, arrays):
    root.mkdir()
    for name, a in zip(names, arrays):
        np.save(root / name, a)
    return str(root)


def test_shard_sets_pair_by_name_not_by_position(tmp_path):
    """Labels numbered 1..12 and predictions named a_2, b_1, ... (their natural order puts
    every a_ before every b_) pair by the numbers in their names; by a glob and with jobs."""
    import lossctl

    rng = np.random.default_rng(3)
    ys = [rng.integers(0, 3, 5 + i) for i in range(12)]
    ps = [rng.dirichlet([1.0] * 3, 5 + i) for i in range(12)]
    order = list(range(12))
    labels = _shards(tmp_path / "labels", [f"part-{i + 1}.npy" for i in order], ys)
    preds = _shards(tmp_path / "preds", [f"{'ba'[i % 2]}_{i + 1:02d}.npy" for i in order], ps)
    whole = lossctl.evaluate("scce", np.concatenate(ys), np.concatenate(ps))
    assert lossctl.evaluate("scce", labels, preds).value == whole.value
    assert lossctl.evaluate("scce", labels, str(tmp_path / "preds" / "*.npy")).value == whole.value
    assert lossctl.evaluate("scce", labels, preds, jobs=2).value == whole.value


def test_a_missing_shard_is_named_not_shifted(tmp_path):
    from lossctl.errors import ShapeError
    import lossctl

    rng = np.random.default_rng(4)
    ys = [rng.integers(0, 3, 4) for _ in range(4)]
    ps = [rng.dirichlet([1.0] * 3, 4) for _ in range(4)]
    labels = _shards(tmp_path / "y", [f"part-{i}.npy" for i in range(4)], ys)
    preds = _shards(tmp_path / "p", [f"part-{i}.npy" for i in (0, 1, 3)] + ["part-9.npy"], ps)
    with pytest.raises(ShapeError, match=r"part-2\.npy \(in .*y\) has no matching shard in "
                       r".*p \(4 shards against 4\)"):
        lossctl.evaluate("scce", labels, preds)
    extra = _shards(tmp_path / "q", [f"part-{i}.npy" for i in range(5)], ps + ps[:1])
    with pytest.raises(ShapeError, match=r"part-4\.npy \(in .*q\) has no matching shard in .*y"):
        lossctl.evaluate("scce", labels, extra)


def test_paired_shards_of_different_lengths_are_named(tmp_path):
    from lossctl.errors import ShapeError
    import lossctl

    rng = np.random.default_rng(5)
    labels = _shards(tmp_path / "y", ["a.npy", "b.npy"], [rng.integers(0, 3, 4),
                                                         rng.integers(0, 3, 6)])
    preds = _shards(tmp_path / "p", ["a.npy", "b.npy"], [rng.dirichlet([1.0] * 3, 5),
                                                        rng.dirichlet([1.0] * 3, 5)])
    with pytest.raises(ShapeError, match=r"shard .*p/a\.npy holds 5 rows, but its match "
                       r".*y/a\.npy holds 4"):
        lossctl.evaluate("scce", labels, preds)


def test_sets_with_unrelated_names_pair_in_natural_order(tmp_path):
    from lossctl.io.shards import pair_shards, shard_keys

    assert shard_keys(["d/x_2.csv", "d/x_10.csv.gz"]) == [(2,), (10,)]
    assert shard_keys(["d/a.csv", "d/b.csv"]) == ["a", "b"]
    assert pair_shards(["y/a", "y/b"], ["p/c", "p/d"], ("y", "p")) == ["p/c", "p/d"]
    assert pair_shards(["y/a.csv", "y/b.csv"], ["p/b.npy", "p/a.npy"], ("y", "p")) == \
        ["p/a.npy", "p/b.npy"]
    # dates and parts: every number counts
    assert pair_shards(["y/2024-01_1", "y/2024-01_2"], ["p/2024-01_2", "p/2024-01_1"],
                       ("y", "p")) == ["p/2024-01_1", "p/2024-01_2"]
