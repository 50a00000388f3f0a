"""Reading one sheet of an XLSX workbook into a :class:`RawGrid`.

Values come from fastexcel (calamine), every cell as text. The sheet's XML is scanned
once more (``celltypes``) to learn which cells are stored as numbers, shown as dates or
computed by formulas, and on which Excel row the data starts, so that row numbers match
what Excel shows. The header is the first row with a value at or below ``header_row``;
the rows above it (notes) are skipped.

Without a ``sheet`` the first *visible* sheet is read: the one Excel opens on and a
person checked. A hidden sheet before it (an old list, a lookup table) is passed over and
named in ``RawGrid.skipped``, so that the plan can say which sheet it read.
"""

from __future__ import annotations

import difflib
import zipfile
from pathlib import Path
from typing import NoReturn, TypeVar
from xml.etree import ElementTree

import fastexcel

from runner.errors import InvalidInput, Location, Problem
from runner.sheets.celltypes import XlsxLayoutError, scan_sheet
from runner.sheets.grid import RawGrid, header_beyond_data, is_blank
from runner.sheets.text import quoted
from runner.sheets.workbook import SheetEntry, list_sheets

__all__ = ["read_xlsx_grid"]

_V = TypeVar("_V")

_RESAVE_HINT = "Open it in Excel, save it again as 'Excel Workbook (*.xlsx)', and run again."


def read_xlsx_grid(
    path: Path, sheet: str | int | None, yaml_path: str | None, header_row: int = 1
) -> RawGrid:
    """Read the chosen sheet (name, 0-based index, or the first); raise InvalidInput if unusable.

    The header is the first row holding a value at or below Excel row ``header_row``.
    """
    file = str(path)
    try:
        reader = fastexcel.read_excel(file)
    except fastexcel.FastExcelError as exc:
        _fail(file, None, f"cannot open the workbook: {_first_line(exc)}", _RESAVE_HINT)
    entries = _sheet_entries(path, reader.sheet_names)
    name, skipped = _resolve_sheet(file, entries, sheet, yaml_path)
    try:
        loaded = reader.load_sheet(name, header_row=None, dtypes="string")
        frame = loaded.to_polars()
        absolute = [column.absolute_index for column in loaded.available_columns()]
    except fastexcel.FastExcelError as exc:
        _fail(file, name, f"cannot read the sheet: {_first_line(exc)}", _RESAVE_HINT)
    if frame.height == 0:
        _fail(file, name, "the sheet is empty: no header row", _EMPTY_HINT)
    try:
        cells = scan_sheet(path, name, set(absolute))
    except XlsxLayoutError as exc:
        _fail(file, name, f"cannot inspect the cell types: {exc}", _RESAVE_HINT)
    first = cells.first_row
    if first is None or cells.last_row is None or cells.last_row - first + 1 != frame.height:
        _fail(file, name, "cannot line up the rows with Excel's row numbers", _RESAVE_HINT)
    at = max(header_row - first, 0)
    while at < frame.height and all(is_blank(v) for v in frame.row(at)):
        at += 1
    if at >= frame.height:
        problem = header_beyond_data(file, name, header_row, cells.last_row, yaml_path)
        raise InvalidInput([problem], source=file)
    body = frame.slice(at + 1)
    return RawGrid(
        header=[None if v is None else str(v) for v in frame.row(at)],
        body=body,
        rows=list(range(first + at + 1, first + at + 1 + body.height)),
        header_row=first + at,
        sheet=name,
        numbers=_by_position(cells.numbers, absolute),
        dates=_by_position(cells.dates, absolute),
        formulas=_by_position(cells.formulas, absolute),
        errors=_by_position(cells.errors, absolute),
        absolute=absolute,
        skipped=skipped,
    )


def _by_position(found: dict[int, _V], absolute: list[int]) -> dict[int, _V]:
    """A map keyed by absolute sheet column, keyed by the grid's column position instead."""
    return {pos: found[col] for pos, col in enumerate(absolute) if col in found}


_MAX_SHEETS_SHOWN = 20
_EMPTY_HINT = "Put the column headers on the first row and one customer per row below them."
_HIDDEN_HINT = (
    "Unhide the sheet that holds the customers (right-click a tab → Unhide), or name it "
    "with the audience's `sheet`, and run again."
)


def _sheet_entries(path: Path, names: list[str]) -> list[SheetEntry]:
    """The sheets with their visibility (all visible if the workbook's XML cannot say)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = list_sheets(archive)
    except (KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        entries = []
    if [e.name for e in entries] != names:
        return [SheetEntry(name, True, None) for name in names]
    return entries


def _resolve_sheet(
    file: str, entries: list[SheetEntry], sheet: str | int | None, yaml_path: str | None
) -> tuple[str, tuple[str, ...]]:
    """The sheet's name: by name, by 0-based index, or the first visible sheet when not
    given; and the hidden sheets passed over to reach it."""
    names = [entry.name for entry in entries]
    if sheet is None:
        visible = [n for n, entry in enumerate(entries) if entry.visible]
        if visible:
            return names[visible[0]], tuple(names[: visible[0]])
        _fail(file, None, "every sheet of the workbook is hidden", _HIDDEN_HINT)
    if isinstance(sheet, int) and 0 <= sheet < len(names):
        return names[sheet], ()
    if isinstance(sheet, str) and sheet in names:
        return sheet, ()
    wanted = quoted(sheet) if isinstance(sheet, str) else repr(sheet)
    existing = ", ".join(quoted(n) for n in names[:_MAX_SHEETS_SHOWN]) or "none"
    if len(names) > _MAX_SHEETS_SHOWN:
        existing += f" and {len(names) - _MAX_SHEETS_SHOWN} more"
    close = difflib.get_close_matches(str(sheet), names, n=1)
    hint = f"Did you mean {quoted(close[0])}? " if close else ""
    hint += "Set `sheet` to one of the sheet names (or a 0-based index) and run again."
    where = Location(file=file, yaml_path=f"{yaml_path}.sheet" if yaml_path else None)
    raise InvalidInput(
        [
            Problem(
                f"no sheet {wanted} in the workbook; its sheets are: {existing}",
                where,
                hint,
            )
        ],
        source=file,
    )


def _fail(file: str, sheet: str | None, message: str, hint: str) -> NoReturn:
    raise InvalidInput([Problem(message, Location(file=file, sheet=sheet), hint)], source=file)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
