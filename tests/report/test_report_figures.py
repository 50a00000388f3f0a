"""``runner report`` against the sandbox: every figure equals what the sandbox's own state
gives when counted independently, per voucher, audience, segment column and day."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from runner.errors import ApiUnreachable, MissingCredentials, UsageError
from runner.ops.report import ReportOptions, report_campaign
from tests.execute.conftest import env_for, options

from .conftest import (
    TRICKY_DISTRICT,
    Reported,
    expected,
    figures_of,
    grouped,
    make_campaign,
    report,
    run_and_mark,
    sandbox,
)


def _approx(figures: dict[str, Any]) -> dict[str, Any]:
    """Ratios compared to 4 decimals, everything else exactly."""
    out = dict(figures)
    for name in ("redemption_rate", "amount_per_discount"):
        if out[name] is not None:
            out[name] = pytest.approx(out[name], abs=1e-4)
    return out


def test_totals_and_vouchers_equal_the_sandbox(reported: Reported) -> None:
    """Granted, used, unused, expired, rate, orders, amounts and discount, in all and per
    voucher, are what the sandbox holds (ZKBL discounts capped at 30)."""
    summary, instances = reported.summary, reported.instances
    assert figures_of(summary.totals) == _approx(expected(instances))
    want = grouped(instances, lambda i: i["voucher"])
    got = {v.name: figures_of(v) for v in summary.by_voucher}
    assert got == {name: _approx(figures) for name, figures in want.items()}
    assert [v.key for v in summary.by_voucher] == ["ten-off", "zk"]
    assert summary.totals.used == 8
    assert summary.totals.expired == 3
    zk = next(v for v in summary.by_voucher if v.key == "zk")
    assert zk.discount == "72.00"  # 30 + 30 (capped) + 12


def test_audiences_and_segments_equal_the_sandbox(reported: Reported) -> None:
    """Per audience, level and district (the audience's own columns), the figures are the
    sandbox's instances grouped by what the audience files say of each customer."""
    summary, instances = reported.summary, reported.instances
    about = reported.campaign.customers

    def attribute(name: str) -> Any:
        """What the audience files say of an instance's customer (empty: ``(empty)``)."""
        return lambda i: about[i["cm_id"]][name] or "(empty)"

    assert summary.segment_columns == ["level", "district"]
    got_audiences = {a.value: figures_of(a) for a in summary.by_audience}
    want_audiences = grouped(instances, attribute("audience"))
    assert got_audiences == {k: _approx(v) for k, v in want_audiences.items()}
    for column in ("level", "district"):
        got = {s.value: figures_of(s) for s in summary.by_segment if s.column == column}
        want = grouped(instances, attribute(column))
        assert got == {k: _approx(v) for k, v in want.items()}, column
    districts = {s.value for s in summary.by_segment if s.column == "district"}
    assert {TRICKY_DISTRICT, "(empty)"} <= districts


def test_days_and_running_totals_equal_the_sandbox(reported: Reported) -> None:
    """Used instances per Beijing day of their order, and the running totals."""
    summary, instances = reported.summary, reported.instances
    per_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in instances:
        if item["use_status"] == "1":
            per_day[item["order_create_time"][:10]].append(item)
    assert [d.date for d in summary.by_day] == ["2027-01-05", "2027-01-06", "2027-01-07"]
    running_used, running_discount = 0, Decimal(0)
    for day in summary.by_day:
        figures = expected(per_day[day.date])
        running_used += figures["used"]
        running_discount += Decimal(figures["discount"])
        assert (day.used, day.order_count) == (figures["used"], figures["order_count"])
        assert (day.order_amount, day.discount) == (figures["order_amount"], figures["discount"])
        assert day.cumulative_used == running_used
        assert Decimal(day.cumulative_discount) == running_discount
    assert summary.by_day[-1].cumulative_used == summary.totals.used


def test_the_summary_says_what_was_used_and_lists_its_files(reported: Reported) -> None:
    """any_usage is true, the message counts, and every listed file was written."""
    summary, campaign = reported.summary, reported.campaign
    assert summary.any_usage is True
    assert (
        summary.message
        == f"{summary.totals.used} of {summary.totals.granted} granted voucher(s) used"
    )
    out = campaign.state / "exec-test" / "report"
    assert Path(summary.out_dir) == out.resolve()
    names = sorted(Path(f).name for f in summary.files)
    assert names[:2] == ["report-audiences.csv", "report-days.csv"]
    assert {"report.xlsx", "report.html"} <= set(names)
    assert all(Path(f).is_file() for f in summary.files)


def test_a_campaign_without_usage_says_so(tmp_path: Path) -> None:
    """Before any instance is used the report says "no voucher was used yet", draws no
    chart and has no day."""
    with sandbox(seed=32) as server:
        campaign = make_campaign(tmp_path, server.base_url, shops=3, vips=1)
        run_and_mark(campaign, [])
        summary = report(campaign)
    assert summary.any_usage is False
    assert summary.message == "no voucher was used yet"
    assert summary.by_day == []
    assert summary.totals.granted == (1 + 2 + 3) + 1 + 2  # shops by qty; vip: 1 and 2 zk
    page = (Path(summary.out_dir) / "report.html").read_text("utf-8")
    assert "no voucher was used yet" in page
    assert "还没有优惠券被使用" in page
    assert "<svg" not in page


def test_by_names_the_segment_columns_and_refuses_unknown_ones(tmp_path: Path) -> None:
    """--by level cuts by level alone; --by a column no audience maps exits 2, unread."""
    with sandbox(seed=33) as server:
        campaign = make_campaign(tmp_path, server.base_url, shops=3, vips=1)
        run_and_mark(campaign, [("满100减10", {"used": 1})])
        summary = report(campaign, by=("level",), formats=("csv",))
        assert summary.segment_columns == ["level"]
        assert {s.column for s in summary.by_segment} == {"level"}
        assert [Path(f).suffix for f in summary.files] == [".csv"] * 6
        with pytest.raises(UsageError, match="--by region"):
            report(campaign, by=("region",))


def test_never_ran_missing_credentials_and_unreachable_api(tmp_path: Path) -> None:
    """A campaign that never ran exits 2 with a hint; missing credentials and an API that
    does not answer exit 4."""
    with sandbox(seed=34) as server:
        campaign = make_campaign(tmp_path, server.base_url, shops=2, vips=1)
        with pytest.raises(UsageError, match="never ran") as never:
            report(campaign)
        assert never.value.exit_code == 2
        assert "runner run" in (never.value.hint or "")
        run_and_mark(campaign, [])
        env = env_for(server.base_url) | {"WAIQIN_APPKEY": ""}
        bare = options(campaign.state, server.base_url, env={k: v for k, v in env.items() if v})
        with pytest.raises(MissingCredentials) as missing:
            report_campaign(campaign.path, ReportOptions(run=bare))
        assert missing.value.exit_code == 4
    # the sandbox is gone: nothing listens at its address any more
    with pytest.raises(ApiUnreachable) as unreachable:
        report(campaign)
    assert unreachable.value.exit_code == 4
