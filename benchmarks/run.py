#!/usr/bin/env python3
"""lossctl benchmark suite: whole-process wall time and peak memory, side by side with baselines.

Run it with the Python that has lossctl installed (it needs numpy to generate the inputs)::

    python benchmarks/run.py                     # default set, a few minutes
    python benchmarks/run.py --big               # + 10M x 10 NPY
    python benchmarks/run.py --huge              # + the 8 GB streaming case (needs ~11 GB free disk)
    python benchmarks/run.py --threads           # + 1 vs 2 threads
    python benchmarks/run.py --jobs              # + 16 shards on 1 vs 2 worker processes
    python benchmarks/run.py --markdown results.md --readme   # write the table / update README.md

Every measured command is a separate process, started under ``/usr/bin/time -f %M`` (or, when
that is missing, a tiny Python launcher that forks, execs and ``os.wait4``s it), which reports the
command's own peak resident set size. Not ``resource.getrusage(RUSAGE_CHILDREN)`` (the maximum
over all children so far) and not ``os.wait4`` on a direct child of this script either: on Linux
a child's ``ru_maxrss`` starts at the RSS of the process it was forked from, i.e. this script
with its generated arrays (see :func:`_launcher`). Wall time is measured around start ... exit,
so interpreter start-up and imports count, as they do for a user. The commands of a
comparison are run interleaved (baseline, candidate, baseline, candidate, ...) after one untimed
warm-up each (page cache, ``.pyc`` files), and the table shows medians.

Inputs are generated deterministically (fixed seeds) into ``benchmarks/data/`` (git-ignored) and
reused by later runs; see ``generate_pair`` for how, and README.md for what each row means.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

try:
    import numpy as np
except ImportError:  # pragma: no cover - message for a wrong interpreter
    sys.exit("benchmarks/run.py needs numpy: run it with the Python that has lossctl installed "
             "(e.g. /work/devenv/bin/python benchmarks/run.py)")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
README = os.path.join(HERE, "README.md")

# --- data generation ------------------------------------------------------------------------------

#: Bump when the generator changes: cached files with another version are regenerated.
GEN_VERSION = 1
SEED = 5_2024
CLASSES = 10
#: Probabilities are multiples of 2**-24: exact in float32 and float64, and every row sums to
#: exactly 1 in both, so renormalising (Keras) is the identity and every implementation sees the
#: same numbers (the 8 GB check compares to 1e-12).
QUANTUM_BITS = 24
GEN_CHUNK = 1_000_000  # rows per generator chunk; chunk k is seeded (SEED, k): a prefix of a
#                        bigger file equals the smaller file


def _chunk_labels(k: int, n: int) -> tuple[np.random.Generator, np.ndarray]:
    rng = np.random.default_rng([SEED, k])
    return rng, rng.integers(0, CLASSES, size=n, dtype=np.int64)


def make_chunk(k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of chunk ``k``: int64 labels (n,) and float32 probabilities (n, CLASSES).

    A mediocre classifier: logits N(0, 1.5^2) with +2 on the true class (accuracy about 0.45,
    mean cross-entropy about 1.6), softmaxed, quantised to multiples of 2**-24 with every entry
    at least 2**-24 (no zeros: PyTorch's log would give inf) and the rounding remainder put on
    the largest entry so each row sums to exactly 1.
    """
    rng, y = _chunk_labels(k, n)
    z = rng.standard_normal((n, CLASSES), dtype=np.float32)
    z *= 1.5
    rows = np.arange(n)
    z[rows, y] += 2.0
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    scale = float(1 << QUANTUM_BITS)
    q = np.floor(z.astype(np.float64) * scale).astype(np.int64)
    del z
    np.maximum(q, 1, out=q)
    q[rows, q.argmax(axis=1)] += (1 << QUANTUM_BITS) - q.sum(axis=1)
    p = (q / scale).astype(np.float32)  # exact: q < 2**24
    return y, p


def _npy_header(f, dtype: np.dtype, shape: tuple[int, ...]) -> None:
    np.lib.format.write_array_header_1_0(
        f, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    )


def _npy_shape(path: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, data offset) of an NPY file, from its header only."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        return shape, dtype, f.tell()


def _fresh(paths: list[str], stamp: str) -> bool:
    if not (all(os.path.exists(p) for p in paths) and os.path.exists(stamp)):
        return False
    with open(stamp) as f:
        return f.read() == _stamp_text()


def _write_stamp(stamp: str) -> None:
    """Mark the files a generator just wrote as fresh (see :func:`_fresh`)."""
    with open(stamp, "w") as f:
        f.write(_stamp_text())


def _stale(paths: list[str], stamp: str, what: str, log: Callable[[str], None],
           valid: Callable[[], bool] = lambda: True) -> bool:
    """Whether a generator must (re)write ``paths``: they are not fresh (:func:`_fresh`) or
    not ``valid()``. Then it says so (``generating WHAT``) and drops the stamp first, so that
    an interrupted write is never taken for a finished one."""
    if _fresh(paths, stamp) and valid():
        return False
    log(f"generating {what}")
    _remove(stamp)
    return True


def _stamp_text() -> str:
    return json.dumps({"gen_version": GEN_VERSION, "seed": SEED, "classes": CLASSES, "chunk": GEN_CHUNK})


def generate_pair(data: str, name: str, rows: int, *, log: Callable[[str], None]) -> tuple[str, str]:
    """Write ``{name}_labels.npy`` (int64 (rows,)) and ``{name}_probs.npy`` (float32 (rows, 10)).

    Streams chunk by chunk (header first, then raw rows), so no more than one chunk is ever in
    memory, whatever ``rows`` is. Cached: kept files with the same generator version are reused.
    """
    lab = os.path.join(data, f"{name}_labels.npy")
    prob = os.path.join(data, f"{name}_probs.npy")
    stamp = os.path.join(data, f"{name}.stamp")
    if not _stale([lab, prob], stamp, f"{name}: {rows:,} x {CLASSES} float32 probabilities + "
                  f"int64 labels ({(rows * (CLASSES * 4 + 8)) / 1e9:.2f} GB)", log,
                  lambda: _npy_shape(lab)[0] == (rows,) and _npy_shape(prob)[0] == (rows, CLASSES)):
        return lab, prob
    t0 = time.perf_counter()
    with open(lab + ".tmp", "wb") as fl, open(prob + ".tmp", "wb") as fp:
        _npy_header(fl, np.dtype(np.int64), (rows,))
        _npy_header(fp, np.dtype(np.float32), (rows, CLASSES))
        done = 0
        k = 0
        while done < rows:
            n = min(GEN_CHUNK, rows - done)
            y, p = make_chunk(k, n)
            fl.write(memoryview(y).cast("B"))
            fp.write(memoryview(np.ascontiguousarray(p)).cast("B"))
            done += n
            k += 1
            if k % 20 == 0:
                log(f"  {done:,} rows ({time.perf_counter() - t0:.0f} s)")
    os.replace(lab + ".tmp", lab)
    os.replace(prob + ".tmp", prob)
    _write_stamp(stamp)
    log(f"  done in {time.perf_counter() - t0:.1f} s")
    return lab, prob


def generate_labels(data: str, name: str, rows: int, *, log: Callable[[str], None]) -> str:
    """Only the labels of :func:`generate_pair` (the same values), for ``onehot``."""
    lab = os.path.join(data, f"{name}_labels.npy")
    stamp = os.path.join(data, f"{name}.labels.stamp")
    pair_stamp = os.path.join(data, f"{name}.stamp")
    if (_fresh([lab], stamp) or _fresh([lab], pair_stamp)) and _npy_shape(lab)[0] == (rows,):
        return lab
    log(f"generating {name} labels: {rows:,} int64")
    _remove(stamp)
    with open(lab + ".tmp", "wb") as fl:
        _npy_header(fl, np.dtype(np.int64), (rows,))
        done, k = 0, 0
        while done < rows:
            n = min(GEN_CHUNK, rows - done)
            fl.write(memoryview(_chunk_labels(k, n)[1]).cast("B"))
            done += n
            k += 1
    os.replace(lab + ".tmp", lab)
    _write_stamp(stamp)
    return lab


