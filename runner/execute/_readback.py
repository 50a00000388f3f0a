"""Reading created vouchers back: their end date, finish, ``num`` and ``eachCmNum``.

``getVoucherInfos`` has no filter by id: one listing of the tenant's vouchers (every
page) covers every voucher asked for. It is never narrowed by create date: the vendor
stamps a voucher's creation with *its* clock, and a window computed from ours (the
ledger's ``sent_at``, today) misses the voucher when the two clocks disagree by a day
or more — a voucher that exists would be reported missing (a test runs the client two
years ahead of the sandbox).
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.api import VoucherInfo
from runner.execute._context import RunContext
from runner.execute._settle import RemoteVoucherState
from runner.ledger import VoucherRecord

__all__ = ["read_back", "remote_state"]


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
    ctx.calls["getVoucherInfos"] += 1
    listed = await ctx.client.get_voucher_infos()
    return {v.id: remote_state(v) for v in listed if v.id in wanted}
