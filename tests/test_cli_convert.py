"""`lossctl onehot` and `lossctl sparse` end to end (typer CliRunner).

Every error case checks the exit status, that the message names the file, the line (text,
1-based, header included) or row (NPY/Parquet, 0-based) and the fix, that no traceback leaks,
and that ``-o`` leaves no file behind.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq
from pyarrow import feather


def rows(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.splitlines()]


def matrix(text: str) -> np.ndarray:
    return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)


def assert_user_error(res, *fragments: str, code: int = 1) -> str:
    """One clean error line with every fragment, the right status, no traceback, no data."""
    assert res.exit_code == code, (res.exit_code, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("lossctl: error: ")]
    assert len(errors) == 1, res.stderr
    for frag in fragments:
        assert frag in errors[0], (frag, errors[0])
    return errors[0]


def no_files_but(tmp_path, *names: str) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


# --- onehot: the seed examples and options ------------------------------------------------------


def test_seed_example(invoke, write_text):
    path = write_text("seed.csv", "1\n2\n")
    res = invoke("onehot", path, "-n", "3")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "0,1,0\n0,0,1\n"
    assert res.stderr == ""
    back = invoke("sparse", "-", input=res.stdout)
    assert back.exit_code == 0, back.stderr
    assert back.stdout == "1\n2\n"


def test_labels_1_to_10_with_offset(invoke, write_text):
    path = write_text("labels.txt", "".join(f"{i}\n" for i in range(1, 11)))
    res = invoke("onehot", path, "--offset", "1")
    assert res.exit_code == 0, res.stderr
    assert np.array_equal(matrix(res.stdout), np.eye(10))
    assert "lossctl: note: inferred 10 classes from the largest label 10" in res.stderr


def test_stdin_is_the_default_input(invoke):
    res = invoke("onehot", "-n", "3", input="0\n2\n")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "1,0,0\n0,0,1\n"


def test_inferred_num_classes_note_and_quiet(invoke, labels_csv):
    res = invoke("onehot", labels_csv)
    assert res.exit_code == 0
    assert rows(res.stdout)[:3] == [["1", "0", "0"], ["0", "1", "0"], ["0", "0", "1"]]
    assert res.stderr.startswith("lossctl: note: inferred 3 classes")
    assert invoke("onehot", labels_csv, "-q").stderr == ""
    assert invoke("onehot", labels_csv, "--no-warn").stderr == ""


def test_inferred_from_1_based_labels_suggests_offset(invoke, write_text):
    res = invoke("onehot", write_text("l.csv", "1\n2\n3\n"))
    assert res.exit_code == 0
    assert "use --offset 1" in res.stderr
    assert len(rows(res.stdout)[0]) == 4


def test_header_names_the_classes(invoke, labels_csv):
    res = invoke("onehot", labels_csv, "--header", "-q")
    assert res.stdout.splitlines()[0] == "0,1,2"
    res = invoke("onehot", "--offset", "1", "--header", input="1\n3\n")
    assert res.stdout.splitlines() == ["1,2,3", "1,0,0", "0,0,1"]


def test_dtype_float_and_smooth(invoke, labels_csv):
    res = invoke("onehot", labels_csv, "--dtype", "float", "-q")
    assert res.stdout.splitlines()[0] == "1.0,0.0,0.0"
    res = invoke("onehot", labels_csv, "--smooth", "0.3", "-q")
    first = [float(v) for v in res.stdout.splitlines()[0].split(",")]
    assert first == pytest.approx([0.8, 0.1, 0.1])


def test_string_labels_sorted_and_reported(invoke, write_text):
    path = write_text("pets.csv", "id,species\n1,dog\n2,cat\n3,fish\n4,cat\n")
    res = invoke("onehot", path, "--cols", "species", "--header")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines() == ["cat,dog,fish", "0,1,0", "1,0,0", "0,0,1", "1,0,0"]
    assert "cat=0, dog=1, fish=2" in res.stderr


def test_classes_fix_the_order_and_mapping_file(invoke, write_text, tmp_path):
    path = write_text("pets.csv", "species\ndog\ncat\n")
    mapping = tmp_path / "classes.csv"
    res = invoke("onehot", path, "--classes", "fish,dog,cat", "--mapping", mapping,
                 "--input-header")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "0,1,0\n0,0,1\n"
    assert mapping.read_text() == "class,column\nfish,0\ndog,1\ncat,2\n"


def test_short_string_file_header_hint(invoke, write_text):
    # 'species/dog/cat' is too short to tell a header from a label: line 1 is read as data
    path = write_text("pets.csv", "species\ndog\ncat\n")
    res = invoke("onehot", path, "--classes", "dog,cat")
    assert_user_error(res, "pets.csv, line 1: label 'species' is not one of the 2 classes",
                      "add --input-header")
    res = invoke("onehot", path, "--classes", "dog,cat", "--input-header")
    assert res.exit_code == 0 and res.stdout == "1,0\n0,1\n"
    res = invoke("onehot", path, "--classes", "dog,cat", "--no-input-header")
    assert_user_error(res, "line 1: label 'species'")
    assert "--input-header" not in res.stderr


def test_mapping_replaces_the_note(invoke, write_text, tmp_path):
    path = write_text("pets.csv", "species\ndog\ncat\ndog\n")
    mapping = tmp_path / "m.csv"
    res = invoke("onehot", path, "--mapping", mapping)
    assert res.exit_code == 0
    assert "cat=0" not in res.stderr
    assert mapping.read_text() == "class,column\ncat,0\ndog,1\n"
    assert res.stdout == "0,1\n1,0\n0,1\n"


def test_multi_label_string_cells(invoke, write_text):
    path = write_text("tags.csv", "tags\ncat;dog\nfish\ndog cat\nfish\n")
    res = invoke("onehot", path, "--multi-label", "--header")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "cat,dog,fish\n1,1,0\n0,0,1\n1,1,0\n0,0,1\n"
    back = invoke("sparse", "--threshold", "0.5", "--input-header", input=res.stdout)
    assert back.stdout.splitlines() == ["cat;dog", "fish", "cat;dog", "fish"]


def test_multi_label_integer_cells_from_parquet(invoke, tmp_path):
    pq.write_table(pa.table({"tags": ["0;2", "1", "2 0"]}), tmp_path / "t.parquet")
    res = invoke("onehot", tmp_path / "t.parquet", "--multi-label", "-n", "3")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "1,0,1\n0,1,0\n1,0,1\n"


def test_multi_label_integer_cells(invoke, write_text):
    path = write_text("tags.csv", "tags\n0;2\n1\n2 0\n")
    res = invoke("onehot", path, "--multi-label", "-n", "3")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "1,0,1\n0,1,0\n1,0,1\n"
    back = invoke("sparse", "--threshold", "0.5", input=res.stdout)
    assert back.stdout.splitlines() == ["0;2", "1", "0;2"]


def test_multi_label_columns(invoke, write_text):
    path = write_text("tags.csv", "a,b\ncat,dog\nfish,\ndog,cat\n")
    res = invoke("onehot", path, "--multi-label", "--classes", "cat,dog,fish", "--input-header")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "1,1,0\n0,0,1\n1,1,0\n"
    path = write_text("tags2.csv", "a,b\n0,1\n2,\n1,0\n")  # numeric columns, empty = NaN
    res = invoke("onehot", path, "--multi-label", "-n", "3")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "1,1,0\n0,0,1\n1,1,0\n"


def test_cols_selects_the_label_column(invoke, write_text):
    path = write_text("data.csv", "id,label,p0,p1\n7,1,0.2,0.8\n8,0,0.9,0.1\n")
    res = invoke("onehot", path, "--cols", "label", "-n", "2")
    assert res.stdout == "0,1\n1,0\n"
    res = invoke("onehot", path, "--cols", "2", "-n", "2")
    assert res.stdout == "0,1\n1,0\n"


@pytest.mark.parametrize(
    "fmt, check",
    [
        ("tsv", lambda out: out == "0\t1\t0\n0\t0\t1\n"),
        ("jsonl", lambda out: [json.loads(l) for l in out.splitlines()]
         == [{"0": 0, "1": 1, "2": 0}, {"0": 0, "1": 0, "2": 1}]),
        ("json", lambda out: json.loads(out)
         == [{"0": 0, "1": 1, "2": 0}, {"0": 0, "1": 0, "2": 1}]),
        ("table", lambda out: "0" in out and "1" in out and len(out.splitlines()) >= 4),
    ],
)
def test_output_formats(invoke, fmt, check):
    res = invoke("onehot", "-n", "3", "-f", fmt, input="1\n2\n")
    assert res.exit_code == 0, res.stderr
    assert check(res.stdout), res.stdout


def test_output_file_npy_by_extension(invoke, labels_csv, tmp_path):
    out = tmp_path / "y.npy"
    res = invoke("onehot", labels_csv, "-o", out, "-q")
    assert res.exit_code == 0 and res.stdout == ""
    arr = np.load(out, allow_pickle=False)
    assert arr.dtype == np.int64
    assert np.array_equal(arr, np.eye(3, dtype=np.int64)[[0, 1, 2, 1, 0, 2]])


def test_output_refuses_the_input(invoke, labels_csv):
    before = labels_csv.read_bytes()
    res = invoke("onehot", labels_csv, "-o", labels_csv)
    assert_user_error(res, "same file as the input")
    assert labels_csv.read_bytes() == before


# --- onehot: input formats ------------------------------------------------------------------------


def expected(labels, c):
    return np.eye(c, dtype=np.int64)[labels]


def test_tsv_input(invoke, write_text):
    res = invoke("onehot", write_text("l.tsv", "id\tlabel\n1\t2\n2\t0\n"), "--cols", "label",
                 "-n", "3")
    assert res.stdout == "0,0,1\n1,0,0\n"


@pytest.mark.parametrize("shape", [(4,), (4, 1)])
def test_npy_input(invoke, tmp_path, shape):
    path = tmp_path / "y.npy"
    np.save(path, np.array([2, 0, 1, 2]).reshape(shape))
    res = invoke("onehot", path, "-n", "3")
    assert res.exit_code == 0, res.stderr
    assert np.array_equal(matrix(res.stdout), expected([2, 0, 1, 2], 3))


def test_npz_input_with_key(invoke, tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, y=np.array([1, 0]), x=np.zeros((2, 5)))
    res = invoke("onehot", f"{path}:y", "-n", "2")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "0,1\n1,0\n"


def test_parquet_and_feather_input(invoke, tmp_path):
    table = pa.table({"id": [10, 11, 12], "label": ["cat", "dog", "cat"]})
    pq.write_table(table, tmp_path / "d.parquet")
    feather.write_feather(table, tmp_path / "d.feather")
    for name in ("d.parquet", "d.feather"):
        res = invoke("onehot", tmp_path / name, "--cols", "label", "-q")
        assert res.exit_code == 0, res.stderr
        assert res.stdout == "1,0\n0,1\n1,0\n"


def test_npy_on_stdin(invoke):
    buf = io.BytesIO()
    np.save(buf, np.array([0, 3, 1]))
    res = invoke("onehot", "-", input=buf.getvalue())
    assert res.exit_code == 0, res.stderr
    assert np.array_equal(matrix(res.stdout), expected([0, 3, 1], 4))


def test_stdin_inference_keeps_the_labels(invoke):
    text = "".join(f"{i % 7}\n" for i in range(5000))
    res = invoke("onehot", input=text)
    assert res.exit_code == 0, res.stderr
    out = matrix(res.stdout)
    assert out.shape == (5000, 7)
    assert np.array_equal(out.argmax(axis=1), np.arange(5000) % 7)


# --- onehot: errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, args, fragments",
    [
        ("label\n0\n1\n3\n", ["-n", "3"],
         ["l.csv, line 4: label 3 is out of range [0, 3)", "--offset 1"]),
        ("label\n0\n9\n", ["-n", "3"], ["line 3: label 9 is out of range", "-n 10"]),
        ("label\n0\n-1\n", [], ["l.csv, line 3: label -1 is negative"]),
        ("label\n1\n0\n", ["--offset", "1"], ["line 3: label 0 is below --offset 1"]),
        ("label\n1\n2.5\n", [], ["l.csv, line 3: label 2.5 is not an integer", "--argmax"]),
        ("id,label\n1,0\n2,\n", ["--cols", "label"], ["l.csv, line 3: missing label",
                                                       "Fill in the label"]),
        ("label\n1\nnan\n", [], ["l.csv, line 3: missing label"]),
        ("label\n1\n1e20\n", [], ["line 3: label 1e+20 is too large"]),
        ("label\ncat\nbird\n", ["--classes", "cat,dog"],
         ["l.csv, line 3: label 'bird' is not one of the 2 classes", "--classes"]),
        ("label\n0\ncat\n0\n", ["-n", "3"], ["line 3: label 'cat' is not an integer",
                                               "--classes"]),
        ("label\n", [], ["has no data rows", "--no-input-header"]),
        ("a,b\n0,1\n", [], ["one label column, the input has 2", "--cols"]),
    ],
)
def test_onehot_errors(invoke, write_text, tmp_path, text, args, fragments):
    path = write_text("l.csv", text)
    out = tmp_path / "out.csv"
    res = invoke("onehot", path, *args, "-o", out)
    assert_user_error(res, *fragments)
    no_files_but(tmp_path, "l.csv")
    res = invoke("onehot", path, *args)  # the same to stdout: the same message
    assert_user_error(res, *fragments)


def test_npy_error_names_row_index(invoke, tmp_path):
    path = tmp_path / "y.npy"
    np.save(path, np.array([0.0, 1.0, 1.5]))
    res = invoke("onehot", path, "-o", tmp_path / "o.csv")
    assert_user_error(res, "y.npy, row 2: label 1.5 is not an integer")
    no_files_but(tmp_path, "y.npy")


def test_stdin_error_names_stdin(invoke):
    res = invoke("onehot", "-n", "2", input="0\n5\n")
    assert_user_error(res, "<stdin>, line 2: label 5 is out of range")


def test_missing_file(invoke, tmp_path):
    res = invoke("onehot", tmp_path / "nope.csv")
    assert_user_error(res, "nope.csv")


@pytest.mark.parametrize(
    "args",
    [
        ["--smooth", "0.1", "--dtype", "int"],
        ["--classes", "a,b", "--offset", "1"],
        ["--classes", "a,b", "-n", "3"],
        ["-n", "0"],
        ["--smooth", "2"],
        ["--argmax"],
        ["--dtype", "bool"],
    ],
)
def test_onehot_usage_errors(invoke, labels_csv, tmp_path, args):
    res = invoke("onehot", labels_csv, *args, "-o", tmp_path / "o.csv")
    assert res.exit_code == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "o.csv").exists()


def test_mapping_and_output_clash(invoke, labels_csv, tmp_path):
    out = tmp_path / "o.csv"
    res = invoke("onehot", labels_csv, "-o", out, "--mapping", out)
    assert_user_error(res, "--mapping and -o", code=2)
    assert not out.exists()


def test_mapping_to_stdout_refused(invoke, labels_csv):
    res = invoke("onehot", labels_csv, "--mapping", "-")
    assert_user_error(res, "--mapping needs a file name", code=2)
    assert res.stdout == ""


def test_strict_has_nothing_to_refuse_in_clean_data(invoke, labels_csv):
    res = invoke("onehot", labels_csv, "--strict", "-n", "3")
    assert res.exit_code == 0 and res.stderr == ""


# --- sparse ---------------------------------------------------------------------------------------


def test_sparse_basic_offset_and_classes(invoke, write_text):
    path = write_text("oh.csv", "0,1,0\n0,0,1\n1,0,0\n")
    assert invoke("sparse", path).stdout == "1\n2\n0\n"
    assert invoke("sparse", path, "--offset", "1").stdout == "2\n3\n1\n"
    assert invoke("sparse", path, "--classes", "a,b,c").stdout == "b\nc\na\n"
    res = invoke("sparse", path, "--header")
    assert res.stdout == "label\n1\n2\n0\n"


def test_sparse_header_names(invoke, write_text):
    path = write_text("oh.csv", "cat,dog\n0,1\n1,0\n")
    res = invoke("sparse", path)
    assert res.stdout == "dog\ncat\n"
    assert "header names (cat, dog)" in res.stderr
    assert invoke("sparse", path, "--numbers").stdout == "1\n0\n"
    assert invoke("sparse", path, "--offset", "1").stdout == "2\n1\n"


def test_sparse_json(invoke):
    res = invoke("sparse", "-f", "json", input="0,1\n1,0\n")
    assert json.loads(res.stdout) == [{"label": 1}, {"label": 0}]


def test_sparse_argmax_and_ties(invoke, write_text):
    path = write_text("p.csv", "p0,p1,p2\n0.1,0.7,0.2\n0.4,0.4,0.2\n")
    res = invoke("sparse", path, "--argmax", "--numbers")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "1\n0\n"
    assert "lossctl: note: 1 row had tied maxima, resolved to the lowest column (first: line 3)" \
        in res.stderr


def test_sparse_threshold(invoke):
    res = invoke("sparse", "--threshold", "0.5", "--classes", "a,b,c", "--header",
                 input="0.9,0.1,0.8\n0.2,0.6,0.1\n")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "labels\na;c\nb\n"


def test_sparse_npy_output(invoke, tmp_path):
    out = tmp_path / "y.npy"
    res = invoke("sparse", "-o", out, input="0,1\n1,0\n")
    assert res.exit_code == 0, res.stderr
    assert np.load(out).reshape(-1).tolist() == [1, 0]


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("0,1,0\n0,0,0\n", ["oh.csv, line 2: the row is all zeros", "--argmax"]),
        ("0,1,0\n1,0,1\n", ["oh.csv, line 2: the row has 2 ones", "--threshold"]),
        ("0,1,0\n0.2,0.5,0.3\n", ["oh.csv, line 2: value 0.2 in column 1 is not 0 or 1",
                                  "--argmax"]),
        ("0,1,0\n0,nan,1\n", ["oh.csv, line 2: value nan in column 2"]),
    ],
)
def test_sparse_errors(invoke, write_text, tmp_path, text, fragments):
    path = write_text("oh.csv", text)
    res = invoke("sparse", path, "-o", tmp_path / "labels.csv")
    assert_user_error(res, *fragments)
    no_files_but(tmp_path, "oh.csv")


def test_sparse_npy_error_row(invoke, tmp_path):
    path = tmp_path / "oh.npy"
    np.save(path, np.array([[0, 1], [1, 1]]))
    assert_user_error(invoke("sparse", path), "oh.npy, row 1: the row has 2 ones")


def test_sparse_usage_errors(invoke):
    res = invoke("sparse", "--argmax", "--threshold", "0.5", input="0,1\n")
    assert_user_error(res, "exclude each other", code=2)
    res = invoke("sparse", "--classes", "a,b", "--numbers", input="0,1\n")
    assert res.exit_code == 2


def test_sparse_class_count_mismatch(invoke):
    res = invoke("sparse", "--classes", "a,b,c", input="0,1\n")
    assert_user_error(res, "3 class names for 2 columns")


# --- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels, onehot_args, sparse_args",
    [
        ("0\n2\n1\n1\n", [], []),
        ("1\n10\n3\n", ["--offset", "1"], ["--offset", "1"]),
        # a numeric header is not auto-detected: --input-header; its names 1..10 come back
        ("1\n10\n3\n", ["--offset", "1", "--header"], ["--input-header"]),
        ("dog\ncat\nfish\n", ["--classes", "dog,cat,fish"], ["--classes", "dog,cat,fish"]),
        ("dog\ncat\nfish\n", ["--header"], []),
        ("1\n2\n", ["-n", "3"], []),
    ],
)
def test_round_trip_csv(invoke, write_text, labels, onehot_args, sparse_args):
    path = write_text("labels.csv", labels)
    one = invoke("onehot", path, *onehot_args)
    assert one.exit_code == 0, one.stderr
    back = invoke("sparse", *sparse_args, input=one.stdout)
    assert back.exit_code == 0, back.stderr
    assert back.stdout == labels


@pytest.mark.parametrize("offset", [0, 1])
def test_round_trip_with_npy_in_the_middle(invoke, write_text, offset):
    labels = "".join(f"{(i * 7) % 10 + offset}\n" for i in range(50))
    path = write_text("labels.csv", labels)
    one = invoke("onehot", path, "-f", "npy", "--offset", offset, "-q")
    assert one.exit_code == 0, one.stderr
    assert one.stdout_bytes.startswith(b"\x93NUMPY")
    back = invoke("sparse", "-", "--offset", offset, input=one.stdout_bytes)
    assert back.exit_code == 0, back.stderr
    assert back.stdout == labels


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(labels=st.lists(st.integers(0, 12), min_size=1, max_size=40), offset=st.integers(-2, 2),
       fmt=st.sampled_from(["csv", "tsv", "npy"]), header=st.booleans())
def test_property_cli_round_trip(invoke, labels, offset, fmt, header):
    text = "".join(f"{v + offset}\n" for v in labels)
    args = ["onehot", "-", "--offset", offset, "-f", fmt, "-q"] + (["--header"] if header else [])
    one = invoke(*args, input=text)
    assert one.exit_code == 0, one.stderr
    back = invoke("sparse", "-", "--offset", offset, "--input-header" if header and fmt != "npy"
                  else "--no-input-header", input=one.stdout_bytes)
    assert back.exit_code == 0, back.stderr
    assert back.stdout == text


def test_multi_label_without_any_label_cannot_infer(invoke, tmp_path):
    pq.write_table(pa.table({"tags": ["", " "]}), tmp_path / "t.parquet")
    res = invoke("onehot", tmp_path / "t.parquet", "--multi-label", "-o", tmp_path / "o.csv")
    assert_user_error(res, "no labels in the input", "-n/--num-classes")
    no_files_but(tmp_path, "t.parquet")


# --- --memory-limit, rows wider than a block, 1-D labels ------------------------------------------


def test_sparse_npy_output_is_one_dimensional(invoke, tmp_path):
    out = tmp_path / "y.npy"
    res = invoke("sparse", "-f", "npy", "-o", out, input="0,1,0\n1,0,0\n0,0,1\n")
    assert res.exit_code == 0, res.stderr
    y = np.load(out)
    assert y.shape == (3,) and y.dtype == np.int64 and y.tolist() == [1, 0, 2]  # PyTorch targets
    res = invoke("onehot", "-n", "3", "-o", tmp_path / "oh.npy", input="1\n2\n")
    assert res.exit_code == 0 and np.load(tmp_path / "oh.npy").shape == (2, 3)  # onehot: 2-D


@pytest.mark.parametrize("command", ["onehot", "sparse"])
def test_memory_limit_option(invoke, write_text, command):
    path = write_text("x.csv", "0,1\n1,0\n" if command == "sparse" else "1\n0\n")
    extra = ["-n", "2"] if command == "onehot" else []
    ok = invoke(command, path, *extra, "--memory-limit", "1G")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout == ("1\n0\n" if command == "sparse" else "0,1\n1,0\n")
    assert_user_error(invoke(command, path, *extra, "--memory-limit", "10M"),
                      "--memory-limit 10M is too small", code=2)
    assert_user_error(invoke(command, path, *extra, "--memory-limit", "lots"),
                      "--memory-limit 'lots' is not a size", code=2)


def test_onehot_rows_wider_than_a_block_are_written_in_pieces(invoke, write_text, tmp_path):
    c = 300_000  # more than a block holds at 64M (budget.block_cells)
    path = write_text("y.csv", "0\n299999\n7\n")
    res = invoke("onehot", path, "-n", c, "--memory-limit", "64M", "-o", tmp_path / "oh.csv")
    assert res.exit_code == 0, res.stderr
    lines = (tmp_path / "oh.csv").read_text().splitlines()
    assert len(lines) == 3 and all(len(x) == 2 * c - 1 for x in lines)
    assert [x.index("1") // 2 for x in lines] == [0, c - 1, 7]
    res = invoke("onehot", path, "-n", c, "--memory-limit", "64M", "-o", tmp_path / "oh.npy")
    assert res.exit_code == 0, res.stderr
    a = np.load(tmp_path / "oh.npy")
    assert a.shape == (3, c) and a.sum() == 3 and a[1, c - 1] == a[2, 7] == 1


@pytest.mark.parametrize("fmt", ["json", "jsonl", "table"])
def test_onehot_too_wide_for_json_names_the_formats_that_stream(invoke, write_text, tmp_path, fmt):
    path = write_text("y.csv", "5\n")
    res = invoke("onehot", path, "-n", "100000000", "-f", fmt, "--memory-limit", "64M",
                 "-o", tmp_path / "oh.out")
    assert_user_error(res, f"too wide for {fmt} output", "--format csv", "--format npy", code=2)
    no_files_but(tmp_path, "y.csv")


def test_sparse_rows_wider_than_a_block_are_decoded_in_pieces(invoke, write_text):
    k = 200_000
    row = ["0.5"] * k
    rows = [row[:], row[:], row[:]]
    rows[0][190_000] = "0.75"
    rows[1][3] = "0.9"
    rows[2][5] = rows[2][150_000] = "0.75"  # a tie across pieces: the first one, noted
    header = ",".join(f"k{j}" for j in range(k))
    path = write_text("scores.csv", header + "\n" + "\n".join(",".join(r) for r in rows) + "\n")
    res = invoke("sparse", path, "--argmax", "--memory-limit", "64M")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "k190000\nk3\nk5\n"
    assert "1 row had tied maxima" in res.stderr and "line 4" in res.stderr
    res = invoke("sparse", path, "--argmax", "--numbers", "--memory-limit", "64M")
    assert res.stdout == "190000\n3\n5\n"
