"""The create phase: addVoucherInfo for each voucher not yet created.

``num`` and ``eachCmNum`` come from the plan, so the vendor itself refuses any grant
beyond it. A lost create response is reconciled in the same run, by fingerprint,
before anything is sent again; several matching remote vouchers stop that voucher
for review. The remote id is committed the moment it is known.
"""

from __future__ import annotations

import structlog

from runner import logs
from runner.api import AddVoucherRequest
from runner.errors import Refused
from runner.execute._attempts import Settled, attempt_write
from runner.execute._context import RunContext
from runner.execute._lookup import look_before_create
from runner.execute._reconcile import reconcile_voucher
from runner.ledger import VoucherRecord

__all__ = ["create_vouchers"]

log = structlog.get_logger(__name__)

#: Create outcomes after which this run stops trying that voucher (retries ran out, or
#: the run is stopping); the next run starts over.
_GIVE_UP: frozenset[Settled] = frozenset({"not_sent", "stopped"})


async def _send_create(ctx: RunContext, record: VoucherRecord) -> Settled:
    key, ledger = record.voucher_key, ctx.ledger
    request = AddVoucherRequest.model_validate(dict(record.fields))

    async def send(msg_id: str) -> object:
        ctx.calls["addVoucherInfo"] += 1
        return await ctx.client.add_voucher_info(request, msg_id=msg_id)

    result = await attempt_write(
        ctx,
        mark_sending=lambda msg_id: ledger.mark_voucher_sending(key, msg_id),
        mark_not_sent=lambda error: ledger.mark_voucher_not_sent(key, error=error),
        send=send,
    )
    if result.outcome == "ok":
        ledger.mark_voucher_created(key, remote_id=str(result.value))
    elif isinstance(result.error, Refused):
        err = result.error
        ledger.mark_voucher_failed(key, return_code=err.return_code, return_msg=err.return_msg)
    elif result.outcome == "unknown" and result.error is not None:
        ledger.mark_voucher_unknown(key, error=result.error.message)
    log.info("create voucher", voucher=key, outcome=result.outcome)
    return result.outcome


async def create_vouchers(ctx: RunContext) -> dict[str, str]:
    """Create or settle every planned voucher; the remote id of each created one.

    Raises :class:`~runner.errors.RemoteVoucherExists` before any create when a voucher
    this ledger never sent already exists on the tenant.
    """
    with logs.phase("lookup") as counts:
        reads = ctx.calls["getVoucherInfos"]
        await look_before_create(ctx)
        counts.update(reads=ctx.calls["getVoucherInfos"] - reads)
    with logs.phase("create") as counts:
        sent = ctx.calls["addVoucherInfo"]
        records = ctx.ledger.vouchers()
        for record in records:
            for _ in range(ctx.settings.rounds):
                if ctx.stopping:
                    break
                record = ctx.ledger.voucher(record.voucher_key)
                if record.state == "unknown":
                    await reconcile_voucher(ctx, record)
                elif record.state != "planned" or await _send_create(ctx, record) in _GIVE_UP:
                    break
        created = {
            v.voucher_key: v.remote_id
            for v in ctx.ledger.vouchers(active=None)
            if v.state == "created" and v.remote_id is not None
        }
        counts.update(
            vouchers=len(records), sent=ctx.calls["addVoucherInfo"] - sent, created=len(created)
        )
    return created
