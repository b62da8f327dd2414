"""``-o DIR/`` on a shard set: each shard's per-sample rows in a file of its own, written by
the process that computed it (lossctl.out.shards); the files in shard order hold exactly the
rows of one gathered output, for any --jobs."""
from __future__ import annotations

import numpy as np
import pytest

import lossctl
from lossctl.errors import OutputError, UsageError

SIZES = (5, 9, 1, 7)


@pytest.fixture
def shards(tmp_path):
    rng = np.random.default_rng(11)
    for d in ("y", "p"):
        (tmp_path / d).mkdir()
    for i, n in enumerate(SIZES):
        np.save(tmp_path / "y" / f"part-{i}.npy", rng.integers(0, 3, n))
        np.save(tmp_path / "p" / f"part-{i}.npy", rng.dirichlet([1.0] * 3, n))
    return tmp_path


def _gathered(invoke, root, *fmt):
    r = invoke("compute", "scce", root / "y", root / "p", *fmt)
    assert r.exit_code == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("jobs", [(), ("--jobs", "2")])
def test_csv_files_per_shard_hold_the_gathered_rows(shards, invoke, jobs):
    r = invoke("compute", "scce", shards / "y", shards / "p", "-f", "csv", "-o",
               f"{shards}/out/", *jobs)
    assert r.exit_code == 0, r.stderr
    assert float(r.stdout) == lossctl.evaluate("scce", str(shards / "y"),
                                               str(shards / "p")).value
    assert "4 shards written to" in r.stderr
    files = sorted((shards / "out").iterdir())
    assert [f.name for f in files] == [f"part-{i}.csv" for i in range(4)]
    gathered = _gathered(invoke, shards, "-f", "csv").splitlines()
    header, rows = gathered[0], gathered[1:]
    texts = [(shards / "out" / f"part-{i}.csv").read_text().splitlines() for i in range(4)]
    assert all(t[0] == header for t in texts)
    assert [line for t in texts for line in t[1:]] == rows  # global index, same bits
    assert [len(t) - 1 for t in texts] == list(SIZES)


@pytest.mark.parametrize("fmt", ["npy", "parquet", "jsonl"])
def test_binary_and_json_lines_files_per_shard(shards, invoke, fmt):
    r = invoke("compute", "scce", shards / "y", shards / "p", "-f", fmt, "-o",
               f"{shards}/out/", "--jobs", "2")
    assert r.exit_code == 0, r.stderr
    whole = lossctl.evaluate("scce", str(shards / "y"), str(shards / "p")).per_sample
    if fmt == "npy":
        got = np.concatenate([np.load(shards / "out" / f"part-{i}.npy") for i in range(4)])
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        got = np.concatenate([pq.read_table(shards / "out" / f"part-{i}.parquet")
                              .column("loss").to_numpy() for i in range(4)])
    else:
        import json

        got = np.array([json.loads(line)["loss"] for i in range(4)
                        for line in (shards / "out" / f"part-{i}.jsonl").read_text()
                        .splitlines()])
    assert np.array_equal(got, whole)


def test_the_python_api_writes_the_same_files(shards, invoke, tmp_path):
    res = lossctl.evaluate("scce", str(shards / "y"), str(shards / "p"),
                           shard_output=str(tmp_path / "py"), shard_format="csv")
    assert res.value == lossctl.evaluate("scce", str(shards / "y"), str(shards / "p")).value
    invoke("compute", "scce", shards / "y", shards / "p", "-f", "csv", "-o", f"{tmp_path}/cli/")
    for i in range(4):
        assert (tmp_path / "py" / f"part-{i}.csv").read_bytes() == \
            (tmp_path / "cli" / f"part-{i}.csv").read_bytes()


def test_refusals_name_the_option_and_the_fix(shards, invoke):
    one = invoke("compute", "scce", shards / "y" / "part-0.npy", shards / "p" / "part-0.npy",
                 "-f", "csv", "-o", f"{shards}/o1/")
    assert one.exit_code == 2 and "is not a set of shards" in one.stderr
    assert "-o" in one.stderr and "Traceback" not in one.stderr
    nofmt = invoke("compute", "scce", shards / "y", shards / "p", "-o", f"{shards}/o2/")
    assert nofmt.exit_code == 2 and "--format csv" in nofmt.stderr
    doc = invoke("compute", "scce", shards / "y", shards / "p", "-f", "json", "-o",
                 f"{shards}/o3/")
    assert doc.exit_code == 2 and "json cannot be cut" in doc.stderr
    over = invoke("compute", "scce", shards / "y", shards / "p", "-f", "npy", "-o",
                  f"{shards}/y/")
    assert over.exit_code == 1 and "refusing to overwrite an input" in over.stderr
    assert not (shards / "o2").exists() or not any((shards / "o2").iterdir())
    missing = invoke("compute", "scce", shards / "y", shards / "p", "-f", "csv", "-o",
                     f"{shards}/no/such/")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


def test_two_shards_of_one_name_are_refused_before_any_work(tmp_path):
    (tmp_path / "y").mkdir()
    (tmp_path / "p").mkdir()
    np.save(tmp_path / "y" / "a.npy", np.array([0, 1]))
    (tmp_path / "y" / "a.csv").write_text("0\n1\n")
    for name in ("a.npy", "a.csv"):
        np.save(tmp_path / "p" / f"{name}.npy", np.full((2, 2), 0.5))
    with pytest.raises((OutputError, UsageError), match="would both be written to"):
        lossctl.evaluate("scce", str(tmp_path / "y"), str(tmp_path / "y"),
                         shard_output=str(tmp_path / "out"), shard_format="csv")
