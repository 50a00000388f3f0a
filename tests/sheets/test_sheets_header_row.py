"""``header_row``: notes above the header are skipped, and rows keep the file's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.campaign import json_schema
from runner.errors import InvalidInput
from runner.sheets import ROW, AudienceTable, check_not_empty, read_audience
from tests.campaign.helpers import VALID, at, line_containing, load_text, problems, replace

from .helpers import BIG_ID, Cell, only, problems_of, write_csv, write_xlsx

COLS = {"cm_code": "客户编码", "qty": "数量"}
NOTES: list[Cell] = ["必填：客户编码（文本）", "每位客户几张券"]
HEADER: list[Cell] = ["客户编码", "数量"]


def read(path: Path, header_row: int) -> AudienceTable:
    """Read ``path`` as an audience keyed by cm_code, with the header looked for at header_row."""
    return read_audience("a", path, key="cm_code", columns=COLS, header_row=header_row)


def test_csv_note_line_is_skipped_and_lines_keep_their_numbers(tmp_path: Path) -> None:
    """With header_row 2 the note line is no customer, and rows are numbered by their line."""
    path = write_csv(tmp_path / "a.csv", "说明,每位客户几张券\n客户编码,数量\n007100,1\nCUS2,2\n")
    aud = read(path, 2)
    assert aud.frame["cm_code"].to_list() == ["007100", "CUS2"]
    assert aud.frame[ROW].to_list() == [3, 4]
    assert aud.header_row == 2


def test_csv_note_shorter_than_the_header_does_not_narrow_the_table(tmp_path: Path) -> None:
    """A one-cell note line above the header leaves every header column in the table."""
    path = write_csv(tmp_path / "a.csv", "请从第3行填写\n客户编码,客户名称,数量\nC1,南京店,2\n")
    aud = read_audience(
        "a", path, key="cm_code", columns={**COLS, "cm_name": "客户名称"}, header_row=2
    )
    assert aud.frame.select("cm_code", "cm_name", "qty").row(0) == ("C1", "南京店", "2")


def test_csv_error_below_the_notes_names_the_real_line(tmp_path: Path) -> None:
    """A customer without a key on line 5 is reported at row 5, not at a body index."""
    text = "说明,说明\n\n客户编码,数量\nC1,1\n,2\n"
    with pytest.raises(InvalidInput) as excinfo:
        read(write_csv(tmp_path / "a.csv", text), 2)
    (problem,) = problems_of(excinfo)
    assert problem.where.row == 5
    assert "row 5" in str(problem)


def test_csv_quoted_note_spanning_lines_is_skipped_whole(tmp_path: Path) -> None:
    """A note whose quoted cell spans lines 1-2 is skipped; the header on line 3 is found."""
    text = '"第一行\n第二行",x\n客户编码,数量\nC1,1\n'
    aud = read(write_csv(tmp_path / "a.csv", text), 2)
    assert aud.header_row == 3
    assert aud.frame[ROW].to_list() == [4]


def test_csv_leading_blank_lines_are_skipped_by_default(tmp_path: Path) -> None:
    """Blank lines (and Excel's rows of commas) above the header are skipped with header_row 1."""
    aud = read(write_csv(tmp_path / "a.csv", "\n,,\n客户编码,数量\nC1,1\n"), 1)
    assert aud.header_row == 3
    assert aud.frame[ROW].to_list() == [4]


def test_xlsx_note_row_is_skipped_and_rows_keep_excel_numbers(tmp_path: Path) -> None:
    """With header_row 2 the note row is no customer, and rows are numbered as Excel shows them."""
    path = write_xlsx(tmp_path / "a.xlsx", {"客户": [NOTES, HEADER, [BIG_ID, 1], ["007100", 2]]})
    aud = read(path, 2)
    assert aud.frame["cm_code"].to_list() == [BIG_ID, "007100"]
    assert aud.frame[ROW].to_list() == [3, 4]
    assert aud.header_row == 2


def test_xlsx_error_below_the_notes_names_the_excel_row(tmp_path: Path) -> None:
    """A code Excel stored as a number on row 4 is reported at row 4, cell A4, of the sheet."""
    rows: list[list[Cell]] = [NOTES, HEADER, ["C1", 1], [6.85608e18, 1]]
    with pytest.raises(InvalidInput) as excinfo:
        read(write_xlsx(tmp_path / "a.xlsx", {"客户": rows}), 2)
    (problem,) = only(problems_of(excinfo), "as the number")
    assert problem.where.row == 4
    assert "cell A4 " in problem.message


def test_xlsx_sheet_starting_lower_counts_header_row_from_excel_row_1(tmp_path: Path) -> None:
    """A sheet whose first value is on row 3 has its notes there and its header on row 4."""
    path = write_xlsx(tmp_path / "a.xlsx", {"客户": [NOTES, HEADER, ["C1", 1]]}, first_row=2)
    aud = read(path, 4)
    assert aud.header_row == 4
    assert aud.frame[ROW].to_list() == [5]


def test_a_blank_header_row_means_the_next_row_with_values(tmp_path: Path) -> None:
    """header_row on an empty row takes the first row with values below it as the header."""
    path = write_xlsx(tmp_path / "a.xlsx", {"客户": [NOTES, [None, None], HEADER, ["C1", 1]]})
    aud = read(path, 2)
    assert aud.header_row == 3
    assert aud.frame["cm_code"].to_list() == ["C1"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_header_row_beyond_the_data_is_located_at_the_campaign_key(
    tmp_path: Path, suffix: str
) -> None:
    """A header_row below every row with a value names the key and the last row with one."""
    path = tmp_path / f"a{suffix}"
    if suffix == ".csv":
        write_csv(path, "客户编码,数量\nC1,1\n")
    else:
        write_xlsx(path, {"客户": [HEADER, ["C1", 1]]})
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS, header_row=5, yaml_path="audiences.a")
    (problem,) = problems_of(excinfo)
    assert problem.where.yaml_path == "audiences.a.header_row"
    assert problem.where.file == str(path)
    assert "row 5" in problem.message
    assert "last row with a value is row 2" in problem.message


def test_missing_header_with_header_row_says_where_it_was_read(tmp_path: Path) -> None:
    """When the header is not on header_row (the notes were deleted), the hint says so."""
    path = write_xlsx(tmp_path / "a.xlsx", {"客户": [HEADER, ["C1", 1], ["C2", 2]]})
    with pytest.raises(InvalidInput) as excinfo:
        read(path, 2)
    problem = only(problems_of(excinfo), "no column '客户编码'")[0]
    assert problem.where.row == 2
    assert problem.hint is not None
    assert "header_row: 2" in problem.hint


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_header_without_customers_is_reported_at_the_header(tmp_path: Path, suffix: str) -> None:
    """check_not_empty locates an audience without customers at its file, sheet and header row."""
    path = tmp_path / f"a{suffix}"
    if suffix == ".csv":
        write_csv(path, "说明,说明\n客户编码,数量\n,\n")
    else:
        write_xlsx(path, {"客户": [NOTES, HEADER]})
    aud = read(path, 2)
    assert aud.frame.height == 0
    (problem,) = check_not_empty(aud)
    assert (problem.where.file, problem.where.row) == (str(path), 2)
    assert problem.where.sheet == ("客户" if suffix == ".xlsx" else None)
    assert "no customer rows" in problem.message
    assert problem.hint is not None
    assert "from row 3" in problem.hint


def test_check_not_empty_accepts_an_audience_with_a_customer(tmp_path: Path) -> None:
    """An audience with one customer row has nothing to report."""
    assert check_not_empty(read(write_csv(tmp_path / "a.csv", "客户编码,数量\nC1,1\n"), 1)) == []


def test_campaign_header_row_defaults_to_1_and_is_read(tmp_path: Path) -> None:
    """An audience without header_row has 1; header_row: 2 is kept as the number 2."""
    assert load_text(tmp_path, VALID).audiences["east"].header_row == 1
    text = replace(VALID, "    key: cm_code\n", "    header_row: 2\n    key: cm_code\n")
    assert load_text(tmp_path, text).audiences["east"].header_row == 2


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_campaign_header_row_below_1_is_refused_at_its_line(tmp_path: Path, value: str) -> None:
    """header_row must be a whole number from 1: anything else is located at its key and line."""
    text = replace(VALID, "    key: cm_code\n", f"    header_row: {value}\n    key: cm_code\n")
    problem = at(problems(tmp_path, text), "audiences.east.header_row")
    assert problem.where.line == line_containing(text, "header_row:")


def test_campaign_schema_documents_header_row() -> None:
    """The JSON Schema gives header_row as an integer from 1 with a description."""
    prop = json_schema()["$defs"]["AudienceSpec"]["properties"]["header_row"]
    assert (prop["type"], prop["minimum"], prop["default"]) == ("integer", 1, 1)
    assert prop["description"]
