"""Reconciliation: settle every ``unknown`` row against the remote truth.

Runs only while no write is in flight (between grant passes, and at the start of every
run for rows a crash left behind), so remote counts cannot move under it. Listings are
read once per voucher per pass: a thousand unknown grants cost a few paginated reads.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

import structlog

from runner import logs
from runner.api import VoucherUsage
from runner.execute._context import RunContext
from runner.execute._lookup import owned_ids
from runner.execute._settle import GrantDecision, VoucherDecision, settle_customer, settle_voucher
from runner.keys import KEY_KINDS
from runner.ledger import JobRecord, VoucherRecord

__all__ = ["RemoteGrants", "by_customer", "reconcile_jobs", "reconcile_voucher", "stable_counts"]

log = structlog.get_logger(__name__)


class RemoteGrants:
    """Granted instances of each voucher, read at most once per pass."""

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self._cache: dict[str, list[VoucherUsage]] = {}

    async def instances(self, voucher_id: str) -> list[VoucherUsage]:
        """Every instance of *voucher_id*, unused, used and expired."""
        if voucher_id not in self._cache:
            self._ctx.calls["queryVoucherUsedInfo"] += 3
            self._cache[voucher_id] = await self._ctx.client.query_voucher_used_info(voucher_id)
        return self._cache[voucher_id]

    async def counts(self, voucher_id: str) -> dict[str, Counter[str]]:
        """Instances per customer, under each key kind (cm_id, cm_code, cm_source_code)."""
        per_kind: dict[str, Counter[str]] = defaultdict(Counter)
        for usage in await self.instances(voucher_id):
            for kind in KEY_KINDS:
                value = getattr(usage, kind, None)
                if value:
                    per_kind[kind][str(value)] += 1
        return per_kind


def by_customer(jobs: Iterable[JobRecord]) -> dict[tuple[str, str], list[JobRecord]]:
    """Jobs per (key kind, customer key), lowest sequence number first."""
    grouped: dict[tuple[str, str], list[JobRecord]] = defaultdict(list)
    for job in sorted(jobs, key=lambda j: (j.key_kind, j.customer_key, j.seq)):
        grouped[(job.key_kind, job.customer_key)].append(job)
    return grouped


def _apply(ctx: RunContext, job: JobRecord, decision: GrantDecision) -> None:
    """Record one decision; a job a refusal left unknown is failed, never sent again."""
    ledger, reason = ctx.ledger, decision.reason
    if decision.outcome == "adopt":
        ledger.adopt(job.job_id, detail={"reason": reason})
    elif decision.outcome == "review":
        ledger.mark_review(job.job_id, reason=reason)
    elif job.refused:
        ledger.mark_refused(job.job_id, detail={"reason": reason})
    else:
        ledger.mark_absent(job.job_id, detail={"reason": reason})


#: How many remote reads, ``settle_s`` apart, reconciliation makes at most while waiting
#: for two in a row to agree; when none do, the rows stay unknown until the next pass.
MAX_READS = 4

Counts = dict[str, dict[str, Counter[str]]]


async def _read_counts(ctx: RunContext, voucher_ids: Iterable[str]) -> Counts:
    remote = RemoteGrants(ctx)
    return {voucher_id: dict(await remote.counts(voucher_id)) for voucher_id in voucher_ids}


async def stable_counts(ctx: RunContext, voucher_ids: Iterable[str]) -> Counts | None:
    """Instances per customer of each voucher, once two reads ``settle_s`` apart agree.

    A grant the vendor applies late shows up between the reads and makes them differ, so
    nothing is declared absent while the remote side is still moving. None when no two
    reads in a row agreed within :data:`MAX_READS`.
    """
    ids = sorted(set(voucher_ids))
    before = await _read_counts(ctx, ids)
    for _ in range(MAX_READS - 1):
        await asyncio.sleep(ctx.settings.settle_s)
        now = await _read_counts(ctx, ids)
        if now == before:
            return now
        log.info("remote grants still moving; reading again", vouchers=len(ids))
        before = now
    return None


async def reconcile_jobs(ctx: RunContext, voucher_ids: Mapping[str, str]) -> int:
    """Settle every unknown job of a created voucher; returns how many were settled."""
    with logs.phase("reconcile") as counts:
        decided: Counter[str] = Counter()  # for the phase's closing line only
        settled = await _reconcile_jobs(ctx, voucher_ids, decided)
        counts.update(settled=settled, **{name: decided[name] for name in _DECISIONS})
        return settled


#: The counts a reconciliation's ``phase finished`` line always carries, one per decision.
_DECISIONS = ("adopt", "resend", "review")


async def _reconcile_jobs(
    ctx: RunContext, voucher_ids: Mapping[str, str], decided: Counter[str]
) -> int:
    unknown = [j for j in ctx.ledger.jobs("unknown", active=None) if j.voucher_key in voucher_ids]
    if not unknown:
        return 0
    by_voucher: dict[str, list[JobRecord]] = defaultdict(list)
    for job in unknown:
        by_voucher[job.voucher_key].append(job)
    counts = await stable_counts(ctx, (voucher_ids[key] for key in by_voucher))
    if counts is None:
        log.warning("remote grants did not settle: unknown jobs stay unknown", jobs=len(unknown))
        return 0
    for voucher_key, jobs in by_voucher.items():
        per_kind = counts[voucher_ids[voucher_key]]
        confirmed = ctx.ledger.confirmed_grants(voucher_key)
        for (kind, customer), customer_jobs in by_customer(jobs).items():
            decisions = settle_customer(
                [j.job_id for j in customer_jobs],
                remote=per_kind.get(kind, Counter())[customer],
                confirmed=confirmed.get(customer, 0),
            )
            for job, decision in zip(customer_jobs, decisions, strict=True):
                _apply(ctx, job, decision)
                decided[decision.outcome] += 1
    log.info("reconciled jobs", settled=len(unknown), vouchers=len(by_voucher))
    return len(unknown)


async def _voucher_decision(ctx: RunContext, record: VoucherRecord) -> VoucherDecision:
    # Every page, never narrowed by create date: the vendor stamps the creation with its
    # own clock, and a window from ours would miss the voucher when the clocks disagree by
    # a day or more -- and a create taken for absent is sent again: a second voucher.
    ctx.calls["getVoucherInfos"] += 1
    remote = await ctx.client.get_voucher_infos()
    owned = frozenset(owned_ids(ctx, record.voucher_key))
    items = [v.model_dump(by_alias=True) for v in remote]
    return settle_voucher(record.fields, items, owned_ids=owned)


async def reconcile_voucher(ctx: RunContext, record: VoucherRecord) -> str | None:
    """Settle one unknown voucher by fingerprint; its remote id when adopted.

    Two listings ``settle_s`` apart must agree before anything is decided: a create the
    vendor applies late must not be taken for one that never arrived.
    """
    with logs.phase("reconcile") as counts:
        remote_id = await _reconcile_voucher(ctx, record)
        counts.update(vouchers=1, adopted=int(remote_id is not None))
        return remote_id


async def _reconcile_voucher(ctx: RunContext, record: VoucherRecord) -> str | None:
    key = record.voucher_key
    await asyncio.sleep(ctx.settings.settle_s)
    decision = await _voucher_decision(ctx, record)
    await asyncio.sleep(ctx.settings.settle_s)
    again = await _voucher_decision(ctx, record)
    if again != decision:
        log.info("remote vouchers still moving: voucher stays unknown", voucher=key)
        return None
    if decision.outcome == "adopt" and decision.remote_id is not None:
        ctx.ledger.adopt_voucher(
            key, remote_id=decision.remote_id, detail={"reason": decision.reason}
        )
    elif decision.outcome == "review":
        ctx.ledger.mark_voucher_review(key, reason=decision.reason)
    else:
        ctx.ledger.mark_voucher_absent(key, detail={"reason": decision.reason})
    log.info("reconciled voucher", voucher=key, outcome=decision.outcome, reason=decision.reason)
    return decision.remote_id
