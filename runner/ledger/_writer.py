"""Group commit for the grant phase: the ledger's job marks, batched, in a thread of their own.

A worker asks for its job's ``sending`` mark with :meth:`LedgerWriter.sending` and awaits
it: the call returns once the transaction holding the mark has committed, so the
write-ahead rule stays exact (no request leaves before its mark is on disk), while the
marks of every worker that asked meanwhile share one ``BEGIN IMMEDIATE … COMMIT``.
Outcomes (:meth:`done`, :meth:`failed`, :meth:`unknown`, :meth:`unknown_refused`,
:meth:`not_sent`) are queued and not awaited: they land in the next batch. Everything
queued is committed by :meth:`flush` and by :meth:`close` (end of the grant phase, a stop,
an error). A crash loses only queued outcomes: their jobs stay ``sending``, which
:meth:`Ledger.recover_after_crash` turns into ``unknown`` on the next open and
reconciliation settles against the remote (adopted when granted, sent again when not) --
never a grant twice, never one lost.

One FIFO queue carries every mark in the order the event loop made them, so a job's
outcome is never committed before its ``sending`` mark, nor a retry's ``sending`` before
the ``not_sent`` of the attempt before it.

Threading: the writer thread opens a *second connection* of its own
(:meth:`Ledger.writer_handle`), rather than sharing the ledger's with
``check_same_thread=False``. The ledger's connection stays the event loop's, for the reads
the run makes meanwhile (counts, progress, reconciliation between passes), and two threads
never interleave statements or transactions on one connection, which sqlite3 does not
serialise for us: with a shared connection a read on the loop thread could run inside the
writer's open transaction and see (or end) it. WAL lets the loop's reads go on while the
writer commits; ``busy_timeout`` covers the rare write the loop thread makes itself. The
thread's SQLite calls release the GIL while SQLite works (fsync included), so the commit's
wait no longer stalls the event loop.

Errors: a batch that fails (the disk is full, the file is gone: whatever ``Ledger._write``
raises) fails every ``sending`` of the batch with that error, and so does a move the
ledger refuses; the first error is handed to ``on_error`` (on the loop thread: the run
stops starting requests) and kept in :attr:`error`; from then on every ``sending`` fails
at once with it. Queued outcomes are still written when the ledger takes them. Nothing
is swallowed: :meth:`close` raises the error if nothing else did.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

import structlog

from runner.errors import RunnerError
from runner.ledger._states import MoveName
from runner.ledger._store import Ledger
from runner.ledger._transitions import Change, errored, failed, sending
from runner.ledger._transitions import done as done_change

__all__ = ["LedgerWriter"]

log = structlog.get_logger(__name__)

#: At most this many marks share one transaction.
MAX_BATCH = 1024


@dataclass(frozen=True, slots=True)
class _Mark:
    """One queued job mark: built into a :class:`Change` in the writer thread."""

    move: MoveName
    action: str
    job_id: str
    build: Callable[[], Change]
    waiter: asyncio.Future[None] | None = None


@dataclass(frozen=True, slots=True)
class _Flush:
    """Resolved once every mark queued before it is committed."""

    waiter: asyncio.Future[None]


_STOP = object()


class LedgerWriter:
    """Batches a grant phase's job marks into few commits, in a thread of its own."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        on_error: Callable[[RunnerError], None] | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._ledger = ledger
        self._on_error = on_error
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._opened = threading.Event()
        self._open_error: BaseException | None = None
        self._raised = False
        self.error: RunnerError | None = None
        #: Transactions committed and marks they held (for the bench and tests).
        self.commits = 0
        self.marks = 0

    # --- life ---------------------------------------------------------------------------

    def start(self) -> LedgerWriter:
        """Start the thread (from the event loop that will await the marks)."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()
        self._opened.wait()
        if self._open_error is not None:
            self._thread.join()
            raise self._open_error
        return self

    def close(self) -> None:
        """Commit everything queued, stop the thread and raise the writer's error, if any
        and not raised to a caller already. Blocks: it also runs when the task is
        cancelled, and whatever is queued must be on disk before the phase ends."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self.error is not None and not self._raised:
            self._raised = True
            raise self.error

    def __enter__(self) -> LedgerWriter:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if ev is not None:  # the run's own error goes first; ours is in self.error
            self._raised = True
        self.close()

    # --- marks (event loop thread) ------------------------------------------------------

    async def sending(self, job_id: str, msg_id: str) -> None:
        """planned → sending; returns once the transaction holding it has committed."""
        if self.error is not None:
            self._raised = True
            raise self.error
        assert self._loop is not None, "start the writer first"
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._queue.put(
            _Mark("mark_sending", "mark_sending", job_id, lambda: sending(job_id, msg_id), waiter)
        )
        await waiter

    def done(self, job_id: str) -> None:
        """sending → done (queued)."""
        self._put("mark_succeeded", "mark_done", job_id, lambda: done_change(job_id, None, None))

    def failed(self, job_id: str, *, return_code: str | None, return_msg: str | None) -> None:
        """sending → failed: the server refused (queued)."""
        self._put(
            "mark_failed",
            "mark_failed",
            job_id,
            lambda: failed(job_id, return_code, return_msg, None, refused=True),
        )

    def unknown_refused(
        self, job_id: str, *, return_code: str | None, return_msg: str | None
    ) -> None:
        """sending → unknown after a refusal that may mean an earlier grant counts (queued)."""
        self._put(
            "mark_unknown",
            "mark_unknown_refused",
            job_id,
            lambda: failed(job_id, return_code, return_msg, None, refused=True),
        )

    def unknown(self, job_id: str, *, error: str) -> None:
        """sending → unknown: the request may have been applied (queued)."""
        self._put("mark_unknown", "mark_unknown", job_id, lambda: errored(job_id, error))

    def not_sent(self, job_id: str, *, error: str) -> None:
        """sending → planned: the request certainly did not leave (queued)."""
        self._put("mark_not_sent", "mark_not_sent", job_id, lambda: errored(job_id, error))

    async def flush(self) -> None:
        """Return once every mark queued so far is committed."""
        assert self._loop is not None, "start the writer first"
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._queue.put(_Flush(waiter))
        await waiter

    def _put(self, move: MoveName, action: str, job_id: str, build: Callable[[], Change]) -> None:
        self._queue.put(_Mark(move, action, job_id, build))

    # --- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            handle = self._ledger.writer_handle()
        except BaseException as exc:  # handed to start(), which raises it
            self._open_error = exc
            self._opened.set()
            return
        self._opened.set()
        try:
            while True:
                batch, stop = self._take()
                self._commit(handle, batch)
                if stop:
                    return
        finally:
            handle.close()

    def _take(self) -> tuple[list[object], bool]:
        """The next batch: one blocking get, then whatever else is queued."""
        batch = [self._queue.get()]
        while len(batch) < self._max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        stop = batch[-1] is _STOP or _STOP in batch
        if stop:  # nothing is queued after _STOP: close() puts it last
            batch = [item for item in batch if item is not _STOP]
        return batch, stop

    def _commit(self, handle: Ledger, batch: Sequence[object]) -> None:
        """Commit the batch's marks (a refusal stops the ones after it: their ``sending``
        marks fail, their outcomes go into another transaction), then wake the waiters."""
        results: list[tuple[asyncio.Future[None], RunnerError | None]] = []
        pending = [item for item in batch if isinstance(item, _Mark)]
        while pending:
            if self.error is not None:  # no new sending after an error: fail them unwritten
                results += [(m.waiter, self.error) for m in pending if m.waiter is not None]
                pending = [m for m in pending if m.waiter is None]
                if not pending:
                    break
            try:
                applied, refused = handle.apply_job_moves(
                    [(m.move, m.action, m.build()) for m in pending]
                )
            except RunnerError as err:
                self._fail(err)
                results += [(m.waiter, err) for m in pending if m.waiter is not None]
                break
            except Exception as exc:  # a bug: it stops the run as a RunnerError would
                bug = self._fail_unexpected(exc)
                results += [(m.waiter, bug) for m in pending if m.waiter is not None]
                break
            self.commits += 1
            self.marks += applied
            results += [(m.waiter, None) for m in pending[:applied] if m.waiter is not None]
            if refused is None:
                break
            self._fail(refused)
            bad = pending[applied]
            if bad.waiter is not None:
                results.append((bad.waiter, refused))
            pending = pending[applied + 1 :]
        results += [(item.waiter, None) for item in batch if isinstance(item, _Flush)]
        self._resolve(results)

    def _fail(self, err: RunnerError) -> None:
        if self.error is not None:
            if err is not self.error:
                log.error("ledger write failed after an earlier failure", error=err.message)
            return
        self.error = err
        if self._on_error is not None:
            self._call_soon(self._on_error, err)

    def _fail_unexpected(self, exc: Exception) -> RunnerError:
        log.exception("the ledger writer failed")
        err = RunnerError(f"the ledger writer failed: {type(exc).__name__}: {exc}")
        err.__cause__ = exc
        self._fail(err)
        return self.error or err

    def _resolve(self, results: Sequence[tuple[asyncio.Future[None], RunnerError | None]]) -> None:
        if results:
            self._call_soon(_settle, results)

    def _call_soon(self, callback: Callable[..., object], *args: object) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self._loop.call_soon_threadsafe(callback, *args)


def _settle(results: Sequence[tuple[asyncio.Future[None], RunnerError | None]]) -> None:
    """On the loop thread: wake each waiter with its outcome (one call per batch)."""
    for waiter, err in results:
        if waiter.done():  # its worker was cancelled
            continue
        if err is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(err)
