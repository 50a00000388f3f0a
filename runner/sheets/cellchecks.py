"""Checks on how an XLSX stores the cells the campaign uses: dates, numbers, formulas.

Excel shows one thing and stores another, and a customer id must be what the person saw:

* **A date in an id column** (any id or code): Excel stores the day count (``46447``)
  and shows ``2027-02-28``; neither is the id that was typed. Refused, naming the cell.
* **A number in a code column** (``cm_code``, ``cm_source_code``): refused, every one,
  not only where a fixed width suggests lost zeros. Excel drops the leading zeros of a
  code typed into a General cell (``007100`` is stored as ``7100``), and nothing in the
  file says how many there were: a width guessed from the other codes of the column
  fails for a column of numeric codes of varying width, and for a column where every
  code lost its zeros. A code is text by nature, so formatting the column as Text costs
  the manager one click, while a wrong guess grants to another customer or to nobody.
  (A ``cm_id`` stored as an exact integer stays accepted: ids have no leading zeros,
  and the damaged-id check refuses the ones that lost digits.)
* **A formula** in a mapped column: its value is whatever the program that saved the
  file computed, if anything (some libraries cache 0 or nothing). Refused unless the
  audience says ``formulas: cached``; even then a formula without a saved result is
  refused.
* **An error cell** (``#N/A``, ``#REF!``) in a mapped column: refused.

Each kind gives one problem per column, located at its first cell (the Excel cell name,
e.g. ``B7``, in the message) and listing a few more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Literal, get_args

from runner.errors import Location, Problem
from runner.sheets.celltypes import cell_name
from runner.sheets.grid import RawGrid

__all__ = [
    "CODE_KINDS",
    "FORMULA_POLICIES",
    "FormulaPolicy",
    "check_cell_kinds",
    "check_formulas",
]

FormulaPolicy = Literal["refuse", "cached"]
FORMULA_POLICIES: tuple[FormulaPolicy, ...] = get_args(FormulaPolicy)
CODE_KINDS = frozenset({"cm_code", "cm_source_code"})
_MAX_CELLS_SHOWN = 5

_TEXT_HINT = (
    "Format the column as Text in Excel (Home → Number → Text), retype the {what} exactly "
    "as the source system shows them{zeros}, save, and run again."
)
_FORMULA_HINT = (
    "Replace the formulas with their values (copy the cells, then Paste Special → Values), "
    "or set `formulas: cached` on the audience to use the values the file saved, and run "
    "again."
)
_UNCACHED_HINT = (
    "Open the file in Excel so that it computes the formulas and save it (or replace them "
    "with their values: Paste Special → Values), and run again."
)
_ERROR_HINT = "Fix the cell so that it shows a value, save, and run again."

Describe = Callable[[str, str | None], str]


def _cells(
    grid: RawGrid,
    position: int,
    cells: Mapping[int, str | None],
    at: Location,
    describe: Describe,
    hint: str,
) -> tuple[set[int], list[Problem]]:
    """One problem for the given cells of one column (body rows only), and their rows."""
    rows = sorted(row for row in cells if row > grid.header_row)
    if not rows:
        return set(), []
    column = grid.absolute[position] if position < len(grid.absolute) else position
    first = rows[0]
    message = describe(cell_name(column, first), cells[first])
    if len(rows) > 1:
        names = [cell_name(column, row) for row in rows[1:]]
        message += f"; the same in {', '.join(names[:_MAX_CELLS_SHOWN])}"
        if len(names) > _MAX_CELLS_SHOWN:
            message += f" and {len(names) - _MAX_CELLS_SHOWN} more"
    return set(rows), [Problem(message, replace(at, row=first), hint)]


def check_cell_kinds(
    grid: RawGrid, position: int, kind: str, at: Location
) -> tuple[set[int], list[Problem]]:
    """Date cells in an id column and, in a code column, numeric cells: rows and problems."""
    rows, problems = _cells(
        grid,
        position,
        grid.dates.get(position, {}),
        at,
        lambda ref, raw: (
            f"cell {ref} is a date in Excel (stored as the number {raw}), not an id: "
            "Excel stores what looks like a date as a day count"
        ),
        _TEXT_HINT.format(what="ids", zeros=""),
    )
    if kind in CODE_KINDS:
        more, found = _cells(
            grid,
            position,
            grid.numbers.get(position, {}),
            at,
            lambda ref, raw: (
                f"cell {ref} holds the code as the number {raw}: Excel drops the leading "
                "zeros of a code stored as a number (007100 becomes 7100)"
            ),
            _TEXT_HINT.format(what="codes", zeros=" (leading zeros included)"),
        )
        rows, problems = rows | more, problems + found
    return rows, problems


def check_formulas(
    grid: RawGrid, positions: Mapping[int, str], policy: FormulaPolicy, file: str
) -> list[Problem]:
    """Formula and error cells in the mapped columns (grid position → header text)."""
    problems: list[Problem] = []
    for position, header in positions.items():
        at = Location(file=file, sheet=grid.sheet, column=header)
        formulas = grid.formulas.get(position, {})
        if policy == "refuse":
            problems += _cells(grid, position, formulas, at, _formula, _FORMULA_HINT)[1]
            errors = {r: v for r, v in grid.errors.get(position, {}).items() if r not in formulas}
        else:
            uncached = {row: value for row, value in formulas.items() if value is None}
            problems += _cells(grid, position, uncached, at, _uncached, _UNCACHED_HINT)[1]
            errors = dict(grid.errors.get(position, {}))
        problems += _cells(grid, position, errors, at, _error, _ERROR_HINT)[1]
    return problems


def _formula(ref: str, _value: str | None) -> str:
    return (
        f"cell {ref} is a formula: its value is whatever the program that saved the file "
        "computed, not necessarily what Excel would show"
    )


def _uncached(ref: str, _value: str | None) -> str:
    return f"cell {ref} is a formula with no saved result (`formulas: cached` needs one)"


def _error(ref: str, value: str | None) -> str:
    return f"cell {ref} shows the error {value}"
