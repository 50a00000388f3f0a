"""The report's one row per granted instance: remote usage joined to the ledger's jobs and
to the audiences' own columns, with polars.

Each remote instance (``queryVoucherUsedInfo``) is matched to the ledger's jobs of its
voucher by the customer key the jobs used (``cm_id``, ``cm_code`` or ``cm_source_code``,
in that order of preference when several match). A customer's instances, oldest first
(``distribute_time``, then id), take the customer's jobs in ``seq`` order: the n-th
instance belongs to the audience of the n-th job, and instances beyond the jobs to the
audience of the last one. An instance no job matches (granted outside the runner) has
the audience :data:`NOT_IN_LEDGER`. The audience's row of the customer (by its key
column) then brings the segment columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from runner.api import VoucherUsage
from runner.campaign import Campaign
from runner.errors import UsageError
from runner.keys import KEY_KINDS
from runner.ledger import JobRecord, VoucherRecord
from runner.sheets import AudienceTable

__all__ = [
    "INSTANCE_COLUMNS",
    "NOT_IN_LEDGER",
    "STATUSES",
    "instances_frame",
    "jobs_frame",
    "segment_columns",
    "segment_labels",
    "usage_frame",
    "vouchers_frame",
]

#: The audience of an instance that no job of the ledger matches.
NOT_IN_LEDGER = "(not in the ledger)"
#: ``use_status`` → the status the report shows; any other value reads "unknown".
STATUSES: Mapping[str, str] = {"0": "unused", "1": "used", "2": "expired"}
_CUSTOMER = ("voucher_key", "key_kind", "customer_key")
_MONEY = pl.Decimal(38, 4)

_USAGE_SCHEMA: Mapping[str, pl.DataType] = {
    "voucher_key": pl.String(),
    "voucher_id": pl.String(),
    "voucher_name": pl.String(),
    "instance_id": pl.String(),
    "cm_id": pl.String(),
    "cm_code": pl.String(),
    "cm_source_code": pl.String(),
    "cm_name": pl.String(),
    "use_status": pl.String(),
    "distribute_time": pl.String(),
    "order_id": pl.String(),
    "order_no": pl.String(),
    "order_create_time": pl.String(),
    "order_amount": pl.String(),
    "voucher_amount": pl.String(),
}
_JOB_SCHEMA: Mapping[str, pl.DataType] = {
    "voucher_key": pl.String(),
    "audience": pl.String(),
    "key_kind": pl.String(),
    "customer_key": pl.String(),
    "customer_name": pl.String(),
    "seq": pl.Int64(),
}
#: The columns of :func:`instances_frame`, before the segment columns.
INSTANCE_COLUMNS: tuple[str, ...] = (
    "voucher_key",
    "voucher_id",
    "voucher_name",
    "instance_id",
    "audience",
    "key_kind",
    "customer_key",
    "cm_id",
    "cm_code",
    "customer_name",
    "status",
    "distribute_time",
    "order_id",
    "order_no",
    "order_time",
    "used_date",
    "order_amount",
    "discount",
)


def _mapped_columns(audiences: Mapping[str, AudienceTable]) -> list[str]:
    """Every mapped column name of the audiences, in campaign order, each once."""
    names = [name for table in audiences.values() for name in table.columns]
    return list(dict.fromkeys(names))


def _not_segments(campaign: Campaign) -> set[str]:
    """Mapped names that identify, name or count a customer rather than describe one."""
    quantities = {g.quantity for g in campaign.grants if isinstance(g.quantity, str)}
    return {*KEY_KINDS, "cm_name", "qty", *quantities, *INSTANCE_COLUMNS}


def segment_columns(
    campaign: Campaign, audiences: Mapping[str, AudienceTable], chosen: Sequence[str] = ()
) -> tuple[str, ...]:
    """The audience columns the report is cut by: *chosen* (``--by``), else every mapped
    column that is not a customer key, the name or a quantity.

    A chosen name that no audience maps is a :class:`UsageError` listing those it could be.
    """
    mapped = _mapped_columns(audiences)
    usable = [c for c in mapped if c not in INSTANCE_COLUMNS]
    if not chosen:
        excluded = _not_segments(campaign)
        return tuple(c for c in usable if c not in excluded)
    unknown = [c for c in chosen if c not in usable]
    if unknown:
        raise UsageError(
            f"--by {', '.join(unknown)}: no audience of the campaign maps such a column",
            hint="Use one of the audiences' mapped column names: " + ", ".join(usable),
        )
    return tuple(dict.fromkeys(chosen))


def segment_labels(
    audiences: Mapping[str, AudienceTable], columns: Sequence[str]
) -> dict[str, str]:
    """Each segment column's header text in the first audience file that maps it."""
    labels: dict[str, str] = {}
    for table in audiences.values():
        for name in columns:
            if name in table.columns:
                labels.setdefault(name, table.columns[name])
    return labels


