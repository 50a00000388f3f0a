"""Reading a CSV file into a :class:`RawGrid`: bytes once, decoded, parsed by polars.

Row numbers are CSV line numbers. polars gives records, not lines, so the standard ``csv``
module walks the same text once more to find the line each record starts on; this also
catches records with more cells than the header (polars would drop them silently). The
header is the first record holding a value that starts on line ``header_row`` or below;
the lines above it (notes) are cut off before polars parses the text, so that a note
shorter than the header cannot narrow the table. If the two parsers ever disagree on the
number of records, the row number falls back to "header line + record number", which
equals the line number unless a quoted cell spans several lines.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from runner.errors import InvalidInput, Location, Problem
from runner.sheets.grid import RawGrid, header_beyond_data, is_blank
from runner.sheets.text import DecodeFailure, Encoding, decode, trim

__all__ = ["read_csv_grid"]

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
    records = _python_records(decoded.text)
    start = _header_line(decoded.text, records, header_row)
    if start is None:
        last = _last_value_line(decoded.text, records)
        problem = header_beyond_data(file, None, header_row, last, yaml_path)
        raise InvalidInput([problem], source=file)
    text = decoded.text[_line_offset(decoded.text, start) :]
    if records is not None:
        records = [(line, record) for line, record in records if line >= start]
    try:
        frame = pl.read_csv(
            text.encode("utf-8"),
            has_header=False,
            infer_schema=False,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        raise InvalidInput([_unparsable(path, records)], source=file) from None
    header = [None if v is None else str(v) for v in frame.row(0)]
    body = frame.slice(1)
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
        problems=_ragged(path, records or [], len(header)),
    )


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
    """Records with non-empty cells to the right of the last header column."""
    problems: list[Problem] = []
    for line, record in records[1:]:
        extra = [cell for cell in record[width:] if trim(cell) is not None]
        if extra:
            problems.append(
                Problem(
                    f"this line has {len(record)} cells but the header has {width}; "
                    f"{len(extra)} cell(s) beyond the last column would be lost "
                    f"(first: {extra[0]!r})",
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
