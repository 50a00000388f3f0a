"""The report's figures, computed from the instances frame alone (pure: no I/O).

For any group of granted instances (a voucher, an audience, a value of a segment column,
the whole campaign):

- ``granted``: instances the vendor lists, whatever their status;
- ``used``, ``unused``, ``expired``: instances with ``use_status`` 1, 0 and 2;
- ``redemption_rate`` = used / granted (null when nothing was granted);
- ``order_count``: distinct ``order_id`` among the used instances (an order that used two
  instances of the group counts once; a used instance without an order id, none);
- ``order_amount``: the sum of ``order_amount`` over those distinct orders;
- ``discount``: the sum of ``voucher_amount`` (the discount actually given) over the used
  instances;
- ``amount_per_discount`` = order_amount / discount (null when no discount was given).

Per day (the Beijing date of ``order_create_time``, as the vendor writes it): used,
order_count, order_amount and discount of the instances used that day, and the running
totals ``cumulative_used`` and ``cumulative_discount``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from runner.report._frames import NOT_IN_LEDGER

__all__ = [
    "DAY_COLUMNS",
    "EMPTY_VALUE",
    "FIGURE_COLUMNS",
    "ReportFigures",
    "compute_figures",
    "figures",
]

#: A segment cell with no value.
EMPTY_VALUE = "(empty)"
FIGURE_COLUMNS: tuple[str, ...] = (
    "granted",
    "used",
    "unused",
    "expired",
    "redemption_rate",
    "order_count",
    "order_amount",
    "discount",
    "amount_per_discount",
)
DAY_COLUMNS: tuple[str, ...] = (
    "date",
    "used",
    "order_count",
    "order_amount",
    "discount",
    "cumulative_used",
    "cumulative_discount",
)
_MONEY = pl.Decimal(38, 4)
_FIGURE_SCHEMA: dict[str, pl.DataType] = {
    "granted": pl.Int64(),
    "used": pl.Int64(),
    "unused": pl.Int64(),
    "expired": pl.Int64(),
    "redemption_rate": pl.Float64(),
    "order_count": pl.Int64(),
    "order_amount": _MONEY,
    "discount": _MONEY,
    "amount_per_discount": pl.Float64(),
}
_ALL = "_all"


@dataclass(frozen=True)
class ReportFigures:
    """Every table of the report: figures in all, per voucher, audience, segment and day,
    and the instances they come from."""

    totals: pl.DataFrame
    vouchers: pl.DataFrame
    audiences: pl.DataFrame
    segments: pl.DataFrame
    days: pl.DataFrame
    instances: pl.DataFrame
    segment_columns: tuple[str, ...]

    @property
    def any_usage(self) -> bool:
        """True once at least one instance was used."""
        return int(self.totals["used"][0]) > 0


def _status_count(status: str) -> pl.Expr:
    """How many instances of a group have *status*."""
    return (pl.col("status") == status).sum().cast(pl.Int64).alias(status)


def _orders(frame: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Per group: distinct orders of the used instances and the sum of their amounts."""
    return (
        frame.filter(pl.col("order_id").is_not_null())
        .unique([*by, "order_id"], keep="first", maintain_order=True)
        .group_by(by)
        .agg(
            pl.len().cast(pl.Int64).alias("order_count"),
            pl.col("order_amount").sum().cast(_MONEY).alias("order_amount"),
        )
    )


def _ratios(frame: pl.DataFrame) -> pl.DataFrame:
    """Redemption rate and order amount per unit of discount, rounded to 4 places."""
    discount = pl.col("discount").cast(pl.Float64)
    return frame.with_columns(
        pl.when(pl.col("granted") > 0)
        .then((pl.col("used") / pl.col("granted")).round(4))
        .otherwise(None)
        .alias("redemption_rate"),
        pl.when(discount > 0)
        .then((pl.col("order_amount").cast(pl.Float64) / discount).round(4))
        .otherwise(None)
        .alias("amount_per_discount"),
    )


