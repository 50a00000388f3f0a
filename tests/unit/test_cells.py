"""Formula-looking text is neutralised for spreadsheets; everything else is left as is."""

from __future__ import annotations

import polars as pl
import pytest

from runner.outputs.cells import excel_safe, excel_safe_frame, needs_quote


@pytest.mark.parametrize("text", ["=1+1", "+86 138", "-2", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_starts_get_an_apostrophe(text: str) -> None:
    """Each character a spreadsheet reads as the start of a formula is quoted."""
    assert needs_quote(text)
    assert excel_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["CUS010001", "满100减10", "1=1", "", " =1", 12, None, -3])
def test_other_values_are_unchanged(value: object) -> None:
    """Text that does not start like a formula, and non-text values, pass through."""
    assert not needs_quote(value)
    assert excel_safe(value) == value


def test_a_frame_is_neutralised_in_its_text_columns_only() -> None:
    """Every text column is quoted where needed; numbers and nulls stay as they are."""
    frame = pl.DataFrame({"name": ["=HYPERLINK(1)", "shop", None], "n": [-1, 2, 3]})
    safe = excel_safe_frame(frame)
    assert safe["name"].to_list() == ["'=HYPERLINK(1)", "shop", None]
    assert safe["n"].to_list() == [-1, 2, 3]
    assert safe.schema == frame.schema
