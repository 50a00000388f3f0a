"""Cells and files that must never reach the vendor, each refused where it is (issue 12)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import xlsxwriter

from runner.errors import InvalidInput
from runner.sheets import read_audience

from .helpers import (
    BIG_ID,
    Cell,
    only,
    problems_of,
    rewrite_part,
    write_compound_file,
    write_csv,
    write_xlsx,
)

HEADER: list[Cell] = ["客户ID", "客户编码", "数量"]
COLS = {"cm_id": "客户ID", "cm_code": "客户编码", "qty": "数量"}
CSV_HEAD = "客户ID,客户编码,数量\n"


def _refused(path: Path, key: str = "cm_code", **kwargs: object) -> list[str]:
    """The messages of the problems reading ``path`` raises (it must raise)."""
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key=key, columns=COLS, **kwargs)  # type: ignore[arg-type]
    return [p.message for p in problems_of(excinfo)]


# --- characters -----------------------------------------------------------------------------


def test_nul_byte_inside_a_code_is_refused_at_its_row_and_column(tmp_path: Path) -> None:
    """A NUL byte inside a code cell is named, at its CSV line and column."""
    path = write_csv(tmp_path / "a.csv", CSV_HEAD + f"{BIG_ID},C1,1\n1,C\x0002,1\n")
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    (problem,) = only(problems_of(excinfo), "NUL byte")
    assert (problem.where.row, problem.where.column) == (3, "客户编码")
    assert "U+0000" in problem.message
    assert problem.hint is not None
    assert "type the id again" in problem.hint


def test_control_and_invisible_characters_in_an_id_are_refused(tmp_path: Path) -> None:
    """A bell character and a zero-width space inside ids are refused with their code points."""
    text = CSV_HEAD + "1\x07,C1,1\n2,C\u200b2,1\n"
    messages = _refused(write_csv(tmp_path / "a.csv", text))
    assert any("U+0007" in m for m in messages), messages
    assert any("U+200B" in m and "ZERO WIDTH SPACE" in m for m in messages), messages


def test_nul_byte_in_an_xlsx_code_cell_is_refused(tmp_path: Path) -> None:
    """A NUL written into an XLSX text cell (as _x0000_) is refused too."""
    rows: list[list[Cell]] = [HEADER, ["1", "C\x0001", 1]]
    messages = _refused(write_xlsx(tmp_path / "a.xlsx", {"S": rows}))
    assert any("NUL byte" in m for m in messages), messages


def test_full_width_digits_in_a_cm_id_are_refused_naming_the_character(tmp_path: Path) -> None:
    """A cm_id typed with a full-width ６ is refused, never converted, naming ６ and 6."""
    path = write_csv(tmp_path / "a.csv", CSV_HEAD + "68560831７9295188426,C1,1\n")
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_id", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert "the full-width digit '７' (U+FF17; type '7' instead)" in problem.message
    assert (problem.where.row, problem.where.column) == (2, "客户ID")


def test_full_width_digits_inside_a_code_are_refused(tmp_path: Path) -> None:
    """A code holding a full-width digit is refused; the other rows are listed too."""
    text = CSV_HEAD + "1,CUS０１,1\n2,CUS2,1\n3,CUS３,1\n"
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", write_csv(tmp_path / "a.csv", text), key="cm_code", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert "full-width digit '０'" in problem.message
    assert "so do rows 4" in problem.message
    assert problem.where.row == 2


def test_a_cm_id_that_is_not_digits_only_is_refused(tmp_path: Path) -> None:
    """A cm_id column holding a code-like value is refused: the vendor's ids are integers."""
    messages = _refused(write_csv(tmp_path / "a.csv", CSV_HEAD + "CUS1,C1,1\n"), key="cm_id")
    assert any("is not digits only" in m for m in messages), messages


def test_comma_inside_and_overlong_ids_are_refused(tmp_path: Path) -> None:
    """An id with a comma (two ids to the vendor) and one over 32 characters are refused."""
    text = CSV_HEAD + '1,"C1,C2",1\n2,' + "C" * 33 + ",1\n"
    messages = _refused(write_csv(tmp_path / "a.csv", text))
    assert any("contains a comma" in m for m in messages), messages
    assert any("33 characters long" in m and "at most 32" in m for m in messages), messages


