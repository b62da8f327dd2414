"""Compressed inputs: gzip, bzip2, xz and zstd, detected by their magic bytes (whatever the file
is called, and on standard input), read as one decompressed stream.

A compressed file is read in one pass, like standard input: the decompressed bytes go to the
reader of the format they hold (text, NPY; NPZ, Parquet and Feather are spooled to a temporary
file, as from a pipe), so ``labels.csv.gz``, ``probs.npy.xz`` and ``zcat x.csv.gz | lossctl
... -`` all work, and memory stays within the budget (the decompressors keep a window, not the
file). gzip, bzip2 and xz use Python's own modules (several concatenated members are read as
one stream, as ``zcat`` does); zstd uses pyarrow's codec. Corrupt or truncated data is an
:class:`~lossctl.errors.InputError` naming the input and the format.
"""
from __future__ import annotations

import io
from typing import IO

from lossctl.errors import InputError

__all__ = ["FORMATS", "Decompressed", "compression_of"]

#: (magic bytes, name): the name is also the command that tests a file (``gzip -t FILE``)
FORMATS = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
           (b"\x28\xb5\x2f\xfd", "zstd"))

#: Suffixes that name a compression, dropped to find the format inside (``.csv.gz`` -> ``.csv``)
SUFFIXES = (".gz", ".gzip", ".bz2", ".xz", ".zst", ".zstd")


def compression_of(head: bytes) -> str | None:
    """The compression whose magic bytes start ``head`` (8 bytes are enough), or None."""
    for magic, name in FORMATS:
        if head.startswith(magic):
            return name
    return None


def inner_name(name: str) -> str:
    """``labels.csv.gz`` -> ``labels.csv`` (the name whose extension says what is inside)."""
    lower = name.lower()
    for suffix in SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


class Decompressed(io.RawIOBase):
    """The decompressed bytes of a compressed stream; errors of the data are InputErrors."""

    def __init__(self, stream: IO[bytes], compression: str, name: str, *,
                 owned: bool = False) -> None:
        super().__init__()
        self.compression, self.name_ = compression, name
        self._stream = stream if owned else None  # closed with this one
        if compression == "gzip":
            import gzip

            self._inner: IO[bytes] = gzip.GzipFile(fileobj=stream, mode="rb")
        elif compression == "bzip2":
            import bz2

            self._inner = bz2.BZ2File(stream, mode="rb")
        elif compression == "xz":
            import lzma

            self._inner = lzma.LZMAFile(stream, mode="rb")
        else:
            import pyarrow as pa

            self._inner = pa.CompressedInputStream(pa.PythonFile(stream, mode="r"), "zstd")

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        try:
            return self._inner.readinto(b) or 0
        except (OSError, EOFError, ValueError) as e:
            raise self._corrupt(e) from e
        except Exception as e:  # zlib.error, lzma.LZMAError, pyarrow.ArrowInvalid
            if type(e).__name__ in ("error", "LZMAError", "ArrowInvalid", "ArrowIOError"):
                raise self._corrupt(e) from e
            raise

    def _corrupt(self, e: BaseException) -> InputError:
        what = str(e).strip() or type(e).__name__
        return InputError(f"the {self.compression} data is corrupt or truncated ({what})",
                          source=self.name_, hint="check the file (for example "
                          f"`{self.compression} -t FILE`), or decompress it and read the copy")

    def close(self) -> None:
        try:
            self._inner.close()
            if self._stream is not None:
                self._stream.close()
        finally:
            super().close()
