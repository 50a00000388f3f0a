"""What the cells of an XLSX sheet really are, read from the workbook's XML.

calamine (through fastexcel) renders every cell as text, but it cannot say whether a cell
was stored as text or as a number, shown as a date, computed by a formula, or on which
Excel row its range starts. All of it matters: an id that Excel stored as a number has
already lost digits (or leading zeros), a date shows a day count, a formula's value is
whatever the program that saved the file cached, and problems must name rows as Excel
shows them. This module walks the sheet's XML once (standard library only) and returns,
per column, the raw value of every numeric cell (those shown as dates apart), every
formula (with its cached value, if any) and every error cell, plus the first and last
row that hold a value.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from runner.sheets.workbook import XlsxLayoutError, date_styles, sheet_part

__all__ = [
    "SheetCells",
    "XlsxLayoutError",
    "cell_name",
    "column_index",
    "column_letters",
    "scan_sheet",
]

_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_NUMERIC_TYPES = frozenset({None, "n"})

#: ``{0-based absolute column (A = 0): {excel_row: value}}``
Cells = dict[int, dict[int, str]]


@dataclass(frozen=True)
class SheetCells:
    """Rows holding values (1-based, as Excel shows them) and the cells of note found.

    Each map goes from a 0-based absolute column (A = 0) to ``{excel_row: value}``:
    ``numbers`` the raw value of cells stored as numbers (not shown as dates), ``dates``
    the raw value of numeric cells shown as a date or time, ``formulas`` the cached value
    of formula cells (None when the file holds none), ``errors`` error cells (``#N/A``).
    """

    first_row: int | None
    last_row: int | None
    numbers: Cells = field(default_factory=dict)
    dates: Cells = field(default_factory=dict)
    formulas: dict[int, dict[int, str | None]] = field(default_factory=dict)
    errors: Cells = field(default_factory=dict)


def column_index(letters: str) -> int:
    """0-based index of an Excel column name: A → 0, Z → 25, AA → 26."""
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - ord("A") + 1)
    return index - 1


def column_letters(column: int) -> str:
    """The Excel name of a 0-based column: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_name(column: int, row: int) -> str:
    """The Excel name of a cell from its 0-based column and 1-based row: (1, 7) → B7."""
    return f"{column_letters(column)}{row}"


def scan_sheet(path: Path, sheet_name: str, columns: Set[int]) -> SheetCells:
    """Scan the sheet named ``sheet_name`` for value rows and cells of note in ``columns``."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = sheet_part(archive, sheet_name)
            dated = date_styles(archive)
            with archive.open(part) as stream:
                return _scan(stream, columns, dated)
    except (KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError) as exc:
        raise XlsxLayoutError(str(exc)) from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class _Scan:
    """The state of one walk over a sheet's rows."""

    def __init__(self, columns: Set[int], dated: frozenset[int]) -> None:
        self.columns = columns
        self.dated = dated
        self.first: int | None = None
        self.last: int | None = None
        self.found = SheetCells(None, None)

    def cell(self, element: ElementTree.Element, row: int, col: int) -> None:
        value, formula = _contents(element)
        if value is not None:
            self.first = row if self.first is None else self.first
            self.last = row
        if col not in self.columns:
            return
        kind = element.get("t")
        if formula:
            self.found.formulas.setdefault(col, {})[row] = value
        if value is None:
            return
        if kind == "e":
            self.found.errors.setdefault(col, {})[row] = value
        elif kind == "d" or (kind in _NUMERIC_TYPES and _style(element) in self.dated):
            self.found.dates.setdefault(col, {})[row] = value
        elif kind in _NUMERIC_TYPES:
            self.found.numbers.setdefault(col, {})[row] = value


def _scan(stream: IO[bytes], columns: Set[int], dated: frozenset[int]) -> SheetCells:
    scan = _Scan(columns, dated)
    row, col = 0, -1
    for event, element in ElementTree.iterparse(stream, events=("start", "end")):
        name = _local(element.tag)
        if event == "start" and name == "row":
            row = int(element.get("r") or row + 1)
            col = -1
        elif event == "end" and name == "c":
            col = _cell_column(element.get("r"), col)
            scan.cell(element, row, col)
        elif event == "end" and name == "row":
            element.clear()
    found = scan.found
    return SheetCells(
        scan.first, scan.last, found.numbers, found.dates, found.formulas, found.errors
    )


def _style(cell: ElementTree.Element) -> int:
    text = cell.get("s")
    return int(text) if text and text.isdigit() else 0


def _cell_column(ref: str | None, previous: int) -> int:
    """The 0-based column of a cell: from its reference ("B3"), else the next one."""
    if ref:
        match = _CELL_REF.fullmatch(ref)
        if match:
            return column_index(match.group(1))
    return previous + 1


def _contents(cell: ElementTree.Element) -> tuple[str | None, bool]:
    """The stored value of a cell (``<v>`` or inline string; None without one), and whether
    the cell holds a formula (``<f>``)."""
    value: str | None = None
    formula = False
    for child in cell:
        name = _local(child.tag)
        if name == "f":
            formula = True
        elif name == "v":
            value = child.text or ""
        elif name == "is":
            value = "".join(t.text or "" for t in child.iter() if _local(t.tag) == "t")
    return value, formula
