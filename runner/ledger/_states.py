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
    "VOUCHER_MOVES",
    "VOUCHER_STATES",
    "EntityKind",
    "JobState",
    "KeyKind",
    "Move",
    "VoucherState",
]

JobState = Literal["planned", "sending", "unknown", "done", "failed", "review"]
VoucherState = Literal["planned", "sending", "unknown", "created", "failed", "review"]
EntityKind = Literal["job", "voucher", "run"]

JOB_STATES: frozenset[str] = frozenset(get_args(JobState))
VOUCHER_STATES: frozenset[str] = frozenset(get_args(VoucherState))
KEY_KINDS: frozenset[str] = frozenset(_KEY_KINDS)


@dataclass(frozen=True)
class Move:
    """One legal transition: its name, the one state it starts from, the state it ends in."""

    name: str
    source: str
    target: str


def _moves(finished: str) -> dict[str, Move]:
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


JOB_MOVES: dict[str, Move] = _moves("done")
VOUCHER_MOVES: dict[str, Move] = _moves("created")
