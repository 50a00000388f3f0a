"""Reading XLSX audiences: sheet choice, text cells, Excel row numbers, damaged ids."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from runner.errors import InvalidInput
from runner.sheets import DAMAGED_ID_HINT, ROW, read_audience

from .helpers import BIG_ID, Cell, only, problems_of, write_xlsx

HEADER: list[Cell] = ["客户ID", "客户编码", "数量"]
COLS = {"cm_id": "客户ID", "cm_code": "客户编码", "qty": "数量"}
GOOD: list[list[Cell]] = [HEADER, [BIG_ID, "007100", 3], ["6856083179295188427", "CUS2", "1"]]


def test_first_sheet_is_read_by_default(tmp_path: Path) -> None:
    """Without a sheet the first one is read, and its name is reported."""
    path = write_xlsx(tmp_path / "a.xlsx", {"客户": GOOD, "other": [["x"], ["y"]]})
    aud = read_audience("a", path, key="cm_id", columns=COLS)
    assert aud.sheet == "客户"
    assert aud.encoding is None
    assert aud.frame["cm_id"].to_list() == [BIG_ID, "6856083179295188427"]


def test_sheet_by_name_and_by_index(tmp_path: Path) -> None:
    """A sheet is chosen by its name or by its 0-based index."""
    second: list[list[Cell]] = [HEADER, ["1", "CUS9", 2]]
    path = write_xlsx(tmp_path / "a.xlsx", {"客户": GOOD, "第二": second})
    by_name = read_audience("a", path, key="cm_code", columns=COLS, sheet="第二")
    by_index = read_audience("a", path, key="cm_code", columns=COLS, sheet=1)
    assert by_name.sheet == by_index.sheet == "第二"
    assert by_name.frame["cm_code"].to_list() == by_index.frame["cm_code"].to_list() == ["CUS9"]


def test_unknown_sheet_lists_the_sheets_that_exist(tmp_path: Path) -> None:
    """An unknown sheet name is one problem listing every sheet, with a close match."""
    path = write_xlsx(tmp_path / "a.xlsx", {"客户": GOOD, "Sheet2": [["x"]]})
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS, sheet="客户 ", yaml_path="aud.a")
    (problem,) = problems_of(excinfo)
    assert "'客户', 'Sheet2'" in problem.message
    assert problem.where.yaml_path == "aud.a.sheet"
    assert problem.hint is not None
    assert "Did you mean '客户'" in problem.hint


def test_sheet_index_out_of_range_is_reported(tmp_path: Path) -> None:
    """A sheet index beyond the workbook is a problem naming the sheets."""
    path = write_xlsx(tmp_path / "a.xlsx", {"客户": GOOD})
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS, sheet=3)
    assert "'客户'" in problems_of(excinfo)[0].message


def test_every_cell_is_text(tmp_path: Path) -> None:
    """Text ids, leading zeros and numeric quantities all come out as strings."""
    aud = read_audience(
        "a", write_xlsx(tmp_path / "a.xlsx", {"S": GOOD}), key="cm_id", columns=COLS
    )
    assert aud.frame["cm_code"].to_list() == ["007100", "CUS2"]
    assert aud.frame["qty"].to_list() == ["3", "1"]
    assert aud.frame["cm_id"][0] == BIG_ID


def test_rows_are_excel_rows_and_blank_rows_are_skipped(tmp_path: Path) -> None:
    """_row is the row Excel shows (header = 1); empty and whitespace-only rows are dropped."""
    rows: list[list[Cell]] = [HEADER, ["1", "CUS1", 1], [None], ["\u3000", " "], ["2", "CUS2", 2]]
    aud = read_audience(
        "a", write_xlsx(tmp_path / "a.xlsx", {"S": rows}), key="cm_code", columns=COLS
    )
    assert aud.frame["cm_code"].to_list() == ["CUS1", "CUS2"]
    assert aud.frame[ROW].to_list() == [2, 5]


def test_a_table_that_starts_below_and_right_of_a1(tmp_path: Path) -> None:
    """When the header sits on row 3 from column B, rows and problems use Excel's numbers."""
    rows: list[list[Cell]] = [HEADER, ["1", "CUS1", 1], ["2", "CUS1", 2]]
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows}, first_row=2, first_col=1)
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert "rows 4, 5" in problem.message
    assert (problem.where.sheet, problem.where.row, problem.where.column) == ("S", 5, "客户编码")


def test_numeric_cell_beyond_2_53_is_damaged(tmp_path: Path) -> None:
    """An id stored as a number (15 digits kept) is reported with file, sheet, row, column."""
    rows: list[list[Cell]] = [HEADER, [BIG_ID, "CUS1", 1], [6856083179295188426, "CUS2", 1]]
    path = write_xlsx(tmp_path / "a.xlsx", {"客户": rows})
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_id", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert problem.where.file == str(path)
    assert (problem.where.sheet, problem.where.row, problem.where.column) == ("客户", 3, "客户ID")
    assert problem.hint == DAMAGED_ID_HINT


