"""Standard output, text or binary, and the :class:`Destination` every writer writes to.

Standard output is written as the data comes. A :class:`BrokenPipeError` there is left to
propagate (the CLI ends quietly on it); any other :class:`OSError` (a full ``/dev/full``) becomes
an :class:`~lossctl.errors.OutputError` naming ``<stdout>``. A text format given a binary stream
(``sys.stdout.buffer``, ``io.BytesIO``) writes UTF-8 through a wrapper that is detached at the
end, so the caller's stream stays open; a binary format given a text stream writes to its
``.buffer`` after flushing the text already written.

A file output goes through :func:`~lossctl.out.files.atomic_open`. No numpy here.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from lossctl.out.files import atomic_open, write_error
from lossctl.out.formats import is_stdout

__all__ = ["STDOUT_NAME", "Destination", "binary_stdout", "isatty", "text_stdout", "write_text"]

#: How standard output is named in messages.
STDOUT_NAME = "<stdout>"

T = TypeVar("T")


def isatty(stream: Any) -> bool:
    """``stream.isatty()``, False for a stream without one or a closed one."""
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


def binary_stdout(stdout: Any) -> Any:
    """A binary stream for ``stdout`` (default ``sys.stdout``): itself, or its ``.buffer``."""
    stream = stdout if stdout is not None else sys.stdout
    if _is_binary(stream):
        return stream
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        raise TypeError("NPY output needs a binary stream; this stdout has no .buffer")
    stream.flush()  # text already written must come before the bytes
    return buffer


def text_stdout(stdout: Any) -> tuple[Any, bool]:
    """A text stream for ``stdout`` (default ``sys.stdout``), and whether it is a wrapper of ours
    to detach when done."""
    stream = stdout if stdout is not None else sys.stdout
    if _is_binary(stream):
        return io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True), True
    return stream, False


class Destination:
    """Where one output goes: a file written atomically, or standard output.

    :meth:`open` starts it (for a file: creates the temporary file), :meth:`guard` runs a write
    and maps its OSError, :meth:`commit` finishes it (renames the file into place, or flushes
    standard output), :meth:`abort` discards a file (the target untouched).

    Args:
        output: a file path; ``None`` or ``"-"`` for standard output.
        stdout: the stream for standard output (default ``sys.stdout``, or ``sys.stdout.buffer``
            when ``binary``); tests inject ``io.StringIO``/``io.BytesIO``.
        binary: bytes are written (NPY) rather than text.
    """

    def __init__(self, output: str | os.PathLike | None, stdout: Any, *, binary: bool) -> None:
        self.output: str | None = None if is_stdout(output) else os.fspath(output)  # type: ignore
        self.name = self.output if self.output is not None else STDOUT_NAME
        self.binary = binary
        self.stdout = stdout
        self.fh: Any = None  # the stream written to
        self._atomic: Any = None  # the atomic_open context manager, for file outputs
        self._wrapped = False  # fh is a TextIOWrapper of ours around a binary stdout

    @property
    def is_file(self) -> bool:
        return self.output is not None

    def stdout_is_terminal(self) -> bool:
        """Whether this is standard output and that is a terminal."""
        stream = self.stdout if self.stdout is not None else sys.stdout
        return self.output is None and isatty(stream)

    def open(self) -> Any:
        """Open the destination (once) and return the stream to write to."""
        if self.fh is not None:
            return self.fh
        if self.output is not None:
            atomic = atomic_open(self.output, "wb" if self.binary else "w")
            self.fh = atomic.__enter__()
            self._atomic = atomic
        elif self.binary:
            self.fh = binary_stdout(self.stdout)
        else:
            self.fh, self._wrapped = text_stdout(self.stdout)
        return self.fh

    def guard(self, action: Callable[[], T]) -> T:
        """Run ``action``; OSErrors of our own writes become OutputError (BrokenPipe stays)."""
        try:
            return action()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise write_error(self.name, exc) from exc

    def flush(self) -> None:
        """Flush standard output (a file is flushed by :meth:`commit`)."""
        if self._atomic is None and self.fh is not None:
            self.guard(self.fh.flush)

    def commit(self) -> None:
        """Finish: a file is renamed over its target, our stdout wrapper detached.

        Raises:
            OutputError: the file cannot be flushed, synced or renamed (the target is untouched).
        """
        self._detach()
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            atomic.__exit__(None, None, None)

    def abort(self, exc: BaseException | None = None) -> None:
        """Give up: a file output is discarded (its target untouched).

        Args:
            exc: the exception that caused the abort, if any (handed to :func:`atomic_open`).
        """
        self._detach()
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            err = exc if exc is not None else RuntimeError("output aborted")
            with contextlib.suppress(BaseException):
                atomic.__exit__(type(err), err, err.__traceback__)

    def _detach(self) -> None:
        if self._wrapped and self.fh is not None:
            with contextlib.suppress(Exception):
                self.fh.detach()
            self._wrapped = False


def write_text(text: str, output: str | os.PathLike | None, stdout: Any) -> None:
    """Write ``text`` whole to ``output`` (atomically) or to standard output, then flush.

    Raises:
        OutputError: it cannot be written.
    """
    dest = Destination(output, stdout, binary=False)
    try:
        fh = dest.guard(dest.open)
        dest.guard(lambda: fh.write(text))
        dest.flush()
    except BaseException as exc:
        dest.abort(exc)
        raise
    dest.commit()
