"""The bad-input matrix: every way a user can hand lossctl broken input, one row each.

Each :class:`Case` is a command line, the files it needs (created in a fresh folder that is the
current directory, so messages show the names as the user typed them), optional standard input,
the expected exit status and the phrases the message must contain. For every row the test checks:

* the exit status (1 bad data / unreadable input, 2 bad command line, 0 for inputs that are odd
  but valid and must be accepted);
* exactly one ``lossctl: error: ...`` line (for errors) holding every phrase: the file, the
  line (text, 1-based, header and blank lines counted) or row (NPY/Parquet, 0-based) where one
  applies, and the fix;
* no traceback and no "internal error" anywhere on stderr;
* no file created, changed or removed in the folder: a pre-existing ``-o`` target stays
  byte-identical and no ``.lossctl-tmp-*`` file is left behind.

Most rows run in-process through typer's CliRunner (fast); rows marked ``proc=True`` run
``python -m lossctl`` because they need a real process (standard input closed). Terminal
behaviour (NPY refused on a real terminal) is checked through a pseudo-terminal at the end.
"""
from __future__ import annotations

import builtins
import io
import math
import os
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import subprocess_env

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq


@pytest.fixture(autouse=True)
def _build_the_cli_once(cli_built_once):
    """Every test here invokes the CLI many times: reuse one click command (conftest)."""


# --- file builders --------------------------------------------------------------------------------


def npy(arr, **kw) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, **kw)
    return buf.getvalue()


def npy_header(header: dict) -> bytes:
    """Just an NPY header (no data), e.g. with a shape numpy would never write."""
    import numpy.lib.format as npformat

    buf = io.BytesIO()
    npformat.write_array_header_1_0(buf, header)
    return buf.getvalue()


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def parquet(**columns) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def lines(*rows: str, end: str = "\n") -> bytes:
    return "".join(r + end for r in rows).encode()


def _scce(y, p) -> float:
    """Reference sparse categorical cross-entropy (rows that sum to 1, nothing clipped)."""
    p = np.asarray(p, dtype=np.float64)
    return float(-np.mean(np.log(p[np.arange(len(y)), y])))


def _logsumexp(x) -> float:
    m = max(x)
    return m + math.log(sum(math.exp(v - m) for v in x))


P3 = [[0.2, 0.3, 0.5], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]
P3_CSV = lines("0.2,0.3,0.5", "0.1,0.8,0.1", "0.3,0.3,0.4")
Y3_CSV = lines("0", "1", "2")
OH3_CSV = lines("1,0,0", "0,1,0", "0,0,1")
SCCE_P3 = _scce([0, 1, 2], P3)  # 0.916290731874155
KEEP = b"previous results, must survive\n"
BIG_LOGITS = [[1e308, -1e308, 0.0], [0.1, 0.8, 0.1], [-1e308, 1e308, 1e308]]
BIG_LOGITS_SCCE = (0.0 + (_logsumexp([0.1, 0.8, 0.1]) - 0.8) + math.log(2)) / 3
N_LATE = 70_000  # more than one 65,536-row block: the error comes after output has started
LATE_LABELS = ("".join(f"{i % 3}\n" for i in range(N_LATE - 1)) + "7\n").encode()
LATE_PROBS = ("0.2,0.3,0.5\n" * N_LATE).encode()


# --- the matrix -----------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    argv: tuple[str, ...]
    files: dict[str, bytes | None] = field(default_factory=dict)  # None: a folder
    code: int = 1
    phrases: tuple[str, ...] = ()
    stdin: bytes | None = None
    unreadable: tuple[str, ...] = ()  # files the process may not read
    tty: bool = False  # standard output is a terminal
    proc: bool = False  # run python -m lossctl (standard input closed)
    click: bool = False  # a usage error reported by click/typer itself ("Usage: ... Error: ...")
    value: float | None = None  # success rows: the number printed
    stdout: str | None = None  # success rows: the exact output
    xfail: str | None = None  # a known bug in a file this suite may not fix (strict xfail)


def C(id, *argv, files=None, code=1, phrases=(), **kw) -> Case:
    return Case(id, tuple(argv), dict(files or {}), code, tuple(phrases), **kw)


P = {"p3.csv": P3_CSV}
YP = {"y.csv": Y3_CSV, "p3.csv": P3_CSV}

