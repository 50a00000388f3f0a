"""Approving a drop: an ``APPROVED`` file in its folder, bound to the previewed plan.

A person approves by creating an empty file named ``APPROVED`` (who created it is the
file's owner), or with ``runner approve DROP``, which writes the plan hash the person
saw and their name into it. The watcher runs a drop only when its files are the ones it
previewed (same content hash) and, when the file names a plan hash, only that plan: an
approval never carries over to a drop edited after its preview.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from runner.clock import BEIJING, beijing_stamp
from runner.errors import UsageError
from runner.inbox._scan import APPROVED_FILE
from runner.inbox._status import read_status
from runner.outputs.files import write_atomically

__all__ = ["Approval", "approve", "read_approval"]

_HASH: Final = re.compile(r"\b[0-9a-f]{64}\b")
_BY: Final = re.compile(r"^by:\s*(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Approval:
    """Who approved, for which plan (None: whatever was previewed), and when."""

    by: str
    plan_hash: str | None
    at: str = ""

    def __post_init__(self) -> None:
        if not self.at:
            object.__setattr__(self, "at", beijing_stamp())


def _owner(path: Path) -> str:
    try:
        import pwd  # POSIX only; on Windows the file's owner is not read

        return pwd.getpwuid(path.stat().st_uid).pw_name
    except (ImportError, KeyError, OSError):
        return "someone"


def read_approval(folder: Path) -> Approval | None:
    """The drop's approval, or None when it has no ``APPROVED`` file."""
    path = folder / APPROVED_FILE
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        stamp = datetime.fromtimestamp(path.stat().st_mtime, BEIJING)
    except OSError:
        return None
    found, by = _HASH.search(text), _BY.search(text)
    who = by.group(1).strip() if by else f"{_owner(path)} (APPROVED file)"
    return Approval(who, found.group(0) if found else None, stamp.isoformat("T", "seconds"))


def approve(folder: Path, *, by: str | None = None) -> Approval:
    """``runner approve DROP``: approve the plan previewed in a drop awaiting approval."""
    status = read_status(folder)
    if status is None or status.stage != "awaiting-approval" or status.plan_hash is None:
        stage = status.stage if status is not None else "not a drop the watcher checked"
        raise UsageError(
            f"{folder} is not awaiting approval ({stage})",
            hint="Approve a folder under INBOX/awaiting-approval/ once its preview.md is there.",
        )
    who = by or getpass.getuser()
    text = f"plan: {status.plan_hash}\nby: {who}\n"
    write_atomically(folder / APPROVED_FILE, text.encode("utf-8"), what="the approval file")
    return Approval(who, status.plan_hash)
