"""One array of an NPZ (``file.npz:key``; a single-array NPZ needs no key), streamed out of its
zip member by the NPY reader: never ``np.load``, never unpickled, memory bounded."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO

import numpy as np

from lossctl.errors import InputError
from lossctl.io.npy import NpySource
from lossctl.io.options import ReadOptions
from lossctl.io.source import Block

__all__ = ["NpzSource"]

_CORRUPT_HINT = "write it again with numpy.savez"


def _zip_errors() -> tuple[type[BaseException], ...]:
    import zipfile
    import zlib

    return (zipfile.BadZipFile, EOFError, zlib.error)


class NpzSource(NpySource):
    """One array of an NPZ, streamed out of the zip member."""

    def __init__(self, name: str, options: ReadOptions, *, path: str | IO[bytes],
                 key: str | None) -> None:
        """``path``: a file name or a seekable file object (a remote file)."""
        import zipfile

        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as e:
            raise InputError("is not a valid NPZ (zip) file", hint="write it with numpy.savez") from e
        except OSError as e:
            raise InputError(f"cannot open: {e.strerror or e}") from e
        try:
            member = _pick_member(zf, name, key)
            self._zf = zf
            try:
                super().__init__(name, options, opener=_member_opener(zf, member), kind="npz",
                                 size=member.file_size)
            except (*_zip_errors(), OSError) as e:
                raise InputError(f"is a corrupt NPZ file ({e})", hint=_CORRUPT_HINT) from e
        except BaseException:
            zf.close()
            raise
        self._cleanup.insert(0, zf.close)

    def _chunks(self, idx: list[int]) -> Iterator[np.ndarray]:
        try:
            yield from super()._chunks(idx)
        except _zip_errors() as e:
            raise InputError(f"is a corrupt NPZ file ({e})", hint=_CORRUPT_HINT) from e

    def read(self, cols: list[int] | None = None) -> Block:
        try:
            return super().read(cols)
        except _zip_errors() as e:
            raise InputError(f"is a corrupt NPZ file ({e})", source=self.name, hint=_CORRUPT_HINT) from e


def _pick_member(zf, name: str, key: str | None):
    """The zip member ``key`` names (``key.npy`` or ``key``), or the only one."""
    members = [m for m in zf.infolist() if not m.is_dir()]
    keys = [m.filename.removesuffix(".npy") for m in members]
    base = name.rsplit(":", 1)[0] if key is not None else name
    if not members:
        raise InputError("holds no arrays", hint="write it with numpy.savez(path, name=array)")
    if key is None:
        if len(members) > 1:
            raise InputError(
                f"holds {len(members)} arrays ({_list(keys)})",
                hint=f"choose one with {base}:KEY, e.g. {base}:{keys[0]}",
            )
        return members[0]
    hits = [m for m, kk in zip(members, keys) if kk == key or m.filename == key]
    if not hits:
        raise InputError(f"has no array '{key}'", hint=f"its arrays are: {_list(keys)} (e.g. {base}:{keys[0]})")
    return hits[0]


def _member_opener(zf, member):
    import zipfile
    import zlib

    def opener() -> IO[bytes]:
        try:
            return zf.open(member)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, EOFError, zlib.error) as e:
            raise InputError(f"cannot read array '{member.filename}': {e}") from e

    return opener


def _list(items: Sequence[str], limit: int = 12) -> str:
    s = ", ".join(items[:limit])
    return s + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")