#: The N-D case: segmentation logits (N, C, H, W) float32 in PyTorch's layout, uint8 label maps
#: with void pixels (255): 1,000 images of 21 classes at 64 x 64 are 344 MB of logits.
SEG_SHAPE = (1000, 21, 64, 64)


def generate_segmentation(data: str, *, log: Callable[[str], None]) -> tuple[str, str]:
    """Label maps ``(N, H, W)`` uint8 (about 2% void 255) and logits ``(N, C, H, W)`` float32,
    written image block by image block."""
    n, c, h, w = SEG_SHAPE
    lab = os.path.join(data, "seg_labels.npy")
    logit = os.path.join(data, "seg_logits.npy")
    stamp = os.path.join(data, "seg.stamp")
    if not _stale([lab, logit], stamp, f"segmentation maps: logits {SEG_SHAPE} float32, labels "
                  "uint8", log, lambda: _npy_shape(logit)[0] == SEG_SHAPE):
        return lab, logit
    rng = np.random.default_rng(12)
    with open(lab + ".tmp", "wb") as fl, open(logit + ".tmp", "wb") as fz:
        _npy_header(fl, np.dtype(np.uint8), (n, h, w))
        _npy_header(fz, np.dtype(np.float32), SEG_SHAPE)
        for _ in range(0, n, 50):
            y = rng.integers(0, c, (50, h, w)).astype(np.uint8)
            y[rng.random((50, h, w)) < 0.02] = 255
            z = rng.standard_normal((50, c, h, w), dtype=np.float32)
            z[np.arange(50)[:, None, None], np.minimum(y, c - 1), np.arange(h)[None, :, None],
              np.arange(w)[None, None, :]] += 2.0
            fl.write(y.tobytes())
            fz.write(z.tobytes())
    os.replace(lab + ".tmp", lab)
    os.replace(logit + ".tmp", logit)
    _write_stamp(stamp)
    return lab, logit


def generate_csv(data: str, name: str, lab_npy: str, prob_npy: str, *, log: Callable[[str], None]) -> tuple[str, str]:
    """The same rows as CSV: ``label`` header + ints; ``p0..p9`` header + ``%.7g`` floats (~110 MB
    for 1M rows). ``%.7g`` is what a typical export writes; the values are then not exactly the
    NPY's, so CSV rows are compared with the pandas baseline on the same file, not with the NPY."""
    lab = os.path.join(data, f"{name}_labels.csv")
    prob = os.path.join(data, f"{name}_probs.csv")
    stamp = os.path.join(data, f"{name}.csv.stamp")
    if not _stale([lab, prob], stamp, f"{name} CSV", log):
        return lab, prob
    t0 = time.perf_counter()
    y = np.load(lab_npy, mmap_mode="r")
    p = np.load(prob_npy, mmap_mode="r")
    fmt = ",".join(["%.7g"] * CLASSES)
    with open(lab + ".tmp", "w", newline="\n") as fl, open(prob + ".tmp", "w", newline="\n") as fp:
        fl.write("label\n")
        fp.write(",".join(f"p{j}" for j in range(CLASSES)) + "\n")
        for i in range(0, len(y), 200_000):
            fl.write("\n".join(map(str, y[i : i + 200_000].tolist())) + "\n")
            np.savetxt(fp, np.asarray(p[i : i + 200_000], dtype=np.float64), fmt=fmt)
    del y, p
    os.replace(lab + ".tmp", lab)
    os.replace(prob + ".tmp", prob)
    _write_stamp(stamp)
    log(f"  {os.path.getsize(prob) / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s")
    return lab, prob


def generate_shards(data: str, name: str, files: list[str], shards: int, *,
                    log: Callable[[str], None]) -> list[str]:
    """Each of ``files`` (NPY, or CSV with a header line) cut into ``shards`` row ranges, as
    folders ``{name}_{i}/part-{k}.{ext}`` of the same rows (the values are the files' own)."""
    out = [os.path.join(data, f"{name}_{i}") for i in range(len(files))]
    stamp = os.path.join(data, f"{name}.shards.stamp")
    if not _stale(out, stamp, f"{name} ({shards} shards)", log):
        return out
    for src, folder in zip(files, out):
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        if src.endswith(".npy"):
            a = np.load(src, mmap_mode="r")
            for k, part in enumerate(np.array_split(np.arange(len(a)), shards)):
                np.save(os.path.join(folder, f"part-{k}.npy"), np.asarray(a[part[0]:part[-1] + 1]))
            del a
        else:
            with open(src) as f:
                head, lines = f.readline(), f.readlines()
            for k, part in enumerate(np.array_split(np.arange(len(lines)), shards)):
                with open(os.path.join(folder, f"part-{k}.csv"), "w", newline="\n") as g:
                    g.write(head)
                    g.writelines(lines[part[0]:part[-1] + 1])
            del lines
    _write_stamp(stamp)
    return out


def generate_logits(data: str, name: str, prob_npy: str, *, log: Callable[[str], None]) -> str:
    """``log(p)`` of the probabilities as float32 logits (the softmax of each row is p again)."""
    out = os.path.join(data, f"{name}_logits.npy")
    stamp = os.path.join(data, f"{name}.logits.stamp")
    if not _stale([out], stamp, f"{name} logits", log):
        return out
    p = np.load(prob_npy, mmap_mode="r")
    with open(out + ".tmp", "wb") as f:
        _npy_header(f, np.dtype(np.float32), p.shape)
        for i in range(0, len(p), GEN_CHUNK):
            z = np.log(np.maximum(np.asarray(p[i:i + GEN_CHUNK], dtype=np.float32), 1e-30))
            f.write(memoryview(np.ascontiguousarray(z, dtype=np.float32)).cast("B"))
    del p
    os.replace(out + ".tmp", out)
    _write_stamp(stamp)
    return out


