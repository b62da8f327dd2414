"""Exception and warning types, exit codes, and references to options inside messages.

Every failure a user can cause is a :class:`LossctlError` with structured fields:

- ``message``: what went wrong ("label 10 is out of range [0, 10)");
- ``source``: the file (or ``<stdin>``) it is in; ``row``: the 0-based data row, and
  ``location``: how a person finds it ("line 12" in a text file, "row 11" in an array);
- ``option``: the library option the error is about, if any;
- ``hint``: the fix.

Messages and hints name options through :func:`opt`, never through a command-line flag: a Python
user reads ``offset=1`` and the CLI, which alone knows the flags, renders the same reference as
``--offset 1``::

    raise DataError("label 10 is out of range [0, 10)", source="y.csv", row=0,
                    location="line 2", hint=f"labels look like 1..10: use {opt('offset', 1)}")
    str(err)                        # "y.csv, line 2: ... Labels look like 1..10: use offset=1."
    err.render(flag=cli_flag)       # "y.csv, line 2: ... Labels look like 1..10: use --offset 1."

Warnings (:class:`LossctlWarning`) and notes (:class:`LossctlNote`) go through Python's
``warnings`` with the same option references; the CLI shows them on stderr.

This module imports nothing heavy: it is loaded by ``lossctl --help``.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from enum import IntEnum
from typing import Any

__all__ = [
    "DataError",
    "ExitCode",
    "InputError",
    "LossctlError",
    "LossctlNote",
    "LossctlWarning",
    "OutputError",
    "ShapeError",
    "ThresholdExceeded",
    "UsageError",
    "note",
    "opt",
    "python_flag",
    "render_options",
    "warn",
]


class ExitCode(IntEnum):
    """Process exit codes, documented in the README and in ``lossctl --help``."""

    OK = 0
    ERROR = 1  # bad data, unreadable file, shape mismatch: the user's input is at fault
    USAGE = 2  # bad command line: unknown option, option that does not apply, contradictions
    THRESHOLD = 3  # ``compute --fail-above X`` and the loss exceeded X
    INTERRUPTED = 130  # Ctrl-C / SIGINT (128 + 2)


# --- option references -------------------------------------------------------------------------
# A reference is "\ue000NAME\ue001" or "\ue000NAME\ue002REPR\ue001" (the value as a Python
# literal): characters of Unicode's private use area, which no message text or user data is
# expected to hold.
_OPEN, _VALUE, _CLOSE = "\ue000", "\ue002", "\ue001"
_REF = re.compile("\ue000([a-z_][a-z0-9_]*)(?:\ue002(.*?))?\ue001", re.DOTALL)
_NO_VALUE = object()

#: ``flag(name, value)`` renders one option reference; ``value`` is :data:`NO_VALUE` for a bare
#: reference to the option itself ("{delta} does not apply to ...").
FlagRenderer = Callable[[str, Any], str]
NO_VALUE = _NO_VALUE


def opt(name: str, value: Any = _NO_VALUE) -> str:
    """A reference to the library option ``name`` (with ``value``, a setting of it) in a message.

    ``opt("delta")`` reads ``delta`` in Python and ``--delta`` on the command line;
    ``opt("offset", 1)`` reads ``offset=1`` / ``--offset 1``; ``opt("from_logits", True)`` reads
    ``from_logits=True`` / ``--from-logits``; ``opt("header", False)`` ``header=False`` /
    ``--no-header``. ``value`` is a Python literal: a number, string, bool, None or a list.
    """
    if value is _NO_VALUE:
        return f"{_OPEN}{name}{_CLOSE}"
    if not isinstance(value, (bool, int, float, str, list, tuple, type(None))):
        value = str(value)
    return f"{_OPEN}{name}{_VALUE}{value!r}{_CLOSE}"


class _Raw(str):
    """A value that is not a Python literal (``nan``, ``inf``): shown as it is written."""

    def __repr__(self) -> str:
        return str(self)


def python_flag(name: str, value: Any) -> str:
    """How a Python user writes an option: ``offset=1``, ``from_logits=True``, ``delta``."""
    if value is _NO_VALUE:
        return name
    return f"{name}={value!r}"


def render_options(text: str, flag: FlagRenderer | None = None) -> str:
    """Replace the option references in ``text`` (Python spelling unless ``flag`` is given)."""
    if _OPEN not in text:
        return text
    import ast  # (not at import time: --help never renders a message)

    render = flag or python_flag

    def one(m: re.Match) -> str:
        value: Any = _NO_VALUE
        if m.group(2) is not None:
            try:
                value = ast.literal_eval(m.group(2))
            except (ValueError, SyntaxError):  # nan, inf: kept as written
                value = _Raw(m.group(2))
        return render(m.group(1), value)

    return _REF.sub(one, text)


def rename_option_refs(text: str, old: str, new: str) -> str:
    """The references to option ``old`` in ``text`` made references to ``new``."""
    return text.replace(f"{_OPEN}{old}{_CLOSE}", f"{_OPEN}{new}{_CLOSE}").replace(
        f"{_OPEN}{old}{_VALUE}", f"{_OPEN}{new}{_VALUE}"
    )


def _sentence(text: str) -> str:
    """Capitalise a hint's first word when it is a plain lower-case word ("use ..." -> "Use")."""
    words = text.split()
    first = words[0] if words else ""
    word = first.replace("-", "")
    if word.isalpha() and word.islower() and word.isascii():
        return text[0].upper() + text[1:]
    return text


