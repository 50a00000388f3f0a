"""Cells a spreadsheet must show as typed: text that Excel would run as a formula is defused.

A cell of a CSV or XLSX file that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return, which some spreadsheets skip before one of those) is read by Excel,
LibreOffice and WPS as a formula: a customer named ``=HYPERLINK(...)`` in a spreadsheet
would become a link, or worse, in a file the runner writes. Such text is *neutralised*:

- in a CSV, :func:`excel_safe` prefixes it with an apostrophe (``'=1+1``), which Excel
  shows as the text ``=1+1``; :func:`excel_safe_frame` does that to every text column;
- in an XLSX, the cell is written as text with Excel's own "quote prefix" cell format
  (what typing an apostrophe does), so it shows the exact text and editing it keeps it
  text: :func:`needs_quote` tells which cells need that format.
"""

from __future__ import annotations

import polars as pl

__all__ = ["FORMULA_STARTS", "excel_safe", "excel_safe_frame", "needs_quote"]

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"
_FORMULA_PATTERN = "^[=+\\-@\t\r]"


def needs_quote(value: object) -> bool:
    """True for text that a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def excel_safe(value: object) -> object:
    """The value for a CSV cell: formula-looking text gets a leading apostrophe."""
    if needs_quote(value):
        return _QUOTE + str(value)
    return value


def excel_safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """*frame* with :func:`excel_safe` applied to every text column (others unchanged)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(_FORMULA_PATTERN))
        .then(pl.lit(_QUOTE) + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )
