"""lossctl.out.json_document: one JSON object streamed field by field, arrays block by block."""
from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest

from lossctl.errors import LossctlWarning, OutputError
from lossctl.out import TEMP_PREFIX, json_document


def strict(text: str):
    def no_constants(name):
        raise AssertionError(f"non-strict JSON token {name}")

    return json.loads(text, parse_constant=no_constants)


def doc_text(build) -> str:
    out = io.StringIO()
    with json_document(stdout=out) as doc:
        build(doc)
    return out.getvalue()


def test_document_exact_layout():
    def build(doc):
        doc.field("loss", "scce")
        with doc.array("per_sample") as arr:
            arr.write(np.array([0.1 + 0.2, 1e-300]))
            arr.write(np.array([], dtype=float))
            arr.write(np.array([2.0]))
        doc.field("options", {"from_logits": False, "delta": 1.5})
        with doc.array("empty") as arr:
            pass
        doc.field("value", 0.23)

    text = doc_text(build)
    assert text == (
        "{\n"
        '  "loss": "scce",\n'
        '  "per_sample": [\n'
        "    0.30000000000000004,\n"
        "    1e-300,\n"
        "    2.0\n"
        "  ],\n"
        '  "options": {\n'
        '    "from_logits": false,\n'
        '    "delta": 1.5\n'
        "  },\n"
        '  "empty": [],\n'
        '  "value": 0.23\n'
        "}\n"
    )
    # the same structure as json.dumps(obj, indent=2) of the whole object
    obj = strict(text)
    assert text == json.dumps(obj, indent=2) + "\n"
    assert obj["per_sample"][0] == 0.1 + 0.2


def test_2d_blocks_rows_and_objects():
    def build(doc):
        with doc.array("elementwise") as arr:
            arr.write(np.array([[1, 2], [3, 4]]))
            arr.write(np.array([[5, 6]]))
        with doc.array("rows", columns=["label", "loss"]) as rows:
            rows.write(np.array(["cat", 'say "hi"']), np.array([0.5, 1.5]))
        with doc.array("names") as arr:
            arr.write(np.array(["a", "b"]))
            arr.write(np.array([True, False]))

    text = doc_text(build)
    assert '    [1, 2],\n    [3, 4],\n    [5, 6]\n' in text
    assert '    {"label": "cat", "loss": 0.5},\n' in text
    assert strict(text) == {
        "elementwise": [[1, 2], [3, 4], [5, 6]],
        "rows": [{"label": "cat", "loss": 0.5}, {"label": 'say "hi"', "loss": 1.5}],
        "names": ["a", "b", 1, 0],
    }


def test_nonfinite_null_with_one_warning_for_the_whole_document():
    def build(doc):
        doc.field("value", float("nan"))
        with doc.array("per_sample") as arr:
            arr.write(np.array([np.inf, 1.0, -np.inf]))
        with doc.array("elementwise") as arr:
            arr.write(np.array([[np.nan, 2.0]]))
        with doc.array("rows", columns=["x"]) as rows:
            rows.write(np.array([np.nan], dtype=np.float32))

    with pytest.warns(LossctlWarning) as record:
        text = doc_text(build)
    assert len(record) == 1 and "5 non-finite values" in str(record[0].message)
    assert "NaN" not in text and "Infinity" not in text
    assert strict(text) == {"value": None, "per_sample": [None, 1.0, None],
                            "elementwise": [[None, 2.0]], "rows": [{"x": None}]}


def test_document_never_holds_the_array():
    """Each block is written as it comes: nothing but the block is formatted at a time."""
    out = io.StringIO()
    with json_document(stdout=out) as doc, doc.array("per_sample") as arr:
        for i in range(3):
            arr.write(np.full(4, float(i)))
            assert out.getvalue().count("\n    ") == 4 * (i + 1)
    assert strict(out.getvalue())["per_sample"] == [0.0] * 4 + [1.0] * 4 + [2.0] * 4


def test_empty_document_and_file_output(tmp_path, recwarn):
    assert doc_text(lambda doc: None) == "{}\n"
    target = tmp_path / "r.json"
    with json_document(output=str(target)) as doc:
        doc.field("x", np.float32(0.1))
        with doc.array("y") as arr:
            arr.write(np.arange(3))
        assert not target.exists()  # renamed into place at the end
    assert strict(target.read_text()) == {"x": 0.10000000149011612, "y": [0, 1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
    assert not recwarn.list


def test_exception_leaves_the_file_untouched(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old\n")
    with pytest.raises(KeyError), json_document(output=str(target)) as doc:
        doc.field("a", 1)
        with doc.array("b") as arr:
            arr.write(np.arange(1000))
            raise KeyError("bad label")
    assert target.read_text() == "old\n"
    assert not [n for n in os.listdir(tmp_path) if n.startswith(TEMP_PREFIX)]
    # caught inside the document: the array aborted the document, nothing more is written
    with pytest.raises(ValueError, match="closed"):
        with json_document(output=str(target)) as doc:
            try:
                with doc.array("b") as arr:
                    raise KeyError("caught")
            except KeyError:
                pass
            doc.field("c", 1)
    assert target.read_text() == "old\n"


def test_n_d_items_are_nested_lists():
    out = io.StringIO()
    with json_document(stdout=out) as doc:
        with doc.array("maps") as arr:
            arr.write(np.arange(12.0).reshape(2, 2, 3))
            arr.write(np.array([[[np.nan, 1, 2], [3, 4, 5]]]))
            with pytest.raises(ValueError, match="rows of shape"):
                arr.write(np.zeros((1, 3, 2)))
    assert json.loads(out.getvalue())["maps"] == [
        [[0, 1, 2], [3, 4, 5]], [[6, 7, 8], [9, 10, 11]], [[None, 1, 2], [3, 4, 5]]]


def test_misuse_is_refused():
    with json_document(stdout=io.StringIO()) as doc:
        doc.field("a", 1)
        with pytest.raises(ValueError, match="already written"):
            doc.field("a", 2)
        arr = doc.array("b")
        with pytest.raises(ValueError, match="still open"):
            doc.field("c", 1)
        with pytest.raises(ValueError, match="scalar"):
            arr.write(np.float64(1.0))
        arr.write(np.zeros(2))
        with pytest.raises(ValueError, match="rows of shape"):
            arr.write(np.zeros((2, 2)))
        with pytest.raises(ValueError, match="one array"):
            arr.write(np.zeros(2), np.zeros(2))
        arr.close()
        with pytest.raises(ValueError, match="closed"):
            arr.write(np.zeros(2))
        with pytest.raises(TypeError, match="JSON"):
            doc.field("d", object())
        with doc.array("rows", columns=["x", "y"]) as rows:
            with pytest.raises(ValueError, match="3 columns"):
                rows.write(np.zeros((2, 3)))
        with pytest.raises(TypeError):
            doc.field(1, 2)


def test_array_left_open_is_closed_with_the_document():
    out = io.StringIO()
    with json_document(stdout=out) as doc:
        doc.array("a").write(np.arange(2))
    assert strict(out.getvalue()) == {"a": [0, 1]}


def test_full_stdout_is_an_output_error():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "wb", buffering=0) as full:
        with pytest.raises(OutputError, match="could not write <stdout>: No space left"):
            with json_document(stdout=full) as doc:
                doc.field("a", 1)
