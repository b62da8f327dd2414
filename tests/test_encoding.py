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


# --- detection in blocks: the streamed description is the whole-array one -------------------------
# The whole-array detection as it was before it streamed (lossctl 0f873d4), kept verbatim as the
# reference: the streamed statistics must give exactly its results, however the rows are cut.
_REF_TOL = 1e-4


def _ref_describe_labels(arr) -> dict:
    from lossctl.labels import is_text

    a = np.asarray(arr)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    a = a.reshape(a.shape[0], -1) if a.ndim != 2 else a
    n, k = a.shape

    def info(encoding, num_classes=None, offset=0, classes=(), counts=(), nan=0, reason="",
             void=None):
        return {"encoding": encoding, "rows": n, "columns": k, "num_classes": num_classes,
                "offset": offset, "classes": list(classes), "counts": list(counts), "nan": nan,
                "reason": reason, "void": void}

    if a.dtype.kind == "b":
        a = a.astype(np.int64)
    if a.size == 0:
        return info("empty", reason="the array has no values")
    if is_text(a):
        toks: list[str] = []
        for cell in a.reshape(-1).tolist():
            toks.extend(split_multi_label(str(cell)))
        toks = [t for t in toks if t]
        uniq, counts = np.unique(np.asarray(toks, dtype=str), return_counts=True) if toks \
            else (np.empty(0, dtype=str), np.empty(0, dtype=np.int64))
        return info("string", num_classes=len(uniq), classes=uniq.tolist(),
                    counts=[int(c) for c in counts], reason=f"text labels: {len(uniq)} distinct values")
    x = a.astype(np.float64)
    nan_mask = np.isnan(x)
    nan = int(nan_mask.sum())
    xv = x[~nan_mask.any(axis=1)]
    if xv.size == 0:
        return info("empty", nan=nan, reason="every row has a NaN")
    finite = bool(np.isfinite(xv).all())
    integral = finite and bool((xv == np.floor(xv)).all())
    if k == 1:
        v = xv[:, 0]
        if integral:
            vals, counts = np.unique(v.astype(np.int64), return_counts=True)
            lo, hi = int(vals[0]), int(vals[-1])
            classes = [int(c) for c in vals]
            cnt = [int(c) for c in counts]
            # a void label: 255/65535 above a gap, or -100 (or -1 beside 3+ labels) below 0
            void, rest, tail = None, classes, ""
            if len(classes) >= 3 and classes[-1] in (255, 65535) and classes[-2] < classes[-1] - 1:
                void = classes[-1]
            elif len(classes) >= 3 and classes[1] >= 0 and (
                    classes[0] == -100 or (classes[0] == -1 and len(classes) >= 4)):
                void = classes[0]
            if void is not None:
                rest = [c for c in classes if c != void]
                lo, hi = rest[0], rest[-1]
                tail = f", and {void} apart from them (a label of rows or pixels to ignore?)"
            kw = {"classes": classes, "counts": cnt, "nan": nan, "void": void}
            if void is None and set(classes) <= {0, 1}:
                return info("binary", 2, reason="one column of 0/1 values", **kw)
            if void is None and set(classes) <= {-1, 1}:
                return info("signed", 2, reason="one column of -1/+1 values", **kw)
            if lo == 0:
                return info("index", hi + 1, reason=f"integers 0..{hi}" + tail, **kw)
            if lo >= 1 and (lo == 1 or len(rest) == hi - lo + 1):
                return info("index_offset", hi - lo + 1, offset=lo,
                            reason=f"integers {lo}..{hi}: labels start at {lo}" + tail, **kw)
            if lo > 1:
                return info("index", hi + 1, reason=f"integers {lo}..{hi} with gaps; "
                            f"classes 0..{lo - 1} absent" + tail, **kw)
            return info("real", nan=nan, reason=f"integers with negative values (down to {lo})")
        if finite and v.min() >= 0 and v.max() <= 1:
            return info("soft", nan=nan, reason="one column of values in [0, 1], not all 0/1 "
                        "(soft binary targets)")
        return info("real", nan=nan, reason="real values")
    if integral:
        uniq = set(np.unique(xv).tolist())
        if uniq <= {0.0, 1.0}:
            col_counts = [int(c) for c in xv.sum(axis=0)]
            sums = xv.sum(axis=1)
            if bool((sums == 1).all()):
                return info("onehot", k, classes=range(k), counts=col_counts, nan=nan,
                            reason="every row has exactly one 1")
            return info("multihot", k, classes=range(k), counts=col_counts, nan=nan,
                        reason=f"0/1 rows; {int((sums != 1).sum())} rows have no or several ones")
        if uniq <= {-1.0, 1.0}:
            return info("signed", k, classes=range(k),
                        counts=[int(c) for c in (xv == 1).sum(axis=0)], nan=nan,
                        reason="-1/+1 values in every column")
    if finite and xv.min() >= 0 and xv.max() <= 1:
        sums = xv.sum(axis=1)
        if bool((np.abs(sums - 1) <= _REF_TOL).all()):
            am = np.argmax(xv, axis=1)
            return info("soft", k, classes=range(k),
                        counts=[int(c) for c in np.bincount(am, minlength=k)], nan=nan,
                        reason="rows of values in [0, 1] summing to 1 (probability rows)")
        return info("real", nan=nan, reason="values in [0, 1] whose rows do not sum to 1")
    return info("real", nan=nan, reason="real values")


