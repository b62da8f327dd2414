"""Writing results: the one output layer every command uses.

Formats (:data:`FORMATS`):

* ``csv`` / ``tsv``: text, optional header row, floats with full ``repr`` round-trip precision,
  NaN as ``nan`` and infinities as ``inf`` / ``-inf``;
* ``json``: an array of row objects (``TableSink``) or any JSON value (:func:`write_json`),
  always strict JSON: NaN and infinities become ``null`` and a warning says how many;
* ``jsonl``: one JSON object per row;
* ``npy``: one 2-D ``float64`` or ``int64`` array, written incrementally;
* ``table``: a rich table for people, rounded to ``precision`` digits. It is the only format that
  touches rich, through :mod:`lossctl.render`, imported when a table is actually written.

Every file output goes through :func:`atomic_open`: a temporary file in the target's folder,
renamed over the target only when everything was written, so a failure never leaves a half-written
or clobbered file. Standard output is written as the data comes; a :class:`BrokenPipeError` there
is left to propagate (the CLI ends quietly on it).

This module is library code: it imports neither typer nor rich at import time, and numpy only
inside the functions that need it.
"""
from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any

from lossctl.errors import OutputError, UsageError, warn

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "TEMP_PREFIX",
    "TableSink",
    "atomic_open",
    "check_output",
    "format_from_extension",
    "format_number",
    "resolve_format",
    "write_json",
    "write_value",
]

FORMATS = ("table", "csv", "tsv", "json", "jsonl", "npy")

#: Output file extension -> format, used by ``-o PATH`` when ``--format`` is not given.
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".npy": "npy",
}

#: Name prefix of the temporary files :func:`atomic_open` creates beside the target.
TEMP_PREFIX = ".lossctl-tmp-"

_STDOUT_NAME = "<stdout>"
_TEXT_FORMATS = ("csv", "tsv", "json", "jsonl", "table")

# Indirection so tests can hand atomic_open a file object that fails like a full disk.
_fdopen = os.fdopen


# --- choosing the format and checking the destination ------------------------------------------


def _npy_terminal_error() -> UsageError:
    return UsageError(
        "refusing to write binary NPY to a terminal",
        hint="redirect to a file (> out.npy) or use -o out.npy",
    )


def _is_stdout(output: str | os.PathLike | None) -> bool:
    return output is None or (isinstance(output, str) and output == "-")


def format_from_extension(output: str | os.PathLike) -> str:
    """The format implied by an output file name (``out.json`` -> ``"json"``).

    Args:
        output: the ``-o`` path.

    Returns:
        One of :data:`FORMATS` (never ``"table"``).

    Raises:
        UsageError: the extension is missing or not one of :data:`EXTENSIONS`.
    """
    name = os.fspath(output)
    ext = os.path.splitext(name)[1].lower()
    known = " ".join(EXTENSIONS)
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    if not ext:
        message = f"cannot tell the output format of {name!r}: it has no extension"
    else:
        message = f"unknown output extension {ext!r} in {name!r}"
    raise UsageError(message, hint=f"give --format, or use one of the extensions {known}")


def resolve_format(
    fmt: str | None,
    output: str | os.PathLike | None,
    *,
    stdout_isatty: bool,
    plain: str = "csv",
) -> str:
    """Decide the output format of a command.

    An explicit ``--format`` wins; otherwise the extension of ``-o PATH`` decides; otherwise the
    output goes to standard output and is a rich ``table`` when stdout is a terminal and ``plain``
    when it is not (a pipe or a file). Decide ``stdout_isatty`` with ``sys.stdout.isatty()``, not
    with rich's terminal detection (``FORCE_COLOR`` and friends make rich call a pipe a terminal).

    Args:
        fmt: the ``--format`` value; ``None`` or ``"auto"`` means "not given". Case-insensitive.
        output: the ``-o`` path; ``None`` or ``"-"`` means standard output.
        stdout_isatty: whether standard output is a terminal.
        plain: the format for standard output when it is not a terminal.

    Returns:
        One of :data:`FORMATS`.

    Raises:
        UsageError: unknown format or extension, or NPY bound for a terminal.
    """
    if plain not in FORMATS:
        raise ValueError(f"plain must be one of {FORMATS}, not {plain!r}")
    to_stdout = _is_stdout(output)
    if fmt is not None and fmt.strip().lower() not in ("", "auto"):
        resolved = fmt.strip().lower()
        if resolved not in FORMATS:
            raise UsageError(
                f"unknown output format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}"
            )
    elif not to_stdout:
        resolved = format_from_extension(output)  # type: ignore[arg-type]
    else:
        resolved = "table" if stdout_isatty else plain
    if resolved == "npy" and to_stdout and stdout_isatty:
        raise _npy_terminal_error()
    return resolved


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


