"""Exactly once when the campaign changes, the vendor refuses, or the run must not start."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from runner.errors import (
    ConfirmationRequired,
    CredentialsRejected,
    InvalidInput,
    LockHeld,
    PlanChanged,
)
from runner.ledger import Ledger, campaign_dir
from runner.ops.plan import preview_campaign
from runner.ops.run import run_campaign
from runner.ops.verify import verify_campaign
from runner.sandbox import SandboxConfig, SandboxServer
from runner.sandbox.testing import inspect, signed_post

from .conftest import (
    APPKEY,
    CAMPAIGN,
    HEADERS,
    OPENID,
    REGISTRY,
    REPO,
    assert_exactly_planned,
    audience,
    env_for,
    grant_calls,
    options,
    plan_of,
    registry,
    runner_command,
    sandbox,
    subprocess_env,
    voucher,
    write_audience,
    write_campaign,
)


def _shops(tmp_path: Path, count: int = 20, start: int = 100) -> dict[str, Any]:
    customers = registry().slice(start, count)
    return audience(write_audience(tmp_path / "shops.csv", customers), key="cm_code")


def _fixed_voucher(**overrides: Any) -> dict[str, Any]:
    """A voucher whose num and eachCmNum do not depend on the grants."""
    return voucher("满100减10", total=200, each_customer_limit=3) | overrides


def test_added_grants_run_alone_and_an_edited_voucher_is_refused(tmp_path: Path) -> None:
    """Raising a quantity and adding a grant line sends only the new grants; editing a
    created voucher exits 2 saying to use a new voucher key, and sends nothing."""
    shops = _shops(tmp_path)
    path, state = tmp_path / "campaign.yaml", tmp_path / "state"
    one = {"voucher": "ten-off", "audience": "shops", "quantity": 1}
    with sandbox(seed=12) as server:
        write_campaign(
            path, audiences={"shops": shops}, vouchers={"ten-off": _fixed_voucher()}, grants=[one]
        )
        assert run_campaign(path, options(state, server.base_url)).exit_code == 0
        first = plan_of(path, server.base_url)
        assert_exactly_planned(server.base_url, first, state)
        calls_before = grant_calls(server.base_url)

        more: list[dict[str, Any]] = [
            one | {"quantity": 2},
            {"voucher": "five-off", "audience": "shops", "where": "level = 'A'"},
        ]
        vouchers = {"ten-off": _fixed_voucher(), "five-off": voucher("满100减5", money="5.00")}
        write_campaign(path, audiences={"shops": shops}, vouchers=vouchers, grants=more)
        second = plan_of(path, server.base_url)
        new_jobs = set(second.jobs["job_id"]) - set(first.jobs["job_id"])
        assert set(first.jobs["job_id"]) <= set(second.jobs["job_id"])
        assert run_campaign(path, options(state, server.base_url)).exit_code == 0
        assert grant_calls(server.base_url) - calls_before == len(new_jobs) > 20
        assert_exactly_planned(server.base_url, second, state)

        counters = inspect(server.base_url)["counters"]
        edited = {"ten-off": _fixed_voucher(money="8.00"), "five-off": vouchers["five-off"]}
        write_campaign(path, audiences={"shops": shops}, vouchers=edited, grants=more)
        with pytest.raises(InvalidInput) as refused:
            run_campaign(path, options(state, server.base_url))
        assert refused.value.exit_code == 2
        [problem] = refused.value.problems()
        assert problem.where.yaml_path == "vouchers.ten-off"
        assert problem.where.file == str(path)
        assert problem.where.line is not None
        assert "new voucher key" in (problem.hint or "")
        assert inspect(server.base_url)["counters"] == counters

        write_campaign(path, audiences={"shops": shops}, vouchers=vouchers, grants=more)
        assert run_campaign(path, options(state, server.base_url)).exit_code == 0
        assert (
            inspect(server.base_url)["counters"]["receiveVoucherInfo"]
            == (counters["receiveVoucherInfo"])
        )
        assert_exactly_planned(server.base_url, second, state)


def test_customer_unknown_remotely_fails_for_good_until_retried_after_the_fix(
    tmp_path: Path,
) -> None:
    """A customer the vendor lacks makes exit 1 with failures.csv in the audience's columns;
    retry-failed fails again cleanly until the vendor knows the customer, then finishes."""
    full = registry()
    chosen = full.slice(60, 15)
    missing = chosen.row(4, named=True)
    partial = tmp_path / "registry-without-one.csv"
    full.filter(pl.col("code") != missing["code"]).write_csv(partial)
    shops = audience(write_audience(tmp_path / "shops.csv", chosen))
    scope = voucher("满100减10", customers={"levels": ["A", "B", "C"]})
    path = write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": shops},
        vouchers={"ten-off": scope},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
    )
    state = tmp_path / "state"
    config = SandboxConfig(
        customers_file=partial,
        openid=OPENID,
        appkey=APPKEY,
        state_file=tmp_path / "sandbox-state.json",
        seed=13,
    )
    first = SandboxServer(config).start()
    fixed: SandboxServer | None = None
    try:
        result = run_campaign(path, options(state, first.base_url))
        plan = plan_of(path, first.base_url)
        assert result.exit_code == 1, result.summary
        assert_exactly_planned(first.base_url, plan, state, refused={missing["code"]})
        failures = pl.read_csv(campaign_dir(state, CAMPAIGN) / "failures.csv", infer_schema=False)
        assert failures["客户编码"].to_list() == [missing["code"]]
        row = failures.row(0, named=True)
        assert row["客户ID"] == missing["id"]
        assert row["客户名称"] == missing["name"]
        assert row["数量"] == row["failed_grants"]
        assert "客户不存在" in row["error"]

        refused_before = inspect(first.base_url)["counters"]["receiveVoucherInfo"]["refused"]
        again = run_campaign(path, options(state, first.base_url, retry_failed=True))
        assert again.exit_code == 1, again.summary
        refused_after = inspect(first.base_url)["counters"]["receiveVoucherInfo"]["refused"]
        assert refused_after - refused_before == int(row["数量"])
        assert_exactly_planned(first.base_url, plan, state, refused={missing["code"]})

        first.stop()  # the vendor adds the customer: same port, same state, full registry
        fixed = SandboxServer(
            dataclasses.replace(config, customers_file=REGISTRY, port=first.port)
        ).start()
        done = run_campaign(path, options(state, fixed.base_url, retry_failed=True))
        assert done.exit_code == 0, done.summary
        assert_exactly_planned(fixed.base_url, plan, state)
    finally:
        first.stop()
        if fixed is not None:
            fixed.stop()


def test_no_confirmation_or_a_changed_plan_hash_refuses_before_sending(tmp_path: Path) -> None:
    """Without a terminal and without --yes, or with a stale --plan-hash, exit 2 and nothing
    is sent; confirming the current plan then runs it exactly."""
    path, state = tmp_path / "campaign.yaml", tmp_path / "state"
    shops = _shops(tmp_path, 10)
    one = {"voucher": "ten-off", "audience": "shops", "quantity": "qty"}
    with sandbox(seed=14) as server:
        write_campaign(
            path, audiences={"shops": shops}, vouchers={"ten-off": voucher("满减")}, grants=[one]
        )
        env = env_for(server.base_url)
        approved = preview_campaign(path, state, env=env).preview.plan_hash

        with pytest.raises(ConfirmationRequired) as unattended:
            run_campaign(path, options(state, server.base_url, yes=False, confirm=None))
        assert unattended.value.exit_code == 2
        with pytest.raises(ConfirmationRequired):
            run_campaign(path, options(state, server.base_url, yes=False, confirm=lambda *_: False))
        command = runner_command("run", str(path), "--state-dir", str(state))
        child = subprocess.run(
            command,
            env=subprocess_env(server.base_url),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=REPO,
            timeout=60,
        )
        assert child.returncode == 2
        assert b"--yes" in child.stderr

        extra = {"voucher": "five-off", "audience": "shops", "where": "level = 'A'"}
        vouchers = {"ten-off": voucher("满减"), "five-off": voucher("满减5", money="5.00")}
        write_campaign(path, audiences={"shops": shops}, vouchers=vouchers, grants=[one, extra])
        with pytest.raises(PlanChanged) as stale:
            run_campaign(path, options(state, server.base_url, plan_hash=approved))
        assert stale.value.exit_code == 2
        assert "five-off is new" in stale.value.message
        assert inspect(server.base_url)["counters"] == {}

        plan = plan_of(path, server.base_url)
        confirmed = options(
            state, server.base_url, yes=False, confirm=lambda *_: True, plan_hash=plan.plan_hash
        )
        assert run_campaign(path, confirmed).exit_code == 0
        assert_exactly_planned(server.base_url, plan, state)


def test_a_held_campaign_lock_exits_4_and_sends_nothing(tmp_path: Path) -> None:
    """While another holder has the campaign's lock a run exits 4 at once; afterwards it runs."""
    path, state = tmp_path / "campaign.yaml", tmp_path / "state"
    with sandbox(seed=15) as server:
        write_campaign(
            path,
            audiences={"shops": _shops(tmp_path, 12)},
            vouchers={"ten-off": voucher("满100减10")},
            grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        )
        with (
            Ledger.open(state, CAMPAIGN, command="holder-in-test"),
            pytest.raises(LockHeld) as held,
        ):
            run_campaign(path, options(state, server.base_url))
        assert held.value.exit_code == 4
        assert "holder-in-test" in held.value.message
        assert inspect(server.base_url)["counters"] == {}

        assert run_campaign(path, options(state, server.base_url)).exit_code == 0
        assert_exactly_planned(server.base_url, plan_of(path, server.base_url), state)