def generate_parquet(data: str, name: str, lab_npy: str, prob_npy: str, *,
                     log: Callable[[str], None]) -> str:
    """One Parquet file: ``label`` (int64) and ``p0..p9`` (float32), row groups of 1M rows
    (what pyarrow and Spark write by default, about)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = os.path.join(data, f"{name}.parquet")
    stamp = os.path.join(data, f"{name}.parquet.stamp")
    if not _stale([out], stamp, f"{name} Parquet", log):
        return out
    y = np.load(lab_npy, mmap_mode="r")
    p = np.load(prob_npy, mmap_mode="r")
    schema = pa.schema([("label", pa.int64())] + [(f"p{j}", pa.float32()) for j in range(CLASSES)])
    with pq.ParquetWriter(out + ".tmp", schema) as w:
        for i in range(0, len(y), 1_000_000):
            blk = np.asarray(p[i:i + 1_000_000])
            w.write_table(pa.table([pa.array(np.asarray(y[i:i + 1_000_000]))] +
                                   [pa.array(blk[:, j]) for j in range(CLASSES)], schema=schema))
    del y, p
    os.replace(out + ".tmp", out)
    _write_stamp(stamp)
    return out


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def reference_scce(lab_npy: str, prob_npy: str, chunk: int = 1_000_000) -> float:
    """Keras sparse categorical cross-entropy, mean, computed independently of lossctl.

    Reads both files in row chunks with plain ``readinto`` (no memory map, so this process stays
    small too), then per row ``-log(clip(p / sum(p), 1e-7, 1 - 1e-7)[y])`` in float64, each chunk
    summed with numpy's pairwise sum and the chunk sums added exactly (``math.fsum``).
    """
    (n,), ldt, loff = _npy_shape(lab_npy)
    (n2, c), pdt, poff = _npy_shape(prob_npy)
    assert n == n2, (n, n2)
    ybuf = np.empty(chunk, dtype=ldt)
    pbuf = np.empty((chunk, c), dtype=pdt)
    partials: list[float] = []
    with open(lab_npy, "rb", buffering=0) as fl, open(prob_npy, "rb", buffering=0) as fp:
        fl.seek(loff)
        fp.seek(poff)
        done = 0
        while done < n:
            m = min(chunk, n - done)
            _readinto_all(fl, memoryview(ybuf[:m]).cast("B"))
            _readinto_all(fp, memoryview(pbuf[:m]).cast("B"))
            p = pbuf[:m].astype(np.float64)
            p /= p.sum(axis=1, keepdims=True)
            py = np.clip(p[np.arange(m), ybuf[:m]], 1e-7, 1 - 1e-7)
            partials.append(float(np.sum(-np.log(py))))
            done += m
    return math.fsum(partials) / n


def _readinto_all(f, mv: memoryview) -> None:
    got = 0
    while got < len(mv):
        k = f.readinto(mv[got:])
        if not k:
            raise EOFError("file shorter than its header says")
        got += k


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float  # seconds
    rss_mb: float  # peak resident set size of the child, MB (10**6 bytes)
    rc: int
    stdout_tail: str
    stderr_tail: str
    timed_out: bool = False
    cpu: float = 0.0  # user + system CPU seconds of the command


#: Fallback launcher when /usr/bin/time is missing: a bare Python that forks + execs the command and
#: writes the child's ru_maxrss (KB) to the file in argv[1]. Its own ~9 MB count as a floor.
_LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    try:\n"
    "        os.execvp(sys.argv[2], sys.argv[2:])\n"
    "    finally:\n"
    "        os._exit(127)\n"
    "_, st, ru = os.wait4(pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(ru.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(st) % 256)\n"
)


def _launcher(rss_file: str) -> list[str]:
    """The prefix that runs a command and writes its peak RSS (KB) to rss_file.

    Why not ``os.wait4`` on a child of this process: on Linux a child's ``ru_maxrss`` starts from
    the RSS of the process it was forked from (``exec`` records the high-water mark of the old
    address space, the copy of ours), so every child of a harness holding 260 MB of generated
    data reports at least 260 MB. ``/usr/bin/time`` is a ~2 MB process, so what it reports is the
    command's own peak.
    """
    if os.path.exists("/usr/bin/time"):
        return ["/usr/bin/time", "-o", rss_file, "-f", "%M"]
    return [sys.executable, "-S", "-c", _LAUNCHER, rss_file]


class TreeSampler(threading.Thread):
    """The processes below a launcher, sampled every 50 ms through ``/proc/PID/task/PID/children``:
    each one's peak RSS (``VmHWM``) and CPU time. For commands whose worker processes are not
    waited for by the command (a process pool's forkserver children), so that neither
    ``/usr/bin/time``'s peak RSS nor ``wait4``'s CPU time counts them."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.hwm: dict[int, float] = {}  # pid -> KB
        self.cpu: dict[int, float] = {}  # pid -> seconds
        self.depth: dict[int, int] = {}
        self.done = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")

    def _children(self, pid: int) -> list[int]:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def _sample(self) -> None:
        todo = [(self.root, 0)]
        while todo:
            pid, depth = todo.pop()
            self.depth.setdefault(pid, depth)
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.hwm[pid] = max(self.hwm.get(pid, 0.0), float(line.split()[1]))
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                self.cpu[pid] = (int(fields[11]) + int(fields[12])) / self.tick
            except (OSError, IndexError, ValueError):
                pass
            todo += [(c, depth + 1) for c in self._children(pid)]

    def run(self) -> None:
        while not self.done.wait(0.05):
            self._sample()

    def workers(self) -> tuple[float, float]:
        """(largest peak RSS in KB of the command's descendants, their CPU seconds): depth 2
        and below (depth 0 is the launcher, 1 the command, whose own numbers wait4 has)."""
        below = [p for p, d in self.depth.items() if d >= 2]
        return max((self.hwm.get(p, 0.0) for p in below), default=0.0), \
            sum(self.cpu.get(p, 0.0) for p in below)


def run_once(argv: list[str], *, env: dict[str, str], timeout: float, stdout_path: str,
             tree: bool = False) -> Run:
    """Run argv once; return wall time (around start ... exit) and the command's own peak RSS."""
    rss_file = stdout_path + ".rss"
    _remove(rss_file)
    with open(stdout_path, "wb") as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(_launcher(rss_file) + argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env=env, start_new_session=True, cwd=REPO)
        expired = threading.Event()

        def on_timeout() -> None:
            expired.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the launcher and the command
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, on_timeout)
        timer.daemon = True
        timer.start()
        sampler = TreeSampler(proc.pid) if tree else None
        if sampler is not None:
            sampler.start()
        try:
            # wait4 on the launcher: its rusage includes the command it waited for, so user+sys
            # CPU time is exact (the launcher's own is negligible); RSS comes from the launcher.
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            timer.cancel()
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        timer.cancel()
        wall = time.perf_counter() - t0
        if sampler is not None:
            sampler.done.set()
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        timed_out = expired.is_set()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    rss_kb = 0.0
    try:
        with open(rss_file) as f:
            lines = [x for x in f.read().split() if x.isdigit()]
        rss_kb = float(lines[-1]) if lines else 0.0
    except OSError:
        pass
    _remove(rss_file)
    size = os.path.getsize(stdout_path)
    with open(stdout_path, "rb") as f:
        f.seek(max(0, size - 4096))
        tail = f.read().decode("utf-8", "replace")
    cpu = usage.ru_utime + usage.ru_stime
    if sampler is not None:  # worker processes: the largest counts, and their CPU adds
        worker_kb, worker_cpu = sampler.workers()
        rss_kb, cpu = max(rss_kb, worker_kb), cpu + worker_cpu
    return Run(wall, rss_kb * 1024 / 1e6, proc.returncode, tail, stderr[-4000:], timed_out, cpu)


_NUM_RE = re.compile(r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)", re.IGNORECASE)


def last_number(text: str) -> float | None:
    hits = _NUM_RE.findall(text)
    return float(hits[-1]) if hits else None


@dataclass
class Case:
    key: str
    command: str  # shown in the table
    input: str  # shown in the table
    argv: list[str]
    baseline: str | None = None  # key of the case this one is compared with
    wall_ratio: float | None = None  # target: median wall <= wall_ratio * baseline's
    rss_ratio: float | None = None  # target: median peak RSS <= rss_ratio * baseline's
    rss_budget: float | None = None  # target: max peak RSS over the runs <= this many MB
    value_of: str | None = None  # the printed number must equal this case's within value_rtol
    value_rtol: float = 1e-5
    expect_value: float | None = None  # the printed number must equal this (huge case)
    expect_rtol: float = 1e-12
    verify: Callable[["Case", Run], str | None] | None = None  # output check, first run only
    heavy: bool = False  # slow: at most 3 runs
    prints_value: bool = True  # the command prints the loss (shown in the table)
    tree: bool = False  # worker processes: peak RSS of the largest, CPU of all (TreeSampler)
    rows: int | None = None  # rows of the input, for the throughput of the jobs table
    env: dict[str, str] = field(default_factory=dict)
    note: str = ""
    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs if r.rc == 0 and not r.timed_out]

    @property
    def wall(self) -> float | None:
        ok = self.ok_runs
        return statistics.median(r.wall for r in ok) if ok else None

    @property
    def cpu(self) -> float | None:
        ok = self.ok_runs
        return statistics.median(r.cpu for r in ok) if ok else None

    @property
    def rss(self) -> float | None:
        ok = self.ok_runs
        return statistics.median(r.rss_mb for r in ok) if ok else None

    @property
    def rss_max(self) -> float | None:
        ok = self.ok_runs
        return max(r.rss_mb for r in ok) if ok else None

    @property
    def value(self) -> float | None:
        ok = self.ok_runs
        return last_number(ok[0].stdout_tail) if ok and self.prints_value else None


