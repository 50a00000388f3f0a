"""Write the XLSX workbooks of the corpus cases (their output is committed).

Run ``.venv/bin/python -m tests.corpus.make_binary_cases`` after changing a workbook below;
each function writes the ``customers.xlsx`` of one case folder. xlsxwriter writes the same
bytes for the same calls, apart from the creation time, which is fixed here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

CORPUS = Path(__file__).resolve().parent
HEADER = ("客户编码", "客户名称", "客户等级", "数量")
ROWS = (("C0001", "上海佳和五金店", "A", 1), ("C0002", "南京宏发建材店", "B", 2))
ID_HEADER = ("客户ID", "客户名称", "客户等级", "数量")

Cell = str | int | float | None


def _workbook(case: str) -> xlsxwriter.Workbook:
    workbook = xlsxwriter.Workbook(str(CORPUS / case / "customers.xlsx"))
    workbook.set_properties({"created": datetime(2026, 12, 1)})
    return workbook


def _rows(sheet: Worksheet, rows: Sequence[Sequence[Cell]], first: int = 0) -> None:
    """Strings as text cells, numbers as number cells, None left empty."""
    for r, row in enumerate(rows, start=first):
        for c, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif value is not None:
                sheet.write_number(r, c, value)


def empty_sheet() -> None:
    """d-70: the only sheet holds nothing."""
    workbook = _workbook("d-70-xlsx-empty-sheet")
    workbook.add_worksheet("客户")
    workbook.close()


def header_only() -> None:
    """d-71: headers on row 1, no customer below."""
    workbook = _workbook("d-71-xlsx-header-only")
    _rows(workbook.add_worksheet("客户"), [HEADER])
    workbook.close()


def merged_title() -> None:
    """d-72: a title merged over A1:D1 above the headers on row 2."""
    workbook = _workbook("d-72-xlsx-merged-title-above-header")
    sheet = workbook.add_worksheet("客户")
    sheet.merge_range(0, 0, 0, 3, "春季活动客户名单", workbook.add_format({"align": "center"}))
    _rows(sheet, [HEADER, *ROWS], first=1)
    workbook.close()


def merged_header() -> None:
    """d-73: the header 客户名称 merged over B1:C1, so 客户等级 has no header cell."""
    workbook = _workbook("d-73-xlsx-merged-header-cells")
    sheet = workbook.add_worksheet("客户")
    sheet.write_string(0, 0, "客户编码")
    sheet.merge_range(0, 1, 0, 2, "客户名称")
    sheet.write_string(0, 3, "数量")
    _rows(sheet, ROWS, first=1)
    workbook.close()


def numeric_ids() -> None:
    """d-74: 19-digit 客户ID typed as numbers (Excel keeps 15 digits)."""
    workbook = _workbook("d-74-xlsx-19-digit-id-as-number")
    rows: list[Sequence[Cell]] = [
        ID_HEADER,
        ("6856083179295188426", "上海佳和五金店", "A", 1),
        (6856083179295188426, "南京宏发建材店", "B", 2),
    ]
    _rows(workbook.add_worksheet("客户"), rows)
    workbook.close()


def fractional_ids() -> None:
    """d-75: 客户ID stored as numbers with a fraction (an average pasted over the ids)."""
    workbook = _workbook("d-75-xlsx-fractional-id")
    rows: list[Sequence[Cell]] = [ID_HEADER, (1001, "上海佳和五金店", "A", 1)]
    rows.append((1002.5, "南京宏发建材店", "B", 2))
    _rows(workbook.add_worksheet("客户"), rows)
    workbook.close()


def sheet_typo() -> None:
    """d-76: the workbook's sheet is 客户名单; the campaign asks for 客户."""
    workbook = _workbook("d-76-xlsx-unknown-sheet")
    _rows(workbook.add_worksheet("客户名单"), [HEADER, *ROWS])
    workbook.close()


def numeric_quantity() -> None:
    """d-77: quantities stored as numbers (1 and 2.0), as Excel does by default."""
    workbook = _workbook("d-77-xlsx-numeric-quantities")
    _rows(
        workbook.add_worksheet("客户"),
        [HEADER, ("C0001", "上海", "A", 1), ("C0002", "南京", "B", 2.0)],
    )
    workbook.close()


WORKBOOKS: tuple[Callable[[], None], ...] = (
    empty_sheet,
    header_only,
    merged_title,
    merged_header,
    numeric_ids,
    fractional_ids,
    sheet_typo,
    numeric_quantity,
)

if __name__ == "__main__":
    for write in WORKBOOKS:
        write()
