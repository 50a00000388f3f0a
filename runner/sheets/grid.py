"""The raw grid a reader hands over: header cells, body cells, and where each row is.

Both readers (CSV and XLSX) produce a :class:`RawGrid`; everything after that (naming
columns, trimming, checks) is shared and lives in ``runner.sheets.audience``. Both find
the header the same way: the first row holding a value at or below ``header_row`` (the
rows above it, such as a row of notes, are skipped); :func:`header_beyond_data` is the
problem both report when there is none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from runner.errors import Location, Problem
from runner.sheets.text import BOM, trim

__all__ = ["RawGrid", "header_beyond_data", "is_blank"]


@dataclass(frozen=True)
class RawGrid:
    """What a reader found in a file, before any column is named or checked.

    ``header`` holds the header cells as read, and ``header_row`` the header's row number
    (Excel's row, or the CSV line); rows above it are not in the grid.
    ``body`` has one String column per grid column (any names) and one row per record
    after the header, untrimmed. ``rows[i]`` is the row number as the user sees it for
    ``body`` row ``i`` (Excel's row, or the CSV line). ``numbers`` maps a grid column
    position to ``{row: raw value}`` for the cells that an XLSX stores as numbers (empty
    for CSV). ``dates``, ``formulas`` and ``errors`` are the same for cells shown as
    dates, formula cells (their cached value, None without one) and error cells;
    ``absolute`` maps a grid column position to its 0-based sheet column (A = 0), to name
    cells (XLSX only). ``skipped`` names the hidden sheets passed over to reach the first
    visible one. ``problems`` are non-fatal findings of the reader itself.
    """

    header: list[str | None]
    body: pl.DataFrame
    rows: Sequence[int]
    header_row: int = 1
    sheet: str | None = None
    encoding: str | None = None
    numbers: dict[int, dict[int, str]] = field(default_factory=dict)
    dates: dict[int, dict[int, str]] = field(default_factory=dict)
    formulas: dict[int, dict[int, str | None]] = field(default_factory=dict)
    errors: dict[int, dict[int, str]] = field(default_factory=dict)
    absolute: Sequence[int] = ()
    skipped: tuple[str, ...] = ()
    problems: list[Problem] = field(default_factory=list)


def is_blank(value: object) -> bool:
    """True for a cell that holds nothing but whitespace (or a byte order mark)."""
    return value is None or trim(str(value).replace(BOM, "")) is None


def header_beyond_data(
    file: str, sheet: str | None, header_row: int, last_row: int | None, yaml_path: str | None
) -> Problem:
    """The problem for a file with no row holding a value at or below ``header_row``."""
    if last_row is None or header_row <= 1:
        what = "the file" if sheet is None else "the sheet"
        return Problem(
            f"{what} is empty: no header row",
            Location(file=file, sheet=sheet),
            "Put the column headers on the first row and one customer per row below them, "
            "and run again.",
        )
    return Problem(
        f"no header at row {header_row} or below: the last row with a value is row {last_row}",
        Location(
            file=file, sheet=sheet, yaml_path=f"{yaml_path}.header_row" if yaml_path else None
        ),
        "Set `header_row` to the row that holds the column headers (1 for the first row), "
        "and run again.",
    )