def _ref_describe_predictions(arr) -> dict:
    from lossctl.labels import is_text

    a = np.asarray(arr)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    a = a.reshape(a.shape[0], -1) if a.ndim != 2 else a
    n, k = a.shape
    info = {"kind": "empty", "rows": n, "columns": k, "min": None, "max": None, "nan": 0,
            "posinf": 0, "neginf": 0, "rows_not_summing_to_one": None,
            "first_row_not_summing_to_one": None, "reason": ""}
    if is_text(a):
        return {**info, "kind": "real", "reason": "text values; predictions must be numbers"}
    x = a.astype(np.float64)
    info.update(nan=int(np.isnan(x).sum()), posinf=int(np.isposinf(x).sum()),
                neginf=int(np.isneginf(x).sum()))
    fin = np.isfinite(x)
    if fin.any():
        info.update(min=float(x[fin].min()), max=float(x[fin].max()))
    if x.size == 0:
        return {**info, "reason": "the array has no values"}
    usable = ~(np.isnan(x) | np.isposinf(x)).any(axis=1)
    if k >= 2:
        rows_fin = fin.all(axis=1)
        s = x[rows_fin].sum(axis=1)
        off = np.abs(s - 1.0) > _REF_TOL
        info["rows_not_summing_to_one"] = int(off.sum())
        if off.any():
            info["first_row_not_summing_to_one"] = int(np.flatnonzero(rows_fin)[np.flatnonzero(off)[0]])
    xv = x[usable]
    if xv.size == 0:
        return {**info, "reason": "no row is free of NaN/+inf"}
    has_neginf = bool(np.isneginf(xv).any())
    if not has_neginf and xv.min() >= 0 and xv.max() <= 1:
        if k >= 2 and bool((np.abs(xv.sum(axis=1) - 1.0) <= _REF_TOL).all()):
            return {**info, "kind": "probabilities", "reason": "values in [0, 1], rows sum to 1"}
        return {**info, "kind": "independent_probabilities",
                "reason": "one column of values in [0, 1]" if k == 1
                else "values in [0, 1], rows do not all sum to 1"}
    if k >= 2 and xv.max() <= 0:
        m = xv.max(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lse = (m + np.log(np.exp(xv - m).sum(axis=1, keepdims=True)))[:, 0]
        if bool((np.abs(lse) <= _REF_TOL).all()):
            return {**info, "kind": "log_probabilities", "reason": "values <= 0, rows have logsumexp 0"}
    fv = xv[np.isfinite(xv)]
    if k >= 2:
        return {**info, "kind": "logits", "reason": "scores outside [0, 1] in several columns"}
    if fv.size and fv.min() < 0 < fv.max():
        return {**info, "kind": "logits", "reason": "one column with negative and positive scores"}
    return {**info, "kind": "real", "reason": "one column of values outside [0, 1] of one sign"}


_SPECIAL = [0.0, 1.0, -1.0, 2.0, 0.5, 0.25, -0.0, 3.0, np.nan, np.inf, -np.inf]
_WORDS = ["a", "b;c", "", "d e", "3", " a ", "cat", "b"]


@st.composite
def _label_arrays(draw):
    n, k = draw(st.integers(0, 25)), draw(st.integers(1, 4))
    family = draw(st.sampled_from(["int", "special", "onehot", "soft", "signed", "text", "bool"]))
    if family == "int":
        return draw(hnp.arrays(np.int64, (n, k), elements=st.integers(-2, 6)))
    if family == "special":
        return draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from(_SPECIAL)))
    if family == "text":
        return draw(hnp.arrays("<U5", (n, k), elements=st.sampled_from(_WORDS)))
    if family == "bool":
        return draw(hnp.arrays(np.bool_, (n, k)))
    if family == "signed":
        return draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from([-1.0, 1.0])))
    idx = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    if family == "onehot":
        a = np.eye(k)[idx]
    else:
        w = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0.01, 10)))
        a = w / w.sum(axis=1, keepdims=True) if n else w
    if n and draw(st.booleans()):  # a cell spoiled: NaN, a fraction, a 2, ...
        a = a.copy()
        a[draw(st.integers(0, n - 1)), draw(st.integers(0, k - 1))] = draw(st.sampled_from(_SPECIAL))
    return a


