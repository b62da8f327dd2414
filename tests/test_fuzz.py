"""Fuzzing the readers through the commands: random bytes as CSV and NPY files.

Random bytes, CSV-like token soup, rows of numbers with odd separators, valid NPY files of many
dtypes and shapes, object arrays, and NPY files with mutated bytes and headers are fed through
``lossctl compute scce`` (as labels or as predictions), ``lossctl compute mse`` and
``lossctl onehot`` (in-process, typer's CliRunner). The oracle for every input:

* the exit status is 0, 1 or 2, a non-zero status comes with exactly one ``lossctl: error:``
  line (or click's own usage message), and no traceback or "internal error" is printed;
* no input takes more than ``PER_INPUT_SECONDS`` (SIGALRM interrupts it and the test fails).

Budget: each fuzz test stops drawing new work after ``LOSSCTL_FUZZ_SECONDS`` (default 4 s; the
file runs in well under 60 s with ``HYPOTHESIS_PROFILE=ci``) or ``LOSSCTL_FUZZ_EXAMPLES``
examples (default: 20x the profile's max_examples, at least 2000). A longer run by hand::

    LOSSCTL_FUZZ_SECONDS=900 LOSSCTL_FUZZ_EXAMPLES=100000 HYPOTHESIS_PROFILE=ci \\
        /work/devenv/bin/python -m pytest tests/test_fuzz.py -q -s

(about 100-150 inputs a second per test on a 2-core machine; ``-s`` prints how many inputs
each test ran and which known reader bugs it met).

Every crashing input ever found is kept, minimised, in ``tests/fuzz_corpus/`` and listed in its
``MANIFEST.json``; :func:`test_corpus_replay` runs them all. Known reader bugs that the fuzzer
keeps rediscovering are listed in ``KNOWN_READER_BUGS`` (matched on their message), tolerated
by the fuzz tests and replayed as strict xfails from the corpus, so fixing one makes the
corpus replay fail until its ``xfail`` is removed from the manifest.
"""
from __future__ import annotations

import io
import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

CORPUS = Path(__file__).parent / "fuzz_corpus"
PER_INPUT_SECONDS = 5.0
BUDGET_SECONDS = float(os.environ.get("LOSSCTL_FUZZ_SECONDS", "4"))
# About 75 inputs a second fit on a quiet 2-core machine: enough examples to fill the budget, and
# not many more, since hypothesis still draws the examples left once the budget is spent.
EXAMPLES = int(os.environ.get("LOSSCTL_FUZZ_EXAMPLES", "0")) or max(
    int(100 * BUDGET_SECONDS), 4 * settings.default.max_examples)

#: Message fragments of reader bugs that are reported and replayed from the corpus as strict
#: xfails (tests/fuzz_corpus/MANIFEST.json); the fuzzer tolerates them until they are fixed.
KNOWN_READER_BUGS: dict[str, str] = {
    # fixed ones ("new-line character seen in unquoted field" for a lone CR, "nrows must be
    # >= 0" for a negative NPY dimension, "invalid maximum character passed to PyUnicode_New"
    # for NPY text beyond U+10FFFF) are replayed from the corpus as ordinary cases
}

fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the per-input bound below is the real one
    suppress_health_check=list(HealthCheck),
)


class InputTimeout(BaseException):
    """Raised by SIGALRM inside a command that ran longer than PER_INPUT_SECONDS (a
    BaseException, so neither lossctl nor click can swallow it)."""


def _alarm(signum, frame):
    raise InputTimeout


_COMMAND = None


