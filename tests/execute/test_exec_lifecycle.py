"""End dates and finishes after creation: declarative and by command, exactly once, drift."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from runner.clock import beijing_today
from runner.errors import ConfirmationRequired, ExitCode, InvalidInput, UsageError
from runner.ledger import Ledger, campaign_dir
from runner.ops.lifecycle import LifecycleOptions, extend_vouchers, finish_vouchers
from runner.ops.plan import preview_campaign
from runner.ops.run import run_campaign
from runner.ops.status import status
from runner.ops.verify import verify_campaign
from runner.outputs.preview import PREVIEW_FILE, SUMMARY_FILE
from runner.sandbox.testing import inspect, set_faults, signed_post

from .conftest import (
    APPKEY,
    CAMPAIGN,
    END_DATE,
    FAST,
    OPENID,
    audience,
    env_for,
    grant_calls,
    options,
    registry,
    results,
    sandbox,
    start_run,
    voucher,
    wait_until,
    write_audience,
    write_campaign,
)

LATER = "2036-06-30"
SOONER = "2035-06-30"


def _write(path: Path, shops: Path, quantity: int = 1, **overrides: Any) -> Path:
    """The one-voucher campaign ``ten-off`` granting every shop *quantity* times; voucher
    overrides."""
    return write_campaign(
        path,
        audiences={"shops": audience(shops)},
        vouchers={"ten-off": voucher("满100减10", **overrides)},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": quantity}],
        timeout_s=10,
    )


def _campaign(tmp_path: Path, customers: int = 6, **overrides: Any) -> Path:
    shops = write_audience(tmp_path / "shops.csv", registry().slice(60, customers))
    return _write(tmp_path / "campaign.yaml", shops, **overrides)


def _remote(base_url: str) -> dict[str, Any]:
    """The sandbox's one voucher."""
    (only,) = inspect(base_url)["vouchers"]
    result: dict[str, Any] = only
    return result


def _received(base_url: str, operation: str) -> int:
    return int(inspect(base_url)["counters"].get(operation, {}).get("received", 0))


def _ledger(state: Path) -> Ledger:
    return Ledger.open(state, CAMPAIGN, read_only=True)


def _lifecycle_options(state: Path, base_url: str, **overrides: Any) -> LifecycleOptions:
    return LifecycleOptions(run=options(state, base_url), **overrides)


def _preview(state: Path) -> tuple[dict[str, Any], str]:
    folder = campaign_dir(state, CAMPAIGN)
    summary = json.loads((folder / SUMMARY_FILE).read_text("utf-8"))
    return summary, (folder / PREVIEW_FILE).read_text("utf-8")


# --- declarative: the campaign file says it -----------------------------------------------


def test_a_new_end_date_is_planned_then_applied_once_under_a_lost_answer(tmp_path: Path) -> None:
    """Moving end_date of a created voucher: plan shows `extend`, run sends one
    modifyVoucherEndDate whose answer is lost, settles it by reading back, exits 0, and
    the ledger keeps both end dates."""
    path, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=31) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        _campaign(tmp_path, end_date=LATER)

        preview = preview_campaign(path, state, env=env_for(url)).preview
        assert [c.text for c in preview.lifecycle.changes] == [
            f"extend ten-off: {END_DATE} → {LATER}"
        ]
        summary, markdown = _preview(state)
        assert summary["lifecycle"]["changes"][0]["to_end_date"] == LATER
        assert f"CHANGE: extend ten-off: {END_DATE} → {LATER}" in markdown

        set_faults(url, "lost_response@modifyVoucherEndDate=1")
        result = run_campaign(path, options(state, url))
        assert result.exit_code == 0, result.summary
        assert _remote(url)["end_date"] == LATER
        assert _received(url, "modifyVoucherEndDate") == 1
        assert [c.outcome for c in result.summary.changes or []] == ["done"]
        with _ledger(state) as ledger:
            life = ledger.lifecycle("ten-off")
        assert life.end_date == LATER
        assert [end for _, end, _ in life.end_dates()] == [END_DATE, LATER]

        again = run_campaign(path, options(state, url))
        assert again.exit_code == 0
        assert _received(url, "modifyVoucherEndDate") == 1
        assert preview_campaign(path, state, env=env_for(url)).preview.lifecycle.changes == []


