"""The customer spreadsheet template: an XLSX a campaign manager fills in without surprises.

Its first sheet, ``客户``, starts with a row of notes (row 1, italic grey: what each column
holds, in Chinese and in short English), then the header (row 2, bold, frozen with the
notes); customers go from row 3 on. A campaign reads it with ``header_row: 2`` (see
:data:`HEADER_ROW`), so the notes are never taken for a customer. The id column and the
other text columns are formatted as Text on the whole column: Excel keeps what is typed
or pasted into them as text, so a 19-digit id never becomes ``6.85608E+18`` and ``007100``
keeps its zeros. The key column carries an input message, the quantity column accepts
whole numbers only. A second sheet, ``说明 README``, says how to fill it in.

:data:`TEMPLATE_COLUMNS` is the one description of the columns: ``runner init`` writes
the campaign's ``columns`` mapping from it. :func:`write_audience_template` writes one
template; :func:`write_templates` fills a folder (a drop folder's ``templates/``) without
replacing a template someone already has there.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter

from runner.errors import StateDirUnusable
from runner.outputs.files import write_atomically

__all__ = [
    "HEADER_ROW",
    "KEY_COLUMN",
    "QUANTITY_COLUMN",
    "README_SHEET",
    "TEMPLATE_COLUMNS",
    "TEMPLATE_FILE",
    "TEMPLATE_SHEET",
    "TemplateColumn",
    "write_audience_template",
    "write_templates",
]

TEMPLATE_FILE = "customers.xlsx"
"""The template's file name, in a new campaign folder and in a drop folder's templates."""
TEMPLATE_SHEET = "客户"
"""The sheet customers are filled into (the first one)."""
README_SHEET = "说明 README"
"""The sheet that explains how to fill the template in."""
HEADER_ROW = 2
"""The row (1-based, as Excel shows it) of the header; row 1 holds the notes."""
KEY_COLUMN = "cm_code"
"""Our name of the column that identifies the customer (the audience's ``key``)."""
QUANTITY_COLUMN = "qty"
"""Our name of the column that says how many vouchers a customer gets."""

_LAST_ROW = 1_048_575  # Excel's last row, 0-based: formats and checks cover the whole column
_TEXT = 49  # Excel's built-in number format "@" (Text)


@dataclass(frozen=True)
class TemplateColumn:
    """One column of the template: our name for it, its header, what its note says."""

    name: str
    header: str
    note_zh: str
    note_en: str
    text: bool
    width: int

    @property
    def note(self) -> str:
        """The note row's cell: the Chinese explanation, then the English one."""
        return f"{self.note_zh}\n{self.note_en}"


TEMPLATE_COLUMNS: tuple[TemplateColumn, ...] = (
    TemplateColumn(
        KEY_COLUMN,
        "客户编码",
        "必填。系统中的客户编码，按文本原样填写或粘贴，保留开头的 0（如 007100）。",
        "Required: the customer code, as text (leading zeros stay).",
        text=True,
        width=26,
    ),
    TemplateColumn(
        "cm_name",
        "客户名称",
        "选填。客户名称，只用于预览和结果文件。",
        "Optional: shown in previews and result files.",
        text=True,
        width=30,
    ),
    TemplateColumn(
        "level",
        "客户等级",
        "选填。客户等级（如 A、B），可在活动文件的 where 条件中筛选。",
        "Optional: the level, usable in the campaign's `where`.",
        text=True,
        width=22,
    ),
    TemplateColumn(
        QUANTITY_COLUMN,
        "数量",
        "必填。每位客户发几张券，整数；0 表示不发。",
        "Required: vouchers for this customer, a whole number (0: none).",
        text=False,
        width=22,
    ),
)
"""The template's columns, in order: the key (客户编码) first."""

_README_LINES: tuple[tuple[str, str], ...] = (
    ("客户名单模板 · 填写说明", "Customer list template: how to fill it in"),
    (
        "1. 在「客户」工作表中，从第 3 行开始，每行填写一位客户。",
        "1. On sheet 客户, fill in one customer per row, from row 3 on.",
    ),
    (
        "2. 第 1 行是各列的说明，第 2 行是表头：请保留这两行，不要修改表头文字。"
        "活动文件用 header_row: 2 找到表头，第 1 行的说明不会被当作客户读取。",
        "2. Row 1 explains each column and row 2 holds the headers: keep both, and keep the "
        "header texts. The campaign file finds the headers with header_row: 2, so the notes "
        "are never read as a customer.",
    ),
    (
        "3. 客户编码列已设为「文本」格式。从其他表格或系统复制编码时，请用「选择性粘贴 → 值」"
        "或「匹配目标格式」粘贴，这样长编码不会变成 6.85608E+18，开头的 0 也不会丢失。",
        "3. The 客户编码 column is formatted as Text. When you copy codes from another sheet or "
        'system, paste them with "Paste Special → Values" or "Match Destination Formatting": '
        "long ids then never turn into 6.85608E+18 and leading zeros stay.",
    ),
    (
        "4. 如果编码已经显示为 6.85608E+18 之类的科学计数法，说明已经损坏：请从源系统重新复制。",
        "4. A code already shown like 6.85608E+18 has lost digits: copy it again from the "
        "source system.",
    ),
    (
        "5. 数量填写整数：每位客户发几张券，0 表示不发。客户名称、客户等级可以留空。",
        "5. 数量 is a whole number: the vouchers this customer gets (0: none). 客户名称 and "
        "客户等级 may stay empty.",
    ),
    (
        "6. 可以增加其他列（如备注）；只有活动文件 columns 中列出的表头会被使用。",
        "6. Extra columns (e.g. remarks) are fine: only the headers listed under `columns` in "
        "the campaign file are used.",
    ),
    (
        "7. 保存为「Excel 工作簿 (*.xlsx)」，不要另存为 .xls。",
        '7. Save it as "Excel Workbook (*.xlsx)", not as .xls.',
    ),
    (
        "8. 然后运行 runner plan 活动文件.yaml 预览：会列出所有问题（文件、行、列）和要做的事，"
        "不会发送任何内容。",
        "8. Then run `runner plan CAMPAIGN.yaml` for a preview: it lists every problem (file, "
        "row, column) with what to do, and sends nothing.",
    ),
)


def write_audience_template(path: Path) -> None:
    """Write the customer template to *path* (replaced whole; its folder must exist).

    A file that cannot be written is a :class:`~runner.errors.StateDirUnusable` naming it.
    """
    write_atomically(path, _template_bytes(), what="the customer template")


def write_templates(folder: Path) -> list[Path]:
    """Put the templates into *folder* (made if need be); return the files written.

    A template already there is left alone, whether it is ours or someone's edited copy,
    so calling this again writes nothing and returns ``[]``.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateDirUnusable.from_os_error(exc, "the templates folder", folder) from exc
    written: list[Path] = []
    for name in (TEMPLATE_FILE,):
        path = folder / name
        if not path.exists():
            write_audience_template(path)
            written.append(path)
    return written


def _template_bytes() -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
        workbook.set_properties(
            {
                "title": "客户名单模板 Customer list template",
                "comments": "Written by campaign-runner (runner init). Row 1: notes; "
                "row 2: headers; customers from row 3.",
            }
        )
        _customers_sheet(workbook)
        _readme_sheet(workbook)
    return buffer.getvalue()


def _customers_sheet(workbook: Any) -> None:
    header_format = workbook.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "num_format": _TEXT}
    )
    note_format = workbook.add_format(
        {
            "italic": True,
            "font_color": "#7F7F7F",
            "text_wrap": True,
            "valign": "top",
            "num_format": _TEXT,
        }
    )
    text_format = workbook.add_format({"num_format": _TEXT})
    number_format = workbook.add_format({"num_format": "0"})
    sheet = workbook.add_worksheet(TEMPLATE_SHEET)
    notes, header = HEADER_ROW - 2, HEADER_ROW - 1  # 0-based rows
    sheet.set_row(notes, 60)
    for col, column in enumerate(TEMPLATE_COLUMNS):
        cell_format = text_format if column.text else number_format
        sheet.set_column(col, col, column.width, cell_format)
        sheet.write_string(notes, col, column.note, note_format)
        sheet.write_string(header, col, column.header, header_format)
    sheet.freeze_panes(HEADER_ROW, 0)
    key = next(i for i, c in enumerate(TEMPLATE_COLUMNS) if c.name == KEY_COLUMN)
    key_message = {
        "validate": "any",
        "input_title": "客户编码 Customer code",
        "input_message": "按文本填写或粘贴，保留开头的 0；粘贴时用「选择性粘贴 → 值」。\n"
        "Text: paste as values; leading zeros stay.",
    }
    sheet.data_validation(header, key, _LAST_ROW, key, key_message)
    for col, column in enumerate(TEMPLATE_COLUMNS):
        if not column.text:
            sheet.data_validation(
                header + 1,
                col,
                _LAST_ROW,
                col,
                {
                    "validate": "integer",
                    "criteria": ">=",
                    "value": 0,
                    "input_title": f"{column.header} Quantity",
                    "input_message": "整数，0 表示不发。\nA whole number (0: none).",
                    "error_title": "请填写整数 Whole number",
                    "error_message": "数量必须是 0 或正整数。\n"
                    "The quantity must be 0 or a positive whole number.",
                },
            )
    sheet.activate()


def _readme_sheet(workbook: Any) -> None:
    title = workbook.add_format({"bold": True, "font_size": 14})
    chinese = workbook.add_format({"text_wrap": True, "valign": "top"})
    english = workbook.add_format({"text_wrap": True, "valign": "top", "font_color": "#595959"})
    sheet = workbook.add_worksheet(README_SHEET)
    sheet.set_column(0, 0, 100)
    row = 0
    for index, (zh, en) in enumerate(_README_LINES):
        if index == 0:
            sheet.write_string(row, 0, f"{zh} / {en}", title)
            row += 2
            continue
        sheet.write_string(row, 0, zh, chinese)
        sheet.write_string(row + 1, 0, en, english)
        row += 3
