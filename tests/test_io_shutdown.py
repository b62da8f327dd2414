"""A program that stops reading early must still exit with its own status.

pyarrow parses text one chunk ahead in a worker thread. When the consumer stopped early (a bad
value in the first block, Ctrl-C) while that thread was still inside ``pyarrow.csv.read_csv``,
the interpreter could abort at shutdown ("terminate called without an active exception",
status 134, or a segfault, -11/139): a pool thread released the Python buffer it had parsed
while Python was finalising. The reader now hands pyarrow only Arrow-allocated buffers, and
``Source.close()`` (and, for iterators nobody closed, an atexit hook) stops and joins the worker
before files close and before Python tears down.

The race is narrow (before the fix, one run in 15-30 aborted with these sizes: the window is a
parse still in progress at exit, so the chunks are large enough to take a while to parse), so
one test runs the scenario many times in a row: sequential runs, since concurrent ones hide it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyarrow")

ROOT = Path(__file__).resolve().parent.parent
RUNS = 30

# argv: path, scenario. Reads one block of a text file that streams through pyarrow (it is
# larger than small_text_bytes), then stops while the next chunk is being parsed.
SCRIPT = r"""
import sys
from lossctl.io import ReadOptions, open_source

path, scenario = sys.argv[1], sys.argv[2]
options = ReadOptions(small_text_bytes=0, chunk_bytes=4 << 20, block_rows=1000)
kept = []

def closed_by_with():
    with open_source(path, options) as src:
        blocks = src.blocks()
        kept.append(blocks)  # the iterator outlives the source, as a traceback keeps it
        for block in blocks:
            raise ValueError("a bad value in the first block")

if scenario == "with":
    try:
        closed_by_with()
    except ValueError:
        sys.exit(3)
else:  # never closed: the source and its iterator are left to interpreter shutdown
    src = open_source(path, options)
    it = src.blocks()
    next(it)
    raise SystemExit(4)
"""
EXPECTED = {"with": 3, "leaked": 4}


@pytest.fixture(scope="module")
def big_text(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("shutdown") / "labels.csv"
    path.write_bytes(b"1\n" * 4_500_000)  # 9 MB: a parsed chunk of 4 MB and two more to go
    return str(path)


def test_early_stop_while_pyarrow_parses_exits_cleanly(big_text):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    results = []
    for i in range(RUNS):
        scenario = "with" if i % 2 == 0 else "leaked"
        proc = subprocess.run([sys.executable, "-c", SCRIPT, big_text, scenario], env=env,
                              capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
        results.append((scenario, proc.returncode, proc.stderr.decode(errors="replace")[-300:]))
    bad = [r for r in results if r[1] != EXPECTED[r[0]]]
    assert not bad, f"{len(bad)} of {RUNS} runs ended wrongly: {bad[:3]}"
    assert not any("terminate called" in r[2] for r in results)