def test_scientific_notation_ids_and_float_id_cells_are_refused(tmp_path: Path) -> None:
    """1.23E+18 in a CSV and a float-valued XLSX id cell are damaged ids."""
    assert any(
        "damaged" in m
        for m in _refused(write_csv(tmp_path / "a.csv", CSV_HEAD + "1.23E+18,C1,1\n"), key="cm_id")
    )
    rows: list[list[Cell]] = [HEADER, [1.5, "C1", 1]]
    assert any(
        "damaged" in m for m in _refused(write_xlsx(tmp_path / "a.xlsx", {"S": rows}), key="cm_id")
    )


# --- how the XLSX stores cells --------------------------------------------------------------


def test_a_date_formatted_id_cell_is_refused_naming_the_cell(tmp_path: Path) -> None:
    """An id cell Excel shows as a date (stored 46447) is refused at B7, saying to use Text."""
    workbook = xlsxwriter.Workbook(str(tmp_path / "a.xlsx"))
    sheet = workbook.add_worksheet("S")
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["客户编码", "客户ID", "数量"])
    for row in range(1, 6):
        sheet.write_row(row, 0, [f"C{row}", str(row), "1"])
    sheet.write_row(6, 0, ["C6"])
    sheet.write_number(6, 1, 46447, date)
    workbook.close()
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", tmp_path / "a.xlsx", key="cm_id", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert problem.message.startswith("cell B7 is a date in Excel (stored as the number 46447)")
    assert (problem.where.row, problem.where.column) == (7, "客户ID")
    assert problem.hint is not None
    assert "Format the column as Text" in problem.hint


def test_builtin_date_format_on_a_code_cell_is_refused(tmp_path: Path) -> None:
    """A code cell with Excel's built-in date format 14 is a date, not a code."""
    workbook = xlsxwriter.Workbook(str(tmp_path / "a.xlsx"))
    sheet = workbook.add_worksheet("S")
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, ["1"])
    sheet.write_number(1, 1, 46447, workbook.add_format({"num_format": 14}))
    workbook.close()
    messages = _refused(tmp_path / "a.xlsx")
    assert [m for m in messages if m.startswith("cell B2 is a date")], messages


def test_a_code_stored_as_a_number_is_refused_with_the_text_hint(tmp_path: Path) -> None:
    """7100 stored as a number in the code column (007100 lost its zeros) is refused."""
    rows: list[list[Cell]] = [HEADER, ["1", "007100", 1], ["2", 7100, 1]]
    with pytest.raises(InvalidInput) as excinfo:
        read_audience(
            "a", write_xlsx(tmp_path / "a.xlsx", {"S": rows}), key="cm_code", columns=COLS
        )
    (problem,) = problems_of(excinfo)
    assert "cell B3 holds the code as the number 7100" in problem.message
    assert (problem.where.row, problem.where.column) == (3, "客户编码")
    assert problem.hint is not None
    assert "leading zeros included" in problem.hint


def test_codes_as_text_with_leading_zeros_are_kept(tmp_path: Path) -> None:
    """A code column formatted as Text keeps 007100 exactly."""
    rows: list[list[Cell]] = [HEADER, ["1", "007100", 1]]
    aud = read_audience(
        "a", write_xlsx(tmp_path / "a.xlsx", {"S": rows}), key="cm_code", columns=COLS
    )
    assert aud.frame["cm_code"].to_list() == ["007100"]


def test_a_hidden_first_sheet_is_skipped_for_the_first_visible_one(tmp_path: Path) -> None:
    """Without `sheet`, the first visible sheet is read and the hidden one is named."""
    workbook = xlsxwriter.Workbook(str(tmp_path / "a.xlsx"))
    hidden = workbook.add_worksheet("old")
    hidden.write_row(0, 0, HEADER)
    hidden.write_row(1, 0, ["1", "HIDDEN1", "5"])
    hidden.hide()
    shown = workbook.add_worksheet("客户")
    shown.write_row(0, 0, HEADER)
    shown.write_row(1, 0, ["2", "SHOWN1", "1"])
    shown.activate()
    workbook.close()
    aud = read_audience("a", tmp_path / "a.xlsx", key="cm_code", columns=COLS)
    assert (aud.sheet, aud.skipped_sheets) == ("客户", ("old",))
    assert aud.frame["cm_code"].to_list() == ["SHOWN1"]
    named = read_audience("a", tmp_path / "a.xlsx", key="cm_code", columns=COLS, sheet="old")
    assert (named.frame["cm_code"].to_list(), named.skipped_sheets) == (["HIDDEN1"], ())


def _formula_workbook(path: Path, *, cached: bool) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("S")
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, ["1", "C1", "2"])
    sheet.write_row(2, 0, ["2", "C2"])
    sheet.write_formula(2, 2, "=1+2", None, 3)
    workbook.close()
    if not cached:
        rewrite_part(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace("<v>3</v>", ""))
    return path


