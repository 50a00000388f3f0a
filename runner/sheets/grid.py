"""The raw grid a reader hands over: header cells, body cells, and where each row is.

Both readers (CSV and XLSX) produce a :class:`RawGrid`; everything after that (naming
columns, trimming, checks) is shared and lives in ``runner.sheets.audience``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from runner.errors import Problem

__all__ = ["RawGrid"]


@dataclass(frozen=True)
class RawGrid:
    """What a reader found in a file, before any column is named or checked.

    ``header`` holds the header cells as read, and ``header_row`` the header's row number.
    ``body`` has one String column per grid column (any names) and one row per record
    after the header, untrimmed. ``rows[i]`` is the row number as the user sees it for
    ``body`` row ``i`` (Excel's row, or the CSV line). ``numbers`` maps a grid column
    position to ``{row: raw value}`` for the cells that an XLSX stores as numbers (empty
    for CSV). ``problems`` are non-fatal findings of the reader itself.
    """

    header: list[str | None]
    body: pl.DataFrame
    rows: list[int]
    header_row: int = 1
    sheet: str | None = None
    encoding: str | None = None
    numbers: dict[int, dict[int, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
