"""One state transition of one job or voucher, checked and logged, inside a transaction.

:func:`apply_change` runs ``UPDATE … WHERE id = ? AND state IN (?)`` with the move's
one from-state; a row count other than 1 raises :class:`~runner.errors.LedgerError`
naming the entity and both states. The builders (:func:`sending`, :func:`done`, …) say
which columns each kind of transition sets. Every job move also sets ``jobs.refused``
(:attr:`Change.refused`), so the flag always describes the answer behind the job's
current state. Every text it stores, in the row and in the event's detail, is first
scrubbed by the ledger's :class:`~runner.redaction.Redactor`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from runner.errors import LedgerError, Location
from runner.ledger._events import append_events
from runner.ledger._rows import now, scrub
from runner.ledger._states import (
    CHANGE_MOVES,
    JOB_MOVES,
    VOUCHER_MOVES,
    EntityKind,
    Move,
    MoveName,
)
from runner.redaction import Redactor

__all__ = [
    "TABLES",
    "Change",
    "Kind",
    "apply_change",
    "created",
    "done",
    "errored",
    "failed",
    "label",
    "refusal_text",
    "sending",
    "where_of",
]

Kind = Literal["job", "voucher", "change"]
TABLES: dict[Kind, tuple[str, str]] = {
    "job": ("jobs", "job_id"),
    "voucher": ("vouchers", "voucher_key"),
    "change": ("changes", "change_id"),
}
_MOVES: dict[Kind, dict[MoveName, Move]] = {
    "job": JOB_MOVES,
    "voucher": VOUCHER_MOVES,
    "change": CHANGE_MOVES,
}
_REFUSED_HINT = (
    "Nothing was written for this step. `runner status` shows the current state and "
    "history; another process or a bug changed it."
)


@dataclass(frozen=True)
class Change:
    """One entity to move, the columns to set with it, and the event's detail.

    ``refused``: the server's answer behind this move was a refusal. Every job move
    stores it in ``jobs.refused`` (a move that is not a refusal clears it); vouchers have
    no such column, since no decision reads it.
    """

    entity_id: str
    sets: Mapping[str, object] = field(default_factory=dict)
    detail: Mapping[str, object] = field(default_factory=dict)
    count_attempt: bool = False
    refused: bool = False


def where_of(kind: EntityKind, entity_id: str) -> Location:
    """Where an entity is, for messages: the job id, or the voucher's YAML key path (a
    change ``<voucher key>:<n>`` is at its voucher's)."""
    if kind == "voucher":
        return Location(yaml_path=f"vouchers.{entity_id}")
    if kind == "change":
        return Location(yaml_path=f"vouchers.{entity_id.rpartition(':')[0]}")
    if kind == "job":
        return Location(job_id=entity_id)
    return Location()


def label(kind: EntityKind, entity_id: str) -> str:
    """``job 123…``, ``voucher 'ten-off'`` or ``change 'ten-off:2'``."""
    return f"{kind} {entity_id!r}" if kind in ("voucher", "change") else f"{kind} {entity_id}"


def apply_change(
    conn: sqlite3.Connection,
    kind: Kind,
    name: MoveName,
    action: str,
    change: Change,
    *,
    run_id: str | None,
    redactor: Redactor,
) -> None:
    """Move one entity by the move called ``name``; ``action`` names it in messages.

    Texts set and the event's detail are scrubbed of ``redactor``'s secrets first.
    """
    move = _MOVES[kind].get(name)
    if move is None:
        raise ValueError(f"{name} is not a move of a {kind}")
    table, key = TABLES[kind]
    at = now()
    values = [scrub(v, redactor) if isinstance(v, str) else v for v in change.sets.values()]
    assign = "".join(f", {column} = ?" for column in change.sets)
    if kind == "job":
        assign += ", refused = ?"
        values.append(int(change.refused))
    if change.count_attempt:
        assign += ", attempts = attempts + 1"
    cursor = conn.execute(
        f"UPDATE {table} SET state = ?, updated_at = ?{assign} WHERE {key} = ? AND state IN (?)",
        (move.target, at, *values, change.entity_id, move.source),
    )
    if cursor.rowcount != 1:
        raise _refused(conn, kind, change.entity_id, move, action)
    detail = redactor.redact({"action": action, **change.detail})
    event = (kind, change.entity_id, move.source, move.target, detail)
    append_events(conn, [event], at=at, run_id=run_id)


def _refused(
    conn: sqlite3.Connection, kind: Kind, entity_id: str, move: Move, action: str
) -> LedgerError:
    table, key = TABLES[kind]
    row = conn.execute(f"SELECT state FROM {table} WHERE {key} = ?", (entity_id,)).fetchone()
    name = label(kind, entity_id)
    if row is None:
        message = f"cannot {action}: {name} is not in the ledger"
    else:
        message = (
            f"cannot {action}: {name} is {row[0]!r}, "
            f"and {action} moves it only from {move.source!r} to {move.target!r}"
        )
    return LedgerError(message, where=where_of(kind, entity_id), hint=_REFUSED_HINT)


def _require_id(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty str (ids stay text), got {value!r}")


# --- what each kind of transition sets -----------------------------------------------------


def sending(entity_id: str, msg_id: str) -> Change:
    """→ sending: the request's msg_id and time; clears the last attempt's outcome."""
    sets = {
        "msg_id": msg_id,
        "sent_at": now(),
        "last_error": None,
        "return_code": None,
        "return_msg": None,
    }
    return Change(entity_id, sets, {"msg_id": msg_id}, count_attempt=True)


def done(entity_id: str, remote_ref: str | None, detail: Mapping[str, object] | None) -> Change:
    """→ done: the remote reference (e.g. the grant's instance id), if known."""
    if remote_ref is not None:
        _require_id("remote_ref", remote_ref)
    extra = detail or {}
    return Change(entity_id, {"remote_ref": remote_ref}, {"remote_ref": remote_ref, **extra})


def created(entity_id: str, remote_id: str, detail: Mapping[str, object] | None) -> Change:
    """→ created: the server's voucher id, stored in the same transaction."""
    _require_id("remote_id", remote_id)
    extra = detail or {}
    return Change(entity_id, {"remote_id": remote_id}, {"remote_id": remote_id, **extra})


def refusal_text(return_code: str | None, return_msg: str | None) -> str:
    """How a refusal reads in ``last_error``: for people, never parsed back."""
    return f"refused: return_code={return_code} return_msg={return_msg}"


def failed(
    entity_id: str,
    return_code: str | None,
    return_msg: str | None,
    error: str | None,
    detail: Mapping[str, object] | None = None,
    *,
    refused: bool,
) -> Change:
    """→ failed (or → unknown after a refusal): the server's code and message verbatim,
    an error text, and whether a refusal is the reason."""
    text = error or refusal_text(return_code, return_msg)
    sets = {"return_code": return_code, "return_msg": return_msg, "last_error": text}
    extra = detail or {}
    logged = {"return_code": return_code, "return_msg": return_msg, "error": text, **extra}
    return Change(entity_id, sets, logged, refused=refused)


def errored(entity_id: str, error: str, **detail: object) -> Change:
    """→ unknown / planned / review: why, as ``last_error``."""
    return Change(entity_id, {"last_error": error}, {"error": error, **detail})