def _same_file(a: str, b: str) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        try:
            return os.path.samefile(a, b)
        except OSError:
            pass
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def check_output(output: str | os.PathLike | None, inputs: Sequence[str | os.PathLike]) -> None:
    """Refuse an output path before any work is done.

    Call it as soon as the command line is parsed, so a bad ``-o`` fails before a long computation.

    Args:
        output: the ``-o`` path; ``None`` or ``"-"`` (standard output) is always fine.
        inputs: the command's input specs as the user wrote them (``-`` and ``file.npz:key``
            are understood).

    Raises:
        OutputError: the output is a folder, its folder does not exist, or it is the same file as
            one of the inputs (same path, another spelling, a symlink or a hard link).
    """
    if _is_stdout(output):
        return
    out = os.fspath(output)  # type: ignore[arg-type]
    if os.path.isdir(out):
        raise OutputError(
            f"output {out} is a folder, not a file",
            hint=f"give a file name, e.g. -o {os.path.join(out, 'out.csv')}",
        )
    folder = os.path.dirname(out)
    if folder and not os.path.isdir(folder):
        if os.path.exists(folder):
            raise OutputError(
                f"cannot write {out}: {folder} is a file, not a folder",
                hint="choose another -o path",
            )
        raise OutputError(
            f"cannot write {out}: the folder {folder} does not exist",
            hint=f"create it first (mkdir -p {folder}) or choose another -o path",
        )
    for spec in inputs:
        path = _input_path(spec)
        if path is not None and _same_file(out, path):
            raise OutputError(
                f"output {out} is the same file as the input {os.fspath(spec)}; "
                "refusing to overwrite an input",
                hint="write the output to a different file with -o",
            )


# --- numbers -------------------------------------------------------------------------------------


def format_number(x: Any) -> str:
    """A number as text that reads back to exactly the same value.

    Python and ``float64`` floats use ``repr`` (shortest round-trip form: ``0.1 + 0.2`` is
    ``0.30000000000000004``, ``1e-300`` stays ``1e-300``); other numpy float types use numpy's
    shortest round-trip form *for their own precision* (``np.float32(0.1)`` is ``0.1``). Integers
    (Python or numpy) are written as integers, booleans as ``1``/``0``, NaN as ``nan`` and
    infinities as ``inf``/``-inf``. Strings are returned unchanged; ``None`` becomes ``""``.

    Args:
        x: a Python or numpy scalar, a 0-d array, or a string.

    Returns:
        The text, without a newline.
    """
    import numpy as np

    if isinstance(x, np.ndarray):
        if x.ndim != 0:
            raise TypeError(f"format_number takes a scalar, not an array of shape {x.shape}")
        x = x[()]
    if x is None:
        return ""
    if isinstance(x, str):
        return str(x)
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, float):  # includes np.float64
        return repr(float(x))
    if isinstance(x, np.floating):  # float16/float32/longdouble: shortest form in their precision
        if np.isnan(x):
            return "nan"
        if np.isinf(x):
            return "inf" if x > 0 else "-inf"
        return str(x)
    return str(x)


def _int_csv(parts, n: int, sep: str) -> str:
    """Integer/bool columns as CSV text, 10-30x faster than str() per cell.

    Every value in 0..9 (one-hot, multi-hot, small labels): the digits are written straight
    into a byte array (~2 ns per cell). Otherwise one %-format over the block (~65 ns per cell).
    """
    import numpy as np

    a = parts[0] if len(parts) == 1 else np.concatenate([p.reshape(n, -1) for p in parts], axis=1)
    a = a.reshape(n, -1)
    if a.dtype.kind == "b":
        a = a.astype(np.uint8)
    k = a.shape[1]
    if n and k and a.min() >= 0 and a.max() <= 9:
        out = np.empty((n, 2 * k), dtype=np.uint8)
        out[:, 0::2] = a
        out[:, 0::2] += 48
        out[:, 1::2] = ord(sep)
        out[:, -1] = 10
        return out.tobytes().decode("ascii")
    row = sep.join(["%d"] * k) + "\n"
    return (row * n) % tuple(a.ravel().tolist())


