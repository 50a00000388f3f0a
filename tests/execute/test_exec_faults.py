"""Exactly once under injected faults: lost responses, 5xx, resets, pushback, a restart."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from runner.clock import BEIJING
from runner.errors import ApiUnreachable
from runner.ledger import campaign_dir
from runner.ops.run import run_campaign
from runner.ops.verify import verify_campaign
from runner.sandbox import ManualClock, SandboxConfig, SandboxServer
from runner.sandbox.testing import inspect

from .conftest import (
    APPKEY,
    CAMPAIGN,
    FAST,
    OPENID,
    REGISTRY,
    assert_exactly_planned,
    audience,
    east_audience,
    granted,
    options,
    plan_of,
    registry,
    results,
    sandbox,
    voucher,
    wait_until,
    write_audience,
    write_campaign,
)

# Reads keep a low fault rate of their own: they are retried, but a listing that fails
# ten times in a row would end the run, and that is not what these tests are about.
_CALM_READS = (
    "http_5xx@queryVoucherUsedInfo=0.05,reset@queryVoucherUsedInfo=0.05,"
    "http_5xx@getVoucherInfos=0.05,reset@getVoucherInfos=0.05"
)


def _extra_customers(start: int, count: int) -> pl.DataFrame:
    """Registry customers that are not in the east sample (it holds the first 40)."""
    east_codes = {f"CUS01{n:04d}" for n in range(1, 41)}
    rest = registry().filter(~pl.col("code").is_in(sorted(east_codes)))
    return rest.slice(start, count)


def _two_voucher_campaign(tmp_path: Path, **api: Any) -> Path:
    """East sample by cm_code (75 grants) and 30 more customers by cm_id (1-3 each)."""
    by_id = write_audience(tmp_path / "by_id.csv", _extra_customers(0, 30))
    return write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"east": east_audience(tmp_path), "more": audience(by_id, key="cm_id")},
        vouchers={"ten-off": voucher("满100减10"), "five-off": voucher("满100减5", money="5.00")},
        grants=[
            {"voucher": "ten-off", "audience": "east", "quantity": "qty"},
            {"voucher": "five-off", "audience": "more", "quantity": "qty"},
        ],
        **api,
    )


def test_lost_responses_on_create_and_grant_are_adopted_not_resent(tmp_path: Path) -> None:
    """Every create answer and 30% of grant answers are lost, yet each effect happens once."""
    campaign = _two_voucher_campaign(tmp_path)
    faults = "lost_response@addVoucherInfo=1.0,lost_response@receiveVoucherInfo=0.3"
    with sandbox(faults=faults, seed=11) as server:
        result = run_campaign(campaign, options(tmp_path / "state", server.base_url))
        plan = plan_of(campaign, server.base_url)
        assert result.exit_code == 0, result.summary
        assert_exactly_planned(server.base_url, plan, tmp_path / "state")
        counters = inspect(server.base_url)["counters"]
    creates, grants = counters["addVoucherInfo"], counters["receiveVoucherInfo"]
    assert creates["lost_response"] == creates["applied"] == creates["received"] == 2
    assert grants["lost_response"] > 0
    assert grants["applied"] == plan.jobs.height


def test_answers_later_than_the_timeout_are_reconciled_not_resent(tmp_path: Path) -> None:
    """Answers sent after the client's timeout (applied, then read-timed-out) are adopted by
    reconciliation: one create and one grant per planned effect."""
    customers = write_audience(tmp_path / "aud.csv", _extra_customers(40, 12))
    campaign = write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(customers)},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
    )
    faults = (
        "lost_response@addVoucherInfo=1.0,lost_response@receiveVoucherInfo=0.3,"
        "lost_response_delay=1500ms"
    )
    with sandbox(faults=faults, seed=21) as server:
        result = run_campaign(campaign, options(tmp_path / "state", server.base_url))
        plan = plan_of(campaign, server.base_url)
        assert result.exit_code == 0, result.summary
        assert_exactly_planned(server.base_url, plan, tmp_path / "state")
        counters = inspect(server.base_url)["counters"]
    creates, grants = counters["addVoucherInfo"], counters["receiveVoucherInfo"]
    assert creates["received"] == creates["applied"] == 1
    assert grants["lost_response"] > 0
    assert grants["received"] == grants["applied"] == plan.jobs.height


@pytest.mark.slow
def test_grants_applied_after_the_client_gave_up_are_found_after_settling(tmp_path: Path) -> None:
    """A vendor that applies each grant 1.5 s after it arrived, past the 1 s timeout, gets no
    second copy: reconciliation waits settle_s before it reads the remote counts."""
    customers = write_audience(tmp_path / "aud.csv", _extra_customers(80, 6))
    campaign = write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(customers)},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        concurrency=12,
        settle_s=2.5,  # longer than the 0.5 s by which a grant outlives the timeout
    )
    with sandbox(faults="latency@receiveVoucherInfo=1500ms", seed=23) as server:
        result = run_campaign(campaign, options(tmp_path / "state", server.base_url))
        plan = plan_of(campaign, server.base_url)
        assert result.exit_code == 0, result.summary
        assert_exactly_planned(server.base_url, plan, tmp_path / "state")
        grants = inspect(server.base_url)["counters"]["receiveVoucherInfo"]
    assert grants["received"] == grants["applied"] == plan.jobs.height
    calls = result.summary.calls or {}
    assert calls["queryVoucherUsedInfo"] > 3  # verify reads 3 listings; the rest reconciled


@pytest.mark.slow
def test_5xx_and_resets_are_reconciled_then_resent(tmp_path: Path) -> None:
    """With 20% 5xx and 20% resets on every write, the remote still ends equal to the plan."""
    campaign = _two_voucher_campaign(tmp_path)
    faults = f"http_5xx=0.2,reset=0.2,{_CALM_READS}"
    with sandbox(faults=faults, seed=5) as server:
        result = run_campaign(campaign, options(tmp_path / "state", server.base_url))
        plan = plan_of(campaign, server.base_url)
        assert result.exit_code == 0, result.summary
        table = assert_exactly_planned(server.base_url, plan, tmp_path / "state")
        grants = inspect(server.base_url)["counters"]["receiveVoucherInfo"]
    assert grants["http_5xx"] > 0
    assert grants["reset"] > 0
    assert grants["received"] > grants["applied"] == plan.jobs.height
    retried = table.filter(pl.col("attempts").cast(pl.Int64) > 1)
    assert retried.height > 0


@pytest.mark.slow
@pytest.mark.retry_waits
@pytest.mark.parametrize("rate_mode", ["http429", "refusal"])
def test_pushback_storm_slows_down_and_finishes(tmp_path: Path, rate_mode: str) -> None:
    """A sandbox allowing 4 requests/s against a campaign asking 200 pushes back, and the run
    still finishes with every grant made once."""
    customers = write_audience(tmp_path / "aud.csv", _extra_customers(0, 12))
    campaign = write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(customers)},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        rate=200,
        concurrency=16,
    )
    with sandbox(rate=4, rate_mode=rate_mode, seed=2) as server:
        result = run_campaign(campaign, options(tmp_path / "state", server.base_url))
        plan = plan_of(campaign, server.base_url)
        assert result.exit_code == 0, result.summary
        assert_exactly_planned(server.base_url, plan, tmp_path / "state")
        counters = inspect(server.base_url)["counters"]
    assert isinstance(result.summary.pushbacks, int)
    assert result.summary.pushbacks > 0
    assert sum(row["rate_limited"] for row in counters.values()) > 0


@pytest.mark.slow
@pytest.mark.retry_waits
def test_undeclared_lower_rate_limit_is_found_by_backing_off(tmp_path: Path) -> None:
    """A campaign configured at 50 requests/s against a sandbox allowing 5 finishes exactly."""
    customers = write_audience(tmp_path / "aud.csv", _extra_customers(20, 15))
    campaign = write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(customers, key="cm_id")},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        rate=50,
        concurrency=4,
    )
    with sandbox(rate=5, seed=4, faults="lost_response@receiveVoucherInfo=0.1") as server:
        result = run_campaign(campaign, options(tmp_path / "state", server.base_url))
        plan = plan_of(campaign, server.base_url)
        assert result.exit_code == 0, result.summary
        assert_exactly_planned(server.base_url, plan, tmp_path / "state")
    assert isinstance(result.summary.pushbacks, int)
    assert result.summary.pushbacks > 0


class _Restarter(threading.Thread):
    """Stops the sandbox once some grants exist and starts a new one on its port and file."""

    def __init__(self, server: SandboxServer, config: SandboxConfig, after: int) -> None:
        super().__init__(name="sandbox-restarter", daemon=True)
        self.old, self.config, self.after = server, config, after
        self.new: SandboxServer | None = None
        self.granted_before: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            wait_until(lambda: granted(self.old.base_url) >= self.after, timeout=60)
            self.old.stop()
            state = json.loads(self.config.state_file.read_text("utf-8"))  # type: ignore[union-attr]
            self.granted_before = len(state["instances"])
            time.sleep(0.3)
            self.new = SandboxServer(self.config).start()
        except BaseException as exc:  # reported by the test
            self.error = exc


@pytest.mark.slow
@pytest.mark.retry_waits
def test_sandbox_restart_mid_run_loses_nothing(tmp_path: Path) -> None:
    """The vendor goes away mid-run and comes back from its state file; a run (and, if it
    gave up, one rerun) ends with the remote equal to the plan."""
    customers = write_audience(tmp_path / "aud.csv", _extra_customers(0, 40))
    campaign = write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(customers)},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        rate=25,
        concurrency=4,
    )
    config = SandboxConfig(
        customers_file=REGISTRY,
        openid=OPENID,
        appkey=APPKEY,
        state_file=tmp_path / "sandbox-state.json",
        seed=9,
    )
    first = SandboxServer(config).start()
    restarter = _Restarter(first, dataclasses.replace(config, port=first.port), 15)
    state = tmp_path / "state"
    try:
        restarter.start()
        code = run_campaign(campaign, options(state, first.base_url)).exit_code
        restarter.join(timeout=30)
        assert restarter.error is None
        assert restarter.new is not None
        second = restarter.new
        if code == 4:  # gave up while the vendor was away: a rerun carries on
            code = run_campaign(campaign, options(state, second.base_url)).exit_code
        assert code == 0
        plan = plan_of(campaign, second.base_url)
        assert restarter.granted_before is not None
        assert 15 <= restarter.granted_before < plan.jobs.height
        assert_exactly_planned(second.base_url, plan, state)
        assert inspect(second.base_url)["counters"]["receiveVoucherInfo"]["applied"] > 0
    finally:
        first.stop()
        if restarter.new is not None:
            restarter.new.stop()


def test_unreachable_api_exits_4_and_a_rerun_completes_once_it_is_up(tmp_path: Path) -> None:
    """With nothing listening, the run exits 4 (environment) with no failures listed; once the
    vendor is up on that address, a rerun grants exactly the plan."""
    customers = write_audience(tmp_path / "aud.csv", _extra_customers(60, 10))
    campaign = write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(customers)},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        max_attempts=2,
    )
    state = tmp_path / "state"
    # The sandbox binds port 0 itself; stopped, nothing listens on the address it reported.
    with sandbox(seed=22) as server:
        server.stop()
        down = options(state, server.base_url, settings=dataclasses.replace(FAST, rounds=2))
        with pytest.raises(ApiUnreachable) as caught:  # looking for the voucher first
            run_campaign(campaign, down)
        assert caught.value.exit_code == 4
        failures = pl.read_csv(campaign_dir(state, CAMPAIGN) / "failures.csv", infer_schema=False)
        assert failures.is_empty()
        assert set(results(state)["state"]) == {"planned"}

        server.start()  # back on the port it had
        again = run_campaign(campaign, options(state, server.base_url))
        assert again.exit_code == 0, again.summary
        assert_exactly_planned(server.base_url, plan_of(campaign, server.base_url), state)


@pytest.mark.parametrize("years", [-2, 2], ids=["vendor-behind", "vendor-ahead"])
def test_a_vendor_clock_years_off_neither_duplicates_nor_loses_a_voucher(
    tmp_path: Path, years: int
) -> None:
    """With the vendor's clock two years off ours, lost create answers are still found by
    reconciliation (no second voucher) and verify sees no drift (exit 0)."""
    campaign = _two_voucher_campaign(tmp_path)
    skewed = ManualClock(datetime.now(BEIJING) + timedelta(days=365 * years))
    faults = "lost_response@addVoucherInfo=1.0"
    with sandbox(faults=faults, seed=31, clock=skewed) as server:
        result = run_campaign(campaign, options(tmp_path / "state", server.base_url))
        assert result.exit_code == 0, result.summary
        assert_exactly_planned(
            server.base_url, plan_of(campaign, server.base_url), tmp_path / "state"
        )
        creates = inspect(server.base_url)["counters"]["addVoucherInfo"]
        checked = verify_campaign(campaign, options(tmp_path / "state", server.base_url))
    assert creates["applied"] == creates["received"] == 2
    assert checked.exit_code == 0, checked.summary
