"""One runner per campaign: an OS file lock on ``<state_dir>/<campaign>/lock``.

The lock is a native one taken through :mod:`filelock` (``flock`` on Linux and macOS,
``LockFileEx`` on Windows), never a marker file: the operating system drops it when its
process dies, even by SIGKILL, so a stale lock cannot exist and nothing ever needs
cleaning up. Who holds it (pid, host, start time, command) is written beside it, in
``lock.info``, only to explain a refusal; that file never decides anything.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from datetime import datetime
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from runner.clock import BEIJING
from runner.errors import Location, LockHeld

__all__ = ["CampaignLock"]

LOCK_FILE = "lock"
INFO_FILE = "lock.info"


class CampaignLock:
    """An exclusive, non-blocking lock on one campaign's state directory.

    ``with CampaignLock(state_dir / campaign, command="run"):`` raises
    :class:`~runner.errors.LockHeld` at once when another process holds it. Two
    ``CampaignLock`` objects of one process exclude each other too.
    """

    def __init__(self, directory: Path, *, command: str = "runner") -> None:
        self.directory = directory
        self.path = directory / LOCK_FILE
        self.info_path = directory / INFO_FILE
        self.command = command
        # Not thread-local: the object holds the lock, whichever thread releases it. Never
        # a soft (marker-file) lock either: one would outlive a killed process.
        self._lock = FileLock(self.path, blocking=False, thread_local=False, fallback_to_soft=False)
        self._held = False

    def __repr__(self) -> str:
        return f"CampaignLock({str(self.directory)!r}, held={self.held})"

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._held

    def acquire(self) -> None:
        """Take the lock or raise :class:`~runner.errors.LockHeld` naming its holder."""
        if self._held:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(blocking=False)
        except Timeout:
            raise self._held_error() from None
        self._held = True
        try:
            self._write_owner()
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Give the lock back (a no-op when not held)."""
        if not self._held:
            return
        self._held = False
        try:
            with contextlib.suppress(FileNotFoundError):
                self.info_path.unlink()
        finally:
            self._lock.release(force=True)

    def __enter__(self) -> CampaignLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def _write_owner(self) -> None:
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(BEIJING).isoformat(timespec="seconds"),
            "command": self.command,
        }
        # Written in place (a reader may see it half written: it then names no holder).
        self.info_path.write_text(json.dumps(owner, ensure_ascii=False), encoding="utf-8")

    def _held_error(self) -> LockHeld:
        owner = _read_owner(self.info_path)
        if owner:
            who = (
                f"pid {owner.get('pid', '?')} on {owner.get('host', '?')}, "
                f"running {owner.get('command', '?')!r} since {owner.get('started_at', '?')}"
            )
        else:
            who = "a process that has not said who it is yet"
        return LockHeld(
            f"another runner is working on campaign {self.directory.name!r}: {who}",
            where=Location(file=str(self.path)),
        )


def _read_owner(path: Path) -> dict[str, object]:
    with contextlib.suppress(OSError, ValueError):
        owner = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(owner, dict):
            return {str(k): v for k, v in owner.items()}
    return {}
