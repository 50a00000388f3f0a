"""Expansion: grant lines × audience rows → one row per grant call.

Each grant line selects customers of one audience (an optional ``where`` filter written in
SQL over the audience's mapped columns) and gives each a quantity (a number, or a mapped
column). :func:`select_line` does that for one line; :func:`explode_jobs` turns all
lines' rows into jobs: quantities of the same customer for the same voucher add up, each
copy gets ``seq`` 1..n and a job id, and the result is sorted explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import polars as pl

from runner.errors import Location, Problem
from runner.plan._checks import MAX_COUNT, list_kind
from runner.plan._ids import job_ids
from runner.plan._model import JOB_COLUMNS, JOB_SCHEMA
from runner.sheets import ROW, AudienceTable, check_quantity, quoted

__all__ = ["LINE_SCHEMA", "GrantLine", "combine", "explode_jobs", "select_line"]

Locate = Callable[[str], Location]

# The rows one grant line selects, before they become jobs.
LINE_SCHEMA: dict[str, pl.DataType] = {
    "voucher_order": pl.Int64(),
    "line": pl.Int64(),
    "voucher_key": pl.String(),
    "audience": pl.String(),
    "key_kind": pl.String(),
    "customer_key": pl.String(),
    "customer_name": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "source_sheet": pl.String(),
    "quantity": pl.Int64(),
    "list_kind": pl.String(),
    "list_column": pl.String(),
    "list_value": pl.String(),
}

_NAME_COLUMN = "cm_name"
_WHERE_HINT = (
    "Write an SQL condition over the audience's mapped column names, quoting text values, "
    "e.g. level IN ('A', 'B'). Every column is text: compare numbers with "
    "CAST(qty AS INTEGER) > 1."
)


@dataclass(frozen=True)
class GrantLine:
    """One ``grants[i]`` entry, resolved: which voucher, which audience, how many."""

    index: int
    voucher_key: str
    voucher_order: int
    audience: AudienceTable
    where: str | None
    quantity: int | str

    @property
    def yaml_path(self) -> str:
        """The line's YAML key path, e.g. ``grants[0]``."""
        return f"grants[{self.index}]"


def select_line(line: GrantLine, locate: Locate) -> tuple[pl.DataFrame, list[Problem]]:
    """The customers a grant line reaches with their quantities (LINE_SCHEMA), or problems."""
    chosen, problems = _filtered(line, locate)
    if problems:
        return _empty(), problems
    quantity, problems = _quantity(line, chosen, locate)
    if problems:
        return _empty(), problems
    audience = line.audience
    name = pl.col(_NAME_COLUMN) if _NAME_COLUMN in audience.columns else pl.lit(None)
    kind = list_kind(audience.key, audience.columns)
    listed = pl.col(kind) if kind is not None else pl.lit(None)
    rows = chosen.select(
        pl.lit(line.voucher_order, pl.Int64).alias("voucher_order"),
        pl.lit(line.index, pl.Int64).alias("line"),
        pl.lit(line.voucher_key, pl.String).alias("voucher_key"),
        pl.lit(audience.name, pl.String).alias("audience"),
        pl.lit(audience.key, pl.String).alias("key_kind"),
        pl.col(audience.key).cast(pl.String).alias("customer_key"),
        name.cast(pl.String).alias("customer_name"),
        pl.lit(str(audience.path), pl.String).alias("source_file"),
        pl.col(ROW).cast(pl.Int64).alias("source_row"),
        pl.lit(audience.sheet, pl.String).alias("source_sheet"),
        quantity.cast(pl.Int64).alias("quantity"),
        pl.lit(kind, pl.String).alias("list_kind"),
        pl.lit(audience.columns.get(kind) if kind else None, pl.String).alias("list_column"),
        listed.cast(pl.String).alias("list_value"),
    )
    return rows, []


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=LINE_SCHEMA)


