"""No grant to a finished or expired voucher: the gate before the grant passes.

A voucher takes no more grants once it is finished or past its end date (Beijing
time): the vendor refuses each one (``优惠券已终止``, ``优惠券已过期``). Before the
first grant pass, every created voucher with grants still to send is judged by what
the ledger knows and, when the ledger sees no reason, by reading it back once
(:func:`closed_reason`): its planned grants are then not sent but ``failed`` at once
(``mark_blocked``), the reason in ``last_error`` and so in ``failures.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import structlog

from runner.clock import beijing_today
from runner.execute._context import RunContext
from runner.execute._readback import read_back
from runner.execute._settle import RemoteVoucherState
from runner.ledger import VoucherLifecycle
from runner.plan import Closed
from runner.summaries import ClosedView

__all__ = ["close_gate", "closed_by_ledger", "closed_reason"]

log = structlog.get_logger(__name__)


def closed_by_ledger(life: VoucherLifecycle, today: date) -> Closed | None:
    """Finished, or ended before *today*, as far as the ledger knows."""
    if life.finished:
        return Closed(life.voucher_key, "finished", life.finished_at or "earlier")
    if life.end_date is not None and life.end_date < today.isoformat():
        return Closed(life.voucher_key, "expired", life.end_date)
    return None


def closed_reason(
    life: VoucherLifecycle, remote: RemoteVoucherState | None, today: date
) -> Closed | None:
    """Why the voucher takes no more grants (the ledger first, then the voucher read
    back), or None: it takes them."""
    known = closed_by_ledger(life, today)
    if known is not None or remote is None:
        return known
    if remote.finished:
        return Closed(life.voucher_key, "finished", "the vendor's side", remote=True)
    if remote.end_date is not None and remote.end_date < today.isoformat():
        return Closed(life.voucher_key, "expired", remote.end_date, remote=True)
    return None


async def close_gate(ctx: RunContext, voucher_ids: Mapping[str, str]) -> list[ClosedView]:
    """Fail the planned grants of every created voucher that takes no more; one remote
    read covers the vouchers the ledger sees no reason to close."""
    ledger, today = ctx.ledger, beijing_today()
    planned = {key for key, states in ledger.counts().items() if states.get("planned")}
    keys = [key for key in voucher_ids if key in planned]
    if not keys:
        return []
    lives = ledger.lifecycles()
    doubt = [ledger.voucher(k) for k in keys if closed_by_ledger(lives[k], today) is None]
    remote = await read_back(ctx, doubt)
    closed: list[ClosedView] = []
    for key in keys:
        reason = closed_reason(lives[key], remote.get(voucher_ids[key]), today)
        if reason is not None:
            job_ids = [job.job_id for job in ledger.jobs("planned", key)]
            ledger.mark_blocked_many(job_ids, reason=reason.reason())
            log.warning("grants not sent", voucher=key, jobs=len(job_ids), reason=reason.reason())
            closed.append(_view(reason, len(job_ids)))
    return closed


def _view(reason: Closed, not_sent: int) -> ClosedView:
    return ClosedView(
        voucher_key=reason.voucher_key, why=reason.why, since=reason.since, grants_not_sent=not_sent
    )
