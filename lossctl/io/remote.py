"""Remote inputs: a path with a protocol (``s3://``, ``gs://``, ``az://``, ``hf://``,
``http(s)://``, ``memory://``, ``file://``) is opened through fsspec.

fsspec (and the protocol's own package, e.g. s3fs) is imported only when such a path is given:
the help screens and local computations never load it. A missing package is one
:class:`~lossctl.errors.InputError` naming the extra to install (``pip install 'lossctl[s3]'``).
Credentials come from the usual environment of each file system (fsspec and s3fs defaults:
``AWS_ACCESS_KEY_ID``, ``AWS_PROFILE``, ...); ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``)
points ``s3://`` at an S3-compatible server.

Every format is read as from a local file, streamed:

- text, NPY and compressed files through a file object of the file system (fsspec reads it in
  blocks: NPY rows come with ``readinto``, never a whole download);
- NPZ through :mod:`zipfile` on that (seekable) file object;
- Parquet, Feather and JSON lines through pyarrow with the fsspec file system
  (``pyarrow.fs.FSSpecHandler``), so Parquet row groups are fetched one batch at a time;
- a glob (``s3://bucket/preds/*.parquet``) or a directory (a prefix) is shards
  (:mod:`~lossctl.io.shards`): ``fs.glob`` / ``fs.find``, natural order, hidden names skipped;
  a directory of hive-partitioned Parquet is a dataset (:mod:`~lossctl.io.hive`).

Errors name the path as given (a row error: ``s3://bucket/y.csv, line 12: ...``); a missing
object or bucket and denied access are InputErrors with the fix, never a traceback.
"""
from __future__ import annotations

import io
import os
import re
from typing import IO, Any

from lossctl.errors import InputError, LossctlError

__all__ = ["EXTRAS", "RemoteFile", "filesystem", "is_remote", "open_remote", "protocol_of"]

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")

#: protocol -> the lossctl extra that installs its file system (None: fsspec alone)
EXTRAS = {
    "s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure",
    "abfss": "azure", "adl": "azure", "hf": "hf", "http": "http", "https": "http",
    "memory": None, "file": None,
}


def protocol_of(spec: str) -> str | None:
    """``s3://b/k`` -> ``"s3"``; a plain path (or ``C:\\x``) -> None."""
    m = _URL.match(spec)
    return m.group(1).lower() if m else None


def is_remote(spec: str) -> bool:
    """A spec with a protocol that is not an existing local path."""
    return protocol_of(spec) is not None and not os.path.exists(spec)


def _missing_extra(protocol: str, spec: str, e: BaseException) -> InputError:
    extra = EXTRAS.get(protocol, "")
    what = f"the {extra} extra" if extra else "fsspec and the package of this file system"
    fix = f"pip install 'lossctl[{extra}]'" if extra else f"pip install fsspec (and the {protocol} file system)"
    return InputError(f"reading {protocol}:// paths needs {what} ({e})", source=spec,
                      hint=f"install it: {fix}")


