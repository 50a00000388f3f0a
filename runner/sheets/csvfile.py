"""Reading a CSV file into a :class:`RawGrid`: bytes once, decoded, parsed by polars.

Row numbers are CSV line numbers. polars gives records, not lines, so the standard ``csv``
module walks the same text once more to find the line each record starts on; this also
catches records with more cells than the header (polars would drop them silently). The
header is the first record holding a value that starts on line ``header_row`` or below;
the lines above it (notes) are cut off before polars parses the text, so that a note
shorter than the header cannot narrow the table. If the two parsers ever disagree on the
number of records, the row number falls back to "header line + record number", which
equals the line number unless a quoted cell spans several lines.

Most files have no quote at all (Excel quotes only cells holding a comma, a quote or a
line break). Then every line is one record, so line numbers, the header line and the
cells beyond the header are found without the ``csv`` walk, by polars over all lines at
once (the same results, in a fraction of the time for a million rows).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from runner.errors import InvalidInput, Location, Problem
from runner.sheets.grid import RawGrid, header_beyond_data, is_blank
from runner.sheets.text import MAX_QUOTED, DecodeFailure, Encoding, decode, quoted, trim

__all__ = ["MAX_HEADER_CHARS", "read_csv_grid"]

#: The longest header line read: 16,384 columns (Excel's most) of 6 characters each.
#: A longer "header" is a file that is no spreadsheet, refused before it is parsed.
MAX_HEADER_CHARS = 100_000

_REPARSE_HINT = (
    "Open the file in Excel and save it again as 'CSV UTF-8 (Comma delimited)', or fix the "
    "quotes near that line, and run again."
)


def read_csv_grid(
    path: Path, encoding: Encoding, header_row: int = 1, yaml_path: str | None = None
) -> RawGrid:
    """Decode and parse ``path`` from its header on; raise InvalidInput if it cannot be read."""
    file = str(path)
    data = path.read_bytes()
    try:
        decoded = decode(data, encoding)
    except DecodeFailure as exc:
        where = Location(file=file, row=exc.line)
        raise InvalidInput([Problem(exc.message, where, exc.hint)], source=file) from None
    _refuse_huge_header(path, decoded.text, header_row)
    if _plain(decoded.text):
        return _plain_grid(path, decoded.text, decoded.encoding, header_row, yaml_path)
    records = _python_records(decoded.text)
    start = _header_line(decoded.text, records, header_row)
    if start is None:
        last = _last_value_line(decoded.text, records)
        problem = header_beyond_data(file, None, header_row, last, yaml_path)
        raise InvalidInput([problem], source=file)
    text = decoded.text[_line_offset(decoded.text, start) :]
    if records is not None:
        records = [(line, record) for line, record in records if line >= start]
    frame, header, body = _parse(text, path, records)
    starts = [line for line, _ in records or []]
    rows = (
        starts[1:]
        if len(starts) == frame.height
        else list(range(start + 1, start + 1 + body.height))
    )
    return RawGrid(
        header=header,
        body=body,
        rows=rows,
        header_row=start,
        encoding=decoded.encoding,
        problems=_ragged(path, (records or [])[1:], len(header)),
    )


def _refuse_huge_header(path: Path, text: str, header_row: int) -> None:
    """Refuse a file whose header line is longer than any real header could be.

    A damaged copy (a file of NUL bytes), a binary file saved as .csv or a log with no
    line breaks reads as one enormous "header": parsing it into a table and comparing
    the mapped headers with it would take gigabytes and minutes for nothing. Its line is
    measured before anything is parsed.
    """
    start, offset = _plain_header(text, header_row)
    if start is None:
        return
    end = text.find("\n", offset)
    length = (len(text) if end < 0 else end) - offset
    if length <= MAX_HEADER_CHARS:
        return
    line = text[offset : offset + length]
    nul = line[:MAX_QUOTED].strip("\x00") == ""
    what = "NUL bytes (a damaged copy)" if nul else quoted(line, 20)
    problem = Problem(
        f"line {start}, where the header should be, is {length:,} characters long and starts "
        f"with {what}: this is not a spreadsheet of customers (a header line has at most "
        f"{MAX_HEADER_CHARS:,} characters)",
        Location(file=str(path), row=start),
        "Check that the audience's `file` names the customer list; if it does, the file "
        "is damaged (an interrupted copy leaves NUL bytes): export or copy it again, and "
        "run again.",
    )
    raise InvalidInput([problem], source=str(path))


def _parse(
    text: str, path: Path, records: list[tuple[int, list[str]]] | None
) -> tuple[pl.DataFrame, list[str | None], pl.DataFrame]:
    """The CSV text (header line first) as all-text columns: frame, header, body."""
    try:
        frame = pl.read_csv(
            text.encode("utf-8"),
            has_header=False,
            infer_schema=False,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        raise InvalidInput([_unparsable(path, records)], source=str(path)) from None
    header = [None if v is None else str(v) for v in frame.row(0)]
    return frame, header, frame.slice(1)


def _plain(text: str) -> bool:
    """True when every line is one record: no quote, and no line break but \\n or \\r\\n."""
    return '"' not in text and text.count("\r") == text.count("\r\n")


def _plain_grid(
    path: Path, text: str, encoding: str, header_row: int, yaml_path: str | None
) -> RawGrid:
    """:func:`read_csv_grid` for a text whose lines are its records."""
    file = str(path)
    start, offset = _plain_header(text, header_row)
    if start is None:
        last = _last_value_line(text, None)
        problem = header_beyond_data(file, None, header_row, last, yaml_path)
        raise InvalidInput([problem], source=file)
    body_text = text[offset:]
    _frame, header, body = _parse(body_text, path, None)
    return RawGrid(
        header=header,
        body=body,
        rows=range(start + 1, start + 1 + body.height),
        header_row=start,
        encoding=encoding,
        problems=_plain_ragged(path, body_text, start, len(header)),
    )


def _plain_header(text: str, header_row: int) -> tuple[int | None, int]:
    """The header's line (the first line with a value on ``header_row`` or below) and
    where it starts in ``text``; (None, 0) when there is none."""
    line, offset = 1, 0
    while True:
        end = text.find("\n", offset)
        stop = len(text) if end < 0 else end
        if line >= header_row and not _blank_line(text[offset:stop]):
            return line, offset
        if end < 0:
            return None, 0
        line, offset = line + 1, end + 1


def _plain_ragged(path: Path, body_text: str, start: int, width: int) -> list[Problem]:
    """:func:`_ragged` for plain text: only lines with at least ``width`` commas can have
    cells beyond the header, and polars finds them among all lines at once."""
    lines = pl.Series([body_text]).str.split("\n").explode()
    wide = (
        pl.DataFrame({"text": lines})
        .with_row_index("index")
        .filter(pl.col("text").str.count_matches(",", literal=True) >= width)
        .filter(pl.col("index") > 0)
    )
    records = [
        (start + index, text.removesuffix("\r").split(",")) for index, text in wide.iter_rows()
    ]
    return _ragged(path, records, width)


def _lines(text: str) -> list[str]:
    """The text's lines with their line ends, split as the ``csv`` module counts them."""
    return list(io.StringIO(text, newline=""))


