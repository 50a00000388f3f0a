"""Which failures of a ledger write mean "the state directory cannot be written".

A full disk, a read-only file system, a file size limit or a disk that fails a write
surface as an ``OSError`` (``ENOSPC``, ``EROFS``, ``EFBIG``, ...) from our own file
calls, or as an ``sqlite3.Error`` from SQLite ("database or disk is full", "attempt to
write a readonly database", "disk I/O error", "unable to open database file").
:func:`state_dir_error` turns any of them into one :class:`~runner.errors.StateDirUnusable`
(exit 4) naming the folder and saying what to do; every other error is left to its caller.

It is the one place that decides this: :meth:`Ledger._write` and :meth:`Ledger._connect`
call it, and so can any other code writing the ledger (the group-commit writer).
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from runner.errors import Location, StateDirUnusable

__all__ = ["state_dir_error"]

_FULL = "the disk is full"
_TOO_LARGE = "a file size limit was reached (it acts as a full disk)"
_READ_ONLY = "the file system or the file is read-only"
_IO = "the disk reported an I/O error while writing (full, over a size limit, or failing)"
_CANT_OPEN = "the ledger file cannot be opened for writing"
_DENIED = "permission denied"

_OS_REASONS = {
    errno.ENOSPC: _FULL,
    errno.EDQUOT: _FULL,
    errno.EFBIG: _TOO_LARGE,
    errno.EROFS: _READ_ONLY,
    errno.EIO: _IO,
    errno.EACCES: _DENIED,
    errno.EPERM: _DENIED,
}

# SQLite's primary result codes (the low byte of an extended code).
_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN = 8, 10, 13, 14
# Extended codes of SQLITE_IOERR that mean reading failed: a damaged file, not a full disk.
_SQLITE_IOERR_READS = {266, 522}  # SQLITE_IOERR_READ, SQLITE_IOERR_SHORT_READ
_SQLITE_REASONS = {
    _SQLITE_FULL: _FULL,
    _SQLITE_READONLY: _READ_ONLY,
    _SQLITE_IOERR: _IO,
    _SQLITE_CANTOPEN: _CANT_OPEN,
}
# The same, by SQLite's message, for an error that carries no code.
_SQLITE_MESSAGES = {
    "database or disk is full": _FULL,
    "attempt to write a readonly database": _READ_ONLY,
    "disk i/o error": _IO,
    "unable to open database file": _CANT_OPEN,
}


def _sqlite_reason(exc: sqlite3.Error) -> str | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        if code in _SQLITE_IOERR_READS:
            return None
        return _SQLITE_REASONS.get(code & 0xFF)
    text = str(exc).lower()
    return next((reason for words, reason in _SQLITE_MESSAGES.items() if words in text), None)


def _reason(exc: BaseException) -> str | None:
    """Why *exc* (or an error it was raised ``from``) says the folder cannot be written."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            reason = _sqlite_reason(current)
        elif isinstance(current, OSError):
            reason = _OS_REASONS.get(current.errno or 0)
        else:
            reason = None
        if reason is not None:
            return reason
        current = current.__cause__
    return None


def state_dir_error(exc: BaseException, path: Path | str) -> StateDirUnusable | None:
    """The :class:`StateDirUnusable` for *exc*, raised writing the ledger at *path*, when it
    says the state directory cannot be written (full disk, read-only file system, file size
    limit, I/O error, no permission); None for any other error (a bug, a damaged file).

    The message names the campaign's folder in the state directory; raise the result
    ``from exc``.
    """
    reason = _reason(exc)
    if reason is None:
        return None
    ledger = Path(path)
    folder = ledger.parent
    return StateDirUnusable(
        f"cannot write the ledger in the state directory {folder}: {reason}",
        where=Location(file=str(ledger)),
        hint=(
            f"Free space on the disk that holds {folder} (or make it writable), or pass "
            "another --state-dir with the whole folder moved there; then rerun. No request is "
            "sent before the ledger records it, so the rerun resumes where this one stopped "
            "and settles any request whose answer could not be written down."
        ),
    )
