"""check_quantity: digits-only quantities pass, everything else is located and explained."""

from __future__ import annotations

from pathlib import Path

from runner.sheets import AudienceTable, check_quantity, read_audience

from .helpers import Cell, write_csv, write_xlsx


def audience(tmp_path: Path, quantities: list[str]) -> AudienceTable:
    lines = ["客户编码,数量"] + [f"C{i},{q}" for i, q in enumerate(quantities)]
    path = write_csv(tmp_path / "q.csv", "\n".join(lines) + "\n")
    return read_audience("q", path, key="cm_code", columns={"cm_code": "客户编码", "qty": "数量"})


def test_digit_only_quantities_pass(tmp_path: Path) -> None:
    """0, 3, 03 and 12 are accepted (zero means no grant)."""
    assert check_quantity(audience(tmp_path, ["0", "3", "03", "12"]), "qty") == []


def test_every_bad_quantity_is_reported_with_row_and_column(tmp_path: Path) -> None:
    """Decimals, negatives, signs, words, full-width digits and empties each give one problem."""
    aud = audience(tmp_path, ["1", "3.0", "-1", "+2", "三", "３", "", "2 箱"])
    problems = check_quantity(aud, "qty", yaml_path="audiences.q")
    assert [p.where.row for p in problems] == [3, 4, 5, 6, 7, 8, 9]
    assert {p.where.column for p in problems} == {"数量"}
    assert {p.where.file for p in problems} == {str(aud.path)}
    assert "negative" in problems[1].message
    assert "empty" in problems[5].message
    assert all(p.hint for p in problems)


def test_numeric_xlsx_quantities_pass_and_decimals_do_not(tmp_path: Path) -> None:
    """Quantities stored as numbers in XLSX read as "2"; a stored 1.5 is reported."""
    rows: list[list[Cell]] = [["客户编码", "数量"], ["C1", 2], ["C2", 1.5]]
    path = write_xlsx(tmp_path / "q.xlsx", {"S": rows})
    aud = read_audience("q", path, key="cm_code", columns={"cm_code": "客户编码", "qty": "数量"})
    problems = check_quantity(aud, "qty")
    assert [(p.where.sheet, p.where.row) for p in problems] == [("S", 3)]


def test_unmapped_quantity_column_is_a_problem(tmp_path: Path) -> None:
    """Asking for a column the audience does not map returns a problem at the yaml path."""
    problems = check_quantity(audience(tmp_path, ["1"]), "count", yaml_path="vouchers.v.qty")
    assert len(problems) == 1
    assert problems[0].where.yaml_path == "vouchers.v.qty"
    assert "count" in problems[0].message