def test_verify_reports_a_grant_made_behind_the_runners_back(tmp_path: Path) -> None:
    """verify exits 0 on a finished campaign and 3 once the remote holds an extra instance."""
    path, state = tmp_path / "campaign.yaml", tmp_path / "state"
    shops = registry().slice(100, 8)
    with sandbox(seed=16) as server:
        write_campaign(
            path,
            audiences={"shops": audience(write_audience(tmp_path / "s.csv", shops, [1] * 8))},
            vouchers={"ten-off": voucher("满100减10", each_customer_limit=2, total=20)},
            grants=[{"voucher": "ten-off", "audience": "shops"}],
        )
        assert run_campaign(path, options(state, server.base_url)).exit_code == 0
        plan = plan_of(path, server.base_url)
        table = assert_exactly_planned(server.base_url, plan, state)
        assert verify_campaign(path, options(state, server.base_url)).exit_code == 0

        voucher_id, code = table["voucher_id"][0], shops["code"][0]
        body = {"voucherId": voucher_id, "cmCode": code}
        answer = signed_post(server.base_url, "receiveVoucherInfo", body, OPENID, APPKEY).json()
        assert answer["return_code"] == "0"
        with pytest.raises(AssertionError, match="extra"):
            assert_exactly_planned(server.base_url, plan, state)
        checked = verify_campaign(path, options(state, server.base_url))
        assert checked.exit_code == 3
        verify = checked.summary.verify
        assert verify is not None
        assert [(m.customer_key, m.remote, m.ledger) for m in verify.mismatches] == [(code, 2, 1)]


