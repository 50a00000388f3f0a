"""The report's figures as the typed result ``runner report`` returns (and ``--json`` prints)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from runner.report._figures import FIGURE_COLUMNS, ReportFigures
from runner.summaries import (
    ReportDay,
    ReportSegment,
    ReportSummary,
    ReportVoucher,
    TenantView,
    UsageFigures,
)

__all__ = ["NO_USAGE", "USAGE", "money", "report_summary"]

#: What the report says while no instance was used, and once one was.
NO_USAGE = "no voucher was used yet"
USAGE = "{used} of {granted} granted voucher(s) used"
_CENT = Decimal("0.01")
_MONEY_FIELDS = ("order_amount", "discount", "cumulative_discount")


def money(value: object) -> str:
    """Money as text with two decimals (``None`` is ``0.00``)."""
    amount = Decimal(0) if value is None else Decimal(str(value))
    return str(amount.quantize(_CENT, rounding=ROUND_HALF_UP))


def _fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A frame row's values for a model: money as text, days as ISO text."""
    out = dict(row)
    for name in _MONEY_FIELDS:
        if name in out:
            out[name] = money(out[name])
    if "date" in out:
        out["date"] = str(out["date"])
    return out


def _figures(row: Mapping[str, Any]) -> dict[str, Any]:
    """Only the figure fields of a row."""
    return {name: _fields(row)[name] for name in FIGURE_COLUMNS}


def _vouchers(frame: pl.DataFrame) -> list[ReportVoucher]:
    """The vouchers' rows as models, in campaign order."""
    return [
        ReportVoucher(
            key=row["voucher_key"],
            remote_id=row["voucher_id"],
            name=row["voucher_name"],
            **_figures(row),
        )
        for row in frame.iter_rows(named=True)
    ]


def _segments(frame: pl.DataFrame, column: str | None = None) -> list[ReportSegment]:
    """Segment rows; with *column*, that column's values are the segment values."""
    rows = frame.iter_rows(named=True)
    if column is None:
        return [ReportSegment(column=r["segment"], value=r["value"], **_figures(r)) for r in rows]
    return [ReportSegment(column=column, value=r[column], **_figures(r)) for r in rows]


def report_summary(
    figures: ReportFigures,
    *,
    campaign: str,
    ledger_file: str,
    tenant: TenantView | None,
    generated_at: str,
    out_dir: str,
    files: Sequence[str],
) -> ReportSummary:
    """The typed result: every figure of *figures*, where the files went, what it says."""
    totals = UsageFigures(**_figures(figures.totals.row(0, named=True)))
    message = USAGE.format(used=totals.used, granted=totals.granted)
    return ReportSummary(
        campaign=campaign,
        ledger_file=ledger_file,
        tenant=tenant,
        generated_at=generated_at,
        any_usage=figures.any_usage,
        message=message if figures.any_usage else NO_USAGE,
        totals=totals,
        by_voucher=_vouchers(figures.vouchers),
        by_audience=_segments(figures.audiences, "audience"),
        segment_columns=list(figures.segment_columns),
        by_segment=_segments(figures.segments),
        by_day=[ReportDay(**_fields(row)) for row in figures.days.iter_rows(named=True)],
        out_dir=out_dir,
        files=list(files),
    )
