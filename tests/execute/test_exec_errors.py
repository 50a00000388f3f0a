"""How a run ends when something breaks: a bug is a crash (never an interrupt), a result
file that cannot be written is exit 4, and what the ledger confirmed stays confirmed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from runner.cli import main
from runner.errors import ExitCode, StateDirUnusable
from runner.ledger import Ledger, campaign_dir
from runner.ops.run import run_campaign

from .conftest import (
    CAMPAIGN,
    assert_exactly_planned,
    audience,
    env_for,
    grant_calls,
    granted,
    options,
    plan_of,
    registry,
    results,
    sandbox,
    voucher,
    write_audience,
    write_campaign,
)

GRANTS_BEFORE_FAILURE = 3


class _FailingAfter(httpx.AsyncBaseTransport):
    """Passes calls to the sandbox, then raises *error* instead of the Nth grant call."""

    def __init__(self, error: BaseException, grants_before: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._error = error
        self._left = grants_before

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "receiveVoucherInfo" in request.url.path:
            if self._left <= 0:
                raise self._error
            self._left -= 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _campaign(tmp_path: Path) -> Path:
    shops = write_audience(tmp_path / "shops.csv", registry().slice(60, 8), [1] * 8)
    return write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(shops)},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        concurrency=1,
    )


def _done_jobs(state: Path) -> int:
    with Ledger.open(state, CAMPAIGN, read_only=True) as ledger:
        return len(ledger.jobs("done"))


def _last_run(state: Path) -> tuple[int | None, dict[str, object]]:
    with Ledger.open(state, CAMPAIGN, read_only=True) as ledger:
        run = ledger.last_run()
    assert run is not None
    assert run.finished, "the run row was left unfinished"
    return run.exit_code, dict(run.summary or {})


@pytest.mark.parametrize(
    ("error", "code", "key"),
    [
        (RuntimeError("boom: a bug"), ExitCode.FAILED, "crash"),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED, "interrupted"),
    ],
    ids=["bug", "ctrl-c"],
)
def test_a_bug_is_recorded_as_a_crash_and_ctrl_c_as_an_interrupt(
    tmp_path: Path, error: BaseException, code: ExitCode, key: str
) -> None:
    """An unexpected exception mid-run is recorded as a crash (exit 1, its type in the
    summary), Ctrl-C as 130; either way it reaches the caller, the confirmed grants stay
    done, the result files agree, and a rerun finishes exactly the plan."""
    campaign, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=11) as server:
        failing = _FailingAfter(error, GRANTS_BEFORE_FAILURE)
        with pytest.raises(type(error)) as raised:
            run_campaign(campaign, options(state, server.base_url, transport=failing))
        assert raised.value is error
        exit_code, summary = _last_run(state)
        assert exit_code == code
        assert summary.get(key)
        if key == "crash":
            crash = summary["crash"]
            assert isinstance(crash, dict)
            assert (crash["error"], crash["message"]) == ("RuntimeError", "boom: a bug")
        assert _done_jobs(state) == GRANTS_BEFORE_FAILURE == granted(server.base_url)
        table = results(state)
        assert table.filter(table["state"] == "done").height == GRANTS_BEFORE_FAILURE
        assert not list(state.rglob("*.tmp"))

        again = run_campaign(campaign, options(state, server.base_url))
        assert again.exit_code == ExitCode.OK, again.summary
        assert_exactly_planned(server.base_url, plan_of(campaign, server.base_url), state)


def test_an_unwritable_result_file_exits_4_and_keeps_the_grants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """results.xlsx that cannot be replaced ends `runner run` with exit 4 naming it, no
    traceback and no *.tmp; every grant stays done, and a rerun sends no grant again."""
    campaign, state = _campaign(tmp_path), tmp_path / "state"
    blocked = campaign_dir(state, CAMPAIGN) / "results.xlsx"
    blocked.mkdir(parents=True)  # a folder where the file goes: as root, chmod blocks nothing
    argv = ["--log-format", "console", "run", str(campaign), "--yes", "--state-dir", str(state)]
    with sandbox(seed=12) as server:
        for name, value in env_for(server.base_url).items():
            monkeypatch.setenv(name, value)
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == ExitCode.ENVIRONMENT
        err = capsys.readouterr().err
        assert "cannot write the result file" in err
        assert str(blocked) in err
        assert "Traceback" not in err
        assert not list(state.rglob("*.tmp"))
        exit_code, summary = _last_run(state)
        assert exit_code == ExitCode.ENVIRONMENT
        assert summary["stopped_by"] == {
            "error": StateDirUnusable.__name__,
            "message": "cannot write the result file: Is a directory",
            "at": None,
        }
        planned = plan_of(campaign, server.base_url).jobs.height
        assert _done_jobs(state) == planned == granted(server.base_url)
        sent = grant_calls(server.base_url)

        blocked.rmdir()
        again = run_campaign(campaign, options(state, server.base_url))
        assert again.exit_code == ExitCode.OK, again.summary
        assert grant_calls(server.base_url) == sent
        assert blocked.is_file()
        assert_exactly_planned(server.base_url, plan_of(campaign, server.base_url), state)
