"""Byte-stream plumbing shared by the readers: exact reads that loop over the short reads of
pipes, and a stream that puts back the bytes already read to detect its format."""
from __future__ import annotations

import io
from typing import IO

__all__ = ["Prefixed", "looks_texty", "read_upto", "readinto_exact"]


class Prefixed(io.RawIOBase):
    """A read-only stream: some bytes already read, then the rest of another stream."""

    def __init__(self, prefix: bytes, stream: IO[bytes]) -> None:
        super().__init__()
        self._prefix = memoryview(bytes(prefix))
        self._pos = 0
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        mv = memoryview(b).cast("B")
        if self._pos < len(self._prefix):
            n = min(len(mv), len(self._prefix) - self._pos)
            mv[:n] = self._prefix[self._pos : self._pos + n]
            self._pos += n
            return n
        readinto = getattr(self._stream, "readinto", None)
        if readinto is not None:
            return readinto(mv) or 0
        data = self._stream.read(len(mv))
        mv[: len(data)] = data
        return len(data)


def read_upto(fp: IO[bytes], n: int) -> bytes:
    """Read n bytes, or fewer at end of stream (loops over short reads from pipes)."""
    parts = []
    got = 0
    while got < n:
        data = fp.read(n - got)
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def readinto_exact(fp: IO[bytes], mv: memoryview) -> int:
    """Fill mv from fp; return the number of bytes read (< len(mv) only at end of stream)."""
    mv = mv.cast("B")
    got = 0
    readinto = getattr(fp, "readinto", None)
    while got < len(mv):
        if readinto is not None:
            n = readinto(mv[got:])
        else:
            data = fp.read(len(mv) - got)
            n = len(data)
            mv[got : got + n] = data
        if not n:
            break
        got += n
    return got


def looks_texty(b: bytes) -> bool:
    """True when every byte is printable ASCII, a tab or a line end."""
    return bool(b) and all(32 <= c < 127 or c in (9, 10, 13) for c in b)
