"""The typed values that go into the ledger and come out of it.

Inputs: :class:`VoucherRow` and :class:`JobRow` (one plan's vouchers and grant jobs),
:class:`ChangeRow` (one end-date move or finish wanted for a created voucher).
Outputs: :class:`VoucherRecord`, :class:`JobRecord`, :class:`ChangeRecord`,
:class:`RunRecord`, :class:`EventRecord`, the derived :class:`VoucherLifecycle`, and the
reports :class:`SyncReport` and :class:`Recovered`.
Every id is a ``str`` (they are 19-digit numbers beyond 2**53): the rows refuse others.
Times are ISO 8601 strings in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from runner.errors import Location, Problem
from runner.ledger._states import (
    KEY_KINDS,
    OPEN_CHANGE_STATES,
    ChangeAction,
    ChangeOrigin,
    ChangeState,
    EntityKind,
    JobState,
    KeyKind,
    VoucherState,
)

__all__ = [
    "ChangeRecord",
    "ChangeRow",
    "EventRecord",
    "JobRecord",
    "JobRow",
    "Recovered",
    "RunRecord",
    "SyncReport",
    "VoucherConflict",
    "VoucherLifecycle",
    "VoucherRecord",
    "VoucherRow",
]

_SECRET_KEYS = frozenset({"appkey", "digest", "WAIQIN_APPKEY"})


def _require_text(owner: str, **values: object) -> None:
    for name, value in values.items():
        if not isinstance(value, str):
            raise TypeError(
                f"{owner}.{name} must be str (ids stay text), got {type(value).__name__}"
            )


@dataclass(frozen=True)
class VoucherRow:
    """One voucher of the plan: its key, the fingerprint of its settings, the create payload.

    ``fields`` is the ``addVoucherInfo`` body without any secret (it never holds the appkey).
    """

    voucher_key: str
    fingerprint: str
    fields: Mapping[str, object]

    def __post_init__(self) -> None:
        _require_text("VoucherRow", voucher_key=self.voucher_key, fingerprint=self.fingerprint)
        leaked = _SECRET_KEYS.intersection(self.fields)
        if leaked:
            raise ValueError(f"VoucherRow.fields must not carry secrets: {sorted(leaked)}")


@dataclass(frozen=True)
class JobRow:
    """One grant call of the plan: one voucher to one customer (the ``seq``-th copy)."""

    job_id: str
    voucher_key: str
    audience: str
    customer_key: str
    key_kind: KeyKind
    seq: int
    customer_name: str | None = None

    def __post_init__(self) -> None:
        _require_text(
            "JobRow",
            job_id=self.job_id,
            voucher_key=self.voucher_key,
            audience=self.audience,
            customer_key=self.customer_key,
        )
        if self.key_kind not in KEY_KINDS:
            raise ValueError(f"JobRow.key_kind must be one of {sorted(KEY_KINDS)}")


@dataclass(frozen=True)
class VoucherRecord:
    """A voucher as the ledger knows it; ``remote_id`` is set once the server created it."""

    voucher_key: str
    fingerprint: str
    fields: Mapping[str, object]
    state: VoucherState
    remote_id: str | None
    attempts: int
    msg_id: str | None
    sent_at: str | None
    last_error: str | None
    return_code: str | None
    return_msg: str | None
    active: bool
    updated_at: str


@dataclass(frozen=True)
class JobRecord:
    """A grant job as the ledger knows it; ``active`` is False once it left the plan."""

    job_id: str
    voucher_key: str
    audience: str
    customer_key: str
    key_kind: KeyKind
    seq: int
    customer_name: str | None
    state: JobState
    attempts: int
    msg_id: str | None
    sent_at: str | None
    last_error: str | None
    return_code: str | None
    return_msg: str | None
    remote_ref: str | None
    planned_in_run: str | None
    active: bool
    updated_at: str
    #: The answer that put the job in its state (``unknown`` or ``failed``) was a refusal;
    #: ``last_error`` says in words what the server answered.
    refused: bool


@dataclass(frozen=True)
class ChangeRow:
    """One change wanted for a created voucher: a new end date, or finishing it.

    ``previous_end_date``: the end date the ledger held when the change was decided (the
    end-date history reads from it). ``file_end_date``: for a change a command made, the
    end date the campaign file said then (while it still says so, the file is *behind*).
    """

    voucher_key: str
    action: ChangeAction
    end_date: str | None
    previous_end_date: str | None
    origin: ChangeOrigin
    file_end_date: str | None = None

    def __post_init__(self) -> None:
        if (self.action == "end_date") != (self.end_date is not None):
            raise ValueError("ChangeRow.end_date goes with action 'end_date', and only with it")

    def same_target(self, action: ChangeAction, end_date: str | None) -> bool:
        """True when this change does what ``action``/``end_date`` ask."""
        return self.action == action and self.end_date == end_date


@dataclass(frozen=True, kw_only=True)
class ChangeRecord(ChangeRow):
    """A change as the ledger knows it: its id, state and last attempt."""

    change_id: str
    state: ChangeState
    attempts: int
    msg_id: str | None
    sent_at: str | None
    last_error: str | None
    return_code: str | None
    return_msg: str | None
    created_at: str
    updated_at: str

    @property
    def open(self) -> bool:
        """Not settled yet: planned, sending, unknown or in review."""
        return self.state in OPEN_CHANGE_STATES

    def describe(self) -> str:
        """``end date 2027-03-31 → 2027-06-30`` or ``finish``."""
        if self.action == "finish":
            return "finish"
        return f"end date {self.previous_end_date} → {self.end_date}"


@dataclass(frozen=True)
class VoucherLifecycle:
    """What the ledger knows of a voucher after its creation (see :func:`lifecycle_of`).

    ``end_date``: the end date the remote voucher has as far as the ledger knows (the one
    it was created with, or the last end-date change that is done); ``finished``: a
    finish is done. ``latest``: the newest change of any state; ``history``: every change,
    oldest first.
    """

    voucher_key: str
    created_end_date: str | None
    end_date: str | None
    finished: bool
    finished_at: str | None
    latest: ChangeRecord | None
    last_end_change: ChangeRecord | None
    history: tuple[ChangeRecord, ...] = ()

    @property
    def open_change(self) -> ChangeRecord | None:
        """The change not settled yet, if any (at most one per voucher)."""
        return self.latest if self.latest is not None and self.latest.open else None

    def end_dates(self) -> list[tuple[str, str | None, str]]:
        """The end-date history: ``(when, end date, by)`` from creation on (done changes)."""
        dates: list[tuple[str, str | None, str]] = [("created", self.created_end_date, "creation")]
        dates += [
            (c.updated_at, c.end_date, c.origin)
            for c in self.history
            if c.action == "end_date" and c.state == "done"
        ]
        return dates


@dataclass(frozen=True)
class RunRecord:
    """One invocation of a command that wrote to the ledger."""

    run_id: str
    started_at: str
    finished_at: str | None
    plan_hash: str | None
    command: str
    pid: int
    exit_code: int | None
    summary: Mapping[str, object] | None

    @property
    def finished(self) -> bool:
        """False for a run that is still going or that stopped without finishing (a crash)."""
        return self.finished_at is not None


@dataclass(frozen=True)
class EventRecord:
    """One row of the append-only event log."""

    seq: int
    at: str
    run_id: str | None
    entity_kind: EntityKind
    entity_id: str
    from_state: str | None
    to_state: str
    detail: Mapping[str, object]


@dataclass(frozen=True)
class VoucherConflict:
    """A voucher whose settings changed after it may already exist on the server."""

    voucher_key: str
    state: VoucherState
    old_fingerprint: str
    new_fingerprint: str

    def as_problem(self) -> Problem:
        """The conflict as a :class:`~runner.errors.Problem` naming the voucher's YAML key."""
        return Problem(
            f"voucher {self.voucher_key!r} changed after it was sent to the server "
            f"(ledger state {self.state!r})",
            Location(yaml_path=f"vouchers.{self.voucher_key}"),
            "A voucher cannot be edited once created: use a new voucher key for the new "
            "settings, or restore the old ones.",
        )


