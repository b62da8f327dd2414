"""Remote inputs through fsspec: the same dataset read from local files, from fsspec's memory
file system and from a local S3-compatible server (moto) gives exactly the same value, for
every format and for 16 shards; missing objects, buckets and extras are clean errors; a
hive-partitioned Parquet dataset reads the same from memory:// (tests/test_io_hive.py: local)."""
from __future__ import annotations

import gzip
import subprocess
import sys
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, S3_ENV, point_s3_at, subprocess_env

import lossctl
from lossctl.errors import InputError, LossctlError, OutputError
from lossctl.io import open_source, read_array

SAMPLES = ROOT / "samples"
fsspec = pytest.importorskip("fsspec")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """The digits files in every format, and a 16-shard split, as {relative name: bytes}."""
    d = tmp_path_factory.mktemp("digits")
    y = read_array(str(SAMPLES / "digits_labels.csv"))[0].reshape(-1)
    p = read_array(str(SAMPLES / "digits_probs.csv"))[0].astype(np.float64)
    cols = {f"p{j}": p[:, j] for j in range(p.shape[1])}
    pq.write_table(pa.table({"label": y}), d / "y.parquet")
    pq.write_table(pa.table(cols), d / "p.parquet", row_group_size=64)
    with open(d / "y.jsonl", "w") as f:
        f.writelines(f'{{"label": {int(v)}}}\n' for v in y)
    with open(d / "p.jsonl", "w") as f:
        f.writelines('{"probs": [%s]}\n' % ", ".join(repr(float(x)) for x in row) for row in p)
    files = {name: (SAMPLES / name).read_bytes() for name in (
        "digits_labels.csv", "digits_probs.csv", "digits_labels.npy", "digits_probs.npy")}
    files["digits_labels.csv.gz"] = gzip.compress(files["digits_labels.csv"])
    files["digits_probs.csv.gz"] = gzip.compress(files["digits_probs.csv"])
    for name in ("y.parquet", "p.parquet", "y.jsonl", "p.jsonl"):
        files[name] = (d / name).read_bytes()
    for i, (a, b) in enumerate(zip(np.array_split(y, 16), np.array_split(p, 16))):
        np.save(d / "a.npy", a)
        files[f"shards/y/part-{i}.npy"] = (d / "a.npy").read_bytes()
        pq.write_table(pa.table({f"p{j}": b[:, j] for j in range(b.shape[1])}), d / "b.pq")
        files[f"shards/p/part-{i}.parquet"] = (d / "b.pq").read_bytes()
    files["shards/p/_SUCCESS"] = b""
    for name, data in files.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_bytes(data)
    return d, files, y, p


#: (y_true, y_pred, pred_cols) pairs, relative to the dataset's root
PAIRS = [
    ("digits_labels.csv", "digits_probs.csv", None),
    ("digits_labels.csv.gz", "digits_probs.csv.gz", None),
    ("digits_labels.npy", "digits_probs.npy", None),
    ("y.parquet", "p.parquet", None),
    ("y.jsonl", "p.jsonl", "probs"),
    ("shards/y", "shards/p/*.parquet", None),
]


def _values(root: str, pair) -> tuple[float, np.ndarray]:
    y, p, cols = pair
    got = lossctl.evaluate("scce", f"{root}/{y}", f"{root}/{p}", pred_cols=cols)
    return got.value, got.per_sample


@pytest.fixture(scope="module")
def local_values(dataset):
    d = dataset[0]
    return {pair: _values(str(d), pair) for pair in PAIRS}


@pytest.fixture
def memory(dataset):
    fs = fsspec.filesystem("memory")
    root = f"lossctl-{uuid.uuid4().hex[:8]}"
    for name, data in dataset[1].items():
        fs.pipe(f"/{root}/{name}", data)
    yield f"memory://{root}"
    fs.rm(f"/{root}", recursive=True)


def test_local_formats_agree(local_values):
    first = local_values[PAIRS[0]][0]
    assert all(v == first for v, _ in local_values.values())


@pytest.mark.parametrize("pair", PAIRS, ids=[p[1] for p in PAIRS])
def test_memory_gives_exactly_the_local_value(memory, local_values, pair):
    value, per_sample = _values(memory, pair)
    assert value == local_values[pair][0]
    assert np.array_equal(per_sample, local_values[pair][1])


def test_memory_shards_keep_natural_order_and_skip_hidden_files(memory):
    with open_source(f"{memory}/shards/p") as src:
        assert src.paths == [f"{memory}/shards/p/part-{i}.parquet" for i in range(16)]
    with open_source(f"{memory}/shards/y/*.npy") as src:
        assert src.paths[:3] == [f"{memory}/shards/y/part-{i}.npy" for i in range(3)]
        assert src.nrows == 270


def test_a_bad_row_names_the_remote_path(memory):
    fs = fsspec.filesystem("memory")
    lines = (SAMPLES / "digits_labels.csv").read_text().splitlines()
    lines[3] = "x"
    fs.pipe(f"/{memory[9:]}/bad.csv", ("\n".join(lines) + "\n").encode())
    with pytest.raises(LossctlError) as e:
        lossctl.evaluate("scce", f"{memory}/bad.csv", f"{memory}/digits_probs.npy")
    assert f"{memory}/bad.csv, line 4" in str(e.value)


