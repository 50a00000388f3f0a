"""Helpers for the sheets tests: write small CSV and XLSX files in a temporary folder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import xlsxwriter

from runner.errors import InvalidInput, Problem

Cell = str | int | float | None

BIG_ID = "6856083179295188426"  # 19 digits, beyond 2**53


def write_xlsx(
    path: Path,
    sheets: Mapping[str, Sequence[Sequence[Cell]]],
    *,
    first_row: int = 0,
    first_col: int = 0,
) -> Path:
    """Write one sheet per entry: str cells as TEXT, int/float cells as NUMBERS, None left empty."""
    workbook = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                at = (first_row + r, first_col + c)
                if isinstance(value, str):
                    sheet.write_string(*at, value)
                elif value is not None:
                    sheet.write_number(*at, value)
    workbook.close()
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` exactly (no newline translation) in ``encoding``."""
    path.write_bytes(text.encode(encoding))
    return path


def problems_of(excinfo: pytest.ExceptionInfo[InvalidInput]) -> list[Problem]:
    """The problems an InvalidInput carries."""
    return excinfo.value.problems()


def only(problems: list[Problem], needle: str) -> list[Problem]:
    """The problems whose message contains ``needle``."""
    return [p for p in problems if needle in p.message]