def test_a_formula_cell_is_refused_by_default(tmp_path: Path) -> None:
    """A formula in a mapped column is refused, naming the cell C3 and the way out."""
    with pytest.raises(InvalidInput) as excinfo:
        read_audience(
            "a", _formula_workbook(tmp_path / "a.xlsx", cached=True), key="cm_code", columns=COLS
        )
    (problem,) = problems_of(excinfo)
    assert problem.message.startswith("cell C3 is a formula")
    assert (problem.where.row, problem.where.column) == (3, "数量")
    assert problem.hint is not None
    assert "formulas: cached" in problem.hint


def test_formulas_cached_uses_the_saved_values(tmp_path: Path) -> None:
    """With formulas: cached the value the file saved (3) is read."""
    path = _formula_workbook(tmp_path / "a.xlsx", cached=True)
    aud = read_audience("a", path, key="cm_code", columns=COLS, formulas="cached")
    assert aud.frame["qty"].to_list() == ["2", "3"]


def test_a_formula_without_a_saved_value_is_refused_even_when_cached(tmp_path: Path) -> None:
    """formulas: cached still refuses a formula the file holds no result for."""
    path = _formula_workbook(tmp_path / "a.xlsx", cached=False)
    messages = _refused(path, formulas="cached")
    assert messages == ["cell C3 is a formula with no saved result (`formulas: cached` needs one)"]


def test_an_error_cell_in_a_mapped_column_is_refused(tmp_path: Path) -> None:
    """A cell showing #N/A in a mapped column is refused."""
    path = _formula_workbook(tmp_path / "a.xlsx", cached=True)
    rewrite_part(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace('<c r="C3">', '<c r="C3" t="e">').replace(
            "<v>3</v>", "<v>#N/A</v>"
        ),
    )
    messages = _refused(path, formulas="cached")
    assert "cell C3 shows the error #N/A" in messages


# --- files ----------------------------------------------------------------------------------


def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    """A named pipe as the audience file is refused at once (opening it would block)."""
    fifo = tmp_path / "customers.csv"
    os.mkfifo(fifo)
    found: list[list[str]] = []
    reader = threading.Thread(target=lambda: found.append(_refused(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock the reader so the test process can end
        with fifo.open("w"):
            pass
    assert found == [["the audience file is a named pipe (FIFO), not a spreadsheet"]]


def test_a_folder_is_refused(tmp_path: Path) -> None:
    """A folder named like a spreadsheet is refused as a folder."""
    (tmp_path / "a.csv").mkdir()
    assert _refused(tmp_path / "a.csv") == ["the audience file is a folder, not a spreadsheet"]


@pytest.mark.parametrize("name", ["a.xlsx", "a.xls", "a"])
def test_a_password_protected_workbook_is_called_so(tmp_path: Path, name: str) -> None:
    """An encrypted workbook (a compound file with EncryptionInfo) is password-protected."""
    path = write_compound_file(tmp_path / name, ["EncryptionInfo", "EncryptedPackage"])
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert "password-protected" in problem.message
    assert problem.hint is not None
    assert "remove the password" in problem.hint


@pytest.mark.parametrize("name", ["a.xls", "a.xlsx"])
def test_a_legacy_xls_workbook_has_its_own_message(tmp_path: Path, name: str) -> None:
    """A compound file with a Workbook stream is an Excel 97-2003 workbook, whatever its suffix."""
    path = write_compound_file(tmp_path / name, ["Workbook"])
    assert _refused(path) == ["the file is an old Excel 97-2003 workbook (.xls)"]


def test_an_undecodable_byte_is_reported_on_its_line_in_a_utf8_file(tmp_path: Path) -> None:
    """A bad byte in data row 3 (line 4) of a UTF-8 file with Chinese text is at row 4."""
    data = (CSV_HEAD + "1,南京1,1\n2,上海2,1\n").encode("utf-8") + b"3,\xff\xfe,1\n4,C4,1\n"
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert problem.where.row == 4
    assert "reads as UTF-8 up to line 4" in problem.message


def test_an_undecodable_byte_is_reported_on_its_line_in_a_gbk_file(tmp_path: Path) -> None:
    """A bad byte on line 3 of a GBK file is reported at row 3, the file read as GB18030."""
    data = (CSV_HEAD + "1,南京1,1\n").encode("gbk") + b"2,\xff,1\n"
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    (problem,) = problems_of(excinfo)
    assert problem.where.row == 3
    assert "reads as GB18030/GBK up to line 3" in problem.message
