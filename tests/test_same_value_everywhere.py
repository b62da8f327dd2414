"""One dataset, every way it can reach lossctl, one value: as one file (CSV, NPY pair), as 16
shards (NPY pairs, CSV holding both), as hive-partitioned Parquet, gzip CSV (whole and sharded),
JSON lines (whole and sharded), through a local S3 server (moto), with ``--jobs 1`` and
``--jobs 2``, and on a Dask ``LocalCluster``: exactly the same float64 value every time (the
sums are exact, so no order of rows, shards or merges can change a bit)."""
from __future__ import annotations

import gzip
import json
import uuid

import numpy as np
import pytest
from conftest import point_s3_at

import lossctl

N, C, SHARDS = 4000, 4, 16
LOSSES = ("scce", "brier_score")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("everywhere")
    rng = np.random.default_rng(15)
    y = rng.integers(0, C, N)
    p = rng.dirichlet([0.6] * C, N)

    def csv(ys, ps) -> str:
        head = "label," + ",".join(f"p{j}" for j in range(C))
        return "\n".join([head] + [f"{int(t)}," + ",".join(repr(float(v)) for v in row)
                                   for t, row in zip(ys, ps)]) + "\n"

    def jsonl(ys, ps) -> str:
        return "".join(json.dumps({"label": int(t), "p": [float(v) for v in row]}) + "\n"
                       for t, row in zip(ys, ps))

    np.save(root / "y.npy", y)
    np.save(root / "p.npy", p)
    (root / "all.csv").write_text(csv(y, p))
    (root / "all.csv.gz").write_bytes(gzip.compress(csv(y, p).encode()))
    (root / "all.jsonl").write_text(jsonl(y, p))
    cuts = np.sort(rng.choice(np.arange(1, N), SHARDS - 1, replace=False))
    for d in ("ys", "ps", "csv", "csvgz", "jsonl"):
        (root / d).mkdir()
    for i, (a, b) in enumerate(zip(np.split(y, cuts), np.split(p, cuts))):
        np.save(root / "ys" / f"part-{i}.npy", a)
        np.save(root / "ps" / f"part-{i}.npy", b)
        (root / "csv" / f"part-{i}.csv").write_text(csv(a, b))
        (root / "csvgz" / f"part-{i}.csv.gz").write_bytes(gzip.compress(csv(a, b).encode()))
        (root / "jsonl" / f"part-{i}.jsonl").write_text(jsonl(a, b))
        fold = root / "hive" / f"fold={i // 4}"
        fold.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"label": a, **{f"p{j}": b[:, j] for j in range(C)}}),
                       fold / f"part-{i % 4}.parquet")
    return root, y, p


#: name -> (y_true, y_pred, options), relative to the dataset's root
FORMS = {
    "one CSV": ("all.csv", None, {"true_cols": "label", "pred_cols": "p*"}),
    "NPY pair": ("y.npy", "p.npy", {}),
    "16 NPY shard pairs": ("ys", "ps/*.npy", {}),
    "16 CSV shards": ("csv", None, {"true_cols": "label", "pred_cols": "p*"}),
    "hive Parquet": ("hive", None, {"true_cols": "label", "pred_cols": "p*"}),
    "gzip CSV": ("all.csv.gz", None, {"true_cols": "label", "pred_cols": "p*"}),
    "16 gzip CSV shards": ("csvgz", None, {"true_cols": "label", "pred_cols": "p*"}),
    "JSON lines": ("all.jsonl", None, {"true_cols": "label", "pred_cols": "p"}),
    "16 JSON lines shards": ("jsonl", None, {"true_cols": "label", "pred_cols": "p"}),
}


def _values(res) -> list[float]:
    return [res.value, *(o.value for o in res.others)]


def _evaluate(root, form: str, **extra) -> list[float]:
    """The values of LOSSES, computed in one pass."""
    yt, yp, options = FORMS[form]
    return _values(lossctl.evaluate(",".join(LOSSES), str(root / yt),
                                    None if yp is None else str(root / yp), keep=False,
                                    **options, **extra))


@pytest.fixture(scope="module")
def expected(data):
    _, y, p = data
    want = [lossctl.evaluate(loss, y, p, keep=False).value for loss in LOSSES]
    assert _values(lossctl.evaluate(",".join(LOSSES), y, p, keep=False)) == want
    return want


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_and_any_jobs_give_the_same_bits(data, expected, form, jobs):
    assert _evaluate(data[0], form, jobs=jobs) == expected, form


def test_a_local_dask_cluster_gives_the_same_bits(data, expected):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None, silence_logs=40) as lc:
        for form in ("16 NPY shard pairs", "16 CSV shards", "16 JSON lines shards",
                     "hive Parquet", "one CSV"):
            got = _evaluate(data[0], form, scheduler=lc.scheduler_address)
            assert got == expected, form


def test_through_a_local_s3_server_with_one_and_two_jobs(data, expected, s3_server,
                                                        monkeypatch):
    """Objects of a bucket on a local moto server, credentials and endpoint from the environment
    (worker processes get them with each task); the CLI's own S3 path runs in a subprocess in
    tests/test_io_remote.py."""
    s3fs = pytest.importorskip("s3fs")

    point_s3_at(monkeypatch, s3_server)
    try:
        fs = s3fs.S3FileSystem(endpoint_url=s3_server)
        bucket = f"lossctl-{uuid.uuid4().hex[:8]}"
        fs.mkdir(bucket)
        root = data[0]
        fs.put(str(root / "all.csv.gz"), f"{bucket}/all.csv.gz")
        for d in ("ys", "ps", "csv"):
            fs.put(str(root / d), f"{bucket}/{d}", recursive=True)
        s3 = f"s3://{bucket}"
        both = {"true_cols": "label", "pred_cols": "p*"}
        runs = [((f"{s3}/all.csv.gz", None), both, (1,)),
                ((f"{s3}/ys", f"{s3}/ps"), {}, (2,)),  # (each object costs moto ~70 ms)
                ((f"{s3}/csv/*.csv", None), both, (1,))]
        for (yt, yp), options, jobs in runs:
            for j in jobs:
                got = _values(lossctl.evaluate(",".join(LOSSES), yt, yp, keep=False, jobs=j,
                                               **options))
                assert got == expected, (yt, j)
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
