"""Drift: a remote voucher whose end date, finish or room differs from the ledger.

Someone changed it outside the runner (the vendor's console, another tool). Nothing is
reverted automatically: :func:`voucher_drift` (pure) names each difference with what to
do, and ``verify`` (and a run's verify phase) reports it with exit 3. A voucher with a
change still unsettled is left out: that difference may be the runner's own.
"""

from __future__ import annotations

from collections.abc import Mapping

from runner.execute._settle import RemoteVoucherState
from runner.ledger import VoucherLifecycle
from runner.summaries import VoucherDrift

__all__ = ["voucher_drift"]

_CAMPAIGN = "CAMPAIGN.yaml"


def _end_hint(key: str, ledger: str | None, remote: str | None) -> str:
    return (
        f"The end date was changed outside the runner. To keep {remote}: `runner extend "
        f"{_CAMPAIGN} --voucher {key} --end-date {remote}` (records it), then set end_date: "
        f"{remote} in the campaign file. To restore {ledger}: `runner extend {_CAMPAIGN} "
        f"--voucher {key} --end-date {ledger}`."
    )


def _finish_hint(key: str, remote_finished: bool) -> str:
    if remote_finished:
        return (
            f"It was finished outside the runner and cannot be resumed: record it with "
            f"`runner finish {_CAMPAIGN} --voucher {key}` and add finished: true to it in the "
            "campaign file; its grants not made yet are not sent."
        )
    return (
        f"The ledger has it finished, but the vendor lists it live: finish it again with "
        f"`runner finish {_CAMPAIGN} --voucher {key}`."
    )


def _live(finished: bool) -> str:
    return "finished" if finished else "live"


def _room_hint(name: str) -> str:
    return (
        f"{name} was changed outside the runner (the API cannot change it): restore it in "
        "the vendor's console, or plan within it; the vendor refuses grants beyond it."
    )


def _one(
    key: str, voucher_id: str, setting: str, ledger: object, remote: object, hint: str
) -> VoucherDrift:
    return VoucherDrift.model_validate(
        {
            "voucher_key": key,
            "voucher_id": voucher_id,
            "setting": setting,
            "ledger": str(ledger),
            "remote": str(remote),
            "hint": hint,
        }
    )


def voucher_drift(
    voucher_id: str,
    life: VoucherLifecycle,
    fields: Mapping[str, object],
    remote: RemoteVoucherState | None,
) -> list[VoucherDrift]:
    """Every setting of the voucher read back (None: not listed) that differs from the
    ledger: its end date, finish, ``num`` and ``eachCmNum`` (the create payload's)."""
    key = life.voucher_key
    if remote is None:
        hint = "The tenant no longer lists this voucher: check it in the vendor's console."
        return [_one(key, voucher_id, "missing", "created", "not listed", hint)]
    found: list[VoucherDrift] = []
    if life.open_change is None:
        if remote.end_date != life.end_date:
            hint = _end_hint(key, life.end_date, remote.end_date)
            found.append(_one(key, voucher_id, "end_date", life.end_date, remote.end_date, hint))
        if remote.finished != life.finished:
            hint = _finish_hint(key, remote.finished)
            ours, theirs = _live(life.finished), _live(remote.finished)
            found.append(_one(key, voucher_id, "finished", ours, theirs, hint))
    for name, value in (("num", remote.num), ("eachCmNum", remote.each_cm_num)):
        mine = fields.get(name)
        if value is not None and mine is not None and int(str(mine)) != value:
            found.append(_one(key, voucher_id, name, mine, value, _room_hint(name)))
    return found
