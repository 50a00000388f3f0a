"""The ``changes`` table (schema version 3): end-date moves and finishes of created vouchers.

A change is inserted ``planned`` (:func:`insert_change`) in the transaction that decides
it, then moves like a grant (:mod:`runner.ledger._transitions`). What the ledger knows
of a voucher afterwards, its current end date and whether it is finished, is derived
from its done changes by :func:`lifecycle_of` (pure), never stored twice.

A file of schema version 1 or 2 opened read-only has no ``changes`` table: it reads as
a ledger without changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import cast

from runner.errors import LedgerError
from runner.ledger._records import ChangeRecord, ChangeRow, VoucherLifecycle, VoucherRecord
from runner.ledger._rows import now, scrub
from runner.ledger._states import (
    CHANGE_ACTIONS,
    CHANGE_ORIGINS,
    CHANGE_STATES,
    ChangeAction,
    ChangeOrigin,
    ChangeState,
)
from runner.redaction import Redactor

__all__ = ["change_record", "insert_change", "lifecycle_of", "lifecycles", "load_changes"]


def _checked(value: object, allowed: frozenset[str], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise LedgerError(f"the ledger holds an unknown change {what}: {value!r}")
    return value


def change_record(row: sqlite3.Row) -> ChangeRecord:
    """A ``changes`` row as a :class:`ChangeRecord`."""
    return ChangeRecord(
        voucher_key=row["voucher_key"],
        action=cast(ChangeAction, _checked(row["action"], CHANGE_ACTIONS, "action")),
        end_date=row["end_date"],
        previous_end_date=row["previous_end_date"],
        origin=cast(ChangeOrigin, _checked(row["origin"], CHANGE_ORIGINS, "origin")),
        file_end_date=row["file_end_date"],
        change_id=row["change_id"],
        state=cast(ChangeState, _checked(row["state"], CHANGE_STATES, "state")),
        attempts=row["attempts"],
        msg_id=row["msg_id"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
        return_code=row["return_code"],
        return_msg=row["return_msg"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _has_changes(conn: sqlite3.Connection) -> bool:
    """False for a version 1 or 2 file read as it is (no ``changes`` table yet)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'changes'"
    ).fetchone()
    return found is not None


def load_changes(conn: sqlite3.Connection, voucher_key: str | None = None) -> list[ChangeRecord]:
    """Every change (of one voucher, or all) in the order they were decided."""
    if not _has_changes(conn):
        return []
    if voucher_key is None:
        rows = conn.execute("SELECT * FROM changes ORDER BY rowid")
    else:
        rows = conn.execute(
            "SELECT * FROM changes WHERE voucher_key = ? ORDER BY rowid", (voucher_key,)
        )
    return [change_record(row) for row in rows]


def insert_change(conn: sqlite3.Connection, row: ChangeRow, redactor: Redactor) -> str:
    """Insert *row* as ``planned`` inside the caller's transaction; its new change id.

    The id is ``<voucher key>:<n>``, n counting the voucher's changes from 1. Refused
    (:class:`~runner.errors.LedgerError`) unless the voucher is created and has no open
    change: a change needs the remote voucher, and one change at a time keeps the
    history in order.
    """
    voucher = conn.execute(
        "SELECT state, remote_id FROM vouchers WHERE voucher_key = ?", (row.voucher_key,)
    ).fetchone()
    if voucher is None or voucher["state"] != "created" or not voucher["remote_id"]:
        raise LedgerError(f"cannot plan a change: voucher {row.voucher_key!r} is not created")
    busy = conn.execute(
        "SELECT change_id, state FROM changes WHERE voucher_key = ?"
        " AND state IN ('planned', 'sending', 'unknown', 'review')",
        (row.voucher_key,),
    ).fetchone()
    if busy is not None:
        raise LedgerError(
            f"cannot plan a change of voucher {row.voucher_key!r}: change {busy[0]} is still "
            f"{busy[1]!r}"
        )
    (count,) = conn.execute(
        "SELECT COUNT(*) FROM changes WHERE voucher_key = ?", (row.voucher_key,)
    ).fetchone()
    change_id = f"{row.voucher_key}:{count + 1}"
    at = now()
    conn.execute(
        "INSERT INTO changes (change_id, voucher_key, action, end_date, previous_end_date,"
        " origin, file_end_date, state, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'planned', ?, ?)",
        (
            change_id,
            row.voucher_key,
            row.action,
            row.end_date,
            row.previous_end_date,
            row.origin,
            scrub(row.file_end_date, redactor),
            at,
            at,
        ),
    )
    return change_id


def lifecycle_of(voucher: VoucherRecord, changes: Sequence[ChangeRecord]) -> VoucherLifecycle:
    """What the ledger knows of one voucher after its creation, from its changes in order."""
    created_end = voucher.fields.get("endDate")
    created = None if created_end is None else str(created_end)
    end_changes = [c for c in changes if c.action == "end_date" and c.state == "done"]
    finishes = [c for c in changes if c.action == "finish" and c.state == "done"]
    last_end = end_changes[-1] if end_changes else None
    return VoucherLifecycle(
        voucher_key=voucher.voucher_key,
        created_end_date=created,
        end_date=last_end.end_date if last_end is not None else created,
        finished=bool(finishes),
        finished_at=finishes[0].updated_at if finishes else None,
        latest=changes[-1] if changes else None,
        last_end_change=last_end,
        history=tuple(changes),
    )


def lifecycles(
    vouchers: Iterable[VoucherRecord], changes: Iterable[ChangeRecord]
) -> dict[str, VoucherLifecycle]:
    """:func:`lifecycle_of` for each voucher, its changes picked from *changes*."""
    grouped: dict[str, list[ChangeRecord]] = {}
    for change in changes:
        grouped.setdefault(change.voucher_key, []).append(change)
    return {v.voucher_key: lifecycle_of(v, grouped.get(v.voucher_key, [])) for v in vouchers}
