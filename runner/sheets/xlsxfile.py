"""Reading one sheet of an XLSX workbook into a :class:`RawGrid`.

Values come from fastexcel (calamine), every cell as text. The sheet's XML is scanned
once more (``celltypes``) to learn which cells are stored as numbers and on which Excel
row the data starts, so that row numbers match what Excel shows. The header is the first
row with a value at or below ``header_row``; the rows above it (notes) are skipped.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import NoReturn

import fastexcel

from runner.errors import InvalidInput, Location, Problem
from runner.sheets.celltypes import XlsxLayoutError, scan_sheet
from runner.sheets.grid import RawGrid, header_beyond_data, is_blank

__all__ = ["read_xlsx_grid"]

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
    name = _resolve_sheet(file, reader.sheet_names, sheet, yaml_path)
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
        numbers={
            pos: cells.numbers[col] for pos, col in enumerate(absolute) if col in cells.numbers
        },
    )


_EMPTY_HINT = "Put the column headers on the first row and one customer per row below them."


def _resolve_sheet(
    file: str, names: list[str], sheet: str | int | None, yaml_path: str | None
) -> str:
    """The sheet's name: by name, by 0-based index, or the first sheet when not given."""
    if sheet is None:
        sheet = 0
    if isinstance(sheet, int) and 0 <= sheet < len(names):
        return names[sheet]
    if isinstance(sheet, str) and sheet in names:
        return sheet
    existing = ", ".join(repr(n) for n in names) or "none"
    close = difflib.get_close_matches(str(sheet), names, n=1)
    hint = f"Did you mean {close[0]!r}? " if close else ""
    hint += "Set `sheet` to one of the sheet names (or a 0-based index) and run again."
    where = Location(file=file, yaml_path=f"{yaml_path}.sheet" if yaml_path else None)
    raise InvalidInput(
        [Problem(f"no sheet {sheet!r} in the workbook; its sheets are: {existing}", where, hint)],
        source=file,
    )


def _fail(file: str, sheet: str | None, message: str, hint: str) -> NoReturn:
    raise InvalidInput([Problem(message, Location(file=file, sheet=sheet), hint)], source=file)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
