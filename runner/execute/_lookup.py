"""Look before you create: find a campaign voucher that already exists on the tenant.

The ledger is a cache of the remote truth, not the only guard against a duplicate. A
voucher this ledger has never sent may still exist remotely: created from another
working directory, another machine, a deleted state folder, or a lost ledger. So before
the first ``addVoucherInfo`` of such a voucher, the tenant's vouchers are listed (every
page) and searched for a live one with the same name, dates, money and discount
(:func:`runner.plan.voucher_identity`). Found: nothing is created, and ``runner adopt``
takes it in. ``runner adopt`` uses the same search.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import structlog

from runner.errors import Problem, RemoteVoucherExists
from runner.execute._context import RunContext
from runner.ledger import VoucherRecord
from runner.plan import voucher_identity

__all__ = ["identity_matches", "look_before_create", "owned_ids", "remote_vouchers"]

log = structlog.get_logger(__name__)

RemoteVoucher = Mapping[str, object]


async def remote_vouchers(ctx: RunContext) -> list[RemoteVoucher]:
    """Every voucher of the tenant, all pages, as wire-named mappings."""
    ctx.calls["getVoucherInfos"] += 1
    return [v.model_dump(by_alias=True) for v in await ctx.client.get_voucher_infos()]


def identity_matches(
    fields: Mapping[str, object], remote: Iterable[RemoteVoucher], *, owned: Iterable[str] = ()
) -> list[RemoteVoucher]:
    """The live remote vouchers that are this campaign voucher, except ids *owned* by
    another key of the ledger."""
    wanted, taken = voucher_identity(fields), set(owned)
    return [
        item
        for item in remote
        if str(item.get("isFinish") or "N").upper() != "Y"
        and str(item.get("id")) not in taken
        and voucher_identity(item) == wanted
    ]


def owned_ids(ctx: RunContext, except_key: str | None = None) -> set[str]:
    """Remote ids this ledger already holds, under any key but *except_key*."""
    return {
        v.remote_id
        for v in ctx.ledger.vouchers(active=None)
        if v.remote_id and v.voucher_key != except_key
    }


def _never_sent(ctx: RunContext) -> list[VoucherRecord]:
    return [v for v in ctx.ledger.vouchers() if v.state == "planned" and v.attempts == 0]


async def look_before_create(ctx: RunContext) -> None:
    """Raise :class:`RemoteVoucherExists` when a voucher this ledger never sent exists."""
    fresh = _never_sent(ctx)
    if not fresh:
        return
    remote = await remote_vouchers(ctx)
    found = {
        v.voucher_key: identity_matches(v.fields, remote, owned=owned_ids(ctx, v.voucher_key))
        for v in fresh
    }
    problems = [_exists(ctx, key, items) for key, items in found.items() if items]
    log.info("looked before creating", vouchers=len(fresh), remote=len(remote), found=len(problems))
    if problems:
        raise RemoteVoucherExists(problems)


def _exists(ctx: RunContext, key: str, items: Sequence[RemoteVoucher]) -> Problem:
    ids = ", ".join(str(item.get("id")) for item in items)
    hint = (
        "Take it into this ledger with `runner adopt CAMPAIGN.yaml` (it then grants only "
        "what is missing), or point --state-dir at the ledger that created it."
    )
    if len(items) > 1:
        hint = (
            f"Several remote vouchers match: choose one with `runner adopt CAMPAIGN.yaml "
            f"--voucher {key}=REMOTE_ID`."
        )
    return Problem(
        f"voucher {key!r} already exists on the tenant as remote voucher(s) {ids} "
        "(same name, dates, money and discount), but this ledger never created it",
        ctx.locate(f"vouchers.{key}"),
        hint,
    )
