"""The grant phase: one receiveVoucherInfo per planned job, by a pool of workers.

A job is ``sending`` (committed) before its request leaves and settled as soon as the
answer is in: ``done``; ``failed`` when the server refused; ``unknown`` when the outcome
is unknown, or ``unknown`` and ``refused`` when the refusal says a limit was reached (the
grant may be one whose answer was lost earlier: reconciliation adopts it when the remote
count proves it, and fails it otherwise); back to ``planned`` when retries of a request
that certainly did not arrive ran out.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence

import structlog

from runner import logs
from runner.api import refusal_cause
from runner.errors import CredentialsRejected, Refused
from runner.execute._attempts import AttemptResult, Settled, attempt_write
from runner.execute._context import RunContext
from runner.ledger import JobRecord, Ledger

__all__ = ["grant_pass"]

log = structlog.get_logger(__name__)

#: The counts a grant pass's ``phase finished`` line always carries, one per outcome.
_OUTCOMES = ("done", "refused", "unknown", "not_sent", "stopped")


async def grant_one(ctx: RunContext, job: JobRecord, voucher_id: str) -> Settled:
    """Grant one job and record its outcome; returns the outcome's name."""
    ledger, job_id = ctx.ledger, job.job_id

    async def send(msg_id: str) -> object:
        ctx.calls["receiveVoucherInfo"] += 1
        return await ctx.client.receive_voucher_info(
            voucher_id, msg_id=msg_id, **{job.key_kind: job.customer_key}
        )

    result = await attempt_write(
        ctx,
        mark_sending=lambda msg_id: ledger.mark_sending(job_id, msg_id),
        mark_not_sent=lambda error: ledger.mark_not_sent(job_id, error=error),
        send=send,
    )
    _record(ledger, job_id, result)
    return result.outcome


def _record(ledger: Ledger, job_id: str, result: AttemptResult) -> None:
    """Settle the job as its attempt ended (not sent and stopped are recorded already)."""
    err = result.error
    if result.outcome == "ok":
        ledger.mark_done(job_id)
    elif isinstance(err, Refused) and refusal_cause(err.return_msg) == "limit":
        # maybe an earlier grant whose answer was lost already counts: reconciliation decides
        ledger.mark_unknown_refused(job_id, return_code=err.return_code, return_msg=err.return_msg)
    elif isinstance(err, Refused):
        ledger.mark_failed(job_id, return_code=err.return_code, return_msg=err.return_msg)
    elif result.outcome == "unknown" and err is not None:
        ledger.mark_unknown(job_id, error=err.message)


async def grant_pass(
    ctx: RunContext, jobs: Sequence[JobRecord], voucher_ids: Mapping[str, str]
) -> None:
    """Grant every job once, ``concurrency`` at a time, until done or stopping."""
    queue: asyncio.Queue[JobRecord] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    outcomes: Counter[str] = Counter()  # for the phase's closing line only

    async def worker() -> None:
        while not ctx.stopping:
            try:
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                outcome = await grant_one(ctx, job, voucher_ids[job.voucher_key])
            except CredentialsRejected as err:
                ctx.fatal = ctx.fatal or err
                ctx.stop.set()  # the other workers finish their calls and stop
                return
            outcomes["done" if outcome == "ok" else outcome] += 1
            if ctx.progress is not None:
                ctx.progress.advance(job.voucher_key, "done" if outcome == "ok" else outcome)

    with logs.phase("grant") as counts:
        counts.update(jobs=len(jobs))
        workers = max(1, min(ctx.throttle.concurrency, len(jobs)))
        await asyncio.gather(*(worker() for _ in range(workers)))
        log.info("grant pass finished", jobs=len(jobs), left=queue.qsize())
        counts.update({name: outcomes[name] for name in _OUTCOMES}, left=queue.qsize())
        if ctx.fatal is not None:
            raise ctx.fatal
