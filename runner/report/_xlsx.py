"""The report as one workbook, ``report.xlsx``: a summary sheet, then one sheet per table.

Headers are in Chinese and English. Ids (voucher, instance, customer, order) are text
cells, so 19-digit ids keep every digit; counts, money, rates and days are numbers and
dates Excel can sum, filter and chart. Text that Excel would read as a formula is written
as text with Excel's quote prefix (:func:`runner.outputs.cells.needs_quote`); the
workbook never turns text into formulas, links or numbers.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import xlsxwriter

from runner.outputs.cells import needs_quote
from runner.report._tables import Column, Kind, Table

__all__ = ["SUMMARY_SHEET", "sheet_name", "xlsx_bytes"]

SUMMARY_SHEET = "汇总 summary"
_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
_NUMBER_FORMATS: dict[Kind, str] = {
    "count": "#,##0",
    "money": "#,##0.00",
    "rate": "0.0%",
    "ratio": "0.00",
    "date": "yyyy-mm-dd",
}
_MAX_WIDTH = 48


@dataclass(frozen=True)
class _Formats:
    """The workbook's cell formats, made once."""

    header: Any
    title: Any
    text: Any
    quoted: Any
    numbers: dict[Kind, Any]


def _formats(workbook: Any) -> _Formats:
    """Make the workbook's formats once."""
    header = {"bold": True, "bg_color": "#E8EEF7", "border": 1, "text_wrap": True}
    return _Formats(
        header=workbook.add_format(header),
        title=workbook.add_format({"bold": True, "font_size": 13}),
        text=workbook.add_format({"num_format": "@"}),
        quoted=workbook.add_format({"num_format": "@", "quote_prefix": True}),
        numbers={k: workbook.add_format({"num_format": v}) for k, v in _NUMBER_FORMATS.items()},
    )


def sheet_name(table: Table) -> str:
    """The sheet that holds *table* (at most 31 characters, as Excel allows)."""
    return table.title[:31]


def _display_width(text: str) -> int:
    """Columns *text* takes in a spreadsheet: wide (CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _width(header: str, values: Iterable[object]) -> int:
    """A column width that fits the header and the first values, within limits."""
    widest = max((_display_width(str(v)) for v in values if v is not None), default=0)
    return min(_MAX_WIDTH, max(_display_width(header) // 2 + 2, widest + 2, 8))


def _write(sheet: Any, row: int, col: int, value: object, kind: Kind, formats: _Formats) -> None:
    """One cell: text as text (quoted when it looks like a formula), numbers as numbers."""
    if value is None:
        sheet.write_blank(row, col, None)
    elif kind in ("text", "id"):
        text = str(value)
        sheet.write_string(row, col, text, formats.quoted if needs_quote(text) else formats.text)
    elif kind == "date" and isinstance(value, date):
        sheet.write_datetime(row, col, datetime.combine(value, time()), formats.numbers[kind])
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, col, float(value), formats.numbers[kind])
    else:
        sheet.write_string(row, col, str(value), formats.text)


def _write_rows(
    sheet: Any, top: int, columns: Sequence[Column], rows: Iterable[tuple[object, ...]], f: _Formats
) -> int:
    """Header at row *top*, then *rows*; returns the last row written."""
    for col, column in enumerate(columns):
        sheet.write_string(top, col, column.header, f.header)
    last = top
    for last, values in enumerate(rows, start=top + 1):
        for col, (column, value) in enumerate(zip(columns, values, strict=True)):
            _write(sheet, last, col, value, column.kind, f)
    return last


def _table_sheet(workbook: Any, table: Table, f: _Formats) -> None:
    """One table on its own sheet, with a frozen header row and filters."""
    sheet = workbook.add_worksheet(sheet_name(table))
    last = _write_rows(sheet, 0, table.columns, table.frame.iter_rows(), f)
    sheet.freeze_panes(1, 0)
    if table.columns:
        sheet.autofilter(0, 0, max(last, 1), len(table.columns) - 1)
    sample = table.frame.head(200)
    for col, column in enumerate(table.columns):
        sheet.set_column(col, col, _width(column.header, sample.get_column(column.name)))


def _summary_sheet(
    workbook: Any, info: Sequence[tuple[str, str]], tables: Sequence[Table], f: _Formats
) -> None:
    """The campaign, when, what it says, the totals (one per row) and the vouchers."""
    sheet = workbook.add_worksheet(SUMMARY_SHEET)
    totals, vouchers = tables[0], tables[1]
    row = 0
    for label, value in info:
        sheet.write_string(row, 0, label, f.header)
        _write(sheet, row, 1, value, "text", f)
        row += 1
    row += 1
    sheet.write_string(row, 0, totals.title, f.title)
    for column, value in zip(totals.columns, totals.frame.row(0), strict=True):
        row += 1
        sheet.write_string(row, 0, column.header, f.header)
        _write(sheet, row, 1, value, column.kind, f)
    sheet.write_string(row + 2, 0, vouchers.title, f.title)
    _write_rows(sheet, row + 3, vouchers.columns, vouchers.frame.iter_rows(), f)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, len(vouchers.columns), 18)


def xlsx_bytes(tables: Sequence[Table], info: Sequence[tuple[str, str]]) -> bytes:
    """The workbook: the summary sheet (*info* label/value rows, the totals and the
    vouchers), then every table but the totals on its own sheet."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, _OPTIONS)
    formats = _formats(workbook)
    _summary_sheet(workbook, info, tables, formats)
    for table in tables[1:]:
        _table_sheet(workbook, table, formats)
    workbook.close()
    return buffer.getvalue()