def _zero_filled(frame: pl.DataFrame) -> pl.DataFrame:
    """Counts and money of a group without any instance (or order) are 0."""
    counts = ("granted", "used", "unused", "expired", "order_count")
    return frame.with_columns(
        *(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts),
        *(pl.col(c).fill_null(0).cast(_MONEY) for c in ("order_amount", "discount")),
    )


def figures(frame: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """The figures (:data:`FIGURE_COLUMNS`) of each group of *frame* by the columns *by*."""
    counts = frame.group_by(by).agg(
        pl.len().cast(pl.Int64).alias("granted"),
        *(_status_count(s) for s in ("used", "unused", "expired")),
        pl.col("discount").sum().cast(_MONEY).alias("discount"),
    )
    joined = counts.join(_orders(frame, by), on=list(by), how="left", nulls_equal=True)
    return _ratios(_zero_filled(joined)).select([*by, *FIGURE_COLUMNS])


def _totals(instances: pl.DataFrame) -> pl.DataFrame:
    """One row: the figures of every instance of the campaign."""
    with_all = instances.with_columns(pl.lit(1).alias(_ALL))
    whole = figures(with_all, [_ALL])
    if whole.is_empty():
        whole = _ratios(_zero_filled(pl.DataFrame({_ALL: [1]}).join(whole, on=_ALL, how="left")))
    return whole.select(FIGURE_COLUMNS)


def _by_voucher(instances: pl.DataFrame, vouchers: pl.DataFrame) -> pl.DataFrame:
    """Every voucher of *vouchers* (key, id, name) in its order, with its figures."""
    found = figures(instances, ["voucher_key"])
    joined = vouchers.join(found, on="voucher_key", how="left", maintain_order="left")
    return _ratios(_zero_filled(joined)).select([*vouchers.columns, *FIGURE_COLUMNS])


def _by_audience(instances: pl.DataFrame) -> pl.DataFrame:
    """Per audience, by name, the instances no job matches last."""
    return figures(instances, ["audience"]).sort([pl.col("audience") == NOT_IN_LEDGER, "audience"])


def _by_segment(instances: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Per segment column and value (an empty cell is :data:`EMPTY_VALUE`)."""
    schema = {"segment": pl.String(), "value": pl.String()} | _FIGURE_SCHEMA
    parts = [pl.DataFrame(schema=schema)]
    for column in columns:
        valued = instances.with_columns(pl.col(column).fill_null(EMPTY_VALUE).alias("value"))
        part = figures(valued, ["value"]).sort("value")
        parts.append(part.select(pl.lit(column).alias("segment"), pl.all()))
    return pl.concat(parts, how="vertical_relaxed")


def _by_day(instances: pl.DataFrame) -> pl.DataFrame:
    """Per Beijing day with at least one instance used, with running totals."""
    used = instances.filter(pl.col("used_date").is_not_null()).rename({"used_date": "date"})
    counts = used.group_by("date").agg(
        pl.len().cast(pl.Int64).alias("used"),
        pl.col("discount").sum().cast(_MONEY).alias("discount"),
    )
    days = counts.join(_orders(used, ["date"]), on="date", how="left").sort("date")
    return days.with_columns(
        pl.col("order_count").fill_null(0).cast(pl.Int64),
        pl.col("order_amount").fill_null(0).cast(_MONEY),
        pl.col("used").cum_sum().cast(pl.Int64).alias("cumulative_used"),
        pl.col("discount").cum_sum().cast(_MONEY).alias("cumulative_discount"),
    ).select(DAY_COLUMNS)


def compute_figures(
    instances: pl.DataFrame, vouchers: pl.DataFrame, segment_columns: Sequence[str]
) -> ReportFigures:
    """Every table of the report from the instances frame and the vouchers (``voucher_key``,
    ``voucher_id``, ``voucher_name``, in campaign order)."""
    return ReportFigures(
        totals=_totals(instances),
        vouchers=_by_voucher(instances, vouchers),
        audiences=_by_audience(instances),
        segments=_by_segment(instances, segment_columns),
        days=_by_day(instances),
        instances=instances,
        segment_columns=tuple(segment_columns),
    )
