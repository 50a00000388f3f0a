"""Reading customer spreadsheets (CSV or XLSX) into checked, all-text audience frames.

Public API: :func:`read_audience` returns an :class:`AudienceTable` (the loaded rows of
one audience; the campaign's ``audiences`` entry that names the file is
:class:`runner.campaign.AudienceSpec`); :func:`check_quantity` validates a quantity
column the plan chooses, and :func:`check_not_empty` refuses an audience without a
customer row. :func:`quoted` and :func:`shorten` cap how much of the input a message
quotes. Every problem found in a file is raised at once as one
:class:`~runner.errors.InvalidInput`, each located by file, sheet, row (as Excel shows
it, or the CSV line) and column header. :data:`SPREADSHEET_SUFFIXES` and its parts are
the one list of file suffixes an audience may have.
"""

from __future__ import annotations

from runner.sheets.audience import (
    ID_KINDS,
    ROW,
    AudienceTable,
    KeyKind,
    check_not_empty,
    check_quantity,
    read_audience,
)
from runner.sheets.checks import DAMAGED_ID_HINT
from runner.sheets.suffixes import (
    CSV_SUFFIXES,
    SPREADSHEET_SUFFIXES,
    XLS_SUFFIXES,
    XLSX_SUFFIXES,
    is_csv,
)
from runner.sheets.text import MAX_QUOTED, Encoding, quoted, shorten

__all__ = [
    "CSV_SUFFIXES",
    "DAMAGED_ID_HINT",
    "ID_KINDS",
    "MAX_QUOTED",
    "ROW",
    "SPREADSHEET_SUFFIXES",
    "XLSX_SUFFIXES",
    "XLS_SUFFIXES",
    "AudienceTable",
    "Encoding",
    "KeyKind",
    "check_not_empty",
    "check_quantity",
    "is_csv",
    "quoted",
    "read_audience",
    "shorten",
]
