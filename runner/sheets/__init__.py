"""Reading customer spreadsheets (CSV or XLSX) into checked, all-text audience frames.

Public API: :func:`read_audience` returns an :class:`Audience`; :func:`check_quantity`
validates a quantity column the plan chooses. Every problem found in a file is raised at
once as one :class:`~runner.errors.InvalidInput`, each located by file, sheet, row (as
Excel shows it, or the CSV line) and column header.
"""

from __future__ import annotations

from runner.sheets.audience import (
    ID_KINDS,
    ROW,
    Audience,
    KeyKind,
    check_quantity,
    read_audience,
)
from runner.sheets.checks import DAMAGED_ID_HINT
from runner.sheets.text import Encoding

__all__ = [
    "DAMAGED_ID_HINT",
    "ID_KINDS",
    "ROW",
    "Audience",
    "Encoding",
    "KeyKind",
    "check_quantity",
    "read_audience",
]
