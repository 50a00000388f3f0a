"""XLSX workbooks of large tables, written in seconds: polars builds the sheet XML.

A general writer (xlsxwriter, which ``polars.DataFrame.write_excel`` uses) spends about
0.1 ms of Python per row: 100 s for a million jobs, most of ``runner plan``. Here each
sheet's XML is built column by column with polars string expressions, a chunk of rows
at a time, and streamed into the zip, so a sheet of 100,000 rows takes a fraction of a
second and memory stays flat.

What a sheet holds (:func:`xlsx_bytes`):

- text cells are inline strings formatted as Text (number format ``@``): an id stays
  the text it is, also after editing, and a value such as ``=1+1`` is shown, never run;
- integer and decimal columns are numbers; a null is an empty cell;
- the header row is bold and frozen, and every column is as wide as its longest value
  (up to a cap), computed for all rows at once;
- characters XML cannot hold (control characters) are written as Excel's ``_xHHHH_``
  escapes, as Excel itself does; text beyond :data:`CELL_MAX_CHARS` (a voucher's list of
  90,000 customer codes) is cut with a note saying so.

:data:`EXCEL_MAX_ROWS` is Excel's limit of rows per sheet, the header included;
:func:`xlsx_bytes` refuses a frame beyond it (callers cut their tables first, see
:mod:`runner.outputs.preview` and :mod:`runner.outputs.results`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO
from xml.sax.saxutils import escape

import polars as pl

from runner.sheets.celltypes import column_letters as column_letter

__all__ = ["CELL_MAX_CHARS", "EXCEL_MAX_ROWS", "Sheet", "column_letter", "xlsx_bytes"]

EXCEL_MAX_ROWS = 1_048_576
#: The most characters an Excel cell holds; longer text is cut, ending in _CUT_NOTE.
CELL_MAX_CHARS = 32_767
_CUT_NOTE = " … (cut here: an Excel cell holds at most 32,767 characters)"
_CHUNK_ROWS = 50_000
_MAX_WIDTH = 60.0
_MIN_WIDTH = 6.0
_SHEET_NAME_MAX = 31
_BAD_NAME_CHARS = set("[]:*?/\\")
# Characters an XML 1.0 document cannot hold, which Excel writes as _xHHHH_.
_CONTROL = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + ["\ufffe", "\uffff"]
_CONTROL_PATTERN = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _CONTROL) + "]"
_ESCAPE_LIKE = r"_(x[0-9A-Fa-f]{4}_)"  # literal text that Excel would read as an escape

_NS = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STYLES = (
    _HEAD + '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
    'applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_HEADER_STYLE = 1
_TEXT_STYLE = 2
_NUMERIC = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name (at most 31 characters, none of ``[]:*?/\\``) and table;
    ``filter``: the header row gets Excel's filter buttons."""

    name: str
    frame: pl.DataFrame
    filter: bool = True

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > _SHEET_NAME_MAX or _BAD_NAME_CHARS & set(self.name):
            raise ValueError(f"{self.name!r} cannot name an Excel sheet")
        if self.frame.height + 1 > EXCEL_MAX_ROWS:
            raise ValueError(
                f"sheet {self.name!r} has {self.frame.height:,} rows; Excel shows at most "
                f"{EXCEL_MAX_ROWS - 1:,} below the header"
            )


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The workbook holding *sheets* in order (the first is the one Excel opens on)."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    names = [sheet.name.casefold() for sheet in sheets]
    if len(set(names)) != len(names):
        raise ValueError("sheet names must differ (Excel ignores case)")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _content_types(len(sheets)))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(sheets))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        archive.writestr("xl/styles.xml", _STYLES)
        for number, sheet in enumerate(sheets, start=1):
            name = f"xl/worksheets/sheet{number}.xml"
            with archive.open(name, "w", force_zip64=True) as out:
                _write_sheet(out, sheet, selected=number == 1)
    return buffer.getvalue()


_ROOT_RELS = (
    _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)


def _content_types(count: int) -> str:
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{sheet_type}"/>'
        for n in range(1, count + 1)
    )
    return (
        _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}</Types>"
    )


def _workbook(sheets: Sequence[Sheet]) -> str:
    listed = "".join(
        f'<sheet name="{escape(sheet.name, {chr(34): "&quot;"})}" sheetId="{n}" r:id="rId{n}"/>'
        for n, sheet in enumerate(sheets, start=1)
    )
    # Excel keeps a filter's range in a hidden name of its sheet, and writes one
    filtered = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"{_quoted(sheet.name)}!{_range(sheet.frame, absolute=True)}</definedName>"
        for n, sheet in enumerate(sheets)
        if sheet.filter
    )
    names = f"<definedNames>{filtered}</definedNames>" if filtered else ""
    return (
        f'{_HEAD}<workbook {_NS}><bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{listed}</sheets>{names}</workbook>"
    )


def _quoted(name: str) -> str:
    """A sheet name as a formula names it: in apostrophes (doubled inside), escaped."""
    return escape("'" + name.replace("'", "''") + "'")


def _range(frame: pl.DataFrame, *, absolute: bool = False) -> str:
    """The cells of the header and every row: ``A1:I1001`` (or ``$A$1:$I$1001``)."""
    last = column_letter(max(frame.width, 1) - 1)
    mark = "$" if absolute else ""
    return f"{mark}A{mark}1:{mark}{last}{mark}{frame.height + 1}"


