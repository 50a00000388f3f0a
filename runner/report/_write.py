"""Writing the report's files into one folder, each replaced whole (never half-written)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from runner.outputs.files import make_directory, write_atomically
from runner.report._csv import csv_bytes, csv_name
from runner.report._html import html_page
from runner.report._tables import Table
from runner.report._xlsx import xlsx_bytes
from runner.summaries import ReportSummary

__all__ = ["FORMATS", "HTML_FILE", "XLSX_FILE", "report_files", "write_report"]

#: The formats ``--format`` may name, in the order their files are written.
FORMATS: tuple[str, ...] = ("xlsx", "html", "csv")
XLSX_FILE = "report.xlsx"
HTML_FILE = "report.html"
_WHAT = "the report"


def report_files(directory: Path, formats: Collection[str], tables: Sequence[Table]) -> list[Path]:
    """The files :func:`write_report` writes for *formats*, in order."""
    files: list[Path] = []
    if "xlsx" in formats:
        files.append(directory / XLSX_FILE)
    if "html" in formats:
        files.append(directory / HTML_FILE)
    if "csv" in formats:
        files += [directory / csv_name(table) for table in tables]
    return files


def _info(summary: ReportSummary) -> list[tuple[str, str]]:
    """The label/value rows at the top of the workbook's summary sheet."""
    return [
        ("活动 campaign", summary.campaign),
        ("生成于 generated at", summary.generated_at),
        ("说明 status", summary.message),
        ("台账 ledger", summary.ledger_file),
    ]


def write_report(
    directory: Path,
    formats: Collection[str],
    tables: Sequence[Table],
    summary: ReportSummary,
    labels: Mapping[str, str],
) -> None:
    """Write the files of *formats* into *directory* (made if need be), atomically one by
    one; :class:`~runner.errors.StateDirUnusable` names what cannot be written."""
    make_directory(directory)
    if "xlsx" in formats:
        write_atomically(directory / XLSX_FILE, xlsx_bytes(tables, _info(summary)), what=_WHAT)
    if "html" in formats:
        page = html_page(summary, labels).encode("utf-8")
        write_atomically(directory / HTML_FILE, page, what=_WHAT)
    if "csv" in formats:
        for table in tables:
            write_atomically(directory / csv_name(table), csv_bytes(table), what=_WHAT)
