"""The ledger's SQLite file: connection settings, tables, schema version, campaign check.

WAL journal, ``synchronous=FULL`` (a committed write-ahead mark must survive a power cut),
STRICT tables so that an id stored as TEXT stays TEXT, and triggers that keep the event
log append-only. ``PRAGMA user_version`` holds :data:`SCHEMA_VERSION`.

Version 2 adds ``jobs.refused``: whether the answer that put the job in its state was a
refusal (version 1 said so with a ``refused: `` prefix in ``last_error``, a text that
reconciliation had to parse). It is a 0/1 flag rather than a ``cause`` text over a
literal set because the code asks exactly one yes-or-no question of it (fail a job that a
limit refusal left unknown and that the remote proves absent, rather than send it again),
and every other cause a job can be unknown for (a lost answer, a crash) is settled the
same way: a ``cause`` column would be a flag in disguise plus NULLs for most states. Its
CHECK ties it to the state: only a job in ``unknown`` or ``failed`` can be refused.

Version 3 adds the ``changes`` table: each end-date move (``modifyVoucherEndDate``) and
finish (``finishVoucher``) of a created voucher, recorded like a grant (planned, sending
before the request leaves, then done, failed, unknown, review or dropped), with the end
date before and after: the voucher's history of end dates. The event log's
``entity_kind`` takes ``change`` too.

A writable open upgrades an older file in one transaction, every step at once (1 → 2:
the column, filled from the old prefix by :func:`~runner.ledger._v1.v1_refused`;
``last_error`` is left as it was. 2 → 3: the ``changes`` table, and the event log rebuilt
with the wider CHECK, every row and sequence number kept). A read-only open never
writes: it reads a version 1 or 2 file as it is (:func:`~runner.ledger._rows.job_record`
derives the refused flag through the same function; a file without ``changes`` has no
change to read).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

from runner.errors import LedgerError, Location
from runner.ledger._states import (
    CHANGE_ACTIONS,
    CHANGE_ORIGINS,
    CHANGE_STATES,
    JOB_STATES,
    KEY_KINDS,
    REFUSABLE_STATES,
    VOUCHER_STATES,
)
from runner.ledger._v1 import v1_refused

__all__ = ["SCHEMA_VERSION", "check_campaign", "connect", "create_ledger", "ensure_schema"]

SCHEMA_VERSION = 3
#: Older versions this runner reads as they are (read-only) and upgrades (writable).
UPGRADABLE_VERSIONS = frozenset({1, 2})
BUSY_TIMEOUT_MS = 10_000


def _in(values: frozenset[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


#: ``jobs.refused``, said once for a new file and for upgrading a version 1 file (where
#: ALTER TABLE puts it last, hence last in the table below too).
REFUSED_COLUMN = (
    "refused INTEGER NOT NULL DEFAULT 0 "
    f"CHECK (refused IN (0, 1) AND (refused = 0 OR state IN ({_in(REFUSABLE_STATES)})))"
)

#: The indexes on ``jobs`` (name: table and columns). A sync into a ledger without jobs
#: drops them and builds them after its bulk insert (:mod:`runner.ledger._sync_store`):
#: one sort per index instead of a B-tree insert per row (the event log's index too).
JOB_INDEXES: dict[str, str] = {
    "jobs_state": "jobs (state)",
    "jobs_voucher_state": "jobs (voucher_key, state)",
    "jobs_voucher_customer": "jobs (voucher_key, customer_key)",
}
_JOB_INDEX_DDL = "".join(f"CREATE INDEX {name} ON {on};\n" for name, on in JOB_INDEXES.items())
_JOB_INDEX_DDL = "".join(f"CREATE INDEX {name} ON {on};\n" for name, on in JOB_INDEXES.items())
#: The event log's index (see ``_EVENTS_GUARDS``).
EVENTS_INDEX = ("events_entity", "events (entity_id)")

_DDL = f"""
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE runs (
    run_id      TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    plan_hash   TEXT,
    command     TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    exit_code   INTEGER,
    summary     TEXT
) STRICT;

