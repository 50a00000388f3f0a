"""One run, start to end: create → lifecycle (end dates, finishes) → gate (no grant to a
finished or expired voucher) → (reconcile → grant)* → reconcile → verify.

SIGINT/SIGTERM set the stop flag: no new call starts, calls in flight may finish for a
bounded time, everything is recorded, and the caller writes the output files.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field

import structlog

from runner.execute._changes import apply_lifecycle
from runner.execute._context import RunContext
from runner.execute._gate import close_gate
from runner.execute._grants import grant_pass
from runner.execute._progress import make_progress
from runner.execute._reconcile import reconcile_jobs
from runner.execute._verify import VerifyReport, verify
from runner.execute._vouchers import create_vouchers
from runner.summaries import ChangeOutcomeView, ClosedView

__all__ = ["RunOutcome", "execute"]

log = structlog.get_logger(__name__)

#: How often a run looks whether another thread asked it to stop.
_STOP_POLL_S = 0.2


@dataclass(frozen=True)
class RunOutcome:
    """What a run did: remote ids, verification, whether it was interrupted, the end-date
    moves and finishes it made, and the vouchers whose grants it did not send."""

    voucher_ids: dict[str, str]
    verify: VerifyReport | None
    interrupted: bool
    calls: dict[str, int] = field(default_factory=dict)
    changes: tuple[ChangeOutcomeView, ...] = ()
    not_sent: tuple[ClosedView, ...] = ()


@contextlib.contextmanager
def _stop_on_signals(ctx: RunContext) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def request_stop(sig: signal.Signals) -> None:
        log.warning("stopping: no new calls start; in-flight calls may finish", signal=sig.name)
        ctx.stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, request_stop, sig)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _grant_totals(ctx: RunContext, voucher_ids: dict[str, str]) -> dict[str, tuple[int, int]]:
    totals: dict[str, tuple[int, int]] = {}
    for key, states in ctx.ledger.counts().items():
        if key in voucher_ids:
            totals[key] = (states.get("done", 0), sum(states.values()))
    return totals


def _sync_progress(ctx: RunContext) -> None:
    if ctx.progress is not None:
        for key, states in ctx.ledger.counts().items():
            ctx.progress.set_done(key, states.get("done", 0))


async def _grant_rounds(ctx: RunContext, voucher_ids: dict[str, str]) -> None:
    for _ in range(ctx.settings.rounds):
        await reconcile_jobs(ctx, voucher_ids)
        _sync_progress(ctx)
        counts = ctx.ledger.counts()  # not a record of every job: a 1M-job plan starts fast
        todo = sum(counts[key].get("planned", 0) for key in voucher_ids if key in counts)
        if not todo or ctx.stopping:
            return
        await grant_pass(ctx, todo, voucher_ids)
    await reconcile_jobs(ctx, voucher_ids)
    _sync_progress(ctx)


async def _phases(ctx: RunContext, *, bars: bool | None) -> RunOutcome:
    voucher_ids = await create_vouchers(ctx)
    changes = await apply_lifecycle(ctx)
    not_sent = [] if ctx.stopping else await close_gate(ctx, voucher_ids)
    with make_progress(_grant_totals(ctx, voucher_ids), bars=bars) as progress:
        ctx.progress = progress
        await _grant_rounds(ctx, voucher_ids)
    ctx.progress = None
    report = None if ctx.stopping else await verify(ctx, voucher_ids)
    return RunOutcome(
        voucher_ids, report, ctx.stopping, dict(ctx.calls), tuple(changes), tuple(not_sent)
    )


async def _relay_stop_request(ctx: RunContext) -> None:
    """Turn a stop asked from another thread (``ctx.stop_request``) into ``ctx.stop``."""
    request = ctx.stop_request
    if request is None:
        return
    # A threading.Event cannot be awaited, and waiting for it in a helper thread would keep
    # asyncio.run from ending (it joins its executor's threads): polling is the honest way.
    while not request.is_set():  # noqa: ASYNC110
        await asyncio.sleep(_STOP_POLL_S)
    log.warning("stopping: asked to; no new calls start; in-flight calls may finish")
    ctx.stop.set()


async def execute(ctx: RunContext, *, bars: bool | None = None) -> RunOutcome:
    """Run every phase; on a stop signal (or ``ctx.stop_request``), let in-flight calls
    finish within drain_s."""
    relay = asyncio.ensure_future(_relay_stop_request(ctx))
    try:
        return await _execute(ctx, bars=bars)
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay


async def _execute(ctx: RunContext, *, bars: bool | None) -> RunOutcome:
    with _stop_on_signals(ctx):
        task = asyncio.ensure_future(_phases(ctx, bars=bars))
        stop_wait = asyncio.ensure_future(ctx.stop.wait())
        await asyncio.wait({task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            done, _ = await asyncio.wait({task}, timeout=ctx.settings.drain_s)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        stop_wait.cancel()
        if task.cancelled():
            return RunOutcome({}, None, True, dict(ctx.calls))
        return task.result()
