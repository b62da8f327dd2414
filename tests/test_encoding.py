"""Tests for lossctl.encoding: one-hot <-> labels, and label/prediction detection."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossctl.decoding import SparseDecoder, sparse
from lossctl.detection import describe_labels, describe_predictions
from lossctl.encoding import ClassSpace, OneHotEncoder, onehot, split_multi_label
from lossctl.errors import DataError, LossctlNote, ShapeError, UsageError

# Notes are asserted where they matter (pytest.warns / catch_warnings); elsewhere they are noise.
pytestmark = pytest.mark.filterwarnings("ignore::lossctl.errors.LossctlNote")


def loc(row: int) -> str:
    return f"line {row + 2}"  # as a text file with a header line would say


def notes(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, LossctlNote)]


# --- onehot: the seed examples -------------------------------------------------------------------


def test_seed_example_two_labels_three_classes():
    out = onehot([1, 2], 3)
    assert out.dtype == np.int64
    assert out.tolist() == [[0, 1, 0], [0, 0, 1]]
    assert sparse(out).tolist() == [1, 2]


def test_labels_1_to_10_with_offset_give_10_columns():
    labels = np.arange(1, 11)
    out = onehot(labels, offset=1)
    assert out.shape == (10, 10)
    assert np.array_equal(out, np.eye(10, dtype=np.int64))
    assert sparse(out, offset=1).tolist() == labels.tolist()


def test_column_vector_and_whole_floats_accepted():
    assert onehot(np.array([[0], [2]]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert onehot(np.array([0.0, 2.0]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert onehot(np.array(["0", " 2 ", "1.0"]), 3).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert onehot(np.array([True, False])).tolist() == [[0, 1], [1, 0]]


def test_inferred_num_classes_is_noted():
    with pytest.warns(LossctlNote, match=r"inferred 3 classes from the largest label 2"):
        out = onehot([0, 2, 1])
    assert out.shape == (3, 3)


def test_inferred_from_1_based_labels_suggests_offset():
    with pytest.warns(LossctlNote, match=r"No label is 0: if the labels are 1-based, "
                      r"use offset=1"):
        out = onehot([1, 2, 3])
    assert out.shape == (3, 4)


def test_no_note_when_num_classes_given():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        onehot([0, 1], 2)
    assert notes(rec) == []


def test_dtype_float_and_smoothing():
    f = onehot([0, 1], 2, dtype="float")
    assert f.dtype == np.float64 and f.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    s = onehot([0, 2], 4, smooth=0.1)
    assert s.dtype == np.float64
    np.testing.assert_allclose(s[0], [0.9 + 0.025, 0.025, 0.025, 0.025])
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    # smoothed targets decode with --argmax
    assert sparse(s, argmax=True).tolist() == [0, 2]


def test_multilabel_smoothing_uses_eps_over_2_and_says_so():
    with pytest.warns(LossctlNote, match="binary target"):
        s = onehot(["0;2"], 3, smooth=0.2, multi_label=True)
    np.testing.assert_allclose(s[0], [0.9, 0.1, 0.9])


@pytest.mark.parametrize("eps", [-0.1, 1.5, float("nan")])
def test_bad_smoothing_is_usage_error(eps):
    with pytest.raises(UsageError, match="^smooth must"):
        onehot([0], 2, smooth=eps)


def test_string_labels_sorted_with_mapping_note():
    with pytest.warns(LossctlNote, match=r"cat=0, dog=1, fish=2"):
        out = onehot(np.array(["dog", "cat", "fish", "cat"]))
    assert out.tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0]]


def test_string_labels_with_explicit_classes():
    out = onehot(np.array(["dog", "cat"]), classes=["dog", "cat", "fish"])
    assert out.tolist() == [[1, 0, 0], [0, 1, 0]]
    back = sparse(out, classes=["dog", "cat", "fish"])
    assert back.tolist() == ["dog", "cat"]


def test_integer_labels_matched_by_name_with_classes():
    out = onehot(np.array([7, 3, 5]), classes=["3", "5", "7"])
    assert out.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]


def test_mixed_numbers_and_words_are_string_labels():
    with pytest.warns(LossctlNote):
        out = onehot(np.array(["2.5", "cat", "1"]))
    assert out.shape == (3, 3)  # "1" < "2.5" < "cat"
    assert out.tolist() == [[0, 1, 0], [0, 0, 1], [1, 0, 0]]


def test_many_string_classes_note_is_cut():
    labels = np.array([f"c{i:03d}" for i in range(50)])
    with pytest.warns(LossctlNote, match=r"50 in all; write them with mapping FILE"):
        onehot(labels)


def test_encoder_without_mapping_note():
    enc = OneHotEncoder(report_mapping=False)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        space = enc.fit([(np.array(["b", "a"]), 0)])
    assert space.names == ("a", "b")
    assert notes(rec) == []
    assert space.mapping() == [("a", 0), ("b", 1)]


# --- onehot: errors -------------------------------------------------------------------------------


def test_label_equal_to_num_classes_suggests_offset():
    with pytest.raises(DataError) as e:
        onehot(np.arange(1, 11), 10, location=loc)
    msg = str(e.value)
    assert "line 11" in msg and "label 10 is out of range [0, 10)" in msg
    assert "offset=1" in msg  # the Python spelling; the CLI shows --offset 1


def test_label_far_out_of_range_suggests_num_classes():
    with pytest.raises(DataError, match=r"line 4: label 7 is out of range \[0, 3\).*num_classes=8"):
        onehot([0, 1, 7], 3, location=loc)


def test_first_bad_row_is_reported_with_a_hint_from_the_largest_label():
    with pytest.raises(DataError, match=r"line 3: label 5 is out of range \[0, 3\).*num_classes=10"):
        onehot(np.array([0, 5, -1, 9]), 3, location=loc)
    with pytest.raises(DataError, match=r"line 2: label 2.5 is not an integer"):
        onehot(np.array([2.5, np.nan]), location=loc)


def test_negative_label_never_wraps():
    with pytest.raises(DataError, match=r"line 4: label -1 is negative"):
        onehot([0, 2, -1], 3, location=loc)
    with pytest.raises(DataError, match="negative"):
        onehot([0, -1])  # to_categorical would infer 1 class and write [1] twice


def test_label_below_offset():
    with pytest.raises(DataError, match=r"label 0 is below offset 1.*0-based"):
        onehot([1, 0, 2], offset=1, location=loc)


@pytest.mark.parametrize(
    "labels, match",
    [
        (np.array([1.0, 2.5]), r"line 3: label 2.5 is not an integer"),
        (np.array(["1", "2.5"]), r"line 3: label 2.5 is not an integer"),
        (np.array([1.0, np.nan]), r"line 3: missing label \(empty cell or NaN\)"),
        (np.array(["1", ""]), r"line 3: missing label \(empty cell\)"),
        (np.array(["1", "nan"]), r"line 3: missing label"),
        (np.array([0.0, 2.0**60]), r"line 3: label 1.152921504606847e\+18 is too large"),
        (np.array([0.0, np.inf]), r"line 3: label inf is too large"),
    ],
)
def test_bad_values_name_the_row(labels, match):
    for n in (None, 5):
        with pytest.raises(DataError, match=match):
            onehot(labels, n, location=loc)


def test_unknown_string_with_classes():
    with pytest.raises(DataError,
                       match=r"line 3: label 'bird' is not one of the 2 classes \(cat,dog\)"):
        onehot(np.array(["cat", "bird"]), classes=["cat", "dog"], location=loc)


def test_string_label_with_num_classes_but_no_classes():
    with pytest.raises(DataError, match=r"label 'cat' is not an integer.*classes="):
        onehot(np.array(["1", "cat"]), 3, location=loc)


def test_empty_input_when_inferring():
    with pytest.raises(DataError, match="no labels in the input"):
        onehot(np.array([], dtype=np.int64))
    assert onehot(np.array([], dtype=np.int64), 3).shape == (0, 3)


def test_several_columns_need_multi_label():
    with pytest.raises(ShapeError,
                       match="one label column, the input has 2.*cols.*multi_label=True"):
        onehot(np.array([[0, 1], [1, 0]]))


def test_huge_inferred_num_classes_refused():
    with pytest.raises(DataError, match="would mean 1000000001 classes"):
        onehot([0, 10**9])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(classes=["a", "b"], offset=1), "offset"),
        (dict(classes=["a", "a"]), "more than once"),
        (dict(classes=["a", ""]), "empty class name"),
        (dict(classes=["a", "b"], num_classes=3), "2 class names given for 3 classes"),
        (dict(num_classes=0), "at least 1"),
        (dict(dtype="bool"), "dtype"),
    ],
)
def test_contradictory_options(kwargs, match):
    with pytest.raises(UsageError, match=match):
        OneHotEncoder(**kwargs)


def test_offset_with_string_labels():
    with pytest.raises(UsageError, match="^offset applies to integer labels"):
        onehot(np.array(["cat", "dog"]), offset=1)


# --- multi-label ---------------------------------------------------------------------------------


def test_split_multi_label():
    assert split_multi_label(" 1; 3  4 ") == ["1", "3", "4"]
    assert split_multi_label("") == []


def test_multi_label_cells_and_columns():
    cells = np.array(["0;2", "1", "2 0"])
    out = onehot(cells, 3, multi_label=True)
    assert out.tolist() == [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
    cols = np.array([[0.0, 2.0], [1.0, np.nan], [2.0, 0.0]])  # NaN = an empty padding cell
    assert onehot(cols, 3, multi_label=True).tolist() == out.tolist()
    back = sparse(out, threshold=0.5)
    assert back.tolist() == ["0;2", "1", "0;2"]


def test_multi_label_string_classes_and_empty_rows_noted():
    cells = np.array(["cat;dog", "", "dog"])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = onehot(cells, multi_label=True, location=loc)
    assert out.tolist() == [[1, 1], [0, 0], [0, 1]]
    msg = "1 row had no label and became all-zero rows (first: line 3)"
    assert any(msg in m for m in notes(rec))


def test_multi_label_duplicate_noted():
    with pytest.warns(LossctlNote, match="repeated a label"):
        out = onehot(np.array(["1;1"]), 2, multi_label=True)
    assert out.tolist() == [[0, 1]]


def test_multi_label_bad_token():
    with pytest.raises(DataError, match=r"line 3: label 5 is out of range"):
        onehot(np.array(["0", "1;5"]), 3, multi_label=True, location=loc)


# --- streaming ------------------------------------------------------------------------------------


def test_blocks_convert_independently_when_classes_known():
    labels = np.arange(100) % 7
    enc = OneHotEncoder(7)
    assert not enc.needs_scan
    parts = [enc.transform(labels[i:i + 13], i) for i in range(0, 100, 13)]
    assert np.array_equal(np.vstack(parts), np.eye(7, dtype=np.int64)[labels])


def test_error_row_is_absolute_across_blocks():
    labels = np.zeros(30, dtype=np.int64)
    labels[25] = 9
    enc = OneHotEncoder(3, location=loc)
    with pytest.raises(DataError, match="line 27: label 9"):
        for i in range(0, 30, 10):
            enc.transform(labels[i:i + 10], i)


def test_scan_then_transform_and_chunking():
    labels = np.array([3, 0, 5, 1, 2, 4] * 5)
    blocks = [(labels[i:i + 4], i) for i in range(0, len(labels), 4)]
    enc = OneHotEncoder(location=loc)
    assert enc.needs_scan
    with pytest.warns(LossctlNote):
        space = enc.fit(blocks)
    assert space == ClassSpace(6)
    chunks = list(enc.transform_blocks(blocks, max_cells=12))  # 2 rows of 6 classes per chunk
    assert all(len(c) <= 2 for c, _ in chunks)
    assert [s for _, s in chunks] == list(range(0, 30, 2))
    assert np.array_equal(np.vstack([c for c, _ in chunks]), np.eye(6, dtype=np.int64)[labels])


def test_scan_error_names_row():
    enc = OneHotEncoder(location=loc)
    enc.scan(np.array([0, 1]), 0)
    with pytest.raises(DataError, match="line 5: label 1.5"):
        enc.scan(np.array([2.0, 1.5]), 2)


def test_transform_before_fit_is_a_programming_error():
    with pytest.raises(RuntimeError):
        OneHotEncoder().transform(np.array([0]))


def test_class_space_column_names():
    assert ClassSpace(3, offset=1).column_names == ["1", "2", "3"]
    assert ClassSpace(2, names=("a", "b")).column_names == ["a", "b"]


# --- sparse ---------------------------------------------------------------------------------------


def test_sparse_strict_tolerance():
    x = np.array([[1e-7, 1 - 1e-7, 0.0]])
    assert sparse(x).tolist() == [1]


@pytest.mark.parametrize(
    "rows, match",
    [
        ([[0, 1, 0], [0, 0, 0]], r"line 3: the row is all zeros.*argmax=True"),
        ([[0, 1, 0], [1, 0, 1]], r"line 3: the row has 2 ones \(columns 1, 3\).*threshold=0.5"),
        ([[0, 1, 0], [0.2, 0.7, 0.1]], r"line 3: value 0.2 in column 1 is not 0 or 1.*argmax=True"),
        ([[0, 1, 0], [0, 2, -1]], r"line 3: value 2.0 in column 2 is not 0 or 1"),
        ([[0, 1, 0], [0, np.nan, 1]], r"line 3: value nan in column 2"),
    ],
)
def test_sparse_strict_errors(rows, match):
    with pytest.raises(DataError, match=match):
        sparse(np.array(rows, dtype=float), location=loc)


def test_sparse_text_input_error():
    with pytest.raises(DataError, match=r"line 3: value 'x' in column 2 is not a number"):
        sparse(np.array([["0", "1"], ["1", "x"]]), location=loc)
    assert sparse(np.array([["0", " 1"], ["1", "0"]])).tolist() == [1, 0]


def test_sparse_argmax_ties_noted():
    x = np.array([[0.2, 0.5, 0.3], [0.4, 0.4, 0.2], [0.0, 0.0, 0.0]])
    with pytest.warns(LossctlNote, match=r"2 rows had tied maxima.*first: line 3"):
        out = sparse(x, argmax=True, location=loc)
    assert out.tolist() == [1, 0, 0]


def test_sparse_argmax_nan_is_error():
    with pytest.raises(DataError, match="nan"):
        sparse(np.array([[0.1, np.nan]]), argmax=True)


def test_sparse_threshold_with_names_and_offset():
    x = np.array([[0.9, 0.2, 0.7], [0.1, 0.2, 0.3]])
    with pytest.warns(LossctlNote, match="1 row had no value above the threshold 0.5"):
        out = sparse(x, threshold=0.5, classes=["a", "b", "c"])
    assert out.tolist() == ["a;c", ""]
    assert sparse(x, threshold=0.25, offset=1).tolist() == ["1;3", "3"]


def test_sparse_threshold_is_exclusive():
    assert sparse(np.array([[0.5, 0.6]]), threshold=0.5).tolist() == ["1"]


def test_sparse_names_must_match_columns():
    with pytest.raises(ShapeError, match="2 class names for 3 columns"):
        sparse(np.eye(3), classes=["a", "b"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(argmax=True, threshold=0.5), "exclude each other"),
        (dict(classes=["a"], offset=1), "exclude each other"),
        (dict(threshold=float("nan")), "threshold"),
    ],
)
def test_sparse_usage_errors(kwargs, match):
    with pytest.raises(UsageError, match=match):
        SparseDecoder(**kwargs)


def test_sparse_blocks_and_empty():
    dec = SparseDecoder(offset=1)
    x = np.eye(4)[[3, 1, 0, 2]]
    parts = [dec.transform(x[:2], 0), dec.transform(x[2:], 2)]
    assert np.concatenate(parts).tolist() == [4, 2, 1, 3]
    assert sparse(np.empty((0, 3))).tolist() == []
    assert sparse(np.empty((0, 3)), argmax=True).tolist() == []


# --- properties -----------------------------------------------------------------------------------

_FAST = settings(
    max_examples=int(os.environ.get("LOSSCTL_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@_FAST
@given(
    labels=st.lists(st.integers(0, 40), min_size=1, max_size=60),
    extra=st.integers(0, 3),
    offset=st.integers(-3, 3),
    dtype=st.sampled_from(["int", "float"]),
    as_float=st.booleans(),
    explicit=st.booleans(),
    smooth=st.sampled_from([0.0, 0.0, 0.1, 0.5, 0.99]),
)
def test_property_onehot_then_sparse_is_identity_for_integers(labels, extra, offset, dtype,
                                                              as_float, explicit, smooth):
    y = np.asarray(labels, dtype=np.int64) + offset
    c = int(y.max()) - offset + 1 + extra
    inp = y.astype(np.float64) if as_float else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LossctlNote)
        oh = onehot(inp, c if explicit else None, offset=offset,
                    dtype="float" if smooth else dtype, smooth=smooth)
    assert oh.shape == (len(y), c if explicit else int(y.max()) - offset + 1)
    np.testing.assert_allclose(oh.sum(axis=1), 1.0)
    if smooth:  # smoothed targets are no longer one-hot: --argmax recovers the labels
        with pytest.raises(DataError) if oh.shape[1] > 1 else contextlib.nullcontext():
            sparse(oh, offset=offset)
        assert sparse(oh, offset=offset, argmax=True).tolist() == y.tolist()
    else:
        assert sparse(oh, offset=offset).tolist() == y.tolist()


# class names start with a letter: all-numeric strings are integer labels (tested above)
_names = st.builds(
    lambda a, b: a + b,
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZ"),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-.0123456789", max_size=5),
)


@_FAST
@given(data=st.data(), names=st.lists(_names, min_size=1, max_size=8, unique=True),
       explicit=st.booleans())
def test_property_onehot_then_sparse_is_identity_for_strings(data, names, explicit):
    labels = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=40))
    arr = np.asarray(labels, dtype=str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LossctlNote)
        if explicit:
            oh = onehot(arr, classes=names)
            back = sparse(oh, classes=names)
        else:
            enc = OneHotEncoder()
            space = enc.fit([(arr, 0)])
            oh = enc.transform(arr)
            back = sparse(oh, classes=space.names)
    assert back.tolist() == labels
    if not explicit:
        assert list(space.names) == sorted(set(labels))


@_FAST
@given(data=st.data(), c=st.integers(1, 8))
def test_property_multi_label_round_trip(data, c):
    rows = data.draw(st.lists(st.sets(st.integers(0, c - 1), max_size=c), min_size=1, max_size=30))
    cells = np.asarray([";".join(str(v) for v in sorted(r)) for r in rows], dtype=str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LossctlNote)
        mh = onehot(cells, c, multi_label=True)
        back = sparse(mh, threshold=0.5)
    assert back.tolist() == cells.tolist()


@_FAST
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
        elements=st.floats(0, 1, allow_nan=False, width=32),
    )
)
def test_property_argmax_matches_numpy(x):
    p = x / np.where(x.sum(axis=1, keepdims=True) > 0, x.sum(axis=1, keepdims=True), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LossctlNote)
        out = sparse(p, argmax=True)
    assert out.tolist() == np.argmax(p, axis=1).tolist()


# --- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arr, encoding, num_classes",
    [
        ([0, 2, 1, 2], "index", 3),
        ([[0], [3]], "index", 4),
        ([1, 2, 3, 1], "index_offset", 3),
        ([0, 1, 1], "binary", 2),
        ([-1, 1, 1], "signed", 2),
        ([[1, 0, 0], [0, 0, 1]], "onehot", 3),
        ([[1, 1, 0], [0, 0, 0]], "multihot", 3),
        ([[0.2, 0.8], [0.5, 0.5]], "soft", 2),
        ([[-1, 1], [1, -1]], "signed", 2),
        ([0.2, 0.7], "soft", None),
        ([1.5, 2.5], "real", None),
        ([-3, 2], "real", None),
        (np.array(["cat", "dog", "cat"]), "string", 2),
        (np.empty((0, 3)), "empty", None),
    ],
)
def test_describe_labels(arr, encoding, num_classes):
    info = describe_labels(np.asarray(arr))
    assert info.encoding == encoding, info.reason
    assert info.num_classes == num_classes
    json.dumps(dataclasses.asdict(info))  # JSON-able


def test_describe_labels_counts_and_offset():
    info = describe_labels(np.array([3, 1, 2, 1]))
    assert (info.offset, info.classes, info.counts) == (1, [1, 2, 3], [2, 1, 1])
    info = describe_labels(np.array([[1, 0], [1, 0], [0, 1]]))
    assert info.counts == [2, 1]
    info = describe_labels(np.array([0.0, np.nan, 2.0]))
    assert info.encoding == "index" and info.nan == 1
    info = describe_labels(np.array(["a;b", "b"]))
    assert info.classes == ["a", "b"] and info.counts == [1, 2]


@pytest.mark.parametrize(
    "arr, kind",
    [
        ([[0.2, 0.8], [0.5, 0.5]], "probabilities"),
        ([[0.2, 0.9], [0.5, 0.5]], "independent_probabilities"),
        ([0.1, 0.9], "independent_probabilities"),
        (np.log([[0.2, 0.8], [0.5, 0.5]]), "log_probabilities"),
        ([[-np.inf, 0.0], [np.log(0.5), np.log(0.5)]], "log_probabilities"),
        ([[2.0, -1.0], [0.3, 0.1]], "logits"),
        ([-2.0, 3.0], "logits"),
        ([[-2.0, -3.0]], "logits"),
        ([2.0, 30.0], "real"),
        (np.empty((0, 2)), "empty"),
    ],
)
def test_describe_predictions(arr, kind):
    info = describe_predictions(np.asarray(arr, dtype=float))
    assert info.kind == kind, info.reason
    json.dumps(dataclasses.asdict(info))


def test_describe_predictions_counts():
    x = np.array([[0.2, 0.8], [0.3, 0.3], [np.nan, 1.0], [np.inf, 0.0], [0.4, 0.6]])
    info = describe_predictions(x)
    assert (info.nan, info.posinf, info.neginf) == (1, 1, 0)
    assert info.rows_not_summing_to_one == 1 and info.first_row_not_summing_to_one == 1
    assert info.kind == "independent_probabilities"
    assert (info.min, info.max) == (0.0, 1.0)
