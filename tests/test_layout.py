"""Column-major blocks: the readers build them where that saves a transposition (Arrow and CSV
columns, widened NPY floats), but only for losses whose bits do not depend on the layout
(``LossSpec.layout_free``). Every such loss is held to it here, option by option, and the same
data read from each format gives the same bits either way."""
from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lossctl.engine import Computation
from lossctl.errors import LossctlError
from lossctl.io import ReadOptions, open_source
from lossctl.io.arrow import assemble_parts
from lossctl.io.npy import npy_convert
from lossctl.losses import registry
from lossctl.losses._numerics import softmax
from lossctl.pipeline import evaluate

LAYOUT_FREE = [s for s in registry.SPECS if s.layout_free]


def test_the_categorical_losses_are_layout_free_and_the_others_are_not_assumed():
    names = {s.name for s in LAYOUT_FREE}
    assert {"sparse_categorical_crossentropy", "categorical_crossentropy", "cross_entropy"} <= names
    assert not {"mean_squared_error", "binary_crossentropy"} & names


def _inputs(spec, c: int, from_logits: bool):
    rng = np.random.default_rng(c)
    n = 500
    x = rng.normal(size=(n, c)) * 6  # wide logits: softmax tails below Keras's 1e-7 clip
    probs = softmax(x)
    kind = spec.prediction_kind({"from_logits": from_logits})
    pred = {"logits": x, "log-probabilities": np.log(probs)}.get(kind, probs)
    idx = rng.integers(0, c, n)
    if spec.target == "dense":
        soft = rng.dirichlet(np.ones(c), n)
        target = np.where(rng.random(n)[:, None] < 0.5, np.eye(c)[idx], soft)
    else:
        target = idx
    return target, pred


def _combos(spec):
    opts = spec.options
    for conv, logits, ls, cw in itertools.product(
            spec.conventions, (False, True) if "from_logits" in opts else (False,),
            (0.0, 0.1) if "label_smoothing" in opts else (0.0,), (None, "per-class")):
        yield conv, logits, ls, cw


def _run(spec, target, pred, conv, logits, ls, cw):
    kw = {}
    if "from_logits" in spec.options:
        kw["from_logits"] = logits
    if ls:
        kw["label_smoothing"] = ls
    c = pred.shape[1]
    weights = None if cw is None else list(np.linspace(0.5, 2.0, c))
    comp = Computation(spec.name, convention=conv, class_weight=weights, **kw)
    comp.details = True
    half = len(pred) // 2
    blocks = [comp.feed(target[s], pred[s], start=s.start)
              for s in (slice(0, half), slice(half, None))]
    return comp.finish(), blocks


@pytest.mark.parametrize("spec", LAYOUT_FREE, ids=lambda s: s.name)
@pytest.mark.parametrize("c", [3, 10, 21])
def test_a_layout_free_loss_gives_the_same_bits_on_a_column_major_block(spec, c):
    ran = 0
    for conv, logits, ls, cw in _combos(spec):
        target, pred = _inputs(spec, c, logits)
        try:
            want, want_blocks = _run(spec, target, pred, conv, logits, ls, cw)
        except LossctlError:
            continue  # an option this loss refuses in this convention
        f_target = np.asfortranarray(target) if target.ndim == 2 else target
        got, got_blocks = _run(spec, f_target, np.asfortranarray(pred), conv, logits, ls, cw)
        ran += 1
        assert np.float64(got.value).tobytes() == np.float64(want.value).tobytes(), (conv, logits, ls, cw)
        for g, w in zip(got_blocks, want_blocks):
            assert g.per_sample.tobytes() == w.per_sample.tobytes(), (conv, logits, ls, cw)
            for name in ("pred_class", "confidence"):
                a, b = getattr(g, name), getattr(w, name)
                assert (a is None and b is None) or a.tobytes() == b.tobytes(), name
    assert ran


def test_npy_floats_widened_column_major_only_when_asked():
    raw = np.arange(12, dtype=np.float32).reshape(4, 3)
    f = npy_convert(raw, "F")
    assert f.flags.f_contiguous and f.dtype == np.float64 and np.array_equal(f, raw)
    assert npy_convert(raw).flags.c_contiguous
    assert npy_convert(raw.astype(np.float64), "F").flags.c_contiguous  # no copy to save
    assert npy_convert(np.arange(4, dtype=np.int32).reshape(2, 2), "F").flags.c_contiguous