CASES: list[Case] = [
    # ---------------------------------------------------------------- files
    C("missing-labels-compute", "compute", "scce", "nope.csv", "p3.csv", files=P,
      phrases=("nope.csv", "no such file", "Check the path")),
    C("missing-preds-compute-o", "compute", "mse", "y.csv", "nope.npy", "-f", "csv", "-o",
      "out.csv", files={**YP, "out.csv": KEEP}, phrases=("nope.npy", "no such file")),
    C("missing-onehot", "onehot", "nope.csv", phrases=("nope.csv", "no such file")),
    C("missing-inspect", "inspect", "y.csv", "nope.npy", files=YP,
      phrases=("nope.npy", "no such file")),
    C("directory-compute", "compute", "mse", "adir", "p3.csv", files={"adir": None, **P},
      phrases=("adir", "is a directory", "Give a file inside it")),
    C("directory-sparse", "sparse", "adir", files={"adir": None},
      phrases=("adir", "is a directory")),
    C("unreadable-compute", "compute", "scce", "y.csv", "p3.csv", files=YP,
      unreadable=("p3.csv",), phrases=("p3.csv", "permission denied", "read permission")),
    C("unreadable-onehot-o", "onehot", "y.csv", "-o", "out.csv",
      files={"y.csv": Y3_CSV, "out.csv": KEEP}, unreadable=("y.csv",),
      phrases=("y.csv", "permission denied")),
    C("empty-file-compute", "compute", "scce", "empty.csv", "p3.csv",
      files={"empty.csv": b"", **P}, phrases=("empty.csv", "no data rows", "empty")),
    C("empty-file-onehot", "onehot", "empty.csv", files={"empty.csv": b""},
      phrases=("empty.csv", "no data rows")),
    C("empty-file-sparse", "sparse", "empty.csv", files={"empty.csv": b""},
      phrases=("empty.csv", "no data rows")),
    C("empty-file-inspect", "inspect", "empty.csv", files={"empty.csv": b""},
      phrases=("empty.csv", "no data rows")),
    C("header-only-compute", "compute", "scce", "hdr.csv", "p3.csv",
      files={"hdr.csv": b"label\n", **P},
      phrases=("hdr.csv", "no data rows", "only a header", "--no-header")),
    C("header-only-onehot", "onehot", "hdr.csv", files={"hdr.csv": b"label\n"},
      phrases=("hdr.csv", "only a header", "--no-input-header")),
    C("binary-as-csv-compute", "compute", "scce", "y.csv", "blob.csv",
      files={"y.csv": Y3_CSV, "blob.csv": bytes(range(256)) * 8},
      phrases=("blob.csv", "not a text file", "Give a CSV")),
    C("binary-as-csv-onehot", "onehot", "blob.csv", files={"blob.csv": bytes(range(256)) * 8},
      phrases=("blob.csv", "not a text file")),
    C("truncated-npy-data-compute", "compute", "scce", "y.npy", "p3.csv",
      files={"y.npy": npy(np.array([0, 1, 2]))[:-8], **P},
      phrases=("y.npy", "row 2", "truncated", "write it again")),
    C("truncated-npy-data-onehot-o", "onehot", "y.npy", "-o", "out.csv",
      files={"y.npy": npy(np.array([0, 1, 2]))[:-8], "out.csv": KEEP},
      phrases=("y.npy", "truncated")),
    C("truncated-npy-header", "compute", "scce", "y.npy", "p3.csv",
      files={"y.npy": npy(np.array([0, 1, 2]))[:30], **P},
      phrases=("y.npy", "truncated NPY file", "ends inside the header", "written completely")),
    C("object-npy-compute", "compute", "scce", "y.npy", "p3.csv",
      files={"y.npy": npy(np.array([0, {"a": 1}, 2], dtype=object), allow_pickle=True), **P},
      phrases=("y.npy", "refused", "pickle", "astype")),
    C("object-npy-onehot", "onehot", "y.npy",
      files={"y.npy": npy(np.array([0, [1], 2], dtype=object), allow_pickle=True)},
      phrases=("y.npy", "refused", "never loads them")),
    C("object-npz-member", "sparse", "data.npz:y",
      files={"data.npz": npz(y=np.array([1, "x", None], dtype=object))},
      phrases=("data.npz", "refused", "pickle")),
    C("truncated-npy-magic-only", "onehot", "y.npy", files={"y.npy": b"\x93NUMPY"},
      phrases=("y.npy", "truncated NPY file", "written completely")),
    C("npy-negative-dimension", "compute", "mse", "y.npy", "y.npy",
      files={"y.npy": npy_header({"descr": "<f8", "fortran_order": False, "shape": (-1, 3)})},
      phrases=("y.npy", "corrupt NPY header", "negative dimension")),
    C("npy-text-beyond-unicode", "onehot", "y.npy",
      files={"y.npy": npy_header({"descr": "<U1", "fortran_order": False, "shape": (2,)})
             + (0x30).to_bytes(4, "little") + (0x110000).to_bytes(4, "little")},
      phrases=("y.npy", "row 1")),
    C("pickle-named-npy", "onehot", "y.npy",
      files={"y.npy": b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00]\x94(K\x00K\x01e."},
      phrases=("y.npy", "not an NPY file", "numpy.save")),
    C("corrupt-parquet-compute", "compute", "scce", "y.parquet", "p3.csv",
      files={"y.parquet": b"PAR1" + b"\x00garbage" * 10 + b"PAR1", **P},
      phrases=("y.parquet", "not a valid Parquet file", "written completely")),
    C("corrupt-parquet-onehot", "onehot", "y.parquet",
      files={"y.parquet": parquet(y=pa.array([0, 1, 2]))[:-12]},
      phrases=("y.parquet", "Parquet")),
    C("npz-wrong-key", "compute", "scce", "data.npz:labels", "p3.csv",
      files={"data.npz": npz(y=np.array([0, 1, 2]), p=np.array(P3)), **P},
      phrases=("data.npz:labels", "no array 'labels'", "data.npz:y")),
    C("npz-no-key-two-arrays", "onehot", "data.npz",
      files={"data.npz": npz(y=np.array([0, 1, 2]), z=np.array([1, 1, 1]))},
      phrases=("data.npz", "holds 2 arrays", "data.npz:KEY")),
    C("spaces-unicode-path-ok", "compute", "scce", "my labels é.csv", "prédictions 1.csv",
      files={"my labels é.csv": Y3_CSV, "prédictions 1.csv": P3_CSV}, code=0, value=SCCE_P3),
    C("spaces-unicode-path-error", "compute", "scce", "dir é/my labels ü.csv", "p3.csv",
      files={"dir é": None, "dir é/my labels ü.csv": lines("0", "1", "9"), **P},
      phrases=("dir é/my labels ü.csv, line 3", "label 9 is out of range")),
    C("zero-row-npy-compute", "compute", "scce", "y.npy", "p.npy",
      files={"y.npy": npy(np.zeros(0, np.int64)), "p.npy": npy(np.zeros((0, 3)))},
      phrases=("y.npy", "no data rows", "not empty")),
    C("zero-row-npy-onehot", "onehot", "y.npy", "-n", "3",
      files={"y.npy": npy(np.zeros(0, np.int64))}, phrases=("y.npy", "no data rows")),
    C("zero-row-parquet-sparse", "sparse", "p.parquet",
      files={"p.parquet": parquet(a=pa.array([], pa.float64()), b=pa.array([], pa.float64()))},
      phrases=("p.parquet", "no data rows")),
    C("one-row-compute", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": b"1\n", "p.csv": b"0.1,0.8,0.1\n"}, code=0, value=-math.log(0.8)),
    C("one-row-onehot", "onehot", "y.csv", "-n", "3", files={"y.csv": b"2\n"}, code=0,
      stdout="0,0,1\n"),
    C("stdin-empty-compute", "compute", "scce", "-", "p3.csv", files=P, stdin=b"",
      phrases=("<stdin>", "no data rows")),
    C("stdin-empty-onehot", "onehot", stdin=b"", phrases=("<stdin>", "no data rows")),
    C("stdin-empty-sparse-o", "sparse", "-o", "out.csv", files={"out.csv": KEEP}, stdin=b"",
      phrases=("<stdin>", "no data rows")),
    C("stdin-closed-onehot", "onehot", proc=True,
      phrases=("<stdin>", "standard input is closed", "give a file name")),
    C("stdin-closed-compute", "compute", "scce", "-", "p3.csv", files=P, proc=True,
      phrases=("<stdin>", "standard input is closed")),
    # ---------------------------------------------------------------- text
    C("ragged-rows-compute", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": Y3_CSV, "p.csv": lines("0.2,0.3,0.5", "0.1,0.8,0.1", "0.3,0.7")},
      phrases=("p.csv, line 3", "2 fields, expected 3", "missing or extra delimiter")),
    C("ragged-rows-onehot", "onehot", "y.csv", files={"y.csv": lines("0", "1,2", "0")},
      phrases=("y.csv, line 2", "2 fields, expected 1")),
    C("stray-quote", "compute", "cce", "oh.csv", "p.csv",
      files={"oh.csv": OH3_CSV, "p.csv": lines("0.2,0.3,0.5", '0.1,"0.8,0.1', "0.3,0.3,0.4")},
      phrases=("p.csv, line 2", "unbalanced quote", "Close the quote")),
    C("mixed-delimiters", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": Y3_CSV, "p.csv": lines("0.2,0.3,0.5", "0.1;0.8;0.1", "0.3,0.3,0.4")},
      phrases=("p.csv, line 2", "1 field, expected 3")),
    C("trailing-delimiter-everywhere-ok", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": Y3_CSV, "p.csv": lines("0.2,0.3,0.5,", "0.1,0.8,0.1,", "0.3,0.3,0.4,")},
      code=0, value=SCCE_P3),
    C("trailing-delimiter-some-lines", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": Y3_CSV, "p.csv": lines("0.2,0.3,0.5,", "0.1,0.8,0.1", "0.3,0.3,0.4,")},
      phrases=("p.csv, line 2", "3 fields, expected 4", "missing or extra delimiter")),
    C("stray-carriage-return", "onehot", "y.csv", "-n", "3",
      files={"y.csv": b"0\r1\n2\n"},
      phrases=("y.csv, line 1", "stray carriage return", "tr '\\r' '\\n'")),
    C("blank-lines-middle-ok", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": b"0\n\n1\n\n\n2\n", "p.csv": P3_CSV}, code=0, value=SCCE_P3),
    C("blank-lines-counted-in-line-number", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": b"0\n\n1\n7\n", **P}, phrases=("y.csv, line 4", "label 7")),
    C("windows-line-ends-ok", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": lines("0", "1", "2", end="\r\n"),
             "p.csv": lines("0.2,0.3,0.5", "0.1,0.8,0.1", "0.3,0.3,0.4", end="\r\n")},
      code=0, value=SCCE_P3),
    C("windows-line-ends-error", "onehot", "y.csv", "-n", "3",
      files={"y.csv": lines("label", "0", "5", end="\r\n")},
      phrases=("y.csv, line 3", "label 5 is out of range [0, 3)")),
    C("utf16-compute", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": "0\n1\n2\n".encode("utf-16"), **P},
      phrases=("y.csv", "UTF-16", "iconv")),
    C("utf16-no-bom-onehot", "onehot", "y.csv", files={"y.csv": "0\n1\n2\n".encode("utf-16-le")},
      phrases=("y.csv", "UTF-16")),
    C("utf8-bom-ok", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": "\ufeff0\n1\n2\n".encode(), **P}, code=0, value=SCCE_P3),
    C("thousands-separator", "compute", "mse", "y.csv", "p.csv",
      files={"y.csv": lines("1000", "2000"), "p.csv": lines('"1,000.5"', '"2,000.5"')},
      phrases=("p.csv, line 1", "'1,000.5'", "thousands separator")),
    C("decimal-comma", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": Y3_CSV, "p.csv": lines("0,2;0,3;0,5", "0,1;0,8;0,1", "0,3;0,3;0,4")},
      phrases=("p.csv, line 1", "'0,2'", "decimal comma")),
    *[
        C(f"nonfinite-{slug}", "compute", "scce", "y.csv", "p.csv",
          files={"y.csv": Y3_CSV, "p.csv": lines("0.2,0.3,0.5", f"0.1,{text},0.1", "0.3,0.3,0.4")},
          phrases=("p.csv, line 2", f"prediction {shown} is not a finite number", "fix the row"))
        for slug, text, shown in [("nan", "nan", "nan"), ("NaN", "NaN", "nan"),
                                  ("NAN", "NAN", "nan"), ("inf", "inf", "inf"),
                                  ("minus-inf", "-inf", "-inf"), ("Infinity", "Infinity", "inf"),
                                  ("plus-inf", "+inf", "inf"), ("NA", "NA", "nan"),
                                  ("empty-cell", "", "nan")]
    ],
    C("nonfinite-excel-spelling", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": Y3_CSV, "p.csv": lines("0.2,0.3,0.5", "0.1,1.#INF,0.1", "0.3,0.3,0.4")},
      phrases=("p.csv, line 2", "'1.#INF' is not a number", "Fix or remove the row")),
    C("nan-label-compute", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": lines("0", "1", "nan"), **P},
      phrases=("y.csv, line 3", "missing or not a number", "class label")),
    C("nan-label-onehot", "onehot", "y.csv", files={"y.csv": lines("0", "NaN", "1")},
      phrases=("y.csv, line 2", "missing label", "Fill in the label")),
    C("very-long-line-ragged", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": Y3_CSV,
             "p.csv": ("0.2,0.3,0.5\n" + ",".join(["0.1"] * 100_000) + "\n0.3,0.3,0.4\n").encode()},
      phrases=("p.csv, line 2", "100000 fields, expected 3")),
    C("very-long-line-ok", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": b"0\n", "p.csv": (",".join(["0.00002"] * 50_000) + "\n").encode()},
      code=0, value=-math.log(0.00002)),
    C("ten-thousand-columns-ok", "compute", "mse", "y.csv", "p.csv",
      files={"y.csv": ("\n".join([",".join(["0"] * 10_000)] * 3) + "\n").encode(),
             "p.csv": ("\n".join([",".join(["0.001"] * 10_000)] * 3) + "\n").encode()},
      code=0, value=1e-6),
    C("ten-thousand-columns-bad-cell", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": Y3_CSV,
             "p.csv": ("\n".join([",".join(["0.0001"] * 10_000)] * 2) + "\n"
                       + ",".join(["0.0001"] * 9_998 + ["x", "0.1"]) + "\n").encode()},
      phrases=("p.csv, line 3", "'x' in column '9999' is not a number")),
    # ---------------------------------------------------------------- values
    C("label-out-of-range-compute", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": lines("1", "2", "3"), **P},
      phrases=("y.csv, line 3", "label 3 is out of range [0, 3)", "--offset 1")),
    C("label-out-of-range-onehot", "onehot", "y.csv", "-n", "3", "-o", "out.csv",
      files={"y.csv": lines("0", "4", "1"), "out.csv": KEEP},
      phrases=("y.csv, line 2", "label 4 is out of range [0, 3)", "-n 5")),
    C("label-out-of-range-npy-row", "compute", "cross_entropy", "y.npy", "p.npy",
      files={"y.npy": npy(np.array([0, 1, 2, 5])), "p.npy": npy(np.zeros((4, 3)))},
      phrases=("y.npy, row 3", "label 5 is out of range [0, 3)", "labels must lie in [0, 3)")),
    C("label-out-of-range-late-block-o", "compute", "scce", "y.csv", "p.csv", "-f", "csv",
      "-o", "out.csv", files={"y.csv": LATE_LABELS, "p.csv": LATE_PROBS, "out.csv": KEEP},
      phrases=(f"y.csv, line {N_LATE}", "label 7 is out of range")),
    C("label-out-of-range-late-block-onehot-o", "onehot", "y.csv", "-n", "3", "-o", "out.csv",
      files={"y.csv": LATE_LABELS, "out.csv": KEEP},
      phrases=(f"y.csv, line {N_LATE}", "label 7 is out of range")),
    C("negative-label-compute", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": lines("0", "-1", "2"), **P},
      phrases=("y.csv, line 2", "label -1 is out of range", "--ignore-class -1")),
    C("negative-label-onehot", "onehot", "y.csv", files={"y.csv": lines("0", "-1", "2")},
      phrases=("y.csv, line 2", "label -1 is negative")),
    C("fractional-label-compute", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": lines("0", "1.5", "2"), **P},
      phrases=("y.csv, line 2", "label 1.5 is not a whole number", "integers")),
    C("fractional-label-onehot", "onehot", "y.csv", files={"y.csv": lines("0", "2.5", "1")},
      phrases=("y.csv, line 2", "label 2.5 is not an integer", "--argmax")),
    C("boolean-strings-bce-ok", "compute", "bce", "y.csv", "p.csv",
      files={"y.csv": lines("true", "false", "True"), "p.csv": lines("0.9", "0.2", "0.7")},
      code=0, value=-(math.log(0.9) + math.log(0.8) + math.log(0.7)) / 3),
    C("boolean-strings-onehot-ok", "onehot", "y.csv", "-n", "2",
      files={"y.csv": lines("false", "true", "TRUE")}, code=0, stdout="1,0\n0,1\n0,1\n"),
    C("huge-int-label-compute", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": lines("0", "9007199254740993", "1"), **P},
      phrases=("y.csv, line 2", "label 9007199254740993 is out of range")),
    C("huge-int-label-onehot", "onehot", "y.csv",
      files={"y.csv": lines("0", "9007199254740993", "1")},
      phrases=("y.csv, line 2", "9007199254740993", "-n/--num-classes")),
    C("int-beyond-int64-among-text-labels", "onehot", "y.csv", "-n", "4",
      files={"y.csv": lines("!", "!", "10000000000000000000")},
      phrases=("y.csv, line 1", "label '!' is not an integer", "--classes")),
    C("int-beyond-int64-onehot", "onehot", "y.csv", "-n", "4",
      files={"y.csv": lines("0", "10000000000000000000")},
      phrases=("y.csv, line 2", "too large to be an exact integer")),
    C("int-of-400-digits-compute", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": lines("0", "1", "1" + "0" * 400), **P},
      phrases=("y.csv, line 3", "beyond the float64 range")),
    C("label-1e400-compute", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": lines("0", "1e400", "1"), **P},
      phrases=("y.csv, line 2", "'1e400' in column '1' is beyond the float64 range")),
    C("label-1e400-onehot", "onehot", "y.csv", files={"y.csv": lines("0", "1e400", "1")},
      phrases=("y.csv, line 2", "'1e400'", "beyond the float64 range")),
    C("prediction-1e400", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": lines("0", "1"), "p.csv": lines("0.5,0.5", "-1e400,0.5")},
      phrases=("p.csv, line 2", "'-1e400' in column '1' is beyond the float64 range")),
    C("label-digit-grouping-compute", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": lines("0", "1_000", "2"), **P},
      phrases=("y.csv, line 2", "label '1_000' is not a number, but the other labels are")),
    C("huge-float-label-compute", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": lines("0", "1e20", "1"), **P},
      phrases=("y.csv, line 2", "label 1e+20 is too large", "check the label column")),
    C("huge-float-label-onehot", "onehot", "y.csv", files={"y.csv": lines("0", "1e20", "1")},
      phrases=("y.csv, line 2", "too large to be an exact integer")),
    C("whole-float-labels-compute-ok", "compute", "scce", "y.csv", "p3.csv",
      files={"y.csv": lines("0.0", "1.0", "2.0"), **P}, code=0, value=SCCE_P3),
    C("whole-float-labels-onehot-ok", "onehot", "y.npy", "-n", "3",
      files={"y.npy": npy(np.array([2.0, 0.0, 1.0]))}, code=0, stdout="0,0,1\n1,0,0\n0,1,0\n"),
    C("nan-in-predictions-npy", "compute", "mse", "y.npy", "p.npy",
      files={"y.npy": npy(np.zeros((3, 2))),
             "p.npy": npy(np.array([[0, 1], [1, np.nan], [0, 0.]]))},
      phrases=("p.npy, row 1", "prediction nan is not a finite number")),
    C("inf-in-dense-labels", "compute", "cce", "oh.csv", "p3.csv",
      files={"oh.csv": lines("1,0,0", "0,inf,0", "0,0,1"), **P},
      phrases=("oh.csv, line 2", "label inf is not a finite number")),
    C("probability-rounding-above-1-ok", "compute", "cce", "oh.csv", "p.csv",
      files={"oh.csv": OH3_CSV, "p.csv": lines("1.0000001,0,0", "0,1,0", "0,0,1")},
      code=0, phrases=("note:", "1 probabilities within 1e-06 outside [0, 1]", "rounding noise")),
    # non-negative scores above 1: Keras renormalises them (a warning); PyTorch refuses them
    C("probability-clearly-above-1", "compute", "scce", "y.csv", "p.csv", "--convention", "torch",
      files={"y.csv": Y3_CSV, "p.csv": lines("0.2,0.3,0.5", "0.1,1.5,0.1", "0.3,0.3,0.4")},
      phrases=("p.csv, line 2", "prediction 1.5 is not a probability", "divide each row by its sum",
               "--convention keras")),
    C("probability-logits-negative", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": Y3_CSV, "p.csv": lines("0.2,0.3,0.5", "0.1,1.5,-0.1", "0.3,0.3,0.4")},
      phrases=("p.csv, line 2", "prediction 1.5 is not a probability", "--from-logits")),
    C("probability-negative-bce", "compute", "bce", "y.csv", "p.csv",
      files={"y.csv": lines("0", "1"), "p.csv": lines("0.3", "-0.2")},
      phrases=("p.csv, line 2", "prediction -0.2 is not a probability", "--from-logits")),
    C("all-zero-probability-row-keras", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": Y3_CSV, "p.csv": lines("0.2,0.3,0.5", "0,0,0", "0.3,0.3,0.4")},
      phrases=("p.csv, line 2", "every probability in this row is 0", "--from-logits")),
    C("all-zero-probability-row-torch", "compute", "cce", "oh.csv", "p.npy", "-c", "torch",
      files={"oh.csv": OH3_CSV,
             "p.npy": npy(np.array([[0.2, 0.3, 0.5], [0.1, 0.8, 0.1], [0, 0, 0.]]))},
      phrases=("p.npy, row 2", "every probability in this row is 0", "sum to 1")),
    C("all-zero-row-sparse", "sparse", "oh.csv", "-o", "out.csv",
      files={"oh.csv": lines("1,0,0", "0,0,0"), "out.csv": KEEP},
      phrases=("oh.csv, line 2", "all zeros", "--argmax")),
    C("huge-logits-ok", "compute", "scce", "y.csv", "p.csv", "--from-logits",
      files={"y.csv": Y3_CSV, "p.csv": lines(*(",".join(map(repr, r)) for r in BIG_LOGITS))},
      code=0, value=BIG_LOGITS_SCCE),
    C("huge-logits-same-sign-ok", "compute", "cce", "oh.csv", "p.csv", "--from-logits",
      files={"oh.csv": lines("1,0,0", "0,1,0"), "p.csv": lines("1e308,1e308,0", "0.1,0.2,0.3")},
      code=0, value=(math.log(2) + _logsumexp([0.1, 0.2, 0.3]) - 0.2) / 2),
    C("huge-regression-values-overflow-warned", "compute", "mse", "y.csv", "p.csv",
      files={"y.csv": lines("-1e308"), "p.csv": lines("1e308")}, code=0,
      phrases=("warning:", "1 per-sample loss is not finite", "too large for float64")),
    C("subnormal-probability-ok", "compute", "scce", "y.csv", "p.csv", "-c", "torch",
      files={"y.csv": b"0\n", "p.csv": b"5e-324,0.5,0.5\n"}, code=0, value=744.4400719213812),
    C("subnormal-regression-ok", "compute", "mae", "y.csv", "p.csv",
      files={"y.csv": b"0\n", "p.csv": b"5e-324\n"}, code=0, value=5e-324),
    C("empty-class-column", "compute", "scce", "y.csv", "p.csv",
      files={"y.csv": Y3_CSV, "p.csv": lines("0.2,,0.8", "0.5,,0.5", "0.3,,0.7")},
      phrases=("p.csv, line 1", "prediction nan is not a finite number")),
    C("class-absent-from-batch-ok", "compute", "cce", "oh.csv", "p3.csv",
      files={"oh.csv": lines("1,0,0", "1,0,0", "0,0,1"), **P}, code=0,
      value=-(math.log(0.2) + math.log(0.1) + math.log(0.4)) / 3),
    C("sample-weight-wrong-length", "compute", "scce", "y.csv", "p3.csv", "--sample-weight",
      "w.csv", files={**YP, "w.csv": lines("1", "2")},
      phrases=("w.csv", "2 sample weights for 3 rows", "one weight per row")),
    C("sample-weight-negative", "compute", "scce", "y.csv", "p3.csv", "--sample-weight",
      "w.csv", files={**YP, "w.csv": lines("1", "-1", "1")},
      phrases=("w.csv, line 2", "sample weight -1", "0 or more")),
    C("sample-weight-nan", "compute", "mse", "y.csv", "y.csv", "--sample-weight", "w.npy",
      files={"y.csv": Y3_CSV, "w.npy": npy(np.array([1.0, 1.0, np.nan]))},
      phrases=("w.npy, row 2", "sample weight nan")),
    C("sample-weight-text", "compute", "scce", "y.csv", "p3.csv", "--sample-weight", "w.csv",
      files={**YP, "w.csv": lines("1", "x", "1")},
      phrases=("w.csv, line 2", "sample weight 'x' is not a number")),
    C("class-weight-wrong-count-keras", "compute", "scce", "y.csv", "p3.csv",
      "--class-weight", "1,2", files=YP,
      phrases=("2 class weights for 3 classes", "--class-weight one weight per class")),
    C("class-weight-wrong-count-torch", "compute", "CrossEntropyLoss", "y.csv", "p3.csv",
      "--class-weight", "1,2,3,4", files=YP,
      phrases=("4 class weights for 3 classes", "per column of Y_PRED")),
    C("class-weight-file-wrong-count", "compute", "scce", "y.csv", "p3.csv",
      "--class-weight", "cw.csv", files={**YP, "cw.csv": lines("1", "2")},
      phrases=("cw.csv", "2 class weights for 3 classes")),
    C("class-weight-negative", "compute", "scce", "y.csv", "p3.csv", "--class-weight",
      "1,-2,1", files=YP, phrases=("class weights must not be negative", "0 or more")),
    C("class-weight-not-numbers", "compute", "scce", "y.csv", "p3.csv", "--class-weight",
      "1,x,1", files=YP, code=2, phrases=("--class-weight '1,x,1'", "not a list of numbers")),
    C("class-weight-multi-label", "compute", "bce", "oh.csv", "p3.csv", "--class-weight",
      "1,2,3", files={"oh.csv": OH3_CSV, **P},
      phrases=("oh.csv", "3 label columns", "--sample-weight")),
    # ---------------------------------------------------------------- shapes
    C("rows-differ", "compute", "scce", "y.csv", "p3.csv", files={"y.csv": lines("0", "1"), **P},
      phrases=("y.csv: 2", "p3.csv: 3", "one row per sample")),
    C("rows-differ-weights-same-file", "compute", "scce", "both.csv", "--true-cols", "1",
      "--pred-cols", "2-4", "--sample-weight", "w.csv",
      files={"both.csv": lines("0,0.2,0.3,0.5", "1,0.1,0.8,0.1"), "w.csv": lines("1", "1", "1")},
      phrases=("w.csv", "3 sample weights for 2 rows")),
    C("columns-differ", "compute", "cce", "oh.csv", "p3.csv",
      files={"oh.csv": lines("1,0,0,0", "0,1,0,0", "0,0,1,0"), **P},
      phrases=("oh.csv", "4 columns but Y_PRED has 3", "--true-cols")),
    C("index-labels-for-dense-loss", "compute", "cce", "y.csv", "p3.csv", files=YP,
      phrases=("y.csv", "one column of class indices", "sparse_categorical_crossentropy",
               "lossctl onehot y.csv -n 3")),
    C("onehot-labels-for-sparse-loss", "compute", "scce", "oh.csv", "p3.csv",
      files={"oh.csv": OH3_CSV, **P},
      phrases=("oh.csv", "looks one-hot", "categorical_crossentropy", "lossctl sparse")),
    C("3d-npy-compute", "compute", "mse", "y.csv", "p.npy",
      files={"y.csv": Y3_CSV, "p.npy": npy(np.zeros((3, 2, 2)))},
      phrases=("y.csv", "Y_TRUE has shape (N, 1), but Y_PRED has (N, 2, 2)", "same shape")),
    C("3d-npy-onehot-ok", "onehot", "y.npy", "-n", "3",
      files={"y.npy": npy(np.zeros((3, 1, 1), np.int64))}, code=0,
      phrases=("(N, 1, 1) end in an axis of 1", "read as (N, 1)")),
    C("3d-npy-onehot-float-labels", "onehot", "y.npy",
      files={"y.npy": npy(np.full((2, 2, 2), 0.5))},
      phrases=("y.npy", "row 0, element (0, 0)", "0.5")),
    C("3d-npy-sparse-all-zero", "sparse", "p.npy", files={"p.npy": npy(np.zeros((2, 2, 2)))},
      phrases=("p.npy", "row 0, element 0", "all zeros")),
    C("3d-npy-inspect", "inspect", "y.csv", "p.npy", "--strict",
      files={"y.csv": Y3_CSV, "p.npy": npy(np.zeros((3, 3, 1)))}, phrases=("(N, 3, 1)",)),
    C("scalar-npy-compute", "compute", "mse", "s.npy", "s.npy",
      files={"s.npy": npy(np.array(1.0))}, phrases=("s.npy", "0-D array", "(N,)")),
    C("scalar-npy-onehot", "onehot", "s.npy", files={"s.npy": npy(np.array(2))},
      phrases=("s.npy", "0-D array")),
    C("n-labels-ok", "compute", "scce", "y.npy", "p3.csv",
      files={"y.npy": npy(np.array([0, 1, 2])), **P}, code=0, value=SCCE_P3),
    C("n-by-1-labels-ok", "compute", "scce", "y.npy", "p3.csv",
      files={"y.npy": npy(np.array([[0], [1], [2]])), **P}, code=0, value=SCCE_P3),
    C("n-by-1-onehot-ok", "onehot", "y.npy", "-n", "3",
      files={"y.npy": npy(np.array([[2], [0]]))}, code=0, stdout="0,0,1\n1,0,0\n"),
    C("n-by-1-mse-ok", "compute", "mse", "y.npy", "p.npy",
      files={"y.npy": npy(np.array([1.0, 2.0])), "p.npy": npy(np.array([[1.5], [2.0]]))},
      code=0, value=0.125),
    # ---------------------------------------------------------------- arguments
    C("unknown-loss", "compute", "sparse_categoricalcrossentropy", "y.csv", "p3.csv", files=YP,
      code=2, phrases=("unknown loss 'sparse_categoricalcrossentropy'", "Did you mean",
                       "sparse_categorical_crossentropy")),
    C("option-not-for-loss-delta", "compute", "scce", "y.csv", "p3.csv", "--delta", "1",
      files=YP, code=2, phrases=("--delta does not apply to sparse_categorical_crossentropy",
                                 "takes --from-logits")),
    C("option-not-for-loss-from-logits", "compute", "mse", "y.csv", "y.csv", "--from-logits",
      files=YP, code=2, phrases=("--from-logits does not apply to mean_squared_error",)),
    C("option-not-for-loss-ignore-class", "compute", "mse", "y.csv", "y.csv",
      "--ignore-class", "1", files=YP, code=2, phrases=("--ignore-class does not apply",)),
    C("option-not-for-loss-offset", "compute", "mse", "y.csv", "y.csv", "--offset", "1",
      files=YP, code=2, phrases=("--offset does not apply to mean_squared_error",)),
    C("pos-weight-without-logits", "compute", "bce", "oh.csv", "p3.csv", "--pos-weight", "2",
      files={"oh.csv": OH3_CSV, **P}, code=2, phrases=("--pos-weight needs --from-logits",)),
    C("label-smoothing-out-of-range", "compute", "cce", "oh.csv", "p3.csv",
      "--label-smoothing", "1.5", files={"oh.csv": OH3_CSV, **P}, code=2,
      phrases=("--label-smoothing must lie in [0, 1]",)),
    C("contradictory-argmax-threshold", "sparse", "oh.csv", "--argmax", "--threshold", "0.5",
      files={"oh.csv": OH3_CSV}, code=2, phrases=("--argmax and --threshold exclude each other",)),
    C("contradictory-numbers-classes", "sparse", "oh.csv", "--numbers", "--classes", "a,b,c",
      files={"oh.csv": OH3_CSV}, code=2, phrases=("--numbers and --classes exclude each other",)),
    C("contradictory-offset-classes", "onehot", "y.csv", "--offset", "1", "--classes", "a,b",
      files={"y.csv": Y3_CSV}, code=2, phrases=("--offset", "--classes", "Drop --offset")),
    C("contradictory-smooth-int", "onehot", "y.csv", "--smooth", "0.1", "--dtype", "int",
      files={"y.csv": Y3_CSV}, code=2, phrases=("--smooth", "--dtype int does not apply")),
    C("contradictory-compare-reduction-none", "compute", "mse", "oh.csv", "p3.csv",
      "--compare", "all", "-r", "none", files={"oh.csv": OH3_CSV, **P}, code=2,
      phrases=("--compare", "--reduction none")),
    C("contradictory-both-stdin", "compute", "scce", "-", "-", stdin=b"0\n", code=2,
      phrases=("Y_TRUE and Y_PRED cannot both be standard input",)),
    C("compare-unknown-convention", "compute", "scce", "y.csv", "p3.csv", "--compare", "tf",
      files=YP, code=2, phrases=("--compare takes keras, torch, keras-jax, sklearn or all",)),
    C("pred-missing", "compute", "scce", "y.csv", files=YP, code=2,
      phrases=("Y_PRED is missing", "--pred-cols")),
    C("unknown-column", "compute", "scce", "y.csv", "p3.csv", "--true-cols", "label",
      files=YP, phrases=("y.csv", "no column named 'label'", "Available columns")),
    C("output-is-input-compute", "compute", "scce", "y.csv", "p3.csv", "-f", "csv", "-o",
      "p3.csv", files=YP, phrases=("output p3.csv is the same file as the input p3.csv",
                                   "refusing to overwrite")),
    C("output-is-input-other-spelling", "onehot", "./sub/../y.csv", "-o", "y.csv",
      files={"sub": None, "y.csv": Y3_CSV},
      phrases=("output y.csv is the same file as the input ./sub/../y.csv", "-o")),
    C("output-is-input-sparse", "sparse", "oh.csv", "-o", "oh.csv",
      files={"oh.csv": OH3_CSV}, phrases=("output oh.csv is the same file as the input",)),
    C("output-is-sample-weight", "compute", "scce", "y.csv", "p3.csv", "--sample-weight",
      "w.csv", "-o", "w.csv", files={**YP, "w.csv": lines("1", "1", "1")},
      phrases=("output w.csv is the same file as the input w.csv",)),
    C("output-is-class-weight-file", "compute", "scce", "y.csv", "p3.csv", "--class-weight",
      "cw.csv", "-f", "csv", "-o", "cw.csv", files={**YP, "cw.csv": lines("1", "1", "1")},
      phrases=("output cw.csv is the same file as the input cw.csv",)),
    C("mapping-is-input", "onehot", "y.csv", "--mapping", "y.csv", files={"y.csv": Y3_CSV},
      phrases=("output y.csv is the same file as the input",)),
    C("output-missing-folder-compute", "compute", "scce", "y.csv", "p3.csv", "-f", "csv",
      "-o", "nofolder/out.csv", files=YP,
      phrases=("cannot write nofolder/out.csv", "the folder nofolder does not exist",
               "mkdir -p nofolder")),
    C("output-missing-folder-onehot", "onehot", "y.csv", "-o", "a/b/y.npy",
      files={"y.csv": Y3_CSV}, phrases=("cannot write a/b/y.npy", "the folder a/b does not exist")),
    C("output-is-a-folder", "sparse", "oh.csv", "-f", "csv", "-o", "adir",
      files={"oh.csv": OH3_CSV, "adir": None}, phrases=("output adir is a folder",)),
    C("output-unknown-extension", "compute", "scce", "y.csv", "p3.csv", "-o", "out.xyz",
      files=YP, code=2, phrases=("unknown output extension '.xyz'", "--format")),
    C("npy-to-terminal-onehot", "onehot", "y.csv", "-f", "npy", files={"y.csv": Y3_CSV},
      tty=True, code=2, phrases=("refusing to write binary NPY to a terminal", "-o out.npy")),
    C("npy-to-terminal-compute", "compute", "scce", "y.csv", "p3.csv", "-f", "npy", files=YP,
      tty=True, code=2, phrases=("binary NPY to a terminal", "-o out.npy")),
    C("npy-to-terminal-sparse", "sparse", "oh.csv", "-f", "npy", files={"oh.csv": OH3_CSV},
      tty=True, code=2, phrases=("binary NPY to a terminal",)),
    C("inspect-unknown-format", "inspect", "y.csv", "-f", "npy", files={"y.csv": Y3_CSV},
      code=2, phrases=("unknown format 'npy' for inspect", "table or json")),
    C("inspect-strict-misfit", "inspect", "y.csv", "p.csv", "--strict",
      files={"y.csv": Y3_CSV, "p.csv": lines("0.5,0.5", "0.5,0.5")},
      phrases=("y.csv / p.csv", "do not fit together", "3 rows", "2", "--strict")),
    C("click-bad-choice", "compute", "scce", "y.csv", "p3.csv", "--dtype", "float16",
      files=YP, code=2, phrases=("invalid value for '--dtype'", "float16", "lossctl compute --help")),
    C("click-missing-argument", "compute", code=2,
      phrases=("missing argument 'LOSS'",)),
]

IDS = [c.id for c in CASES]
assert len(IDS) == len(set(IDS)), "duplicate case ids"


# --- running a row --------------------------------------------------------------------------------


def _materialise(root: Path, files: dict[str, bytes | None]) -> None:
    for name, content in files.items():
        path = root / name
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file and folder under ``root`` with its bytes (folders as "<dir>")."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        mode = path.lstat().st_mode
        if stat.S_ISDIR(mode):
            out[rel] = "<dir>"
        elif stat.S_ISREG(mode):
            try:
                out[rel] = path.read_bytes()
            except PermissionError:  # a row's unreadable input (chmod 000 as an ordinary user)
                st_ = path.stat()
                out[rel] = f"<unreadable {st_.st_size} {st_.st_mtime_ns}>"
        else:
            out[rel] = f"<special {mode:o}>"
    return out


def _make_unreadable(monkeypatch, root: Path, names: tuple[str, ...]) -> None:
    """Deny reading ``names``: chmod 000 for an ordinary user; root reads anything, so there the
    ``open`` of :mod:`lossctl.io.spec` (which opens every input file) fails with the
    PermissionError the kernel would give."""
    if not names:
        return
    for name in names:
        (root / name).chmod(0)
    probe = root / names[0]
    try:
        probe.open("rb").close()
    except PermissionError:
        return  # chmod works here
    from lossctl.io import spec

    denied = {str((root / n).resolve()) for n in names}
    real_open = builtins.open

    def fake_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.path.realpath(file) in denied:
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(spec, "open", fake_open, raising=False)


def _run_proc(case: Case, root: Path):
    def close_stdin():
        os.close(0)

    proc = subprocess.run(
        [sys.executable, "-m", "lossctl", *case.argv],
        cwd=root,
        env=subprocess_env(),
        stdin=None,
        preexec_fn=close_stdin,
        capture_output=True,
        timeout=60,
    )
    out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    return proc.returncode, out, err


PARAMS = [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                       if c.xfail else []) for c in CASES]


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input(case: Case, tmp_path, monkeypatch, runner):
    root = tmp_path / "work"
    root.mkdir()
    _materialise(root, case.files)
    monkeypatch.chdir(root)
    _make_unreadable(monkeypatch, root, case.unreadable)
    obj = {"stdout_isatty": True} if case.tty else None  # what a terminal on stdout gets
    before = snapshot(root)

    if case.proc:
        code, out, err = _run_proc(case, root)
    else:
        from lossctl.cli import app

        res = runner.invoke(app, list(case.argv), input=case.stdin, obj=obj)
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            import traceback

            tb = "".join(traceback.format_exception(*res.exc_info))
            pytest.fail(f"lossctl {' '.join(case.argv)} raised:\n{tb}")
        code, out, err = res.exit_code, res.stdout, res.stderr

    where = f"lossctl {' '.join(case.argv)}\nexit {code}\nstderr:\n{err}\nstdout:\n{out[:500]}"
    assert code == case.code, where
    assert "Traceback" not in err, where
    assert "internal error" not in err, where
    errors = [ln for ln in err.splitlines() if ln.startswith("lossctl: error: ")]
    if case.code == 0:
        assert errors == [], where
        for phrase in case.phrases:
            assert phrase in err, (phrase, where)
        if not case.phrases:  # accepted quietly: no stray numpy RuntimeWarning, no note
            assert err == "", where
        if case.value is not None:
            assert float(out) == pytest.approx(case.value, rel=1e-12, abs=1e-300), where
        if case.stdout is not None:
            assert out == case.stdout, where
    elif case.click:
        assert errors == [] and "Usage: lossctl" in err, where
        for phrase in case.phrases:
            assert phrase in err, (phrase, where)
    else:
        assert len(errors) == 1, where
        for phrase in case.phrases:
            assert phrase in errors[0], (phrase, where)
        assert out == "" or case.argv[0] == "inspect", where  # inspect reports, then fails

    after = snapshot(root)
    assert after == before, f"files changed: {sorted(set(after) ^ set(before))}\n{where}"


def test_matrix_size_and_coverage():
    """The issue asks for at least 80 rows over compute, onehot, sparse and inspect."""
    assert len(CASES) >= 80
    commands = {c.argv[0] for c in CASES if c.argv}
    assert {"compute", "onehot", "sparse", "inspect"} <= commands
    assert {c.code for c in CASES} == {0, 1, 2}
    assert sum(1 for c in CASES if c.files.get("out.csv") == KEEP) >= 5


# --- a real terminal ------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("argv", [
    ("onehot", "y.csv", "-n", "3", "-f", "npy"),
    ("compute", "scce", "y.csv", "p3.csv", "-f", "npy"),
])
def test_npy_refused_on_a_real_terminal(argv, tmp_path):
    """With stdout on a pseudo-terminal, NPY output is refused (exit 2) and nothing binary is
    sent to the terminal."""
    (tmp_path / "y.csv").write_bytes(Y3_CSV)
    (tmp_path / "p3.csv").write_bytes(P3_CSV)
    master, slave = os.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "lossctl", *argv], cwd=tmp_path,
                              env=subprocess_env(), stdin=subprocess.DEVNULL, stdout=slave,
                              stderr=subprocess.PIPE, timeout=60)
        os.close(slave)
        slave = -1
        sent = b""
        try:
            while chunk := os.read(master, 4096):
                sent += chunk
        except OSError:  # EIO once the terminal's other end is closed
            pass
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert err.count("lossctl: error: ") == 1 and "binary NPY to a terminal" in err, err
    assert b"NUMPY" not in sent
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p3.csv", "y.csv"]
