"""N-D inputs end to end: `compute --elementwise` maps, `onehot`/`sparse` on label maps, and
`inspect` recognising NCHW, NHWC and sequences (typer CliRunner).

The numbers of the N-D losses themselves are checked against PyTorch and Keras in
tests/fixtures (nd_cases.py) and their engine properties in test_nd.py; these tests hold the
command line: the shapes written, the defaults in a pipe, the refusals and their fixes, the
element named in an error, and the commands inspect recommends.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

RNG = np.random.default_rng(11)
N, C, H, W = 4, 3, 5, 6
LABELS = RNG.integers(0, C, (N, H, W))
VOID = LABELS.copy()
VOID[0, 0, 0] = VOID[2, 4, 5] = 255
LOGITS_NCHW = RNG.standard_normal((N, C, H, W))


def _npy(res) -> np.ndarray:
    assert res.exit_code == 0, res.stderr
    return np.load(io.BytesIO(res.stdout_bytes), allow_pickle=False)


def _error(res, *fragments: str, code: int = 1) -> str:
    assert res.exit_code == code, (res.exit_code, res.stderr)
    assert "Traceback" not in res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("lossctl: error: ")]
    assert len(errors) == 1, res.stderr
    for frag in fragments:
        assert frag in errors[0], (frag, errors[0])
    return errors[0]


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, arr in (("masks", LABELS), ("void", VOID), ("logits", LOGITS_NCHW),
                      ("nhwc", np.moveaxis(LOGITS_NCHW, 1, -1))):
        paths[name] = tmp_path / f"{name}.npy"
        np.save(paths[name], arr)
    return paths


def _ce_map(labels, logits_nchw, ignore=None):
    """PyTorch's cross_entropy(reduction='none') of NCHW logits, in numpy."""
    t = np.where(labels == ignore, 0, labels) if ignore is not None else labels
    lse = np.log(np.exp(logits_nchw).sum(axis=1))
    out = lse - np.take_along_axis(logits_nchw, t[:, None], axis=1)[:, 0]
    return np.where(labels == ignore, 0.0, out) if ignore is not None else out


# --- compute --elementwise: one loss map per sample ---------------------------------------------


def test_elementwise_map_is_an_npy_of_the_labels_shape(invoke, files):
    res = invoke("compute", "cross_entropy", files["void"], files["logits"], "--ignore-class",
                 "255", "--elementwise", "-f", "npy")
    got = _npy(res)
    assert got.shape == (N, H, W)
    np.testing.assert_allclose(got, _ce_map(VOID, LOGITS_NCHW, 255), rtol=1e-12, atol=1e-15)
    assert got[0, 0, 0] == 0.0 and got[2, 4, 5] == 0.0  # ignored elements


def test_elementwise_map_in_a_pipe_defaults_to_npy(invoke, files):
    a = _npy(invoke("compute", "cross_entropy", files["masks"], files["logits"], "--elementwise"))
    b = _npy(invoke("compute", "cross_entropy", files["masks"], files["logits"], "--elementwise",
                    "-f", "npy"))
    np.testing.assert_array_equal(a, b)


def test_elementwise_map_to_a_file_keeps_keras_layout(invoke, files, tmp_path):
    out = tmp_path / "loss.npy"
    res = invoke("compute", "scce", files["masks"], files["nhwc"], "--from-logits",
                 "--elementwise", "-o", out)
    assert res.exit_code == 0, res.stderr
    got = np.load(out)
    assert got.shape == (N, H, W)
    np.testing.assert_allclose(got, _ce_map(LABELS, LOGITS_NCHW), rtol=1e-12)


