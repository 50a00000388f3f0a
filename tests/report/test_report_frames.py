"""The join and the figures on small hand-made data: which audience an instance belongs
to, orders counted once, empty segment cells, vouchers nothing was granted of."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl

from runner.api import VoucherUsage
from runner.report import (
    EMPTY_VALUE,
    NOT_IN_LEDGER,
    compute_figures,
    instances_frame,
    usage_frame,
)
from runner.report._svg import Bar, axis_steps, bar_chart
from runner.sheets import AudienceTable

JOB_SCHEMA = {
    "voucher_key": pl.String,
    "audience": pl.String,
    "key_kind": pl.String,
    "customer_key": pl.String,
    "customer_name": pl.String,
    "seq": pl.Int64,
}


def _usage(n: int, cm_id: str, status: str = "0", **order: str) -> VoucherUsage:
    """Instance *n* of customer *cm_id* (code C-<id>), granted at minute *n*."""
    return VoucherUsage(
        id=f"9{n:018d}",
        cm_id=cm_id,
        cm_code=f"C-{cm_id}",
        cm_name=f"remote {cm_id}",
        distribute_time=f"2027-01-01 10:{n:02d}:00",
        use_status=status,
        **order,
    )


def _audience(name: str, rows: list[tuple[str, str | None]]) -> AudienceTable:
    """An audience keyed by cm_id with a ``level`` column."""
    frame = pl.DataFrame(
        {"cm_id": [r[0] for r in rows], "level": [r[1] for r in rows]},
        schema={"cm_id": pl.String, "level": pl.String},
    )
    columns = {"cm_id": "客户ID", "level": "客户等级"}
    return AudienceTable(name, Path(f"{name}.csv"), None, "cm_id", frame, columns, "utf-8")


def _jobs(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    """Jobs of voucher v by cm_id: (audience, customer, seq)."""
    data = [
        {
            "voucher_key": "v",
            "audience": a,
            "key_kind": "cm_id",
            "customer_key": c,
            "customer_name": f"sheet {c}",
            "seq": s,
        }
        for a, c, s in rows
    ]
    return pl.DataFrame(data, schema=JOB_SCHEMA)


def _vouchers() -> pl.DataFrame:
    """Vouchers v and w (w has no instance)."""
    return pl.DataFrame(
        {"voucher_key": ["v", "w"], "voucher_id": ["1" * 19, "2" * 19], "voucher_name": ["V", "W"]}
    )


def test_instances_take_their_customers_jobs_in_order() -> None:
    """A customer's 1st instance goes to its seq-1 job's audience, the 2nd to seq 2, a
    3rd (beyond the jobs) to the last; an unknown customer's is not in the ledger."""
    usages = [_usage(3, "A"), _usage(1, "A"), _usage(2, "A"), _usage(4, "X")]
    jobs = _jobs([("south", "A", 2), ("north", "A", 1)])
    audiences = {"north": _audience("north", [("A", "gold")]), "south": _audience("south", [])}
    frame = instances_frame(usage_frame({"v": usages}), jobs, audiences, ["level"])
    by_instance = {r["instance_id"]: r for r in frame.iter_rows(named=True)}
    assert [by_instance[u.id]["audience"] for u in usages] == [
        "south",
        "north",
        "south",
        NOT_IN_LEDGER,
    ]
    assert by_instance[usages[1].id]["level"] == "gold"
    assert by_instance[usages[0].id]["level"] is None  # south's file has no row for A
    assert by_instance[usages[1].id]["customer_name"] == "sheet A"
    assert by_instance[usages[3].id]["customer_name"] == "remote X"
    assert by_instance[usages[3].id]["customer_key"] == "C-X"


def test_an_order_is_counted_once_and_an_unused_voucher_shows_zeros() -> None:
    """Two instances used by one order: one order, its amount once, both discounts; a
    used instance without an order id adds no order; voucher w has nothing granted."""
    shared = {
        "order_id": "77",
        "order_amount": "300.00",
        "order_create_time": "2027-01-02 23:59:59",
    }
    usages = [
        _usage(1, "A", "1", voucher_amount="10.00", **shared),
        _usage(2, "A", "1", voucher_amount="10.00", **shared),
        _usage(3, "B", "1", voucher_amount="5.50", order_create_time="2027-01-03 00:00:00"),
        _usage(4, "B", "2"),
        _usage(5, "C"),
    ]
    jobs = _jobs([("north", c, s) for c in "ABC" for s in (1, 2)])
    audiences = {"north": _audience("north", [("A", "gold"), ("B", None)])}
    frame = instances_frame(usage_frame({"v": usages}), jobs, audiences, ["level"])
    figures = compute_figures(frame, _vouchers(), ["level"])
    v, w = figures.vouchers.to_dicts()
    assert (v["granted"], v["used"], v["unused"], v["expired"]) == (5, 3, 1, 1)
    assert (v["order_count"], v["order_amount"], v["discount"]) == (
        1,
        Decimal("300.0000"),
        Decimal("25.5000"),
    )
    assert v["redemption_rate"] == 0.6
    assert (w["granted"], w["redemption_rate"], w["amount_per_discount"]) == (0, None, None)
    levels = {r["value"]: r["granted"] for r in figures.segments.to_dicts()}
    assert levels == {"gold": 2, EMPTY_VALUE: 3}
    days = figures.days.select("date", "used", "cumulative_used").rows()
    assert [(str(d), u, c) for d, u, c in days] == [("2027-01-02", 2, 2), ("2027-01-03", 1, 3)]


def test_axis_steps_are_round_and_whole_for_counts() -> None:
    """Counts step by whole numbers; money by 1, 2 or 5 × 10^k, at most 5 steps."""
    assert axis_steps(5, whole=True) == (1.0, 5)
    assert axis_steps(2, whole=True) == (1.0, 2)
    assert axis_steps(162, whole=False) == (50.0, 4)
    assert axis_steps(0.3, whole=False) == (0.1, 3)


def test_chart_text_is_escaped() -> None:
    """A label with markup is drawn as text, never as SVG."""
    svg = bar_chart("x", "t", [Bar("<b>&", 0.5, "50%")], top=1.0)
    assert "<b>" not in svg
    assert "&lt;b&gt;&amp;" in svg
