"""The command line's environment: standard streams and what they are connected to.

In the style of httpie's ``Environment``: :func:`lossctl.cli.root.main` builds one from the real
process (:meth:`Environment.from_system`) and hands it to every command through the click
context (``ctx.obj``); tests build their own (``Environment(stdout_isatty=True)`` to see what a
terminal gets) instead of patching functions. Whether output is a table or plain data is decided
here, from ``isatty()``, never from rich's terminal detection (``FORCE_COLOR`` makes rich call a
pipe a terminal).
"""
from __future__ import annotations

import os
import sys
from lossctl.record import field, record
from typing import IO, Any

from lossctl.out.streams import isatty

__all__ = ["Environment", "isatty"]


def _binary(stream: Any) -> Any:
    return getattr(stream, "buffer", stream) if stream is not None else None


@record
class Environment:
    """Streams and terminal facts of one run.

    Attributes:
        stdin: the binary stream read for ``-`` (None when standard input is closed).
        stdout, stderr: text streams for data and for messages.
        stdin_isatty, stdout_isatty, stderr_isatty: what each is connected to; None means
            "ask the stream" (resolved in ``__post_init__``).
        no_color: colour off by the environment (``NO_COLOR``); ``--no-color`` adds to it.
        debug: ``LOSSCTL_DEBUG`` is set: show tracebacks.
    """

    stdin: IO[bytes] | None = None
    stdout: Any = None
    stderr: Any = None
    stdin_isatty: bool | None = None
    stdout_isatty: bool | None = None
    stderr_isatty: bool | None = None
    debug: bool | None = None
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def __post_init__(self) -> None:
        if self.stdout is None:
            self.stdout = sys.stdout
        if self.stderr is None:
            self.stderr = sys.stderr
        if self.stdin is None:
            self.stdin = _binary(sys.stdin)
        if self.stdin_isatty is None:
            self.stdin_isatty = isatty(self.stdin)
        if self.stdout_isatty is None:
            self.stdout_isatty = isatty(self.stdout)
        if self.stderr_isatty is None:
            self.stderr_isatty = isatty(self.stderr)
        if self.debug is None:
            value = self.environ.get("LOSSCTL_DEBUG", "").strip().lower()
            self.debug = value not in ("", "0", "false", "no")

    @classmethod
    def from_system(cls, **overrides: Any) -> Environment:
        """The process's own streams (``sys.stdin``/``stdout``/``stderr`` as they are now)."""
        return cls(**overrides)

    def stdin_tty_error(self, command: str) -> Any:
        """The error for a command that would wait for rows typed on a terminal."""
        from lossctl.errors import UsageError

        return UsageError(
            f"no input: {command} reads standard input, which is a terminal",
            hint=f"give a file (lossctl {command} labels.csv) or pipe data in "
            f"(cat labels.csv | lossctl {command}); use - to type rows by hand",
        )

    def say(self, kind: str, text: str) -> None:
        """One ``lossctl: <kind>: text`` line on stderr (plain text: no markup)."""
        stream = self.stderr
        if stream is None:
            return
        line = f"lossctl: {kind}: {text}\n"
        try:
            stream.write(line)
        except UnicodeEncodeError:  # PYTHONIOENCODING=ascii and a non-ASCII class name
            encoding = getattr(stream, "encoding", None) or "ascii"
            stream.write(line.encode(encoding, "backslashreplace").decode(encoding))
        stream.flush()