def test_damaged_ids_in_a_non_key_id_column_are_reported(tmp_path: Path) -> None:
    """A cm_id column mapped beside a cm_code key is checked for damage too."""
    rows: list[list[Cell]] = [HEADER, [6.85608e18, "CUS1", 1], ["1", "CUS2", 1]]
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows})
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert problem.where.column == "客户ID"
    assert problem.where.row == 2


def test_float_valued_id_cells_are_damaged(tmp_path: Path) -> None:
    """A non-integer number in an id column is damaged even when small."""
    rows: list[list[Cell]] = [HEADER, ["1", 123.5, 1], ["2", "CUS2", 1]]
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows})
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert "123.5" in problem.message
    assert problem.where.row == 2


def test_text_in_scientific_notation_is_damaged(tmp_path: Path) -> None:
    """A text cell holding 6.85608E+18 (pasted from a damaged export) is reported."""
    rows: list[list[Cell]] = [HEADER, ["6.85608E+18", "CUS1", 1]]
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows})
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_id", columns=COLS)
    assert only(problems_of(excinfo), "damaged")[0].where.row == 2


def test_small_integer_numbers_in_id_columns_are_accepted_as_text(tmp_path: Path) -> None:
    """A numeric cell holding an exact integer below 2**53 becomes its integer text."""
    rows: list[list[Cell]] = [HEADER, [123, "CUS1", 1], [9007199254740991, "CUS2", 1]]
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows})
    aud = read_audience("a", path, key="cm_id", columns=COLS)
    assert aud.frame["cm_id"].to_list() == ["123", "9007199254740991"]


def test_numeric_and_text_forms_of_one_id_are_duplicates(tmp_path: Path) -> None:
    """123 stored as a number and "123" stored as text are the same customer."""
    rows: list[list[Cell]] = [HEADER, [123, "CUS1", 1], ["123", "CUS2", 1]]
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows})
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_id", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert "rows 2, 3" in problem.message


def test_many_damaged_ids_show_five_rows_and_a_count(tmp_path: Path) -> None:
    """Seven damaged ids are one problem showing the first five rows and '2 more'."""
    rows: list[list[Cell]] = [HEADER] + [[6.8e18 + i * 1e6, f"C{i}", 1] for i in range(7)]
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows})
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert "rows 2, 3, 4, 5, 6 and 2 more" in problem.message
    assert problem.message.startswith("7 id(s)")


def test_numbers_in_non_id_columns_are_not_damage(tmp_path: Path) -> None:
    """A large number in a column that is not an id (e.g. an amount) is left alone."""
    rows: list[list[Cell]] = [["客户编码", "金额"], ["CUS1", 1e20]]
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows})
    aud = read_audience("a", path, key="cm_code", columns={"cm_code": "客户编码", "m": "金额"})
    assert aud.frame["m"][0] == "100000000000000000000"


def test_missing_key_and_missing_header_in_one_raise(tmp_path: Path) -> None:
    """Header and row problems of one sheet are raised together, each located."""
    rows: list[list[Cell]] = [["客户编码", "数量"], ["CUS1", 1], [None, 2]]
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows})
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    problems = problems_of(excinfo)
    assert [p.where.row for p in problems] == [1, 3]
    assert "'客户编码', '数量'" in problems[0].message


def test_empty_sheet_is_reported(tmp_path: Path) -> None:
    """A sheet without any cell is a problem naming the sheet."""
    path = write_xlsx(tmp_path / "a.xlsx", {"空": []})
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert problem.where.sheet == "空"
    assert "empty" in problem.message


def test_a_broken_workbook_is_reported(tmp_path: Path) -> None:
    """A file named .xlsx that is not a workbook is one problem with a re-save hint."""
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert "cannot open" in problem.message
    assert problem.hint is not None


_HAND_WRITTEN_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<x:sheetData>"
    '<x:row r="2"><x:c t="inlineStr"><x:is><x:t>客户ID</x:t></x:is></x:c>'
    '<x:c t="inlineStr"><x:is><x:r><x:t>客户</x:t></x:r><x:r><x:t>编码</x:t></x:r></x:is></x:c>'
    "</x:row>"
    '<x:row><x:c><x:v>6.8560831792951885E+18</x:v></x:c><x:c t="inlineStr"><x:is><x:t>CUS1'
    "</x:t></x:is></x:c></x:row>"
    '<x:row><x:c t="inlineStr"><x:is><x:t>123</x:t></x:is></x:c><x:c t="inlineStr"><x:is>'
    "<x:t>CUS2</x:t></x:is></x:c></x:row>"
    "</x:sheetData></x:worksheet>"
)


def test_prefixed_xml_inline_strings_and_cells_without_references(tmp_path: Path) -> None:
    """A sheet written by another tool (x: prefix, inline strings, no cell refs) is read right."""
    base = write_xlsx(tmp_path / "base.xlsx", {"S": [["x"]]})
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = _HAND_WRITTEN_SHEET.encode()
            target.writestr(item, data)
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns={"cm_code": "客户编码", "cm_id": "客户ID"})
    (problem,) = problems_of(excinfo)
    assert (problem.where.row, problem.where.column) == (3, "客户ID")
    assert "6.8560831792951885E+18" in problem.message
