"""Write the corpus cases ``c-*`` (task C of issue 12): one folder per bug fixed.

Run ``python -m tests.corpus.make_c_cases`` from the repository root to (re)write them;
the output is deterministic (fixed workbook dates), so the committed files are what this
script writes. Each case holds ``campaign.yaml`` (dates as ``{{today+N}}`` placeholders),
the spreadsheet it names and ``expect.yaml`` (see README.md in this folder).

Two bugs of the list cannot be corpus cases, because a case folder is copied file by
file: a FIFO (git cannot store one, and copying it would block) and a symlink pointing
out of the folder (the copy follows it). ``tests/plan/test_plan_bad_input.py`` covers
both.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
import yaml

from tests.sheets.helpers import rewrite_part, write_compound_file

HERE = Path(__file__).resolve().parent
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
HEADER = ("客户编码", "客户名称", "客户等级", "数量")
ID_HEADER = ("客户ID", "客户名称", "客户等级", "数量")
ROWS = (("C0001", "南京天成建材店", "A", "1"), ("C0002", "上海佳和卫浴店", "B", "2"))
BY_CODE = "{cm_code: 客户编码, cm_name: 客户名称, level: 客户等级, qty: 数量}"
BY_ID = "{cm_id: 客户ID, cm_name: 客户名称, level: 客户等级, qty: 数量}"


def campaign(
    file: str = "customers.csv",
    *,
    key: str = "cm_code",
    columns: str = BY_CODE,
    audience_extra: str = "",
    money: str = '"10.00"',
    voucher_extra: str = "",
    top: str = "",
) -> str:
    """A campaign granting ``qty`` of one specific voucher to the audience in ``file``."""
    return (
        "campaign: corpus-case\n"
        + top
        + "audiences:\n  east:\n"
        + f"    file: {file}\n    key: {key}\n    columns: {columns}\n"
        + audience_extra
        + "vouchers:\n  ten-off:\n    name: 满100减10\n"
        + "    start_date: {{today+30}}\n    end_date: {{today+60}}\n"
        + f"    money: {money}\n"
        + voucher_extra
        + "    discount: {type: GDMZ}\n    grant_type: HDFF\n    customers: specific\n"
        + "    products: {mode: ALL}\n"
        + "grants:\n  - voucher: ten-off\n    audience: east\n    quantity: qty\n"
    )


def csv_bytes(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> bytes:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def workbook(path: Path, fill: Callable[[Any, Any], None]) -> Path:
    """An XLSX whose sheets ``fill(workbook, sheet_adder)`` writes, with a fixed date."""
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": CREATED, "author": "campaign-runner corpus"})
    fill(book, book.add_worksheet)
    book.close()
    return path


def _rows(sheet: Any, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> None:
    sheet.write_row(0, 0, list(header))
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            sheet.write_string(number, column, value)


def case(name: str, campaign_text: str, expect: dict[str, Any], files: dict[str, Any]) -> None:
    """Write one case folder from scratch."""
    folder = HERE / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "campaign.yaml").write_text(campaign_text, encoding="utf-8")
    for file, content in files.items():
        if callable(content):
            content(folder / file)
        else:
            (folder / file).write_bytes(content)
    text = yaml.safe_dump(expect, allow_unicode=True, sort_keys=False, width=100)
    (folder / "expect.yaml").write_text(text, encoding="utf-8")


def refused(why: str, message: str, **where: Any) -> dict[str, Any]:
    return {"why": why, "exit": 2, "message": message, "where": where}


# --- the workbooks ---------------------------------------------------------------------------


def _date_in_id_column(path: Path) -> None:
    def fill(book: Any, add: Any) -> None:
        sheet = add("客户")
        rows = [(str(6856083179295188420 + n), f"客户{n}", "A", "1") for n in range(1, 6)]
        _rows(sheet, rows, ID_HEADER)
        sheet.write_number(6, 0, 46447, book.add_format({"num_format": "yyyy-mm-dd"}))
        sheet.write_row(6, 1, ["客户6", "A", "1"])

    workbook(path, fill)


def _code_as_number(path: Path) -> None:
    def fill(_book: Any, add: Any) -> None:
        sheet = add("客户")
        _rows(sheet, [("007100", "南京天成建材店", "A", "1"), ("C0002", "上海佳和", "B", "1")])
        sheet.write_number(3, 0, 7100)
        sheet.write_row(3, 1, ["苏州宏发灯饰店", "C", "1"])

    workbook(path, fill)


def _hidden_first_sheet(path: Path) -> None:
    def fill(_book: Any, add: Any) -> None:
        hidden = add("旧名单")
        _rows(hidden, [("HIDDEN01", "没人看得见的客户", "A", "5")])
        hidden.hide()
        shown = add("客户")
        _rows(shown, ROWS)
        shown.activate()

    workbook(path, fill)


def _formula_in_quantity(path: Path) -> None:
    def fill(_book: Any, add: Any) -> None:
        sheet = add("客户")
        rows = [(f"C000{n}", f"客户{n}", "A", "1") for n in range(1, 4)]
        _rows(sheet, rows)
        sheet.write_row(4, 0, ["C0004", "客户4", "A"])
        sheet.write_formula(4, 3, "=1+1", None, 2)

    workbook(path, fill)


def _formula_without_value(path: Path) -> None:
    _formula_in_quantity(path)
    rewrite_part(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace("<v>2</v>", ""))


def main() -> None:
    """Write every c-* case."""
    bad_row3 = csv_bytes(ROWS) + b"C0003," + b"\xff\xfe" + b",A,1\n"
    cases: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        (
            "c-01-nul-byte-in-code",
            campaign(),
            refused(
                "a code cell holds a NUL byte, invisible in Excel, that would reach the vendor",
                "a NUL byte (U+0000)",
                file="customers.csv",
                row=3,
                column="客户编码",
            ),
            {"customers.csv": csv_bytes([ROWS[0], ("C00\x0002", "上海佳和卫浴店", "B", "2")])},
        ),
        (
            "c-02-full-width-digit-in-cm-id",
            campaign(key="cm_id", columns=BY_ID),
            refused(
                "a cm_id typed with a full-width digit (６) names no customer at the vendor",
                "the full-width digit '６' (U+FF16; type '6' instead)",
                file="customers.csv",
                row=2,
                column="客户ID",
            ),
            {"customers.csv": csv_bytes([("６856083179295188426", "南京", "A", "1")], ID_HEADER)},
        ),
        (
            "c-03-full-width-digit-in-code",
            campaign(),
            refused(
                "a code with full-width digits (ＣＵＳ０１) is another code to the vendor",
                "full-width",
                file="customers.csv",
                row=3,
                column="客户编码",
            ),
            {"customers.csv": csv_bytes([ROWS[0], ("C０００2", "上海佳和卫浴店", "B", "2")])},
        ),
        (
            "c-04-date-formatted-id-cell",
            campaign("customers.xlsx", key="cm_id", columns=BY_ID),
            refused(
                "an id cell formatted as a date was sent as its day count 46447",
                "cell A7 is a date in Excel (stored as the number 46447)",
                file="customers.xlsx",
                sheet="客户",
                row=7,
                column="客户ID",
            ),
            {"customers.xlsx": _date_in_id_column},
        ),
        (
            "c-05-code-stored-as-number",
            campaign("customers.xlsx"),
            refused(
                "the code 007100 typed into a General cell is stored as 7100: leading zeros lost",
                "cell A4 holds the code as the number 7100",
                file="customers.xlsx",
                sheet="客户",
                row=4,
                column="客户编码",
            ),
            {"customers.xlsx": _code_as_number},
        ),
        (
            "c-06-hidden-first-sheet",
            campaign("customers.xlsx"),
            {
                "why": "the first sheet is hidden: Excel opens on 客户, so that is what is read",
                "exit": 0,
                "read_as": {
                    "grants": 3,
                    "customers": ["C0001", "C0002"],
                    "rows": [2, 3],
                    "preview_contains": "read sheet '客户' of customers.xlsx, the first visible "
                    "sheet (hidden sheet(s) '旧名单' skipped)",
                },
            },
            {"customers.xlsx": _hidden_first_sheet},
        ),
        (
            "c-07-formula-cell",
            campaign("customers.xlsx"),
            {
                **refused(
                    "a quantity computed by a formula is whatever the saving program cached",
                    "cell D5 is a formula",
                    file="customers.xlsx",
                    sheet="客户",
                    row=5,
                    column="数量",
                ),
                "hint": "formulas: cached",
            },
            {"customers.xlsx": _formula_in_quantity},
        ),
        (
            "c-08-formula-cached-is-read",
            campaign("customers.xlsx", audience_extra="    formulas: cached\n"),
            {
                "why": "with formulas: cached, a formula's saved value (2) is the quantity",
                "exit": 0,
                "read_as": {"grants": 5, "customers": ["C0001", "C0002", "C0003", "C0004"]},
            },
            {"customers.xlsx": _formula_in_quantity},
        ),
        (
            "c-09-formula-without-saved-value",
            campaign("customers.xlsx", audience_extra="    formulas: cached\n"),
            refused(
                "a formula the file holds no result for cannot be read, even with cached",
                "cell D5 is a formula with no saved result",
                file="customers.xlsx",
                row=5,
                column="数量",
            ),
            {"customers.xlsx": _formula_without_value},
        ),
        (
            "c-10-path-escapes-folder",
            campaign("../../outside.csv"),
            refused(
                "an audience path climbs out of the campaign's folder",
                "is outside the campaign's folder",
                yaml_path="audiences.east.file",
                line=4,
            ),
            {},
        ),
        (
            "c-11-absolute-path-outside",
            campaign("/etc/customers.csv"),
            refused(
                "an absolute audience path reads a file from anywhere on the machine",
                "an audience file must be inside the campaign file's folder",
                yaml_path="audiences.east.file",
                line=4,
            ),
            {},
        ),
        (
            "c-12-csv-bad-byte-in-data-row-3",
            campaign(),
            refused(
                "a byte that is neither UTF-8 nor GBK in data row 3 (line 4: line 1 is the "
                "header) must be reported on that line, not on line 2",
                "reads as UTF-8 up to line 4",
                file="customers.csv",
                row=4,
            ),
            {"customers.csv": bad_row3},
        ),
        (
            "c-13-python-object-tag",
            campaign(top='notify: !!python/object/apply:os.system ["echo owned"]\n'),
            refused(
                "a YAML tag that constructs Python objects was reported as 'not a list'",
                "YAML tags such as !!python/... are not allowed",
                line=2,
            ),
            {},
        ),
        (
            "c-14-password-protected-workbook",
            campaign("customers.xlsx"),
            {
                **refused(
                    "Excel saves a workbook with a password as an encrypted compound file",
                    "the workbook is password-protected",
                    file="customers.xlsx",
                    yaml_path="audiences.east.file",
                ),
                "hint": "remove the password",
            },
            {
                "customers.xlsx": lambda p: write_compound_file(
                    p, ["EncryptionInfo", "EncryptedPackage"]
                )
            },
        ),
        (
            "c-15-legacy-xls-workbook",
            campaign("customers.xls"),
            refused(
                "an Excel 97-2003 workbook cannot be read",
                "old Excel 97-2003 workbook (.xls)",
                file="customers.xls",
                yaml_path="audiences.east.file",
            ),
            {"customers.xls": lambda p: write_compound_file(p, ["Workbook"])},
        ),
        (
            "c-16-huge-amount",
            campaign(money="99999999999999999999999"),
            refused(
                "a face value of 10**23 was accepted and sent",
                "must be at most 999999999999.99",
                yaml_path="vouchers.ten-off.money",
                line=12,
            ),
            {"customers.csv": csv_bytes(ROWS)},
        ),
        (
            "c-17-negative-threshold",
            campaign(voucher_extra='    doorsill_amount: "-100"\n'),
            refused(
                "a negative threshold",
                "must be at least 0",
                yaml_path="vouchers.ten-off.doorsill_amount",
                line=13,
            ),
            {"customers.csv": csv_bytes(ROWS)},
        ),
        (
            "c-18-nan-amount",
            campaign(money='"NaN"'),
            refused(
                "NaN as a face value",
                "is not a plain decimal number",
                yaml_path="vouchers.ten-off.money",
                line=12,
            ),
            {"customers.csv": csv_bytes(ROWS)},
        ),
        (
            "c-19-infinite-max-amount",
            campaign().replace(
                "    discount: {type: GDMZ}\n",
                '    discount: {type: ZKBL, percent: "0.9", max_amount: .inf}\n',
            ),
            refused(
                "an infinite largest discount",
                "is not a plain decimal number",
                yaml_path="vouchers.ten-off.discount.max_amount",
            ),
            {"customers.csv": csv_bytes(ROWS)},
        ),
        (
            "c-20-amount-with-three-decimals",
            campaign(money='"10.005"'),
            refused(
                "the vendor keeps two decimals of a face value",
                "has more than 2 decimal places",
                yaml_path="vouchers.ten-off.money",
                line=12,
            ),
            {"customers.csv": csv_bytes(ROWS)},
        ),
    ]
    for name, text, expect, files in cases:
        case(name, text, expect, files)


if __name__ == "__main__":
    main()
