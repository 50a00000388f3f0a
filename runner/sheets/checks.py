"""The checks run on an audience's cells: headers, damaged ids, missing keys, duplicates.

Every check returns a list of :class:`Problem` (it never raises), so that one pass over a
file can report everything wrong with it at once. :func:`check_id_column` runs the id
checks on a whole column with polars and builds Python objects only for the cells that
have a problem (or that an XLSX stores as numbers), so a million clean rows cost
milliseconds; the per-cell functions below it say what each problem is.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

import polars as pl

from runner.errors import Location, Problem
from runner.sheets.idchars import check_id_text
from runner.sheets.text import BOM, WHITESPACE, damaged_expr, looks_damaged, quoted

__all__ = [
    "DAMAGED_ID_HINT",
    "HEADER_SEARCH_ROWS",
    "QUANTITY_PATTERN",
    "HeaderRow",
    "IdCell",
    "check_damaged_ids",
    "check_duplicates",
    "check_id_column",
    "check_missing_keys",
    "check_quantity_values",
    "fix_numeric_ids",
    "resolve_columns",
]

DAMAGED_ID_HINT = (
    "Format the column as Text in Excel (or prefix with '), re-enter the ids from the "
    "source system, save, and run again."
)
_MAX_ROWS_SHOWN = 5
_SAFE_INTEGER = 2**53
_DIGITS = re.compile(r"[0-9]+")
#: A quantity as :func:`check_quantity_values` accepts it, for polars.
QUANTITY_PATTERN = "^[0-9]+$"


def _header_key(text: str | None) -> str:
    return (text or "").replace(BOM, "").strip(WHITESPACE)


@dataclass(frozen=True)
class HeaderRow:
    """A file's header row as read, for finding the mapped columns in it.

    ``texts`` holds each column's header text as the file has it (None when empty),
    ``names`` its name in the audience frame (unique: see ``AudienceTable``), ``labels``
    how a message names the column (``D`` in a workbook, ``4`` for the fourth of a CSV).
    ``below`` holds the first rows under the header (row number and cells), in which the
    headers missing from it may be found.
    """

    texts: Sequence[str | None]
    names: Sequence[str]
    labels: Sequence[str]
    below: Sequence[tuple[int, Sequence[str | None]]] = ()


def resolve_columns(
    header: HeaderRow,
    columns: Mapping[str, str],
    where: Location,
    yaml_path: str | None,
    *,
    header_row: int | None = None,
) -> tuple[dict[str, str], list[Problem]]:
    """Map each of our names to the file's column whose trimmed header is the wanted text.

    ``where`` locates the header row. ``header_row``, when the campaign set one, is named
    in the hint of a missing header. A mapped header found in two columns is a problem
    naming both (reading either one would be a guess). Returns the mapping (our name →
    column name in the file) and the problems found.
    """
    by_key: dict[str, list[int]] = {}
    for position, text in enumerate(header.texts):
        by_key.setdefault(_header_key(text), []).append(position)
    found: dict[str, str] = {}
    problems: list[Problem] = []
    missing = [wanted for wanted in columns.values() if not by_key.get(_header_key(wanted))]
    moved = _header_moved(missing, header.below)
    for ours, wanted in columns.items():
        key_path = f"{yaml_path}.columns.{ours}" if yaml_path else None
        at = replace(where, column=wanted, yaml_path=key_path)
        matches = by_key.get(_header_key(wanted), [])
        if len(matches) == 1:
            found[ours] = header.names[matches[0]]
        elif matches:
            problems.append(_ambiguous(wanted, ours, [header.labels[m] for m in matches], at))
        else:
            at = replace(at, column=None)
            problems.append(_missing_header(wanted, ours, header, at, header_row, moved))
    return found, problems


#: How many rows below the header are searched for headers that are missing from it.
HEADER_SEARCH_ROWS = 10
_MAX_HEADERS_SHOWN = 20


def _header_moved(
    missing: list[str], below: Sequence[tuple[int, Sequence[str | None]]]
) -> int | None:
    """The first row below the header (of the first few) holding every missing header:
    the row the headers are really on when a title sits above them."""
    if not missing:
        return None
    wanted = {_header_key(text) for text in missing}
    for row, cells in below[:HEADER_SEARCH_ROWS]:
        if wanted <= {_header_key(cell) for cell in cells}:
            return row
    return None


def _ambiguous(wanted: str, ours: str, labels: list[str], at: Location) -> Problem:
    shown = ", ".join(labels[:-1]) + f" and {labels[-1]}"
    row = f" of row {at.row}" if at.row is not None else ""
    return Problem(
        f"header {quoted(wanted)} (for {ours}) appears in {len(labels)} columns{row}: "
        f"columns {shown}",
        at,
        "Rename or delete the extra column so that the header is unique (the tool will not "
        "guess which one holds the values), and run again.",
    )


def _missing_header(
    wanted: str,
    ours: str,
    header: HeaderRow,
    at: Location,
    header_row: int | None,
    moved: int | None,
) -> Problem:
    """No column has the wanted header. The hint names a look-alike header, and the row
    the headers are really on (``moved``) or the ``header_row`` the campaign set."""
    keys = [_header_key(text) for text in header.texts]
    shown = ", ".join(quoted(k) for k in keys[:_MAX_HEADERS_SHOWN]) or "none"
    if len(keys) > _MAX_HEADERS_SHOWN:
        shown += f" and {len(keys) - _MAX_HEADERS_SHOWN} more"
    close = difflib.get_close_matches(_header_key(wanted), keys, n=1)
    hint = f"Did you mean {quoted(close[0])}? " if close else ""
    if len(keys) == 1 and ("\t" in keys[0] or ";" in keys[0]):
        hint += "The file seems to use tabs or semicolons: save it as CSV with commas. "
    message = f"no column {quoted(wanted)} (for {ours}); the headers are: {shown}"
    if moved is not None:
        hint += (
            f"The headers are on row {moved}, below a title: set `header_row: {moved}` for "
            "this audience (the rows above it are then skipped), and run again."
        )
        return Problem(message, at, hint)
    if header_row is not None:
        hint += (
            f"The headers are read from row {at.row} (`header_row: {header_row}`): if they "
            "are on another row, set `header_row` to it. "
        )
    hint += f"Fix the header in the file or `columns.{ours}` in the campaign, and run again."
    return Problem(message, at, hint)


@dataclass(frozen=True)
class IdCell:
    """One cell of an id column: its row, its text, and its raw value if stored as a number."""

    row: int
    text: str | None
    number: str | None = None


def _numeric_id_text(raw: str) -> str | None:
    """The integer text of a numeric cell that still holds an exact id, else None."""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    if abs(value) >= _SAFE_INTEGER:
        return None
    return str(int(value))


def fix_numeric_ids(cells: list[IdCell]) -> list[str | None]:
    """The column's texts, with numeric cells that hold exact small integers as integer text."""
    out: list[str | None] = []
    for cell in cells:
        fixed = _numeric_id_text(cell.number) if cell.number is not None else None
        out.append(fixed if fixed is not None else cell.text)
    return out