def test_elementwise_map_as_json_nests_the_maps(invoke, files):
    res = invoke("compute", "cross_entropy", files["void"], files["logits"], "--ignore-class",
                 "255", "--elementwise", "-f", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    maps = np.asarray(doc["elementwise"])
    assert maps.shape == (N, H, W)
    ref = _ce_map(VOID, LOGITS_NCHW, 255)
    np.testing.assert_allclose(maps, ref, rtol=1e-12, atol=1e-15)
    valid = VOID != 255
    np.testing.assert_allclose(doc["per_sample"],
                               (ref * valid).sum(axis=(1, 2)) / valid.sum(axis=(1, 2)), rtol=1e-12)
    assert doc["value"] == pytest.approx(ref[valid].mean(), rel=1e-12)
    assert doc["shape"] == [C, H, W] and doc["elements"] == N * H * W


@pytest.mark.parametrize(("fmt", "name"), [("csv", "loss.csv"), ("tsv", "loss.tsv"),
                                           ("jsonl", "loss.jsonl")])
def test_elementwise_map_refuses_formats_of_rows(invoke, files, tmp_path, fmt, name):
    out = tmp_path / name
    res = invoke("compute", "cross_entropy", files["masks"], files["logits"], "--elementwise",
                 "-o", out)
    _error(res, f"{fmt} output holds rows of columns", "(N, 5, 6)", "--format npy",
           "--format json", code=2)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{k}.npy" for k in files)


def test_reduction_none_on_maps_is_one_value_per_sample(invoke, files):
    got = _npy(invoke("compute", "cross_entropy", files["masks"], files["logits"], "-r", "none",
                      "-f", "npy"))
    assert got.shape == (N,)
    np.testing.assert_allclose(got, _ce_map(LABELS, LOGITS_NCHW).mean(axis=(1, 2)), rtol=1e-12)


def test_the_report_counts_elements_and_classes_over_pixels(runner, files):
    from lossctl.cli import app

    res = runner.invoke(app, ["compute", "cross_entropy", str(files["void"]),
                              str(files["logits"]), "--ignore-class", "255", "--no-color"],
                        obj={"stdout_isatty": True})
    assert res.exit_code == 0, res.stderr
    out = res.stdout
    assert f"{N * H * W}" in out and "(N, 3, 5, 6)" in out
    assert "per class, over elements" in out
    value = _ce_map(VOID, LOGITS_NCHW, 255)[VOID != 255].mean()
    assert f"{value:.4f}"[:-1] in out


# --- onehot / sparse on label maps --------------------------------------------------------------


def test_onehot_map_channels_last_and_first(invoke, files):
    last = _npy(invoke("onehot", files["masks"], "-n", C))
    first = _npy(invoke("onehot", files["masks"], "-n", C, "--class-axis", "1"))
    assert last.shape == (N, H, W, C) and first.shape == (N, C, H, W)
    np.testing.assert_array_equal(last, np.eye(C, dtype=np.int64)[LABELS])
    np.testing.assert_array_equal(np.moveaxis(first, 1, -1), last)
    assert last.dtype == np.int64


def test_onehot_map_ignore_class_gives_zero_vectors_and_a_note(invoke, files):
    res = invoke("onehot", files["void"], "--ignore-class", "255", "--smooth", "0.1")
    got = _npy(res)
    assert got.shape == (N, H, W, C)  # C inferred from the labels without 255
    assert "inferred 3 classes" in res.stderr
    assert "2 elements had the label 255" in res.stderr and "row 0, element (0, 0)" in res.stderr
    assert (got[0, 0, 0] == 0).all() and (got[2, 4, 5] == 0).all()
    keep = VOID != 255
    ref = np.eye(C)[np.where(keep, VOID, 0)] * 0.9 + 0.1 / C
    np.testing.assert_allclose(got[keep], ref[keep], rtol=1e-15)


def test_onehot_map_error_names_the_element_and_offers_ignore_class(invoke, files):
    res = invoke("onehot", files["void"], "-n", C)
    _error(res, "void.npy, row 0, element (0, 0)", "label 255", "--ignore-class 255")


def test_onehot_map_refuses_text_output_before_writing(invoke, files, tmp_path):
    out = tmp_path / "oh.csv"
    res = invoke("onehot", files["masks"], "-n", C, "-o", out)
    _error(res, "csv output holds rows of columns", "(N, 5, 6, 3)", "--format npy", code=2)
    assert not out.exists()


def test_onehot_map_in_pieces_equals_the_whole(invoke, tmp_path):
    """A sample whose one-hot map is larger than a block at --memory-limit 64M is written in
    pieces; the file is the same."""
    masks = RNG.integers(0, 21, (2, 200, 200)).astype(np.uint8)
    path = tmp_path / "big.npy"
    np.save(path, masks)
    for axis in ("-1", "1"):
        out = tmp_path / f"oh{axis}.npy"
        res = invoke("onehot", path, "-n", 21, "--class-axis", axis, "--memory-limit", "64M",
                     "-o", out)
        assert res.exit_code == 0, res.stderr
        got = np.load(out, mmap_mode="r")
        ref = np.eye(21, dtype=np.int64)[masks]
        if axis == "1":
            ref = np.moveaxis(ref, -1, 1)
        np.testing.assert_array_equal(got, ref)


def test_onehot_from_stdin_with_inferred_classes(invoke, files):
    data = files["masks"].read_bytes()
    got = _npy(invoke("onehot", "-", input=data))
    np.testing.assert_array_equal(got, np.eye(C, dtype=np.int64)[LABELS])


def test_onehot_trailing_axis_of_one_is_keras_sparse_labels(invoke, tmp_path):
    path = tmp_path / "k.npy"
    np.save(path, LABELS[..., None])
    res = invoke("onehot", path, "-n", C)
    np.testing.assert_array_equal(_npy(res), np.eye(C, dtype=np.int64)[LABELS])
    assert "end in an axis of 1" in res.stderr


def test_onehot_label_columns_as_sequences_with_class_axis(invoke, write_text):
    path = write_text("seq.csv", "0,2,1\n1,1,0\n")
    got = _npy(invoke("onehot", path, "-n", 3, "--class-axis", "-1", "--no-input-header"))
    np.testing.assert_array_equal(got, np.eye(3, dtype=np.int64)[[[0, 2, 1], [1, 1, 0]]])


def test_sparse_map_round_trip_both_layouts(invoke, files, tmp_path):
    for axis in ("-1", "1"):
        oh = tmp_path / f"oh{axis}.npy"
        assert invoke("onehot", files["masks"], "-n", C, "--class-axis", axis,
                      "-o", oh).exit_code == 0
        back = _npy(invoke("sparse", oh, "--class-axis", axis))
        np.testing.assert_array_equal(back, LABELS)


def test_sparse_argmax_of_nchw_logits(invoke, files):
    got = _npy(invoke("sparse", files["logits"], "--argmax", "--class-axis", "1"))
    np.testing.assert_array_equal(got, LOGITS_NCHW.argmax(axis=1))
    got = _npy(invoke("sparse", files["nhwc"], "--argmax", "--offset", "1"))
    np.testing.assert_array_equal(got, LOGITS_NCHW.argmax(axis=1) + 1)


def test_sparse_map_errors(invoke, files, tmp_path):
    _error(invoke("sparse", files["logits"], "--class-axis", "1"), "logits.npy, row 0, element",
           "--argmax")
    _error(invoke("sparse", files["logits"], "--threshold", "0.5"), "--threshold", "--argmax",
           code=2)
    _error(invoke("sparse", files["logits"], "--argmax", "--class-axis", "0"), "--class-axis 0",
           "Axis 0 holds the samples", code=2)


# --- inspect: the layouts and the commands ------------------------------------------------------


def _inspect(invoke, *args) -> dict:
    res = invoke("inspect", *args)
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def test_inspect_nchw_logits_with_void_labels(invoke, files):
    doc = _inspect(invoke, files["void"], files["logits"])
    assert doc["layout"]["class_axis"] == 1 and doc["layout"]["classes"] == C
    commands = [r["command"] for r in doc["recommendations"]]
    assert commands[0].startswith("lossctl compute cross_entropy")
    assert all("--ignore-class 255" in c for c in commands)
    assert any("--class-axis 1" in c and "--from-logits" in c for c in commands)
    assert any("255" in n and "void" in n for n in doc["notes"])


def test_inspect_nhwc_logits_recommends_keras_first(invoke, files):
    doc = _inspect(invoke, files["masks"], files["nhwc"])
    assert doc["layout"]["class_axis"] == -1
    first = doc["recommendations"][0]["command"]
    assert first.startswith("lossctl compute sparse_categorical_crossentropy")
    assert "--from-logits" in first


def test_inspect_sequences(invoke, tmp_path):
    t, c = 7, 5  # (N, T) labels, PyTorch's (N, C, T) logits
    y, z = tmp_path / "tags.npy", tmp_path / "z.npy"
    np.save(y, RNG.integers(0, c, (N, t)))
    np.save(z, RNG.standard_normal((N, c, t)))
    doc = _inspect(invoke, y, z)
    assert doc["layout"]["class_axis"] == 1 and doc["layout"]["classes"] == c
    assert doc["recommendations"][0]["loss"] == "cross_entropy"


def test_inspect_label_maps_alone_offers_both_one_hot_layouts(invoke, files):
    doc = _inspect(invoke, files["void"])
    commands = [r["command"] for r in doc["conversions"]]
    assert any("--ignore-class 255" in c and "--class-axis 1" in c for c in commands)
    assert any("--ignore-class 255" in c and "--class-axis" not in c for c in commands)
