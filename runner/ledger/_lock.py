"""One runner per campaign: an advisory ``flock`` on ``<state_dir>/<campaign>/lock``.

The kernel drops the lock when its process dies (even by SIGKILL), so a stale lock
cannot exist and nothing ever needs cleaning up. The file's content only explains
who holds the lock (pid, host, start time, command) for the error message.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from datetime import datetime
from pathlib import Path
from types import TracebackType

from runner.clock import BEIJING
from runner.errors import Location, LockHeld

__all__ = ["CampaignLock"]

LOCK_FILE = "lock"


class CampaignLock:
    """An exclusive, non-blocking lock on one campaign's state directory.

    ``with CampaignLock(state_dir / campaign, command="run"):`` raises
    :class:`~runner.errors.LockHeld` at once when another process holds it. Two
    ``CampaignLock`` objects of one process exclude each other too.
    """

    def __init__(self, directory: Path, *, command: str = "runner") -> None:
        self.directory = directory
        self.path = directory / LOCK_FILE
        self.command = command
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"CampaignLock({str(self.directory)!r}, held={self.held})"

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`~runner.errors.LockHeld` naming its holder."""
        if self._fd is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self._held_error() from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._write_owner(fd)

    def release(self) -> None:
        """Give the lock back (a no-op when not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

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

    def _write_owner(self, fd: int) -> None:
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(BEIJING).isoformat(timespec="seconds"),
            "command": self.command,
        }
        data = json.dumps(owner, ensure_ascii=False).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)

    def _held_error(self) -> LockHeld:
        owner = _read_owner(self.path)
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
