"""The grant phase: one receiveVoucherInfo per planned job, by a pool of workers.

A job is ``sending`` (committed) before its request leaves and settled as soon as the
answer is in: ``done``; ``failed`` when the server refused; ``unknown`` when the outcome
is unknown, or when the refusal says a limit was reached (the grant may be one whose
answer was lost earlier: reconciliation adopts it when the remote count proves it, and
fails it otherwise); back to ``planned`` when retries of a request that certainly did
not arrive ran out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import structlog

from runner.errors import CredentialsRejected, Refused
from runner.execute._attempts import attempt_write
from runner.execute._context import RunContext
from runner.ledger import JobRecord

__all__ = ["REFUSED_PREFIX", "grant_pass"]

log = structlog.get_logger(__name__)

#: Marks a job left ``unknown`` by a refusal, for reconciliation to tell apart.
REFUSED_PREFIX = "refused: "

#: Refusals that may mean "already granted": a limit (eachCmNum, num) was reached.
LIMIT_PATTERNS = ("限领", "领完", "发放完", "已领取", "上限", "超过", "limit")


def _limit_reached(err: Refused) -> bool:
    text = (err.return_msg or "").lower()
    return any(pattern in text for pattern in LIMIT_PATTERNS)


def refusal_text(err: Refused) -> str:
    """How a refusal is recorded on a job: code and message verbatim."""
    return f"{REFUSED_PREFIX}return_code={err.return_code} return_msg={err.return_msg}"


async def grant_one(ctx: RunContext, job: JobRecord, voucher_id: str) -> str:
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
    if result.outcome == "ok":
        ledger.mark_done(job_id)
    elif isinstance(result.error, Refused) and _limit_reached(result.error):
        ledger.mark_unknown(job_id, error=refusal_text(result.error))
    elif isinstance(result.error, Refused):
        err = result.error
        ledger.mark_failed(job_id, return_code=err.return_code, return_msg=err.return_msg)
    elif result.outcome == "unknown" and result.error is not None:
        ledger.mark_unknown(job_id, error=result.error.message)
    return result.outcome


async def grant_pass(
    ctx: RunContext, jobs: Sequence[JobRecord], voucher_ids: Mapping[str, str]
) -> None:
    """Grant every job once, ``concurrency`` at a time, until done or stopping."""
    queue: asyncio.Queue[JobRecord] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

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
            if ctx.progress is not None:
                ctx.progress.advance(job.voucher_key, "done" if outcome == "ok" else outcome)

    workers = max(1, min(ctx.throttle.concurrency, len(jobs)))
    await asyncio.gather(*(worker() for _ in range(workers)))
    log.info("grant pass finished", jobs=len(jobs), left=queue.qsize())
    if ctx.fatal is not None:
        raise ctx.fatal