def test_a_missing_remote_file_or_pattern_is_an_input_error(memory):
    with pytest.raises(InputError, match="no such file") as e:
        open_source(f"{memory}/nope.csv")
    assert e.value.source == f"{memory}/nope.csv"
    with pytest.raises(InputError, match="no file matches"):
        open_source(f"{memory}/nothing-*.csv")


def test_npz_member_by_key(memory, dataset):
    d = dataset[0]
    np.savez(d / "both.npz", y=dataset[2], p=dataset[3])
    fsspec.filesystem("memory").pipe(f"/{memory[9:]}/both.npz", (d / "both.npz").read_bytes())
    got = lossctl.evaluate("scce", f"{memory}/both.npz:y", f"{memory}/both.npz:p")
    assert got.value == lossctl.evaluate("scce", str(d / "both.npz:y"), str(d / "both.npz:p")).value


def test_file_urls_read_local_files(local_values, dataset):
    pair = PAIRS[2]
    assert _values(f"file://{dataset[0]}", pair)[0] == local_values[pair][0]


def test_a_missing_extra_names_it(monkeypatch):
    """s3fs not installed (simulated): one InputError naming the extra to install."""
    monkeypatch.setitem(sys.modules, "s3fs", None)
    import importlib

    registry = importlib.import_module("fsspec.registry")
    # in place: fsspec.registry.registry is a read-only view of this very dict, and holds the
    # class already when an earlier test in this process read from S3
    for key in ("s3", "s3a"):
        monkeypatch.delitem(registry._registry, key, raising=False)
    with pytest.raises(InputError) as e:
        open_source("s3://bucket/y.csv")
    assert "pip install 'lossctl[s3]'" in str(e.value)
    assert e.value.source == "s3://bucket/y.csv"


def test_missing_fsspec_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "fsspec", None)
    monkeypatch.setitem(sys.modules, "fsspec.core", None)
    with pytest.raises(InputError, match=r"lossctl\[gcs\]"):
        open_source("gs://bucket/y.csv")


def test_remote_outputs_are_refused(invoke):
    with pytest.raises(OutputError, match="not supported"):
        from lossctl.out import check_output

        check_output("s3://bucket/out.csv", ["samples/digits_labels.csv"])
    r = invoke("compute", "scce", SAMPLES / "digits_labels.csv", SAMPLES / "digits_probs.csv",
               "-o", "s3://bucket/out.csv")
    assert r.exit_code == 1 and "s3:// is not supported" in r.stderr


# === a local S3-compatible server ==================================================================


@pytest.fixture
def s3(s3_server, dataset, monkeypatch):
    """A bucket holding the dataset; the environment points S3 at the local server."""
    import s3fs

    point_s3_at(monkeypatch, s3_server)
    fs = s3fs.S3FileSystem(endpoint_url=s3_server)
    bucket = f"lossctl-{uuid.uuid4().hex[:8]}"
    fs.mkdir(bucket)
    fs.pipe({f"{bucket}/{name}": data for name, data in dataset[1].items()})
    yield f"s3://{bucket}"
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.mark.parametrize("pair", PAIRS, ids=[p[1] for p in PAIRS])
def test_s3_gives_exactly_the_local_value(s3, local_values, pair):
    value, per_sample = _values(s3, pair)
    assert value == local_values[pair][0]
    assert np.array_equal(per_sample, local_values[pair][1])


def test_s3_missing_object_and_bucket_are_clean_cli_errors(s3, s3_server):
    env = subprocess_env(**S3_ENV, AWS_ENDPOINT_URL=s3_server)
    run = [sys.executable, "-m", "lossctl", "compute", "scce"]
    ok = subprocess.run([*run, f"{s3}/digits_labels.csv", f"{s3}/shards/p/*.parquet", "-f",
                         "json"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert ok.returncode == 0, ok.stderr
    for missing in (f"{s3}/nope.csv", "s3://no-such-bucket-lossctl/y.csv"):
        r = subprocess.run([*run, missing, f"{s3}/digits_probs.npy"], capture_output=True,
                           text=True, env=env, cwd=ROOT, timeout=120)
        assert r.returncode == 1, r.stderr
        assert missing in r.stderr and "no such file" in r.stderr
        assert "Traceback" not in r.stderr


# === hive partitions ===============================================================================


def test_hive_partitions_from_memory(tmp_path, dataset, local_values):
    _, _, y, p = dataset
    cols = {f"p{j}": p[:, j] for j in range(p.shape[1])}
    pq.write_to_dataset(pa.table(cols | {"label": y}), tmp_path / "h", partition_cols=["label"])
    fs = fsspec.filesystem("memory")
    root = f"hive-{uuid.uuid4().hex[:8]}"
    for path in (tmp_path / "h").rglob("*.parquet"):
        fs.pipe(f"/{root}/{path.relative_to(tmp_path / 'h')}", path.read_bytes())
    got = lossctl.evaluate("scce", f"memory://{root}", None, true_cols="label", pred_cols="p*")
    assert got.value == local_values[PAIRS[0]][0]
    fs.rm(f"/{root}", recursive=True)
