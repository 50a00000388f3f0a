"""The grant phase's group commit keeps the write-ahead rule and exactly-once: no request
leaves before its ``sending`` mark is committed, a SIGKILL at any moment loses nothing and
doubles nothing, and a ledger error in the writer stops the run."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from runner.errors import ExitCode, LedgerError
from runner.ledger import LEDGER_FILE, Ledger, campaign_dir
from runner.ops.run import run_campaign

from .conftest import (
    CAMPAIGN,
    assert_exactly_planned,
    grant_calls,
    granted,
    options,
    plan_of,
    sandbox,
    sandbox_process,
    shops_campaign,
    start_run,
    wait_until,
)

KILL_SEED = 20261201
KILLS = 3


def _ledger_file(state: Path) -> Path:
    return campaign_dir(state, CAMPAIGN) / LEDGER_FILE


class _LedgerWitness(httpx.AsyncBaseTransport):
    """Passes calls to the sandbox; as each grant request arrives, it reads the job of the
    request's msg_id from the ledger file through a connection of its own."""

    def __init__(self, ledger_file: Path) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._file = ledger_file
        self.seen: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "receiveVoucherInfo" in request.url.path:
            msg_id = request.url.path.rsplit("/", 1)[-1]
            with sqlite3.connect(f"file:{self._file}?mode=ro", uri=True) as conn:
                row = conn.execute("SELECT state FROM jobs WHERE msg_id = ?", (msg_id,)).fetchone()
            self.seen.append(None if row is None else row[0])
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def test_no_grant_request_leaves_before_its_sending_mark_is_committed(tmp_path: Path) -> None:
    """Every grant request, read as it arrives, finds its job committed as sending under
    that msg_id in the ledger file (16 workers, so marks share commits)."""
    campaign, state = shops_campaign(tmp_path, 60, rate=500, concurrency=16), tmp_path / "state"
    with sandbox(seed=31) as server:
        witness = _LedgerWitness(_ledger_file(state))
        result = run_campaign(campaign, options(state, server.base_url, transport=witness))
        assert result.exit_code == ExitCode.OK, result.summary
        assert len(witness.seen) == grant_calls(server.base_url) > 60
        assert set(witness.seen) == {"sending"}
        assert_exactly_planned(server.base_url, plan_of(campaign, server.base_url), state)


class _Saboteur(httpx.AsyncBaseTransport):
    """Passes calls to the sandbox; on the Nth grant request it moves that job back to
    planned behind the runner's back, so the ledger refuses the grant's outcome."""

    def __init__(self, ledger_file: Path, nth: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._file = ledger_file
        self._left = nth
        self.grants = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "receiveVoucherInfo" in request.url.path:
            self.grants += 1
            self._left -= 1
            if self._left == 0:
                msg_id = request.url.path.rsplit("/", 1)[-1]
                with sqlite3.connect(self._file, timeout=10) as conn:
                    conn.execute("UPDATE jobs SET state = 'planned' WHERE msg_id = ?", (msg_id,))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def test_a_ledger_error_in_the_writer_stops_the_run_with_exit_4(tmp_path: Path) -> None:
    """The writer's refused transition reaches the run: LedgerError (exit 4) is raised and
    recorded, and no grant request starts after it (one worker: none was in flight)."""
    campaign, state = shops_campaign(tmp_path, 12, concurrency=1), tmp_path / "state"
    nth = 4
    with sandbox(seed=32) as server:
        saboteur = _Saboteur(_ledger_file(state), nth)
        with pytest.raises(LedgerError, match="cannot mark_done") as raised:
            run_campaign(campaign, options(state, server.base_url, transport=saboteur))
        assert raised.value.exit_code == ExitCode.ENVIRONMENT
        assert saboteur.grants == nth
    with Ledger.open(state, CAMPAIGN, read_only=True) as ledger:
        run = ledger.last_run()
        states = [job.state for job in ledger.jobs()]
    assert run is not None
    assert run.exit_code == ExitCode.ENVIRONMENT
    assert states.count("done") == nth - 1
    assert "sending" not in states


@pytest.mark.slow
def test_sigkill_mid_group_commit_then_rerun_grants_each_customer_exactly_once(
    tmp_path: Path,
) -> None:
    """Three SIGKILLs at seeded random moments of a fast grant phase (32 workers, marks and
    outcomes batched) against a sandbox in another process, then a rerun: the remote holds
    exactly the plan, no customer twice, none missing."""
    campaign = shops_campaign(tmp_path, 150, rate=300, concurrency=32)
    state, log = tmp_path / "state", tmp_path / "run.log"
    rng = random.Random(KILL_SEED)
    faults = "latency=5ms~10ms,lost_response@receiveVoucherInfo=0.02"
    with sandbox_process(tmp_path, seed=KILL_SEED, faults=faults) as base_url:
        plan = plan_of(campaign, base_url)
        killed = 0
        for _ in range(KILLS):
            before = granted(base_url)
            child = start_run(campaign, state, base_url, log)
            wait_until(lambda c=child, b=before: c.poll() is not None or granted(base_url) > b)
            try:
                child.wait(timeout=rng.uniform(0.05, 0.5))
            except subprocess.TimeoutExpired:  # still granting: kill it now
                child.send_signal(signal.SIGKILL)
                killed += 1
            code = child.wait(timeout=30)
            assert code in (-signal.SIGKILL, 0), log.read_text("utf-8")[-3000:]
        assert killed >= 2
        assert 0 < granted(base_url) < plan.jobs.height

        final = start_run(campaign, state, base_url, log)
        assert final.wait(timeout=180) == 0, log.read_text("utf-8")[-3000:]
        assert_exactly_planned(base_url, plan, state)


def test_a_rerun_of_a_finished_campaign_writes_no_job_and_sends_no_grant(tmp_path: Path) -> None:
    """Rerunning a campaign whose every grant is done records only the run itself (its two
    events): no job row changes, no job or voucher event is added, no grant is sent."""
    campaign, state = shops_campaign(tmp_path, 10), tmp_path / "state"
    with sandbox(seed=33) as server:
        first = run_campaign(campaign, options(state, server.base_url))
        assert first.exit_code == ExitCode.OK, first.summary
        calls = grant_calls(server.base_url)
        with sqlite3.connect(_ledger_file(state)) as conn:
            before = conn.execute("SELECT * FROM jobs ORDER BY rowid").fetchall()
            events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        again = run_campaign(campaign, options(state, server.base_url))
        assert again.exit_code == ExitCode.OK, again.summary
        assert grant_calls(server.base_url) == calls
    with sqlite3.connect(_ledger_file(state)) as conn:
        assert conn.execute("SELECT * FROM jobs ORDER BY rowid").fetchall() == before
        kinds = conn.execute(
            "SELECT entity_kind FROM events ORDER BY seq LIMIT -1 OFFSET ?", (events,)
        ).fetchall()
    assert kinds == [("run",), ("run",)]  # started, finished
