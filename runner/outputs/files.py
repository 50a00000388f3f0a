"""Writing what a person opens: every file replaced whole, never half-written.

A file is written into a temporary file next to it, synced, then renamed over the old
one: a reader (Excel, a scheduler, the drop folder) sees the old file or the new one,
never half of one, and a failed write leaves no temporary file behind. A folder that
cannot be made or a file that cannot be written (read-only, disk full, a file open in
Excel on Windows) is a :class:`~runner.errors.StateDirUnusable` naming the path (exit 4).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from runner.errors import StateDirUnusable

__all__ = ["make_directory", "write_atomically"]


def make_directory(directory: Path) -> None:
    """Create *directory* (and its parents); :class:`StateDirUnusable` when it cannot be."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateDirUnusable.from_os_error(
            exc, "the state directory", exc.filename or directory
        ) from exc


def write_atomically(path: Path, data: bytes, *, what: str = "the result file") -> None:
    """Replace *path* with *data* through a temporary file in the same folder.

    The temporary file is synced before it is renamed over *path*, and removed whatever
    goes wrong. An OSError becomes :class:`StateDirUnusable` naming *path* and *what*.
    """
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StateDirUnusable.from_os_error(exc, what, path) from exc
        raise
