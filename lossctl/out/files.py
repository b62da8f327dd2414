"""Output files: checking the destination up front, and writing it atomically.

Every file output goes through :func:`atomic_open`: a temporary file in the target's folder,
renamed over the target only when everything was written, so a failure never leaves a half-written
or clobbered file. An existing device, FIFO or socket (``/dev/null``, ``/dev/stdout``, a named
pipe) is written in place instead, as the shell's ``>`` would.

:func:`check_output` refuses a destination before any work is done: a folder, a missing folder, or
one of the command's own inputs (compared by device and inode, standard input included, and by
name).

OSErrors of writes become :class:`~lossctl.errors.OutputError` (``could not write out.csv: No space
left on device``) through :func:`write_error`. No numpy here.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any

from lossctl.errors import OutputError, opt
from lossctl.out.formats import is_stdout

__all__ = ["TEMP_PREFIX", "atomic_open", "check_output", "is_special_file", "write_error"]

#: Name prefix of the temporary files :func:`atomic_open` creates beside the target.
TEMP_PREFIX = ".lossctl-tmp-"

#: Characters :func:`tempfile.mkstemp` appends to the prefix (its random part).
_RANDOM_CHARS = 8
_DEFAULT_NAME_MAX = 255

# Indirection so tests can hand atomic_open a file object that fails like a full disk.
_fdopen = os.fdopen


# --- checking the destination ------------------------------------------------------------------


def _input_path(spec: str | os.PathLike) -> str | None:
    """The file behind an input spec: ``-`` has none, ``data.npz:key`` is ``data.npz``."""
    spec = os.fspath(spec)
    if spec in ("", "-"):
        return None
    if not os.path.exists(spec) and ":" in spec:
        base = spec.rpartition(":")[0]
        if base and os.path.exists(base):
            return base
    return spec


def _file_id(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)  # follows symlinks: a link is the file it points to
    except (OSError, ValueError):
        return None


def _stdin_stat(stdin: Any) -> os.stat_result | None:
    """The status of the file behind standard input, or None (closed, no descriptor, a StringIO)."""
    stream = sys.stdin if stdin is None else stdin
    try:
        return os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return None


def _same_file(a: str, b: str) -> bool:
    sa, sb = _stat(a), _stat(b)
    if sa is not None and sb is not None:
        return _file_id(sa) == _file_id(sb)
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def _check_folder(out: str) -> None:
    if os.path.isdir(out):
        raise OutputError(
            f"output {out} is a folder, not a file",
            hint=f"give a file name, e.g. {opt('output', os.path.join(out, 'out.csv'))}",
            option="output",
        )
    folder = os.path.dirname(out)
    if folder and not os.path.isdir(folder):
        if os.path.exists(folder):
            raise OutputError(
                f"cannot write {out}: {folder} is a file, not a folder",
                hint=f"choose another {opt('output')} path",
                option="output",
            )
        raise OutputError(
            f"cannot write {out}: the folder {folder} does not exist",
            hint=f"create it first (mkdir -p {folder}) or choose another {opt('output')} path",
            option="output",
        )


def _check_remote(out: str) -> None:
    """Outputs are local files: a URL (``s3://...``) is refused before any work."""
    import re

    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", out)  # (as lossctl.io.remote reads inputs)
    protocol = m.group(1).lower() if m else None
    if protocol is not None and not os.path.exists(out):
        raise OutputError(
            f"output {out}: writing to {protocol}:// is not supported (inputs may be remote, "
            "outputs are local files)",
            hint=f"write a local file with {opt('output')}, then copy it to the bucket",
            option="output",
        )


def _input_clash(out: str, spec: str) -> OutputError:
    return OutputError(
        f"output {out} is the same file as the input {spec}; refusing to overwrite an input",
        hint=f"write the output to a different file ({opt('output')})",
        option="output",
    )


def check_output(
    output: str | os.PathLike | None,
    inputs: Sequence[str | os.PathLike],
    *,
    stdin: Any = None,
) -> None:
    """Refuse an output path before any work is done.

    Call it as soon as the arguments are known, so a bad output fails before a long computation.
    The output is compared with every input by device and inode (``os.stat``, so symlinks and hard
    links are caught), and by resolved name when one of the two does not exist yet. An input ``-``
    is standard input: when that is a regular file (``< y.csv``), an output that is the same file
    is refused too. A device, pipe or terminal on standard input is never "the same file".

    Args:
        output: the output path; ``None`` or ``"-"`` (standard output) is always fine.
        inputs: the input specs as the user wrote them (``-`` and ``file.npz:key`` are
            understood: the latter is the file ``file.npz``).
        stdin: the stream whose descriptor is standard input (default ``sys.stdin``); consulted
            only when an input is ``-``. Tests inject a file opened on the output.

    Raises:
        OutputError: the output is a URL (remote outputs are not supported), a folder, its
            folder does not exist, or it is the same file as
            one of the inputs (same path, another spelling, a symlink or a hard link, or the file
            redirected to standard input).
    """
    if is_stdout(output):
        return
    out = os.fspath(output)  # type: ignore[arg-type]
    _check_remote(out)
    _check_folder(out)
    out_stat = _stat(out)
    for spec in inputs:
        shown = os.fspath(spec)
        if shown in ("", "-"):
            if out_stat is None:
                continue
            st = _stdin_stat(stdin)
            if st is not None and stat.S_ISREG(st.st_mode) and _file_id(st) == _file_id(out_stat):
                raise _input_clash(out, "<stdin>")
            continue
        path = _input_path(spec)
        if path is not None and _same_file(out, path):
            raise _input_clash(out, shown)


# --- write errors --------------------------------------------------------------------------------


def write_error(path: str, exc: OSError) -> OutputError:
    """The :class:`OutputError` for an OSError while writing ``path`` (with the fix, if known)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = None
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        hint = f"free some disk space or choose an {opt('output')} in another folder"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        hint = f"check that you may write to that folder, or choose another {opt('output')} path"
    elif exc.errno == errno.EROFS:
        hint = "choose a folder on a writable file system"
    elif exc.errno == errno.ENAMETOOLONG:
        hint = "choose a shorter file name"
    return OutputError(f"could not write {path}: {reason}", hint=hint)


# --- atomic files --------------------------------------------------------------------------------


def _new_file_mode(target: str) -> int:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_folder(folder: str) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def is_special_file(path: str) -> bool:
    """True for an existing path that is not a regular file (character device, FIFO, socket)."""
    st = _stat(path)  # follows symlinks: /dev/stdout -> the actual stream
    return st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode)


def _name_max(folder: str) -> int:
    try:
        value = os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # Windows has no pathconf
        return _DEFAULT_NAME_MAX
    return value if value and value > 0 else _DEFAULT_NAME_MAX


def _temp_prefix(folder: str, name: str) -> str:
    """``.lossctl-tmp-<name>.``, with ``<name>`` cut so the whole temporary name (random part
    included) stays within the folder's NAME_MAX, counted in bytes of the file system encoding."""
    budget = _name_max(folder) - len(os.fsencode(TEMP_PREFIX)) - 1 - _RANDOM_CHARS
    part = name
    while part and len(os.fsencode(part)) > budget:
        part = part[:-1]
    return f"{TEMP_PREFIX}{part}."


def _open_fd(fd: int, mode: str) -> IO[Any]:
    if mode == "wb":
        return _fdopen(fd, "wb")
    return _fdopen(fd, "w", encoding="utf-8", newline="")


@contextlib.contextmanager
def _direct_open(shown: str, mode: str) -> Iterator[IO[Any]]:
    """Write to a device or FIFO in place; OSErrors (ENOSPC on /dev/full) become OutputError."""
    f = None
    try:
        fd = os.open(shown, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            f = _open_fd(fd, mode)
        except BaseException:
            os.close(fd)
            raise
        yield f
        f.flush()
        f.close()
    except BaseException as exc:
        if f is not None:
            with contextlib.suppress(Exception):
                f.close()
        if isinstance(exc, OSError):
            raise write_error(shown, exc) from exc
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that it changes only if everything was written.

    The data goes to a temporary file ``.lossctl-tmp-<name>.<random>`` in the target's folder
    (``<name>`` shortened when needed, so the temporary name fits the file system's name limit
    even for a target name close to it); on success it is flushed, ``fsync``-ed and renamed over
    the target with :func:`os.replace` (atomic on POSIX and Windows). On any exception, including
    ``KeyboardInterrupt``, the temporary file is removed and the target is left exactly as it was.
    A symlinked target is followed: the file it points to is replaced and the link kept. The new
    file gets the old file's permission bits, or the usual ``0o666 & ~umask`` for a new one. An
    existing device, FIFO or socket (``/dev/null``, ``/dev/stdout``, a named pipe) is written in
    place, as the shell's ``>`` would: there is nothing to replace atomically, and renaming over a
    device node would destroy it.

    Args:
        path: the target file.
        mode: ``"wb"`` (binary) or ``"w"`` (text: UTF-8, no newline translation).

    Yields:
        The open temporary file.

    Raises:
        OutputError: the temporary file cannot be created, or writing, flushing or renaming fails
            with an :class:`OSError` (``could not write out.csv: No space left on device``). An
            ``OSError`` raised inside the ``with`` block is taken as a write failure too.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open mode must be 'wb' or 'w', not {mode!r}")
    shown = os.fspath(path)
    if is_special_file(shown):
        # /dev/null, /dev/stdout, a named pipe: nothing to replace atomically, and renaming a
        # temporary file over a device node would destroy it. Write straight to it, like `>`.
        with _direct_open(shown, mode) as f:
            yield f
        return
    target = os.path.realpath(shown) if os.path.islink(shown) else shown
    folder = os.path.dirname(target) or os.curdir
    import tempfile

    try:
        prefix = _temp_prefix(folder, os.path.basename(target))
        fd, tmp = tempfile.mkstemp(prefix=prefix, dir=folder)
    except OSError as exc:
        raise write_error(shown, exc) from exc
    f = None
    try:
        try:
            if hasattr(os, "fchmod"):
                with contextlib.suppress(OSError):
                    os.fchmod(fd, _new_file_mode(target))
            f = _open_fd(fd, mode)
        except BaseException:
            if f is None:
                os.close(fd)
            raise
        yield f
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.replace(tmp, target)
    except BaseException as exc:
        if f is not None:
            with contextlib.suppress(Exception):
                f.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise write_error(shown, exc) from exc
        raise
    _fsync_folder(folder)