def _format_column(col) -> list[str]:
    """Format a 1-D array as text cells (the vectorised twin of :func:`format_number`)."""
    import numpy as np

    kind = col.dtype.kind
    if kind in "iu":
        return list(map(str, col.tolist()))
    if kind == "b":
        return ["1" if v else "0" for v in col.tolist()]
    if kind == "f":
        if col.dtype == np.float64:
            return list(map(repr, col.tolist()))  # repr(nan) == "nan", repr(inf) == "inf"
        return [format_number(v) for v in col]
    if kind in "US":
        return [str(v) for v in col.tolist()]
    return [format_number(v) for v in col.tolist()]


_NONFINITE_TEXT = frozenset({"nan", "-nan", "inf", "-inf"})


def _json_column(col) -> tuple[list[str], int]:
    """JSON tokens for a 1-D array: numbers, ``null`` for NaN/inf, quoted strings."""
    import json

    kind = col.dtype.kind
    if kind in "US":
        return [json.dumps(v) for v in col.tolist()], 0
    if kind == "O":
        tokens = [_json_scalar_token(v) for v in col.tolist()]
        mapped = sum(1 for v, t in zip(col.tolist(), tokens) if t == "null" and v is not None)
        return tokens, mapped
    import numpy as np

    cells = _format_column(col)
    if kind != "f":
        return cells, 0
    bad = np.flatnonzero(~np.isfinite(col))
    for i in bad.tolist():
        cells[i] = "null"
    return cells, len(bad)


def _json_scalar_token(v: Any) -> str:
    import json

    text = format_number(v)
    if text in _NONFINITE_TEXT:
        return "null"
    if v is None:
        return "null"
    if isinstance(v, str):
        return json.dumps(v)
    return text


def _nonfinite_warning(count: int) -> None:
    if count:
        values = "value" if count == 1 else "values"
        warn(f"{count} non-finite {values} (NaN or infinity) written as null: JSON has no NaN")


# --- atomic files --------------------------------------------------------------------------------


def _write_error(path: str, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = None
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        hint = "free some disk space or write to another folder with -o"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        hint = "check that you may write to that folder, or choose another -o path"
    elif exc.errno == errno.EROFS:
        hint = "choose a folder on a writable file system"
    return OutputError(f"could not write {path}: {reason}", hint=hint)


def _new_file_mode(target: str) -> int:
    try:
        import stat

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


def _is_special_file(path: str) -> bool:
    """True for an existing path that is not a regular file (character device, FIFO, socket)."""
    import stat

    try:
        st = os.stat(path)  # follows symlinks: /dev/stdout -> the actual stream
    except OSError:
        return False
    return not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode)


@contextlib.contextmanager
def _direct_open(shown: str, mode: str) -> Iterator[IO[Any]]:
    """Write to a device or FIFO in place; OSErrors (ENOSPC on /dev/full) become OutputError."""
    f = None
    try:
        fd = os.open(shown, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            f = _fdopen(fd, "wb") if mode == "wb" else _fdopen(
                fd, "w", encoding="utf-8", newline="")
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
            raise _write_error(shown, exc) from exc
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that it changes only if everything was written.

    The data goes to a temporary file ``.lossctl-tmp-<name>.<random>`` in the target's folder; on
    success it is flushed, ``fsync``-ed and renamed over the target with :func:`os.replace` (atomic
    on POSIX and Windows). On any exception, including ``KeyboardInterrupt``, the temporary file is
    removed and the target is left exactly as it was. A symlinked target is followed: the file it
    points to is replaced and the link kept. The new file gets the old file's permission bits, or
    the usual ``0o666 & ~umask`` for a new one. An existing device, FIFO or socket
    (``-o /dev/null``, ``/dev/stdout``, a named pipe) is written in place, as the shell's ``>``
    would: there is nothing to replace atomically, and renaming over a device node would destroy it.

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
    if _is_special_file(shown):
        # -o /dev/null, /dev/stdout, a named pipe: nothing to replace atomically, and renaming a
        # temporary file over a device node would destroy it. Write straight to it, like `>`.
        with _direct_open(shown, mode) as f:
            yield f
        return
    target = os.path.realpath(shown) if os.path.islink(shown) else shown
    folder = os.path.dirname(target) or os.curdir
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.path.basename(target)}.", dir=folder)
    except OSError as exc:
        raise _write_error(shown, exc) from exc
    f = None
    try:
        try:
            if hasattr(os, "fchmod"):
                with contextlib.suppress(OSError):
                    os.fchmod(fd, _new_file_mode(target))
            if mode == "wb":
                f = _fdopen(fd, "wb")
            else:
                f = _fdopen(fd, "w", encoding="utf-8", newline="")
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
            raise _write_error(shown, exc) from exc
        raise
    _fsync_folder(folder)