@pytest.fixture
def run_bounded(runner, monkeypatch):
    """``run_bounded(argv, stdin=None)`` -> click Result, or a test failure on a hang.

    The click command behind ``lossctl`` is built once: typer's CliRunner rebuilds it from the
    function signatures on every call, which is 90% of a small command's time."""
    global _COMMAND
    import typer.testing

    from lossctl.cli import app

    if _COMMAND is None:
        _COMMAND = typer.main.get_command(app)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: _COMMAND)
    previous = signal.signal(signal.SIGALRM, _alarm)

    def run(argv, stdin=None):
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, PER_INPUT_SECONDS)
        try:
            return runner.invoke(app, [str(a) for a in argv], input=stdin)
        except InputTimeout:
            pytest.fail(f"lossctl {' '.join(map(str, argv))} ran for more than "
                        f"{PER_INPUT_SECONDS} s (stopped after {time.perf_counter() - t0:.1f} s)")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    yield run
    signal.signal(signal.SIGALRM, previous)


class Budget:
    """Wall-clock budget of one fuzz test: examples after it is spent do nothing."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.runs = 0
        self.failed = False  # once an input failed, hypothesis must be able to replay/shrink it

    def spent(self) -> bool:
        return time.monotonic() > self.end and not self.failed

    def run(self, run_bounded, argv, stdin=None) -> None:
        try:
            check(run_bounded(argv, stdin), argv)
        except BaseException:
            self.failed = True
            raise


@pytest.fixture
def budget(request):
    b = Budget(BUDGET_SECONDS)
    yield b
    known = ", ".join(f"{k}: {v}" for k, v in KNOWN_HITS.items() if v) or "none"
    print(f"\n{request.node.name}: {b.runs} inputs fuzzed; known reader bugs hit: {known}")


KNOWN_HITS = dict.fromkeys(KNOWN_READER_BUGS, 0)


def check(res, argv) -> None:
    """The fuzz oracle (see the module docstring)."""
    err = res.stderr
    known = [name for name, frag in KNOWN_READER_BUGS.items() if frag in err]
    if known:
        KNOWN_HITS[known[0]] += 1
        return  # reported reader bug, replayed as a strict xfail from the corpus
    where = f"lossctl {' '.join(map(str, argv))}\nexit {res.exit_code}\nstderr:\n{err}"
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        import traceback

        tb = "".join(traceback.format_exception(*res.exc_info))
        pytest.fail(f"{where}\nraised:\n{tb}")
    assert res.exit_code in (0, 1, 2), where
    assert "Traceback" not in err, where
    assert "internal error" not in err, where
    if res.exit_code != 0:
        errors = [ln for ln in err.splitlines() if ln.startswith("lossctl: error: ")]
        assert len(errors) == 1 or (res.exit_code == 2 and "Usage: lossctl" in err), where


# --- byte strategies ------------------------------------------------------------------------------

TOKENS = [
    b"0", b"1", b"2", b"7", b"-1", b"0.5", b"0.25", b"1.0000001", b"3.0", b"2.5", b"1e308",
    b"-1e308", b"5e-324", b"1e400", b"nan", b"-inf", b"Infinity", b"NA", b"null", b"true",
    b"False", b"cat", b"label", b"p0", b"9007199254740993", b"1_000", b"1,000", b"0,5", b"",
    b" ", b"  ", b"\t", b",", b",", b",", b";", b"|", b'"', b'""', b"'", b"#", b"\n", b"\n",
    b"\n", b"\r\n", b"\r", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"\xe9", b"\xc3\xa9",
]
CSV_SOUP = st.lists(st.sampled_from(TOKENS), max_size=80).map(b"".join)
NUMBER = st.one_of(
    st.integers(-3, 12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NA", "1e-320", "-0.0", "0.5", "3.0"]),
)
CSV_ROWS = st.builds(
    lambda rows, sep, end, header: (header + end if header else "")
    + end.join(sep.join(r) for r in rows) + end,
    st.lists(st.lists(NUMBER, min_size=1, max_size=4), min_size=1, max_size=12),
    st.sampled_from([",", "\t", ";", " ", ", "]),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["", "label", "a,b,c", "p0\tp1"]),
).map(lambda s: s.encode("utf-8", "surrogatepass"))
TEXT_BYTES = st.one_of(st.binary(max_size=300), CSV_SOUP, CSV_ROWS)

NPY_DTYPES = ["<i8", "<i4", "|i1", "|u1", "<u8", "<f8", "<f4", "<f2", ">f8", ">i4", "|b1", "<U3",
              "|S2", "<c16"]


def _npy_bytes(arr: np.ndarray, fortran: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asfortranarray(arr) if fortran else arr,
            allow_pickle=arr.dtype.kind == "O")
    return buf.getvalue()


@st.composite
def valid_npy(draw):
    dtype = np.dtype(draw(st.sampled_from(NPY_DTYPES)))
    shape = draw(st.sampled_from([(), (0,), (3,), (4, 1), (3, 3), (2, 5), (2, 2, 2), (0, 3),
                                  (3, 0)]))
    if dtype.kind == "U":
        elements = st.sampled_from(["a", "b", "1", "", "nan"])
    elif dtype.kind == "S":
        elements = st.sampled_from([b"a", b"b", b"1", b"", b"na"])
    elif dtype.kind == "b":
        elements = st.booleans()
    elif dtype.kind == "c":
        elements = st.complex_numbers(max_magnitude=10)
    elif dtype.kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, width=8 * min(dtype.itemsize, 8))
    else:
        info = np.iinfo(dtype)
        elements = st.integers(max(info.min, -5), min(info.max, 12))
    arr = draw(hnp.arrays(dtype, shape, elements=elements))
    return _npy_bytes(arr, fortran=draw(st.booleans()) and arr.ndim == 2)


OBJECT_NPY = st.sampled_from([
    _npy_bytes(np.array([0, 1, 2], dtype=object)),
    _npy_bytes(np.array([{"a": 1}, [2]], dtype=object)),
])

HEADER_EDITS = [b"(", b")", b",", b"'", b"-1", b"-1, ", b"0", b"99999999999999999999", b"2, 2, ",
                b"'|O'", b"'<U0'", b"'<V8'", b"'<M8[s]'", b"'<f16'", b"True", b"None", b"{", b"}",
                b"'shape': (2, 0), ", b"__import__('os').system('true')", b"\x00", b"\n"]


@st.composite
def mutated_npy(draw):
    data = bytearray(draw(st.one_of(valid_npy(), OBJECT_NPY)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "cut", "insert", "header", "length", "truncate"]))
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[i:i + draw(st.integers(1, 16))]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "truncate":
            del data[i:]
        elif op == "length" and len(data) >= 10:  # the little-endian header length field
            data[8:10] = draw(st.integers(0, 0xFFFF)).to_bytes(2, "little")
        else:  # edit the header dict text
            end = data.find(b"\n")
            if end > 10:
                j = draw(st.integers(10, end))
                k = draw(st.integers(j, min(end, j + 12)))
                data[j:k] = draw(st.sampled_from(HEADER_EDITS))
    return bytes(data)


NPY_BYTES = st.one_of(valid_npy(), OBJECT_NPY, mutated_npy(), st.binary(max_size=200).map(
    lambda b: b"\x93NUMPY" + b))

# --- the fuzz targets -----------------------------------------------------------------------------

TWO_LABELS = b"0\n1\n"
TWO_PROBS = b"0.2,0.3,0.5\n0.1,0.8,0.1\n"


def _commands(target: str, path: Path, tmp: Path) -> list[list[str]]:
    """The command lines that read the fuzzed file ``path`` for ``target``."""
    (tmp / "labels.csv").write_bytes(TWO_LABELS)
    (tmp / "probs.csv").write_bytes(TWO_PROBS)
    if target == "scce-labels":
        return [["compute", "scce", path, tmp / "probs.csv"]]
    if target == "scce-predictions":
        return [["compute", "scce", tmp / "labels.csv", path, "-f", "csv"]]
    if target == "mse":
        return [["compute", "mse", path, path, "-r", "none"]]
    if target == "onehot":
        return [["onehot", path, "-n", "4"],
                # inferred classes: write NPY to the null device, however wide it gets
                ["onehot", path, "-f", "npy", "-o", os.devnull, "-q"]]
    raise AssertionError(target)


TARGETS = ["scce-labels", "scce-predictions", "mse", "onehot"]


# The budget is checked after hypothesis drew the input (drawing less once it is spent would make
# data generation depend on outside state, which hypothesis rejects as flaky), so spent examples
# still cost their generation, about 1 ms: size LOSSCTL_FUZZ_EXAMPLES to the time you give.


@fuzz_settings
@given(data=TEXT_BYTES, target=st.sampled_from(TARGETS), ext=st.sampled_from([".csv", ".txt", ""]))
def test_fuzz_text(run_bounded, budget, tmp_path, data, target, ext):
    if budget.spent():
        return
    path = tmp_path / f"fuzzed{ext}"
    path.write_bytes(data)
    for argv in _commands(target, path, tmp_path):
        budget.run(run_bounded, argv)
    budget.runs += 1


@fuzz_settings
@given(data=NPY_BYTES, target=st.sampled_from(TARGETS))
def test_fuzz_npy(run_bounded, budget, tmp_path, data, target):
    if budget.spent():
        return
    path = tmp_path / "fuzzed.npy"
    path.write_bytes(data)
    for argv in _commands(target, path, tmp_path):
        budget.run(run_bounded, argv)
    budget.runs += 1


@fuzz_settings
@given(data=st.one_of(TEXT_BYTES, NPY_BYTES), target=st.sampled_from(["onehot", "scce"]))
def test_fuzz_stdin(run_bounded, budget, tmp_path, data, target):
    """The same bytes through a pipe: the format is sniffed from the content alone."""
    if budget.spent():
        return
    (tmp_path / "probs.csv").write_bytes(TWO_PROBS)
    argv = ["onehot", "-n", "4"] if target == "onehot" else \
        ["compute", "scce", "-", tmp_path / "probs.csv"]
    budget.run(run_bounded, argv, stdin=data)
    budget.runs += 1


# --- the corpus -----------------------------------------------------------------------------------


def _corpus_cases():
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text())
    params = []
    for case in manifest["cases"]:
        marks = []
        if case.get("xfail"):
            marks.append(pytest.mark.xfail(strict=True, reason=case["xfail"]))
        params.append(pytest.param(case, id=case["id"], marks=marks))
    return params


@pytest.mark.parametrize("case", _corpus_cases())
def test_corpus_replay(case, run_bounded, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything a command writes lands here, never in the corpus
    argv = [str(CORPUS / a[1:]) if a.startswith("@") else a for a in case["argv"]]
    for a in case["argv"]:
        if a.startswith("@"):
            assert (CORPUS / a[1:]).is_file(), f"corpus file {a[1:]} is missing"
    res = run_bounded(argv)
    err = res.stderr
    where = f"lossctl {' '.join(case['argv'])}\nexit {res.exit_code}\nstderr:\n{err}"
    assert res.exception is None or isinstance(res.exception, SystemExit), where
    assert res.exit_code in (0, 1, 2), where
    assert "Traceback" not in err and "internal error" not in err, where
    if "code" in case:
        assert res.exit_code == case["code"], where
    if res.exit_code != 0:
        assert sum(ln.startswith("lossctl: error: ") for ln in err.splitlines()) == 1, where
    assert list(tmp_path.iterdir()) == [], where


def test_corpus_files_are_small_and_listed():
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text())
    used = {a[1:] for c in manifest["cases"] for a in c["argv"] if a.startswith("@")}
    files = {p.name for p in CORPUS.iterdir() if p.name != "MANIFEST.json"}
    assert files == used, f"unlisted: {files - used}, missing: {used - files}"
    assert all((CORPUS / f).stat().st_size <= 4096 for f in files)
    assert len({c["id"] for c in manifest["cases"]}) == len(manifest["cases"])
