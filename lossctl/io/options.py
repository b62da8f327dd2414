"""How to read a source: :class:`ReadOptions`, and the one table of delimiter names.

This module imports nothing heavy (no numpy, no pyarrow): the command line imports it at
start-up to check its delimiter option with :func:`normalize_delimiter`.
"""
from __future__ import annotations

from lossctl.record import record

from lossctl.errors import UsageError, opt

__all__ = ["DELIMITERS", "ReadOptions", "normalize_delimiter"]

#: Every accepted spelling of a delimiter (lower case) -> the delimiter. ``" "`` means runs of
#: spaces and tabs (whitespace mode).
DELIMITERS: dict[str, str] = {
    ",": ",",
    "comma": ",",
    "\t": "\t",
    "\\t": "\t",
    "tab": "\t",
    ";": ";",
    "semicolon": ";",
    " ": " ",
    "space": " ",
    "whitespace": " ",
    "\\s": " ",
    "\\s+": " ",
}


def normalize_delimiter(value: str | None) -> str | None:
    """A delimiter as the user wrote it -> one of ``","``, ``"\\t"``, ``";"``, ``" "``.

    Names are matched ignoring case and surrounding spaces (``" Tab "`` is a tab); a value
    made only of whitespace is taken literally (``" "``, ``"\\t"``). None stays None (sniff).

    Raises:
        UsageError: not a delimiter lossctl reads.
    """
    if value is None:
        return None
    if isinstance(value, str):
        key = value if value.strip() == "" else value.strip().lower()
        if key in DELIMITERS:
            return DELIMITERS[key]
    raise UsageError(
        f"unknown delimiter {value!r}",
        hint="use one of ',', tab, ';' or space (runs of spaces and tabs)",
        option="delimiter",
    )


def _check_int(name: str, value: object, minimum: int) -> None:
    if not isinstance(value, int) or value < minimum:
        what = "a positive integer" if minimum == 1 else "an integer >= 0"
        raise UsageError(f"{opt(name)} must be {what}, got {value!r}", option=name)


@record(frozen=True)
class ReadOptions:
    """How to read a source.

    Attributes:
        header: True/False force a header row in text input; None auto-detects (the header rule
            in :mod:`lossctl.io.sniff`).
        delimiter: None sniffs; one of ``","``, ``"\\t"``, ``";"``, ``" "`` (runs of spaces and
            tabs), or a name of :data:`DELIMITERS` (``tab``, ``comma``, ``semicolon``,
            ``space``, ``whitespace``, ``\\t``), normalised by :func:`normalize_delimiter`.
        block_rows: rows per yielded :class:`~lossctl.io.source.Block` (the last may be shorter).
        chunk_bytes: text read and parsed at a time by the pyarrow engine (cut at a line end;
            a longer line makes that chunk larger). With one chunk parsed ahead, about three
            chunks of text and their parsed tables are in memory at once.
        small_text_bytes: text inputs up to this size are parsed whole by the pure-Python
            engine (importing pyarrow would cost more than the parse); larger ones stream.
        known_labels: values known to be data (the class names): a first line of them is never
            taken for a header, and a first line of other names is a header for certain.
        column_major: float blocks of several columns may be column-major (Fortran order)
            where building them so saves a transposition: columns of Arrow and CSV tables, and
            NPY floats that are widened anyway. For consumers whose results do not depend on
            the layout (the losses with :attr:`LossSpec.layout_free`).
    """

    header: bool | None = None
    delimiter: str | None = None
    block_rows: int = 65536
    chunk_bytes: int = 8 << 20
    small_text_bytes: int = 1 << 20
    known_labels: tuple[str, ...] | None = None
    column_major: bool = False

    def __post_init__(self) -> None:
        if self.known_labels is not None:
            object.__setattr__(self, "known_labels", tuple(str(v) for v in self.known_labels))
        if self.delimiter is not None:
            object.__setattr__(self, "delimiter", normalize_delimiter(self.delimiter))
        _check_int("block_rows", self.block_rows, 1)
        _check_int("chunk_bytes", self.chunk_bytes, 1)
        _check_int("small_text_bytes", self.small_text_bytes, 0)

    def float_order(self, dims: tuple[int, ...] | None = None) -> str:
        """The memory order of a float block a reader builds: "F" under :attr:`column_major`
        for rows of plain columns, "C" otherwise (an N-D sample, ``dims``, stays one C-order
        run)."""
        return "F" if self.column_major and dims is None else "C"