def _filtered(line: GrantLine, locate: Locate) -> tuple[pl.DataFrame, list[Problem]]:
    """The audience rows the line's ``where`` keeps (all rows without one)."""
    audience = line.audience
    mapped = list(audience.columns)
    frame = audience.frame.select([*mapped, ROW])
    if line.where is None:
        return frame, []
    at = locate(f"{line.yaml_path}.where")
    try:
        condition = pl.sql_expr(line.where)
    except pl.exceptions.PolarsError as exc:
        return frame, [_where_problem(f"is not a valid SQL condition ({_first_line(exc)})", at)]
    unknown = sorted(set(condition.meta.root_names()) - set(mapped))
    if unknown:
        names = ", ".join(mapped)
        message = (
            f"refers to {', '.join(unknown)}, which audience {audience.name!r} does not map "
            f"(its columns: {names})"
        )
        return frame, [_where_problem(message, at)]
    try:
        kept = frame.filter(condition)
    except pl.exceptions.PolarsError as exc:
        return frame, [_where_problem(f"cannot be evaluated ({_first_line(exc)})", at)]
    return kept, []


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _where_problem(message: str, at: Location) -> Problem:
    return Problem(f"the where condition {message}", at, _WHERE_HINT)


def _quantity(
    line: GrantLine, chosen: pl.DataFrame, locate: Locate
) -> tuple[pl.Expr, list[Problem]]:
    """The quantity expression for the chosen rows, after checking a quantity column."""
    if isinstance(line.quantity, int):
        return pl.lit(line.quantity, pl.Int64), []
    column = line.quantity
    at = locate(f"{line.yaml_path}.quantity")
    audience = replace(line.audience, frame=chosen)
    problems = check_quantity(audience, column, yaml_path=at.yaml_path)
    if not problems:
        problems = _too_large(chosen, column, audience, at)
    return pl.col(column).cast(pl.Int64, strict=False), [_with_line(p, at) for p in problems]


def _too_large(
    chosen: pl.DataFrame, column: str, audience: AudienceTable, at: Location
) -> list[Problem]:
    """Quantities above what one customer can hold of a voucher (eachCmNum, NUMERIC(5)):
    digit-only cells too long for Int64 included, so no sum of them can overflow."""
    count = pl.col(column).cast(pl.Int64, strict=False)
    bad = chosen.filter(count.is_null() | (count > MAX_COUNT))
    header = audience.columns.get(column, column)
    return [
        Problem(
            f"the quantity {quoted(text)} is too large: one customer can hold at most "
            f"{MAX_COUNT} of a voucher (the API's eachCmNum is NUMERIC(5))",
            Location(file=str(audience.path), sheet=audience.sheet, row=row, column=header),
            f"Write the number of vouchers this customer gets (at most {MAX_COUNT}), and run "
            "again.",
        )
        for text, row in bad.select(column, ROW).iter_rows()
    ]


def _with_line(problem: Problem, at: Location) -> Problem:
    """A problem found in the campaign file itself gets the grant's line too."""
    where = problem.where
    if where.yaml_path is not None and where.line is None and where.row is None:
        return replace(problem, where=replace(where, file=at.file, line=at.line))
    return problem


def combine(lines: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Every line's rows (LINE_SCHEMA) in one frame, without rows of quantity 0."""
    return pl.concat([_empty(), *lines], how="vertical").filter(pl.col("quantity") > 0)


def explode_jobs(campaign: str, rows: pl.DataFrame) -> pl.DataFrame:
    """One row per grant call (JOB_SCHEMA), sorted by voucher, customer, key kind and seq.

    ``rows`` come from :func:`combine`. The same customer reached by several lines of one
    voucher gets seq 1..total, the earlier line (in campaign order) taking the lower numbers.

    Sorted by voucher, customer, key kind and line, a customer's copies of one voucher
    are neighbours, already in seq order: seq is the distance from the first row of the
    run, found by comparing each row with the one before (no grouping, no second sort).
    """
    customer = ["voucher_key", "key_kind", "customer_key"]
    exploded = (
        rows.sort(["voucher_order", "customer_key", "key_kind", "line"], maintain_order=True)
        .with_columns(pl.int_ranges(0, pl.col("quantity")).alias("_copy"))
        .explode("_copy")
        .with_row_index("_index")
    )
    first = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in customer)
    start = pl.when(first).then(pl.col("_index")).otherwise(None).forward_fill()
    exploded = exploded.with_columns((pl.col("_index") - start + 1).cast(pl.Int64).alias("seq"))
    ids = job_ids(
        campaign,
        exploded.get_column("voucher_key"),
        exploded.get_column("key_kind"),
        exploded.get_column("customer_key"),
        exploded.get_column("seq"),
    )
    jobs = exploded.with_columns(ids)
    return jobs.select(JOB_COLUMNS).cast(pl.Schema(JOB_SCHEMA))
