"""Where the bytes come from: the source spec, the format, and opening it (:func:`open_source`).

Sources
    A path; ``-`` for standard input (a binary stream, injectable for tests); ``path.npz:key`` for
    one array of an NPZ (a single-array NPZ needs no key). A path that exists is always taken as a
    path, even when it contains ``:``; ``base:key`` is only split when ``base`` ends in ``.npz``.
    A named pipe (``<(...)`` process substitution, ``/dev/fd/N``) is read in one pass, like
    standard input. A URL (``s3://bucket/y.csv``, ``memory://...``) is read through fsspec
    (:mod:`lossctl.io.remote`); a glob or a directory is shards (:mod:`lossctl.io.shards`).

Formats
    The format comes from the extension (``.csv .tsv .txt .tab .dat .text`` text, ``.npy``,
    ``.npz``, ``.parquet .pq .parq``, ``.feather .arrow .ipc .arrows``), otherwise from the magic
    bytes (NPY ``\\x93NUMPY``, NPZ/zip ``PK``, Parquet ``PAR1``, Arrow ``ARROW1``, Feather v1
    ``FEA1``, an Arrow IPC stream ``\\xff\\xff\\xff\\xff``), and anything else is text. Standard
    input and pipes are detected the same way; Parquet, Arrow and NPZ need random access, so they
    are spooled to a temporary file that :meth:`Source.close` removes.

Every file this package opens by path is opened here (tests replace this module's ``open`` to
simulate unreadable files).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from lossctl.errors import InputError, LossctlError
from lossctl.io.compressed import Decompressed, compression_of, inner_name
from lossctl.io.options import ReadOptions
from lossctl.io.streams import Prefixed, read_upto

if TYPE_CHECKING:
    import numpy as np

    from lossctl.io.source import Source

__all__ = ["open_source", "read_array"]

TEXT_EXT = {".csv", ".tsv", ".txt", ".tab", ".dat", ".text"}
KIND_BY_EXT = {
    ".npy": "npy",
    ".npz": "npz",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".parq": "parquet",
    ".feather": "feather",
    ".arrow": "feather",
    ".ipc": "feather",
    ".arrows": "feather",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
#: (magic bytes, kind, what it is, the extension to give it)
MAGIC = (
    (b"\x93NUMPY", "npy", "an NPY file", ".npy"),
    (b"PK\x03\x04", "npz", "an NPZ (zip) file", ".npz"),
    (b"PK\x05\x06", "npz", "an NPZ (zip) file", ".npz"),
    (b"PAR1", "parquet", "a Parquet file", ".parquet"),
    (b"ARROW1", "feather", "an Arrow/Feather file", ".feather"),
    (b"FEA1", "feather", "a Feather v1 file", ".feather"),
    (b"\xff\xff\xff\xff", "feather", "an Arrow IPC stream", ".arrow"),
)
_SPOOL_SUFFIX = {"npz": ".npz", "parquet": ".parquet", "feather": ".arrow", "jsonl": ".jsonl"}


# === public API ===================================================================================


def open_source(spec: str, options: ReadOptions = ReadOptions(), *, stdin: IO[bytes] | None = None) -> Source:
    """Open an array source without reading its data.

    Args:
        spec: a path, ``-`` for standard input, or ``path.npz:key``.
        options: header/delimiter/block size/text engine sizes.
        stdin: the binary stream read for ``-`` (default ``sys.stdin.buffer``).

    Returns:
        A :class:`~lossctl.io.source.Source` (a context manager: close it to release files,
        temporary files and reader threads).

    Raises:
        InputError: the file is missing, unreadable, or not in a format it claims or looks like.
        ShapeError: a 0-D NPY/NPZ array, or an N-D one with a dimension of size 0.
    """
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if not isinstance(spec, str) or spec == "":
        raise InputError("empty input path", hint="give a file name or - for standard input")
    if spec == "-":
        return _open_stdin(options, stdin)
    from lossctl.io.remote import is_remote

    if is_remote(spec):  # s3://, memory://, ...: through fsspec (imported only then)
        from lossctl.io.remote import open_remote

        return open_remote(spec, options)
    if is_pipe(spec):  # a FIFO or /dev/fd/N from `<(...)`: one pass, sniffed like stdin
        return _open_stream(spec, file_opener(spec, spec)(), options, owned=True)
    from lossctl.io.shards import is_glob, open_shards, shard_paths

    if is_glob(spec) or os.path.isdir(spec):  # shards: one source of their rows in order
        return open_shards(spec, shard_paths(spec), options,
                           root=spec if os.path.isdir(spec) else None)
    path, key = split_spec(spec)
    kind = kind_of_path(path, spec)
    if kind == "compressed":
        return _open_compressed(spec, path, options)
    if key is not None and kind != "npz":
        raise InputError(f"'{path}' is not an NPZ file, so ':{key}' cannot pick an array", source=spec)
    try:
        return _open_path(spec, path, key, kind, options)
    except LossctlError as e:
        raise e.with_source(spec)


def read_array(
    spec: str, options: ReadOptions = ReadOptions(), cols: str | None = None, *, stdin: IO[bytes] | None = None
) -> tuple[np.ndarray, Source]:
    """Read a whole source (optionally a column SPEC of it) into one array.

    Returns:
        ``(data, source)``: data is ``(n, k)``, or ``(n, *source.dims)`` from an N-D source
        (dtype as in :class:`~lossctl.io.source.Block`);
        the source is closed but still answers ``name``, ``columns`` and ``location(row)``.
    """
    src = open_source(spec, options, stdin=stdin)
    try:
        block = src.read(src.select(cols))
    finally:
        src.close()
    return block.data, src


# === spec and format ================================================================================


def ext(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def split_spec(spec: str) -> tuple[str, str | None]:
    """``path`` or ``path.npz:key`` -> (path, key). An existing path is never split."""
    if os.path.exists(spec):
        return spec, None
    # the key is everything after the first ".npz:" whose left part is a file: keys may hold
    # ":" and "/" (np.savez(path, **{"run:1/probs": a}) stores the member "run:1/probs.npy")
    lower = spec.lower()
    at = lower.find(".npz:")
    while at >= 0:
        base = spec[: at + 4]
        if os.path.isfile(base):
            return base, (spec[at + 5:] or None)
        at = lower.find(".npz:", at + 1)
    base, sep, key = spec.rpartition(":")
    if sep and base.lower().endswith(".npz") and "/" not in key and os.sep not in key:
        return base, (key or None)  # (the NPZ itself is missing: reported as such)
    return spec, None


def kind_of_path(path: str, spec: str) -> str:
    """The format of a file: by extension, else by magic bytes, else text."""
    if not os.path.exists(path):
        raise InputError("no such file", source=spec, hint="check the path (use - for standard input)")
    if os.path.isdir(path):
        raise InputError("is a directory, not a file", source=spec, hint="give a file inside it")
    head = read_head(path, 8, spec)
    if compression_of(head) is not None:
        return "compressed"  # whatever the name says: the magic bytes decide
    e = ext(path)
    if e in KIND_BY_EXT:
        return KIND_BY_EXT[e]
    if e in TEXT_EXT:
        return "text"  # the text sniffer reports binary content with a hint about its magic
    return kind_of_head(head)


def kind_of_head(head: bytes) -> str:
    for magic, kind, _, _ in MAGIC:
        if head.startswith(magic):
            return kind
    if head.lstrip()[:1] == b"{":
        return "jsonl"  # a JSON object on the first line: JSON lines (no CSV starts so)
    return "text"


def magic_hint(head: bytes) -> str | None:
    """A hint naming the format some leading bytes belong to (a binary file read as another)."""
    for magic, _, what, e in MAGIC:
        if head.startswith(magic):
            return f"it looks like {what}: give it the {e} extension"
    return None


# === opening files ====================================================================================


def _open_error(e: OSError, spec: str) -> InputError:
    if isinstance(e, FileNotFoundError):
        return InputError("no such file", source=spec)
    if isinstance(e, PermissionError):
        return InputError("permission denied", source=spec, hint="check the file's read permission")
    return InputError(f"cannot open: {e.strerror or e}", source=spec)


def read_head(path: str, n: int, spec: str | None = None) -> bytes:
    """The first n bytes of a file (fewer if it is shorter)."""
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as e:
        raise _open_error(e, spec or path) from e


def file_opener(path: str, spec: str) -> Callable[[], IO[bytes]]:
    """A function that opens ``path`` for reading (each pass over a file opens it again)."""

    def opener() -> IO[bytes]:
        try:
            return open(path, "rb")
        except OSError as e:
            raise _open_error(e, spec) from e

    return opener


def is_pipe(path: str) -> bool:
    import stat

    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _open_path(spec: str, path: str, key: str | None, kind: str, options: ReadOptions) -> Source:
    if kind == "npy":
        from lossctl.io.npy import NpySource

        return NpySource(spec, options, opener=file_opener(path, spec), path=path)
    if kind == "npz":
        from lossctl.io.npz import NpzSource

        return NpzSource(spec, options, path=path, key=key)
    if kind == "jsonl":
        from lossctl.io.jsonl import JsonlSource

        return JsonlSource(spec, options, path=path)
    if kind in ("parquet", "feather"):
        from lossctl.io.arrow import FeatherSource, ParquetSource

        return (ParquetSource if kind == "parquet" else FeatherSource)(spec, options, path=path)
    from lossctl.io.text import TextSource

    return TextSource(spec, options, opener=file_opener(path, spec), ext=ext(path))


# === standard input and pipes ===========================================================================


def _open_stdin(options: ReadOptions, stdin: IO[bytes] | None) -> Source:
    name = "<stdin>"
    stream = stdin
    if stream is None:
        if sys.stdin is None:
            raise InputError("standard input is closed", source=name, hint="pipe data in or give a file name")
        stream = getattr(sys.stdin, "buffer", sys.stdin)
    try:
        if stream.isatty():
            raise InputError(
                "standard input is a terminal", source=name,
                hint="pipe data in (e.g. `cat labels.csv | lossctl ...`) or give a file name",
            )
    except (AttributeError, ValueError):
        pass
    return _open_stream(name, stream, options)


def _open_compressed(spec: str, path: str, options: ReadOptions) -> Source:
    """A compressed file: read once, decompressed, as a stream (:mod:`lossctl.io.compressed`);
    the name without its ``.gz`` says the format inside when the bytes do not."""
    what = compression_of(read_head(path, 8, spec))
    stream = Decompressed(file_opener(path, spec)(), what, spec, owned=True)
    return _open_stream(spec, stream, options, owned=True, inner=inner_name(path))


def _open_stream(name: str, stream: IO[bytes], options: ReadOptions, owned: bool = False,
                 inner: str | None = None) -> Source:
    """A source on a non-seekable stream (stdin, a FIFO, a decompressed file): format from the
    magic bytes (``inner``: the file name whose extension tells text formats apart)."""
    try:
        src = _open_stream_inner(name, stream, options, inner)
    except BaseException:
        if owned:
            stream.close()
        raise
    if owned:
        src._cleanup.insert(0, stream.close)
    return src


def _open_stream_inner(name: str, stream: IO[bytes], options: ReadOptions,
                       inner: str | None = None) -> Source:
    try:
        head = read_upto(stream, 8)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read: {e}", source=name) from e
    what = compression_of(head)
    if what is not None and not isinstance(stream, Decompressed):  # compressed on a pipe
        return _open_stream_inner(name, Decompressed(Prefixed(head, stream), what, name),
                                  options, inner)
    kind = kind_of_head(head)
    try:
        if kind == "npy":
            from lossctl.io.npy import NpySource

            return NpySource(name, options, opener=None, stream=Prefixed(head, stream))
        if kind == "text":
            from lossctl.io.text import TextSource

            return TextSource(name, options, stream=Prefixed(head, stream),
                              ext=ext(inner) if inner else "" if name == "<stdin>" else ext(name))
        return _open_spooled(name, head, stream, kind, options)
    except LossctlError as e:
        raise e.with_source(name)


def _open_spooled(name: str, head: bytes, stream: IO[bytes], kind: str, options: ReadOptions) -> Source:
    """zip, Parquet and Arrow files need random access: spool to a temporary file."""
    import weakref

    path = _spool(head, stream, _SPOOL_SUFFIX[kind])
    try:
        src = _open_path(name, path, None, kind, options)
    except BaseException:
        _unlink(path)
        raise
    src._cleanup.insert(0, lambda: _unlink(path))
    weakref.finalize(src, _unlink, path)
    return src


def _spool(head: bytes, stream: IO[bytes], suffix: str) -> str:
    import tempfile  # (lazy: it pulls in shutil and random)

    fd, path = tempfile.mkstemp(prefix="lossctl-stdin-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(head)
            while True:
                data = stream.read(1 << 20)
                if not data:
                    break
                out.write(data)
    except BaseException:
        _unlink(path)
        raise
    return path


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