@st.composite
def _pred_arrays(draw):
    n, k = draw(st.integers(0, 25)), draw(st.integers(1, 4))
    family = draw(st.sampled_from(["probs", "logp", "floats", "special", "unit"]))
    if family in ("probs", "logp"):
        w = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0.001, 10)))
        a = w / w.sum(axis=1, keepdims=True) if n else w
        a = np.log(a) if family == "logp" else a
    elif family == "floats":
        a = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(-50, 50)))
    elif family == "unit":
        a = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0, 1)))
    else:
        a = draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from(_SPECIAL)))
    if n and draw(st.booleans()):
        a = a.copy()
        a[draw(st.integers(0, n - 1)), draw(st.integers(0, k - 1))] = draw(st.sampled_from(_SPECIAL))
    return a


def _cut(draw, a: np.ndarray) -> list[np.ndarray]:
    """The rows of ``a`` in blocks cut at random places (empty blocks included)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(a)), max_size=5)))
    return np.split(a, cuts) if len(a) else [a]


def _streamed(stats, blocks):
    for b in blocks:
        stats.feed(b)
    return dataclasses.asdict(stats.info())


_PROPERTY = settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY
@given(st.data())
def test_property_streamed_labels_equal_the_whole_array_description(data):
    from lossctl.detection import LabelStats

    a = data.draw(_label_arrays())
    blocks = _cut(data.draw, a)
    got = _streamed(LabelStats(), blocks)
    assert got == dataclasses.asdict(describe_labels(a))
    assert got.pop("classes_truncated") is False
    assert got == _ref_describe_labels(a)


@_PROPERTY
@given(st.data())
def test_property_streamed_predictions_equal_the_whole_array_description(data):
    from lossctl.detection import PredStats

    a = data.draw(_pred_arrays())
    blocks = _cut(data.draw, a)
    got = _streamed(PredStats(), blocks)
    assert got == dataclasses.asdict(describe_predictions(a)) == _ref_describe_predictions(a)


@_PROPERTY
@given(st.data())
def test_property_blocks_of_mixed_dtypes_are_described_as_joined(data):
    """A reader decides the dtype per block: a text block among numeric ones makes the joined
    column text (io.source.concat); the description of the stream is that of the join, with a
    second pass when text comes after numbers, and says so when there can be none."""
    from lossctl.detection import describe_label_stream
    from lossctl.io.source import concat

    k = data.draw(st.integers(1, 2))
    kinds = data.draw(st.lists(st.sampled_from(["int", "float", "text"]), min_size=1, max_size=4))
    blocks = []
    for kind in kinds:
        n = data.draw(st.integers(1, 5))
        if kind == "int":
            blocks.append(data.draw(hnp.arrays(np.int64, (n, k), elements=st.integers(-2, 4))))
        elif kind == "float":
            blocks.append(data.draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from(_SPECIAL))))
        else:
            blocks.append(data.draw(hnp.arrays("<U4", (n, k), elements=st.sampled_from(_WORDS))))
    got = dataclasses.asdict(describe_label_stream(lambda: iter(blocks)))
    assert got.pop("classes_truncated") is False
    assert got == _ref_describe_labels(concat(blocks))
    once = describe_label_stream(lambda: iter(blocks), again=False)
    first_text = kinds.index("text") if "text" in kinds else None
    if first_text:  # numeric rows before it: not counted without a second pass
        skipped = sum(len(b) for b in blocks[:first_text])
        assert once.classes_truncated and once.num_classes is None
        assert f"the first {skipped} rows were read as numbers and are not counted" in once.reason
    else:
        assert dataclasses.asdict(once) == {**got, "classes_truncated": False}


@_PROPERTY
@given(st.data())
def test_property_distinct_labels_are_capped_whatever_the_blocks(data):
    """More distinct labels than kept: the smallest are kept with their exact counts, the
    description says so, and the cut does not depend on the blocks."""
    from lossctl.detection import LabelStats, describe_label_stream

    cap = data.draw(st.integers(1, 4))
    text = data.draw(st.booleans())
    if text:
        a = data.draw(hnp.arrays("<U3", data.draw(st.integers(1, 30)),
                                 elements=st.text("abcd", min_size=1, max_size=3)))
    else:
        a = data.draw(hnp.arrays(np.int64, data.draw(st.integers(1, 30)), elements=st.integers(0, 9)))
    blocks = _cut(data.draw, a)
    whole = describe_label_stream(lambda: iter([a]), max_classes=cap)
    got = describe_label_stream(lambda: iter(blocks), max_classes=cap)
    assert got == whole
    vals, counts = np.unique(a, return_counts=True)
    assert got.classes_truncated == (len(vals) > cap)
    assert got.classes == vals.tolist()[:cap] and got.counts == counts.tolist()[:cap]
    if got.classes_truncated:
        assert f"more than {cap} distinct values" in got.reason
    else:
        assert dataclasses.asdict(got) == dataclasses.asdict(describe_labels(a))
    if text:  # the bound on the characters kept cuts the same way
        chars = data.draw(st.integers(1, 8))
        cut = [LabelStats(max_chars=chars), LabelStats(max_chars=chars)]
        assert _streamed(cut[0], [a]) == _streamed(cut[1], blocks)
        kept = cut[0].info().classes
        assert sum(map(len, kept)) <= chars and kept == vals.tolist()[:len(kept)]


def test_integer_labels_beyond_the_cap_keep_their_range():
    """A column of many distinct whole numbers: the range, the classes implied and the
    smallest values are exact; inspect notes that so many values are rarely classes."""
    from lossctl.detection import MAX_CLASSES
    from lossctl.inspection import Invocation, inspect_arrays

    y = np.arange(1, MAX_CLASSES + 11)[::-1]
    info = describe_labels(y)
    assert (info.encoding, info.offset, info.num_classes) == ("index_offset", 1, MAX_CLASSES + 10)
    assert info.classes_truncated and len(info.classes) == MAX_CLASSES
    assert info.classes[:3] == [1, 2, 3] and set(info.counts) == {1}
    assert f"more than {MAX_CLASSES} distinct values" in info.reason
    ins = inspect_arrays(y, None, Invocation("y.csv"))
    assert any("rarely class labels" in n for n in ins.notes) and ins.imbalance is None
    ins = inspect_arrays(y, y + 0.5, Invocation("y.csv", "p.csv"))
    assert ins.recommendations[0].loss == "mean_squared_error"  # one column: regression


# --- rows wider than a block: one-hot rows and decoding in column pieces -------------------------


def _run_noted(fn):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try:
            out = ("ok", fn())
        except (DataError, ShapeError, UsageError) as e:
            out = ("error", str(e))
    return out, [str(r.message) for r in rec]


@pytest.mark.parametrize("seed", range(40))
def test_transform_rows_in_pieces_equals_transform(seed):
    rng = np.random.default_rng(seed)
    c = int(rng.integers(1, 12))
    multi = bool(rng.random() < 0.4)
    kw = {"multi_label": multi, "smooth": float(rng.choice([0.0, 0.1])),
          "dtype": str(rng.choice(["int", "float"])), "offset": int(rng.integers(0, 2))}
    if multi:
        labels = np.array([";".join(str(v) for v in rng.integers(kw["offset"], c + kw["offset"],
                                                               rng.integers(0, 3)))
                           for _ in range(5)])
    else:
        labels = rng.integers(kw["offset"], c + kw["offset"], 5)
        if rng.random() < 0.2:
            labels[2] = c + kw["offset"]  # out of range: the same error either way
    blocks = [(labels[:3], 0), (labels[3:], 3)]
    width = int(rng.integers(1, c + 1))

    def whole():
        enc = OneHotEncoder(c, **kw)
        return np.concatenate([ch for ch, _ in enc.transform_blocks(blocks)]).tolist()

    def pieces():
        enc = OneHotEncoder(c, **kw)
        rows = []
        for row, ps in enc.transform_rows(blocks, max_cells=width):
            parts = list(ps)
            assert all(len(p) <= width for p in parts) and len(rows) == row
            rows.append(np.concatenate(parts).tolist())
        return rows

    assert _run_noted(pieces) == _run_noted(whole)


def test_transform_rows_never_holds_a_row():
    enc = OneHotEncoder(10**9)  # a row would be 8 GB
    (row, ps), = list(enc.transform_rows([(np.array([[999_999_999]]), 0)], max_cells=1 << 16))
    first = next(ps)
    assert row == 0 and first.shape == (1 << 16,) and first.sum() == 0
    last = None
    for last in ps:  # run through the row, one piece at a time
        pass
    assert last[-1] == 1 and last.sum() == 1


def test_many_classes_are_numbered_lazily():
    names = ClassSpace(10**8, offset=1).column_names
    assert len(names) == 10**8 and names[0] == "1" and names[-1] == str(10**8)
    assert ClassSpace(5000).column_names == [str(j) for j in range(5000)]


def _row_pieces(x: np.ndarray, width: int):
    from lossctl.io.source import Piece

    n, k = x.shape
    for i in range(n):
        for c in range(0, k, width):
            yield Piece(x[i:i + 1, c:c + width], i, c, c + width >= k)


@pytest.mark.parametrize("seed", range(60))
def test_sparse_in_column_pieces_equals_whole_rows(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 4)), int(rng.integers(1, 9))
    mode = ("strict", "argmax", "threshold")[seed % 3]
    if mode == "strict":
        x = np.zeros((n, k))
        x[np.arange(n), rng.integers(0, k, n)] = 1
        for _ in range(int(rng.integers(0, 3))):
            x[rng.integers(0, n), rng.integers(0, k)] = rng.choice([0, 1, 0.5, np.nan, 1 + 1e-9])
    else:
        x = rng.choice([0, 0.1, 0.5, 0.9, 1, -np.inf], size=(n, k))
        if rng.random() < 0.15:
            x[rng.integers(0, n), rng.integers(0, k)] = np.nan
    kw = {"argmax": mode == "argmax", "threshold": 0.5 if mode == "threshold" else None}
    r = rng.random()
    if r < 0.3:
        kw["classes"] = [f"c{j}" for j in range(k)]
    elif r < 0.5:
        kw["classes"] = [str(j + 1) for j in range(k)]  # integer names: int64 labels
    elif r < 0.6:
        kw["offset"] = 3
    elif r < 0.65:
        kw["classes"] = ["a"] * (k + 1)  # a wrong count: the same ShapeError
    width = int(rng.integers(1, k + 1))

    def run(pieces: bool):
        def go():
            dec = SparseDecoder(location=loc, **kw)
            if pieces:
                out = list(dec.transform_pieces(_row_pieces(x, width), width=k))
            else:
                out = [dec.transform(x[i:i + 1], i) for i in range(n)]
            dec.finish()
            return [(o.tolist(), o.dtype.kind) for o in out]
        return _run_noted(go)

    assert run(True) == run(False)


def test_sparse_threshold_with_integer_class_names():
    """Header names 0,1,2 are integer labels; the threshold mode joins them as text (this was a
    TypeError: ';'.join of ints)."""
    out = sparse([[0.9, 0.1, 0.8]], threshold=0.5, classes=["0", "1", "2"])
    assert out.tolist() == ["0;2"]


def test_digit_grouping_is_not_a_number():
    """Python's int() and float() read 1_000 as 1000; the text engines do not: the label is
    the string '1_000' (noted with its column), never 1001 inferred classes."""
    with pytest.warns(LossctlNote, match=r"0=0, 1_000=1, 2=2"):
        out = onehot(np.array(["0", "1_000", "2"]))
    assert out.shape == (3, 3)