def test_grants_dropped_from_the_campaign_are_kept_and_reported(tmp_path: Path) -> None:
    """Lowering a quantity after a run (total: auto) revokes nothing, keeps the created
    voucher as it is, and reports the dropped grants."""
    shops = _shops(tmp_path, count=6)
    path, state = tmp_path / "campaign.yaml", tmp_path / "state"
    two = {"voucher": "ten-off", "audience": "shops", "quantity": 2}
    with sandbox(seed=21) as server:
        vouchers = {"ten-off": voucher("满100减10")}
        write_campaign(path, audiences={"shops": shops}, vouchers=vouchers, grants=[two])
        assert run_campaign(path, options(state, server.base_url)).exit_code == 0
        before = plan_of(path, server.base_url)
        write_campaign(
            path, audiences={"shops": shops}, vouchers=vouchers, grants=[two | {"quantity": 1}]
        )
        result = run_campaign(path, options(state, server.base_url))
        assert result.exit_code == 0
        assert result.summary.no_longer_planned == {"done": 6}
        assert_exactly_planned(server.base_url, before, state)
    results = pl.read_csv(campaign_dir(state, CAMPAIGN) / "results.csv", infer_schema=False)
    assert results.filter(pl.col("planned") == "no longer").height == 6
    assert set(results.filter(pl.col("planned") == "no longer")["seq"].to_list()) == {"2"}


