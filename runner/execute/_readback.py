"""Reading created vouchers back: their end date, finish, ``num`` and ``eachCmNum``.

``getVoucherInfos`` has no filter by id: it lists the tenant's vouchers by create date
(all pages). One listing covers every voucher asked for: from the day before the
earliest of their creations (the create's ``sent_at`` in the ledger; a voucher taken in
by ``runner adopt`` has none, and then the whole list is read) to tomorrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from runner.api import VoucherInfo
from runner.clock import BEIJING, beijing_today
from runner.execute._context import RunContext
from runner.execute._settle import RemoteVoucherState
from runner.ledger import VoucherRecord

__all__ = ["read_back", "remote_state"]


def _created_day(record: VoucherRecord) -> date | None:
    """The Beijing day the voucher's create was sent, if the ledger knows it."""
    if record.sent_at is None:
        return None
    sent = datetime.fromisoformat(record.sent_at)
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    return sent.astimezone(BEIJING).date()


def remote_state(info: VoucherInfo) -> RemoteVoucherState:
    """The lifecycle and room of one listed voucher, as plain values."""
    return RemoteVoucherState(
        end_date=info.end_date,
        finished=info.finished,
        num=None if info.num is None else int(info.num),
        each_cm_num=None if info.each_cm_num is None else int(info.each_cm_num),
    )


async def read_back(
    ctx: RunContext, records: Sequence[VoucherRecord]
) -> dict[str, RemoteVoucherState]:
    """Each of the created *records* as the tenant lists it, by remote id (one listing);
    a voucher the tenant does not list is left out."""
    wanted = {r.remote_id for r in records if r.remote_id}
    if not wanted:
        return {}
    days = [_created_day(r) for r in records]
    ctx.calls["getVoucherInfos"] += 1
    if any(day is None for day in days):
        listed = await ctx.client.get_voucher_infos()
    else:
        start = min(day for day in days if day is not None) - timedelta(days=1)
        end = beijing_today() + timedelta(days=1)
        listed = await ctx.client.get_voucher_infos(start_create_date=start, end_create_date=end)
    return {v.id: remote_state(v) for v in listed if v.id in wanted}
