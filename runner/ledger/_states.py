"""The ledger's state machine: the states of jobs and vouchers and every legal move.

::

    planned ──mark_sending──▶ sending ──▶ done/created | failed | unknown
                                 └──mark_not_sent──▶ planned
    unknown ──adopt───▶ done/created     failed ──retry──▶ planned
    unknown ──absent──▶ planned          review ──resolve─▶ planned | done/created | failed
    unknown ──review──▶ review
    unknown ──refused─▶ failed   (proven not applied, and the server's answer was a refusal)
    planned ──adopt_remote──▶ done/created   (``runner adopt``: found on the remote, never sent
                                              by this ledger)
    planned ──mark_blocked──▶ failed   (jobs: never sent, their voucher is finished or expired)

Jobs end in ``done``, vouchers in ``created``; otherwise both follow the same machine.

A *change* (a voucher's end date moved with ``modifyVoucherEndDate``, or the voucher
stopped with ``finishVoucher``: schema version 3, table ``changes``) follows the jobs'
machine too, ending in ``done``; ``adopt_remote`` records one the remote already shows
(nothing sent). A change no longer wanted before it was sent, or in review when a newer
wish replaces it, ends ``dropped`` (``drop_planned``, ``drop_review``): never one that
may have reached the server. A refused change stays ``failed`` (history);
``retry_failed`` sends it again.

Each move has exactly one state it starts from, so the ledger checks it with one
``UPDATE … WHERE id = ? AND state = ?`` and the row count, and knows the event's from-state.
Move names are the :data:`MoveName` literal, so a misspelt name fails type checking.

A job in ``unknown`` or ``failed`` may be there because of a refusal (``jobs.refused``,
see :data:`REFUSABLE_STATES`): every job move sets that flag, so it always describes the
answer that put the job in its current state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from runner.keys import KEY_KINDS as _KEY_KINDS
from runner.keys import KeyKind

__all__ = [
    "CHANGE_ACTIONS",
    "CHANGE_MOVES",
    "CHANGE_ORIGINS",
    "CHANGE_STATES",
    "JOB_MOVES",
    "JOB_STATES",
    "KEY_KINDS",
    "OPEN_CHANGE_STATES",
    "REFUSABLE_STATES",
    "VOUCHER_MOVES",
    "VOUCHER_STATES",
    "ChangeAction",
    "ChangeOrigin",
    "ChangeState",
    "EntityKind",
    "JobState",
    "KeyKind",
    "Move",
    "MoveName",
    "VoucherState",
]

JobState = Literal["planned", "sending", "unknown", "done", "failed", "review"]
VoucherState = Literal["planned", "sending", "unknown", "created", "failed", "review"]
ChangeState = Literal["planned", "sending", "unknown", "done", "failed", "review", "dropped"]
#: What a change does: move the end date (``modifyVoucherEndDate``) or stop the voucher.
ChangeAction = Literal["end_date", "finish"]
#: Who wanted it: the campaign file (``run``) or a command (``runner finish``/``extend``).
ChangeOrigin = Literal["campaign", "command"]
EntityKind = Literal["job", "voucher", "run", "change"]
MoveName = Literal[
    "mark_sending",
    "mark_succeeded",
    "mark_failed",
    "mark_unknown",
    "mark_not_sent",
    "recover_after_crash",
    "adopt_remote",
    "adopt",
    "mark_absent",
    "mark_review",
    "mark_refused",
    "retry_failed",
    "resolve_review_planned",
    "resolve_review_finished",
    "resolve_review_failed",
    "mark_blocked",
    "drop_planned",
    "drop_review",
]

JOB_STATES: frozenset[str] = frozenset(get_args(JobState))
VOUCHER_STATES: frozenset[str] = frozenset(get_args(VoucherState))
CHANGE_STATES: frozenset[str] = frozenset(get_args(ChangeState))
CHANGE_ACTIONS: frozenset[str] = frozenset(get_args(ChangeAction))
CHANGE_ORIGINS: frozenset[str] = frozenset(get_args(ChangeOrigin))
#: A change in these states is not settled yet: at most one per voucher.
OPEN_CHANGE_STATES: frozenset[ChangeState] = frozenset({"planned", "sending", "unknown", "review"})
KEY_KINDS: frozenset[str] = frozenset(_KEY_KINDS)
#: The only states a job can be in because of a refusal (``jobs.refused = 1``): ``unknown``
#: when the refusal says a limit was reached, ``failed`` when the server said no.
REFUSABLE_STATES: frozenset[JobState] = frozenset({"unknown", "failed"})


@dataclass(frozen=True)
class Move:
    """One legal transition: its name, the one state it starts from, the state it ends in."""

    name: MoveName
    source: str
    target: str


def _moves(finished: str) -> dict[MoveName, Move]:
    table = [
        Move("mark_sending", "planned", "sending"),
        Move("mark_succeeded", "sending", finished),
        Move("mark_failed", "sending", "failed"),
        Move("mark_unknown", "sending", "unknown"),
        Move("mark_not_sent", "sending", "planned"),
        Move("recover_after_crash", "sending", "unknown"),
        Move("adopt_remote", "planned", finished),
        Move("adopt", "unknown", finished),
        Move("mark_absent", "unknown", "planned"),
        Move("mark_review", "unknown", "review"),
        Move("mark_refused", "unknown", "failed"),
        Move("retry_failed", "failed", "planned"),
        Move("resolve_review_planned", "review", "planned"),
        Move("resolve_review_finished", "review", finished),
        Move("resolve_review_failed", "review", "failed"),
    ]
    return {move.name: move for move in table}


JOB_MOVES: dict[MoveName, Move] = {
    **_moves("done"),
    "mark_blocked": Move("mark_blocked", "planned", "failed"),
}
VOUCHER_MOVES: dict[MoveName, Move] = _moves("created")
CHANGE_MOVES: dict[MoveName, Move] = {
    **_moves("done"),
    "drop_planned": Move("drop_planned", "planned", "dropped"),
    "drop_review": Move("drop_review", "review", "dropped"),
}
