"""Finding the mapped headers: repeated ones, headers below a title, a file name's case."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import InvalidInput, Problem
from runner.sheets import read_audience

from .helpers import problems_of, write_csv, write_xlsx

COLS = {"cm_code": "客户编码", "qty": "数量"}
ROWS = "C1,1\nC2,2\n"


def _problems(path: Path, **kwargs: object) -> list[Problem]:
    """The problems reading ``path`` (keyed by cm_code, COLS mapped) raises; it must raise."""
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS, **kwargs)  # type: ignore[arg-type]
    return problems_of(excinfo)


def test_a_repeated_mapped_header_in_a_csv_names_both_positions_and_the_row(
    tmp_path: Path,
) -> None:
    """A second 数量 column is refused, naming columns 2 and 3 of the header line."""
    path = write_csv(tmp_path / "a.csv", "客户编码,数量,数量\nC1,1,5\n")
    (problem,) = _problems(path)
    expected = "header '数量' (for qty) appears in 2 columns of row 1: columns 2 and 3"
    assert problem.message == expected
    assert (problem.where.row, problem.where.column) == (1, "数量")


def test_a_repeated_mapped_header_in_a_workbook_names_both_letters(tmp_path: Path) -> None:
    """In a workbook the repeated header's columns are named by their letters, on its row."""
    rows = [["说明"], ["客户编码", "备注", "数量", "数量"], ["C1", "x", 1, 5]]
    path = write_xlsx(tmp_path / "a.xlsx", {"客户": rows}, first_col=1)
    (problem,) = _problems(path, header_row=2)
    assert "appears in 2 columns of row 2: columns D and E" in problem.message
    assert problem.where.sheet == "客户"


def test_a_repeated_header_that_is_not_mapped_is_fine(tmp_path: Path) -> None:
    """Two 备注 columns that no mapping names are read without a problem."""
    path = write_csv(tmp_path / "a.csv", "客户编码,备注,数量,备注\nC1,a,1,b\n")
    table = read_audience("a", path, key="cm_code", columns=COLS)
    assert table.frame.get_column("qty").to_list() == ["1"]


def test_headers_below_a_title_row_get_a_header_row_hint(tmp_path: Path) -> None:
    """With a title on line 1 and the headers on line 3, the hint says `header_row: 3`."""
    path = write_csv(tmp_path / "a.csv", "春季活动客户名单,\n说明,\n客户编码,数量\n" + ROWS)
    problems = _problems(path)
    assert [p.where.row for p in problems] == [1, 1]
    assert all("`header_row: 3`" in str(p.hint) for p in problems), problems


def test_a_workbook_title_above_the_headers_gets_a_header_row_hint(tmp_path: Path) -> None:
    """A workbook's title row above the headers: the hint names Excel's row 2."""
    rows = [["客户名单"], ["客户编码", "数量"], ["C1", 1]]
    path = write_xlsx(tmp_path / "a.xlsx", {"客户": rows})
    problems = _problems(path)
    assert all("`header_row: 2`" in str(p.hint) for p in problems), problems


def test_headers_far_below_the_header_row_get_no_header_row_hint(tmp_path: Path) -> None:
    """Only the first rows are searched: headers on line 13 are not suggested."""
    notes = "".join(f"说明{n},\n" for n in range(12))
    path = write_csv(tmp_path / "a.csv", notes + "客户编码,数量\n" + ROWS)
    problems = _problems(path)
    assert problems
    assert not any("header_row" in str(p.hint) for p in problems), problems


def test_a_row_holding_only_some_missing_headers_is_not_suggested(tmp_path: Path) -> None:
    """A row below holding 客户编码 but not 数量 is no header row: no suggestion."""
    path = write_csv(tmp_path / "a.csv", "编码,件数\n客户编码,1\n")
    problems = _problems(path)
    assert len(problems) == 2
    assert not any("header_row" in str(p.hint) for p in problems), problems


def test_a_file_name_differing_in_case_gets_a_did_you_mean(tmp_path: Path) -> None:
    """Customers.CSV, missing next to customers.csv: the hint names the file that exists."""
    write_csv(tmp_path / "customers.csv", "客户编码,数量\n" + ROWS)
    (problem,) = _problems(tmp_path / "Customers.CSV")
    assert "No such file or directory" in problem.message
    assert "Did you mean 'customers.csv'? File names are case-sensitive" in str(problem.hint)


def test_a_missing_file_with_nothing_alike_gets_no_did_you_mean(tmp_path: Path) -> None:
    """A missing file with no look-alike in its folder gets the plain hint."""
    write_csv(tmp_path / "orders.csv", "客户编码,数量\n" + ROWS)
    (problem,) = _problems(tmp_path / "customers.csv")
    assert "Did you mean" not in str(problem.hint)