def test_an_nd_npy_source_keeps_its_samples_row_major(tmp_path):
    maps = np.arange(6 * 3 * 4 * 5, dtype=np.float32).reshape(6, 3, 4, 5)
    np.save(tmp_path / "maps.npy", maps)
    with open_source(str(tmp_path / "maps.npy"), ReadOptions(column_major=True)) as src:
        blocks = [b.data for b in src.blocks(None)]
    assert all(b.flags.c_contiguous and b.shape[1:] == (3, 4, 5) for b in blocks)
    assert np.array_equal(np.concatenate(blocks), maps)


def test_arrow_parts_assembled_column_major_when_asked():
    parts = [np.arange(4.0)[:, None], np.arange(8, dtype=np.float32).reshape(4, 2)]
    f = assemble_parts(parts, 4, "F")
    assert f.flags.f_contiguous and np.array_equal(f, assemble_parts(parts, 4))
    assert assemble_parts(parts, 4).flags.c_contiguous


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One 100,000 x 10 float32 softmax table in every format (several blocks of each reader
    under a 64M budget)."""
    d = tmp_path_factory.mktemp("layout")
    rng = np.random.default_rng(9)
    n, c = 100_000, 10
    x = rng.normal(size=(n, c)) * 5
    p = softmax(x).astype(np.float32)
    y = rng.integers(0, c, n)
    np.save(d / "p32.npy", p)
    np.save(d / "p64.npy", p.astype(np.float64))
    np.save(d / "y.npy", y)
    names = [f"p{j}" for j in range(c)]
    pq.write_table(pa.table({"label": y, **{k: p[:, j] for j, k in enumerate(names)}}),
                   d / "t.parquet", row_group_size=7_000)
    with open(d / "p.csv", "w") as fh:  # 17 digits: the text parses to the same float64s
        fh.write(",".join(names) + "\n")
        np.savetxt(fh, p.astype(np.float64), delimiter=",", fmt="%.17g")
    np.savetxt(d / "y.csv", y, fmt="%d", header="label", comments="")
    return d


@pytest.mark.parametrize("name", ["p32.npy", "t.parquet", "p.csv"])
def test_readers_build_column_major_float_blocks_only_when_asked(files, name):
    row_major: list = []
    for column_major in (False, True):
        opts = ReadOptions(block_rows=30_000, column_major=column_major)
        with open_source(str(files / name), opts) as src:
            blocks = [b.data for b in src.blocks(None)]
        assert len(blocks) == 4 and sum(map(len, blocks)) == 100_000
        for b in blocks:  # a block cut from a longer chunk is a view: its columns contiguous
            assert b.dtype == np.float64 and b.shape[1] == (11 if name.endswith("parquet") else 10)
            assert (b.strides[0] == 8 if column_major else b.flags.c_contiguous), (name, column_major)
        if column_major:
            assert np.array_equal(np.concatenate(blocks), np.concatenate(row_major))
        row_major = blocks


def test_every_reader_gives_the_same_bits_for_a_layout_free_loss(files):
    d = files
    runs = {
        "npy f32": dict(y_true=str(d / "y.npy"), y_pred=str(d / "p32.npy")),
        "npy f64": dict(y_true=str(d / "y.npy"), y_pred=str(d / "p64.npy")),  # read row-major
        "parquet": dict(y_true=str(d / "t.parquet"), true_cols="label", pred_cols="p*"),
        "csv": dict(y_true=str(d / "y.csv"), y_pred=str(d / "p.csv")),
    }
    for conv in ("keras", "torch"):
        values = {name: np.float64(evaluate("scce", convention=conv, memory_limit="64M",
                                            **kw).value).tobytes()
                  for name, kw in runs.items()}
        assert len(set(values.values())) == 1, {k: np.frombuffer(v)[0] for k, v in values.items()}


def test_column_major_blocks_reach_only_a_layout_free_loss(files, monkeypatch):
    seen = set()
    orig = Computation.feed

    def spy(self, y_true, y_pred, *a, **k):
        seen.add((self.spec.name, np.asarray(y_pred).flags.f_contiguous))
        return orig(self, y_true, y_pred, *a, **k)

    monkeypatch.setattr(Computation, "feed", spy)
    table = str(files / "t.parquet")
    evaluate("scce", table, true_cols="label", pred_cols="p*")
    evaluate("mse", table, true_cols="p[0-4]", pred_cols="p[5-9]")
    assert seen == {("sparse_categorical_crossentropy", True), ("mean_squared_error", False)}