# --- errors --------------------------------------------------------------------------------------


class LossctlError(Exception):
    """A user-facing error: what, where (source, row), which option, and the fix.

    Args:
        message: what went wrong, in the user's terms; options through :func:`opt`.
        source: the file (or ``<stdin>``) the problem is in, if any.
        location: where in that source for a person ("line 12", "row 11", "column 'p3'").
        row: the 0-based data row, when the problem is in one row (``location`` defaults to
            ``"row N"``).
        hint: the fix, as an imperative sentence; options through :func:`opt`.
        option: the library option this error is about ("delta"), if any.
    """

    exit_code: int = ExitCode.ERROR

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        location: str | None = None,
        row: int | None = None,
        hint: str | None = None,
        option: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.row = None if row is None else int(row)
        self.location = location if location is not None or row is None else f"row {int(row)}"
        self.hint = hint
        self.option = option
        super().__init__(self.render())

    def render(self, flag: FlagRenderer | None = None) -> str:
        """The one-line text: ``source, location: message. Hint.`` with options spelled by
        ``flag`` (Python names by default)."""
        text = render_options(self.message, flag)
        where = ", ".join(p for p in (self.source, self.location) if p)
        if where:
            text = f"{where}: {text}"
        if self.hint:
            hint = _sentence(render_options(self.hint, flag))
            sep = " " if text.endswith((".", "?", "!")) else ". "
            text = f"{text}{sep}{hint}"
            if not text.endswith((".", "?", "!", ")", "`")):
                text += "."
        return text

    def with_source(self, source: str | None) -> LossctlError:
        """Fill in the source if the raiser did not know it; returns self for ``raise``."""
        if self.source is None and source is not None:
            self.source = source
            self.args = (self.render(),)
        return self

    def rename_option(self, old: str, new: str) -> LossctlError:
        """Make references to option ``old`` name ``new`` (a reader's ``cols`` is the
        pipeline's ``pred_cols``); returns self."""
        self.message = rename_option_refs(self.message, old, new)
        if self.hint:
            self.hint = rename_option_refs(self.hint, old, new)
        if self.option == old:
            self.option = new
        self.args = (self.render(),)
        return self

    def __str__(self) -> str:  # in step with later with_source()/rename_option() calls
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
    """An option value or combination is wrong (option does not apply, value out of range)."""

    exit_code = ExitCode.USAGE


class ThresholdExceeded(LossctlError):
    """``fail_above`` gate: the reduced loss is above the threshold."""

    exit_code = ExitCode.THRESHOLD


# --- warnings and notes ------------------------------------------------------------------------
# The library never prints. Anything the user should hear about but that is not fatal goes
# through Python's ``warnings`` machinery with one of these categories; the CLI shows them on
# stderr as ``lossctl: warning: ...`` / ``lossctl: note: ...``, silences them with ``--no-warn``
# and turns LossctlWarning into an error (exit 1) with ``--strict``. Library users can filter
# them like any other warning. Emit each condition once, with the count of rows affected.


class _Message(UserWarning):
    """A warning whose text may hold option references (rendered like an error's)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.text = message

    def render(self, flag: FlagRenderer | None = None) -> str:
        return render_options(self.text, flag)

    def __str__(self) -> str:
        return self.render()


class LossctlWarning(_Message):
    """Suspicious data that still yields a number (rows renormalised, values clipped, ...)."""


class LossctlNote(_Message):
    """Information about a decision lossctl took for the user (inferred num_classes, header)."""


def warn(message: str) -> None:
    """Emit a :class:`LossctlWarning` (stacklevel chosen so filters by module work)."""
    import warnings

    warnings.warn(LossctlWarning(message), stacklevel=2)


def note(message: str) -> None:
    """Emit a :class:`LossctlNote`."""
    import warnings

    warnings.warn(LossctlNote(message), stacklevel=2)
