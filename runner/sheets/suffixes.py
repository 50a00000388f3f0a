"""Which file suffixes name a spreadsheet, and which reader each one needs.

The campaign accepts an audience ``file`` with any of :data:`SPREADSHEET_SUFFIXES`;
:func:`runner.sheets.read_audience` reads CSV and XLSX, and refuses an old ``.xls``
workbook with advice to save it as ``.xlsx``. A file without a known suffix is read as
XLSX when its content is a ZIP archive.
"""

from __future__ import annotations

from pathlib import PurePath

__all__ = ["CSV_SUFFIXES", "SPREADSHEET_SUFFIXES", "XLSX_SUFFIXES", "XLS_SUFFIXES", "is_csv"]

CSV_SUFFIXES = frozenset({".csv"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
XLS_SUFFIXES = frozenset({".xls"})
SPREADSHEET_SUFFIXES = CSV_SUFFIXES | XLSX_SUFFIXES | XLS_SUFFIXES


def is_csv(file: str | PurePath) -> bool:
    """True when the file's suffix (any case) names a CSV file."""
    return PurePath(file).suffix.lower() in CSV_SUFFIXES
