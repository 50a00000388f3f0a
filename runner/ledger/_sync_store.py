"""Reading what the ledger holds for a plan comparison, and writing a sync's changes.

The comparison itself is :func:`runner.ledger._sync.compare` (pure); this module is its
SQL side. Everything runs inside the caller's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from runner.ledger._events import EventRow, append_events
from runner.ledger._records import JobRow
from runner.ledger._rows import checked_job_state, checked_voucher_state, dump_plain_json, now
from runner.ledger._sync import KnownJob, KnownVoucher, SyncChanges
from runner.ledger._transitions import TABLES, Kind

__all__ = ["load_known", "write_changes"]


def load_known(conn: sqlite3.Connection) -> tuple[dict[str, KnownVoucher], dict[str, KnownJob]]:
    """Every voucher and job the ledger holds, as much as a comparison needs."""
    vouchers = {
        row["voucher_key"]: KnownVoucher(
            row["fingerprint"], checked_voucher_state(row["state"]), bool(row["active"])
        )
        for row in conn.execute("SELECT voucher_key, fingerprint, state, active FROM vouchers")
    }
    jobs = {
        row["job_id"]: KnownJob(
            row["voucher_key"],
            row["customer_key"],
            row["key_kind"],
            row["seq"],
            checked_job_state(row["state"]),
            bool(row["active"]),
        )
        for row in conn.execute(
            "SELECT job_id, voucher_key, customer_key, key_kind, seq, state, active FROM jobs"
        )
    }
    return vouchers, jobs


def write_changes(
    conn: sqlite3.Connection, plan_hash: str, changes: SyncChanges, *, run_id: str | None
) -> None:
    """Insert, update and (de)activate as ``changes`` says; one event per row touched."""
    at = now()
    events: list[EventRow] = []
    _write_vouchers(conn, changes, at, events)
    _write_jobs(conn, changes, at, run_id, events)
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('plan_hash', ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (plan_hash,),
    )
    tagged = [(k, i, s, t, {**d, "plan_hash": plan_hash}) for k, i, s, t, d in events]
    append_events(conn, tagged, at=at, run_id=run_id)


def _write_vouchers(
    conn: sqlite3.Connection, changes: SyncChanges, at: str, events: list[EventRow]
) -> None:
    conn.executemany(
        "INSERT INTO vouchers (voucher_key, fingerprint, fields, state, updated_at)"
        " VALUES (?, ?, ?, 'planned', ?)",
        [
            (v.voucher_key, v.fingerprint, dump_plain_json(v.fields), at)
            for v in changes.new_vouchers
        ],
    )
    events += [
        ("voucher", v.voucher_key, None, "planned", {"change": "new in the plan"})
        for v in changes.new_vouchers
    ]
    for row, state in changes.updated_vouchers:
        conn.execute(
            "UPDATE vouchers SET fingerprint = ?, fields = ?, updated_at = ?"
            " WHERE voucher_key = ? AND state IN ('planned', 'failed')",
            (row.fingerprint, dump_plain_json(row.fields), at, row.voucher_key),
        )
        detail = {"change": "settings updated", "fingerprint": row.fingerprint}
        events.append(("voucher", row.voucher_key, state, state, detail))
    _set_active(conn, "voucher", changes.reactivated_vouchers, True, at, events)
    _set_active(conn, "voucher", changes.deactivated_vouchers, False, at, events)


def _write_jobs(
    conn: sqlite3.Connection,
    changes: SyncChanges,
    at: str,
    run_id: str | None,
    events: list[EventRow],
) -> None:
    conn.executemany(
        "INSERT INTO jobs (job_id, voucher_key, audience, customer_key, key_kind, seq,"
        " customer_name, state, planned_in_run, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'planned', ?, ?)",
        [_job_values(job, run_id, at) for job in changes.new_jobs],
    )
    events += [
        ("job", job.job_id, None, "planned", {"change": "new in the plan"})
        for job in changes.new_jobs
    ]
    _set_active(conn, "job", changes.returning, True, at, events)
    _set_active(conn, "job", changes.leaving, False, at, events)


def _job_values(job: JobRow, run_id: str | None, at: str) -> tuple[object, ...]:
    return (
        job.job_id,
        job.voucher_key,
        job.audience,
        job.customer_key,
        job.key_kind,
        job.seq,
        job.customer_name,
        run_id,
        at,
    )


def _set_active(
    conn: sqlite3.Connection,
    kind: Kind,
    rows: Sequence[tuple[str, str]],
    active: bool,
    at: str,
    events: list[EventRow],
) -> None:
    table, key = TABLES[kind]
    conn.executemany(
        f"UPDATE {table} SET active = ?, updated_at = ? WHERE {key} = ?",
        [(int(active), at, entity_id) for entity_id, _ in rows],
    )
    change = "back in the plan" if active else "no longer planned"
    events += [(kind, entity_id, state, state, {"change": change}) for entity_id, state in rows]
