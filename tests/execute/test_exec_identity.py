"""Exactly once without one local ledger: where state lives, whose it is, looking before
creating, ``adopt``, renamed keys and the room grants made earlier still use."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest

from runner.cli import main
from runner.errors import (
    ConfirmationRequired,
    InvalidInput,
    LedgerError,
    Problem,
    RemoteVoucherExists,
    TenantMismatch,
    UsageError,
)
from runner.ledger import campaign_dir
from runner.ops.adopt import AdoptOptions, adopt_campaign, parse_choices
from runner.ops.plan import preview_campaign
from runner.ops.run import run_campaign
from runner.ops.status import status
from runner.sandbox.testing import inspect, signed_post

from .conftest import (
    APPKEY,
    OPENID,
    assert_exactly_planned,
    audience,
    env_for,
    grant_calls,
    granted,
    options,
    plan_of,
    registry,
    sandbox,
    sandbox_process,
    start_run,
    voucher,
    wait_until,
    write_audience,
    write_campaign,
)


def _campaign(folder: Path, customers: int = 12, **voucher_overrides: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shops = write_audience(folder / "shops.csv", registry().slice(40, customers))
    return write_campaign(
        folder / "campaign.yaml",
        audiences={"shops": audience(shops)},
        vouchers={"ten-off": voucher("满100减10", **voucher_overrides)},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
    )


def _writes(base_url: str) -> tuple[int, int]:
    """How many creates and grants the sandbox has received."""
    counters = inspect(base_url)["counters"]
    creates = int(counters.get("addVoucherInfo", {}).get("received", 0))
    return creates, grant_calls(base_url)


def _requests(base_url: str) -> int:
    """How many vendor requests of any operation the sandbox has received."""
    counters = inspect(base_url)["counters"]
    return sum(int(c.get("received", 0)) for c in counters.values())


def _adopt(campaign: Path, state: Path | None, base_url: str, *choices: str) -> Any:
    run = options(state, base_url)
    return adopt_campaign(campaign, AdoptOptions(run=run, choices=parse_choices(choices)))


def test_the_ledger_lives_next_to_the_campaign_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs from two working directories use the ledger beside the campaign file: the
    second sends nothing."""
    campaign = _campaign(tmp_path / "campaigns")
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    with sandbox(seed=31) as server:
        plan = plan_of(campaign, server.base_url)
        monkeypatch.chdir(tmp_path)
        first = run_campaign(campaign, options(None, server.base_url))
        assert first.exit_code == 0, first.summary
        monkeypatch.chdir(elsewhere)
        writes = _writes(server.base_url)
        second = run_campaign(campaign, options(None, server.base_url))
        assert second.exit_code == 0, second.summary
        assert _writes(server.base_url) == writes
        state = tmp_path / "campaigns" / "state"
        assert second.summary.ledger_file == str(
            campaign_dir(state, plan.campaign) / "ledger.sqlite"
        )
        assert not (elsewhere / "state").exists()
        assert_exactly_planned(server.base_url, plan, state)


def test_state_dir_in_the_campaign_is_relative_to_the_campaign_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``state_dir:`` in the campaign file is resolved against the file's folder."""
    campaign = _campaign(tmp_path / "c")
    campaign.write_text(campaign.read_text("utf-8") + "state_dir: ../ledgers\n", "utf-8")
    elsewhere = tmp_path / "a" / "b"  # from here, ../ledgers would be tmp_path/a/ledgers
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    with sandbox(seed=32) as server:
        summary = status(campaign, None, env=env_for(server.base_url))
    assert summary.ledger_file == str(tmp_path / "ledgers" / "exec-test" / "ledger.sqlite")


def test_a_second_empty_state_dir_creates_nothing_and_adopt_makes_run_send_nothing(
    tmp_path: Path,
) -> None:
    """A run with another, empty state dir stops with exit 3 before creating; after
    ``adopt`` a run makes no create and no grant call and results.csv is complete."""
    campaign = _campaign(tmp_path)
    first_state, second_state = tmp_path / "state-a", tmp_path / "state-b"
    with sandbox(seed=33) as server:
        plan = plan_of(campaign, server.base_url)
        assert run_campaign(campaign, options(first_state, server.base_url)).exit_code == 0
        writes = _writes(server.base_url)

        with pytest.raises(RemoteVoucherExists) as caught:
            run_campaign(campaign, options(second_state, server.base_url))
        assert caught.value.exit_code == 3
        remote_id = inspect(server.base_url)["vouchers"][0]["id"]
        problem = caught.value.problems()[0]
        assert remote_id in problem.message
        assert "ten-off" in problem.message
        assert problem.where.line is not None
        assert "runner adopt" in (problem.hint or "")
        assert _writes(server.base_url) == writes

        adopted = _adopt(campaign, second_state, server.base_url)
        assert adopted.exit_code == 0
        assert [a.model_dump() for a in adopted.summary.adopted] == [
            {
                "voucher_key": "ten-off",
                "remote_id": remote_id,
                "grants_found": plan.jobs.height,
                "grants_to_send": 0,
                "extra_remote": 0,
            }
        ]
        again = run_campaign(campaign, options(second_state, server.base_url))
        assert again.exit_code == 0, again.summary
        assert _writes(server.base_url) == writes
        assert (again.summary.calls or {}).get("receiveVoucherInfo", 0) == 0
        assert_exactly_planned(server.base_url, plan, second_state)


