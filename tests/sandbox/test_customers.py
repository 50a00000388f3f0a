"""The customer registry: generated from a seed, or loaded from CSV/XLSX as text."""

from __future__ import annotations

from pathlib import Path

import pytest
import xlsxwriter

from runner.errors import InvalidInput, SheetError, UsageError
from runner.sandbox import COLUMNS, ManualClock, generate_customers, load_customers
from runner.sandbox.testing import running_sandbox

from .conftest import START, Api

ID_A, ID_B = "6856083179295188426", "8833956197749704288"
ROWS = [
    [ID_A, "CUS010043", "SRC-1", "新增的终端", "A", "陶瓷店", "华东", "重点", "南京"],
    [ID_B, "CUS010044", "", "老终端", "B", "超市", "华南", "", "上海"],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    lines = [",".join(COLUMNS)] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("客户")
    sheet.write_row(0, 0, COLUMNS)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    workbook.close()
    return path


def test_generated_customers_are_seeded_and_have_string_ids() -> None:
    """The same seed gives the same customers, with 19-digit string ids and unique codes."""
    first, again = list(generate_customers(20, 5)), list(generate_customers(20, 5))
    other = list(generate_customers(20, 6))
    assert first == again
    assert [c.id for c in first] != [c.id for c in other]
    assert all(isinstance(c.id, str) and len(c.id) == 19 for c in first)
    assert len({c.code for c in first}) == 20


def test_csv_with_bom_loads_every_column_as_text(tmp_path: Path) -> None:
    """A UTF-8 CSV with BOM loads with ids intact and empty cells as empty strings."""
    registry = load_customers(write_csv(tmp_path / "c.csv", ROWS))
    customer = registry.by_id(ID_A)
    assert customer is not None
    assert (customer.code, customer.name, customer.district) == ("CUS010043", "新增的终端", "南京")
    assert registry.by_source_code("SRC-1") == customer
    assert registry.by_code("CUS010044") is not None
    assert registry.by_code("CUS010044").label == ""  # type: ignore[union-attr]


def test_gbk_csv_loads(tmp_path: Path) -> None:
    """A CSV saved in GBK (as Excel in China does) loads with its Chinese names."""
    registry = load_customers(write_csv(tmp_path / "c.csv", ROWS, encoding="gbk"))
    assert registry.by_id(ID_B).name == "老终端"  # type: ignore[union-attr]


def test_xlsx_with_text_id_cells_loads(tmp_path: Path) -> None:
    """An XLSX whose ids are text cells loads with all 19 digits."""
    registry = load_customers(write_xlsx(tmp_path / "c.xlsx", ROWS))
    assert [c.id for c in registry] == [ID_A, ID_B]
    types = registry.catalogue("type")
    assert set(types) == {"陶瓷店", "超市"}
    assert all(len(ident) == 19 for ident in types.values())


def test_missing_required_column_names_the_header(tmp_path: Path) -> None:
    """A file without the code column is a SheetError at row 1 listing the columns."""
    path = tmp_path / "c.csv"
    path.write_text("id,name\n1,x\n", encoding="utf-8")
    with pytest.raises(SheetError) as caught:
        load_customers(path)
    assert "code" in caught.value.message
    assert caught.value.where.row == 1
    assert "source_code" in str(caught.value.hint)


def test_bad_rows_are_reported_with_row_and_column(tmp_path: Path) -> None:
    """Duplicate ids, non-digit ids and empty codes are each located by row and column."""
    rows = [ROWS[0], [ID_A, "X1", "", "", "", "", "", "", ""], ["6.85608E+18", "", *[""] * 7]]
    with pytest.raises(InvalidInput) as caught:
        load_customers(write_csv(tmp_path / "c.csv", rows))
    found = {(p.where.row, p.where.column) for p in caught.value.problems()}
    assert found == {(3, "id"), (4, "id"), (4, "code")}
    assert all(p.where.file == str(tmp_path / "c.csv") for p in caught.value.problems())


def test_unknown_suffix_and_missing_file_are_usage_errors(tmp_path: Path) -> None:
    """Only .csv and .xlsx are read; a missing file says so."""
    other = tmp_path / "c.txt"
    other.write_text("id,code\n", encoding="utf-8")
    with pytest.raises(UsageError, match="neither"):
        load_customers(other)
    with pytest.raises(UsageError, match="does not exist"):
        load_customers(tmp_path / "nope.csv")


def test_sandbox_serves_customers_from_a_file(tmp_path: Path) -> None:
    """A sandbox started on a customer file grants to and lists exactly those customers."""
    path = write_xlsx(tmp_path / "c.xlsx", ROWS)
    with running_sandbox(customers_file=path, clock=ManualClock(START)) as server:
        api = Api(server.base_url)
        voucher_id = api.create(cmId=None, cmCode="CUS010044")
        listed = api.ok("getCmInfos", {"voucher_id": voucher_id})
        api.ok("receiveVoucherInfo", {"voucherId": voucher_id, "cmId": ID_B})
        refused = api.refused(
            "receiveVoucherInfo", {"voucherId": voucher_id, "cmSourceCode": "SRC-1"}
        )
    assert listed == [{"id": ID_B, "code": "CUS010044", "name": "老终端"}]
    assert "范围" in refused[1]