def test_a_created_voucher_cannot_grow(tmp_path: Path) -> None:
    """Raising quantities beyond what an auto-sized voucher was created with exits 2,
    names what grew, and sends nothing; a smaller customer list is fine."""
    shops = _shops(tmp_path, count=6)
    path, state = tmp_path / "campaign.yaml", tmp_path / "state"
    one = {"voucher": "ten-off", "audience": "shops", "quantity": 1}
    vouchers = {"ten-off": voucher("满100减10")}
    with sandbox(seed=22) as server:
        write_campaign(path, audiences={"shops": shops}, vouchers=vouchers, grants=[one])
        assert run_campaign(path, options(state, server.base_url)).exit_code == 0
        counters = inspect(server.base_url)["counters"]
        write_campaign(
            path, audiences={"shops": shops}, vouchers=vouchers, grants=[one | {"quantity": 2}]
        )
        with pytest.raises(InvalidInput) as grown:
            run_campaign(path, options(state, server.base_url))
        [problem] = grown.value.problems()
        assert "num 6 → 12" in problem.message
        assert problem.where.yaml_path == "vouchers.ten-off"
        assert problem.where.line is not None
        assert "cannot grow" in (problem.hint or "")
        assert inspect(server.base_url)["counters"] == counters
        first = pl.read_csv(tmp_path / "shops.csv", infer_schema=False)[HEADERS["cm_code"]][0]
        fewer = one | {"where": f"cm_code != '{first}'"}
        write_campaign(path, audiences={"shops": shops}, vouchers=vouchers, grants=[fewer])
        result = run_campaign(path, options(state, server.base_url))
        assert result.exit_code == 0
        assert result.summary.no_longer_planned == {"done": 1}


def test_a_wrong_appkey_stops_the_run_with_exit_4_and_fails_nothing(tmp_path: Path) -> None:
    """A signature refusal is an environment problem: exit 4, the voucher stays planned
    (not failed), and a rerun with the right appkey completes."""
    shops = _shops(tmp_path, count=5)
    path, state = tmp_path / "campaign.yaml", tmp_path / "state"
    one = {"voucher": "ten-off", "audience": "shops", "quantity": 1}
    write_campaign(
        path, audiences={"shops": shops}, vouchers={"ten-off": voucher("满100减10")}, grants=[one]
    )
    with sandbox(seed=23) as server:
        wrong = env_for(server.base_url) | {"WAIQIN_APPKEY": "not-the-appkey"}
        with pytest.raises(CredentialsRejected) as rejected:
            run_campaign(path, options(state, server.base_url, env=wrong))
        assert rejected.value.exit_code == 4
        assert "WAIQIN_APPKEY" in (rejected.value.hint or "")
        with Ledger.open(state, CAMPAIGN, read_only=True) as ledger:
            assert [v.state for v in ledger.vouchers()] == ["planned"]
            last = ledger.last_run()
            assert last is not None
            assert last.exit_code == 4
        assert run_campaign(path, options(state, server.base_url)).exit_code == 0
        assert_exactly_planned(server.base_url, plan_of(path, server.base_url), state)
