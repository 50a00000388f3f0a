"""One voucher with more grants than one page of queryVoucherUsedInfo (1,000) holds.

Verify and reconciliation must read every instance: a run that saw only the first page
would report a mismatch, or take the missing grants for absent and grant them again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.ops.run import run_campaign
from runner.sandbox.testing import inspect
from runner.summaries import RunSummary

from .conftest import (
    assert_exactly_planned,
    audience,
    options,
    plan_of,
    registry,
    sandbox,
    voucher,
    write_audience,
    write_campaign,
)

PER_CUSTOMER = 10
FAST_API = {"rate": 400, "concurrency": 16}


def _campaign(tmp_path: Path, customers: int, **voucher_fields: Any) -> Path:
    """One voucher granted PER_CUSTOMER times to each of the first *customers* customers."""
    frame = registry().slice(0, customers)
    assert frame.height == customers, "the sample registry is too small"
    shops = write_audience(tmp_path / "shops.csv", frame, [PER_CUSTOMER] * customers)
    return write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(shops)},
        vouchers={"big": voucher("满100减10", **voucher_fields)},
        grants=[{"voucher": "big", "audience": "shops", "quantity": "qty"}],
        **FAST_API,
    )


def _verify(summary: RunSummary) -> dict[str, Any]:
    assert summary.verify is not None, summary
    return summary.verify.model_dump()


@pytest.mark.slow
def test_1210_grants_of_one_voucher_verify_on_the_first_run(tmp_path: Path) -> None:
    """1,210 grants (121 customers x 10) run clean, exit 0, and verify sees all 1,210."""
    campaign = _campaign(tmp_path, 121)
    state = tmp_path / "state"
    with sandbox(seed=31) as server:
        result = run_campaign(campaign, options(state, server.base_url))
        plan = plan_of(campaign, server.base_url)
        counters = inspect(server.base_url)["counters"]
        assert result.exit_code == 0, result.summary
        assert_exactly_planned(server.base_url, plan, state)
    verify = _verify(result.summary)
    assert plan.jobs.height == 1210
    assert verify["ok"] is True, verify
    assert verify["remote_instances"] == 1210
    assert counters["receiveVoucherInfo"]["received"] == 1210
    # unused (page 1 full, page 2 short), used, expired: at least four reads
    assert counters["queryVoucherUsedInfo"]["received"] >= 4


@pytest.mark.slow
def test_1210_grants_verify_against_a_server_ignoring_paging(tmp_path: Path) -> None:
    """Against a sandbox answering every instance to every page, verify still counts 1,210."""
    campaign = _campaign(tmp_path, 121)
    state = tmp_path / "state"
    with sandbox(seed=32, ignore_paging=True) as server:
        result = run_campaign(campaign, options(state, server.base_url))
        plan = plan_of(campaign, server.base_url)
        assert result.exit_code == 0, result.summary
        assert_exactly_planned(server.base_url, plan, state)
    verify = _verify(result.summary)
    assert verify["ok"] is True, verify
    assert verify["remote_instances"] == 1210


@pytest.mark.slow
def test_1650_grants_with_room_to_spare_survive_lost_responses(tmp_path: Path) -> None:
    """With total 2000 and a per-customer limit of 12 the server cannot stop a second copy,
    yet 10% lost responses on 1,650 grants end with exactly the planned grants."""
    campaign = _campaign(tmp_path, 165, total=2000, each_customer_limit=PER_CUSTOMER + 2)
    state = tmp_path / "state"
    with sandbox(seed=33, faults="lost_response=0.1") as server:
        result = run_campaign(campaign, options(state, server.base_url))
        plan = plan_of(campaign, server.base_url)
        counters = inspect(server.base_url)["counters"]
        assert result.exit_code == 0, result.summary
        assert_exactly_planned(server.base_url, plan, state)
    grants = counters["receiveVoucherInfo"]
    assert plan.jobs.height == 1650
    assert plan.vouchers[0].num == 2000
    assert grants["lost_response"] > 0
    assert grants["applied"] == 1650
    assert _verify(result.summary)["remote_instances"] == 1650
