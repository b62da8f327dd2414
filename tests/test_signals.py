"""Signals, pipes and full disks, on real processes (``python -m lossctl``).

* ``| head -1`` after every command with a large output ends quietly: nothing on stderr, exit
  status 0 or 1 (never Python's 120 for a failed flush at exit, never a traceback);
* SIGINT (Ctrl-C) in the middle of a long command exits 130 and SIGTERM exits 143, with no
  traceback, no partial ``-o`` file, a pre-existing ``-o`` file untouched and no
  ``.lossctl-tmp-*`` file left behind;
* a full disk (a ``/dev/full`` device as ``-o``, or ENOSPC simulated through the writers'
  ``_fdopen`` hook) gives one clear error, removes the temporary file and leaves the target as
  it was.
"""
from __future__ import annotations

import errno
import io
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import subprocess_env

KEEP = b"previous results, must survive\n"


def lossctl(*args) -> list[str]:
    return [sys.executable, "-m", "lossctl", *map(str, args)]


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """Large inputs: 200k labels (CSV and NPY) with 10-class probabilities, and 1M-row inputs
    that take a few seconds to convert (time enough to interrupt)."""
    root = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(6)
    y = rng.integers(0, 10, 200_000)
    (root / "labels.csv").write_text("\n".join(map(str, y.tolist())) + "\n")
    np.save(root / "labels.npy", y)
    p = rng.random((200_000, 10))
    np.save(root / "probs.npy", p / p.sum(axis=1, keepdims=True))
    y_long = rng.integers(0, 8, 1_000_000)
    np.save(root / "long_labels.npy", y_long)
    (root / "long_labels.csv").write_text("\n".join(map(str, y_long.tolist())) + "\n")
    p_long = rng.random((1_000_000, 8))
    np.save(root / "long_probs.npy", p_long / p_long.sum(axis=1, keepdims=True))
    return root


# --- pipes ----------------------------------------------------------------------------------------


HEAD_CASES = {
    "onehot": ("onehot", "{big}/labels.csv", "-n", "10"),
    "onehot-npy": ("onehot", "{big}/labels.csv", "-n", "10", "-f", "npy"),
    "onehot-json": ("onehot", "{big}/labels.npy", "-n", "10", "-f", "json"),
    "compute-reduction-none": ("compute", "scce", "{big}/labels.npy", "{big}/probs.npy", "-r",
                               "none"),
    "compute-csv": ("compute", "scce", "{big}/labels.npy", "{big}/probs.npy", "-f", "csv"),
    "compute-jsonl": ("compute", "cce", "{big}/onehot.npy", "{big}/probs.npy", "-f", "jsonl"),
    "compute-elementwise": ("compute", "bce", "{big}/onehot.npy", "{big}/probs.npy",
                            "--elementwise", "-r", "none"),
    "sparse": ("sparse", "{big}/onehot.npy"),
    "sparse-argmax": ("sparse", "{big}/probs.npy", "--argmax"),
    "list": ("list",),
    "list-json": ("list", "-f", "json"),
}


@pytest.fixture(scope="module")
def big_onehot(big) -> Path:
    y = np.load(big / "labels.npy")
    np.save(big / "onehot.npy", np.eye(10, dtype=np.int64)[y])
    return big


@pytest.mark.parametrize("name", list(HEAD_CASES))
def test_head_closes_the_pipe_quietly(name, big_onehot):
    argv = [a.format(big=big_onehot) for a in HEAD_CASES[name]]
    prod = subprocess.Popen(lossctl(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=subprocess_env())
    head = subprocess.run(["head", "-c" if name == "onehot-npy" else "-n", "1"],
                          stdin=prod.stdout, capture_output=True, timeout=120)
    prod.stdout.close()  # head holds the only reader now: when it exits, the pipe is closed
    err = prod.stderr.read().decode()
    rc = prod.wait(timeout=120)
    assert err == "", err
    assert rc in (0, 1), (rc, err)
    assert head.returncode == 0 and head.stdout, head


# --- SIGINT / SIGTERM -----------------------------------------------------------------------------


LONG = {
    "compute-csv": ("compute", "scce", "{big}/long_labels.npy", "{big}/long_probs.npy", "-f",
                    "csv", "-o", "{out}/out.csv"),
    "onehot-csv": ("onehot", "{big}/long_labels.csv", "-n", "8", "-o", "{out}/out.csv"),
}


def _interrupt(argv: list[str], out: Path, sig: int) -> subprocess.CompletedProcess:
    """Start ``argv``, wait until its temporary output file exists (the command is writing),
    then send ``sig``."""
    proc = subprocess.Popen(lossctl(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=subprocess_env())
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".lossctl-tmp-") for p in out.iterdir()):
        assert proc.poll() is None, "the command ended before it could be interrupted: " + \
            proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no temporary output file appeared"
        time.sleep(0.005)
    time.sleep(0.05)  # well inside the writing loop
    assert proc.poll() is None, "the command ended before it could be interrupted"
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


