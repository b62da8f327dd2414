"""JSON lines inputs: fields as columns, list fields as vectors, streamed in blocks, also on
standard input and compressed; the same numbers as the CSV of the same data."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, subprocess_env

import lossctl
from lossctl.errors import InputError
from lossctl.io import ReadOptions, open_source, read_array

SAMPLES = ROOT / "samples"


@pytest.fixture(scope="module")
def digits():
    y = read_array(str(SAMPLES / "digits_labels.csv"))[0].reshape(-1)
    p = read_array(str(SAMPLES / "digits_probs.csv"))[0].astype(np.float64)
    return y, p


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_vector_and_flat_fields_give_the_csv_value(tmp_path, digits):
    y, p = digits
    vec = _write(tmp_path / "r.jsonl", [{"id": i, "label": int(a), "probs": b.tolist()}
                                        for i, (a, b) in enumerate(zip(y, p))])
    flat = _write(tmp_path / "r.ndjson", [{"label": int(a), **{f"p{j}": float(v)
                                                               for j, v in enumerate(b)}}
                                          for a, b in zip(y, p)])
    want = lossctl.evaluate("scce", str(SAMPLES / "digits_labels.csv"),
                            str(SAMPLES / "digits_probs.csv"))
    for path, cols in ((vec, "probs"), (flat, "p*")):
        got = lossctl.evaluate("scce", path, true_cols="label", pred_cols=cols)
        assert got.value == want.value
        assert np.array_equal(got.per_sample, want.per_sample)
    with open_source(vec) as src:
        assert src.columns[:3] == ["id", "label", "probs[0]"]


def test_whole_numbers_first_and_fractions_later_stream_in_small_blocks(tmp_path):
    rows = [{"y": 1, "p": 1} for _ in range(3000)] + [{"y": 0, "p": 0.25}]
    path = _write(tmp_path / "w.jsonl", rows)
    opts = ReadOptions(chunk_bytes=1 << 10, block_rows=100)
    with open_source(path, opts) as src:
        blocks = list(src.blocks(src.select("p")))
    assert len(blocks) > 2
    values = np.concatenate([b.data for b in blocks]).reshape(-1)
    assert values[-1] == 0.25 and values[:3000].tolist() == [1.0] * 3000
    r = lossctl.evaluate("mse", path, true_cols="y", pred_cols="p")
    assert r.value == pytest.approx(0.0625 / 3001)


def test_a_bad_line_is_one_clean_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"y": 1, "p": 0.5}\n{"y": 1, "p": \n')
    with pytest.raises(InputError) as e:
        lossctl.evaluate("mse", str(path), true_cols="y", pred_cols="p")
    assert "not valid JSON lines" in str(e.value) and e.value.source == str(path)


def test_json_lines_on_standard_input_plain_and_gzip(tmp_path, digits):
    y, p = digits
    text = "".join(json.dumps({"label": int(a), "probs": b.tolist()}) + "\n"
                   for a, b in zip(y, p)).encode()
    want = lossctl.evaluate("scce", str(SAMPLES / "digits_labels.csv"),
                            str(SAMPLES / "digits_probs.csv")).value
    for data in (text, gzip.compress(text, mtime=0)):
        proc = subprocess.run([sys.executable, "-m", "lossctl", "compute", "scce", "-",
                               "--true-cols", "label", "--pred-cols", "probs"], input=data,
                              capture_output=True, env=subprocess_env(), cwd=ROOT, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode()
        assert float(proc.stdout) == want
