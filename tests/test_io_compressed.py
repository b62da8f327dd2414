"""Compressed inputs (gzip, bzip2, xz, zstd): detected by magic bytes on files and on standard
input, read as one stream into the reader of the format inside, with the same numbers as the
plain file; corrupt data is one clean error naming the input."""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, subprocess_env

import lossctl
from lossctl.errors import InputError
from lossctl.io import read_array

SAMPLES = ROOT / "samples"
LABELS, PROBS = SAMPLES / "digits_labels.csv", SAMPLES / "digits_probs.csv"


def _zstd(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as f:
        f.write(data)
    return sink.getvalue().to_pybytes()


COMPRESS = {"gz": lambda b: gzip.compress(b, mtime=0), "bz2": bz2.compress, "xz": lzma.compress,
            "zst": _zstd}


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_compressed_text_gives_the_plain_files_value(tmp_path, suffix):
    y = tmp_path / f"y.csv.{suffix}"
    p = tmp_path / f"p.csv.{suffix}"
    y.write_bytes(COMPRESS[suffix](LABELS.read_bytes()))
    p.write_bytes(COMPRESS[suffix](PROBS.read_bytes()))
    plain = lossctl.evaluate("scce", str(LABELS), str(PROBS))
    packed = lossctl.evaluate("scce", str(y), str(p))
    assert packed.value == plain.value
    assert np.array_equal(packed.per_sample, plain.per_sample)


def test_magic_bytes_decide_not_the_name_and_tsv_keeps_its_extension(tmp_path):
    text = PROBS.read_text().replace(",", "\t")
    odd = tmp_path / "probs.tsv.gz"
    odd.write_bytes(gzip.compress(text.encode(), mtime=0))
    named = tmp_path / "labels.csv"  # gzip inside a .csv name
    named.write_bytes(gzip.compress(LABELS.read_bytes(), mtime=0))
    a, _ = read_array(str(odd))
    b, _ = read_array(str(PROBS))
    assert np.array_equal(a, b)
    assert lossctl.evaluate("scce", str(named), str(odd)).value == \
        lossctl.evaluate("scce", str(LABELS), str(PROBS)).value


def test_compressed_npy_and_parquet_and_concatenated_gzip_members(tmp_path):
    probs = read_array(str(PROBS))[0].astype(np.float64)
    buf = io.BytesIO()
    np.save(buf, probs)
    npy = tmp_path / "p.npy.xz"
    npy.write_bytes(lzma.compress(buf.getvalue()))
    table = pa.table({f"p{i}": probs[:, i] for i in range(probs.shape[1])})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    parquet = tmp_path / "p.parquet.gz"
    parquet.write_bytes(gzip.compress(sink.getvalue().to_pybytes(), mtime=0))
    lines = LABELS.read_bytes().splitlines(keepends=True)
    members = tmp_path / "y.csv.gz"  # two gzip members, as `cat a.gz b.gz` makes
    members.write_bytes(gzip.compress(b"".join(lines[:100]), mtime=0)
                        + gzip.compress(b"".join(lines[100:]), mtime=0))
    want = lossctl.evaluate("scce", str(LABELS), str(PROBS)).value
    for pred in (npy, parquet):
        assert lossctl.evaluate("scce", str(members), str(pred)).value == want


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_compressed_standard_input(suffix):
    data = COMPRESS[suffix](PROBS.read_bytes())
    proc = subprocess.run([sys.executable, "-m", "lossctl", "compute", "scce", str(LABELS), "-"],
                          input=data, capture_output=True, env=subprocess_env(), cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    plain = lossctl.evaluate("scce", str(LABELS), str(PROBS)).value
    assert float(proc.stdout) == plain


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
def test_truncated_data_is_one_clean_error(tmp_path, suffix):
    data = COMPRESS[suffix](PROBS.read_bytes() * 4)
    bad = tmp_path / f"p.csv.{suffix}"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as e:
        lossctl.evaluate("scce", str(LABELS), str(bad))
    assert "corrupt or truncated" in str(e.value) and e.value.source == str(bad)
    proc = subprocess.run([sys.executable, "-m", "lossctl", "compute", "scce", str(LABELS),
                           str(bad)], capture_output=True, text=True, env=subprocess_env(),
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 1 and proc.stderr.count("lossctl: error:") == 1
    assert "Traceback" not in proc.stderr and "-t FILE" in proc.stderr