def test_a_shorter_end_date_is_applied_as_a_shorten(tmp_path: Path) -> None:
    """The vendor's modifyVoucherEndDate changes the end date either way: an earlier date
    (still in the future) is planned as `shorten` and applied."""
    path, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=32) as server:
        assert run_campaign(path, options(state, server.base_url)).exit_code == 0
        _campaign(tmp_path, end_date=SOONER)
        preview = preview_campaign(path, state, env=env_for(server.base_url)).preview
        assert [c.action for c in preview.lifecycle.changes] == ["shorten"]
        assert run_campaign(path, options(state, server.base_url)).exit_code == 0
        assert _remote(server.base_url)["end_date"] == SOONER


def test_finished_true_finishes_once_under_a_lost_answer(tmp_path: Path) -> None:
    """`finished: true` on a created voucher: plan shows `finish`, run sends one
    finishVoucher whose answer is lost, settles it, exits 0; the next run sends nothing."""
    path, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=33) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        _campaign(tmp_path, finished=True)
        preview = preview_campaign(path, state, env=env_for(url)).preview
        assert [c.text for c in preview.lifecycle.changes] == ["finish ten-off"]

        set_faults(url, "lost_response@finishVoucher=1")
        result = run_campaign(path, options(state, url))
        assert result.exit_code == 0, result.summary
        assert _remote(url)["is_finish"] == "Y"
        assert _received(url, "finishVoucher") == 1
        assert run_campaign(path, options(state, url)).exit_code == 0
        assert _received(url, "finishVoucher") == 1
        report = status(path, state, env=env_for(url))
        assert [(v.key, v.finished) for v in report.vouchers] == [("ten-off", True)]


def test_an_end_date_in_the_past_is_refused_at_its_key_and_line(tmp_path: Path) -> None:
    """A created voucher's end_date moved before today is refused by plan and run (exit 2),
    located at vouchers.ten-off.end_date with its line, and nothing is sent."""
    path, state = _campaign(tmp_path), tmp_path / "state"
    yesterday = (beijing_today() - timedelta(days=1)).isoformat()
    with sandbox(seed=34) as server:
        assert run_campaign(path, options(state, server.base_url)).exit_code == 0
        _campaign(tmp_path, start_date="2026-01-01", end_date=yesterday)
        for attempt in (
            lambda: preview_campaign(path, state, env=env_for(server.base_url)),
            lambda: run_campaign(path, options(state, server.base_url)),
        ):
            with pytest.raises(InvalidInput) as caught:
                attempt()
            (problem,) = [p for p in caught.value.problems() if "in the past" in p.message]
            assert problem.where.yaml_path == "vouchers.ten-off.end_date"
            assert problem.where.line is not None
            assert (
                path.read_text("utf-8")
                .splitlines()[problem.where.line - 1]
                .strip()
                .startswith("end_date:")
            )
        assert _received(server.base_url, "modifyVoucherEndDate") == 0


def test_finished_true_on_a_voucher_never_created_is_refused(tmp_path: Path) -> None:
    """`finished: true` on a voucher that was never created is refused at its key (exit 2)
    before any ledger file is made."""
    path, state = _campaign(tmp_path, finished=True), tmp_path / "state"
    with sandbox(seed=35) as server:
        with pytest.raises(InvalidInput, match="never created") as caught:
            run_campaign(path, options(state, server.base_url))
        assert caught.value.problems()[0].where.yaml_path == "vouchers.ten-off.finished"
        assert not (campaign_dir(state, CAMPAIGN) / "ledger.sqlite").exists()
        assert inspect(server.base_url)["vouchers"] == []


# --- by command ---------------------------------------------------------------------------


def test_runner_finish_finishes_once_and_the_file_is_behind_not_reverted(
    tmp_path: Path,
) -> None:
    """`runner finish` under a lost answer sends one finishVoucher; again it reports
    `already` (exit 0, no call); plan reports the file behind; run reverts nothing."""
    path, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=36) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        set_faults(url, "lost_response@finishVoucher=1")
        result = finish_vouchers(path, _lifecycle_options(state, url))
        assert result.exit_code == 0, result.summary
        assert [c.outcome for c in result.summary.changes or []] == ["done"]
        assert _remote(url)["is_finish"] == "Y"
        assert [b.setting for b in result.summary.behind] == ["finished"]

        second = finish_vouchers(path, _lifecycle_options(state, url))
        assert second.exit_code == 0
        assert [c.outcome for c in second.summary.changes or []] == ["already"]
        assert _received(url, "finishVoucher") == 1

        behind = preview_campaign(path, state, env=env_for(url)).preview.lifecycle.behind
        assert [b.setting for b in behind] == ["finished"]
        assert run_campaign(path, options(state, url)).exit_code == 0
        assert _received(url, "finishVoucher") == 1
        assert _remote(url)["is_finish"] == "Y"


