"""Pure decisions: how remote truth settles jobs and vouchers whose outcome is unknown.

No I/O here, so every rule is unit-tested on plain values. The executor feeds these
functions what it read from the ledger and from the remote listings.

Grants: for one customer of one voucher, the remote holds ``remote`` instances and the
ledger has ``confirmed`` done jobs. The ``extra = remote - confirmed`` instances are
grants whose response we lost: the unknown jobs with the lowest sequence numbers adopt
them; the rest are proven absent and may be sent again. ``extra < 0`` means the remote
holds fewer than the ledger confirms, which no retry can explain: a person decides.

Vouchers: a voucher whose create response was lost is searched by fingerprint among
the remote vouchers not already owned by another key. One match: adopt it. None: it
was never created, send again. Several: never guess.

Changes (an end-date move or a finish whose answer was lost): the voucher read back
shows the asked end date (or is finished): adopt; the end date it had before (or is
still live): it never arrived, send again; anything else: a person decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

__all__ = [
    "ChangeDecision",
    "GrantDecision",
    "Outcome",
    "RemoteVoucherState",
    "VoucherDecision",
    "already_applied",
    "matches_payload",
    "settle_change",
    "settle_customer",
    "settle_voucher",
]

#: What reconciliation does with a job or voucher whose outcome is unknown: take in what
#: the remote holds, send again (or fail, when a refusal left a job unknown), or ask a
#: person. Every decision here and every branch on one is typed by it.
Outcome = Literal["adopt", "resend", "review"]


@dataclass(frozen=True)
class GrantDecision:
    """What to do with one unknown job."""

    job_id: str
    outcome: Outcome
    reason: str


def settle_customer(
    unknown_job_ids: Sequence[str], *, remote: int, confirmed: int
) -> list[GrantDecision]:
    """Settle one customer's unknown jobs (given lowest sequence first) for one voucher."""
    extra = remote - confirmed
    if extra < 0:
        why = f"remote holds {remote} instance(s) but the ledger confirms {confirmed}"
        return [GrantDecision(j, "review", why) for j in unknown_job_ids]
    adopt = min(extra, len(unknown_job_ids))
    decisions = [
        GrantDecision(j, "adopt", f"remote holds {remote}, ledger confirmed {confirmed}")
        for j in unknown_job_ids[:adopt]
    ]
    decisions += [
        GrantDecision(j, "resend", f"remote holds {remote}: this grant never arrived")
        for j in unknown_job_ids[adopt:]
    ]
    return decisions


@dataclass(frozen=True)
class VoucherDecision:
    """What to do with one voucher whose create outcome is unknown."""

    outcome: Outcome
    remote_id: str | None
    reason: str


# Fields compared between our addVoucherInfo payload and a getVoucherInfos item: the
# required ones must be present on both sides and equal; the others when both have them.
_REQUIRED = ("name", "startDate", "endDate", "num", "eachCmNum")
_TEXT_FIELDS = ("payType", "tradeRange", "prodMode", "remark")
_MONEY_FIELDS = ("money", "doorsillAmount", "discountsPercent", "maxDiscountsAmount")
_DEFAULTS = {"doorsillType": "N", "discountsType": "GDMZ"}


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).normalize()
    except InvalidOperation:
        return None


def _same(ours: object, theirs: object) -> bool:
    return ours is None or theirs is None or str(ours) == str(theirs)


def matches_payload(payload: Mapping[str, object], remote: Mapping[str, object]) -> bool:
    """True when a live remote voucher has every fingerprinted field of our payload."""
    if str(remote.get("isFinish", "N")) == "Y":
        return False  # a lost create leaves a live voucher, never a finished one
    for key in _REQUIRED:
        if payload.get(key) is None or str(payload.get(key)) != str(remote.get(key)):
            return False
    for key in _TEXT_FIELDS:
        if not _same(payload.get(key), remote.get(key)):
            return False
    for key, default in _DEFAULTS.items():
        theirs = remote.get(key)
        if theirs not in (None, "") and str(payload.get(key, default)) != str(theirs):
            return False
    for key in _MONEY_FIELDS:
        ours, theirs = _decimal(payload.get(key)), _decimal(remote.get(key))
        if ours is not None and theirs is not None and ours != theirs:
            return False
    return True


def settle_voucher(
    payload: Mapping[str, object],
    remote_vouchers: Iterable[Mapping[str, object]],
    *,
    owned_ids: frozenset[str],
) -> VoucherDecision:
    """Find our voucher among the remote ones not already owned by another key."""
    matches = [
        str(v["id"])
        for v in remote_vouchers
        if str(v.get("id")) not in owned_ids and matches_payload(payload, v)
    ]
    if len(matches) == 1:
        return VoucherDecision("adopt", matches[0], "exactly one remote voucher matches")
    if not matches:
        return VoucherDecision("resend", None, "no remote voucher matches: it was never created")
    return VoucherDecision(
        "review", None, f"{len(matches)} remote vouchers match: {', '.join(sorted(matches))}"
    )


@dataclass(frozen=True)
class RemoteVoucherState:
    """What reading a voucher back (``getVoucherInfos``) says of its lifecycle and room."""

    end_date: str | None
    finished: bool
    num: int | None = None
    each_cm_num: int | None = None


@dataclass(frozen=True)
class ChangeDecision:
    """What to do with one change whose outcome is unknown."""

    outcome: Outcome
    reason: str


def already_applied(
    action: Literal["end_date", "finish"], end_date: str | None, remote: RemoteVoucherState
) -> bool:
    """True when the voucher read back already shows the change (finished, or that end)."""
    return remote.finished if action == "finish" else remote.end_date == end_date


def settle_change(
    action: Literal["end_date", "finish"],
    end_date: str | None,
    previous_end_date: str | None,
    remote: RemoteVoucherState | None,
) -> ChangeDecision:
    """Settle one change against its voucher read back (None: the tenant does not list it)."""
    if remote is None:
        return ChangeDecision("review", "the remote voucher is not in the tenant's list")
    if already_applied(action, end_date, remote):
        shown = "finished" if action == "finish" else f"ending {end_date}"
        return ChangeDecision("adopt", f"the voucher reads back {shown}")
    if action == "finish":
        return ChangeDecision("resend", "the voucher reads back live: the finish never arrived")
    if remote.end_date == previous_end_date:
        return ChangeDecision(
            "resend", f"the voucher still ends {previous_end_date}: the change never arrived"
        )
    return ChangeDecision(
        "review",
        f"the voucher reads back ending {remote.end_date}: neither {previous_end_date} "
        f"(before) nor {end_date} (asked); changed elsewhere at the same time?",
    )