def _damaged(cell: IdCell) -> str | None:
    """How a damaged id cell shows, or None if the cell is fine."""
    if cell.number is not None:
        return None if _numeric_id_text(cell.number) else f"the number {cell.number}"
    if cell.text is not None and looks_damaged(cell.text):
        return quoted(cell.text)
    return None


def check_damaged_ids(cells: list[IdCell], at: Location) -> tuple[set[int], list[Problem]]:
    """One problem per column listing ids that Excel turned into numbers; and their rows."""
    bad = [(cell.row, shown) for cell in cells if (shown := _damaged(cell)) is not None]
    if not bad:
        return set(), []
    rows = [row for row, _ in bad]
    message = (
        f"{len(rows)} id(s) were damaged by Excel (stored as numbers: digits lost or written "
        f"as decimals), e.g. row {bad[0][0]}: {bad[0][1]}"
    )
    if len(rows) > 1:
        message += "; rows " + ", ".join(str(r) for r in rows[:_MAX_ROWS_SHOWN])
        if len(rows) > _MAX_ROWS_SHOWN:
            message += f" and {len(rows) - _MAX_ROWS_SHOWN} more"
    return set(rows), [Problem(message, replace(at, row=rows[0]), DAMAGED_ID_HINT)]


def check_missing_keys(cells: list[IdCell], key: str, at: Location) -> list[Problem]:
    """One problem per row whose key cell is empty."""
    return [
        Problem(
            f"no {key} in this row (the column that identifies the customer)",
            replace(at, row=cell.row),
            f"Fill in the customer's {key}, or delete the row, and run again.",
        )
        for cell in cells
        if cell.text is None
    ]