@pytest.mark.parametrize("name", list(LONG))
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("existing", [False, True], ids=["new-output", "existing-output"])
def test_interrupt_leaves_no_partial_output(name, sig, code, existing, big, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    if existing:
        (out / "out.csv").write_bytes(KEEP)
    argv = [a.format(big=big, out=out) for a in LONG[name]]
    proc = _interrupt(argv, out, sig)
    err = proc.stderr.decode()
    assert proc.returncode == code, (proc.returncode, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert "lossctl: error" not in err, err
    assert proc.stdout == b""
    left = sorted(p.name for p in out.iterdir())
    assert left == (["out.csv"] if existing else []), left
    if existing:
        assert (out / "out.csv").read_bytes() == KEEP


# --- full disk ------------------------------------------------------------------------------------


@pytest.fixture
def full_device(tmp_path) -> Path:
    """A character device that fails every write with ENOSPC: a node of /dev/full made in
    tmp_path when we may (so a regression that replaced the node could not hurt the real one),
    else /dev/full itself (unprivileged: its folder is not writable, nothing can replace it)."""
    node = tmp_path / "full"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except (PermissionError, AttributeError, OSError):
        if not os.path.exists("/dev/full"):
            pytest.skip("no /dev/full on this system")
        return Path("/dev/full")
    return node


@pytest.mark.skipif(sys.platform != "linux", reason="/dev/full is Linux")
@pytest.mark.parametrize("argv", [
    ("onehot", "{d}/y.csv", "-n", "3", "-f", "csv", "-o", "{full}"),
    ("onehot", "{d}/y.csv", "-n", "3", "-f", "npy", "-o", "{full}"),
    ("compute", "scce", "{d}/y.csv", "{d}/p.csv", "-f", "json", "-o", "{full}"),
    ("sparse", "{d}/oh.csv", "-f", "csv", "-o", "{full}"),
], ids=["onehot-csv", "onehot-npy", "compute-json", "sparse-csv"])
def test_full_disk_device(argv, full_device, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "y.csv").write_text("0\n1\n2\n")
    (d / "p.csv").write_text("0.2,0.3,0.5\n0.1,0.8,0.1\n0.3,0.3,0.4\n")
    (d / "oh.csv").write_text("1,0,0\n0,1,0\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = subprocess.run(lossctl(*(a.format(d=d, full=full_device) for a in argv)),
                          capture_output=True, env=subprocess_env(), timeout=60)
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    errors = [ln for ln in err.splitlines() if ln.startswith("lossctl: error: ")]
    assert len(errors) == 1, err
    assert f"could not write {full_device}: No space left on device" in errors[0]
    assert "free some disk space" in errors[0].lower()
    assert "Traceback" not in err
    assert stat.S_ISCHR(os.stat(full_device).st_mode), "the device node was replaced"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not [p for p in full_device.parent.iterdir() if p.name.startswith(".lossctl-tmp-")]


class _FullDisk(io.RawIOBase):
    """A writable file that takes ``room`` bytes, then fails with ENOSPC like a full disk."""

    def __init__(self, real, room: int) -> None:
        self.real = real
        self.room = room

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        n = len(b)
        if n > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= n
        return self.real.write(b)

    def fileno(self) -> int:
        return self.real.fileno()

    def seekable(self) -> bool:
        return self.real.seekable()

    def seek(self, *a) -> int:
        return self.real.seek(*a)

    def tell(self) -> int:
        return self.real.tell()

    def close(self) -> None:
        self.real.close()
        super().close()


@pytest.mark.parametrize("room", [0, 100, 1000], ids=["nothing", "header", "part"])
@pytest.mark.parametrize(("argv", "name"), [
    (("onehot", "y.csv", "-n", "10", "-o", "out.csv"), "out.csv"),
    (("onehot", "y.csv", "-n", "10", "-o", "out.npy"), "out.npy"),
    (("sparse", "oh.npy", "-o", "out.csv"), "out.csv"),
    (("compute", "scce", "y.csv", "p.npy", "-f", "jsonl", "-o", "out.jsonl"), "out.jsonl"),
    (("compute", "scce", "y.csv", "p.npy", "-f", "json", "-o", "out.json"), "out.json"),
    (("compute", "scce", "y.csv", "p.npy", "-f", "table", "-o", "out.txt"), "out.txt"),
], ids=["onehot-csv", "onehot-npy", "sparse-csv", "compute-jsonl", "compute-json", "compute-table"])
def test_simulated_enospc_keeps_the_target(argv, name, room, tmp_path, monkeypatch, invoke):
    """ENOSPC after ``room`` bytes (the writers' ``_fdopen`` hook hands out a full disk): one
    clear error, exit 1, the temporary file removed, the existing target byte-identical."""
    from lossctl.out import files as out_files

    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 3000)
    (tmp_path / "y.csv").write_text("\n".join(map(str, y.tolist())) + "\n")
    np.save(tmp_path / "oh.npy", np.eye(10, dtype=np.int64)[y])
    p = rng.random((3000, 10))
    np.save(tmp_path / "p.npy", p / p.sum(axis=1, keepdims=True))
    (tmp_path / name).write_bytes(KEEP)
    real_fdopen = out_files._fdopen

    def full_fdopen(fd, mode="r", *args, **kwargs):
        raw = _FullDisk(real_fdopen(fd, "wb", buffering=0), room)
        if "b" in mode:
            return io.BufferedWriter(raw)
        return io.TextIOWrapper(io.BufferedWriter(raw), encoding=kwargs.get("encoding"),
                                newline=kwargs.get("newline"))

    monkeypatch.setattr(out_files, "_fdopen", full_fdopen)
    monkeypatch.chdir(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    res = invoke(*argv)
    assert res.exit_code == 1, res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("lossctl: error: ")]
    assert len(errors) == 1, res.stderr
    assert f"could not write {name}: No space left on device" in errors[0]
    assert "Free some disk space" in errors[0]
    assert "Traceback" not in res.stderr
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # target untouched, no .lossctl-tmp-* left


# --- devices and named pipes as -o ------------------------------------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="device nodes as on Linux")
def test_output_to_a_null_device_is_written_in_place(tmp_path):
    """-o /dev/null (say, to validate inputs only) writes to the device; it never renames a
    temporary file over the device node (as root that would replace /dev/null with a file)."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError):
        node = Path("/dev/null")
    (tmp_path / "y.csv").write_text("0\n1\n2\n")
    for fmt in ("csv", "npy"):
        proc = subprocess.run(lossctl("onehot", tmp_path / "y.csv", "-n", "3", "-f", fmt, "-o",
                                      node), capture_output=True, env=subprocess_env(),
                              timeout=60)
        assert proc.returncode == 0, proc.stderr.decode()
        assert proc.stderr == b"" and proc.stdout == b""
        assert stat.S_ISCHR(os.stat(node).st_mode), "the device node was replaced"
    assert not [p for p in node.parent.iterdir() if p.name.startswith(".lossctl-tmp-")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_output_to_a_named_pipe_streams_a_valid_npy(tmp_path):
    """A FIFO as -o cannot be seeked: NPY of unknown length is spooled and sent whole."""
    fifo = tmp_path / "pipe.npy"
    os.mkfifo(fifo)
    y = np.arange(5000) % 7
    (tmp_path / "y.csv").write_text("\n".join(map(str, y.tolist())) + "\n")
    received = tmp_path / "received.npy"
    with open(received, "wb") as sink:  # the reader at the other end of the pipe
        reader = subprocess.Popen(["cat", str(fifo)], stdout=sink)
        try:
            proc = subprocess.run(lossctl("onehot", tmp_path / "y.csv", "-n", "7", "-f", "npy",
                                          "-o", fifo), capture_output=True, env=subprocess_env(),
                                  timeout=60)
            reader.wait(timeout=10)  # a FIFO replaced by a file would leave cat waiting
        finally:
            if reader.poll() is None:
                reader.kill()
                reader.wait()
    assert proc.returncode == 0, proc.stderr.decode()
    assert np.array_equal(np.load(received), np.eye(7, dtype=np.int64)[y])
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.npy", "received.npy", "y.csv"]


# --- native threads at exit ---------------------------------------------------------------------------


def test_error_while_pyarrow_still_parses_ends_with_status_1(tmp_path):
    """A bad label in the first block of a CSV large enough for the pyarrow engine (several 8 MB
    chunks) stops the command while pyarrow's threads are still parsing ahead. The process must
    end with status 1 and one error line: it used to abort in one run of seven to fifteen
    ("terminate called without an active exception", status 134) when a pool thread released
    its Python buffer during interpreter shutdown. Ten runs in a row make a regression likely
    to show (the race needs sequential runs: concurrent ones hide it)."""
    path = tmp_path / "labels.csv"
    path.write_bytes(b"1\n" * 100 + b"9\n" + b"1\n" * 12_000_000)
    for _ in range(10):
        proc = subprocess.run(lossctl("onehot", path, "-n", "8", "-o", tmp_path / "out.csv"),
                              capture_output=True, stdin=subprocess.DEVNULL, env=subprocess_env(),
                              timeout=120)
        text = proc.stderr.decode()
        assert proc.returncode == 1, (proc.returncode, text)
        assert text.count("lossctl: error: ") == 1 and "line 101: label 9" in text, text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv"]
