"""The report's files: CSVs with a BOM that agree with the summary, a workbook whose ids
are text, formula-looking cells neutralised in both, and a page that fetches nothing."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl

from runner.report._xlsx import SUMMARY_SHEET

from .conftest import TRICKY_DISTRICT, TRICKY_NAMES, Reported

ID_TEXT = re.compile(r"^[0-9]{19}$")
BOM = b"\xef\xbb\xbf"


def _out(reported: Reported) -> Path:
    """The folder the report was written to."""
    return Path(reported.summary.out_dir)


def _csv(reported: Reported, table: str) -> pl.DataFrame:
    """One of the report's CSVs, every column as text."""
    return pl.read_csv(_out(reported) / f"report-{table}.csv", infer_schema=False)


def test_every_csv_starts_with_a_bom_and_holds_its_table(reported: Reported) -> None:
    """Six CSVs, each UTF-8 with a BOM; the vouchers CSV holds the summary's figures."""
    names = sorted(p.name for p in _out(reported).glob("report-*.csv"))
    tables = ("audiences", "days", "instances", "segments", "totals", "vouchers")
    assert names == [f"report-{t}.csv" for t in tables]
    for name in names:
        assert (_out(reported) / name).read_bytes().startswith(BOM), name
    rows = _csv(reported, "vouchers").to_dicts()
    for row, voucher in zip(rows, reported.summary.by_voucher, strict=True):
        assert row["voucher_key"] == voucher.key
        assert row["voucher_id"] == voucher.remote_id
        assert (row["used"], row["expired"]) == (str(voucher.used), str(voucher.expired))
        assert (row["order_amount"], row["discount"]) == (voucher.order_amount, voucher.discount)


def test_instances_csv_has_one_row_per_remote_instance_with_ids_as_text(
    reported: Reported,
) -> None:
    """The instances CSV lists exactly the sandbox's instances; every id is 19 digits."""
    rows = _csv(reported, "instances")
    assert sorted(rows["instance_id"]) == sorted(i["id"] for i in reported.instances)
    for name in ("voucher_id", "instance_id", "cm_id"):
        assert all(ID_TEXT.match(v) for v in rows[name]), name
    used = rows.filter(pl.col("status") == "used")
    assert all(ID_TEXT.match(v) for v in used["order_id"])


def test_formula_looking_cells_are_quoted_in_csv(reported: Reported) -> None:
    """Customer names and a district that start with = + - @ get a leading apostrophe."""
    names = set(_csv(reported, "instances")["customer_name"])
    assert {"'" + n for n in TRICKY_NAMES} <= names
    assert not names & set(TRICKY_NAMES)
    districts = set(_csv(reported, "segments")["value"])
    assert "'" + TRICKY_DISTRICT in districts
    assert TRICKY_DISTRICT not in districts


def test_workbook_has_bilingual_sheets_and_ids_as_text(reported: Reported) -> None:
    """A summary sheet and the detail sheets; ids read back as the exact 19-digit text."""
    path = _out(reported) / "report.xlsx"
    instances = pl.read_excel(path, sheet_name="券实例明细 instances")
    assert instances.height == len(reported.instances)
    for header in ("优惠券ID voucher id", "券实例ID instance id", "客户ID customer id"):
        assert instances.schema[header] == pl.String, header
        assert all(ID_TEXT.match(v) for v in instances[header]), header
    assert sorted(instances["券实例ID instance id"]) == sorted(i["id"] for i in reported.instances)
    summary = pl.read_excel(path, sheet_name=SUMMARY_SHEET, has_header=False)
    labels = summary.get_column(summary.columns[0]).to_list()
    assert "已发放 granted" in labels
    granted_row = labels.index("已发放 granted")
    assert summary.row(granted_row)[1] == str(reported.summary.totals.granted)


def _sheet_xml(path: Path) -> dict[str, str]:
    """Every XML part of a workbook, by its name in the zip."""
    with zipfile.ZipFile(path) as book:
        return {n: book.read(n).decode() for n in book.namelist() if n.endswith(".xml")}


def test_formula_looking_cells_are_text_with_a_quote_prefix_in_xlsx(reported: Reported) -> None:
    """No cell of the workbook is a formula; the tricky names are kept exactly, as text
    with Excel's quote prefix."""
    xml = _sheet_xml(_out(reported) / "report.xlsx")
    sheets = {n: x for n, x in xml.items() if n.startswith("xl/worksheets/")}
    assert not any("<f>" in x or "<f " in x for x in sheets.values())
    quoted = [m.start() for m in re.finditer(r"<xf [^>]*quotePrefix=\"1\"", xml["xl/styles.xml"])]
    assert quoted, "no quote-prefix style in the workbook"
    cell_xfs = xml["xl/styles.xml"].split("<cellXfs")[1].split("</cellXfs>")[0]
    index = [n for n, xf in enumerate(re.findall(r"<xf [^>]*>", cell_xfs)) if "quotePrefix" in xf]
    styled = sum(
        len(re.findall(rf'<c r="[A-Z]+\d+" s="{i}" t="s"', x))
        for i in index
        for x in sheets.values()
    )
    assert styled >= len(TRICKY_NAMES) + 1  # the names, and the district at least once
    strings = xml["xl/sharedStrings.xml"]
    assert all(name.replace('"', "&quot;") in strings for name in TRICKY_NAMES[1:])


def test_the_page_is_self_contained(reported: Reported) -> None:
    """report.html loads nothing: no script, no link, no src, no url(), a strict CSP."""
    page = (_out(reported) / "report.html").read_text("utf-8")
    assert page.startswith("<!doctype html>")
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page
    for banned in ("<script", "<link", "src=", "href=", "url(", "@import", "@font-face"):
        assert banned not in page, banned
    assert page.count('class="chart"') >= 4