CREATE TABLE vouchers (
    voucher_key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    fields      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ({_in(VOUCHER_STATES)})),
    remote_id   TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    msg_id      TEXT,
    sent_at     TEXT,
    last_error  TEXT,
    return_code TEXT,
    return_msg  TEXT,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE jobs (
    job_id         TEXT PRIMARY KEY,
    voucher_key    TEXT NOT NULL REFERENCES vouchers (voucher_key),
    audience       TEXT NOT NULL,
    customer_key   TEXT NOT NULL,
    key_kind       TEXT NOT NULL CHECK (key_kind IN ({_in(KEY_KINDS)})),
    seq            INTEGER NOT NULL,
    customer_name  TEXT,
    state          TEXT NOT NULL CHECK (state IN ({_in(JOB_STATES)})),
    attempts       INTEGER NOT NULL DEFAULT 0,
    msg_id         TEXT,
    sent_at        TEXT,
    last_error     TEXT,
    return_code    TEXT,
    return_msg     TEXT,
    remote_ref     TEXT,
    planned_in_run TEXT,
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at     TEXT NOT NULL,
    {REFUSED_COLUMN}
) STRICT;

{_JOB_INDEX_DDL}CREATE INDEX vouchers_state ON vouchers (state);

"""


#: The ``changes`` table (version 3): one row per end-date move or finish of a voucher.
_CHANGES_DDL = f"""
CREATE TABLE changes (
    change_id         TEXT PRIMARY KEY,
    voucher_key       TEXT NOT NULL REFERENCES vouchers (voucher_key),
    action            TEXT NOT NULL CHECK (action IN ({_in(CHANGE_ACTIONS)})),
    end_date          TEXT CHECK ((action = 'end_date') = (end_date IS NOT NULL)),
    previous_end_date TEXT,
    origin            TEXT NOT NULL CHECK (origin IN ({_in(CHANGE_ORIGINS)})),
    file_end_date     TEXT,
    state             TEXT NOT NULL CHECK (state IN ({_in(CHANGE_STATES)})),
    attempts          INTEGER NOT NULL DEFAULT 0,
    msg_id            TEXT,
    sent_at           TEXT,
    last_error        TEXT,
    return_code       TEXT,
    return_msg        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;

CREATE INDEX changes_voucher ON changes (voucher_key, state);
"""


def _events_ddl(table: str) -> str:
    """The event log's table (named *table*, to build it beside the old one when upgrading)."""
    return f"""
CREATE TABLE {table} (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    run_id      TEXT,
    entity_kind TEXT NOT NULL CHECK (entity_kind IN ('job', 'voucher', 'run', 'change')),
    entity_id   TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    detail      TEXT NOT NULL
) STRICT;
"""


#: The event log's index and append-only triggers (created again after a rebuild).
_EVENTS_GUARDS = f"""
CREATE INDEX {EVENTS_INDEX[0]} ON {EVENTS_INDEX[1]};

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
"""

#: A new file: every table of the current version.
_NEW_FILE_DDL = _DDL + _CHANGES_DDL + _events_ddl("events") + _EVENTS_GUARDS

_SQLITE_HEADER = b"SQLite format 3\x00"


def _refuse_non_ledger(path: Path) -> None:
    """Refuse, without touching it, an existing file that cannot be a ledger."""
    try:
        with path.open("rb") as file:
            header = file.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _damaged(path, exc) from exc
    if header != _SQLITE_HEADER:
        what = "is empty (0 bytes)" if not header else "is not an SQLite file"
        raise LedgerError(
            f"the ledger file exists but {what}: nothing was sent",
            where=Location(file=str(path)),
            hint=_NOT_A_LEDGER_HINT,
        )


_NOT_A_LEDGER_HINT = (
    "Restore the ledger from a backup, or move the file aside and take the remote state in "
    "with `runner adopt CAMPAIGN.yaml` before running again."
)


def connect(path: Path) -> sqlite3.Connection:
    """Open the file in autocommit mode (transactions are explicit) with WAL and FULL sync.

    An existing file that is empty or not SQLite is refused untouched. The connection
    belongs to the thread that opened it (``check_same_thread=True``).
    """
    _refuse_non_ledger(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    except sqlite3.Error as exc:
        raise _damaged(path, exc) from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise LedgerError(
                f"SQLite refused WAL mode for the ledger (journal_mode={mode})",
                where=Location(file=str(path)),
                hint="Keep the state directory on a local disk (WAL needs shared memory).",
            )
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _damaged(path, exc) from exc
    except LedgerError:
        conn.close()
        raise
    return conn


def create_ledger(path: Path, campaign: str) -> None:
    """Create a complete, empty ledger at *path* in one step, never half of one.

    The file is built under a hidden temporary name (schema, campaign, checkpointed and
    synced), then linked to *path*: a process killed at any moment leaves either no
    ledger or a whole one, never the empty file every later command would refuse (a
    leftover temporary file is removed by the next creation). An existing *path* is left
    as it is. The caller holds the campaign lock.
    """
    for stale in path.parent.glob(f".{path.name}.*.new*"):
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.new")
    try:
        conn = connect(tmp)
        try:
            ensure_schema(conn, tmp, campaign, new=True)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        _sync_folder(path.parent)
    finally:
        for leftover in path.parent.glob(f"{tmp.name}*"):
            leftover.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Make a new directory entry durable (POSIX; a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def ensure_schema(
    conn: sqlite3.Connection, path: Path, campaign: str, *, new: bool, read_only: bool = False
) -> None:
    """Create the tables in a *new* file and upgrade an older one (unless *read_only*: then
    it is read as it is); refuse a file of a newer or unknown schema.

    A file that existed before but holds no ledger (0 bytes, another SQLite database) is
    refused, never taken for a fresh start: a ledger that was emptied by accident must
    not let the next run send everything again.
    """
    try:
        version = _version(conn)
        _check_version(version, path, new=new)
        if version == 0:
            _create(conn, campaign)
        elif version != SCHEMA_VERSION and not read_only:
            _upgrade(conn)
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, exc) from exc


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _check_version(version: int, path: Path, *, new: bool) -> None:
    """Refuse a file holding no ledger, or a schema this runner cannot read."""
    if version == 0 and not new:
        raise LedgerError(
            "the ledger file exists but holds no ledger (another SQLite database, or one "
            "left empty): nothing was sent",
            where=Location(file=str(path)),
            hint=_NOT_A_LEDGER_HINT,
        )
    if version not in {0, SCHEMA_VERSION, *UPGRADABLE_VERSIONS}:
        raise LedgerError(
            f"the ledger has schema version {version}; this runner knows {SCHEMA_VERSION}",
            where=Location(file=str(path)),
            hint="Use the campaign-runner version that wrote this ledger, or a newer one.",
        )


@contextlib.contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One ``BEGIN IMMEDIATE … COMMIT``, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _create(conn: sqlite3.Connection, campaign: str) -> None:
    with _immediate(conn):
        # Another process may have created it between our check and our lock.
        if _version(conn) == 0:
            for statement in _statements(_NEW_FILE_DDL):
                conn.execute(statement)
            conn.execute("INSERT INTO meta (key, value) VALUES ('campaign', ?)", (campaign,))
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _upgrade(conn: sqlite3.Connection) -> None:
    """Every step from the file's version to :data:`SCHEMA_VERSION`, in one transaction."""
    conn.create_function("v1_refused", 2, v1_refused, deterministic=True)
    with _immediate(conn):
        version = _version(conn)  # re-read under the write lock, as when creating
        if version == 1:
            _upgrade_v1(conn)
        if version in (1, 2):
            _upgrade_v2(conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _upgrade_v1(conn: sqlite3.Connection) -> None:
    """Version 1 → 2: add ``jobs.refused``, filled from the old prefix."""
    conn.execute(f"ALTER TABLE jobs ADD COLUMN {REFUSED_COLUMN}")
    conn.execute("UPDATE jobs SET refused = 1 WHERE v1_refused(state, last_error)")


def _upgrade_v2(conn: sqlite3.Connection) -> None:
    """Version 2 → 3: the ``changes`` table, and the event log with ``change`` events.

    SQLite cannot widen a CHECK in place: the log is copied, every row and sequence number
    as it was, into a new table that takes its name (the append-only triggers go with the
    old table and are made again; DROP TABLE fires no DELETE trigger).
    """
    for statement in _statements(_CHANGES_DDL + _events_ddl("events_v3")):
        conn.execute(statement)
    conn.execute("INSERT INTO events_v3 SELECT * FROM events ORDER BY seq")
    conn.execute("DROP TABLE events")
    conn.execute("ALTER TABLE events_v3 RENAME TO events")
    for statement in _statements(_EVENTS_GUARDS):
        conn.execute(statement)


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (a trigger's inner ``;`` does not end one)."""
    out: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            out.append(buffer.strip())
            buffer = ""
    return out


def check_campaign(conn: sqlite3.Connection, path: Path, campaign: str) -> None:
    """Refuse a ledger that another campaign wrote."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'campaign'").fetchone()
    found = None if row is None else str(row[0])
    if found != campaign:
        raise LedgerError(
            f"this ledger belongs to campaign {found!r}, not {campaign!r}",
            where=Location(file=str(path)),
            hint="Each campaign keeps its own state directory: check --state-dir and the "
            "campaign id in the YAML.",
        )


def _damaged(path: Path, exc: BaseException) -> LedgerError:
    return LedgerError(
        f"cannot use the ledger: {exc}",
        where=Location(file=str(path)),
        hint="Is it a campaign-runner ledger? Restore it from a backup, or move it aside "
        "to start over (only if nothing was sent yet).",
    )
