"""The messages of bad text input, shared by the sniffer and the three engines (Python, pyarrow,
wide rows), which must agree.

Each names the line ("line N", 1-based, counting the header and blank lines), the data row
(``row``, 0-based) when it is known, and the fix; options through :func:`~lossctl.errors.opt`.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lossctl.errors import InputError, opt
from lossctl.io.cells import BadCell, cell_class

if TYPE_CHECKING:
    from lossctl.io.sniff import Layout

_ONLY_HEADER = f"it has only a header line; if that line is data, use {opt('header', False)}"


def no_rows_hint(lay: Layout) -> str:
    return _ONLY_HEADER if lay.header else "the input is empty"


def only_header_error() -> InputError:
    return InputError("has no data rows", hint=_ONLY_HEADER)


def utf8_error(line: int) -> InputError:
    return InputError("is not valid UTF-8 text", location=f"line {line}",
                      hint="convert it to UTF-8, e.g. iconv -f latin1 -t UTF-8 in.csv > out.csv")


def stray_cr(location: str, row: int | None = None) -> InputError:
    return InputError(
        "holds a stray carriage return (\\r) inside the line",
        location=location,
        row=row,
        hint="convert old Mac line ends with `tr '\\r' '\\n'`, or remove the character",
    )


def quote_error(location: str, row: int | None = None) -> InputError:
    return InputError("unbalanced quote", location=location, row=row,
                      hint='close the quote, or double it ("") inside a quoted value; '
                      "a quoted value cannot span lines")


def badnum_error(v: str, colname: str, loc: str | None, row: int | None = None) -> InputError:
    return InputError(
        f"{v!r} in column '{colname}' is not a number: it looks like a decimal comma or a thousands separator",
        location=loc,
        row=row,
        hint="write numbers with '.' as the decimal point and no digit grouping (fix the locale of the "
        f"program that wrote the file); if ';' separates the fields, use {opt('delimiter', ';')}",
    )


def field_count_error(line: str, n: int, lay: Layout, *, location: str, row: int | None = None) -> InputError:
    """A line with ``n`` fields where the layout has ``lay.nfields``."""
    expected = lay.nfields - (1 if lay.trailing else 0)
    got = n - (1 if lay.trailing and n == lay.nfields else 0)
    where = "the header" if lay.header else "the first line"
    hints = [f"every line needs {expected} fields like {where}: check for a missing or extra delimiter"]
    d = lay.delimiter
    if d != " " and line.count('"') % 2:
        return quote_error(location, row)
    if n > lay.nfields and d in ",;" and re.search(r"[0-9]" + re.escape(d) + r"[0-9]", line):
        hints.append(
            f"if numbers are written with '{d}' as a decimal comma or thousands separator, quote them "
            f"or fix the locale; if another character separates the fields, use {opt('delimiter')}"
        )
    if lay.trailing and n == lay.nfields - 1:
        hints.append("the other lines end with a delimiter, this one does not")
    elif not lay.trailing and n == lay.nfields + 1 and line.rstrip().endswith(d):
        hints.append("remove the trailing delimiter")
    if line.strip(" \t\r") == "":
        hints.append("the line holds only spaces: delete it")
    return InputError(f"{got} field{'s' if got != 1 else ''}, expected {expected}", location=location,
                      row=row, hint="; ".join(hints))


def cell_error(bad: BadCell, lay: Layout, row: int, loc: str, line_text: str | None) -> InputError:
    """The error for a :class:`BadCell` at data row ``row`` (line ``loc``)."""
    v = bad.value.strip()
    shown = repr(v if len(v) <= 40 else v[:37] + "...")
    colname = lay.names[bad.col] if bad.col < len(lay.names) else str(bad.col + 1)
    if bad.why == "trailing":
        return InputError(f"value {shown} after the last column", location=loc, row=row,
                          hint="the other lines end with a delimiter here; remove the extra value")
    if v.count('"') % 2 or (line_text is not None and line_text.count('"') % 2):
        return quote_error(loc, row)
    if bad.why == "range":
        return InputError(f"{shown} in column '{colname}' is beyond the float64 range "
                          "(largest 1.8e308), so it would read as inf", location=loc, row=row,
                          hint="fix this value: a number this large is a corrupted or "
                          "mis-scaled cell")
    if bad.why == "bool":
        return InputError(f"{shown} in column '{colname}' is not true/false", location=loc, row=row,
                          hint="the rows above hold true/false here: fix this value")
    if cell_class(v, lay.delimiter) == "badnum":
        return badnum_error(v, colname, loc, row)
    return InputError(
        f"{shown} in column '{colname}' is not a number", location=loc, row=row,
        hint="the rows above hold numbers in this column: fix this value "
        "(missing values may be left empty or written NA)",
    )