# --- standard output -----------------------------------------------------------------------------


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _is_binary(stream: Any) -> bool:
    if isinstance(stream, io.TextIOBase):
        return False
    if isinstance(stream, (io.RawIOBase, io.BufferedIOBase)):
        return True
    return not hasattr(stream, "encoding")


def _binary_stdout(stdout: Any) -> Any:
    stream = stdout if stdout is not None else sys.stdout
    if _is_binary(stream):
        return stream
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        raise TypeError("NPY output needs a binary stream; this stdout has no .buffer")
    stream.flush()  # text already written must come before the bytes
    return buffer


def _text_stdout(stdout: Any) -> tuple[Any, bool]:
    """A text stream for stdout, and whether it is a wrapper to detach when done."""
    stream = stdout if stdout is not None else sys.stdout
    if _is_binary(stream):
        return io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True), True
    return stream, False


def _write_text(text: str, output: str | os.PathLike | None, stdout: Any) -> None:
    if not _is_stdout(output):
        with atomic_open(output, "w") as f:  # type: ignore[arg-type]
            f.write(text)
        return
    stream, wrapped = _text_stdout(stdout)
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _write_error(_STDOUT_NAME, exc) from exc
    finally:
        if wrapped:
            with contextlib.suppress(Exception):
                stream.detach()


# --- single values and JSON documents ------------------------------------------------------------


def _jsonable(obj: Any, counter: list[int]) -> Any:
    import numpy as np

    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    elif isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            counter[0] += 1
            return None
        return float(obj)
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if isinstance(key, np.generic):
                key = key.item()
            out[key] = _jsonable(value, counter)
        return out
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v, counter) for v in obj]
    raise TypeError(f"cannot write a {type(obj).__name__} as JSON")


def write_json(obj: Any, *, output: str | os.PathLike | None = None, stdout: Any = None) -> None:
    """Write one JSON document (indented, UTF-8, trailing newline).

    Strict JSON: ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON, so non-finite floats are
    written as ``null`` and one :func:`lossctl.errors.warn` says how many. numpy arrays and
    scalars are converted; floats keep full round-trip precision.

    Args:
        obj: dicts, lists, tuples, strings, numbers, ``None``, numpy arrays and scalars, nested.
        output: a file path (written atomically); ``None`` or ``"-"`` for standard output.
        stdout: the stream used for standard output (default ``sys.stdout``); tests inject one.

    Raises:
        OutputError: the file cannot be written.
        TypeError: ``obj`` holds something JSON cannot represent.
    """
    import json

    counter = [0]
    clean = _jsonable(obj, counter)
    text = json.dumps(clean, indent=2, allow_nan=False) + "\n"
    _write_text(text, output, stdout)
    _nonfinite_warning(counter[0])


def write_value(x: Any, *, output: str | os.PathLike | None = None, stdout: Any = None) -> None:
    """Write a single number with full precision (:func:`format_number`) and a newline.

    Args:
        x: a Python or numpy scalar (or 0-d array).
        output: a file path (written atomically); ``None`` or ``"-"`` for standard output.
        stdout: the stream used for standard output (default ``sys.stdout``).

    Raises:
        OutputError: the file cannot be written.
    """
    _write_text(format_number(x) + "\n", output, stdout)


# --- NPY -----------------------------------------------------------------------------------------

_NPY_MAGIC = b"\x93NUMPY\x01\x00"
_NPY_PREFIX = len(_NPY_MAGIC) + 2  # magic + version + uint16 header length
_NPY_ALIGN = 64
_NPY_PLACEHOLDER_ROWS = 10**19 - 1  # as many digits as any int64 row count


