"""The grant phase: one receiveVoucherInfo per planned job, by a pool of workers.

A job is ``sending`` (committed) before its request leaves and settled as soon as the
answer is in: ``done``; ``failed`` when the server refused; ``unknown`` when the outcome
is unknown, or ``unknown`` and ``refused`` when the refusal says a limit was reached (the
grant may be one whose answer was lost earlier: reconciliation adopts it when the remote
count proves it, and fails it otherwise); back to ``planned`` when retries of a request
that certainly did not arrive ran out.

The marks go through a :class:`~runner.ledger.LedgerWriter` (group commit in a thread of
its own): a worker awaits the commit holding its job's ``sending`` mark, so no request
leaves before it, and queues the outcome without waiting. The writer is closed (everything
queued committed) when the pass ends, however it ends. A ledger error in the writer stops
the run like a rejected credential does: no new request starts, the error is raised.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Mapping
from typing import Protocol

import structlog

from runner import logs
from runner.api import refusal_cause
from runner.errors import Refused, RunnerError
from runner.execute._attempts import AttemptResult, Settled, attempt_write
from runner.execute._context import RunContext
from runner.ledger import Ledger, LedgerWriter, PlannedGrant

__all__ = ["grant_pass"]

log = structlog.get_logger(__name__)

#: The counts a grant pass's ``phase finished`` line always carries, one per outcome.
_OUTCOMES = ("done", "refused", "unknown", "not_sent", "stopped")


#: Planned grants read from the ledger at a time, ahead of the workers.
PAGE = 5_000


class Grantable(Protocol):
    """What sending a grant needs of a job (a :class:`~runner.ledger.JobRecord` or a
    :class:`~runner.ledger.PlannedGrant`)."""

    @property
    def job_id(self) -> str: ...
    @property
    def key_kind(self) -> str: ...
    @property
    def customer_key(self) -> str: ...


async def grant_one(
    ctx: RunContext, job: Grantable, voucher_id: str, writer: LedgerWriter | None = None
) -> Settled:
    """Grant one job and record its outcome; returns the outcome's name.

    Without a ``writer`` (a single grant outside a pass) one is opened for this call.
    """
    if writer is None:
        with LedgerWriter(ctx.ledger) as own:
            return await grant_one(ctx, job, voucher_id, own)
    job_id = job.job_id
    customer = {job.key_kind: job.customer_key}

    async def send(msg_id: str) -> object:
        ctx.calls["receiveVoucherInfo"] += 1
        return await ctx.client.receive_voucher_info(voucher_id, msg_id=msg_id, **customer)

    result = await attempt_write(
        ctx,
        mark_sending=lambda msg_id: writer.sending(job_id, msg_id),
        mark_not_sent=lambda error: writer.not_sent(job_id, error=error),
        send=send,
    )
    _record(writer, job_id, result)
    return result.outcome


def _record(writer: LedgerWriter, job_id: str, result: AttemptResult) -> None:
    """Settle the job as its attempt ended (not sent and stopped are recorded already)."""
    err = result.error
    if result.outcome == "ok":
        writer.done(job_id)
    elif isinstance(err, Refused) and refusal_cause(err.return_msg) == "limit":
        # maybe an earlier grant whose answer was lost already counts: reconciliation decides
        writer.unknown_refused(job_id, return_code=err.return_code, return_msg=err.return_msg)
    elif isinstance(err, Refused):
        writer.failed(job_id, return_code=err.return_code, return_msg=err.return_msg)
    elif result.outcome == "unknown" and err is not None:
        writer.unknown(job_id, error=err.message)


def _stop_run(ctx: RunContext, err: RunnerError) -> None:
    """Keep the first error that stops the run and stop every worker."""
    ctx.fatal = ctx.fatal or err
    ctx.stop.set()


class _Feed:
    """The pass's planned grants of created vouchers, read a page at a time in plan order.

    The pass reads each job once: one put back to planned during the pass (not sent) is
    sent again by the next pass, as when the pass took a list of every planned job."""

    def __init__(self, ledger: Ledger, voucher_ids: Mapping[str, str]) -> None:
        self._ledger = ledger
        self._voucher_ids = voucher_ids
        self._after = 0
        self._ahead: deque[PlannedGrant] = deque()
        self._exhausted = False
        self.taken = 0

    def next(self) -> PlannedGrant | None:
        """The next grant to send; None when there is none left."""
        while not self._ahead:
            if self._exhausted:
                return None
            page = self._ledger.planned_grants(after=self._after, limit=PAGE)
            self._exhausted = len(page) < PAGE
            if page:
                self._after = page[-1].rowid
            self._ahead.extend(g for g in page if g.voucher_key in self._voucher_ids)
        self.taken += 1
        return self._ahead.popleft()


async def grant_pass(ctx: RunContext, planned: int, voucher_ids: Mapping[str, str]) -> None:
    """Grant every planned job of a created voucher once (``planned`` of them),
    ``concurrency`` at a time, until done or stopping."""
    feed = _Feed(ctx.ledger, voucher_ids)
    outcomes: Counter[str] = Counter()  # for the phase's closing line only

    async def worker(writer: LedgerWriter) -> None:
        progress = ctx.progress
        while not ctx.stopping:
            job = feed.next()
            if job is None:
                return
            try:
                outcome = await grant_one(ctx, job, voucher_ids[job.voucher_key], writer)
            except RunnerError as err:  # rejected credentials, the ledger cannot be written
                _stop_run(ctx, err)  # the other workers finish their calls and stop
                return
            name = "done" if outcome == "ok" else outcome
            outcomes[name] += 1
            if progress is not None:
                progress.advance(job.voucher_key, name)

    with logs.phase("grant") as counts:
        counts.update(jobs=planned)
        cpu_started = time.process_time()  # every thread of the process: the writer too
        workers = max(1, min(ctx.throttle.concurrency, planned))
        with LedgerWriter(ctx.ledger, on_error=lambda err: _stop_run(ctx, err)) as writer:
            await asyncio.gather(*(worker(writer) for _ in range(workers)))
        counts.update(
            commits=writer.commits,
            marks=writer.marks,
            cpu_ms=round((time.process_time() - cpu_started) * 1000),
        )
        left = max(0, planned - feed.taken)
        log.info("grant pass finished", jobs=planned, left=left)
        counts.update({name: outcomes[name] for name in _OUTCOMES}, left=left)
        if ctx.fatal is not None:
            raise ctx.fatal