def test_runner_extend_once_then_behind_then_caught_up_then_a_real_change(
    tmp_path: Path,
) -> None:
    """`runner extend` under a lost answer moves the end date once; plan says the file is
    behind (update end_date) and run reverts nothing; once the file says the same date a
    run records it, and moving the file back later is a planned change again."""
    path, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=37) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        set_faults(url, "lost_response@modifyVoucherEndDate=1")
        chosen = _lifecycle_options(state, url, end_date=date.fromisoformat(LATER))
        result = extend_vouchers(path, chosen)
        assert result.exit_code == 0, result.summary
        assert _remote(url)["end_date"] == LATER
        set_faults(url, "")

        preview = preview_campaign(path, state, env=env_for(url)).preview
        assert [b.message for b in preview.lifecycle.behind] == [
            f"voucher 'ten-off' ends {LATER} (set by `runner extend`): update end_date to "
            f"{LATER} in the campaign file"
        ]
        assert preview.lifecycle.changes == []
        assert run_campaign(path, options(state, url)).exit_code == 0
        assert _remote(url)["end_date"] == LATER
        assert _received(url, "modifyVoucherEndDate") == 1

        _campaign(tmp_path, end_date=LATER)  # the file catches up
        assert run_campaign(path, options(state, url)).exit_code == 0
        assert _received(url, "modifyVoucherEndDate") == 1
        _campaign(tmp_path)  # and is moved back on purpose
        preview = preview_campaign(path, state, env=env_for(url)).preview
        assert [c.text for c in preview.lifecycle.changes] == [
            f"shorten ten-off: {LATER} → {END_DATE}"
        ]


def test_an_extend_that_did_not_get_through_is_completed_by_the_next_run(
    tmp_path: Path,
) -> None:
    """`runner extend` whose requests never arrive (reset, read back absent, twice) exits 4
    and keeps its wish planned; the next `run` sends it (not the file's older date) and
    then reports the file behind."""
    path, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=45) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        set_faults(url, "reset@modifyVoucherEndDate=1")
        two_rounds = options(state, url, settings=dataclasses.replace(FAST, rounds=2))
        chosen = LifecycleOptions(run=two_rounds, end_date=date.fromisoformat(LATER))
        result = extend_vouchers(path, chosen)
        assert result.exit_code == ExitCode.ENVIRONMENT
        assert [c.outcome for c in result.summary.changes or []] == ["not_sent"]
        assert _remote(url)["end_date"] == END_DATE
        assert _received(url, "modifyVoucherEndDate") == 2  # one per round, each proven absent
        set_faults(url, "")

        after = run_campaign(path, options(state, url))
        assert after.exit_code == 0, after.summary
        assert _remote(url)["end_date"] == LATER
        assert _received(url, "modifyVoucherEndDate") == 3
        assert [(c.to_end_date, c.outcome) for c in after.summary.changes or []] == [
            (LATER, "done")
        ]
        behind = preview_campaign(path, state, env=env_for(url)).preview.lifecycle.behind
        assert [b.ledger_value for b in behind] == [LATER]


def test_finish_and_extend_ask_and_refuse_without_a_terminal(tmp_path: Path) -> None:
    """Without --yes and a terminal both commands exit 2 and send nothing; a declined
    confirmation too; an end date in the past or a finished voucher's is a usage error."""
    path, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=38) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        no = LifecycleOptions(run=options(state, url, yes=False), confirm=None)
        with pytest.raises(ConfirmationRequired):
            finish_vouchers(path, no)
        declined = LifecycleOptions(run=options(state, url, yes=False), confirm=lambda _: False)
        with pytest.raises(ConfirmationRequired):
            finish_vouchers(path, declined)
        past = _lifecycle_options(state, url, end_date=beijing_today() - timedelta(days=1))
        with pytest.raises(UsageError, match="in the past"):
            extend_vouchers(path, past)
        with pytest.raises(UsageError, match="not a voucher of this campaign"):
            finish_vouchers(path, _lifecycle_options(state, url, vouchers=("nope",)))
        assert _received(url, "finishVoucher") == _received(url, "modifyVoucherEndDate") == 0

        assert finish_vouchers(path, _lifecycle_options(state, url)).exit_code == 0
        later = _lifecycle_options(state, url, end_date=date.fromisoformat(LATER))
        with pytest.raises(UsageError, match="is finished"):
            extend_vouchers(path, later)