def _workbook_rels(count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    styles = f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
    return (
        _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships">{sheets}{styles}</Relationships>'
    )


def _write_sheet(out: IO[bytes], sheet: Sheet, *, selected: bool) -> None:
    """The worksheet XML of *sheet*, a chunk of rows at a time."""
    write = out.write
    frame = sheet.frame
    columns = frame.columns
    view = ' tabSelected="1"' if selected else ""
    pane = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    head = (
        f'{_HEAD}<worksheet {_NS}><dimension ref="{_range(frame)}"/>'
        f'<sheetViews><sheetView workbookViewId="0"{view}>{pane}</sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/>{_cols(frame)}<sheetData>'
    )
    write(head.encode("utf-8"))
    header = "".join(
        f'<c r="{column_letter(i)}1" t="inlineStr" s="{_HEADER_STYLE}"><is><t>'
        f"{_escape_text(name)}</t></is></c>"
        for i, name in enumerate(columns)
    )
    write(f'<row r="1">{header}</row>'.encode())
    for offset in range(0, frame.height, _CHUNK_ROWS):
        chunk = frame.slice(offset, _CHUNK_ROWS)
        write(_rows_xml(chunk, first_row=offset + 2).encode("utf-8"))
    write(b"</sheetData>")
    if sheet.filter:
        write(f'<autoFilter ref="{_range(frame)}"/>'.encode())
    write(
        b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
        b'header="0.3" footer="0.3"/></worksheet>'
    )


def _escape_text(text: str) -> str:
    """One header or note: the same escaping the cells get, in Python."""
    frame = pl.DataFrame({"t": [text]}, schema={"t": pl.String})
    return str(frame.select(_escaped(pl.col("t"), frame.get_column("t"))).item())


def _escaped(expr: pl.Expr, column: pl.Series) -> pl.Expr:
    """*expr* with XML's special characters as entities, and Excel's escapes for the
    characters XML cannot hold (looked for first: most columns have none)."""
    out = expr
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        if column.str.contains(char, literal=True).any():
            out = out.str.replace_all(char, entity, literal=True)
    if column.str.contains(_ESCAPE_LIKE).any():
        out = out.str.replace_all(_ESCAPE_LIKE, "_x005F_$1")
    if column.str.contains(_CONTROL_PATTERN).any():
        for char in _CONTROL:
            out = out.str.replace_all(char, f"_x{ord(char):04X}_", literal=True)
    return out


_ROW = "_xlsx_row"


def _cell(frame: pl.DataFrame, index: int) -> pl.Expr:
    """Each row's XML for column *index*: an inline Text string, a number, or nothing."""
    name = frame.columns[index]
    letter = column_letter(index)
    column = pl.col(name)
    series = frame.get_column(name)
    row = pl.col(_ROW)
    if series.dtype in _NUMERIC or series.dtype.is_float():
        body = pl.format(f'<c r="{letter}{{}}"><v>{{}}</v></c>', row, column.cast(pl.String))
    else:
        text = _escaped(_within_cell_limit(column.cast(pl.String), series), series.cast(pl.String))
        template = (
            f'<c r="{letter}{{}}" t="inlineStr" s="{_TEXT_STYLE}"><is>'
            '<t xml:space="preserve">{}</t></is></c>'
        )
        body = pl.format(template, row, text)
    # a null makes the whole cell null: write nothing (an empty cell)
    return body.fill_null("") if series.null_count() else body


def _within_cell_limit(text: pl.Expr, series: pl.Series) -> pl.Expr:
    """Text longer than an Excel cell holds, cut with a note saying so (Excel would
    refuse the file); looked for first: most columns have none."""
    longest = series.cast(pl.String).str.len_chars().max()
    if not isinstance(longest, int) or longest <= CELL_MAX_CHARS:
        return text
    keep = CELL_MAX_CHARS - len(_CUT_NOTE)
    too_long = text.str.len_chars() > CELL_MAX_CHARS
    return pl.when(too_long).then(text.str.slice(0, keep) + pl.lit(_CUT_NOTE)).otherwise(text)


def _rows_xml(chunk: pl.DataFrame, *, first_row: int) -> str:
    numbered = chunk.with_columns(
        pl.int_range(first_row, first_row + pl.len(), dtype=pl.Int64).cast(pl.String).alias(_ROW)
    )
    cells = [_cell(chunk, index) for index in range(chunk.width)]
    rows = pl.concat_str(pl.format('<row r="{}">', pl.col(_ROW)), *cells, pl.lit("</row>"))
    return str(numbered.select(rows.str.join("")).item())


def _cols(frame: pl.DataFrame) -> str:
    """Column widths as Excel's autofit would set them: the longest value (wide CJK
    characters count twice), between a minimum and a cap."""
    if not frame.columns:
        return ""
    widths = []
    for name in frame.columns:
        text = pl.col(name).cast(pl.String)
        shown = text.str.len_chars() + text.str.count_matches(r"[^\x00-\xff]")
        longest = frame.select(shown.max()).item() if frame.height else 0
        header = len(name) + sum(1 for ch in name if ord(ch) > 0xFF)
        widths.append(min(_MAX_WIDTH, max(_MIN_WIDTH, float(max(longest or 0, header)) + 2)))
    return (
        "<cols>"
        + "".join(
            f'<col min="{n}" max="{n}" width="{width:.1f}" customWidth="1"/>'
            for n, width in enumerate(widths, start=1)
        )
        + "</cols>"
    )
