"""An audience: the customers of one spreadsheet, read as text and checked.

:func:`read_audience` reads a CSV or XLSX file, trims every cell, drops empty rows, finds
the mapped columns and checks the id columns. Everything wrong with the file is raised at
once as one :class:`~runner.errors.InvalidInput`.

Row numbers (``_row`` and every Location) are rows as Excel shows them or, for a CSV,
the line the record starts on. The header is the first row holding a value at or below
``header_row`` (default 1); rows above it, such as a row of notes, are skipped, and the
rows below keep the numbers the file shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from runner.errors import InvalidInput, Location, Problem
from runner.keys import KEY_KINDS, KeyKind
from runner.sheets.cellchecks import FormulaPolicy, check_cell_kinds, check_formulas
from runner.sheets.celltypes import column_letters
from runner.sheets.checks import (
    HEADER_SEARCH_ROWS,
    QUANTITY_PATTERN,
    HeaderRow,
    IdCell,
    check_id_column,
    check_quantity_values,
    resolve_columns,
)
from runner.sheets.csvfile import read_csv_grid
from runner.sheets.filekind import file_kind
from runner.sheets.grid import RawGrid
from runner.sheets.text import WHITESPACE, Encoding, trim_expr
from runner.sheets.xlsxfile import read_xlsx_grid

__all__ = [
    "ID_KINDS",
    "ROW",
    "AudienceTable",
    "KeyKind",
    "check_not_empty",
    "check_quantity",
    "read_audience",
]

ID_KINDS: frozenset[str] = frozenset(KEY_KINDS)
ROW = "_row"


@dataclass(frozen=True)
class AudienceTable:
    """An audience as read: the checked customer rows of one spreadsheet.

    ``frame`` has only pl.String columns: the file's own columns (named by their header
    text; an empty header becomes ``column_N``, a repeated one ``NAME_duplicated_K``),
    one column per mapped name (e.g. ``cm_code``, ``qty``) with the trimmed values, and
    ``_row`` (pl.Int64), the row as Excel shows it or the CSV line. Every cell is trimmed
    and an empty cell is null; rows with no value at all are dropped. ``columns`` maps
    our name to the header text in the file. ``header_row`` is the row the header was
    found on (Excel's row, or the CSV line). ``skipped_sheets`` names the hidden sheets
    passed over to read the first visible one (XLSX without ``sheet``).
    """

    name: str
    path: Path
    sheet: str | None
    key: KeyKind
    frame: pl.DataFrame
    columns: Mapping[str, str]
    encoding: str | None
    header_row: int = 1
    skipped_sheets: tuple[str, ...] = ()


def read_audience(
    name: str,
    path: Path,
    *,
    key: KeyKind,
    columns: Mapping[str, str],
    sheet: str | int | None = None,
    encoding: Encoding = "auto",
    yaml_path: str | None = None,
    header_row: int = 1,
    formulas: FormulaPolicy = "refuse",
) -> AudienceTable:
    """Read and check one audience file; raise one InvalidInput listing every problem.

    ``columns`` maps our names to header texts and must map ``key``. ``sheet`` is a sheet
    name or 0-based index (XLSX only; default: the first visible sheet). ``formulas``
    (XLSX): ``refuse`` formula cells in the mapped columns, or use their ``cached``
    values (see :mod:`runner.sheets.cellchecks`). ``header_row`` is the
    1-based row (the CSV line) where the header is looked for: the rows above it are
    skipped. ``yaml_path`` is the campaign key of this audience (e.g. ``audiences.east``);
    problems about the campaign's settings name ``<yaml_path>.columns.<name>``,
    ``.sheet``, ``.key`` or ``.header_row`` under it. A file with a header but no
    customer row is read as an empty table (see :func:`check_not_empty`).
    """
    if header_row < 1:
        raise ValueError(f"header_row counts from 1, not {header_row}")
    file = str(path)
    grid = _read_grid(path, key, columns, sheet, encoding, yaml_path, header_row)
    frame = _frame(grid)
    header_at = Location(file=file, sheet=grid.sheet, row=grid.header_row)
    names = _column_names(grid.header)
    found, problems = resolve_columns(
        _header_row(grid, names),
        columns,
        header_at,
        yaml_path,
        header_row=header_row if header_row > 1 else None,
    )
    problems = grid.problems + problems
    at = Location(file=file, sheet=grid.sheet)
    mapped = {names.index(column): column for column in found.values()}
    problems += check_formulas(grid, mapped, formulas, file)
    frame, id_problems = _check_ids(frame, grid, found, key, at)
    problems += id_problems
    if problems:
        raise InvalidInput(problems, source=file)
    frame = frame.with_columns(pl.col(column).alias(ours) for ours, column in found.items())
    return AudienceTable(
        name,
        path,
        grid.sheet,
        key,
        frame,
        dict(found),
        grid.encoding,
        grid.header_row,
        grid.skipped,
    )


def check_not_empty(audience: AudienceTable) -> list[Problem]:
    """A problem, located at the file's header, when the audience has no customer row.

    Reading a header without rows is not an error in itself; a campaign granting from it
    is (the campaign's audiences are checked with this when the plan reads them).
    """
    if audience.frame.height > 0:
        return []
    header = Location(file=str(audience.path), sheet=audience.sheet, row=audience.header_row)
    return [
        Problem(
            f"audience {audience.name!r} has no customer rows: nothing below the header on "
            f"row {audience.header_row}",
            header,
            f"Fill in one customer per row from row {audience.header_row + 1} on (or point "
            "the audience's `file` at the spreadsheet that holds them), save, and run again.",
        )
    ]


def check_quantity(
    audience: AudienceTable, column_name: str, *, yaml_path: str | None = None
) -> list[Problem]:
    """Problems for cells of the mapped column ``column_name`` that are not digits only.

    Accepted: "0", "3", "03". Reported: empty cells, negatives, decimals ("3.0"), and
    anything else, each with its row and column.
    """
    where = Location(file=str(audience.path), sheet=audience.sheet)
    header = audience.columns.get(column_name)
    if header is None or column_name not in audience.frame.columns:
        return [
            Problem(
                f"audience {audience.name!r} has no column mapped as {column_name!r}",
                Location(file=where.file, yaml_path=yaml_path),
                f"Add `{column_name}` to the audience's columns, and run again.",
            )
        ]
    column = pl.col(column_name)
    bad = audience.frame.filter(column.is_null() | ~column.str.contains(QUANTITY_PATTERN))
    cells = [IdCell(row, text) for row, text in bad.select(ROW, column_name).iter_rows()]
    return check_quantity_values(cells, Location(where.file, where.sheet, column=header))


def _read_grid(
    path: Path,
    key: str,
    columns: Mapping[str, str],
    sheet: str | int | None,
    encoding: Encoding,
    yaml_path: str | None,
    header_row: int,
) -> RawGrid:
    """Check the arguments, then read the file with the reader its format needs."""
    file = str(path)
    settings = _check_settings(key, columns, yaml_path, file)
    kind, problem = file_kind(path)
    if problem is not None:
        settings.append(problem)
    elif kind == "csv" and sheet is not None:
        settings.append(
            Problem(
                f"sheet {sheet!r} is set, but a CSV file has no sheets",
                Location(file=file, yaml_path=f"{yaml_path}.sheet" if yaml_path else None),
                "Remove `sheet` from this audience (or point it at an .xlsx file).",
            )
        )
    if settings:
        raise InvalidInput(settings, source=file)
    if kind == "csv":
        return read_csv_grid(path, encoding, header_row, yaml_path)
    return read_xlsx_grid(path, sheet, yaml_path, header_row)


def _check_settings(
    key: str, columns: Mapping[str, str], yaml_path: str | None, file: str
) -> list[Problem]:
    problems: list[Problem] = []
    if ROW in columns:
        problems.append(
            Problem(
                f"{ROW!r} cannot be a column name: it holds the row numbers",
                Location(file=file, yaml_path=f"{yaml_path}.columns" if yaml_path else None),
                f"Rename `{ROW}` in the audience's columns, and run again.",
            )
        )
    if key not in columns:
        problems.append(
            Problem(
                f"the key {key!r} is not one of the mapped columns "
                f"({', '.join(columns) or 'none'})",
                Location(file=file, yaml_path=f"{yaml_path}.key" if yaml_path else None),
                f"Add `{key}: <header text>` to the audience's columns, and run again.",
            )
        )
    return problems


def _column_names(header: list[str | None]) -> list[str]:
    """Unique column names: the header text, column_N when empty, NAME_duplicated_K repeats."""
    names: list[str] = []
    taken: set[str] = set()
    for position, text in enumerate(header, start=1):
        base = text if text is not None and text.strip(WHITESPACE) else f"column_{position}"
        name, count = base, 0
        while name in taken or name == ROW:
            name, count = f"{base}_duplicated_{count}", count + 1
        taken.add(name)
        names.append(name)
    return names


def _header_row(grid: RawGrid, names: list[str]) -> HeaderRow:
    """The grid's header for :func:`resolve_columns`: its texts, the frame's column names,
    each column's name in a message (its letters in a workbook, its position in a CSV),
    and the first rows below it."""
    if grid.absolute:
        labels = [column_letters(column) for column in grid.absolute]
    else:
        labels = [str(position) for position in range(1, len(names) + 1)]
    below = grid.body.head(HEADER_SEARCH_ROWS).rows()
    return HeaderRow(grid.header, names, labels, list(zip(grid.rows, below, strict=False)))


def _frame(grid: RawGrid) -> pl.DataFrame:
    """The body with header names, every cell trimmed, ``_row`` added, empty rows dropped."""
    names = _column_names(grid.header)
    body = grid.body.rename(dict(zip(grid.body.columns, names, strict=True)))
    body = body.with_columns(trim_expr(name) for name in names)
    body = body.with_columns(pl.Series(ROW, grid.rows, dtype=pl.Int64))
    if not names:
        return body
    return body.filter(~pl.all_horizontal(pl.col(name).is_null() for name in names))


def _check_ids(
    frame: pl.DataFrame,
    grid: RawGrid,
    found: Mapping[str, str],
    key: str,
    at: Location,
) -> tuple[pl.DataFrame, list[Problem]]:
    """Check every id column (the key and any cm_* column): how the XLSX stores its cells
    (dates, numeric codes), damage and bad characters, then missing and repeated keys."""
    names = _column_names(grid.header)
    problems: list[Problem] = []
    id_columns = {column: ours for ours, column in found.items() if ours in ID_KINDS}
    if key in found:
        id_columns[found[key]] = key
    for column, ours in id_columns.items():
        position = names.index(column)
        column_at = Location(at.file, at.sheet, column=column)
        stored, stored_problems = check_cell_kinds(grid, position, ours, column_at)
        frame, found_problems = check_id_column(
            frame,
            column,
            ROW,
            grid.numbers.get(position, {}),
            column_at,
            key=key if ours == key else None,
            kind=ours,
            skip=stored,
        )
        problems += stored_problems + found_problems
    return frame, problems
