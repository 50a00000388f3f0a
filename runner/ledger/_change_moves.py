"""The ledger's transitions of changes (end-date moves and finishes), one method each.

Mixed into :class:`~runner.ledger.Ledger`, which provides the transaction (``_write``)
and the checked move (``_move``). The write-ahead rule is the grants' rule: a change is
``planned`` (:meth:`ChangeMoves.plan_change`, committed), ``sending`` and committed
before its request leaves, and settled as soon as its answer is in; a lost answer leaves
it ``unknown`` until reading the voucher back settles it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager

from runner.ledger._changes import insert_change, lifecycles, load_changes
from runner.ledger._events import append_events
from runner.ledger._queries import vouchers as query_vouchers
from runner.ledger._records import ChangeRecord, ChangeRow, VoucherLifecycle
from runner.ledger._rows import now
from runner.ledger._states import MoveName
from runner.ledger._transitions import (
    Change,
    Kind,
    apply_change,
    errored,
    failed,
    sending,
)
from runner.redaction import Redactor

__all__ = ["ChangeMoves"]

_DROP_MOVES: dict[str, MoveName] = {"planned": "drop_planned", "review": "drop_review"}


class ChangeMoves:
    """Planning, sending and settling changes; reading them and what they add up to."""

    redactor: Redactor
    _conn: sqlite3.Connection
    _run_id: str | None

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # pragma: no cover - Ledger provides it

    def _move(self, kind: Kind, name: MoveName, action: str, changes: Sequence[Change]) -> None:
        raise NotImplementedError  # pragma: no cover - Ledger provides it

    # --- reading ----------------------------------------------------------------------------

    def changes(self, voucher_key: str | None = None) -> list[ChangeRecord]:
        """Every change (of one voucher, or all), in the order they were decided."""
        return load_changes(self._conn, voucher_key)

    def change(self, change_id: str) -> ChangeRecord:
        """One change by id; ``KeyError`` when there is none (ids come from this ledger)."""
        for record in self.changes(change_id.rpartition(":")[0]):
            if record.change_id == change_id:
                return record
        raise KeyError(change_id)

    def lifecycles(self) -> dict[str, VoucherLifecycle]:
        """Per voucher (planned or not): its end date, finish and changes, as the ledger knows."""
        return lifecycles(query_vouchers(self._conn, None), load_changes(self._conn))

    def lifecycle(self, voucher_key: str) -> VoucherLifecycle:
        """One voucher's :class:`VoucherLifecycle` (``KeyError`` when the ledger lacks it)."""
        return self.lifecycles()[voucher_key]

    # --- planning -------------------------------------------------------------------------

    def plan_change(self, row: ChangeRow, *, detail: Mapping[str, object] | None = None) -> str:
        """Record a wanted change as ``planned`` (committed); returns its change id."""
        with self._write() as conn:
            change_id = insert_change(conn, row, self.redactor)
            self._created_event(conn, change_id, row, detail)
        return change_id

    def record_change(self, row: ChangeRow, *, reason: str) -> str:
        """Record a change the remote already shows, sending nothing (planned → done in one
        transaction), e.g. the campaign file catching up with ``runner extend``."""
        with self._write() as conn:
            change_id = insert_change(conn, row, self.redactor)
            self._created_event(conn, change_id, row, None)
            self._apply(
                conn, "adopt_remote", "record_change", Change(change_id, {}, {"reason": reason})
            )
        return change_id

    def _created_event(
        self,
        conn: sqlite3.Connection,
        change_id: str,
        row: ChangeRow,
        detail: Mapping[str, object] | None,
    ) -> None:
        facts = {
            "action": "plan_change",
            "change": row.action,
            "end_date": row.end_date,
            "previous_end_date": row.previous_end_date,
            "origin": row.origin,
            "file_end_date": row.file_end_date,
            **(detail or {}),
        }
        append_events(
            conn,
            [("change", change_id, None, "planned", self.redactor.redact(facts))],
            at=now(),
            run_id=self._run_id,
        )

    def _apply(self, conn: sqlite3.Connection, name: MoveName, action: str, change: Change) -> None:
        apply_change(
            conn, "change", name, action, change, run_id=self._run_id, redactor=self.redactor
        )

    # --- sending and settling ---------------------------------------------------------------

    def mark_change_sending(self, change_id: str, msg_id: str) -> None:
        """planned → sending, committed before the request leaves; counts an attempt."""
        self._move("change", "mark_sending", "mark_change_sending", [sending(change_id, msg_id)])

    def mark_change_done(self, change_id: str) -> None:
        """sending → done: the server said ``return_code`` "0"."""
        self._move("change", "mark_succeeded", "mark_change_done", [Change(change_id)])

    def mark_change_failed(
        self, change_id: str, *, return_code: str | None, return_msg: str | None
    ) -> None:
        """sending → failed: the server refused; its code and message are kept verbatim."""
        change = failed(change_id, return_code, return_msg, None, refused=True)
        self._move("change", "mark_failed", "mark_change_failed", [change])

    def mark_change_unknown(self, change_id: str, *, error: str) -> None:
        """sending → unknown: it may have been applied; read the voucher back first."""
        self._move("change", "mark_unknown", "mark_change_unknown", [errored(change_id, error)])

    def mark_change_not_sent(self, change_id: str, *, error: str) -> None:
        """sending → planned: the request certainly did not leave, or was pushed back."""
        change = errored(change_id, error)
        self._move("change", "mark_not_sent", "mark_change_not_sent", [change])

    def adopt_change(self, change_id: str, *, reason: str) -> None:
        """unknown → done: the voucher read back shows the change."""
        change = Change(change_id, detail={"reason": reason})
        self._move("change", "adopt", "adopt_change", [change])

    def mark_change_absent(self, change_id: str, *, reason: str) -> None:
        """unknown → planned: the voucher read back shows it was not applied."""
        change = Change(change_id, detail={"reason": reason})
        self._move("change", "mark_absent", "mark_change_absent", [change])

    def mark_change_review(self, change_id: str, *, reason: str) -> None:
        """unknown → review: the voucher read back shows neither before nor after."""
        self._move("change", "mark_review", "mark_change_review", [errored(change_id, reason)])

    def change_already_applied(self, change_id: str, *, reason: str) -> None:
        """planned → done without sending: the voucher read back already shows it."""
        change = Change(change_id, detail={"reason": reason})
        self._move("change", "adopt_remote", "change_already_applied", [change])

    def retry_failed_change(self, change_id: str) -> None:
        """failed → planned: try the refused change again (``runner retry-failed``)."""
        self._move("change", "retry_failed", "retry_failed_change", [Change(change_id)])

    def drop_change(self, change_id: str, *, reason: str) -> None:
        """planned or review → dropped: no longer wanted (never one that may have reached
        the server unseen: settle an unknown change first)."""
        state = self.change(change_id).state
        name = _DROP_MOVES.get(state, "drop_planned")  # any other state: the move refuses
        self._move("change", name, "drop_change", [Change(change_id, detail={"reason": reason})])

    # --- the grants a closed voucher cannot take ------------------------------------------

    def mark_blocked_many(self, job_ids: Sequence[str], *, reason: str) -> None:
        """planned → failed for each job, in one transaction: never sent, because their
        voucher is finished or expired (``reason`` says which, in ``last_error``)."""
        changes = [errored(job_id, reason) for job_id in job_ids]
        self._move("job", "mark_blocked", "mark_blocked", changes)