def _npy_header(descr: str, shape: tuple[int, ...], total: int | None = None) -> bytes:
    """An NPY 1.0 header; ``total`` pads it to a fixed size (to overwrite a placeholder)."""
    body = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, tuple(shape))
    if total is None:
        total = -(-(_NPY_PREFIX + len(body) + 1) // _NPY_ALIGN) * _NPY_ALIGN
    size = total - _NPY_PREFIX
    if len(body) + 1 > size or size > 0xFFFF:
        raise ValueError(f"NPY header for shape {shape} does not fit in {total} bytes")
    text = body + " " * (size - len(body) - 1) + "\n"
    return _NPY_MAGIC + size.to_bytes(2, "little") + text.encode("latin1")


# --- the streaming row writer --------------------------------------------------------------------


class TableSink:
    """Streaming, row-oriented writer for every format in :data:`FORMATS`.

    Columns arrive as numpy arrays in blocks of rows (:meth:`write`); each block is written out
    right away (csv, tsv, json, jsonl, npy) or kept until :meth:`close` (table). Use it as a
    context manager: a normal exit closes it, an exception aborts it (a file output is then left
    untouched; standard output keeps what was already sent).

    Formats:
        * csv/tsv: ``\\n`` line ends, a header row of ``columns`` if ``header``; numbers as
          :func:`format_number` writes them (NaN -> ``nan``); text cells quoted by the ``csv``
          module where needed.
        * json: ``[`` then one object per row keyed by column names, then ``]``; NaN/inf -> ``null``
          and one warning with the count. jsonl: the same objects, one per line.
        * npy: a 2-D ``(nrows, ncols)`` array, ``int64`` if the first block's columns are all
          integer (or bool), else ``float64``; string columns are refused. The header carries
          ``nrows`` when given; otherwise a file gets a placeholder header fixed up at close, and
          standard output (never seeked: it may be a pipe or an ``O_APPEND`` file) is spooled to a
          temporary file and copied out at close.
        * table: all rows rendered at close with :func:`lossctl.render.table`, numbers rounded to
          ``precision`` digits; a file output gets plain text (no colour, no wrapping).

    Args:
        fmt: one of :data:`FORMATS` (already resolved, see :func:`resolve_format`).
        columns: column names, one per output column.
        output: a file path (written through :func:`atomic_open`); ``None`` or ``"-"`` for stdout.
        stdout: the stream for standard output (default ``sys.stdout``, or ``sys.stdout.buffer``
            for npy); tests inject ``io.StringIO``/``io.BytesIO``.
        header: write the header row (csv/tsv) or the column headings (table).
        nrows: the total number of rows, when known up front (lets npy stream to a pipe).
        precision: significant digits in a table.
        title: table title.
        no_color: table without colour (``--no-color``); ``NO_COLOR`` is honoured regardless.

    Raises:
        UsageError: npy to standard output that is a terminal.
    """

    def __init__(
        self,
        fmt: str,
        columns: Sequence[str],
        *,
        output: str | os.PathLike | None = None,
        stdout: Any = None,
        header: bool = True,
        nrows: int | None = None,
        precision: int = 6,
        title: str | None = None,
        no_color: bool = False,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
        if nrows is not None and nrows < 0:
            raise ValueError(f"nrows must be >= 0, not {nrows}")
        self.fmt = fmt
        self.columns = [str(c) for c in columns]
        self.output = None if _is_stdout(output) else os.fspath(output)  # type: ignore[arg-type]
        self.header = header
        self.nrows = nrows
        self.precision = precision
        self.title = title
        self.no_color = no_color
        self.rows_written = 0
        self._name = self.output if self.output is not None else _STDOUT_NAME
        self._stdout = stdout
        if self.output is None and fmt == "npy":
            probe = stdout if stdout is not None else sys.stdout
            if _isatty(probe):
                raise _npy_terminal_error()
        self._fh: Any = None  # the stream written to
        self._atomic: Any = None  # the atomic_open context manager, for file outputs
        self._wrapped = False  # _fh is a TextIOWrapper of ours around a binary stdout
        self._started = False
        self._done = False
        self._csv: Any = None
        self._json_template = ""
        self._nonfinite = 0
        self._rows: list[list[Any]] = []
        self._npy_dtype: Any = None
        self._npy_header_at = 0
        self._npy_header_size: int | None = None
        self._spool: Any = None

    # -- lifecycle --

    def __enter__(self) -> "TableSink":
        self._open()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort(exc)
        return False

    def _open(self) -> None:
        if self._fh is not None or self._done:
            return
        binary = self.fmt == "npy"
        if self.output is not None:
            self._atomic = atomic_open(self.output, "wb" if binary else "w")
            self._fh = self._atomic.__enter__()
        elif binary:
            self._fh = _binary_stdout(self._stdout)
        else:
            self._fh, self._wrapped = _text_stdout(self._stdout)

    def _guard(self, action):
        """Run ``action``; OSErrors of our own writes become OutputError (BrokenPipe stays)."""
        try:
            return action()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _write_error(self._name, exc) from exc

    def _start(self) -> None:
        if self._started:
            return
        self._open()
        self._started = True
        fmt = self.fmt
        if fmt in ("csv", "tsv"):
            import csv

            self._csv = csv.writer(
                self._fh, delimiter="," if fmt == "csv" else "\t", lineterminator="\n"
            )
            if self.header:
                self._csv.writerow(self.columns)
        elif fmt in ("json", "jsonl"):
            import json

            # one %-template per row: {"label": %s, "p0": %s}
            keys = [json.dumps(c).replace("%", "%%") for c in self.columns]
            self._json_template = "{" + ", ".join(f"{k}: %s" for k in keys) + "}"
            if fmt == "json":
                self._fh.write("[")

    # -- writing --

    def write(self, *cols: Any) -> None:
        """Append a block of rows.

        Args:
            *cols: arrays with the same number of rows ``n``; a 1-D ``(n,)`` array is one column,
                a 2-D ``(n, k)`` array is ``k`` columns. Together they must give ``len(columns)``
                columns, in order.

        Raises:
            ValueError: wrong number of columns, rows that differ between arrays, or a float block
                after an int64 NPY was started.
            UsageError: string columns for npy.
            OutputError: the output cannot be written.
        """
        import numpy as np

        if self._done:
            raise ValueError("TableSink is closed")
        parts = []
        n = None
        for c in cols:
            a = np.asarray(c)
            if a.ndim == 1:
                a = a.reshape(-1, 1)
            elif a.ndim != 2:
                raise ValueError(f"TableSink.write takes 1-D or 2-D arrays, not shape {a.shape}")
            if n is None:
                n = a.shape[0]
            elif a.shape[0] != n:
                raise ValueError(f"arrays with {n} and {a.shape[0]} rows written together")
            parts.append(a)
        ncols = sum(p.shape[1] for p in parts)
        if ncols != len(self.columns):
            raise ValueError(f"{ncols} columns written to a sink of {len(self.columns)} columns")
        if self.fmt == "npy":
            self._write_npy(parts, n or 0)
        else:
            self._guard(lambda: self._write_text_block(parts, n or 0))
        self.rows_written += n or 0

    def _columns_of(self, parts):
        for p in parts:
            for j in range(p.shape[1]):
                yield p[:, j]

    def _write_text_block(self, parts, n: int) -> None:
        self._start()
        if n == 0:
            return
        fmt = self.fmt
        if fmt == "table":
            cells = [c.tolist() for c in self._columns_of(parts)]
            self._rows.extend([list(r) for r in zip(*cells)])
            return
        if fmt in ("csv", "tsv"):
            if all(p.dtype.kind in "iub" for p in parts):  # integer blocks: no str() per cell
                self._fh.write(_int_csv(parts, n, "," if fmt == "csv" else "\t"))
                return
            cells = [_format_column(c) for c in self._columns_of(parts)]
            if all(p.dtype.kind in "iubf" for p in parts):
                # numbers never need quoting: join directly (about 5x faster than csv.writer)
                sep = "," if fmt == "csv" else "\t"
                self._fh.write("\n".join(map(sep.join, zip(*cells))) + "\n")
            else:
                self._csv.writerows(zip(*cells))
            return
        columns = []
        for c in self._columns_of(parts):
            tokens, mapped = _json_column(c)
            self._nonfinite += mapped
            columns.append(tokens)
        template = self._json_template
        lines = [template % row for row in zip(*columns)]
        if fmt == "jsonl":
            self._fh.write("\n".join(lines) + "\n")
        else:
            sep = "\n  " if self.rows_written == 0 else ",\n  "
            self._fh.write(sep + ",\n  ".join(lines))

    def _write_npy(self, parts, n: int) -> None:
        import numpy as np

        for p in parts:
            if p.dtype.kind in "USO":
                raise UsageError(
                    "NPY output holds numbers only, and this output has text columns",
                    hint="write it as csv, tsv or json (-f csv)",
                )
            if p.dtype.kind not in "iubf":
                raise ValueError(f"cannot write {p.dtype} columns to NPY")
        if self._npy_dtype is None:
            all_int = all(p.dtype.kind in "iub" for p in parts)
            self._npy_dtype = np.dtype("<i8") if all_int else np.dtype("<f8")
        elif self._npy_dtype.kind == "i" and any(p.dtype.kind == "f" for p in parts):
            raise ValueError("float columns written after the NPY output was started as int64")
        block = np.empty((n, len(self.columns)), dtype=self._npy_dtype)
        j = 0
        for p in parts:
            block[:, j : j + p.shape[1]] = p
            j += p.shape[1]
        self._guard(self._start_npy)
        target = self._spool if self._spool is not None else self._fh
        self._guard(lambda: target.write(block.tobytes()))

    def _start_npy(self) -> None:
        if self._started:
            return
        self._open()
        self._started = True
        if self._npy_dtype is None:
            import numpy as np

            self._npy_dtype = np.dtype("<f8")
        descr = self._npy_dtype.str
        k = len(self.columns)
        if self.nrows is not None:
            self._fh.write(_npy_header(descr, (self.nrows, k)))
        elif self.output is not None and self._fh.seekable():  # fixed up at close
            # (our temporary file; a FIFO or device given as -o is spooled like stdout)
            placeholder = _npy_header(descr, (_NPY_PLACEHOLDER_ROWS, k))
            self._npy_header_at = self._fh.tell()
            self._npy_header_size = len(placeholder)
            self._fh.write(placeholder)
        else:
            import tempfile

            self._spool = tempfile.TemporaryFile(prefix=TEMP_PREFIX)

    def _finish_npy(self) -> None:
        self._start_npy()
        descr = self._npy_dtype.str
        k = len(self.columns)
        if self.nrows is not None:
            if self.rows_written != self.nrows:
                raise ValueError(
                    f"TableSink was told nrows={self.nrows} "
                    f"but {self.rows_written} rows were written"
                )
        elif self._npy_header_size is not None:
            end = self._fh.tell()
            self._fh.seek(self._npy_header_at)
            self._fh.write(_npy_header(descr, (self.rows_written, k), self._npy_header_size))
            self._fh.seek(end)
        elif self._spool is not None:
            import shutil

            self._fh.write(_npy_header(descr, (self.rows_written, k)))
            self._spool.seek(0)
            shutil.copyfileobj(self._spool, self._fh, 1 << 20)

    def _finish_text(self) -> None:
        self._start()
        if self.fmt == "json":
            self._fh.write("]\n" if self.rows_written == 0 else "\n]\n")
        elif self.fmt == "table":
            from lossctl import render

            if self.output is not None:  # a file: plain text whatever FORCE_COLOR says, no wrapping
                console = render.make_console(
                    file=self._fh, no_color=True, width=100_000, force_terminal=False
                )
            else:
                console = render.make_console(file=self._fh, no_color=self.no_color)
            render.table(
                self.columns,
                self._rows,
                title=self.title,
                precision=self.precision,
                console=console,
                show_header=self.header,
            )

    def close(self) -> None:
        """Finish the output: closing bracket, NPY header, the table; commit a file atomically.

        Raises:
            OutputError: the output cannot be written (a file output is then left untouched).
        """
        if self._done:
            return
        try:
            if self.fmt == "npy":
                self._guard(self._finish_npy)
            else:
                self._guard(self._finish_text)
            if self._atomic is None:
                self._guard(self._fh.flush)
        except BaseException as exc:
            self.abort(exc)
            raise
        self._done = True
        self._release()
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            atomic.__exit__(None, None, None)
        if self.fmt in ("json", "jsonl"):
            _nonfinite_warning(self._nonfinite)

    def abort(self, exc: BaseException | None = None) -> None:
        """Give up: a file output is discarded (the target untouched), nothing more is written.

        Args:
            exc: the exception that caused the abort, if any (handed to :func:`atomic_open`).
        """
        if self._done:
            return
        self._done = True
        self._release()
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            err = exc if exc is not None else RuntimeError("TableSink aborted")
            with contextlib.suppress(BaseException):
                atomic.__exit__(type(err), err, err.__traceback__)

    def _release(self) -> None:
        if self._spool is not None:
            with contextlib.suppress(Exception):
                self._spool.close()
            self._spool = None
        if self._wrapped and self._fh is not None:
            with contextlib.suppress(Exception):
                self._fh.detach()
            self._wrapped = False
