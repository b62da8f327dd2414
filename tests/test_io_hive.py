"""Hive-partitioned Parquet: a directory of ``key=value/part.parquet`` files is one dataset whose
keys are columns (ints as ints, else strings); its value is exactly the single file's."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT

import lossctl
from lossctl.io import open_source, read_array

SAMPLES = ROOT / "samples"


@pytest.fixture(scope="module")
def digits():
    """(labels, probabilities, (value, per-sample losses) of the single files)."""
    y = read_array(str(SAMPLES / "digits_labels.csv"))[0].reshape(-1)
    p = read_array(str(SAMPLES / "digits_probs.csv"))[0].astype(np.float64)
    got = lossctl.evaluate("scce", str(SAMPLES / "digits_labels.csv"),
                           str(SAMPLES / "digits_probs.csv"))
    return y, p, (got.value, got.per_sample)


def test_hive_partitions_are_columns(tmp_path, digits):
    y, p, whole = digits
    cols = {f"p{j}": p[:, j] for j in range(p.shape[1])}
    # keyed by shard: the rows stay in order (shard=2 before shard=10), and the value is the
    # single file's; an empty selection takes the files' columns, not the key
    shard = np.repeat(np.arange(16), [len(a) for a in np.array_split(y, 16)])
    pq.write_to_dataset(pa.table({"label": y, **cols, "shard": shard}), tmp_path / "by_shard",
                        partition_cols=["shard"])
    got = lossctl.evaluate("scce", str(tmp_path / "by_shard"), None, true_cols="label",
                           pred_cols="p*")
    assert got.value == whole[0] and np.array_equal(got.per_sample, whole[1])
    with open_source(str(tmp_path / "by_shard")) as src:
        assert src.columns[-1] == "shard"
        assert src.select(None) == list(range(len(src.columns) - 1))
        assert src.read(src.select("shard")).data.dtype == np.int64
    # the label itself as the partition key
    pq.write_to_dataset(pa.table(cols | {"label": y}), tmp_path / "by_label",
                        partition_cols=["label"])
    got = lossctl.evaluate("scce", str(tmp_path / "by_label"), None, true_cols="label",
                           pred_cols="p*")
    assert got.value == whole[0]


def test_string_partition_values_stay_strings(tmp_path):
    pq.write_to_dataset(pa.table({"x": [0.5, 0.25], "split": ["train", "test"]}),
                        tmp_path / "h", partition_cols=["split"])
    with open_source(str(tmp_path / "h")) as src:
        assert sorted(src.read(src.select("split")).data[:, 0]) == ["test", "train"]
        assert src.read(src.select("x")).data.dtype == np.float64


def test_a_directory_without_keys_stays_shards(tmp_path):
    (tmp_path / "sub").mkdir()
    pq.write_table(pa.table({"x": [1.0]}), tmp_path / "sub" / "a.parquet")
    with open_source(str(tmp_path)) as src:
        assert type(src).__name__ == "ShardSource" and src.columns == ["x"]