@pytest.mark.slow
def test_killed_run_with_its_state_deleted_is_adopted_and_only_missing_grants_are_sent(
    tmp_path: Path,
) -> None:
    """SIGKILL halfway, state dir deleted: run creates nothing (exit 3), adopt takes the
    voucher and its grants in, and the next run sends only the missing grants."""
    campaign = write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(write_audience(tmp_path / "s.csv", registry().slice(0, 40)))},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        rate=20,
        concurrency=2,
    )
    state, log = tmp_path / "state", tmp_path / "run.log"
    with sandbox_process(tmp_path, seed=34) as base_url:
        plan = plan_of(campaign, base_url)
        child = start_run(campaign, state, base_url, log)
        try:
            wait_until(lambda: child.poll() is not None or granted(base_url) >= 15)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        shutil.rmtree(state)
        creates, grants = _writes(base_url)
        wait_until(lambda: _writes(base_url)[1] == grants, timeout=5)

        with pytest.raises(RemoteVoucherExists):
            run_campaign(campaign, options(state, base_url))
        assert _writes(base_url) == (creates, grants)

        held = granted(base_url)
        assert 0 < held < plan.jobs.height
        adopted = _adopt(campaign, state, base_url)
        found = adopted.summary.adopted[0]
        assert (found.grants_found, found.grants_to_send) == (held, plan.jobs.height - held)

        final = run_campaign(campaign, options(state, base_url))
        assert final.exit_code == 0, final.summary
        assert _writes(base_url) == (creates, grants + plan.jobs.height - held)
        assert_exactly_planned(base_url, plan, state)


@pytest.mark.parametrize(
    "content", [b"", b"this is not a database\n" * 40], ids=["0-byte", "garbage"]
)
def test_an_empty_or_garbage_ledger_exits_4_and_sends_nothing(
    tmp_path: Path, content: bytes
) -> None:
    """A ledger file that holds no ledger is refused with exit 4 before any request."""
    campaign = _campaign(tmp_path)
    state = tmp_path / "state"
    ledger = campaign_dir(state, "exec-test") / "ledger.sqlite"
    ledger.parent.mkdir(parents=True)
    ledger.write_bytes(content)
    with sandbox(seed=35) as server:
        with pytest.raises(LedgerError) as caught:
            run_campaign(campaign, options(state, server.base_url))
        assert caught.value.exit_code == 4
        assert str(ledger) == caught.value.where.file
        with pytest.raises(LedgerError):
            preview_campaign(campaign, state, env=env_for(server.base_url))
        assert _requests(server.base_url) == 0
    assert ledger.read_bytes() == content


def test_a_ledger_of_another_tenant_exits_4_before_any_request(tmp_path: Path) -> None:
    """A ledger bound to one sandbox is refused against another with another openid,
    naming both masked openids, and that sandbox receives no request."""
    campaign = _campaign(tmp_path)
    state = tmp_path / "state"
    with sandbox(seed=36) as first:
        assert run_campaign(campaign, options(state, first.base_url)).exit_code == 0
    other_openid = "other-tenant-openid"
    with sandbox(seed=37, openid=other_openid) as second:
        env = env_for(second.base_url) | {"WAIQIN_OPENID": other_openid}
        with pytest.raises(TenantMismatch) as caught:
            run_campaign(campaign, options(state, second.base_url, env=env))
        assert caught.value.exit_code == 4
        message = caught.value.message
        assert "ex***id" in message
        assert "ot***id" in message
        assert OPENID not in message
        assert other_openid not in message
        assert "--state-dir" in (caught.value.hint or "")
        assert _requests(second.base_url) == 0
        shown = status(campaign, state, env=env)
        assert shown.tenant is not None
        assert shown.tenant.model_dump() == {"base_url": first.base_url, "openid": "ex***id"}


def _plan_and_run_refuse(campaign: Path, state: Path, base_url: str) -> list[Problem]:
    """``plan`` and ``run`` both refuse with exit 2; the first problem of each."""
    problems = []
    for attempt in (
        lambda: preview_campaign(campaign, state, env=env_for(base_url)),
        lambda: run_campaign(campaign, options(state, base_url)),
    ):
        with pytest.raises(InvalidInput) as caught:
            attempt()
        assert caught.value.exit_code == 2
        problems.append(caught.value.problems()[0])
    return problems