def check_duplicates(cells: list[IdCell], skip: set[int], at: Location) -> list[Problem]:
    """One problem per key value that appears on more than one row, naming every row."""
    rows_of: dict[str, list[int]] = {}
    for cell in cells:
        if cell.text is not None and cell.row not in skip:
            rows_of.setdefault(cell.text, []).append(cell.row)
    return [
        Problem(
            f"customer {quoted(value)} appears {len(rows)} times: rows "
            + ", ".join(str(r) for r in rows),
            replace(at, row=rows[1]),
            "Keep one row per customer (put the whole quantity on it), and run again.",
        )
        for value, rows in rows_of.items()
        if len(rows) > 1
    ]


def check_quantity_values(cells: list[IdCell], at: Location) -> list[Problem]:
    """Problems for quantity cells that are not whole numbers ≥ 0 written with digits."""
    problems: list[Problem] = []
    for cell in cells:
        if cell.text is not None and _DIGITS.fullmatch(cell.text):
            continue
        if cell.text is None:
            message = "the quantity is empty"
        elif cell.text.startswith("-") and _DIGITS.fullmatch(cell.text[1:]):
            message = f"the quantity {quoted(cell.text)} is negative"
        else:
            message = f"the quantity {quoted(cell.text)} is not a whole number written with digits"
        problems.append(
            Problem(
                message,
                replace(at, row=cell.row),
                "Write a whole number of vouchers (0 for none), e.g. 1 or 3, and run again.",
            )
        )
    return problems


def check_id_column(
    frame: pl.DataFrame,
    column: str,
    row: str,
    numbers: Mapping[int, str],
    at: Location,
    *,
    key: str | None = None,
    kind: str | None = None,
    skip: Set[int] = frozenset(),
) -> tuple[pl.DataFrame, list[Problem]]:
    """Check one id column of *frame* (``row`` holds the row numbers): damaged ids, bad
    characters (:func:`~runner.sheets.idchars.check_id_text`; ``kind`` ``cm_id`` allows
    digits only), and for the key (``key`` = its kind) empty cells and repeated values.

    ``numbers`` maps rows to the raw value of cells an XLSX stores as numbers. ``skip``
    holds rows whose cell was reported already (e.g. a date): no other check looks at
    them. Returns *frame* with numeric cells as integer text where they still hold an
    exact id (see :func:`fix_numeric_ids`) and the problems, exactly as the per-cell
    checks report them.
    """
    numbers = {r: raw for r, raw in numbers.items() if r not in skip}
    numeric = frame.filter(pl.col(row).is_in(list(numbers))) if numbers else frame.clear()
    cells = [IdCell(r, text, numbers[r]) for r, text in numeric.select(row, column).iter_rows()]
    fixed = {cell.row: text for cell, text in zip(cells, fix_numeric_ids(cells), strict=True)}
    seen = list(fixed) + list(skip)
    suspects = frame.filter(~pl.col(row).is_in(seen) & damaged_expr(column))
    cells += [IdCell(r, text) for r, text in suspects.select(row, column).iter_rows()]
    cells.sort(key=lambda cell: cell.row)
    damaged, problems = check_damaged_ids(cells, at)
    if fixed:
        frame = frame.with_columns(
            pl.col(row)
            .replace_strict(fixed, default=pl.col(column), return_dtype=pl.String)
            .alias(column)
        )
    bad, text_problems = check_id_text(
        frame, column, row, at, digits_only=kind == "cm_id", skip=damaged | set(skip)
    )
    problems += text_problems
    if key is None:
        return frame, problems
    empty = frame.filter(pl.col(column).is_null()).get_column(row).to_list()
    problems += check_missing_keys([IdCell(r, None) for r in empty], key, at)
    problems += _repeated(frame, column, row, damaged | bad | set(skip), at)
    return frame, problems


def _repeated(
    frame: pl.DataFrame, column: str, row: str, skip: set[int], at: Location
) -> list[Problem]:
    """:func:`check_duplicates` over a whole column: only repeated values become cells."""
    kept = frame.filter(pl.col(column).is_not_null() & ~pl.col(row).is_in(list(skip)))
    counted = kept.group_by(column, maintain_order=True).agg(pl.col(row), pl.len().alias("_n"))
    repeated = counted.filter(pl.col("_n") > 1)
    cells = [
        IdCell(r, value) for value, rows in repeated.select(column, row).iter_rows() for r in rows
    ]
    return check_duplicates(cells, set(), at)