def measure_group(cases: list[Case], *, runs: int, timeout: float, base_env: dict[str, str], out_dir: str,
                  warmup: bool, log: Callable[[str], None]) -> None:
    """Run the cases interleaved: one untimed warm-up each, then rounds of one run per case."""
    live = [c for c in cases if c.skipped is None]
    stdout_path = os.path.join(out_dir, "stdout.bin")
    for c in live:
        env = {**base_env, **c.env}
        if warmup:
            r = run_once(c.argv, env=env, timeout=timeout, stdout_path=stdout_path, tree=c.tree)
            if r.rc != 0 or r.timed_out:
                c.runs.append(r)
                c.problems.append(_failure_text(c, r))
                continue
        c.runs = []
    live = [c for c in live if not c.problems]
    rounds = max((min(runs, 3) if c.heavy else runs) for c in live) if live else 0
    for i in range(rounds):
        for c in live:
            n = min(runs, 3) if c.heavy else runs
            if i >= n or c.problems:
                continue
            r = run_once(c.argv, env={**base_env, **c.env}, timeout=timeout, stdout_path=stdout_path,
                         tree=c.tree)
            c.runs.append(r)
            if r.rc != 0 or r.timed_out:
                c.problems.append(_failure_text(c, r))
                continue
            if i == 0 and c.verify is not None:
                msg = c.verify(c, r)
                if msg:
                    c.problems.append(msg)
            log(f"  {c.key:<24} run {i + 1}/{n}: {r.wall:7.3f} s (cpu {r.cpu:6.3f} s) {r.rss_mb:8.1f} MB")
    _remove(stdout_path)


def _failure_text(c: Case, r: Run) -> str:
    if r.timed_out:
        return f"timed out (killed after {r.wall:.0f} s)"
    err = r.stderr_tail.strip().splitlines()
    return f"exit status {r.rc}: " + (" / ".join(err[-3:]) if err else "(no stderr)")


# --- evaluation and the table ---------------------------------------------------------------------


def _baseline(c: Case, by_key: dict[str, Case]) -> Case | None:
    """The case's baseline; ``a|b``: the faster of those that ran."""
    if not c.baseline:
        return None
    found = [by_key[k] for k in c.baseline.split("|") if k in by_key]
    ran = [b for b in found if b.wall is not None]
    return min(ran, key=lambda b: b.wall) if ran else (found[0] if found else None)


def evaluate(c: Case, by_key: dict[str, Case]) -> tuple[str, str, str]:
    """(ratio text, target text, result) for a case."""
    base = _baseline(c, by_key)
    targets = []
    verdicts = []
    ratio = ""
    if c.skipped is not None:
        return "", "", "SKIP"
    if c.problems or c.wall is None:
        return "", _target_text(c), "FAIL"
    if base is not None and base.wall is not None:
        rw = c.wall / base.wall
        rr = c.rss / base.rss
        ratio = f"{rw:.2f}x / {rr:.2f}x"
        if c.wall_ratio is not None:
            verdicts.append(rw <= c.wall_ratio)
        if c.rss_ratio is not None:
            verdicts.append(rr <= c.rss_ratio)
    elif base is not None:
        ratio = "(baseline failed)"
        if c.wall_ratio is not None or c.rss_ratio is not None:
            verdicts.append(False)
    if c.rss_budget is not None:
        verdicts.append(c.rss_max <= c.rss_budget)
    if c.value_of is not None:
        ref = by_key.get(c.value_of)
        v, rv = c.value, (ref.value if ref else None)
        if v is None or rv is None or not math.isclose(v, rv, rel_tol=c.value_rtol):
            _problem(c, f"value {v!r} differs from {c.value_of}'s {rv!r} (rtol {c.value_rtol:g})")
            verdicts.append(False)
    if c.expect_value is not None:
        v = c.value
        if v is None or not math.isclose(v, c.expect_value, rel_tol=c.expect_rtol, abs_tol=0.0):
            _problem(c, f"value {v!r} differs from the independent value {c.expect_value!r} "
                        f"(rtol {c.expect_rtol:g})")
            verdicts.append(False)
    targets = _target_text(c)
    if not targets and base is None:
        return "baseline", "", ""
    if not verdicts:
        return ratio, targets, ""
    return ratio, targets, "PASS" if all(verdicts) else "FAIL"


def _problem(c: Case, msg: str) -> None:
    if msg not in c.problems:
        c.problems.append(msg)


def _target_text(c: Case) -> str:
    parts = []
    if c.wall_ratio is not None:
        parts.append(f"wall <= {c.wall_ratio:g}x")
    if c.rss_ratio is not None:
        parts.append(f"RSS <= {c.rss_ratio:g}x")
    if c.rss_budget is not None:
        parts.append(f"RSS <= {c.rss_budget:g} MB")
    if c.value_of is not None:
        parts.append(f"value = {c.value_of}'s")
    if c.expect_value is not None:
        parts.append(f"value = chunked numpy (rel {c.expect_rtol:g})")
    return ", ".join(parts)


def _fmt_wall(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.0f} ms" if s < 10 else f"{s:.1f} s"


_QUOTED = re.compile(r"'(/[^']+)'")


def input_bytes(c: Case) -> int:
    """The bytes of the files a case reads: its arguments that are files or folders, and the
    quoted paths in a one-liner's code."""
    paths = []
    for a in c.argv[1:]:
        paths += _QUOTED.findall(a) if a.startswith(("import", "from")) else [a]
    total = 0
    for p in dict.fromkeys(paths):
        if os.path.isfile(p):
            total += os.path.getsize(p)
        elif os.path.isdir(p):
            total += sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(p) for f in fs)
    return total


def _fmt_rate(c: Case) -> str:
    """Throughput of a case reading at least 10 MB: GB/s of its input files."""
    n = input_bytes(c)
    return f"{n / c.wall / 1e9:.2f}" if c.wall and n >= 10_000_000 else "-"


def _fmt_value(v: float | None) -> str:
    return "" if v is None else f"{v:.10g}"


