"""What a drop is made of, whether it has stopped changing, and what identifies it.

- Files that are not part of a drop: hidden files (``.*``), Excel and LibreOffice lock
  files (``~$*``, ``.~lock.*#``), partial copies (``*.tmp``, ``*.part``, ``*.crdownload``)
  and the files the runner writes into a drop (:data:`RUNNER_FILES`).
- A drop is *settled* when none of its files changed for ``settle_s`` seconds (size and
  modification time, read twice around the hash): a file still being copied is never
  read.
- Its *content hash* is SHA-256 over every file's relative path and bytes, so the same
  files dropped twice have the same hash and an edited drop has a new one.
"""

from __future__ import annotations

import fnmatch
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "APPROVED_FILE",
    "RETRY_FILE",
    "RUNNER_FILES",
    "DropFiles",
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
    def newest_mtime(self) -> float:
        """When the most recently changed file changed (epoch seconds); 0 with no files."""
        return max((ns / 1e9 for _, ns in self.stamps), default=0.0)

    def settled(self, settle_s: float, now: float | None = None) -> bool:
        """True when there are files and none changed in the last *settle_s* seconds."""
        now = time.time() if now is None else now
        return bool(self.files) and now - self.newest_mtime >= settle_s


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
