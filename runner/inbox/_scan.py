"""What a drop is made of, whether it has stopped changing, and what identifies it.

- Files that are not part of a drop: hidden files (``.*``), Excel and LibreOffice lock
  files (``~$*``, ``.~lock.*#``), partial copies (``*.tmp``, ``*.part``, ``*.crdownload``)
  and the files the runner writes into a drop (:data:`RUNNER_FILES`).
- A drop is *settled* when its files (names, sizes, modification times) looked the same
  to us for ``settle_s`` seconds of our own clock (:class:`SettleWatch`; the file server's
  clock is never compared with ours), and again right after the hash was read: a file
  still being copied is never read.
- Its *content hash* is SHA-256 over every file's relative path and bytes, so the same
  files dropped twice have the same hash and an edited drop has a new one.
"""

from __future__ import annotations

import fnmatch
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "APPROVED_FILE",
    "RETRY_FILE",
    "RUNNER_FILES",
    "DropFiles",
    "SettleWatch",
    "campaign_files",
    "content_hash",
    "drop_files",
    "is_ignored",
]

APPROVED_FILE: Final = "APPROVED"
RETRY_FILE: Final = "RETRY"
#: Files the runner writes into a drop folder; never part of its content.
RUNNER_FILES: Final = frozenset(
    {
        "STATUS.md",
        "status.json",
        "preview.md",
        "plan.xlsx",
        "results.csv",
        "results.xlsx",
        "failures.csv",
        "unprocessed.csv",
        APPROVED_FILE,
        RETRY_FILE,
    }
)
_IGNORED: Final = ("~$*", ".~lock.*#", "*.tmp", "*.part", "*.crdownload", "*.partial")
_CAMPAIGN_SUFFIXES: Final = (".yaml", ".yml")
_CHUNK: Final = 1 << 20


def is_ignored(name: str) -> bool:
    """True for hidden, lock and partial-copy files (never part of a drop)."""
    return name.startswith(".") or any(fnmatch.fnmatch(name, p) for p in _IGNORED)


@dataclass(frozen=True)
class DropFiles:
    """A drop's files (relative paths, sorted) and their size and mtime when listed."""

    root: Path
    files: tuple[Path, ...]
    stamps: tuple[tuple[int, int], ...]

    @property
    def fingerprint(self) -> tuple[object, ...]:
        """What must stay the same for the drop to count as unchanged: names, sizes, mtimes."""
        return (*self.files, *self.stamps)


class SettleWatch:
    """Whether things stopped changing, judged by *our own* observations over time.

    A file's modification time is not compared with our clock: on a network share it is
    the file server's clock, which may be minutes or years off. Instead a thing counts as
    settled once the same fingerprint (names, sizes, mtimes) was seen ``settle_s`` apart
    on the monotonic clock; anything seen changing, or seen for the first time, is pending.
    """

    def __init__(self, settle_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.settle_s = settle_s
        self._clock = clock
        self._seen: dict[Path, tuple[tuple[object, ...], float]] = {}
        self.pending = False  # something was seen that has not settled yet

    def moved(self, old: Path, new: Path) -> None:
        """A folder was renamed by us: what was seen of it stays seen under its new name."""
        if old in self._seen:
            self._seen[new] = self._seen.pop(old)

    def settled(self, key: Path, fingerprint: tuple[object, ...]) -> bool:
        """Record this look at *key*; True once it looked the same for ``settle_s``."""
        now = self._clock()
        before = self._seen.get(key)
        if before is None or before[0] != fingerprint:
            self._seen[key] = (fingerprint, now)
            if self.settle_s > 0:
                self.pending = True
                return False
            return True
        if now - before[1] >= self.settle_s:
            return True
        self.pending = True
        return False


def drop_files(folder: Path) -> DropFiles:
    """The files of the drop in *folder*, any depth, skipping what :func:`is_ignored` and
    the runner's own files; a file that vanishes while listed is left out."""
    found: list[tuple[Path, tuple[int, int]]] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(is_ignored(part) for part in relative.parts):
            continue
        if len(relative.parts) == 1 and relative.name in RUNNER_FILES:
            continue
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.is_file():
            found.append((relative, (stat.st_size, stat.st_mtime_ns)))
    return DropFiles(folder, tuple(p for p, _ in found), tuple(s for _, s in found))


def content_hash(drop: DropFiles) -> str:
    """SHA-256 over each file's relative path (POSIX form) and bytes, in sorted order."""
    digest = hashlib.sha256()
    for relative in drop.files:
        digest.update(relative.as_posix().encode("utf-8") + b"\0")
        with (drop.root / relative).open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def campaign_files(drop: DropFiles) -> list[Path]:
    """The campaign YAML files at the top level of a drop."""
    return [p for p in drop.files if len(p.parts) == 1 and p.suffix.lower() in _CAMPAIGN_SUFFIXES]