def render_table(cases: list[Case]) -> str:
    by_key = {c.key: c for c in cases}
    lines = [
        "| # | command | input | median wall | GB/s | CPU (user+sys) | peak RSS | vs baseline (wall / RSS) | target | result | value printed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        ratio, target, result = evaluate(c, by_key)
        rss = "-" if c.rss is None else f"{c.rss:.0f} MB"
        if c.rss_budget is not None and c.rss_max is not None and c.rss_max != c.rss:
            rss += f" (max {c.rss_max:.0f})"
        result_cell = f"**{result}**" if result == "FAIL" else result
        lines.append(
            f"| {c.key} | `{c.command}` | {c.input} | {_fmt_wall(c.wall)} | {_fmt_rate(c)} | {_fmt_wall(c.cpu)} | {rss} | "
            f"{ratio if c.baseline else ('baseline' if ratio == 'baseline' else '-')} | {target} | "
            f"{result_cell} | {_fmt_value(c.value)} |"
        )
    return "\n".join(lines)


def render_notes(cases: list[Case]) -> str:
    out = []
    for c in cases:
        if c.skipped:
            out.append(f"- `{c.key}` skipped: {c.skipped}")
        for p in c.problems:
            out.append(f"- `{c.key}`: {p}")
        if c.note:
            out.append(f"- `{c.key}`: {c.note}")
    return "\n".join(out)


def render_jobs(cases: list[Case], budget: float) -> str:
    """16 shards on 1 and 2 worker processes: wall, throughput, CPU, the largest process."""
    lines = ["| input | jobs | median wall | rows/s | CPU (all processes) | largest process (budget "
             f"{budget:g} MB) | value |", "|---|---|---|---|---|---|---|"]
    for c in cases:
        w = c.wall
        rate = f"{c.rows / w / 1e6:.1f}M" if w and c.rows else "-"
        cpu = statistics.median(r.cpu for r in c.ok_runs) if c.ok_runs else None
        jobs = c.key.rsplit("@", 1)[-1]
        v = c.value
        lines.append(f"| {c.input} | {jobs} | {_fmt_wall(w)} | {rate} | {_fmt_wall(cpu)} | "
                     f"{c.rss_max:.0f} MB | {'-' if v is None else repr(v)} |" if c.ok_runs else
                     f"| {c.input} | {jobs} | failed | - | - | - | - |")
    return "\n".join(lines)


def render_threads(rows: list[tuple[str, Case, Case]]) -> str:
    lines = [
        "| command | input | 1 thread | 2 threads | speed-up |",
        "|---|---|---|---|---|",
    ]
    for name, c1, c2 in rows:
        w1, w2 = c1.wall, c2.wall
        sp = f"{w1 / w2:.2f}x" if w1 and w2 else "-"
        lines.append(f"| `{c1.command}` | {c1.input} | {_fmt_wall(w1)} | {_fmt_wall(w2)} | {sp} |")
    return "\n".join(lines)


# --- the machine ----------------------------------------------------------------------------------


def machine_info(py: str, fw_py: str | None) -> dict[str, str]:
    info: dict[str, str] = {}
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        model = platform.processor() or "?"
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    avail = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info["cpu"] = f"{model}, nproc {avail}"
    info["ram"] = mem
    info["os"] = f"{platform.system()} {platform.release()}"
    code = ("import sys, numpy, pyarrow, typer, importlib.metadata as m; "
            "print(sys.version.split()[0], numpy.__version__, pyarrow.__version__, typer.__version__, "
            "m.version('lossctl'))")
    try:
        v = subprocess.run([py, "-c", code], capture_output=True, text=True, timeout=60).stdout.split()
        info["lossctl python"] = (f"Python {v[0]}, numpy {v[1]}, pyarrow {v[2]}, typer {v[3]}, lossctl {v[4]}")
    except Exception as e:  # noqa: BLE001 - informational only
        info["lossctl python"] = f"? ({e})"
    try:
        sha = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        info["lossctl commit"] = sha + (" + uncommitted changes" if dirty else "")
    except Exception:  # noqa: BLE001
        pass
    info.update(bandwidths(os.path.join(REPO, "benchmarks", "data")))
    if fw_py:
        code = ("import sys, importlib.metadata as m\n"
                "out = []\n"
                "for d in ('numpy', 'pandas', 'polars', 'duckdb', 'torch', 'tensorflow', 'keras'):\n"
                "    try: out.append(f'{d} {m.version(d)}')\n"
                "    except Exception: pass\n"
                "print('Python ' + sys.version.split()[0] + ', ' + ', '.join(out))")
        try:
            info["baseline python"] = subprocess.run([fw_py, "-c", code], capture_output=True, text=True,
                                                     timeout=60).stdout.strip()
        except Exception as e:  # noqa: BLE001
            info["baseline python"] = f"? ({e})"
    return info


def bandwidths(data: str) -> dict[str, str]:
    """The machine's read bandwidth (``cat`` of the largest warm input to /dev/null, best of 3)
    and memory bandwidth (numpy copy of 400 MB, best of 3), beside which the GB/s column reads."""
    out: dict[str, str] = {}
    files = [os.path.join(data, f) for f in os.listdir(data)] if os.path.isdir(data) else []
    files = [f for f in files if os.path.isfile(f)]
    if files:
        big = max(files, key=os.path.getsize)
        size = os.path.getsize(big)
        best = math.inf
        for _ in range(4):  # the first warms the page cache
            t0 = time.perf_counter()
            subprocess.run(["cat", big], stdout=subprocess.DEVNULL, check=False)
            best = min(best, time.perf_counter() - t0)
        out["read bandwidth (cat of a warm file)"] = f"{size / best / 1e9:.2f} GB/s ({size / 1e6:.0f} MB)"
    a = np.ones(50_000_000)
    b = np.empty_like(a)
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    out["memory bandwidth (numpy copy)"] = f"{2 * a.nbytes / best / 1e9:.2f} GB/s (read + write)"
    return out


def render_machine(info: dict[str, str], runs: int) -> str:
    date = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"- date: {date}; median of {runs} runs (heavy rows: of at most 3), one untimed warm-up each"]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    return "\n".join(lines)


# --- the benchmark set ----------------------------------------------------------------------------


def _script_python(script: str) -> str | None:
    """The interpreter of a console script (its #! line)."""
    try:
        with open(script, "rb") as f:
            first = f.readline().decode("utf-8", "replace").strip()
    except OSError:
        return None
    if first.startswith("#!"):
        exe = first[2:].strip().split()[0]
        if os.path.exists(exe) and "python" in os.path.basename(exe):
            return exe
    return None


def _py_has(py: str, module: str, env: dict[str, str]) -> bool:
    try:
        return subprocess.run([py, "-c", f"import {module}"], capture_output=True, env=env, timeout=300).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _rel(path: str) -> str:
    try:
        r = os.path.relpath(path, REPO)
    except ValueError:
        return path
    return path if r.startswith("..") else r


NUMPY_ONE_LINER = ("import numpy as np; y=np.load({y!r}); p=np.load({p!r}); "
                   "print(-np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1)).mean())")
#: PyTorch's cross_entropy(ignore_index=255) of the segmentation case, in numpy (all in memory)
SEG_ONE_LINER = ("import numpy as np; y=np.load({y!r}).astype(np.int64); z=np.load({p!r}).astype(np.float64); "
                 "m=z.max(1, keepdims=True); ls=z-m-np.log(np.exp(z-m).sum(1, keepdims=True)); "
                 "v=y!=255; t=np.where(v, y, 0); "
                 "l=-np.take_along_axis(ls, t[:, None], 1)[:, 0]; print(l[v].mean())")
PANDAS_ONE_LINER = ("import numpy as np, pandas as pd; y=pd.read_csv({y!r})['label'].to_numpy(); "
                    "p=pd.read_csv({p!r}).to_numpy(); "
                    "print(-np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1)).mean())")
#: from logits: log-sum-exp minus the true class's logit (float64, all in memory)
NUMPY_LOGITS_ONE_LINER = ("import numpy as np; y=np.load({y!r}); z=np.load({p!r}).astype(np.float64); "
                          "m=z.max(1); lse=m+np.log(np.exp(z-m[:, None]).sum(1)); "
                          "print((lse-z[np.arange(len(y)), y]).mean())")
_PICK = "CASE label " + " ".join(f"WHEN {j} THEN p{j}" for j in range(CLASSES)) + " END"
DUCKDB_PARQUET_ONE_LINER = ("import duckdb; print(duckdb.sql(\"SELECT avg(-ln(greatest(least(" + _PICK +
                            ", 1), 1e-7))) FROM read_parquet({p!r})\").fetchall()[0][0])")
POLARS_PARQUET_ONE_LINER = ("import polars as pl; c=pl.col('label'); "
                            "t=pl.sum_horizontal([pl.when(c == j).then(pl.col(f'p{{j}}')).otherwise(0.0) for j in range("
                            + str(CLASSES) + ")]); e=t.clip(1e-7, 1).log().neg().mean(); "
                            "print(pl.scan_parquet({p!r}).select(e).collect().item())")
POLARS_CSV_ONE_LINER = ("import numpy as np, polars as pl; y=pl.read_csv({y!r})['label'].to_numpy(); "
                        "p=pl.read_csv({p!r}).to_numpy(); "
                        "print(-np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1)).mean())")
DUCKDB_CSV_ONE_LINER = ("import numpy as np, duckdb; y=duckdb.sql(\"SELECT label FROM read_csv({y!r})\").fetchnumpy()['label']; "
                        "d=duckdb.sql(\"SELECT * FROM read_csv({p!r})\").fetchnumpy(); p=np.column_stack(list(d.values())); "
                        "print(-np.log(np.clip(p[np.arange(len(y)), y], 1e-7, 1)).mean())")
KERAS_ONE_LINER = ("import numpy as np, tensorflow as tf; y=np.load({y!r}); p=np.load({p!r}); "
                   "print(float(tf.keras.losses.SparseCategoricalCrossentropy()(y, p)))")
TORCH_ONE_LINER = ("import numpy as np, torch; y=torch.from_numpy(np.load({y!r})); "
                   "p=torch.from_numpy(np.load({p!r})); "
                   "print(torch.nn.functional.nll_loss(torch.log(p), y).item())")


def verify_onehot_npy(path: str, labels: str) -> Callable[[Case, Run], str | None]:
    def check(c: Case, r: Run) -> str | None:
        if not os.path.exists(path):
            return f"{path} was not written"
        shape, _, off = _npy_shape(path)
        (n,), _, _ = _npy_shape(labels)
        if shape != (n, CLASSES):
            return f"output shape {shape}, expected {(n, CLASSES)}"
        out = np.load(path, mmap_mode="r")
        y = np.load(labels, mmap_mode="r")
        for i in range(0, n, 1_000_000):
            blk = np.asarray(out[i : i + 1_000_000])
            if not (np.array_equal(blk.argmax(axis=1), y[i : i + 1_000_000]) and (blk.sum(axis=1) == 1).all()):
                return f"output rows {i}..{i + len(blk)} are not the one-hot labels"
        del out, y
        return None

    return check


