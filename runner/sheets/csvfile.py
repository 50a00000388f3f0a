"""Reading a CSV file into a :class:`RawGrid`: bytes once, decoded, parsed by polars.

Row numbers are CSV line numbers (the header is line 1). polars gives records, not lines,
so the standard ``csv`` module walks the same text once more to find the line each record
starts on; this also catches records with more cells than the header (polars would drop
them silently). If the two parsers ever disagree on the number of records, the row number
falls back to "record number + 1", which equals the line number unless a quoted cell spans
several lines.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from runner.errors import InvalidInput, Location, Problem
from runner.sheets.grid import RawGrid
from runner.sheets.text import DecodeFailure, Encoding, decode, trim

__all__ = ["read_csv_grid"]

_REPARSE_HINT = (
    "Open the file in Excel and save it again as 'CSV UTF-8 (Comma delimited)', or fix the "
    "quotes near that line, and run again."
)


def read_csv_grid(path: Path, encoding: Encoding) -> RawGrid:
    """Decode and parse ``path``; raise InvalidInput if it cannot be read at all."""
    data = path.read_bytes()
    try:
        decoded = decode(data, encoding)
    except DecodeFailure as exc:
        where = Location(file=str(path), row=exc.line)
        raise InvalidInput([Problem(exc.message, where, exc.hint)], source=str(path)) from None
    records = _python_records(decoded.text)
    try:
        frame = pl.read_csv(
            decoded.text.encode("utf-8"),
            has_header=False,
            infer_schema=False,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        raise InvalidInput([_unparsable(path, records)], source=str(path)) from None
    if frame.height == 0:
        problem = Problem(
            "the file is empty: no header row",
            Location(file=str(path)),
            "Put the column headers on line 1 and one customer per line below them.",
        )
        raise InvalidInput([problem], source=str(path))
    header = [None if v is None else str(v) for v in frame.row(0)]
    body = frame.slice(1)
    starts = [line for line, _ in records or []]
    rows = starts[1:] if len(starts) == frame.height else list(range(2, body.height + 2))
    return RawGrid(
        header=header,
        body=body,
        rows=rows,
        encoding=decoded.encoding,
        problems=_ragged(path, records or [], len(header)),
    )


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
