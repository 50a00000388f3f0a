"""Between SQLite rows and typed records: JSON, secret scrubbing, checked states, clock.

Times are stored as people read them: Beijing time with its offset, ISO 8601 with
milliseconds (``2026-12-01T23:05:07.123+08:00``), like the vendor's own timestamps. One
fixed offset and one fixed width keep text order equal to time order, so ``ORDER BY``
on these columns and sorting the strings stay correct, and ``datetime.fromisoformat``
reads them back as aware datetimes. (Ledgers written before kept UTC, ``+00:00``: those
values parse to the same instants and sort before every later Beijing value.)

Every free text the ledger stores (errors, server messages, JSON details, adopted voucher
fields) passes through the ledger's own :class:`~runner.redaction.Redactor`, given to
``Ledger.open`` and built from the credentials: the appkey never reaches the file even
by accident. No global registry is consulted here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import cast, get_args

from runner.clock import BEIJING
from runner.errors import LedgerError
from runner.ledger._records import EventRecord, JobRecord, RunRecord, VoucherRecord
from runner.ledger._states import (
    JOB_STATES,
    KEY_KINDS,
    VOUCHER_STATES,
    EntityKind,
    JobState,
    KeyKind,
    VoucherState,
)
from runner.ledger._v1 import v1_refused
from runner.redaction import Redactor

__all__ = [
    "checked_job_state",
    "checked_voucher_state",
    "dump_json",
    "event_record",
    "job_record",
    "load_json",
    "now",
    "run_record",
    "scrub",
    "voucher_record",
]


def now() -> str:
    """The current time in Beijing as ISO 8601 with milliseconds and ``+08:00``."""
    return datetime.now(BEIJING).isoformat(timespec="milliseconds")


def scrub(text: str | None, redactor: Redactor) -> str | None:
    """The text with every secret of ``redactor`` replaced by ``***``."""
    if text is None:
        return None
    return redactor.text(text)


def dump_plain_json(value: Mapping[str, object]) -> str:
    """Compact, key-sorted JSON (non-ASCII kept as is), exactly as given."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def dump_json(value: Mapping[str, object], redactor: Redactor | None = None) -> str:
    """Compact, key-sorted JSON of free-form details, every string scrubbed by ``redactor``.

    Values are scrubbed before serialising, so a secret never breaks the JSON itself.
    ``None``: the caller already redacted them (the ledger does, before appending events).
    """
    plain = dict(value)
    return dump_plain_json(plain if redactor is None else redactor.redact(plain))


def load_json(text: str | None) -> dict[str, object]:
    """A JSON object column; anything else means the ledger is damaged."""
    if text is None:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise LedgerError(f"the ledger holds a JSON value that is not an object: {text[:80]!r}")
    return {str(k): v for k, v in value.items()}


def _checked(value: object, allowed: frozenset[str], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise LedgerError(f"the ledger holds an unknown {what}: {value!r}")
    return value


def checked_job_state(value: object) -> JobState:
    """A job state read from the file, refused when it is not one of :data:`JobState`."""
    return cast(JobState, _checked(value, JOB_STATES, "job state"))


def checked_voucher_state(value: object) -> VoucherState:
    """A voucher state read from the file, refused when it is not one of :data:`VoucherState`."""
    return cast(VoucherState, _checked(value, VOUCHER_STATES, "voucher state"))


def job_record(row: sqlite3.Row) -> JobRecord:
    """A ``jobs`` row as a :class:`JobRecord`."""
    return JobRecord(
        job_id=row["job_id"],
        voucher_key=row["voucher_key"],
        audience=row["audience"],
        customer_key=row["customer_key"],
        key_kind=cast(KeyKind, _checked(row["key_kind"], KEY_KINDS, "key kind")),
        seq=row["seq"],
        customer_name=row["customer_name"],
        state=checked_job_state(row["state"]),
        attempts=row["attempts"],
        msg_id=row["msg_id"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
        return_code=row["return_code"],
        return_msg=row["return_msg"],
        remote_ref=row["remote_ref"],
        planned_in_run=row["planned_in_run"],
        active=bool(row["active"]),
        updated_at=row["updated_at"],
        refused=_refused(row),
    )


def _refused(row: sqlite3.Row) -> bool:
    """``jobs.refused``; a version 1 file opened read-only has no such column yet."""
    columns = row.keys()  # (``in row`` would look among the values)
    if "refused" in columns:
        return bool(row["refused"])
    return v1_refused(row["state"], row["last_error"])


def voucher_record(row: sqlite3.Row) -> VoucherRecord:
    """A ``vouchers`` row as a :class:`VoucherRecord`."""
    return VoucherRecord(
        voucher_key=row["voucher_key"],
        fingerprint=row["fingerprint"],
        fields=load_json(row["fields"]),
        state=checked_voucher_state(row["state"]),
        remote_id=row["remote_id"],
        attempts=row["attempts"],
        msg_id=row["msg_id"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
        return_code=row["return_code"],
        return_msg=row["return_msg"],
        active=bool(row["active"]),
        updated_at=row["updated_at"],
    )


def run_record(row: sqlite3.Row) -> RunRecord:
    """A ``runs`` row as a :class:`RunRecord`."""
    summary = row["summary"]
    return RunRecord(
        run_id=row["run_id"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        plan_hash=row["plan_hash"],
        command=row["command"],
        pid=row["pid"],
        exit_code=row["exit_code"],
        summary=None if summary is None else load_json(summary),
    )


_ENTITY_KINDS: frozenset[str] = frozenset(get_args(EntityKind))


def event_record(row: sqlite3.Row) -> EventRecord:
    """An ``events`` row as an :class:`EventRecord`."""
    return EventRecord(
        seq=row["seq"],
        at=row["at"],
        run_id=row["run_id"],
        entity_kind=cast(EntityKind, _checked(row["entity_kind"], _ENTITY_KINDS, "entity kind")),
        entity_id=row["entity_id"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        detail=load_json(row["detail"]),
    )
