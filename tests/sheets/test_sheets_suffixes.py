"""The one list of audience file suffixes: what the campaign accepts is what sheets reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from runner.campaign import AudienceSpec
from runner.errors import InvalidInput
from runner.sheets import CSV_SUFFIXES, SPREADSHEET_SUFFIXES, is_csv, read_audience


def _spec(file: str) -> AudienceSpec:
    return AudienceSpec.model_validate(
        {"file": file, "key": "cm_code", "columns": {"cm_code": "客户编码"}}
    )


@pytest.mark.parametrize("suffix", sorted(SPREADSHEET_SUFFIXES))
def test_campaign_accepts_every_spreadsheet_suffix(suffix: str) -> None:
    """An audience file with any suffix of SPREADSHEET_SUFFIXES (any case) passes the campaign."""
    spec = _spec(f"customers{suffix.upper()}")
    assert spec.kind == ("csv" if suffix in CSV_SUFFIXES else "xlsx")


def test_campaign_refuses_a_suffix_sheets_would_not_read() -> None:
    """A .txt audience is refused by the campaign, naming the known suffixes."""
    with pytest.raises(ValidationError, match=r"\.csv, \.xls, \.xlsm, \.xlsx"):
        _spec("customers.txt")


def test_txt_file_is_not_read_as_csv(tmp_path: Path) -> None:
    """read_audience refuses a .txt file holding CSV text, as the campaign does."""
    path = tmp_path / "customers.txt"
    path.write_text("客户编码\nCUS1\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_audience("a", path, key="cm_code", columns={"cm_code": "客户编码"})
    (problem,) = caught.value.problems()
    assert "'.txt'" in problem.message


def test_is_csv_ignores_case_and_folders() -> None:
    """is_csv looks only at the file's own suffix, in any case."""
    assert is_csv("east/Customers.CSV")
    assert not is_csv("east.csv/customers.xlsx")