def vouchers_frame(vouchers: Iterable[VoucherRecord]) -> pl.DataFrame:
    """The vouchers the ledger holds a remote id for: key, id and name, in campaign order."""
    rows = [
        {
            "voucher_key": v.voucher_key,
            "voucher_id": v.remote_id,
            "voucher_name": str(v.fields.get("name") or "") or None,
        }
        for v in vouchers
        if v.remote_id
    ]
    schema = {"voucher_key": pl.String, "voucher_id": pl.String, "voucher_name": pl.String}
    return pl.DataFrame(rows, schema=schema)


def _usage_row(voucher_key: str, usage: VoucherUsage, voucher_id: str | None) -> dict[str, Any]:
    """One instance's fields by our column names (the voucher id asked for, if it has none)."""
    row = {name: getattr(usage, name, None) for name in _USAGE_SCHEMA}
    return row | {
        "voucher_key": voucher_key,
        "voucher_id": usage.voucher_id or voucher_id,
        "instance_id": usage.id,
    }


def usage_frame(
    usages: Mapping[str, Sequence[VoucherUsage]], ids: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Every remote instance as text, keyed by the voucher key it was read for (*ids*: the
    remote id of each voucher key, for rows that do not repeat it)."""
    known = ids or {}
    rows = [
        _usage_row(key, usage, known.get(key)) for key, items in usages.items() for usage in items
    ]
    return pl.DataFrame(rows, schema=_USAGE_SCHEMA)


def jobs_frame(jobs: Iterable[JobRecord]) -> pl.DataFrame:
    """The ledger's jobs (planned or not any more): who was meant to get which voucher."""
    rows = [{name: getattr(job, name) for name in _JOB_SCHEMA} for job in jobs]
    return pl.DataFrame(rows, schema=_JOB_SCHEMA)


def _matched_keys(usage: pl.DataFrame, jobs: pl.DataFrame) -> pl.DataFrame:
    """Per instance, the key kind and customer key of the jobs it matches (the first kind
    of :data:`KEY_KINDS` that matches any job of the voucher)."""
    known = jobs.select(_CUSTOMER).unique()
    candidates = usage.unpivot(
        index=["voucher_key", "instance_id"],
        on=list(KEY_KINDS),
        variable_name="key_kind",
        value_name="customer_key",
    ).drop_nulls("customer_key")
    rank = {kind: n for n, kind in enumerate(KEY_KINDS)}
    return (
        candidates.join(known, on=_CUSTOMER, how="semi")
        .with_columns(pl.col("key_kind").replace_strict(rank, return_dtype=pl.Int64).alias("_k"))
        .sort("_k")
        .unique(["voucher_key", "instance_id"], keep="first")
        .drop("_k")
    )


def _slots(jobs: pl.DataFrame) -> pl.DataFrame:
    """Each job's place among its customer's jobs of one voucher (``_n``, from 1), and how
    many that customer has (``_slots``)."""
    return jobs.sort(["seq", "audience"]).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(_CUSTOMER).alias("_n"),
        pl.len().over(_CUSTOMER).cast(pl.Int64).alias("_slots"),
    )