# --- behind the runner's back ---------------------------------------------------------------


def test_a_voucher_finished_in_the_console_gets_no_grant_and_is_reported(tmp_path: Path) -> None:
    """Finished behind the runner's back: verify reports the drift (exit 3); a run with a
    second grant per shop sends none, fails them saying why (failures.csv), exits 3."""
    shops = write_audience(tmp_path / "shops.csv", registry().slice(60, 4))
    room = {"total": 20, "each_customer_limit": 3}
    path, state = _write(tmp_path / "campaign.yaml", shops, **room), tmp_path / "state"
    with sandbox(seed=39) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        voucher_id = _remote(url)["id"]
        answer = signed_post(url, "finishVoucher", {"voucherId": voucher_id}, OPENID, APPKEY)
        assert answer.json()["return_code"] == "0"

        checked = verify_campaign(path, options(state, url))
        assert checked.exit_code == ExitCode.REVIEW
        drift = checked.summary.verify.drift if checked.summary.verify else []
        assert [(d.setting, d.remote, d.ledger) for d in drift] == [
            ("finished", "finished", "live")
        ]
        assert "runner finish" in drift[0].hint

        _write(path, shops, quantity=2, **room)  # one more grant per shop
        grants_before = grant_calls(url)
        result = run_campaign(path, options(state, url))
        assert result.exit_code == ExitCode.REVIEW, result.summary
        assert grant_calls(url) == grants_before
        assert [
            (c.voucher_key, c.why, c.grants_not_sent) for c in result.summary.not_sent or []
        ] == [("ten-off", "finished", 4)]
        table = results(state).filter(pl.col("state") == "failed")
        assert table.height == 4
        assert all("is finished" in error for error in table["last_error"].to_list())
        failures = pl.read_csv(campaign_dir(state, CAMPAIGN) / "failures.csv", infer_schema=False)
        assert failures.height == 4


def test_retry_failed_sends_nothing_to_a_finished_voucher(tmp_path: Path) -> None:
    """retry-failed after a console finish: the read-back fails the grants again without a
    call (exit 3); once `runner finish` recorded it, the ledger alone keeps them failed,
    says how many (exit 1), and reads nothing."""
    shops = write_audience(tmp_path / "shops.csv", registry().slice(60, 3))
    room = {"total": 20, "each_customer_limit": 3}
    path, state = _write(tmp_path / "campaign.yaml", shops, **room), tmp_path / "state"
    with sandbox(seed=44) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        voucher_id = _remote(url)["id"]
        signed_post(url, "finishVoucher", {"voucherId": voucher_id}, OPENID, APPKEY)
        _write(path, shops, quantity=2, **room)
        assert run_campaign(path, options(state, url)).exit_code == ExitCode.REVIEW
        before = grant_calls(url)

        again = run_campaign(path, options(state, url, retry_failed=True))
        assert again.exit_code == ExitCode.REVIEW
        assert grant_calls(url) == before

        assert finish_vouchers(path, _lifecycle_options(state, url)).exit_code == 0
        assert _received(url, "finishVoucher") == 1  # the console's; ours found it done
        last = run_campaign(path, options(state, url, retry_failed=True))
        assert last.exit_code == ExitCode.FAILED, last.summary
        assert grant_calls(url) == before
        assert [(c.why, c.grants_not_sent) for c in last.summary.not_sent or []] == [
            ("finished", 3)
        ]


def test_an_end_date_changed_in_the_console_is_reported_by_verify(tmp_path: Path) -> None:
    """An end date moved behind the runner's back is drift: verify exits 3 naming both
    dates and the `runner extend` that keeps or restores it; status stays offline."""
    path, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=40) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        payload = {"voucherId": _remote(url)["id"], "endDate": LATER}
        assert signed_post(url, "modifyVoucherEndDate", payload, OPENID, APPKEY).status_code == 200
        checked = verify_campaign(path, options(state, url))
        assert checked.exit_code == ExitCode.REVIEW
        drift = checked.summary.verify.drift if checked.summary.verify else []
        assert [(d.setting, d.ledger, d.remote) for d in drift] == [("end_date", END_DATE, LATER)]
        assert f"--end-date {LATER}" in drift[0].hint
        report = status(path, state, env=env_for(url))
        assert report.remote_checked is False


