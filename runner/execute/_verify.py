"""The verify phase: remote granted instances against the ledger, per customer, and each
voucher read back against the ledger's end date, finish and room (drift)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from runner import logs
from runner.execute._context import RunContext
from runner.execute._drift import voucher_drift
from runner.execute._readback import read_back
from runner.execute._reconcile import RemoteGrants
from runner.summaries import Mismatch, VoucherDrift

__all__ = ["Mismatch", "VerifyReport", "verify"]


@dataclass(frozen=True)
class VerifyReport:
    """What verify compared and every difference it found."""

    vouchers: int = 0
    remote_instances: int = 0
    ledger_grants: int = 0
    mismatches: tuple[Mismatch, ...] = field(default=())
    drift: tuple[VoucherDrift, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the remote holds exactly what the ledger confirms, settings included."""
        return not self.mismatches and not self.drift


def _customer_kinds(ctx: RunContext, voucher_key: str) -> dict[str, str]:
    return {
        j.customer_key: j.key_kind for j in ctx.ledger.jobs(voucher_key=voucher_key, active=None)
    }


async def verify(ctx: RunContext, voucher_ids: Mapping[str, str]) -> VerifyReport:
    """Compare each created voucher's instances with the ledger's done grants, and its
    settings read back with the ledger's."""
    with logs.phase("verify") as counts:
        report = await _verify(ctx, voucher_ids)
        drift = await _drift(ctx, voucher_ids)
        counts.update(
            vouchers=report.vouchers,
            remote_instances=report.remote_instances,
            ledger_grants=report.ledger_grants,
            mismatches=len(report.mismatches),
            drift=len(drift),
        )
        return VerifyReport(
            report.vouchers, report.remote_instances, report.ledger_grants, report.mismatches, drift
        )


async def _drift(ctx: RunContext, voucher_ids: Mapping[str, str]) -> tuple[VoucherDrift, ...]:
    """Each voucher read back (one listing) against the ledger's lifecycle and room."""
    records = [ctx.ledger.voucher(key) for key in voucher_ids]
    remote = await read_back(ctx, records)
    lives = ctx.ledger.lifecycles()
    found: list[VoucherDrift] = []
    for record in records:
        voucher_id = voucher_ids[record.voucher_key]
        life = lives[record.voucher_key]
        found += voucher_drift(voucher_id, life, record.fields, remote.get(voucher_id))
    return tuple(found)


async def _verify(ctx: RunContext, voucher_ids: Mapping[str, str]) -> VerifyReport:
    remote = RemoteGrants(ctx)
    mismatches: list[Mismatch] = []
    instances = grants = 0
    for key, voucher_id in voucher_ids.items():
        counts = await remote.counts(voucher_id)
        instances += len(await remote.instances(voucher_id))  # cached: one read per voucher
        confirmed = Counter(ctx.ledger.confirmed_grants(key))
        grants += sum(confirmed.values())
        kinds = _customer_kinds(ctx, key)
        seen: set[tuple[str, str]] = set()
        for customer, kind in kinds.items():
            seen.add((kind, customer))
            if counts[kind][customer] != confirmed[customer]:
                mismatches.append(
                    _mismatch(
                        key, voucher_id, customer, kind, counts[kind][customer], confirmed[customer]
                    )
                )
        found = _strangers(key, voucher_id, counts, seen)
        mismatches += found
        total = len(await remote.instances(voucher_id))
        if not found and total != sum(confirmed.values()) and not _any_for(mismatches, key):
            # instances the key columns cannot attribute (e.g. an empty cm_source_code)
            mismatches.append(
                _mismatch(key, voucher_id, "*", "total", total, sum(confirmed.values()))
            )
    return VerifyReport(len(voucher_ids), instances, grants, tuple(mismatches))


def _mismatch(
    voucher_key: str, voucher_id: str, customer_key: str, key_kind: str, remote: int, ledger: int
) -> Mismatch:
    return Mismatch(
        voucher_key=voucher_key,
        voucher_id=voucher_id,
        customer_key=customer_key,
        key_kind=key_kind,
        remote=remote,
        ledger=ledger,
    )


def _any_for(mismatches: list[Mismatch], voucher_key: str) -> bool:
    return any(m.voucher_key == voucher_key for m in mismatches)


def _strangers(
    key: str, voucher_id: str, counts: Mapping[str, Counter[str]], seen: set[tuple[str, str]]
) -> list[Mismatch]:
    """Remote instances of customers the ledger never planned (counted by the kinds we use)."""
    kinds = {kind for kind, _ in seen}
    return [
        _mismatch(key, voucher_id, customer, kind, n, 0)
        for kind in sorted(kinds)
        for customer, n in sorted(counts.get(kind, Counter()).items())
        if (kind, customer) not in seen
    ]
