"""Reading what the ledger holds for a plan comparison, and writing a sync's changes.

The comparison itself is :func:`runner.ledger._sync.compare` (pure); this module is its
SQL side. Everything runs inside the caller's transaction.

New jobs are inserted in bulk, at about a quarter of the cost of a checked insert per
row: the schema's CHECKs on ``jobs`` are off for that one statement (``PRAGMA
ignore_check_constraints``) and :meth:`Ledger.sync_plan` turns foreign keys off for its
transaction, because what they would check is checked before, column-wise: the state is
the literal ``'planned'``, ``active`` and ``refused`` take their defaults, the key kind is
one of :data:`~runner.ledger._states.KEY_KINDS` (:class:`~runner.ledger.JobFrame`), and
every job's voucher is a voucher of the plan (:func:`~runner.ledger._sync.compare`),
inserted or kept in the same transaction. NOT NULL and STRICT types still hold.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import polars as pl

from runner.ledger import _queries as q
from runner.ledger._events import INSERT_EVENT_COLUMNS, EventRow, append_events
from runner.ledger._rows import checked_voucher_state, dump_json, dump_plain_json, now
from runner.ledger._schema import EVENTS_INDEX, JOB_INDEXES
from runner.ledger._sync import KNOWN_JOBS, KnownVoucher, SyncChanges
from runner.ledger._transitions import TABLES, Kind

__all__ = ["load_known", "write_changes"]


def load_known(
    conn: sqlite3.Connection, plan_hash: str, planned_jobs: int
) -> tuple[dict[str, KnownVoucher], pl.DataFrame | dict[str, int]]:
    """Every voucher and job the ledger holds, as much as a comparison needs: the jobs as
    a frame of :data:`~runner.ledger._sync.KNOWN_JOBS` in rowid order, or, when the
    ledger already follows this plan (it last synced ``plan_hash`` and holds
    ``planned_jobs`` active jobs), only how many active jobs are in each state (see
    :func:`~runner.ledger._sync.compare`)."""
    vouchers = {
        row["voucher_key"]: KnownVoucher(
            row["fingerprint"], checked_voucher_state(row["state"]), bool(row["active"])
        )
        for row in conn.execute("SELECT voucher_key, fingerprint, state, active FROM vouchers")
    }
    if q.plan_hash(conn) == plan_hash:
        states = {
            state: n
            for state, n in conn.execute(
                "SELECT state, COUNT(*) FROM jobs WHERE active = 1 GROUP BY state"
            )
        }
        if sum(states.values()) == planned_jobs:
            return vouchers, states
    cursor = conn.execute(f"SELECT {', '.join(KNOWN_JOBS)} FROM jobs ORDER BY rowid")
    cursor.row_factory = None  # plain tuples: the connection's Row objects cost twice
    jobs = pl.DataFrame(cursor.fetchall(), schema=KNOWN_JOBS, orient="row")
    return vouchers, jobs


def write_changes(
    conn: sqlite3.Connection, plan_hash: str, changes: SyncChanges, *, run_id: str | None
) -> None:
    """Insert, update and (de)activate as ``changes`` says; one event per row touched.

    The events come in the order: vouchers, new jobs (plan order), jobs back in the plan,
    jobs no longer planned; each detail carries ``plan_hash``.
    """
    at = now()
    events: list[EventRow] = []
    _write_vouchers(conn, changes, at, events)
    append_events(conn, _tagged(events, plan_hash), at=at, run_id=run_id)
    _insert_jobs(conn, changes.new_jobs, plan_hash, at, run_id)
    events = []
    _set_active(conn, "job", changes.returning, True, at, events)
    _set_active(conn, "job", changes.leaving, False, at, events)
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('plan_hash', ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (plan_hash,),
    )
    append_events(conn, _tagged(events, plan_hash), at=at, run_id=run_id)


def _tagged(events: list[EventRow], plan_hash: str) -> list[EventRow]:
    return [(k, i, s, t, {**d, "plan_hash": plan_hash}) for k, i, s, t, d in events]


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


def _insert_jobs(
    conn: sqlite3.Connection, new: pl.DataFrame, plan_hash: str, at: str, run_id: str | None
) -> None:
    """Insert the new jobs as planned, and a ``planned`` event for each (in plan order).

    Column-wise: one ``executemany`` over the frame's rows, and the events copied from
    the rows just inserted by one ``INSERT … SELECT`` (their detail is the same JSON for
    every job, written once). Into a ledger without jobs (a first run), the indexes on
    ``jobs`` and the event log are dropped first and built after: the same indexes.
    """
    if new.is_empty():
        return
    bulk = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM jobs)").fetchone()[0] == 1
    indexes = {**JOB_INDEXES, EVENTS_INDEX[0]: EVENTS_INDEX[1]} if bulk else {}
    for name in indexes:
        conn.execute(f"DROP INDEX {name}")
    last = conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM jobs").fetchone()[0]
    rows = new.with_columns(pl.lit(run_id, pl.String).alias("_run"), pl.lit(at).alias("_at"))
    conn.execute("PRAGMA ignore_check_constraints = ON")  # checked before: see the module
    try:
        conn.executemany(
            "INSERT INTO jobs (job_id, voucher_key, audience, customer_key, key_kind, seq,"
            " customer_name, planned_in_run, updated_at, state)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'planned')",
            rows.iter_rows(buffer_size=50_000),
        )
    finally:
        conn.execute("PRAGMA ignore_check_constraints = OFF")
    detail = dump_json({"change": "new in the plan", "plan_hash": plan_hash})
    conn.execute(
        f"INSERT INTO events ({INSERT_EVENT_COLUMNS}) SELECT ?, ?, 'job', job_id, NULL,"
        " 'planned', ? FROM jobs WHERE rowid > ? ORDER BY rowid",
        (at, run_id, detail, last),
    )
    for name, on in indexes.items():
        conn.execute(f"CREATE INDEX {name} ON {on}")


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
