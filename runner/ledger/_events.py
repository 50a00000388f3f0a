"""Appending to the event log: one row per transition, never updated or deleted.

Triggers in the schema refuse any UPDATE or DELETE on ``events``; this module is the
only writer, but for a sync's ``planned`` events of new jobs, copied from the jobs table
in one statement (:mod:`runner.ledger._sync_store`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from runner.ledger._rows import dump_json
from runner.ledger._states import EntityKind

__all__ = ["INSERT_EVENT_COLUMNS", "EventRow", "append_events"]

# (entity kind, entity id, from-state or None, to-state, detail)
EventRow = tuple[EntityKind, str, str | None, str, Mapping[str, object]]

#: The columns an appended event fills (``seq`` counts itself), in this order.
INSERT_EVENT_COLUMNS = "at, run_id, entity_kind, entity_id, from_state, to_state, detail"
_INSERT = f"INSERT INTO events ({INSERT_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def append_events(
    conn: sqlite3.Connection, rows: Sequence[EventRow], *, at: str, run_id: str | None
) -> None:
    """Append the rows (details as scrubbed JSON) inside the caller's transaction."""
    conn.executemany(
        _INSERT,
        ((at, run_id, kind, eid, src, dst, dump_json(d)) for kind, eid, src, dst, d in rows),
    )
