"""The typed values that go into the ledger and come out of it.

Inputs: :class:`VoucherRow` and :class:`JobRow` (one plan's vouchers and grant jobs).
Outputs: :class:`VoucherRecord`, :class:`JobRecord`, :class:`RunRecord`,
:class:`EventRecord`, and the reports :class:`SyncReport` and :class:`Recovered`.
Every id is a ``str`` (they are 19-digit numbers beyond 2**53): the rows refuse others.
Times are ISO 8601 strings in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from runner.errors import Location, Problem
from runner.ledger._states import KEY_KINDS, EntityKind, JobState, KeyKind, VoucherState

__all__ = [
    "EventRecord",
    "JobRecord",
    "JobRow",
    "Recovered",
    "RunRecord",
    "SyncReport",
    "VoucherConflict",
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

    def __bool__(self) -> bool:
        return bool(self.vouchers or self.jobs)
