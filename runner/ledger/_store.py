"""The :class:`Ledger`: one SQLite file per campaign, one small transaction per transition.

Write-ahead rule for the executor: call ``mark_sending`` (it commits) *before* the
request leaves, and record the outcome (``mark_done`` / ``mark_failed`` /
``mark_unknown`` / ``mark_unknown_refused`` / ``mark_not_sent``) as soon as it returns.
Every transition checks its from-state in the same statement that changes it and appends
one event. Whether a refusal put a job in its state is the typed ``jobs.refused`` flag
(:attr:`JobRecord.refused`); ``last_error`` is only words for people.

Threading: the ledger keeps one connection, usable only from the thread that opened it
(``check_same_thread=True``). The executor is asyncio in one thread, so that is enough;
each method is synchronous and short.

Secrets: the ledger scrubs every text it stores with the :class:`~runner.redaction.Redactor`
given to :meth:`Ledger.open` (built from the credentials); it registers and looks up no
secret of its own.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sqlite3
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal

import polars as pl

from runner.errors import LedgerError, Location
from runner.ledger import _queries as q
from runner.ledger._change_moves import ChangeMoves
from runner.ledger._events import EventRow, append_events
from runner.ledger._job_frame import job_frame
from runner.ledger._lock import CampaignLock
from runner.ledger._oserrors import state_dir_error
from runner.ledger._planned import PlannedGrant, planned_page
from runner.ledger._records import (
    EventRecord,
    JobRecord,
    JobRow,
    Recovered,
    RunRecord,
    SyncReport,
    VoucherRecord,
    VoucherRow,
)
from runner.ledger._rows import dump_json, now
from runner.ledger._schema import check_campaign, connect, create_ledger, ensure_schema
from runner.ledger._states import JobState, MoveName
from runner.ledger._sync import SyncChanges, compare
from runner.ledger._sync_store import load_known, write_changes
from runner.ledger._tenant import Tenant, bind_tenant, read_tenant
from runner.ledger._transitions import (
    TABLES,
    Change,
    Kind,
    apply_change,
    created,
    done,
    errored,
    failed,
    label,
    sending,
    where_of,
)
from runner.redaction import NO_SECRETS, Redactor

__all__ = ["LEDGER_FILE", "Ledger", "campaign_dir"]

#: SQLite's page cache while syncing a plan (negative: KiB), 128 MB: inserting 1,000,000
#: jobs spills far fewer B-tree pages than with the default 2 MB.
_SYNC_CACHE_KIB = -131_072

LEDGER_FILE = "ledger.sqlite"
_CRASH_ERROR = "the runner stopped while this request was in flight: its outcome is unknown"
_RESOLVED_FAILED = "marked failed in review"
_RESOLVE_MOVES: dict[str, MoveName] = {
    "planned": "resolve_review_planned",
    "done": "resolve_review_finished",
    "created": "resolve_review_finished",
    "failed": "resolve_review_failed",
}


def campaign_dir(state_dir: Path, campaign: str) -> Path:
    """``<state_dir>/<campaign>``, refusing a campaign id that is not a plain directory name
    (the campaign file's rules never let one through: this guards against a bug)."""
    unsafe = not campaign or campaign in {".", ".."} or any(c in campaign for c in "/\\\0")
    if unsafe:
        raise ValueError(f"campaign id {campaign!r} cannot name a state directory")
    return state_dir / campaign


@contextlib.contextmanager
def _state_dir_errors(path: Path) -> Iterator[None]:
    """Opening or creating the ledger at *path*: a full disk, a read-only file system (and
    the like) becomes :class:`~runner.errors.StateDirUnusable`, whether SQLite, our own
    file calls or the schema checks (as a damaged ledger) saw it first."""
    try:
        yield
    except (sqlite3.Error, OSError, LedgerError) as exc:
        unusable = state_dir_error(exc, path)
        if unusable is None:
            raise
        raise unusable from exc


def _os_user() -> str | None:
    """The OS user name, or None when the system cannot tell."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return None


def _decision(note: str, by: str | None, kind: Kind, entity_id: str) -> dict[str, object]:
    """The detail of a person's review decision: the note and who made it."""
    if not isinstance(note, str) or not note.strip():  # runner review refuses it first
        raise ValueError(f"resolving {label(kind, entity_id)} needs a note saying why")
    who = by if by is not None else _os_user()
    return {"note": note.strip(), **({"by": who} if who else {})}


def _check_ref(name: str, value: str | None, to: str, finished: str) -> None:
    """A remote id goes only with the decision that the thing exists; ``to`` is known."""
    if to not in _RESOLVE_MOVES or (to in ("done", "created") and to != finished):
        raise ValueError(f"cannot resolve a review to {to!r}")
    if value is not None and to != finished:
        raise ValueError(f"{name} goes only with to={finished!r}, not to={to!r}")


class Ledger(ChangeMoves):
    """The exactly-once record of one campaign. Open it with :meth:`Ledger.open`.

    A writable ledger holds the campaign's :class:`CampaignLock` for its whole life and
    has settled every row a crash left in ``sending`` (see :attr:`recovered`). A
    read-only one takes no lock, changes nothing, and refuses every write. Its
    :attr:`redactor` scrubs the secrets from every text it stores.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        campaign: str,
        *,
        lock: CampaignLock | None,
        owns_lock: bool,
        read_only: bool,
        redactor: Redactor | None = None,
    ) -> None:
        """Wrap an open connection; use :meth:`Ledger.open` instead."""
        self._conn = conn
        self.redactor = redactor if redactor is not None else NO_SECRETS
        self.path = path
        self.campaign = campaign
        self.read_only = read_only
        self.recovered = Recovered()
        self._lock = lock
        self._owns_lock = owns_lock
        self._run_id: str | None = None
        self._closed = False

    # --- opening and closing --------------------------------------------------------------

    @classmethod
    def open(
        cls,
        state_dir: Path,
        campaign: str,
        *,
        command: str = "runner",
        lock: CampaignLock | None = None,
        read_only: bool = False,
        redactor: Redactor | None = None,
    ) -> Ledger:
        """Open (creating if needed) ``<state_dir>/<campaign>/ledger.sqlite``.

        ``redactor`` (e.g. ``credentials.redactor``) scrubs the secrets from every text
        stored; a command without credentials (``status``, ``review``) has none to pass.

        Writable (the default): takes the campaign lock (or uses ``lock``, already held
        by the caller) and turns rows left in ``sending`` into ``unknown``. Read-only:
        no lock, no recovery, every write refused. Raises
        :class:`~runner.errors.LockHeld` when another runner works on the campaign and
        :class:`~runner.errors.LedgerError` for a damaged ledger or another campaign's.
        """
        directory = campaign_dir(state_dir, campaign)
        directory.mkdir(parents=True, exist_ok=True)
        own_lock: CampaignLock | None = None
        if not read_only:
            if lock is None:
                own_lock = lock = CampaignLock(directory, command=command)
                lock.acquire()
            elif not lock.held or lock.directory.resolve() != directory.resolve():
                raise ValueError(f"{lock!r} must be held and lock {directory}")
        try:
            ledger = cls._connect(
                directory / LEDGER_FILE, campaign, lock, own_lock, read_only, redactor
            )
        except BaseException:
            if own_lock is not None:
                own_lock.release()
            raise
        if not read_only:
            try:
                ledger.recovered = ledger.recover_after_crash()
            except BaseException:
                ledger.close()
                raise
        return ledger

    @classmethod
    def _connect(
        cls,
        path: Path,
        campaign: str,
        lock: CampaignLock | None,
        own_lock: CampaignLock | None,
        read_only: bool,
        redactor: Redactor | None = None,
    ) -> Ledger:
        new = not path.exists()
        if new and read_only:
            raise LedgerError(
                "there is no ledger here yet",
                where=Location(file=str(path)),
                hint="The campaign never ran with this state directory; check --state-dir.",
            )
        with _state_dir_errors(path):
            if new:  # whole or not at all: a kill mid-creation must not leave an empty file
                create_ledger(path, campaign)
            conn = connect(path)
            try:
                if read_only:  # before anything else: an older schema is read, never upgraded
                    conn.execute("PRAGMA query_only = ON")
                ensure_schema(conn, path, campaign, new=new, read_only=read_only)
                check_campaign(conn, path, campaign)
            except BaseException:
                conn.close()
                raise
        owns = own_lock is not None
        return cls(
            conn,
            path,
            campaign,
            lock=lock,
            owns_lock=owns,
            read_only=read_only,
            redactor=redactor,
        )

    def close(self) -> None:
        """Close the file and give back a lock this ledger took (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._conn.close()
        if self._owns_lock and self._lock is not None:
            self._lock.release()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "writable"
        return f"Ledger({str(self.path)!r}, campaign={self.campaign!r}, {mode})"

    # --- transactions -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE … COMMIT``; rolled back on any error."""
        if self.read_only:
            raise LedgerError(
                "the ledger was opened read-only",
                where=Location(file=str(self.path)),
                hint="Open it writable (this takes the campaign lock) to change it.",
            )
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            with contextlib.suppress(sqlite3.Error):  # a failed disk may refuse this too
                self._rollback()
            unusable = state_dir_error(exc, self.path)
            if unusable is not None:
                raise unusable from exc
            if isinstance(exc, OSError):
                raise
            raise LedgerError(
                f"writing the ledger failed: {exc}",
                where=Location(file=str(self.path)),
                hint="Check the disk (space, permissions); then rerun: it resumes.",
            ) from exc
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._rollback()
            raise

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several queries see one consistent state."""
        conn = self._conn
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def _move(self, kind: Kind, name: MoveName, action: str, changes: Sequence[Change]) -> None:
        """Apply the move ``name`` to every change in one transaction (all or none)."""
        with self._write() as conn:
            for change in changes:
                apply_change(
                    conn, kind, name, action, change, run_id=self._run_id, redactor=self.redactor
                )

    # --- job transitions --------------------------------------------------------------------

    def mark_sending(self, job_id: str, msg_id: str) -> None:
        """planned → sending, committed before the grant request leaves; counts an attempt."""
        self.mark_sending_many([(job_id, msg_id)])

    def mark_sending_many(self, items: Sequence[tuple[str, str]]) -> None:
        """planned → sending for each ``(job_id, msg_id)`` in one transaction (all or none).

        Send none of these requests before this returns.
        """
        changes = [sending(job_id, msg_id) for job_id, msg_id in items]
        self._move("job", "mark_sending", "mark_sending", changes)

    def mark_done(
        self,
        job_id: str,
        *,
        remote_ref: str | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        """sending → done: the server said ``return_code`` "0"."""
        self._move("job", "mark_succeeded", "mark_done", [done(job_id, remote_ref, detail)])

    def mark_failed(
        self,
        job_id: str,
        *,
        return_code: str | None,
        return_msg: str | None,
        error: str | None = None,
    ) -> None:
        """sending → failed: the server refused; its code and message are kept verbatim."""
        change = failed(job_id, return_code, return_msg, error, refused=True)
        self._move("job", "mark_failed", "mark_failed", [change])

    def mark_unknown(self, job_id: str, *, error: str) -> None:
        """sending → unknown: the request may have been applied; reconcile before resending."""
        self._move("job", "mark_unknown", "mark_unknown", [errored(job_id, error)])

    def mark_unknown_refused(
        self, job_id: str, *, return_code: str | None, return_msg: str | None
    ) -> None:
        """sending → unknown, ``refused``: the server refused in words that may mean an
        earlier grant already counts (a limit was reached). Reconciliation adopts the job
        if the remote holds it and fails it (:meth:`mark_refused`) if not: never resends."""
        change = failed(job_id, return_code, return_msg, None, refused=True)
        self._move("job", "mark_unknown", "mark_unknown_refused", [change])

    def mark_not_sent(self, job_id: str, *, error: str) -> None:
        """sending → planned: the request certainly did not leave, or was pushed back."""
        self._move("job", "mark_not_sent", "mark_not_sent", [errored(job_id, error)])

    def adopt(
        self,
        job_id: str,
        *,
        remote_ref: str | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        """unknown → done: reconciliation found the grant (``remote_ref``: its instance id)."""
        self.adopt_many([(job_id, remote_ref)], detail=detail)

    def adopt_many(
        self,
        items: Sequence[tuple[str, str | None]],
        *,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        """unknown → done for each ``(job_id, remote_ref)`` in one transaction."""
        changes = [done(job_id, ref, detail) for job_id, ref in items]
        self._move("job", "adopt", "adopt", changes)

    def mark_absent(self, job_id: str, *, detail: Mapping[str, object] | None = None) -> None:
        """unknown → planned: reconciliation proved the grant did not happen."""
        self.mark_absent_many([job_id], detail=detail)

    def mark_absent_many(
        self, job_ids: Sequence[str], *, detail: Mapping[str, object] | None = None
    ) -> None:
        """unknown → planned for each job, in one transaction."""
        changes = [Change(job_id, detail=detail or {}) for job_id in job_ids]
        self._move("job", "mark_absent", "mark_absent", changes)

    def mark_review(
        self, job_id: str, *, reason: str, detail: Mapping[str, object] | None = None
    ) -> None:
        """unknown → review: the remote truth is ambiguous; a person must decide."""
        change = errored(job_id, reason, **(detail or {}))
        self._move("job", "mark_review", "mark_review", [change])

    def mark_refused(self, job_id: str, *, detail: Mapping[str, object] | None = None) -> None:
        """unknown → failed: proven not granted, and a refusal left it unknown (``refused``,
        see :meth:`mark_unknown_refused`); its code, message and error text stay."""
        job = self.job(job_id)
        if job.state == "unknown" and not job.refused:  # other states: the move refuses
            raise ValueError(f"job {job_id} was not left unknown by a refusal")
        change = Change(job_id, detail=detail or {}, refused=True)
        self._move("job", "mark_refused", "mark_refused", [change])

    def retry_failed(self, job_id: str) -> None:
        """failed → planned: send it again (e.g. ``runner retry-failed``)."""
        self.retry_failed_many([job_id])

    def retry_failed_many(self, job_ids: Sequence[str]) -> None:
        """failed → planned for each job, in one transaction."""
        changes = [Change(job_id) for job_id in job_ids]
        self._move("job", "retry_failed", "retry_failed", changes)

    def resolve_review(
        self,
        job_id: str,
        to: Literal["planned", "done", "failed"],
        *,
        note: str,
        remote_ref: str | None = None,
        by: str | None = None,
    ) -> None:
        """A person's decision on a job in review: planned (send again), done (it was
        granted; ``remote_ref`` its instance id, if known) or failed (give up for now).

        ``note`` says why and may not be blank; the event keeps it with ``by`` (default:
        the OS user name). ``failed`` stores the note as ``last_error``.
        """
        detail = _decision(note, by, "job", job_id)
        _check_ref("remote_ref", remote_ref, to, "done")
        if to == "done":
            change = done(job_id, remote_ref, detail)
        elif to == "failed":
            text = f"{_RESOLVED_FAILED}: {note.strip()}"
            change = failed(job_id, None, None, text, detail, refused=False)
        else:
            change = Change(job_id, detail=detail)
        self._move("job", _RESOLVE_MOVES[to], "resolve_review", [change])

    # --- voucher transitions ----------------------------------------------------------------

    def mark_voucher_sending(self, voucher_key: str, msg_id: str) -> None:
        """planned → sending, committed before ``addVoucherInfo`` leaves; counts an attempt."""
        change = sending(voucher_key, msg_id)
        self._move("voucher", "mark_sending", "mark_voucher_sending", [change])

    def mark_voucher_created(
        self, voucher_key: str, *, remote_id: str, detail: Mapping[str, object] | None = None
    ) -> None:
        """sending → created, storing the server's voucher id at once."""
        change = created(voucher_key, remote_id, detail)
        self._move("voucher", "mark_succeeded", "mark_voucher_created", [change])

    def mark_voucher_failed(
        self,
        voucher_key: str,
        *,
        return_code: str | None,
        return_msg: str | None,
        error: str | None = None,
    ) -> None:
        """sending → failed: the server refused the create; code and message verbatim."""
        change = failed(voucher_key, return_code, return_msg, error, refused=True)
        self._move("voucher", "mark_failed", "mark_voucher_failed", [change])

    def mark_voucher_unknown(self, voucher_key: str, *, error: str) -> None:
        """sending → unknown: the voucher may exist; find it with ``getVoucherInfos``."""
        change = errored(voucher_key, error)
        self._move("voucher", "mark_unknown", "mark_voucher_unknown", [change])

    def mark_voucher_not_sent(self, voucher_key: str, *, error: str) -> None:
        """sending → planned: the create certainly did not leave, or was pushed back."""
        change = errored(voucher_key, error)
        self._move("voucher", "mark_not_sent", "mark_voucher_not_sent", [change])

    def adopt_voucher(
        self, voucher_key: str, *, remote_id: str, detail: Mapping[str, object] | None = None
    ) -> None:
        """unknown → created: reconciliation found the voucher on the server."""
        change = created(voucher_key, remote_id, detail)
        self._move("voucher", "adopt", "adopt_voucher", [change])

    def mark_voucher_absent(
        self, voucher_key: str, *, detail: Mapping[str, object] | None = None
    ) -> None:
        """unknown → planned: reconciliation proved the voucher was not created."""
        change = Change(voucher_key, detail=detail or {})
        self._move("voucher", "mark_absent", "mark_voucher_absent", [change])

    def mark_voucher_review(
        self, voucher_key: str, *, reason: str, detail: Mapping[str, object] | None = None
    ) -> None:
        """unknown → review: e.g. several remote vouchers could be this one."""
        change = errored(voucher_key, reason, **(detail or {}))
        self._move("voucher", "mark_review", "mark_voucher_review", [change])

    def retry_failed_voucher(self, voucher_key: str) -> None:
        """failed → planned: try the create again."""
        self._move("voucher", "retry_failed", "retry_failed_voucher", [Change(voucher_key)])

    def resolve_voucher_review(
        self,
        voucher_key: str,
        to: Literal["planned", "created", "failed"],
        *,
        note: str,
        remote_id: str | None = None,
        by: str | None = None,
    ) -> None:
        """A person's decision on a voucher in review: planned (create again), created
        (it exists: needs its ``remote_id``) or failed (give up for now).

        ``note`` and ``by`` as for :meth:`resolve_review`.
        """
        detail = _decision(note, by, "voucher", voucher_key)
        _check_ref("remote_id", remote_id, to, "created")
        if to == "created":
            if remote_id is None:  # runner review's syntax requires KEY=created:REMOTE_ID
                raise ValueError(
                    f"voucher {voucher_key!r} cannot be marked created without its remote id"
                )
            change = created(voucher_key, remote_id, detail)
        elif to == "failed":
            text = f"{_RESOLVED_FAILED}: {note.strip()}"
            change = failed(voucher_key, None, None, text, detail, refused=False)
        else:
            change = Change(voucher_key, detail=detail)
        self._move("voucher", _RESOLVE_MOVES[to], "resolve_voucher_review", [change])

    # --- taking in what exists remotely (``runner adopt``) -------------------------------

    def adopt_remote_voucher(
        self,
        voucher_key: str,
        *,
        remote_id: str,
        fields: Mapping[str, object],
        fingerprint: str,
        job_ids: Sequence[str] = (),
        detail: Mapping[str, object] | None = None,
    ) -> None:
        """planned → created for a voucher this ledger never sent, found on the remote, and
        planned → done for the jobs the remote already holds: one transaction, so a crash
        never leaves an adopted voucher whose grants look unsent.

        ``fields`` are the voucher's payload as the remote holds it (``num``,
        ``eachCmNum``, the customer list), so later plans are fitted to the real voucher.
        """
        base = created(voucher_key, remote_id, detail)
        sets = {**base.sets, "fields": dump_json(fields, self.redactor), "fingerprint": fingerprint}
        with self._write() as conn:
            apply_change(
                conn,
                "voucher",
                "adopt_remote",
                "adopt_remote_voucher",
                Change(voucher_key, sets, base.detail),
                run_id=self._run_id,
                redactor=self.redactor,
            )
            for job_id in job_ids:
                change = done(job_id, None, {"reason": f"held by remote voucher {remote_id}"})
                apply_change(
                    conn,
                    "job",
                    "adopt_remote",
                    "adopt_remote",
                    change,
                    run_id=self._run_id,
                    redactor=self.redactor,
                )

    def adopt_remote_grants(
        self, job_ids: Sequence[str], *, detail: Mapping[str, object] | None = None
    ) -> None:
        """planned → done for each job, in one transaction: the remote already holds them."""
        changes = [done(job_id, None, detail) for job_id in job_ids]
        self._move("job", "adopt_remote", "adopt_remote_grants", changes)

    # --- the tenant ---------------------------------------------------------------------

    def tenant(self) -> Tenant | None:
        """The tenant this ledger is bound to (None before its first send)."""
        return read_tenant(self._conn)

    def check_tenant(self, tenant: Tenant) -> None:
        """Raise :class:`~runner.errors.TenantMismatch` if bound to another tenant."""
        bind_tenant(self._conn, self.path, tenant, write=False)

    def bind_tenant(self, tenant: Tenant) -> bool:
        """Bind the ledger to *tenant* (before its first send); refuse another tenant.

        Returns True when this call bound it.
        """
        with self._write() as conn:
            return bind_tenant(conn, self.path, tenant, write=True)

    # --- crash recovery ---------------------------------------------------------------------

    def recover_after_crash(self) -> Recovered:
        """sending → unknown for every row a stopped run left unsettled (one event each).

        :meth:`open` calls it; it is safe only while holding the campaign lock.
        """
        with self._write() as conn:
            run = conn.execute(
                "SELECT run_id FROM runs WHERE finished_at IS NULL ORDER BY started_at DESC"
            ).fetchone()
            stopped_run = None if run is None else run[0]
            found: dict[Kind, tuple[str, ...]] = {}
            for kind, (table, key) in TABLES.items():
                rows = conn.execute(
                    f"SELECT {key}, msg_id FROM {table} WHERE state = 'sending' ORDER BY rowid"
                ).fetchall()
                for entity_id, msg_id in rows:
                    change = errored(
                        entity_id, _CRASH_ERROR, stopped_run=stopped_run, msg_id=msg_id
                    )
                    apply_change(
                        conn,
                        kind,
                        "recover_after_crash",
                        "recover_after_crash",
                        change,
                        run_id=None,
                        redactor=self.redactor,
                    )
                found[kind] = tuple(row[0] for row in rows)
        return Recovered(vouchers=found["voucher"], jobs=found["job"], changes=found["change"])

    # --- runs -------------------------------------------------------------------------------

    def start_run(self, command: str, plan_hash: str | None) -> str:
        """Record a new run; later events carry its id. Returns the run id."""
        run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        with self._write() as conn:
            at = now()
            conn.execute(
                "INSERT INTO runs (run_id, started_at, plan_hash, command, pid)"
                " VALUES (?, ?, ?, ?, ?)",
                (run_id, at, plan_hash, command, os.getpid()),
            )
            detail = self.redactor.redact(
                {"command": command, "plan_hash": plan_hash, "pid": os.getpid()}
            )
            append_events(conn, [("run", run_id, None, "running", detail)], at=at, run_id=run_id)
        self._run_id = run_id
        return run_id

    def finish_run(
        self, run_id: str, exit_code: int, summary: Mapping[str, object] | None = None
    ) -> None:
        """Record how a run ended: its exit code and a JSON summary."""
        with self._write() as conn:
            at = now()
            cursor = conn.execute(
                "UPDATE runs SET finished_at = ?, exit_code = ?, summary = ?"
                " WHERE run_id = ? AND finished_at IS NULL",
                (at, exit_code, dump_json(summary or {}, self.redactor), run_id),
            )
            if cursor.rowcount != 1:
                raise LedgerError(
                    f"run {run_id} is not an unfinished run of this ledger",
                    where=Location(file=str(self.path)),
                    hint="Pass the id start_run returned, once.",
                )
            event: EventRow = ("run", run_id, "running", "finished", {"exit_code": exit_code})
            append_events(conn, [event], at=at, run_id=run_id)
        if self._run_id == run_id:
            self._run_id = None

    # --- syncing with a plan ----------------------------------------------------------------

    def diff_plan(
        self, plan_hash: str, vouchers: Sequence[VoucherRow], jobs: Sequence[JobRow]
    ) -> SyncReport:
        """What :meth:`sync_plan` would do, without writing anything (for ``runner plan``)."""
        with self._snapshot() as conn:
            changes = self._compare(conn, plan_hash, vouchers, jobs)
        return changes.report(plan_hash, applied=False)

    def sync_plan(
        self, plan_hash: str, vouchers: Sequence[VoucherRow], jobs: Sequence[JobRow]
    ) -> SyncReport:
        """Make the ledger follow the plan, in one transaction.

        New jobs and vouchers are inserted as planned; rows missing from the plan get
        ``active = 0`` (never deleted; done jobs stay done); rows coming back get
        ``active = 1``; a planned or failed voucher takes its new settings. If a voucher
        that may exist remotely changed, nothing is written and the report lists it in
        ``voucher_conflicts`` (``applied`` is False): the caller must refuse to run.

        ``plan_hash`` is trusted to hash the job ids: a ledger that last synced the same
        hash and holds as many active jobs as ``jobs`` is taken to hold exactly them, and
        their rows are not compared one by one (:func:`~runner.ledger._sync.compare`).
        """
        with self._bulk_settings(), self._write() as conn:
            changes = self._compare(conn, plan_hash, vouchers, jobs)
            if changes.conflicts:
                return changes.report(plan_hash, applied=False)
            write_changes(conn, plan_hash, changes, run_id=self._run_id)
        return changes.report(plan_hash, applied=True)

    @contextlib.contextmanager
    def _bulk_settings(self) -> Iterator[None]:
        """For a sync: foreign keys off (the comparison checks them, see
        :mod:`runner.ledger._sync_store`) and a larger page cache (a 1,000,000-job insert
        spills far fewer pages), both as they were afterwards."""
        conn = self._conn
        (cache,) = conn.execute("PRAGMA cache_size").fetchone()
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(f"PRAGMA cache_size = {_SYNC_CACHE_KIB}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size = {int(cache)}")
            conn.execute("PRAGMA foreign_keys = ON")

    @staticmethod
    def _compare(
        conn: sqlite3.Connection,
        plan_hash: str,
        vouchers: Sequence[VoucherRow],
        jobs: Sequence[JobRow],
    ) -> SyncChanges:
        frame = job_frame(jobs)
        known_vouchers, known_jobs = load_known(conn, plan_hash, frame.height)
        return compare(known_vouchers, known_jobs, vouchers, frame)

    # --- queries ----------------------------------------------------------------------------

    def plan_hash(self) -> str | None:
        """The hash of the plan last synced into this ledger."""
        return q.plan_hash(self._conn)

    def vouchers(self, *, active: bool | None = True) -> list[VoucherRecord]:
        """The vouchers in plan order (``active=None``: also those no longer planned)."""
        return q.vouchers(self._conn, active)

    def voucher(self, voucher_key: str) -> VoucherRecord:
        """One voucher; :class:`~runner.errors.LedgerError` when the ledger lacks it."""
        record = q.voucher(self._conn, voucher_key)
        if record is None:
            raise self._missing("voucher", voucher_key)
        return record

    def job(self, job_id: str) -> JobRecord:
        """One job; :class:`~runner.errors.LedgerError` when the ledger lacks it."""
        record = q.job(self._conn, job_id)
        if record is None:
            raise self._missing("job", job_id)
        return record

    def jobs(
        self,
        state: JobState | Collection[JobState] | None = None,
        voucher_key: str | None = None,
        *,
        active: bool | None = True,
    ) -> list[JobRecord]:
        """Jobs in plan order, by state(s), voucher, and still planned (``active=None``: all)."""
        return q.jobs(self._conn, state, voucher_key, active)

    def job_table(
        self,
        state: JobState | Collection[JobState] | None = None,
        voucher_key: str | None = None,
        *,
        active: bool | None = True,
        columns: Sequence[str] = tuple(q.JOB_TABLE_COLUMNS),
    ) -> pl.DataFrame:
        """The jobs :meth:`jobs` returns, as a polars frame of ``columns`` (``active`` as
        0/1): for reading many jobs at once (result files, a plan's checks)."""
        return q.job_table(self._conn, state, voucher_key, active, columns)

    def last_change(self) -> int:
        """The event number of the last change to a job, voucher or voucher change (runs'
        own start and end left out): equal numbers, the same jobs and vouchers."""
        return q.last_change(self._conn)

    def counts(self, *, active: bool | None = True) -> dict[str, dict[JobState, int]]:
        """How many jobs each voucher has in each state (states with none are left out)."""
        return q.counts(self._conn, active)

    def confirmed_grants(self, voucher_key: str) -> dict[str, int]:
        """Done grants of one voucher per customer key, still planned or not."""
        return q.confirmed_grants(self._conn, voucher_key)

    def last_run(self) -> RunRecord | None:
        """The most recently started run, finished or not."""
        return q.last_run(self._conn)

    def events(self, entity_id: str | None = None) -> list[EventRecord]:
        """The event log in order, of one entity (job id, voucher key, run id) or all."""
        return q.events(self._conn, entity_id)

    def _missing(self, kind: Kind, entity_id: str) -> LedgerError:
        return LedgerError(
            f"{label(kind, entity_id)} is not in the ledger",
            where=where_of(kind, entity_id),
            hint="Is the campaign file the one this ledger was planned from?",
        )

    # --- group commit (:mod:`runner.ledger._writer`) ----------------------------------------

    def writer_handle(self) -> Ledger:
        """A second handle on this writable ledger's file, with its own connection, for the
        one thread that calls this (the group-commit writer). It shares the lock (without
        owning it), the redactor and the current run id; close it in that thread."""
        if self.read_only:
            raise LedgerError(
                "the ledger was opened read-only",
                where=Location(file=str(self.path)),
                hint="Open it writable (this takes the campaign lock) to change it.",
            )
        with _state_dir_errors(self.path):  # a full disk: StateDirUnusable, as on open
            conn = connect(self.path)
        handle = type(self)(
            conn,
            self.path,
            self.campaign,
            lock=self._lock,
            owns_lock=False,
            read_only=False,
            redactor=self.redactor,
        )
        handle._run_id = self._run_id
        return handle

    def apply_job_moves(
        self, moves: Sequence[tuple[MoveName, str, Change]]
    ) -> tuple[int, LedgerError | None]:
        """Apply job moves ``(move, action, change)`` in order in one transaction, up to the
        first one the ledger refuses (the job is not in the move's from-state).

        Returns how many were applied and committed, and the refusal that stopped them (it
        wrote nothing; the moves after it are not applied). Any other failure (SQLite, the
        disk) undoes them all and is raised as ``_write`` raises.
        """
        applied = 0
        with self._write() as conn:
            for name, action, change in moves:
                try:
                    apply_change(
                        conn,
                        "job",
                        name,
                        action,
                        change,
                        run_id=self._run_id,
                        redactor=self.redactor,
                    )
                except LedgerError as err:  # raised before anything of this move was written
                    return applied, err
                applied += 1
        return applied, None

    def planned_grants(self, *, after: int = 0, limit: int = 10_000) -> list[PlannedGrant]:
        """The next ``limit`` active planned jobs after rowid ``after``, in plan order, as
        light tuples (the grant phase reads them a page at a time)."""
        return planned_page(self._conn, after, limit)