def test_an_expired_voucher_in_the_vendor_gets_no_grant(tmp_path: Path) -> None:
    """A voucher whose end date was moved into the past on the vendor's side: new grants
    are not sent but failed as expired, and the run exits 3 (drift)."""
    start = (beijing_today() - timedelta(days=10)).isoformat()
    shops = write_audience(tmp_path / "shops.csv", registry().slice(60, 2))
    room = {"start_date": start, "total": 10, "each_customer_limit": 3}
    path, state = _write(tmp_path / "campaign.yaml", shops, **room), tmp_path / "state"
    with sandbox(seed=41) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        yesterday = (beijing_today() - timedelta(days=1)).isoformat()
        payload = {"voucherId": _remote(url)["id"], "endDate": yesterday}
        signed_post(url, "modifyVoucherEndDate", payload, OPENID, APPKEY)
        _write(path, shops, quantity=2, **room)
        before = grant_calls(url)
        result = run_campaign(path, options(state, url))
        assert result.exit_code == ExitCode.REVIEW
        assert grant_calls(url) == before
        (closed,) = result.summary.not_sent or []
        assert (closed.why, closed.since, closed.grants_not_sent) == ("expired", yesterday, 2)


# --- resumable after a kill -----------------------------------------------------------------


@pytest.mark.slow
def test_a_run_killed_while_extending_resumes_without_sending_again(tmp_path: Path) -> None:
    """SIGKILL of a `runner run` child while its modifyVoucherEndDate is in flight: the
    change was recorded before it left; the next run reads the voucher back, finds it
    applied, and sends nothing again."""
    path, state = _campaign(tmp_path), tmp_path / "state"
    log = tmp_path / "run.log"
    with sandbox(seed=42) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        _campaign(tmp_path, end_date=LATER)
        set_faults(url, "latency@modifyVoucherEndDate=2s")
        child = start_run(path, state, url, log)
        try:
            wait_until(lambda: child.poll() is not None or _received(url, "modifyVoucherEndDate"))
            child.send_signal(signal.SIGKILL)
            assert child.wait(timeout=30) == -signal.SIGKILL, log.read_text("utf-8")[-2000:]
        finally:
            if child.poll() is None:
                child.kill()
        with _ledger(state) as ledger:
            assert [c.state for c in ledger.changes()] == ["sending"]
        applied = lambda: inspect(url)["counters"]["modifyVoucherEndDate"].get("applied", 0)  # noqa: E731
        wait_until(lambda: applied() == 1)
        set_faults(url, "")

        result = run_campaign(path, options(state, url))
        assert result.exit_code == 0, result.summary
        assert _received(url, "modifyVoucherEndDate") == 1
        assert _remote(url)["end_date"] == LATER
        assert result.summary.recovered_after_crash is not None
        with _ledger(state) as ledger:
            (change,) = ledger.changes()
            events = [e.detail.get("action") for e in ledger.events(change.change_id)]
        assert change.state == "done"
        assert events == [
            "plan_change",
            "mark_change_sending",
            "recover_after_crash",
            "adopt_change",
        ]


def test_runner_finish_on_the_command_line_asks_for_yes(tmp_path: Path) -> None:
    """`runner finish` in a child process without a terminal exits 2; with --yes it
    finishes the voucher and prints one JSON object of kind finish."""
    path, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=43) as server:
        url = server.base_url
        assert run_campaign(path, options(state, url)).exit_code == 0
        from .conftest import REPO, runner_command, subprocess_env

        base = ["finish", str(path), "--state-dir", str(state)]
        refused = subprocess.run(
            runner_command(*base), env=subprocess_env(url), capture_output=True, cwd=REPO
        )
        assert refused.returncode == 2, refused.stderr[-2000:]
        done = subprocess.run(
            runner_command(*base, "--yes", "--json"),
            env=subprocess_env(url),
            capture_output=True,
            cwd=REPO,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        summary = json.loads(done.stdout)
        assert summary["kind"] == "finish"
        assert [c["outcome"] for c in summary["changes"]] == ["done"]
        assert _remote(url)["is_finish"] == "Y"
