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

Jobs end in ``done``, vouchers in ``created``; otherwise both follow the same machine.
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
    "JOB_MOVES",
    "JOB_STATES",
    "KEY_KINDS",
    "REFUSABLE_STATES",
    "VOUCHER_MOVES",
    "VOUCHER_STATES",
    "EntityKind",
    "JobState",
    "KeyKind",
    "Move",
    "MoveName",
    "VoucherState",
]

JobState = Literal["planned", "sending", "unknown", "done", "failed", "review"]
VoucherState = Literal["planned", "sending", "unknown", "created", "failed", "review"]
EntityKind = Literal["job", "voucher", "run"]
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
]

JOB_STATES: frozenset[str] = frozenset(get_args(JobState))
VOUCHER_STATES: frozenset[str] = frozenset(get_args(VoucherState))
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


JOB_MOVES: dict[MoveName, Move] = _moves("done")
VOUCHER_MOVES: dict[MoveName, Move] = _moves("created")
