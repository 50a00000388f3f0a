"""Rebuild the tiny spreadsheets the plan-level bad examples (campaigns/bad/5x-*.yaml) use.

Run from anywhere: ``python campaigns/bad/data/make_data.py``. Deterministic output.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
HEADER = ["客户ID", "客户编码", "客户名称", "客户等级", "数量"]


def _csv(name: str, rows: list[list[str]]) -> None:
    lines = [",".join(HEADER)] + [",".join(row) for row in rows]
    (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _damaged_ids() -> None:
    """客户ID typed into Excel as numbers: 19 digits do not fit a double."""
    workbook = xlsxwriter.Workbook(str(HERE / "damaged_ids.xlsx"))
    workbook.set_properties({"created": datetime(2026, 1, 1, tzinfo=UTC)})
    sheet = workbook.add_worksheet("客户")
    for col, text in enumerate(HEADER):
        sheet.write_string(0, col, text)
    ids = [6856083179295188426, 8833956197749704288, 9139133117350330302]
    for row, number in enumerate(ids, start=1):
        sheet.write_number(row, 0, number)  # Excel keeps only 15 significant digits
        sheet.write_string(row, 1, f"CUS0100{row:02d}")
        sheet.write_string(row, 2, f"受损客户{row}")
        sheet.write_string(row, 3, "A")
        sheet.write_string(row, 4, "1")
    workbook.close()


def main() -> None:
    _damaged_ids()
    _csv(
        "duplicate_customer.csv",
        [
            ["8245873019913155719", "CUS010041", "北京华美建材店", "A", "1"],
            ["8883593595461218057", "CUS010042", "太原金盛建材店", "B", "1"],
            ["9089168403262600466", "CUS010041", "北京华美建材店(重复)", "A", "2"],
        ],
    )
    _csv(
        "bad_quantity.csv",
        [
            ["8245873019913155719", "CUS010041", "北京华美建材店", "A", "2"],
            ["8883593595461218057", "CUS010042", "太原金盛建材店", "B", "-1"],
            ["9089168403262600466", "CUS010043", "太原鑫旺建材店", "A", "1.5"],
        ],
    )


if __name__ == "__main__":
    main()
