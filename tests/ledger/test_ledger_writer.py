"""The group-commit writer: marks share commits, outcomes land by the end, errors surface."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from runner.errors import LedgerError, RunnerError
from runner.ledger import Ledger, LedgerWriter

from .helpers import CAMPAIGN, raw, seed

JOBS = [f"j{n:03d}" for n in range(60)]


def _states(state_dir: Path) -> dict[str, str]:
    """Every job's state, read through a connection of its own."""
    with raw(state_dir / CAMPAIGN / "ledger.sqlite") as conn:
        return dict(conn.execute("SELECT job_id, state FROM jobs").fetchall())


def test_concurrent_sending_marks_share_commits_and_outcomes_land_on_close(
    ledger: Ledger, state_dir: Path
) -> None:
    """Sixty workers asking at once need far fewer than sixty commits; each sending mark is
    on disk when its await returns, and every queued outcome is on disk after close."""
    seed(ledger, *JOBS)
    seen_sending: list[str] = []

    async def worker(writer: LedgerWriter, job_id: str) -> None:
        await writer.sending(job_id, f"msg-{job_id}")
        seen_sending.append(_states(state_dir)[job_id])
        writer.done(job_id)

    async def go() -> LedgerWriter:
        with LedgerWriter(ledger) as writer:
            await asyncio.gather(*(worker(writer, job_id) for job_id in JOBS))
        return writer

    writer = asyncio.run(go())
    assert seen_sending == ["sending"] * len(JOBS)
    assert set(_states(state_dir).values()) == {"done"}
    assert writer.marks == 2 * len(JOBS)
    assert writer.commits < len(JOBS)
    assert [e.to_state for e in ledger.events(JOBS[0])] == ["planned", "sending", "done"]


def test_flush_commits_every_queued_outcome(ledger: Ledger, state_dir: Path) -> None:
    """Outcomes are not awaited by the worker, yet flush returns only once they are stored."""
    seed(ledger, "a", "b")

    async def go() -> dict[str, str]:
        with LedgerWriter(ledger) as writer:
            await writer.sending("a", "m-a")
            await writer.sending("b", "m-b")
            writer.failed("a", return_code="1", return_msg="客户不存在")
            writer.unknown("b", error="the answer was lost")
            await writer.flush()
            return _states(state_dir)

    assert asyncio.run(go()) == {"a": "failed", "b": "unknown"}
    assert ledger.job("a").return_msg == "客户不存在"


def test_a_refused_move_fails_its_sending_reaches_on_error_and_stops_later_sendings(
    ledger: Ledger, state_dir: Path
) -> None:
    """A sending the ledger refuses raises LedgerError in its worker and in on_error, every
    later sending fails unwritten with the same error, and outcomes queued still land."""
    seed(ledger, "a", "b", "c")
    ledger.mark_sending("b", "m-b")  # b is already sending: planned → sending is refused
    errors: list[RunnerError] = []

    async def go() -> None:
        with LedgerWriter(ledger, on_error=errors.append) as writer:
            await writer.sending("a", "m-a")
            with pytest.raises(LedgerError, match="mark_sending") as refused:
                await writer.sending("b", "m-b2")
            writer.done("a")
            with pytest.raises(LedgerError) as later:
                await writer.sending("c", "m-c")
            assert later.value is refused.value
            await writer.flush()
            await asyncio.sleep(0)  # on_error is called on the loop's next turn

    asyncio.run(go())
    assert [type(e) for e in errors] == [LedgerError]
    assert _states(state_dir) == {"a": "done", "b": "sending", "c": "planned"}


def test_an_error_no_worker_saw_is_raised_by_close(ledger: Ledger, state_dir: Path) -> None:
    """A refused outcome (queued, never awaited) is not swallowed: closing the writer raises
    it, and nothing was written for it."""
    seed(ledger, "a", "b")

    async def go() -> None:
        writer = LedgerWriter(ledger).start()
        try:
            writer.done("a")  # a is planned, not sending: refused
            await writer.flush()
        finally:
            with pytest.raises(LedgerError, match="mark_done"):
                writer.close()

    asyncio.run(go())
    assert _states(state_dir) == {"a": "planned", "b": "planned"}


def test_a_read_only_ledger_refuses_to_start_a_writer(state_dir: Path, ledger: Ledger) -> None:
    """A writer needs a writable ledger: starting one on a read-only ledger raises at once."""
    seed(ledger, "a")
    with Ledger.open(state_dir, CAMPAIGN, read_only=True) as reading:

        async def go() -> None:
            with LedgerWriter(reading):
                pass

        with pytest.raises(LedgerError, match="read-only"):
            asyncio.run(go())
