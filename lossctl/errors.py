"""Exception types and exit codes.

Every failure a user can cause is a :class:`LossctlError`. The CLI turns it into one line on
stderr::

    lossctl: error: <what>: <where (file, line/row)>. <the fix>

and exits with the error's ``exit_code``. Library users catch :class:`LossctlError` (or a
subclass) and read ``.message``, ``.source``, ``.location`` and ``.hint`` separately.

This module imports nothing heavy: it is loaded by ``lossctl --help``.
"""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in the README and in ``lossctl --help``."""

    OK = 0
    ERROR = 1  # bad data, unreadable file, shape mismatch: the user's input is at fault
    USAGE = 2  # bad command line: unknown option, option that does not apply, contradictions
    THRESHOLD = 3  # ``compute --fail-above X`` and the loss exceeded X
    INTERRUPTED = 130  # Ctrl-C / SIGINT (128 + 2)


class LossctlError(Exception):
    """A user-facing error: message, where it happened, and how to fix it.

    Args:
        message: what went wrong, in the user's terms ("label 10 is out of range [0, 10)").
        source: the file (or ``<stdin>``) the problem is in, if any.
        location: where in that source ("line 12", "row 11", "column 'p3'").
        hint: the fix, as an imperative sentence ("use --offset 1 for labels 1..10").
    """

    exit_code: int = ExitCode.ERROR

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        location: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.location = location
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        """The one-line text shown after ``lossctl: error: ``."""
        text = self.message
        where = ", ".join(p for p in (self.source, self.location) if p)
        if where:
            text = f"{where}: {text}"
        if self.hint:
            sep = " " if text.endswith((".", "?", "!")) else ". "
            first = self.hint.split()[0] if self.hint.split() else ""
            # "use --offset 1" -> "Use --offset 1", but never "Sparse_categorical_crossentropy"
            word = first.replace("-", "")
            hint = self.hint[0].upper() + self.hint[1:] if word.isalpha() and word.islower() else self.hint
            text = f"{text}{sep}{hint}"
            if not text.endswith((".", "?", "!", ")", "`")):
                text += "."
        return text

    def with_source(self, source: str | None) -> "LossctlError":
        """Fill in the source if the raiser did not know it; returns self for ``raise ... from``."""
        if self.source is None and source is not None:
            self.source = source
            self.args = (self.render(),)
        return self

    def __str__(self) -> str:  # keep str() in step with later with_source() calls
        return self.render()


class InputError(LossctlError):
    """A source cannot be opened or parsed: missing file, bad format, truncated NPY, bad key."""


class DataError(LossctlError):
    """The data was read but its values are invalid: label out of range, NaN, bad probabilities."""


class ShapeError(LossctlError):
    """Arrays do not fit together: row counts, column counts, number of classes, rank."""


class OutputError(LossctlError):
    """An output cannot be written: folder missing, output equals an input, disk full."""


class UsageError(LossctlError):
    """The command line is wrong in a way typer cannot see (option does not apply, etc.)."""

    exit_code = ExitCode.USAGE


class ThresholdExceeded(LossctlError):
    """``--fail-above`` gate: the reduced loss is above the threshold."""

    exit_code = ExitCode.THRESHOLD


# --- Warnings and notes -------------------------------------------------------------------------
# The library never prints. Anything the user should hear about but that is not fatal goes
# through Python's ``warnings`` machinery with one of these categories; the CLI shows them on
# stderr as ``lossctl: warning: ...`` / ``lossctl: note: ...``, silences them with ``--no-warn``
# and turns LossctlWarning into an error (exit 1) with ``--strict``. Library users can filter
# them like any other warning. Emit each condition once, with the count of rows affected.


class LossctlWarning(UserWarning):
    """Suspicious data that still yields a number (rows renormalised, values clipped, ...)."""


class LossctlNote(UserWarning):
    """Information about a decision lossctl took for the user (inferred num_classes, header)."""


def warn(message: str) -> None:
    """Emit a :class:`LossctlWarning` (stacklevel chosen so filters by module work)."""
    import warnings

    warnings.warn(LossctlWarning(message), stacklevel=2)


def note(message: str) -> None:
    """Emit a :class:`LossctlNote`."""
    import warnings

    warnings.warn(LossctlNote(message), stacklevel=2)
