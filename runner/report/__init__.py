"""The redemption report (``runner report``): how the campaign's vouchers were used.

- :mod:`._frames`: the remote instances (``queryVoucherUsedInfo``) joined with polars to
  the ledger's jobs and to the audiences' own columns: one row per instance;
- :mod:`._figures`: every figure, computed from that frame alone (pure), with their
  exact definitions;
- :mod:`._summary`: the figures as the typed :class:`~runner.summaries.ReportSummary`;
- :mod:`._tables`: the tables every format shows, with Chinese and English headers;
- :mod:`._xlsx`, :mod:`._html` (with :mod:`._svg`), :mod:`._csv`: the formats;
  :mod:`._write` writes their files atomically; :mod:`._console` prints the result.

The use case that reads the ledger and the API is :mod:`runner.ops.report`.
"""

from __future__ import annotations

from runner.report._console import print_report
from runner.report._figures import EMPTY_VALUE, ReportFigures, compute_figures, figures
from runner.report._frames import (
    NOT_IN_LEDGER,
    instances_frame,
    jobs_frame,
    segment_columns,
    segment_labels,
    usage_frame,
    vouchers_frame,
)
from runner.report._summary import NO_USAGE, money, report_summary
from runner.report._tables import Table, report_tables
from runner.report._write import FORMATS, HTML_FILE, XLSX_FILE, report_files, write_report

__all__ = [
    "EMPTY_VALUE",
    "FORMATS",
    "HTML_FILE",
    "NOT_IN_LEDGER",
    "NO_USAGE",
    "XLSX_FILE",
    "ReportFigures",
    "Table",
    "compute_figures",
    "figures",
    "instances_frame",
    "jobs_frame",
    "money",
    "print_report",
    "report_files",
    "report_summary",
    "report_tables",
    "segment_columns",
    "segment_labels",
    "usage_frame",
    "vouchers_frame",
    "write_report",
]
