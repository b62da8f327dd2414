#!/usr/bin/env python3
"""Per-sample CSV output against the reader of the same rows (issue #16), in-process.

For N rows of ``index, label, predicted, loss`` (int64, int64, int64, float64: the per-sample
CSV ``lossctl compute scce y p -f csv -o out.csv`` writes; fixed seed, losses ~ -log of
uniform probabilities, as scce gives), this times, in one process, medians of a few repeats:

* ``before``: today's cell-by-cell writer, reproduced here (``str``/``repr`` over ``tolist()``
  per column, joined row by row: what ``CsvSink`` did before the bulk text), block by block;
* ``after``: the installed lossctl's ``open_sink("csv", ...)``, block by block;
* ``reader``: lossctl's reader on the file written (``open_source`` + every block).

Both writers write to an in-memory buffer, so the disk is out of the writers' times; the
reader reads a warm file. It prints each time, ``after`` against ``before`` and both against
``reader`` (the target: at most 2x), and checks that both writers wrote the same text and that
the reader gets back the same float64 bits.

    python benchmarks/output.py                   # 2M rows, 3 repeats
    python benchmarks/output.py --rows 5000000 --repeats 1

Run it with the Python that has lossctl installed (``/work/venv/bin/python``); nothing else.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time

import numpy as np

NAMES = ["index", "label", "predicted", "loss"]


def columns(rows: int, seed: int = 16) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.random(rows) * 0.999 + 1e-3
    return [np.arange(rows, dtype=np.int64), rng.integers(0, 10, rows),
            rng.integers(0, 10, rows), -np.log(p)]


def blocks(cols: list[np.ndarray], step: int):
    for a in range(0, len(cols[0]), step):
        yield [c[a:a + step] for c in cols]


def write_before(cols: list[np.ndarray], step: int) -> str:
    """The writer before the bulk text: every cell through str()/repr(), joined per row."""
    out = io.StringIO()
    out.write(",".join(NAMES) + "\n")
    for blk in blocks(cols, step):
        cells = [list(map(repr if c.dtype.kind == "f" else str, c.tolist())) for c in blk]
        out.write("\n".join(map(",".join, zip(*cells))) + "\n")
    return out.getvalue()


def write_after(cols: list[np.ndarray], step: int) -> str:
    from lossctl.out import open_sink

    out = io.StringIO()
    with open_sink("csv", NAMES, stdout=out) as sink:
        for blk in blocks(cols, step):
            sink.write(*blk)
    return out.getvalue()


def read(path: str) -> np.ndarray:
    from lossctl.io import ReadOptions, open_source

    loss = []
    with open_source(path, ReadOptions(header=True)) as src:
        for block in src.blocks(src.select(None)):
            loss.append(np.asarray(block.data)[:, -1])
    return np.concatenate(loss)


def timed(fn, repeats: int):
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--block", type=int, default=65536, help="rows per block written")
    args = ap.parse_args()

    cols = columns(args.rows)
    t_before, text_before = timed(lambda: write_before(cols, args.block), args.repeats)
    t_after, text_after = timed(lambda: write_after(cols, args.block), args.repeats)
    with tempfile.TemporaryDirectory(prefix="lossctl-bench-out-") as tmp:
        path = os.path.join(tmp, "out.csv")
        with open(path, "w") as fh:
            fh.write(text_after)
        size = os.path.getsize(path)
        read(path)  # warm the file and the reader's imports
        t_read, loss = timed(lambda: read(path), args.repeats)
    same = text_before == text_after
    exact = loss.dtype == np.float64 and np.array_equal(loss.view(np.uint64),
                                                        cols[3].view(np.uint64))
    print(f"{args.rows:,} rows ({size / 1e6:.0f} MB of CSV), blocks of {args.block:,} rows, "
          f"median of {args.repeats}\n")
    print("| step | time | vs reader |")
    print("|---|---|---|")
    for name, t in (("reader", t_read), ("before", t_before), ("after", t_after)):
        print(f"| {name} | {t * 1000:.0f} ms | {t / t_read:.2f}x |")
    print(f"\nafter is {t_before / t_after:.1f}x faster than before; same text: "
          f"{'yes' if same else 'NO'}; read back bit for bit: {'yes' if exact else 'NO'}")
    if not (same and exact):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
