"""The report as CSV files, one per table: ``report-<table>.csv``, UTF-8 with a BOM.

Headers are the field names (as in ``--json``); money is text with two decimals, rates
and ratios are numbers, days are ``yyyy-MM-dd``, ids stay text, and text that Excel
would read as a formula is neutralised (:func:`runner.outputs.cells.excel_safe_frame`).
"""

from __future__ import annotations

import io

import polars as pl

from runner.outputs.cells import excel_safe_frame
from runner.report._tables import Table

__all__ = ["csv_bytes", "csv_name", "money_text"]


def money_text(expr: pl.Expr) -> pl.Expr:
    """A decimal money column as text with two decimals (``12.50``)."""
    return expr.round(2).cast(pl.Decimal(38, 2)).cast(pl.String)


def csv_name(table: Table) -> str:
    """The file name of *table*'s CSV."""
    return f"report-{table.slug}.csv"


def _as_text(table: Table) -> pl.DataFrame:
    """The table with money as text and days as ISO dates."""
    frame = table.frame
    return frame.with_columns(
        *(money_text(pl.col(c.name)) for c in table.columns if c.kind == "money"),
        *(pl.col(c.name).cast(pl.String) for c in table.columns if c.kind == "date"),
    )


def csv_bytes(table: Table) -> bytes:
    """*table* as CSV with a UTF-8 BOM, formula-looking text neutralised."""
    buffer = io.BytesIO()
    excel_safe_frame(_as_text(table)).write_csv(buffer, include_bom=True)
    return buffer.getvalue()