def _header_line(
    text: str, records: list[tuple[int, list[str]]] | None, header_row: int
) -> int | None:
    """The line of the first record with a value that starts on ``header_row`` or below."""
    if records is not None:
        candidates = ((line, record) for line, record in records if line >= header_row)
        return next((line for line, cells in candidates if not _blank(cells)), None)
    numbered = enumerate(_lines(text), start=1)
    return next((n for n, line in numbered if n >= header_row and not _blank_line(line)), None)


def _last_value_line(text: str, records: list[tuple[int, list[str]]] | None) -> int | None:
    """The line of the last record (or line, if the text cannot be split) with a value."""
    if records is not None:
        found = [line for line, cells in records if not _blank(cells)]
    else:
        found = [n for n, line in enumerate(_lines(text), start=1) if not _blank_line(line)]
    return found[-1] if found else None


def _blank(cells: list[str]) -> bool:
    """True when no cell of a record holds a value (an empty line is a record of none)."""
    return all(is_blank(cell) for cell in cells)


def _blank_line(line: str) -> bool:
    """True for a line of commas and whitespace, as Excel writes an empty row."""
    return is_blank(line.replace(",", ""))


def _line_offset(text: str, line: int) -> int:
    """Where 1-based ``line`` starts in ``text``."""
    return sum(len(one) for one in _lines(text)[: line - 1])


def _python_records(text: str) -> list[tuple[int, list[str]]] | None:
    """Each record with the line it starts on, by the standard csv module (None if it fails)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out: list[tuple[int, list[str]]] = []
    previous_end = 0
    try:
        for record in reader:
            out.append((previous_end + 1, record))
            previous_end = reader.line_num
    except csv.Error:
        return None
    return out


def _ragged(path: Path, records: list[tuple[int, list[str]]], width: int) -> list[Problem]:
    """Records (after the header) with non-empty cells to the right of the last header
    column."""
    problems: list[Problem] = []
    for line, record in records:
        extra = [cell for cell in record[width:] if trim(cell) is not None]
        if extra:
            problems.append(
                Problem(
                    f"this line has {len(record)} cells but the header has {width}; "
                    f"{len(extra)} cell(s) beyond the last column would be lost "
                    f"(first: {quoted(extra[0])})",
                    Location(file=str(path), row=line),
                    "Quote cells that contain commas (or delete the extra cells), and run again.",
                )
            )
    return problems


def _unparsable(path: Path, records: list[tuple[int, list[str]]] | None) -> Problem:
    """The problem to report when polars cannot parse the text at all."""
    line = next(
        (start for start, record in records or [] if any("\n" in cell for cell in record)),
        None,
    )
    return Problem(
        'the CSV cannot be parsed: a quote (") is opened and never closed, or quotes are misplaced',
        Location(file=str(path), row=line),
        _REPARSE_HINT,
    )
