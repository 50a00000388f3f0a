"""Two campaigns of one tenant at once, each in its own thread: one shared rate budget.

The sandbox allows exactly the rate each campaign asks for. Run side by side on a shared
:class:`RateBudget`, the two together stay under it (no pushback at all); run side by side
without one, together they ask twice the limit and are pushed back.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from runner.execute import HEADROOM, RateBudget
from runner.ops import RunResult
from runner.ops.run import run_campaign
from runner.plan import Plan
from runner.sandbox.testing import inspect

from .conftest import (
    ID_TEXT,
    STRAY_PUSHBACKS,
    assert_no_appkey,
    audience,
    options,
    plan_of,
    registry,
    results,
    sandbox,
    voucher,
    write_audience,
    write_campaign,
)

#: The sandbox's limit (requests/second, all operations), and each campaign's own rate.
RATE = 20
#: Customers per campaign (1-3 grants each): enough for the runs to overlap for seconds,
#: so that without a shared budget the sandbox's one-second bucket surely runs dry.
CUSTOMERS = 30


def _campaigns(tmp_path: Path) -> list[Path]:
    """Two different campaigns, each with its own voucher and customers (by cm_code, by cm_id)."""
    customers = registry()
    by_code = write_audience(tmp_path / "by_code.csv", customers.slice(0, CUSTOMERS))
    by_id = write_audience(tmp_path / "by_id.csv", customers.slice(CUSTOMERS, CUSTOMERS))
    first = write_campaign(
        tmp_path / "first.yaml",
        name="shared-first",
        audiences={"shops": audience(by_code)},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        rate=RATE,
    )
    second = write_campaign(
        tmp_path / "second.yaml",
        name="shared-second",
        audiences={"shops": audience(by_id, key="cm_id")},
        vouchers={"five-off": voucher("满50减5", money="5.00", doorsill_amount="50")},
        grants=[{"voucher": "five-off", "audience": "shops", "quantity": "qty"}],
        rate=RATE,
    )
    return [first, second]


def _run_side_by_side(
    campaigns: list[Path], state: Path, base_url: str, budget: RateBudget | None
) -> list[RunResult]:
    """Each campaign in its own thread (each ``asyncio.run``s its own loop), all at once."""
    with ThreadPoolExecutor(max_workers=len(campaigns)) as pool:
        futures = [
            pool.submit(run_campaign, campaign, options(state, base_url, budget=budget))
            for campaign in campaigns
        ]
        return [future.result() for future in futures]


def _rate_limited(base_url: str) -> int:
    """How many requests the sandbox pushed back, over all operations."""
    return sum(row["rate_limited"] for row in inspect(base_url)["counters"].values())


def _received(base_url: str) -> int:
    """How many vendor requests the sandbox received, over all operations."""
    return sum(row["received"] for row in inspect(base_url)["counters"].values())


def _cm_id_of(kind: str, key: str, customers: pl.DataFrame) -> str:
    """The registry's cm_id of a customer named by cm_code or cm_id."""
    column = {"cm_code": "code", "cm_id": "id"}[kind]
    return str(customers.filter(pl.col(column) == key)["id"].item())


def _assert_all_exactly_planned(base_url: str, plans: list[Plan], state: Path) -> None:
    """The tenant holds exactly the vouchers and grants of all the plans, none twice."""
    snapshot, customers = inspect(base_url), registry()
    expected: Counter[tuple[str, str]] = Counter()
    voucher_ids: set[str] = set()
    for plan in plans:
        table = results(state, plan.campaign)
        assert sorted(table["job_id"].to_list()) == sorted(plan.jobs["job_id"].to_list())
        assert set(table["state"].to_list()) == {"done"}, plan.campaign
        remote_id: dict[str, str] = {}
        for key, ids in table.group_by("voucher_key").agg(pl.col("voucher_id").unique()).rows():
            assert len(ids) == 1, (key, ids)
            assert ID_TEXT.match(ids[0]), (key, ids)
            remote_id[key] = ids[0]
        assert set(remote_id) == {v.key for v in plan.vouchers}
        voucher_ids |= set(remote_id.values())
        for job in plan.jobs.iter_rows(named=True):
            cm_id = _cm_id_of(job["key_kind"], job["customer_key"], customers)
            expected[(remote_id[job["voucher_key"]], cm_id)] += 1
    assert {v["id"] for v in snapshot["vouchers"]} == voucher_ids
    assert len(snapshot["vouchers"]) == sum(len(plan.vouchers) for plan in plans)
    actual: Counter[tuple[str, str]] = Counter(
        {
            (voucher_id, cm_id): held["count"]
            for voucher_id, per_customer in snapshot["grants"].items()
            for cm_id, held in per_customer.items()
        }
    )
    assert actual == expected, {"missing": expected - actual, "extra": actual - expected}
    assert_no_appkey(state)


def _side_by_side(tmp_path: Path, budget: RateBudget | None) -> dict[str, Any]:
    """Run both campaigns at once against a sandbox limited to :data:`RATE`; what it saw."""
    campaigns, state = _campaigns(tmp_path), tmp_path / "state"
    with sandbox(rate=RATE) as server:
        ran = _run_side_by_side(campaigns, state, server.base_url, budget)
        assert [r.exit_code for r in ran] == [0, 0], [r.summary for r in ran]
        plans = [plan_of(campaign, server.base_url) for campaign in campaigns]
        _assert_all_exactly_planned(server.base_url, plans, state)
        return {
            "rate_limited": _rate_limited(server.base_url),
            "received": _received(server.base_url),
            "pushbacks": [r.summary.pushbacks for r in ran],
        }


def test_two_campaigns_sharing_a_budget_are_never_pushed_back(tmp_path: Path) -> None:
    """Together the two runs stay under the tenant's limit: no 429 but a stray one, both done."""
    budget = RateBudget(10 * RATE)  # each run lowers it to its campaign's rate, less headroom
    seen = _side_by_side(tmp_path, budget)
    assert budget.rate == pytest.approx(RATE * HEADROOM)
    assert seen["rate_limited"] <= STRAY_PUSHBACKS, seen
    assert sum(seen["pushbacks"]) <= STRAY_PUSHBACKS, seen
    # more requests than the sandbox's bucket holds: staying under it was no accident
    assert seen["received"] > 2 * RATE, seen


@pytest.mark.slow
def test_the_same_two_campaigns_without_a_budget_are_pushed_back(tmp_path: Path) -> None:
    """The control: each run alone keeps to the limit, together they ask twice it."""
    seen = _side_by_side(tmp_path, None)
    assert seen["rate_limited"] > STRAY_PUSHBACKS, seen