@dataclass(frozen=True)
class SyncReport:
    """What syncing a plan does (or did) to the ledger.

    ``applied`` is False when :meth:`Ledger.diff_plan` computed it, or when
    ``voucher_conflicts`` made :meth:`Ledger.sync_plan` write nothing.
    """

    plan_hash: str
    applied: bool
    new: tuple[str, ...] = ()
    returning: tuple[str, ...] = ()
    no_longer_planned: tuple[str, ...] = ()
    done_not_in_plan: tuple[str, ...] = ()
    plan_states: Mapping[JobState, int] = field(default_factory=dict)
    new_vouchers: tuple[str, ...] = ()
    updated_vouchers: tuple[str, ...] = ()
    voucher_conflicts: tuple[VoucherConflict, ...] = ()

    @property
    def already_done(self) -> int:
        """How many of the plan's jobs are already done."""
        return self.plan_states.get("done", 0)

    @property
    def still_to_do(self) -> int:
        """How many of the plan's jobs are not done yet (whatever their state)."""
        return sum(n for state, n in self.plan_states.items() if state != "done")

    @property
    def ok(self) -> bool:
        """True when no voucher conflicts with what may already exist on the server."""
        return not self.voucher_conflicts


@dataclass(frozen=True)
class Recovered:
    """What :meth:`Ledger.recover_after_crash` moved from ``sending`` to ``unknown``."""

    vouchers: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.vouchers or self.jobs or self.changes)
