"""Read-only queries over the ledger, returning typed records.

Indexes on ``jobs(state)``, ``jobs(voucher_key, state)`` and
``jobs(voucher_key, customer_key)`` keep these fast at 100k jobs. :func:`job_table` reads
jobs straight into a polars frame (no record object per job: a 1,000,000-job ledger in a
few seconds) for the result files and the plan's checks.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence

import polars as pl

from runner.ledger._job_frame import JOB_COLUMNS
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
    "job_table",
    "jobs",
    "last_change",
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


def _job_filter(
    state: JobState | Collection[JobState] | None, voucher_key: str | None, active: bool | None
) -> tuple[str, list[object]]:
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
    return _where(clauses), params


def jobs(
    conn: sqlite3.Connection,
    state: JobState | Collection[JobState] | None,
    voucher_key: str | None,
    active: bool | None,
) -> list[JobRecord]:
    """Jobs in plan order, filtered."""
    where, params = _job_filter(state, voucher_key, active)
    rows = conn.execute(f"SELECT * FROM jobs{where} ORDER BY rowid", params)
    return [job_record(row) for row in rows]


#: The columns of ``jobs`` :func:`job_table` reads, with their polars types (``active``
#: is 0 or 1 as stored; ``refused`` is left out: a version 1 file read as it is lacks it).
JOB_TABLE_COLUMNS: dict[str, type[pl.DataType]] = {
    **JOB_COLUMNS,
    "state": pl.String,
    "attempts": pl.Int64,
    "msg_id": pl.String,
    "sent_at": pl.String,
    "last_error": pl.String,
    "return_code": pl.String,
    "return_msg": pl.String,
    "remote_ref": pl.String,
    "planned_in_run": pl.String,
    "active": pl.Int64,
    "updated_at": pl.String,
}


def job_table(
    conn: sqlite3.Connection,
    state: JobState | Collection[JobState] | None,
    voucher_key: str | None,
    active: bool | None,
    columns: Sequence[str],
) -> pl.DataFrame:
    """The ``columns`` (of :data:`JOB_TABLE_COLUMNS`) of the jobs :func:`jobs` returns,
    as a frame in plan order; stored text as stored (no scrubbing, no record checks)."""
    schema = {name: JOB_TABLE_COLUMNS[name] for name in columns}
    where, params = _job_filter(state, voucher_key, active)
    cursor = conn.execute(f"SELECT {', '.join(schema)} FROM jobs{where} ORDER BY rowid", params)
    cursor.row_factory = None  # plain tuples
    frame = pl.DataFrame(schema=schema)
    while batch := cursor.fetchmany(100_000):
        frame.vstack(pl.DataFrame(batch, schema=schema, orient="row"), in_place=True)
    return frame.rechunk()


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


def last_change(conn: sqlite3.Connection) -> int:
    """The sequence number of the last event about a job, voucher or change (not a run's
    start or end), 0 for none: every write to what the result files show appends one."""
    row = conn.execute(
        "SELECT seq FROM events WHERE entity_kind != 'run' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return 0 if row is None else int(row[0])


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