def _storage_options(protocol: str) -> dict[str, Any]:
    """Options fsspec does not take from the environment itself."""
    if protocol in ("s3", "s3a"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            return {"endpoint_url": endpoint}
    return {}


def filesystem(spec: str) -> tuple[Any, str]:
    """``(fsspec file system, path in it)`` for a URL; a missing package names the extra."""
    protocol = protocol_of(spec) or "file"
    try:
        import fsspec
        from fsspec.core import url_to_fs
    except ImportError as e:
        raise _missing_extra(protocol, spec, e) from e
    try:
        fsspec.get_filesystem_class(protocol)
        return url_to_fs(spec, **_storage_options(protocol))
    except ImportError as e:
        raise _missing_extra(protocol, spec, e) from e
    except ValueError as e:  # "Protocol not known"
        raise InputError(f"unknown protocol {protocol}:// ({e})", source=spec,
                         hint="use s3://, gs://, az://, hf://, http(s)://, memory:// or file://, "
                         "or give a local path") from e


def access_error(e: BaseException, spec: str) -> InputError:
    """A file system's exception as an InputError naming the path and the fix."""
    if isinstance(e, LossctlError):
        return e  # type: ignore[return-value]
    if isinstance(e, FileNotFoundError):
        s3 = protocol_of(spec) in ("s3", "s3a")
        return InputError("no such file (or bucket)", source=spec,
                          hint="check the path and that the bucket or container exists" + (
                              ", and the endpoint (AWS_ENDPOINT_URL for an S3-compatible "
                              "server)" if s3 else ""))
    if isinstance(e, PermissionError):
        return InputError("access denied", source=spec,
                          hint="check the credentials in the environment (for S3: "
                          "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and that "
                          "they may read this path")
    what = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
    return InputError(f"cannot read: {type(e).__name__}: {what}", source=spec,
                      hint="check the path, the network and the credentials in the environment")


class RemoteFile(io.RawIOBase):
    """A file object of a file system whose failures are InputErrors naming the path."""

    def __init__(self, fp: IO[bytes], spec: str) -> None:
        super().__init__()
        self._fp, self._spec = fp, spec

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except (LossctlError, ValueError):
            raise
        except Exception as e:
            raise access_error(e, self._spec) from e

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        return self._call(self._fp.readinto, b) or 0

    def read(self, n: int = -1) -> bytes:
        return self._call(self._fp.read, n)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._call(self._fp.seek, offset, whence)

    def tell(self) -> int:
        return self._fp.tell()

    def close(self) -> None:
        try:
            self._fp.close()
        except Exception:
            pass
        super().close()


def opener(fs, path: str, spec: str):
    """A function that opens ``path`` of ``fs`` for reading (each pass opens it again)."""

    def open_() -> IO[bytes]:
        try:
            return RemoteFile(fs.open(path, "rb"), spec)
        except Exception as e:
            raise access_error(e, spec) from e

    return open_


def arrow_filesystem(fs):
    """The fsspec file system as a pyarrow one (Parquet, Feather and JSON lines read through it)."""
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    return PyFileSystem(FSSpecHandler(fs))


# === opening ======================================================================================


def open_remote(spec: str, options):
    """A source on a URL (see the module docstring): shards, or one file by its format."""
    fs, path = filesystem(spec)
    try:
        return _open(spec, fs, path, options)
    except LossctlError as e:
        raise e.with_source(spec)


def _open(spec: str, fs, path: str, options):
    from lossctl.io import spec as sp
    from lossctl.io.compressed import Decompressed, compression_of, inner_name
    from lossctl.io.shards import is_glob, open_shards

    if is_glob(path) and not _exists(fs, path):
        return open_shards(spec, remote_shards(fs, path, spec), options,
                           filesystem=fs, root=_glob_root(path))
    path, key = _split_npz(fs, path)
    info = _info(fs, path, spec)
    if info.get("type") == "directory":
        return open_shards(spec, remote_shards(fs, path, spec), options,
                           filesystem=fs, root=path)
    open_ = opener(fs, path, spec)
    with open_() as f:
        head = sp.read_upto(f, 8)
    what = compression_of(head)
    if what is not None:
        stream = Decompressed(open_(), what, spec, owned=True)
        return sp._open_stream(spec, stream, options, owned=True, inner=inner_name(path))
    e = sp.ext(path)
    kind = sp.KIND_BY_EXT.get(e) or ("text" if e in sp.TEXT_EXT else sp.kind_of_head(head))
    if key is not None and kind != "npz":
        raise InputError(f"'{path}' is not an NPZ file, so ':{key}' cannot pick an array",
                         source=spec)
    if kind == "npy":
        from lossctl.io.npy import NpySource

        return NpySource(spec, options, opener=open_, size=info.get("size"))
    if kind == "npz":
        return _open_npz(spec, open_, key, options)
    if kind in ("parquet", "feather", "jsonl"):
        return _open_arrow(spec, fs, path, kind, options)
    from lossctl.io.text import TextSource

    return TextSource(spec, options, opener=open_, ext=e)


def _open_npz(spec: str, open_, key: str | None, options):
    from lossctl.io.npz import NpzSource

    f = open_()
    try:
        src = NpzSource(spec, options, path=f, key=key)
    except BaseException:
        f.close()
        raise
    src._cleanup.insert(0, f.close)
    return src


def _open_arrow(spec: str, fs, path: str, kind: str, options):
    pafs = arrow_filesystem(fs)
    if kind == "jsonl":
        from lossctl.io.jsonl import JsonlSource

        return JsonlSource(spec, options, path=path, filesystem=pafs)
    from lossctl.io.arrow import FeatherSource, ParquetSource

    cls = ParquetSource if kind == "parquet" else FeatherSource
    return cls(spec, options, path=path, filesystem=pafs)


def _exists(fs, path: str) -> bool:
    try:
        return bool(fs.exists(path))
    except Exception:
        return False


def _info(fs, path: str, spec: str) -> dict:
    try:
        return fs.info(path)
    except Exception as e:
        raise access_error(e, spec) from e


def _split_npz(fs, path: str) -> tuple[str, str | None]:
    """``x.npz:key`` -> (``x.npz``, key) when ``x.npz`` exists and the whole does not."""
    at = path.lower().rfind(".npz:")
    if at < 0 or _exists(fs, path):
        return path, None
    return path[: at + 4], (path[at + 5:] or None)


# === shards ======================================================================================


def _glob_root(path: str) -> str:
    """The folder before the first glob character: ``b/p/*/x.csv`` -> ``b/p``."""
    at = min((path.find(c) for c in "*?[" if c in path), default=len(path))
    return path[:at].rpartition("/")[0]


def remote_shards(fs, path: str, spec: str) -> list[str]:
    """The URLs of the files of a glob or a directory, in natural order, hidden names
    (``.x``, ``_SUCCESS``) skipped below the directory as :func:`~lossctl.io.shards.shard_paths`
    does; each named with the spec's own spelling of its folder."""
    from lossctl.io.shards import natural

    pattern = any(c in path for c in "*?[")
    try:
        if pattern:  # (like glob.glob, names starting with "." are not matched)
            root = _glob_root(path)
            found = [p for p, info in fs.glob(path, detail=True).items()
                     if info.get("type") != "directory"
                     and not p.rpartition("/")[2].startswith(".")]
        else:
            root = path.rstrip("/")
            found = [p for p in fs.find(root) if not _hidden(p[len(root):])]
    except Exception as e:
        raise access_error(e, spec) from e
    if not found:
        raise InputError("no file matches this pattern" if pattern else
                         "is a directory, and it holds no file to read", source=spec,
                         hint="check the pattern, the bucket and the prefix" if pattern else
                         "give a file inside it, or a directory that holds the shards")
    return [_url(spec, root, p) for p in sorted(found, key=natural)]


def _hidden(rel: str) -> bool:
    parts = [p for p in rel.split("/") if p]
    return any(p.startswith((".", "_")) and "=" not in p for p in parts[:-1]) or (
        bool(parts) and parts[-1].startswith((".", "_")))


def _url(spec: str, root: str, found: str) -> str:
    """The URL of a file found under ``root``, spelt as the spec spells that folder."""
    root = root.rstrip("/")
    at = spec.find(root.lstrip("/")) if root.lstrip("/") else -1
    if at >= 0 and found.startswith(root):
        return spec[: at + len(root.lstrip("/"))] + found[len(root):]
    return spec.split("://", 1)[0] + "://" + found.lstrip("/")


def shard_urls(spec: str) -> list[str] | None:
    """The URLs of a remote glob or directory, for shards run on other processes; None for one
    file, a hive-partitioned dataset (read whole, its keys are columns) or fsspec's memory file
    system (it lives in this process only)."""
    from lossctl.io.hive import hive_files
    from lossctl.io.shards import is_glob

    fs, path = filesystem(spec)
    if protocol_of(spec) == "memory":
        return None
    try:
        if is_glob(path) and not _exists(fs, path):
            root = _glob_root(path)
        elif _info(fs, path, spec).get("type") == "directory":
            root = path
        else:
            return None
        urls = remote_shards(fs, path, spec)
    except LossctlError as e:
        raise e.with_source(spec)
    return None if hive_files(urls, root, fs) is not None else urls