def test_a_renamed_voucher_key_is_refused_as_a_rename(tmp_path: Path) -> None:
    """Renaming a created voucher's key is refused by plan and run (exit 2); nothing is
    created again."""
    campaign = _campaign(tmp_path)
    state = tmp_path / "state"
    with sandbox(seed=38) as server:
        assert run_campaign(campaign, options(state, server.base_url)).exit_code == 0
        campaign.write_text(campaign.read_text("utf-8").replace("ten-off", "spring-ten"), "utf-8")
        writes = _writes(server.base_url)
        shown = status(campaign, state, env=env_for(server.base_url))
        assert ["renamed" in p.message for p in shown.run_refuses] == [True]
        for problem in _plan_and_run_refuse(campaign, state, server.base_url):
            assert "renamed" in problem.message
            assert "ten-off" in problem.message
            assert problem.where.yaml_path == "vouchers.spring-ten"
            assert problem.where.line is not None
        assert _writes(server.base_url) == writes
        assert len(inspect(server.base_url)["vouchers"]) == 1


def test_grants_made_earlier_still_use_room_and_plan_refuses_like_run(tmp_path: Path) -> None:
    """Grants no longer planned still count against num: plan and run both refuse a plan
    that would exceed it (exit 2), naming the voucher."""
    path = write_audience(tmp_path / "shops.csv", registry().slice(40, 10), [1] * 10)
    campaign = write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(path)},
        vouchers={"ten-off": voucher("满100减10", total=11, each_customer_limit=2)},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
    )
    state = tmp_path / "state"
    with sandbox(seed=39) as server:
        assert run_campaign(campaign, options(state, server.base_url)).exit_code == 0
        # two customers leave (their grants stay) and three get a second: 11 + 2 > 11
        write_audience(path, registry().slice(42, 8), [2, 2, 2, 1, 1, 1, 1, 1])
        writes = _writes(server.base_url)
        for problem in _plan_and_run_refuse(campaign, state, server.base_url):
            assert "no room" in problem.message, problem.message
            assert "11 planned + 2 made earlier > num 11" in problem.message
            assert problem.where.yaml_path == "vouchers.ten-off"
        assert _writes(server.base_url) == writes


def test_adopt_with_several_matches_needs_a_choice(tmp_path: Path) -> None:
    """Two live remote vouchers that both match stop adopt with exit 3 listing both;
    ``--voucher KEY=ID`` picks one, and an id that does not match is refused."""
    campaign = _campaign(tmp_path)
    with sandbox(seed=40) as server:
        payload = plan_of(campaign, server.base_url).vouchers[0].payload
        ids = []
        for _ in range(2):
            answer = signed_post(server.base_url, "addVoucherInfo", dict(payload), OPENID, APPKEY)
            ids.append(json.loads(answer.json()["response_data"])["voucherId"])
        state = tmp_path / "state"
        with pytest.raises(RemoteVoucherExists) as caught:
            _adopt(campaign, state, server.base_url)
        assert all(i in caught.value.problems()[0].message for i in ids)
        with pytest.raises(UsageError):
            _adopt(campaign, state, server.base_url, "ten-off=1234567890123456789")
        with pytest.raises(ConfirmationRequired):
            adopt_campaign(
                campaign,
                AdoptOptions(
                    run=options(state, server.base_url, yes=False), choices={"ten-off": ids[1]}
                ),
            )
        chosen = _adopt(campaign, state, server.base_url, f"ten-off={ids[1]}")
        assert chosen.summary.adopted[0].remote_id == ids[1]
        plan = plan_of(campaign, server.base_url)
        assert run_campaign(campaign, options(state, server.base_url)).exit_code == 0
        held = inspect(server.base_url)["grants"]
        assert sum(g["count"] for g in held.get(ids[1], {}).values()) == plan.jobs.height
        assert ids[0] not in held or not held[ids[0]]


def test_runner_adopt_on_the_command_line_prints_what_it_took_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`runner adopt --yes --json` exits 0 and prints the adopted voucher and its grants."""
    campaign = _campaign(tmp_path)
    with sandbox(seed=41) as server:
        assert run_campaign(campaign, options(tmp_path / "a", server.base_url)).exit_code == 0
        for name, value in env_for(server.base_url).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        argv = ["adopt", str(campaign), "--state-dir", str(tmp_path / "b"), "--yes", "--json"]
        with pytest.raises(SystemExit) as exited:
            main(["--log-format", "json", "--log-level", "error", *argv])
        assert exited.value.code == 0
        printed = json.loads(capsys.readouterr().out)
    assert printed["ledger_file"] == str(tmp_path / "b" / "exec-test" / "ledger.sqlite")
    assert [a["voucher_key"] for a in printed["adopted"]] == ["ten-off"]
    assert printed["adopted"][0]["grants_to_send"] == 0
