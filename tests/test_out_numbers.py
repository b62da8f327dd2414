"""The bulk text of floats and rows equals ``repr`` cell by cell (no output changes).

:func:`lossctl.out.numbers.float_text` rewrites pyarrow's float64 -> string cast into ``repr``'s
layout by classes of magnitude; every class, its boundaries (powers of ten and their neighbours),
the special values, random bit patterns and typical losses are compared with
``[repr(x) for x in arr.tolist()]``. The writers (CSV, TSV, JSON Lines, JSON, the JSON document's
arrays) are compared with the text the cell-by-cell rule writes.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

from lossctl.out import json_document, open_sink
from lossctl.out.numbers import column_text, float_text, format_number
from lossctl.out.rows import BULK_CELLS, TEXT_CELLS, RowStyle, block_text


def reprs(x: np.ndarray) -> list[str]:
    return [repr(v) for v in x.tolist()]


def assert_same(x: np.ndarray) -> None:
    x = np.asarray(x, dtype=np.float64)
    got = float_text(x).to_pylist()
    want = reprs(x)
    bad = [(w, g) for w, g in zip(want, got) if w != g]
    assert not bad, f"{len(bad)} of {len(x)} differ from repr, e.g. {bad[:5]}"


def neighbours(v: np.ndarray, steps: int = 3) -> np.ndarray:
    """``v`` with its ``steps`` nearest doubles on each side, and the negatives of all."""
    out = [v]
    lo = hi = v
    for _ in range(steps):
        lo, hi = np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)
        out += [lo, hi]
    a = np.concatenate(out)
    return np.concatenate([a, -a])


SPECIAL = [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 5e-324, -5e-324,
           2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308,
           -1.7976931348623157e308, np.finfo(np.float64).tiny, np.finfo(np.float64).eps]


def test_special_values():
    assert_same(np.array(SPECIAL))
    assert float_text(np.array([np.nan, -np.nan, np.inf, -np.inf])).to_pylist() == [
        "nan", "nan", "inf", "-inf"]


def test_every_power_of_ten_and_its_neighbours():
    powers = np.array([float(f"1e{k}") for k in range(-323, 309)])
    assert_same(neighbours(powers))


@pytest.mark.parametrize("edge", [1e-9, 1e-6, 1e-5, 1e-4, 1e10, 1e16])
def test_class_boundaries(edge):
    """The magnitudes where repr's and pyarrow's layouts part, 50 doubles either side, and
    short decimals around them (1.5e-05, 9.99e-05, ...)."""
    assert_same(neighbours(np.array([edge]), steps=50))
    short = np.array([float(f"{m}e{e}") for m in ("1", "1.5", "9.99", "9.999999", "2.5", "1.05")
                      for e in range(int(np.log10(edge)) - 2, int(np.log10(edge)) + 2)])
    assert_same(neighbours(short, steps=2))


def test_subnormals():
    rng = np.random.default_rng(7)
    bits = rng.integers(1, 1 << 52, 20_000, dtype=np.uint64)
    assert_same(bits.view(np.float64))
    assert_same(np.array([5e-324 * k for k in range(1, 200)]))


def test_random_bit_patterns():
    rng = np.random.default_rng(16)
    assert_same(rng.integers(0, 2**64, 300_000, dtype=np.uint64).view(np.float64))


def test_random_bits_in_every_decade_of_the_layout_classes():
    """Random mantissas with exponents spread over -40..40 (the classes are a few decades
    wide; uniform bit patterns rarely land there)."""
    rng = np.random.default_rng(17)
    mant = rng.integers(0, 1 << 52, 200_000, dtype=np.uint64)
    exp = rng.integers(1023 - 133, 1023 + 133, 200_000, dtype=np.uint64)  # 2**±133 ~ 10**±40
    sign = rng.integers(0, 2, 200_000, dtype=np.uint64) << np.uint64(63)
    assert_same((sign | (exp << np.uint64(52)) | mant).view(np.float64))


def test_typical_losses_and_integral_values():
    rng = np.random.default_rng(18)
    assert_same(np.concatenate([
        rng.exponential(1.0, 100_000), rng.random(100_000) * 1e-3, rng.lognormal(0, 6, 100_000),
        -np.log(rng.random(50_000)), np.float32(rng.random(50_000)).astype(np.float64),
        np.arange(-2000.0, 2000.0), 2.0 ** np.arange(0, 64), 10.0 ** np.arange(0, 23),
        rng.integers(0, 2**53, 20_000).astype(np.float64), np.round(rng.random(20_000), 3),
    ]))


def test_empty_and_non_contiguous():
    assert float_text(np.array([], dtype=np.float64)).to_pylist() == []
    x = np.random.default_rng(19).exponential(1, (1000, 3))
    assert float_text(x[:, 1]).to_pylist() == reprs(x[:, 1])


def test_column_text_keeps_the_rules_of_other_dtypes():
    rng = np.random.default_rng(20)
    f32 = rng.random(1000).astype(np.float32) * np.float32(10.0) ** rng.integers(-12, 12, 1000)
    f32[:4] = [np.nan, np.inf, -np.inf, 1e-4]
    assert column_text(f32)[0].to_pylist() == [format_number(v) for v in f32]
    ints = rng.integers(-(2**62), 2**62, 1000)
    assert column_text(ints)[0].to_pylist() == [str(v) for v in ints.tolist()]
    assert column_text(np.array([True, False]))[0].to_pylist() == ["1", "0"]
    cells, count = column_text(np.array([1.0, np.nan, -np.inf]), nonfinite="null")
    assert (cells.to_pylist(), count) == (["1.0", "null", "null"], 2)
    with pytest.raises(TypeError):
        column_text(np.array(["a"]))


# --- writers: the bulk rows equal the cell-by-cell ones ---------------------------------------


def losses(n: int, seed: int = 21) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.exponential(1.0, n)
    x[::97] = np.nan
    x[1::101] = np.inf
    x[2::103] = -np.inf
    x[3::89] = 1.5e-5
    x[4::83] = 2.0
    x[5::79] = 1.5e12
    x[6::71] = -0.0
    x[7::73] = 3e-8
    return x


def block(n: int):
    rng = np.random.default_rng(22)
    return [np.arange(n), rng.integers(0, 10, n), rng.integers(0, 10, n), losses(n)]


NAMES = ["index", "label", "predicted", "loss"]


def cell_rows(cols, token):
    return zip(*[[token(v) for v in c.tolist()] for c in cols])


def csv_token(v):
    return repr(v) if isinstance(v, float) else str(v)


def json_token(v):
    if isinstance(v, float) and not np.isfinite(v):
        return "null"
    return csv_token(v)


def write(fmt, cols, step, **kwargs):
    buf = io.StringIO()
    n = len(cols[0])
    with open_sink(fmt, NAMES[:len(cols)], stdout=buf, **kwargs) as sink:
        for a in range(0, n, step):
            sink.write(*(c[a:a + step] for c in cols))
    return buf.getvalue()


# blocks bigger than a chunk, a few chunks, and smaller than the bulk threshold
STEPS = [TEXT_CELLS, 5000, 300, 7]


def rows_for(step: int, n: int) -> int:
    """``n`` rows, or for blocks of a few rows (the per-block path, one call per block) a few
    thousand: every pattern of :func:`losses` (periods up to 103) many times over."""
    return n if step >= 300 else min(n, 3001)


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_rows_equal_repr(fmt, step):
    cols = block(rows_for(step, 3 * TEXT_CELLS // 4 + 11))
    sep = "," if fmt == "csv" else "\t"
    want = sep.join(NAMES) + "\n" + "".join(sep.join(r) + "\n" for r in cell_rows(cols, csv_token))
    assert write(fmt, cols, step) == want


def test_csv_float_matrix_and_one_float_column():
    x = np.random.default_rng(23).exponential(1.0, (20_000, 5))
    buf = io.StringIO()
    with open_sink("csv", list("abcde"), stdout=buf, header=False) as sink:
        sink.write(x[:, :2], x[:, 2:])
    assert buf.getvalue() == "".join(",".join(map(repr, r)) + "\n" for r in x.tolist())
    v = losses(50_000)
    assert write("csv", [v], 50_000, header=False) == "".join(t + "\n" for t in reprs(v))


def test_csv_wide_row_in_pieces_equals_repr():
    row = losses(3 * BULK_CELLS)
    buf = io.StringIO()
    with open_sink("csv", [f"c{i}" for i in range(len(row))], stdout=buf, header=False) as sink:
        sink.write_row_pieces([row[:5000], row[5000:5003], row[5003:]])
    assert buf.getvalue() == ",".join(reprs(row)) + "\n"


@pytest.mark.parametrize("step", STEPS)
def test_jsonl_and_json_rows_equal_the_object_template(step, recwarn):
    cols = block(rows_for(step, 3 * TEXT_CELLS // 8 + 5))
    objs = ["{" + ", ".join(f'"{k}": {t}' for k, t in zip(NAMES, r)) + "}"
            for r in cell_rows(cols, json_token)]
    assert write("jsonl", cols, step) == "".join(o + "\n" for o in objs)
    assert write("json", cols, step) == "[\n  " + ",\n  ".join(objs) + "\n]\n"
    got = [json.loads(line)["loss"] for line in write("jsonl", cols, step).splitlines()[:500]]
    want = cols[3][:500]
    assert [g is None for g in got] == (~np.isfinite(want)).tolist()
    assert [g for g in got if g is not None] == want[np.isfinite(want)].tolist()  # bit for bit
    bad = int((~np.isfinite(cols[3])).sum())
    assert f"{bad} non-finite values" in str(recwarn[-1].message)  # counted over every chunk


def test_jsonl_strings_and_keys_that_need_escaping():
    n = 2 * BULK_CELLS
    names = np.array(['a"b', "c\\d", "é", "plain"] * (n // 4))
    v = losses(n)
    buf = io.StringIO()
    with pytest.warns(Warning), open_sink("jsonl", ['na"me', "v%s"], stdout=buf) as sink:
        sink.write(names, v)
    want = "".join(f'{{"na\\"me": {json.dumps(s)}, "v%s": {json_token(x)}}}\n'
                   for s, x in zip(names.tolist(), v.tolist()))
    assert buf.getvalue() == want


@pytest.mark.parametrize("step", [TEXT_CELLS + 3, 1000, 9])
def test_document_arrays_equal_the_item_rule(step):
    v = losses(rows_for(step, TEXT_CELLS + 400))
    m = np.random.default_rng(24).exponential(1.0, (rows_for(step, 30_000), 3))
    buf = io.StringIO()
    with pytest.warns(Warning), json_document(stdout=buf) as doc:
        with doc.array("per_sample") as arr:
            for a in range(0, len(v), step):
                arr.write(v[a:a + step])
        with doc.array("rows") as arr:
            for a in range(0, len(m), step):
                arr.write(m[a:a + step])
        with doc.array("objs", columns=["i", "loss"]) as arr:
            arr.write(np.arange(len(v)), v)
    items = ",\n".join("    " + json_token(x) for x in v.tolist())
    rows = ",\n".join("    [" + ", ".join(map(repr, r)) + "]" for r in m.tolist())
    objs = ",\n".join(f'    {{"i": {i}, "loss": {json_token(x)}}}' for i, x in enumerate(v.tolist()))
    want = (f'{{\n  "per_sample": [\n{items}\n  ],\n  "rows": [\n{rows}\n  ],\n'
            f'  "objs": [\n{objs}\n  ]\n}}\n')
    assert buf.getvalue() == want


def test_block_text_chunks_are_bounded():
    cols = [c.reshape(-1, 1) for c in block(2 * TEXT_CELLS)]
    chunks = list(block_text(cols, 2 * TEXT_CELLS, RowStyle(sep=",")))
    assert sum(r for _, _, r in chunks) == 2 * TEXT_CELLS
    assert max(r for _, _, r in chunks) * 4 <= TEXT_CELLS


@pytest.mark.parametrize("cores", [1, 2, 3])
def test_block_text_on_several_threads_is_the_text_of_one_in_row_order(cores, monkeypatch):
    """A large block is formatted in chunks on a pool of threads (one per core) and written in
    row order; the text is the cell-by-cell rule's whatever the number of threads."""
    from concurrent.futures import ThreadPoolExecutor

    import lossctl.out.rows as rows

    submitted = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            submitted.append(args[1])  # the chunk's rows
            return super().submit(fn, *args, **kwargs)

    pool = Counting(cores) if cores > 1 else None
    monkeypatch.setattr(rows, "_POOL", [(pool, cores)])
    flat = block(3 * TEXT_CELLS // 4 + 17)
    n = flat[0].shape[0]
    text = "".join(t for t, _, _ in block_text([c.reshape(-1, 1) for c in flat], n,
                                               RowStyle(sep=",")))
    assert text == "".join(",".join(r) + "\n" for r in cell_rows(flat, csv_token))
    if pool is None:
        assert not submitted
    else:
        assert sum(submitted) == n and len(submitted) >= cores  # every row, on the threads
        assert max(submitted) * 4 * cores <= TEXT_CELLS + 4 * cores  # the same cells in flight
        pool.shutdown()


def test_formatting_floats_attempts_no_import(monkeypatch):
    """pyarrow infers the type of a list of Python strings by trying to import dateutil, a
    failed import (a scan of sys.path) on every call, 10x the cost of a typed array: every
    class of float the text fixes (1e-5's exponent form, 1e10's repr) goes through typed
    arrays only."""
    import importlib.abc
    import sys

    x = np.array([1.5e-5, -2.5e-6, 3e-5, 1.25e10, -7e15, 0.1, 1e-300, 5e300] * 40)
    float_text(x)  # warm: the modules it needs are loaded
    tried: list[str] = []

    class Spy(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            tried.append(name)
            return None

    for name in [m for m in sys.modules if m == "dateutil" or m.startswith("dateutil.")]:
        monkeypatch.delitem(sys.modules, name)  # as on a machine without it
    monkeypatch.setattr(sys, "meta_path", [Spy(), *sys.meta_path])
    text = float_text(x).to_pylist()
    assert not tried, tried
    assert text == [repr(float(v)) for v in x]
    # the rows around them: separators, ends, keys and JSON's null, as CSV and JSON lines write
    y = np.where(np.arange(len(x)) % 7 == 0, np.nan, x)
    parts = [np.arange(len(x))[:, None], np.column_stack([x, y])]
    csv_text = "".join(t for t, _, _ in block_text(parts, len(x), RowStyle(sep=",")))
    jsonl = RowStyle(sep=", ", prefix="{", suffix="}\n", keys=('"i": ', '"a": ', '"b": '), json=True)
    json_text = "".join(t for t, _, _ in block_text(parts, len(x), jsonl))
    assert not tried, tried
    assert csv_text.splitlines()[1] == f"1,{float(x[1])!r},{float(y[1])!r}"
    assert json.loads(json_text.splitlines()[0]) == {"i": 0, "a": x[0], "b": None}
