"""Exactly once across stops: SIGINT and rerun, SIGKILL at random moments, a rerun after success."""

from __future__ import annotations

import contextlib
import json
import random
import signal
import subprocess
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from runner.ledger import campaign_dir
from runner.ops.run import run_campaign
from runner.sandbox.testing import inspect

from .conftest import (
    REPO,
    assert_exactly_planned,
    east_audience,
    grant_calls,
    granted,
    options,
    plan_of,
    results,
    runner_command,
    sandbox,
    sandbox_process,
    shops_campaign,
    start_run,
    subprocess_env,
    voucher,
    wait_until,
    write_campaign,
)

KILL_SEED = 20240611
KILLS = 4


def _campaign(tmp_path: Path, customers: int, **api: Any) -> Path:
    return shops_campaign(tmp_path, customers, first=40, **api)


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_mid_run_records_everything_and_a_rerun_completes(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """SIGINT or SIGTERM stops a run with exit 130, results and unprocessed.csv agree with
    the remote, and a rerun finishes the campaign exactly."""
    campaign = _campaign(tmp_path, 30, rate=15, concurrency=4)
    state, log = tmp_path / "state", tmp_path / "run.log"
    with sandbox(seed=6) as server:
        plan = plan_of(campaign, server.base_url)
        child = start_run(campaign, state, server.base_url, log)
        try:
            wait_until(lambda: child.poll() is not None or granted(server.base_url) >= 5)
            child.send_signal(stop)
            assert child.wait(timeout=60) == 130, log.read_text("utf-8")[-3000:]
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        assert "resume" in log.read_text("utf-8")
        table = results(state)
        done = table.filter(pl.col("state") == "done")
        unprocessed = pl.read_csv(
            campaign_dir(state, plan.campaign) / "unprocessed.csv", infer_schema=False
        )
        assert unprocessed.height > 0
        assert done.height + unprocessed.height == plan.jobs.height
        assert granted(server.base_url) == done.height

        result = run_campaign(campaign, options(state, server.base_url))
        assert result.exit_code == 0, result.summary
        assert_exactly_planned(server.base_url, plan, state)


def _wait_exit(child: subprocess.Popen[bytes], seconds: float) -> None:
    """Wait up to ``seconds`` for the child to end by itself."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=seconds)


def _status_json(campaign: Path, state: Path, base_url: str) -> dict[str, object]:
    command = runner_command("status", str(campaign), "--state-dir", str(state), "--json")
    done = subprocess.run(
        command, env=subprocess_env(base_url), capture_output=True, cwd=REPO, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    summary: dict[str, object] = json.loads(done.stdout)
    return summary


@pytest.mark.slow
def test_sigkill_at_random_moments_then_rerun_grants_exactly_the_plan(tmp_path: Path) -> None:
    """Four SIGKILLs at seeded random moments against a sandbox in another process, then a
    rerun: the remote holds exactly the plan, and ``runner status --json`` works in between."""
    campaign = _campaign(tmp_path, 50, rate=30, concurrency=4)
    state, log = tmp_path / "state", tmp_path / "run.log"
    rng = random.Random(KILL_SEED)
    faults = "lost_response@addVoucherInfo=0.5,lost_response@receiveVoucherInfo=0.02"
    with sandbox_process(tmp_path, seed=KILL_SEED, faults=faults) as base_url:
        plan = plan_of(campaign, base_url)
        killed = 0
        for round_no in range(KILLS):
            before = granted(base_url)
            child = start_run(campaign, state, base_url, log)
            if round_no == 0:  # anywhere: start-up, planning, creating or granting
                _wait_exit(child, rng.uniform(0.3, 2.0))
            else:  # somewhere in the grant phase
                wait_until(lambda c=child, b=before: c.poll() is not None or granted(base_url) > b)
                _wait_exit(child, rng.uniform(0.0, 0.6))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                killed += 1
            code = child.wait(timeout=30)
            assert code in (-signal.SIGKILL, 0), log.read_text("utf-8")[-3000:]
            if round_no == 1:  # once in between (it granted, so the ledger exists)
                summary = _status_json(campaign, state, base_url)
                rerun = summary["rerun_would"]
                assert isinstance(rerun, dict)
                assert rerun["grant"] + rerun["already_done"] == plan.jobs.height
        assert killed >= 2
        assert 0 < granted(base_url) < plan.jobs.height

        final = start_run(campaign, state, base_url, log)
        assert final.wait(timeout=120) == 0, log.read_text("utf-8")[-3000:]
        assert_exactly_planned(base_url, plan, state)
        summary = _status_json(campaign, state, base_url)
        assert summary["rerun_would"] == {
            "grant": 0,
            "already_done": plan.jobs.height,
            "new_jobs": 0,
            "failed_for_retry_failed": 0,
            "review": 0,
            "no_longer_planned": 0,
            "voucher_conflicts": [],
        }


def test_second_run_after_success_makes_no_grant_calls(tmp_path: Path) -> None:
    """A rerun of a finished campaign sends no create and no grant, verifies, and exits 0."""
    campaign = write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"east": east_audience(tmp_path)},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "east", "quantity": "qty"}],
    )
    state = tmp_path / "state"
    with sandbox(seed=8, faults="lost_response@receiveVoucherInfo=0.2") as server:
        assert run_campaign(campaign, options(state, server.base_url)).exit_code == 0
        plan = plan_of(campaign, server.base_url)
        assert_exactly_planned(server.base_url, plan, state)
        before = inspect(server.base_url)["counters"]

        again = run_campaign(campaign, options(state, server.base_url))
        after = inspect(server.base_url)["counters"]
        assert again.exit_code == 0, again.summary
        assert after["receiveVoucherInfo"] == before["receiveVoucherInfo"]
        assert after["addVoucherInfo"] == before["addVoucherInfo"]
        assert grant_calls(server.base_url) == before["receiveVoucherInfo"]["received"]
        assert (again.summary.calls or {}).get("receiveVoucherInfo", 0) == 0
        verify = again.summary.verify
        assert verify is not None
        assert verify.ok is True
        assert verify.remote_instances == plan.jobs.height
        assert_exactly_planned(server.base_url, plan, state)
