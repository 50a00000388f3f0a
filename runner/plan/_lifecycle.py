"""A created voucher's end date and finish: what the campaign file wants of them.

The campaign file stays the source of truth after a voucher was created: a new
``end_date`` is a planned change (``modifyVoucherEndDate``), ``finished: true`` a planned
finish (``finishVoucher``). :func:`judge_lifecycle` compares the file with what the
ledger knows (:class:`~runner.ledger.VoucherLifecycle`) and returns, without any I/O:

- :class:`Wanted`: per created voucher, the end date and finish a run makes true;
- the steps that takes (``extend ten-off: 2027-03-31 → 2027-06-30``, ``finish ten-off``);
- what the file is *behind* on: a change ``runner extend``/``runner finish`` made that the
  file does not say yet ("update end_date to 2027-06-30 in the campaign file"). It is
  reported, never reverted, never a reason to refuse;
- the vouchers that take no more grants (finished, or past their end date);
- the problems that refuse the plan, located at the key and line: an end date before
  today (Beijing) that is new, ``finished: true`` on a voucher never created, a new end
  date for a finished voucher (or together with finishing it).

Shortening is allowed: the vendor's ``modifyVoucherEndDate`` ("截止日期变更") changes the
end date either way; only a date before the start date (checked with the file) or before
today is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from runner.campaign import Campaign, Voucher
from runner.errors import Problem
from runner.ledger import ChangeOrigin, ChangeRecord, VoucherLifecycle, VoucherState

__all__ = ["Behind", "Closed", "Lifecycle", "LifecycleStep", "Wanted", "judge_lifecycle"]

StepKind = Literal["extend", "shorten", "finish"]


@dataclass(frozen=True)
class Wanted:
    """What a created voucher's end date and finish should be once a run (or a command) ran.

    ``end_date`` None: leave it as the ledger has it. ``file_end_date``: for a command, the
    end date the campaign file said when it ran (the file is behind while it says so).
    """

    voucher_key: str
    end_date: str | None = None
    finish: bool = False
    origin: ChangeOrigin = "campaign"
    file_end_date: str | None = None


@dataclass(frozen=True)
class LifecycleStep:
    """One change a run will make: ``extend``/``shorten`` the end date, or ``finish``."""

    voucher_key: str
    kind: StepKind
    from_end_date: str | None = None
    to_end_date: str | None = None

    def text(self) -> str:
        """``extend ten-off: 2027-03-31 → 2027-06-30`` or ``finish ten-off``."""
        if self.kind == "finish":
            return f"finish {self.voucher_key}"
        return f"{self.kind} {self.voucher_key}: {self.from_end_date} → {self.to_end_date}"


@dataclass(frozen=True)
class Behind:
    """A setting the ledger holds (set by a command) that the campaign file does not say."""

    voucher_key: str
    setting: Literal["end_date", "finished"]
    ledger_value: str

    def text(self) -> str:
        """What to change in the file, e.g. ``update end_date to 2027-06-30 …``."""
        if self.setting == "finished":
            return (
                f"voucher {self.voucher_key!r} is finished: add `finished: true` to it in the "
                "campaign file"
            )
        return (
            f"voucher {self.voucher_key!r} ends {self.ledger_value} (set by `runner extend`): "
            f"update end_date to {self.ledger_value} in the campaign file"
        )


@dataclass(frozen=True)
class Closed:
    """A voucher that takes no more grants: ``finished`` (since when), or ``expired``
    (its end date is before today); ``remote``: the ledger did not know, reading the
    voucher back told (changed in the vendor's console: ``runner verify`` reports it)."""

    voucher_key: str
    why: Literal["finished", "expired"]
    since: str
    remote: bool = False

    def reason(self) -> str:
        """Why its grants are not sent, as ``last_error`` and the summary say it."""
        seen = " (read back from the vendor; see `runner verify`)" if self.remote else ""
        if self.why == "finished":
            return f"not sent: voucher {self.voucher_key!r} is finished{seen}"
        return f"not sent: voucher {self.voucher_key!r} expired on {self.since}{seen}"


@dataclass(frozen=True)
class Lifecycle:
    """The campaign's lifecycle against the ledger: see the module docstring."""

    wanted: tuple[Wanted, ...] = ()
    steps: tuple[LifecycleStep, ...] = ()
    behind: tuple[Behind, ...] = ()
    closed: tuple[Closed, ...] = ()
    #: Changes a run settles first: their outcome is not known yet (or needs review).
    pending: tuple[ChangeRecord, ...] = field(default=())

    def closed_by_key(self) -> dict[str, Closed]:
        """The closed vouchers by key."""
        return {c.voucher_key: c for c in self.closed}


@dataclass
class _Judged:
    wanted: list[Wanted] = field(default_factory=list)
    steps: list[LifecycleStep] = field(default_factory=list)
    behind: list[Behind] = field(default_factory=list)
    closed: list[Closed] = field(default_factory=list)
    pending: list[ChangeRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def judge_lifecycle(
    campaign: Campaign,
    states: Mapping[str, VoucherState],
    known: Mapping[str, VoucherLifecycle],
    today: date,
) -> tuple[Lifecycle, list[Problem]]:
    """What the campaign file wants of each voucher's end date and finish, against the
    ledger's voucher *states* and *known* lifecycles (both empty: the campaign never ran)."""
    judged = _Judged()
    for key, voucher in campaign.vouchers.items():
        life = known.get(key)
        if states.get(key) == "created" and life is not None:
            _judge_created(campaign, voucher, life, today, judged)
        else:
            judged.problems += _not_created(campaign, voucher, today)
    lifecycle = Lifecycle(
        tuple(judged.wanted),
        tuple(judged.steps),
        tuple(judged.behind),
        tuple(judged.closed),
        tuple(judged.pending),
    )
    return lifecycle, judged.problems


def _past_end(campaign: Campaign, voucher: Voucher, today: date) -> Problem:
    return Problem(
        f"end_date {voucher.end_date} is in the past (today is {today} in Beijing)",
        campaign.location(f"vouchers.{voucher.key}.end_date"),
        "Move end_date to today or later.",
    )


def _not_created(campaign: Campaign, voucher: Voucher, today: date) -> list[Problem]:
    """A voucher not created yet: a past end date or ``finished: true`` refuses it."""
    if voucher.finished:
        return [
            Problem(
                f"voucher {voucher.key!r} says finished: true, but it was never created: "
                "there is nothing to finish",
                campaign.location(f"vouchers.{voucher.key}.finished"),
                "Remove finished: true to create and grant it, or remove the voucher and its "
                "grants from the campaign.",
            )
        ]
    if voucher.end_date < today:
        return [_past_end(campaign, voucher, today)]
    return []


def _behind_end(voucher: Voucher, life: VoucherLifecycle) -> bool:
    """The file still says what it said when a command moved the end date."""
    last = life.last_end_change
    file_end = voucher.end_date.isoformat()
    return (
        last is not None
        and last.origin == "command"
        and file_end == last.file_end_date
        and file_end != life.end_date
    )


def _judge_created(
    campaign: Campaign, voucher: Voucher, life: VoucherLifecycle, today: date, judged: _Judged
) -> None:
    key, file_end = voucher.key, voucher.end_date.isoformat()
    if life.open_change is not None:
        judged.pending.append(life.open_change)
    behind = _behind_end(voucher, life)
    if behind and life.end_date is not None:
        judged.behind.append(Behind(key, "end_date", life.end_date))
    moved = file_end != life.end_date and not behind
    if life.finished:
        _judge_finished(campaign, voucher, life, moved, judged)
        return
    if moved and voucher.finished:
        judged.problems.append(_finish_and_move(campaign, voucher, life))
        return
    if moved and voucher.end_date < today:
        judged.problems.append(_past_end(campaign, voucher, today))
        return
    judged.wanted.append(Wanted(key, None if behind else file_end, voucher.finished))
    if moved:
        longer = life.end_date is None or file_end > life.end_date
        kind: StepKind = "extend" if longer else "shorten"
        judged.steps.append(LifecycleStep(key, kind, life.end_date, file_end))
    if voucher.finished:
        judged.steps.append(LifecycleStep(key, "finish"))
        judged.closed.append(Closed(key, "finished", "this run"))
    elif not moved and life.end_date is not None and life.end_date < today.isoformat():
        judged.closed.append(Closed(key, "expired", life.end_date))


def _judge_finished(
    campaign: Campaign, voucher: Voucher, life: VoucherLifecycle, moved: bool, judged: _Judged
) -> None:
    """A finished voucher: nothing can change; a file that does not say so is behind."""
    key = voucher.key
    judged.closed.append(Closed(key, "finished", life.finished_at or "earlier"))
    if not voucher.finished:
        judged.behind.append(Behind(key, "finished", "true"))
    if moved:
        judged.problems.append(
            Problem(
                f"voucher {key!r} is finished: its end date can no longer change (the ledger "
                f"holds {life.end_date}, the campaign file says {voucher.end_date})",
                campaign.location(f"vouchers.{key}.end_date"),
                f"Put end_date back to {life.end_date}; a finished voucher cannot be resumed.",
            )
        )


def _finish_and_move(campaign: Campaign, voucher: Voucher, life: VoucherLifecycle) -> Problem:
    return Problem(
        f"voucher {voucher.key!r}: finished: true and a new end_date ({life.end_date} → "
        f"{voucher.end_date}) at once: a finished voucher's end date no longer matters",
        campaign.location(f"vouchers.{voucher.key}.end_date"),
        f"Keep end_date {life.end_date} to finish it, or remove finished: true to move its "
        "end date.",
    )