def verify_onehot_csv(stdout_path: str, labels: str) -> Callable[[Case, Run], str | None]:
    def check(c: Case, r: Run) -> str | None:
        (n,), _, _ = _npy_shape(labels)
        lines = 0
        with open(stdout_path, "rb") as f:
            head = f.read(1 << 16)
            lines += head.count(b"\n")
            while True:
                b = f.read(16 << 20)
                if not b:
                    break
                lines += b.count(b"\n")
        if lines != n:
            return f"{lines} output lines, expected {n}"
        y = np.load(labels, mmap_mode="r")
        first = head.split(b"\n")[:100]
        for i, line in enumerate(first[:-1]):
            row = [int(v) for v in line.split(b",")]
            if row.index(1) != y[i] or sum(row) != 1:
                return f"output line {i + 1} {line!r} is not the one-hot row of label {y[i]}"
        return None

    return check


def build_cases(args: argparse.Namespace, log: Callable[[str], None]) -> tuple[list[list[Case]], list[Case], list]:
    """All comparison groups, in table order, plus the threads comparisons."""
    data = args.data
    out = os.path.join(data, "out")
    os.makedirs(out, exist_ok=True)
    lc = args.lossctl
    py = args.python
    fw = args.framework_python
    groups: list[list[Case]] = []
    notes: list[Case] = []

    # 1) start-up floor, --help, the worked examples
    samples = os.path.join(REPO, "samples")
    small = [
        Case("floor", 'python -c "import typer, numpy"', "-", [py, "-c", "import typer, numpy"], prints_value=False),
        Case("help", "lossctl --help", "-", [lc, "--help"], baseline="floor", wall_ratio=1.5, prints_value=False),
    ]
    s_lab_csv, s_prob_csv = os.path.join(samples, "digits_labels.csv"), os.path.join(samples, "digits_probs.csv")
    s_lab_npy, s_prob_npy = os.path.join(samples, "digits_labels.npy"), os.path.join(samples, "digits_probs.npy")
    if all(os.path.exists(p) for p in (s_lab_csv, s_prob_csv, s_lab_npy, s_prob_npy)):
        small += [
            Case("small-csv", f"lossctl compute scce {_rel(s_lab_csv)} {_rel(s_prob_csv)}", "CSV 270 x 10",
                 [lc, "compute", "scce", s_lab_csv, s_prob_csv], baseline="floor", wall_ratio=1.5),
            Case("small-npy", f"lossctl compute scce {_rel(s_lab_npy)} {_rel(s_prob_npy)}", "NPY 270 x 10",
                 [lc, "compute", "scce", s_lab_npy, s_prob_npy], baseline="floor", wall_ratio=1.5,
                 value_of="small-csv", value_rtol=1e-12),
        ]
    for c in small:
        c.env = {}
    groups.append(small)

    # 2) NPY 1M x 10
    lab1, prob1 = generate_pair(data, "scce_1M", 1_000_000, log=log)
    inp1 = "NPY 1M x 10 f32"
    npy = [
        Case("numpy-1M", "numpy one-liner", inp1, [py, "-c", NUMPY_ONE_LINER.format(y=lab1, p=prob1)]),
        Case("lossctl-npy-1M", "lossctl compute scce labels.npy probs.npy", inp1,
             [lc, "compute", "scce", lab1, prob1], baseline="numpy-1M", wall_ratio=2.0, rss_ratio=1.5,
             value_of="numpy-1M"),
    ]
    groups.append(npy)

    # 3) CSV 1M x 10
    lab1c, prob1c = generate_csv(data, "scce_1M", lab1, prob1, log=log)
    inp1c = f"CSV 1M x 10 ({os.path.getsize(prob1c) / 1e6:.0f} MB)"
    csv_group = []
    fw_ok = {m: bool(fw) and _py_has(fw, m, {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
             for m in ("pandas", "polars", "duckdb", "torch", "tensorflow")}
    if fw_ok["pandas"]:
        csv_group.append(Case("pandas-1M", "pandas read_csv + numpy one-liner", inp1c,
                              [fw, "-c", PANDAS_ONE_LINER.format(y=lab1c, p=prob1c)]))
    else:
        notes.append(Case("pandas-1M", "pandas read_csv + numpy one-liner", inp1c, [],
                          skipped=f"no pandas in {fw or '(no --framework-python)'}"))
    peers = ["pandas-1M"] if fw_ok["pandas"] else []
    for key, mod, cmd, code in (("polars-1M", "polars", "polars read_csv + numpy one-liner", POLARS_CSV_ONE_LINER),
                                ("duckdb-1M", "duckdb", "duckdb read_csv + numpy one-liner", DUCKDB_CSV_ONE_LINER)):
        if fw_ok[mod]:
            csv_group.append(Case(key, cmd, inp1c, [fw, "-c", code.format(y=lab1c, p=prob1c)],
                                  value_of=peers[0] if peers else None))
            peers.append(key)
        else:
            notes.append(Case(key, cmd, inp1c, [], skipped=f"no {mod} in {fw or '(no --framework-python)'}"))
    csv_group.append(Case("lossctl-csv-1M", "lossctl compute scce labels.csv probs.csv", inp1c,
                          [lc, "compute", "scce", lab1c, prob1c],
                          baseline="|".join(peers) or None,
                          wall_ratio=0.9 if peers else None,
                          value_of=peers[0] if peers else None))
    groups.append(csv_group)

    # 4) framework one-liners (information: the "how people do it today")
    fwg = []
    if not args.no_frameworks:
        for key, mod, cmd, code in (
            ("keras-1M", "tensorflow", "TensorFlow/Keras one-liner (SparseCategoricalCrossentropy)", KERAS_ONE_LINER),
            ("torch-1M", "torch", "PyTorch one-liner (nll_loss(log(p)))", TORCH_ONE_LINER),
        ):
            if fw_ok[mod]:
                fwg.append(Case(key, cmd, inp1, [fw, "-c", code.format(y=lab1, p=prob1)], baseline="numpy-1M",
                                heavy=True, env={"TF_CPP_MIN_LOG_LEVEL": "3"}))
            else:
                notes.append(Case(key, cmd, inp1, [], skipped=f"no {mod} in {fw or '(no --framework-python)'}"))
    if fwg:
        groups.append(fwg)

    # 5) onehot on 10M labels: streamed, bounded memory
    lab10 = generate_labels(data, "scce_10M", 10_000_000, log=log)
    oh_npy = os.path.join(out, "onehot_10M.npy")
    oh = [
        Case("onehot-10M-npy", "lossctl onehot labels.npy -n 10 -o onehot.npy", "NPY 10M labels",
             [lc, "onehot", lab10, "-n", str(CLASSES), "-o", oh_npy], rss_budget=args.budget_mb, heavy=True,
             verify=verify_onehot_npy(oh_npy, lab10), prints_value=False),
        Case("onehot-10M-csv", "lossctl onehot labels.npy -n 10 > onehot.csv", "NPY 10M labels",
             [lc, "onehot", lab10, "-n", str(CLASSES)], rss_budget=args.budget_mb, heavy=True,
             verify=verify_onehot_csv(os.path.join(out, "stdout.bin"), lab10), prints_value=False),
    ]
    groups.append(oh)

    # 6) N-D: segmentation maps (N, C, H, W), streamed image block by image block
    seg_y, seg_z = generate_segmentation(data, log=log)
    seg_in = f"NPY {SEG_SHAPE} f32 ({os.path.getsize(seg_z) / 1e6:.0f} MB)"
    groups.append([
        Case("numpy-seg", "numpy one-liner (log-softmax over axis 1, ignore 255)", seg_in,
             [py, "-c", SEG_ONE_LINER.format(y=seg_y, p=seg_z)], heavy=True),
        Case("lossctl-seg", "lossctl compute cross_entropy labels.npy logits.npy --ignore-class 255",
             seg_in, [lc, "compute", "cross_entropy", seg_y, seg_z, "--ignore-class", "255"],
             baseline="numpy-seg", rss_budget=args.budget_mb, value_of="numpy-seg", heavy=True),
    ])

    # 7) --big: NPY 10M x 10
    if args.big:
        lab10, prob10 = generate_pair(data, "scce_10M", 10_000_000, log=log)
        inp10 = "NPY 10M x 10 f32 (400 MB)"
        groups.append([
            Case("numpy-10M", "numpy one-liner", inp10, [py, "-c", NUMPY_ONE_LINER.format(y=lab10, p=prob10)],
                 heavy=True),
            # the wall target is for 1M rows; at 10M the point is the bounded memory
            Case("lossctl-npy-10M", "lossctl compute scce labels.npy probs.npy", inp10,
                 [lc, "compute", "scce", lab10, prob10], baseline="numpy-10M", wall_ratio=1.0,
                 rss_budget=args.budget_mb, value_of="numpy-10M", heavy=True),
        ])
        z10 = generate_logits(data, "scce_10M", prob10, log=log)
        inz = "NPY 10M x 10 f32 logits (400 MB)"
        groups.append([
            Case("numpy-logits-10M", "numpy one-liner (log-sum-exp)", inz,
                 [py, "-c", NUMPY_LOGITS_ONE_LINER.format(y=lab10, p=z10)], heavy=True),
            Case("lossctl-logits-10M", "lossctl compute scce labels.npy logits.npy --from-logits", inz,
                 [lc, "compute", "scce", lab10, z10, "--from-logits"], baseline="numpy-logits-10M",
                 wall_ratio=0.7, rss_budget=args.budget_mb, value_of="numpy-logits-10M", heavy=True),
        ])
        pq10 = generate_parquet(data, "scce_10M", lab10, prob10, log=log)
        inpq = f"Parquet 10M x (label + 10 f32) ({os.path.getsize(pq10) / 1e6:.0f} MB)"
        pq_group, pq_peers = [], []
        for key, mod, cmd, code in (("duckdb-pq-10M", "duckdb", "duckdb SQL over read_parquet", DUCKDB_PARQUET_ONE_LINER),
                                    ("polars-pq-10M", "polars", "polars scan_parquet expression", POLARS_PARQUET_ONE_LINER)):
            if fw_ok[mod]:
                pq_group.append(Case(key, cmd, inpq, [fw, "-c", code.format(p=pq10)], heavy=True))
                pq_peers.append(key)
            else:
                notes.append(Case(key, cmd, inpq, [], skipped=f"no {mod} in {fw or '(no --framework-python)'}"))
        pq_group.append(Case("lossctl-pq-10M", "lossctl compute scce data.parquet --true-cols label --pred-cols 'p*'",
                             inpq, [lc, "compute", "scce", pq10, "--true-cols", "label", "--pred-cols", "p*"],
                             baseline="|".join(pq_peers) or None, wall_ratio=1.0 if pq_peers else None,
                             rss_budget=args.budget_mb, value_of="lossctl-npy-10M", heavy=True))
        groups.append(pq_group)

    # 8) --jobs: 16 shards on 1 and 2 worker processes; the value must be the same bits, and
    # the largest process (the peak RSS /usr/bin/time reports: the child or its largest
    # descendant) within the budget
    if args.jobs:
        sets = [("npy", "NPY 10M x 10 f32, 16 shards", generate_pair(data, "scce_10M", 10_000_000, log=log),
                 10_000_000),
                ("csv", "CSV 1M x 10, 16 shards", (lab1c, prob1c), 1_000_000)]
        for kind, inp, pair, rows in sets:
            ys, ps = generate_shards(data, f"shards_{kind}", list(pair), 16, log=log)
            one = f"lossctl-{kind}-16shards@1"
            groups.append([
                Case(one, "lossctl compute scce labels/ probs/ --jobs 1", inp,
                     [lc, "compute", "scce", ys, ps, "--jobs", "1"], rss_budget=args.budget_mb,
                     heavy=kind == "npy", tree=True, rows=rows),
                Case(f"lossctl-{kind}-16shards@2", "lossctl compute scce labels/ probs/ --jobs 2", inp,
                     [lc, "compute", "scce", ys, ps, "--jobs", "2"], baseline=one,
                     rss_budget=args.budget_mb, value_of=one, value_rtol=0.0, heavy=kind == "npy",
                     tree=True, rows=rows),
            ])

    # threads: 1 vs 2 (LOSSCTL_THREADS is lossctl's --threads: blocks computed on a pool;
    # OMP_NUM_THREADS also sets pyarrow's CPU pool; ARROW_NUM_THREADS for good measure)
    threads: list[tuple[str, Case, Case]] = []
    if args.threads:
        # the 10M rows (with --big) are where a second thread has blocks enough to share
        scaled = ("numpy-1M", "lossctl-npy-1M", "pandas-1M", "lossctl-csv-1M",
                  "lossctl-npy-10M", "lossctl-logits-10M", "lossctl-pq-10M")
        for base in [c for g in groups for c in g if c.key in scaled]:
            pair = []
            for k in (1, 2):
                env = {v: str(k) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                           "ARROW_NUM_THREADS", "ARROW_IO_THREADS",
                                           "LOSSCTL_THREADS")}
                pair.append(Case(f"{base.key}@{k}", base.command, base.input, base.argv, env={**base.env, **env},
                                 heavy=base.heavy))
            threads.append((base.key, pair[0], pair[1]))
    return groups, notes, threads


def _with_alternative(group: list[Case], lc: str, alts: list[str]) -> list[Case]:
    """Each lossctl row of a group followed by twins that run the ``alts`` executables instead."""
    out: list[Case] = []
    for c in group:
        out.append(c)
        if not (c.argv and c.argv[0] == lc):
            continue
        for i, alt in enumerate(alts, 1):
            twin = Case(**{f: getattr(c, f) for f in ("key", "command", "input", "argv", "baseline",
                                                       "wall_ratio", "rss_ratio", "rss_budget", "value_of",
                                                       "value_rtol", "verify", "heavy", "env", "prints_value")})
            twin.key = c.key + "*" * i
            twin.command = f"{c.command} [alt {i}]"
            twin.argv = [alt] + c.argv[1:]
            twin.env = dict(c.env)
            out.append(twin)
    return out


# --- the 8 GB case --------------------------------------------------------------------------------


def huge_cases(args: argparse.Namespace, log: Callable[[str], None]) -> list[Case]:
    """The 8 GB case (and its --alt-lossctl twins): generate, compute the reference, run, delete."""
    rows = args.huge_rows
    need = rows * (CLASSES * 4 + 8) + 256
    inp = f"NPY {rows / 1e6:.0f}M x 10 f32 ({rows * CLASSES * 4 / 1e9:.1f} GB + {rows * 8 / 1e9:.1f} GB labels)"
    cmd = "lossctl compute scce labels.npy probs.npy"
    c = Case("lossctl-npy-huge", cmd, inp, [args.lossctl, "compute", "scce"], rss_budget=args.budget_mb, heavy=True)
    cases = _with_alternative([c], args.lossctl, args.alt_lossctl or [])
    lab = os.path.join(args.data, f"huge_{rows}_labels.npy")
    prob = os.path.join(args.data, f"huge_{rows}_probs.npy")
    have = sum(os.path.getsize(p) for p in (lab, prob) if os.path.exists(p))
    free = shutil.disk_usage(args.data).free
    if free + have < need + (2 << 30):
        for x in cases:
            x.skipped = (f"needs {need / 1e9:.1f} GB + 2 GB headroom on {args.data}, "
                         f"{(free + have) / 1e9:.1f} GB free")
        return cases
    try:
        lab, prob = generate_pair(args.data, f"huge_{rows}", rows, log=log)
        log("computing the independent chunked numpy value")
        t0 = time.perf_counter()
        ref = reference_scce(lab, prob)
        took = time.perf_counter() - t0
        for x in cases:
            x.expect_value = ref
            x.argv = x.argv[:3] + [lab, prob]
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        measure_group(cases, runs=args.huge_runs, timeout=args.huge_timeout, base_env=env,
                      out_dir=os.path.join(args.data, "out"), warmup=False, log=log)
        for x in cases:
            x.note = f"independent value {ref!r} (float64, chunked, fsum; {took:.0f} s)"
            if x.value is not None:
                rel = abs(x.value - ref) / abs(ref)
                x.note += f"; lossctl printed {x.value!r} (relative difference {rel:.1e})"
    finally:
        if not args.keep:
            for p in (lab, prob, os.path.join(args.data, f"huge_{rows}.stamp"), lab + ".tmp", prob + ".tmp"):
                _remove(p)
    return cases


# --- main -----------------------------------------------------------------------------------------


def _on_sigterm(signum, frame):  # unwind (finally blocks delete the big files)
    raise SystemExit(143)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command (default 5; heavy rows at most 3)")
    ap.add_argument("--big", action="store_true", help="add the 10M x 10 NPY case")
    ap.add_argument("--huge", action="store_true", help="add the ~8 GB streaming case (generated, then deleted)")
    ap.add_argument("--huge-rows", type=int, default=200_000_000, help="rows of the --huge case (default 200M)")
    ap.add_argument("--huge-runs", type=int, default=1, help="timed runs of the --huge case (default 1)")
    ap.add_argument("--huge-timeout", type=float, default=3600, help="seconds before the --huge run is killed")
    ap.add_argument("--keep", action="store_true", help="keep the --huge files")
    ap.add_argument("--threads", action="store_true", help="also compare 1 vs 2 threads")
    ap.add_argument("--jobs", action="store_true", help="also compare 16 shards on 1 vs 2 worker processes")
    ap.add_argument("--budget-mb", type=float, default=256, help="memory budget checked for streaming rows (MB)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds before one run is killed (default 300)")
    ap.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up run of each command")
    ap.add_argument("--no-frameworks", action="store_true", help="skip the Keras and PyTorch one-liners")
    ap.add_argument("--only", metavar="REGEX", help="run only the rows whose key matches (baselines are kept)")
    ap.add_argument("--data", default=os.path.join(HERE, "data"), help="where inputs are generated (default benchmarks/data)")
    ap.add_argument("--lossctl", default=None, help="the lossctl executable (default: next to this Python, or on PATH)")
    ap.add_argument("--python", default=None, help="Python for the numpy one-liner and the start-up floor "
                    "(default: lossctl's own interpreter)")
    ap.add_argument("--framework-python", default=os.environ.get("LOSSCTL_BENCH_FRAMEWORK_PYTHON", "/work/fixenv/bin/python"),
                    help="Python with pandas/torch/tensorflow for those baselines (default /work/fixenv/bin/python)")
    ap.add_argument("--alt-lossctl", metavar="PATH", action="append", help="also run every lossctl row with "
                    "this other lossctl executable (rows marked *, ** ... in the order given; repeatable), "
                    "interleaved with the rest: A/B-test a change side by side")
    ap.add_argument("--markdown", metavar="FILE", help="write the results (markdown) to FILE")
    ap.add_argument("--readme", action="store_true", help="replace the results section of benchmarks/README.md")
    ap.add_argument("--json", metavar="FILE", help="write every run's numbers to FILE")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    lc = args.lossctl or shutil.which("lossctl", path=os.path.dirname(sys.executable)) or shutil.which("lossctl")
    if not lc:
        ap.error("cannot find the lossctl executable: give --lossctl")
    args.lossctl = os.path.abspath(lc)
    args.python = args.python or _script_python(args.lossctl) or sys.executable
    fw = args.framework_python
    args.framework_python = fw if fw and os.path.exists(fw) else None
    args.data = os.path.abspath(args.data)
    os.makedirs(args.data, exist_ok=True)
    signal.signal(signal.SIGTERM, _on_sigterm)

    base_env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ARROW_NUM_THREADS", "LOSSCTL_DEBUG"):
        base_env.pop(k, None)
    # Users' Pythons cache bytecode: without it every run would recompile every module it imports
    # (this sandbox sets PYTHONDONTWRITEBYTECODE=1; any non-empty value switches caching off).
    base_env.pop("PYTHONDONTWRITEBYTECODE", None)
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load0 and load0[0] > 0.5:
        log(f"note: load average {load0[0]:.2f}: other processes are running; timings will be noisier")

    groups, notes, threads = build_cases(args, log)
    if args.alt_lossctl:
        groups = [_with_alternative(g, args.lossctl, args.alt_lossctl) for g in groups]
        for i, alt in enumerate(args.alt_lossctl, 1):
            log(f"alternative {'*' * i}: {alt}")
    if args.only:
        rx = re.compile(args.only)
        keep_keys = set()
        for g in groups:
            for c in g:
                if rx.search(c.key):
                    keep_keys.add(c.key)
                    if c.baseline:
                        keep_keys.update(c.baseline.split("|"))
                    if c.value_of:
                        keep_keys.add(c.value_of)
        groups = [[c for c in g if c.key in keep_keys] for g in groups]
        groups = [g for g in groups if g]
        threads = [t for t in threads if rx.search(t[0])]
    out_dir = os.path.join(args.data, "out")
    try:
        for g in groups:
            log("measuring " + ", ".join(c.key for c in g))
            measure_group(g, runs=args.runs, timeout=args.timeout, base_env=base_env, out_dir=out_dir,
                          warmup=not args.no_warmup, log=log)
        for name, c1, c2 in threads:
            log(f"threads: {name}")
            measure_group([c1, c2], runs=args.runs, timeout=args.timeout, base_env=base_env, out_dir=out_dir,
                          warmup=not args.no_warmup, log=log)
        cases = [c for g in groups for c in g] + notes
        if args.huge:
            cases += huge_cases(args, log)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)

    info = machine_info(args.python, args.framework_python)
    if load0:
        info["load average (1 min) at start / end"] = f"{load0[0]:.2f} / {os.getloadavg()[0]:.2f}"
    table = render_table(cases)
    parts = ["### Results", "", table, ""]
    nt = render_notes(cases)
    if nt:
        parts += [nt, ""]
    sharded = [c for c in cases if "16shards@" in c.key]
    if sharded:
        parts += ["### 16 shards on 1 vs 2 worker processes (--jobs)", "",
                  render_jobs(sharded, args.budget_mb), "",
                  "Peak RSS is each process's own (the largest of the parent and the workers, "
                  "sampled from /proc); CPU adds them all.", ""]
    if threads:
        parts += ["### 1 vs 2 threads", "", render_threads(threads), ""]
        if load0 and load0[0] > 1:
            parts += [f"Load average {load0[0]:.2f} on {len(os.sched_getaffinity(0))} cores: other processes "
                      "kept the cores busy, so a second thread had no idle core to run on and these "
                      "ratios show no scaling either way.", ""]
    parts += ["### Machine", "", render_machine(info, args.runs), ""]
    text = "\n".join(parts)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    if args.readme:
        _update_readme(text)
    if args.json:
        dump = {
            "machine": info,
            "cases": [
                {"key": c.key, "command": c.command, "argv": c.argv, "input": c.input, "env": c.env,
                 "skipped": c.skipped, "problems": c.problems,
                 "runs": [{"wall": r.wall, "cpu": r.cpu, "rss_mb": r.rss_mb, "rc": r.rc} for r in c.runs]}
                for c in cases + [x for t in threads for x in t[1:]]
            ],
        }
        with open(args.json, "w") as f:
            json.dump(dump, f, indent=1)
    by_key = {c.key: c for c in cases}
    failed = [c.key for c in cases if evaluate(c, by_key)[2] == "FAIL"]
    if failed:
        log("FAIL: " + ", ".join(failed))
    return 1 if failed else 0


START, END = "<!-- results:start -->", "<!-- results:end -->"


def _update_readme(text: str) -> None:
    with open(README) as f:
        doc = f.read()
    if START not in doc or END not in doc:
        raise SystemExit(f"{README} has no {START} ... {END} section")
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(README + ".tmp", "w") as f:
        f.write(head + START + "\n" + text + "\n" + END + tail)
    os.replace(README + ".tmp", README)


if __name__ == "__main__":
    sys.exit(main())
