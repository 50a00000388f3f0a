"""``runner report`` on the terminal: the figures per voucher and where the files went."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from runner.summaries import ReportSummary, UsageFigures, to_json

__all__ = ["print_report"]

_HEADERS = (
    "granted",
    "used",
    "unused",
    "expired",
    "rate",
    "orders",
    "order amount",
    "discount",
    "amount/discount",
)


def _cells(figures: UsageFigures) -> list[str]:
    """A row's figures as the table shows them."""
    rate = "-" if figures.redemption_rate is None else f"{figures.redemption_rate:.1%}"
    per = "-" if figures.amount_per_discount is None else f"{figures.amount_per_discount:.2f}"
    counts = (figures.granted, figures.used, figures.unused, figures.expired)
    return [
        *map(str, counts),
        rate,
        str(figures.order_count),
        figures.order_amount,
        figures.discount,
        per,
    ]


def _table(summary: ReportSummary) -> Table:
    """One row per voucher, then the campaign's totals."""
    table = Table(title=f"campaign {summary.campaign}: redemption")
    table.add_column("voucher", no_wrap=True)
    for name in _HEADERS:
        table.add_column(name, justify="right")
    for voucher in summary.by_voucher:
        table.add_row(escape(voucher.key), *_cells(voucher))
    table.add_row("[b]all[/]", *_cells(summary.totals))
    return table


def print_report(summary: ReportSummary, *, as_json: bool) -> None:
    """The report as one JSON object, or as a table, its message and its files."""
    if as_json:
        print(to_json(summary))
        return
    console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)
    console.print(escape(f"ledger: {summary.ledger_file}"))
    console.print(_table(summary))
    console.print(escape(summary.message))
    for path in summary.files:
        console.print(f"  {escape(path)}")
