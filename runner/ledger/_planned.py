"""Planned grants read in pages for the grant phase: four texts a job, not a record.

A 1M-job campaign's grant phase used to start with ``Ledger.jobs("planned")``: a
:class:`~runner.ledger.JobRecord` of every column for every job (seconds, and a gigabyte).
The grant phase needs only who gets which voucher, and only a page ahead of its workers:
:func:`planned_page` reads the next ``limit`` planned jobs after a rowid, in plan order,
through the ``jobs(state)`` index.
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

__all__ = ["PlannedGrant", "planned_page"]


class PlannedGrant(NamedTuple):
    """One planned job, as much as sending its grant needs."""

    rowid: int
    job_id: str
    voucher_key: str
    key_kind: str
    customer_key: str


def planned_page(conn: sqlite3.Connection, after: int, limit: int) -> list[PlannedGrant]:
    """Up to ``limit`` active planned jobs with a rowid above ``after``, in plan order."""
    rows = conn.execute(
        "SELECT rowid, job_id, voucher_key, key_kind, customer_key FROM jobs"
        " WHERE state = 'planned' AND active = 1 AND rowid > ? ORDER BY rowid LIMIT ?",
        (after, limit),
    )
    return [PlannedGrant(*row) for row in rows]
