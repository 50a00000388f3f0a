"""Characters an id or code cell must not hold, found with polars and described plainly.

An id reaches the vendor exactly as the cell holds it, so what a person cannot see or
tell apart must stop the plan instead:

* control characters (a NUL byte, a tab or line break inside the cell, U+007F-U+009F)
  and invisible format characters (zero-width space U+200B, U+FEFF, direction marks);
* full-width forms (U+FF01-U+FF5E, and the full-width space U+3000 inside a cell): ``６``
  looks like ``6`` but is another character, and the vendor would not find the customer.
  They are refused, never converted: the tool does not guess what the source system holds;
* a comma: ``cmId``/``cmCode`` list customers separated by commas, so ``C1,C2`` would
  name two customers (or none);
* more than 32 characters: the vendor stores ids and codes as VARCHAR(32);
* in a ``cm_id`` column, anything but the digits 0-9: the vendor's customer ids are
  integers (19 digits today).

:func:`check_id_text` runs one regular expression over the whole column and builds Python
objects only for the rows it flags, so a clean million-row column costs milliseconds.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Set
from dataclasses import dataclass, replace

import polars as pl

from runner.errors import Location, Problem
from runner.sheets.text import quoted

__all__ = ["MAX_ID_LENGTH", "check_id_text", "describe_character"]

_MAX_ROWS_SHOWN = 5
# control (Cc), invisible format characters (Cf), line/paragraph separators, full width
_BAD = r"[\p{Cc}\p{Cf}\x{2028}\x{2029}\x{3000}\x{FF01}-\x{FF5E}]"
_NOT_DIGITS = r"[^0-9]"
MAX_ID_LENGTH = 32  # cmId / cmCode / customer codes are VARCHAR(32)
_FULL_WIDTH_OFFSET = 0xFEE0  # U+FF01 - U+0021


@dataclass(frozen=True)
class _Kind:
    """One kind of bad character: what it is called and what to do about it."""

    name: str
    hint: str


_CONTROL = _Kind(
    "control",
    "Delete the cell's content and type the id again (or copy it from the source system "
    "as plain text): the cell holds a character that is not shown. Save and run again.",
)
_FULL_WIDTH = _Kind(
    "full-width",
    "Retype the id with ordinary (half-width) characters: switch the input method to "
    "half-width (半角) or use Excel's =ASC() on a copy, save, and run again.",
)
_COMMA = _Kind(
    "comma",
    "Keep one customer per row with its own id (the vendor reads a comma as the start of "
    "another id), save, and run again.",
)
_TOO_LONG = _Kind(
    "too long",
    f"Check the cell: an id or code has at most {MAX_ID_LENGTH} characters at the vendor. "
    "Copy it again from the source system, save, and run again.",
)
_NOT_NUMERIC = _Kind(
    "not digits",
    "A cm_id is the customer's numeric id (digits 0-9 only): copy it from the vendor's "
    "console or export, or map this column as cm_code if it holds codes, and run again.",
)


def describe_character(char: str) -> str:
    """How a bad character is named in a message: ``the full-width digit '６' (U+FF16)``."""
    code = f"U+{ord(char):04X}"
    if char == "\x00":
        return f"a NUL byte ({code})"
    if 0xFF01 <= ord(char) <= 0xFF5E:
        plain = chr(ord(char) - _FULL_WIDTH_OFFSET)
        what = "digit" if plain.isdigit() else "letter" if plain.isalpha() else "character"
        return f"the full-width {what} {char!r} ({code}; type {plain!r} instead)"
    if char == "\u3000":
        return f"a full-width space ({code})"
    name = unicodedata.name(char, "")
    category = unicodedata.category(char)
    if category == "Cc" or not name:
        return f"the control character {code}"
    if category.startswith("C") or category in {"Zl", "Zp"}:
        return f"the invisible character {code} ({name})"
    return f"the character {char!r} ({code})"


def _first_bad(text: str, *, digits_only: bool) -> tuple[_Kind, str] | None:
    for char in text:
        code = ord(char)
        category = unicodedata.category(char)
        if category in {"Cc", "Cf", "Zl", "Zp"}:
            return _CONTROL, char
        if code == 0x3000 or 0xFF01 <= code <= 0xFF5E:
            return _FULL_WIDTH, char
    if "," in text:
        return _COMMA, ","
    if len(text) > MAX_ID_LENGTH:
        return _TOO_LONG, ""
    if digits_only:
        other = next((char for char in text if not "0" <= char <= "9"), None)
        if other is not None:
            return _NOT_NUMERIC, other
    return None


def check_id_text(
    frame: pl.DataFrame,
    column: str,
    row: str,
    at: Location,
    *,
    digits_only: bool,
    skip: Set[int] = frozenset(),
) -> tuple[set[int], list[Problem]]:
    """Rows of ``column`` holding a bad character (see the module), and one problem per kind.

    ``digits_only`` is set for a ``cm_id`` column. Rows in ``skip`` were reported already.
    """
    pattern = f"{_BAD}|,|{_NOT_DIGITS}" if digits_only else f"{_BAD}|,"
    cell = pl.col(column)
    suspect = cell.str.contains(pattern) | (cell.str.len_chars() > MAX_ID_LENGTH)
    flagged = frame.filter(suspect & ~pl.col(row).is_in(list(skip)))
    found: dict[str, list[tuple[int, str, str]]] = {}
    kinds: dict[str, _Kind] = {}
    for number, text in flagged.select(row, column).iter_rows():
        bad = _first_bad(text, digits_only=digits_only)
        if bad is not None:
            kind, char = bad
            kinds[kind.name] = kind
            found.setdefault(kind.name, []).append((number, text, char))
    problems = [_problem(kinds[name], cells, at) for name, cells in found.items()]
    return {cell[0] for cells in found.values() for cell in cells}, problems


def _problem(kind: _Kind, cells: list[tuple[int, str, str]], at: Location) -> Problem:
    cells.sort()
    number, text, char = cells[0]
    shown = quoted(text, 40)
    if kind is _COMMA:
        message = f"the id {shown} contains a comma: the vendor would read it as two ids"
    elif kind is _TOO_LONG:
        message = (
            f"the id {shown} is {len(text)} characters long: the vendor stores at most "
            f"{MAX_ID_LENGTH}"
        )
    elif kind is _NOT_NUMERIC:
        message = f"the cm_id {shown} is not digits only: it contains {describe_character(char)}"
    else:
        message = f"the id {shown} contains {describe_character(char)}"
    if len(cells) > 1:
        rows = [str(cell[0]) for cell in cells[1:]]
        message += f"; so do rows {', '.join(rows[:_MAX_ROWS_SHOWN])}"
        if len(rows) > _MAX_ROWS_SHOWN:
            message += f" and {len(rows) - _MAX_ROWS_SHOWN} more"
    return Problem(message, replace(at, row=number), kind.hint)