def _attributed(usage: pl.DataFrame, jobs: pl.DataFrame) -> pl.DataFrame:
    """The usage with the audience and name of the job each instance belongs to."""
    slots = _slots(jobs)
    counted = slots.select([*_CUSTOMER, "_slots"]).unique()
    numbered = (
        usage.join(_matched_keys(usage, jobs), on=["voucher_key", "instance_id"], how="left")
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
            .over(_CUSTOMER, order_by=["distribute_time", "instance_id"])
            .alias("_n")
        )
        .join(counted, on=_CUSTOMER, how="left", nulls_equal=False)
        .with_columns(pl.min_horizontal("_n", "_slots").alias("_n"))
    )
    chosen = slots.select([*_CUSTOMER, "_n", "audience", "customer_name"])
    return numbered.join(chosen, on=[*_CUSTOMER, "_n"], how="left").drop("_n", "_slots")


def _segments(audiences: Mapping[str, AudienceTable], columns: Sequence[str]) -> pl.DataFrame:
    """Per audience and customer key, the segment columns of the customer's first row."""
    parts = [
        table.frame.select(
            pl.lit(name).alias("audience"),
            pl.col(table.key).alias("customer_key"),
            *(pl.col(c) for c in columns if c in table.frame.columns),
        )
        .drop_nulls("customer_key")
        .unique("customer_key", keep="first", maintain_order=True)
        for name, table in audiences.items()
    ]
    schema = {"audience": pl.String, "customer_key": pl.String} | dict.fromkeys(columns, pl.String)
    empty = pl.DataFrame(schema=schema)
    return pl.concat([empty, *parts], how="diagonal_relaxed")


def _money(column: str) -> pl.Expr:
    """A money text column of a used instance as a decimal (null when not used or unreadable)."""
    value = pl.col(column).str.strip_chars().str.to_decimal(scale=4)
    return pl.when(pl.col("status") == "used").then(value).otherwise(None).cast(_MONEY)


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    """Statuses in words, the used day (Beijing, as the vendor writes times), money as decimals."""
    used = pl.col("status") == "used"
    order_id = pl.col("order_id").str.strip_chars()
    return frame.with_columns(
        pl.col("use_status").replace_strict(STATUSES, default="unknown").alias("status")
    ).with_columns(
        pl.when(used & (pl.col("order_create_time") != ""))
        .then(pl.col("order_create_time"))
        .otherwise(None)
        .alias("order_time"),
        pl.when(used)
        .then(pl.col("order_create_time").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
        .otherwise(None)
        .alias("used_date"),
        pl.when(used & (order_id != "")).then(order_id).otherwise(None).alias("order_id"),
        _money("order_amount").alias("order_amount"),
        _money("voucher_amount").alias("discount"),
        pl.col("audience").fill_null(NOT_IN_LEDGER),
        pl.coalesce("customer_name", "cm_name").alias("customer_name"),
        pl.coalesce("customer_key", "cm_code", "cm_id").alias("customer_key"),
    )


def instances_frame(
    usage: pl.DataFrame,
    jobs: pl.DataFrame,
    audiences: Mapping[str, AudienceTable],
    segment_columns: Sequence[str],
) -> pl.DataFrame:
    """One row per remote instance (:data:`INSTANCE_COLUMNS` then *segment_columns*),
    in voucher, audience and customer order."""
    attributed = _typed(_attributed(usage, jobs))
    joined = attributed.join(
        _segments(audiences, segment_columns), on=["audience", "customer_key"], how="left"
    )
    columns = [*INSTANCE_COLUMNS, *segment_columns]
    return joined.select(columns).sort(
        ["voucher_key", "audience", "customer_key", "distribute_time", "instance_id"],
        maintain_order=True,
    )
