"""Read-only queries over the ledger, returning typed records.

Indexes on ``jobs(state)``, ``jobs(voucher_key, state)`` and
``jobs(voucher_key, customer_key)`` keep these fast at 100k jobs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from runner.ledger._records import EventRecord, JobRecord, RunRecord, VoucherRecord
from runner.ledger._rows import (
    checked_job_state,
    event_record,
    job_record,
    run_record,
    voucher_record,
)
from runner.ledger._states import JobState

__all__ = [
    "confirmed_grants",
    "counts",
    "events",
    "job",
    "jobs",
    "last_run",
    "plan_hash",
    "voucher",
    "vouchers",
]


def _active_clause(active: bool | None, clauses: list[str], params: list[object]) -> None:
    if active is not None:
        clauses.append("active = ?")
        params.append(int(active))


def _where(clauses: list[str]) -> str:
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""


def plan_hash(conn: sqlite3.Connection) -> str | None:
    """The hash of the plan last synced."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'plan_hash'").fetchone()
    return None if row is None else str(row[0])


def vouchers(conn: sqlite3.Connection, active: bool | None) -> list[VoucherRecord]:
    """Vouchers in plan order."""
    clauses: list[str] = []
    params: list[object] = []
    _active_clause(active, clauses, params)
    rows = conn.execute(f"SELECT * FROM vouchers{_where(clauses)} ORDER BY rowid", params)
    return [voucher_record(row) for row in rows]


def voucher(conn: sqlite3.Connection, voucher_key: str) -> VoucherRecord | None:
    """One voucher, or None."""
    row = conn.execute("SELECT * FROM vouchers WHERE voucher_key = ?", (voucher_key,)).fetchone()
    return None if row is None else voucher_record(row)


def job(conn: sqlite3.Connection, job_id: str) -> JobRecord | None:
    """One job, or None."""
    row = conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    return None if row is None else job_record(row)


def jobs(
    conn: sqlite3.Connection,
    state: JobState | Collection[JobState] | None,
    voucher_key: str | None,
    active: bool | None,
) -> list[JobRecord]:
    """Jobs in plan order, filtered."""
    clauses: list[str] = []
    params: list[object] = []
    if state is not None:
        states = [state] if isinstance(state, str) else list(state)
        clauses.append(f"state IN ({', '.join('?' * len(states))})")
        params += states
    if voucher_key is not None:
        clauses.append("voucher_key = ?")
        params.append(voucher_key)
    _active_clause(active, clauses, params)
    rows = conn.execute(f"SELECT * FROM jobs{_where(clauses)} ORDER BY rowid", params)
    return [job_record(row) for row in rows]


def counts(conn: sqlite3.Connection, active: bool | None) -> dict[str, dict[JobState, int]]:
    """Jobs per voucher per state."""
    clauses: list[str] = []
    params: list[object] = []
    _active_clause(active, clauses, params)
    sql = f"SELECT voucher_key, state, COUNT(*) FROM jobs{_where(clauses)}"
    out: dict[str, dict[JobState, int]] = {}
    for key, state, n in conn.execute(sql + " GROUP BY voucher_key, state", params):
        out.setdefault(key, {})[checked_job_state(state)] = n
    return out


def confirmed_grants(conn: sqlite3.Connection, voucher_key: str) -> dict[str, int]:
    """Done jobs of one voucher per customer key, whether still planned or not."""
    rows = conn.execute(
        "SELECT customer_key, COUNT(*) FROM jobs"
        " WHERE voucher_key = ? AND state = 'done' GROUP BY customer_key",
        (voucher_key,),
    )
    return {customer_key: n for customer_key, n in rows}


def last_run(conn: sqlite3.Connection) -> RunRecord | None:
    """The most recently started run."""
    row = conn.execute("SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1").fetchone()
    return None if row is None else run_record(row)


def events(conn: sqlite3.Connection, entity_id: str | None) -> list[EventRecord]:
    """The event log in order, of one entity or all."""
    if entity_id is None:
        rows = conn.execute("SELECT * FROM events ORDER BY seq")
    else:
        rows = conn.execute("SELECT * FROM events WHERE entity_id = ? ORDER BY seq", (entity_id,))
    return [event_record(row) for row in rows]
