"""One drop and the moves of its life, one small function per move.

Every move writes the drop's ``status.json`` and ``STATUS.md`` first, then renames the
folder into the next stage's folder (one rename: atomic on one filesystem). A watcher
killed between the two leaves the folder where it was, with a status ahead of it; the
next pass does that stage's work again, which is safe: validating writes only the
preview, and running goes through the ledger, which never sends anything twice.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import structlog

from runner.clock import beijing_stamp
from runner.inbox._layout import Inbox
from runner.inbox._status import read_status, write_status
from runner.summaries import DropStage, DropStatus, StageMove

__all__ = ["Drop", "fresh_status", "move", "update"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Drop:
    """A drop folder, the stage its location says, and its recorded status."""

    folder: Path
    stage: DropStage
    status: DropStatus

    @property
    def name(self) -> str:
        """The drop folder's name."""
        return self.folder.name

    @classmethod
    def load(cls, folder: Path, stage: DropStage, approval: str = "manual") -> Drop:
        """The drop in *folder*, with its status.json (a new one when it has none)."""
        status = read_status(folder) or fresh_status(folder.name, stage, approval)
        if status.stage != stage:  # moved by hand, or the watcher stopped mid-move
            log.info("drop found in another stage", drop=folder.name, recorded=status.stage)
            status = status.model_copy(update={"stage": stage})
        return cls(folder, stage, status)


def fresh_status(name: str, stage: DropStage, approval: str = "manual") -> DropStatus:
    """The status of a drop the runner has not looked at yet."""
    now = beijing_stamp()
    return DropStatus(
        drop=name,
        stage=stage,
        campaign=None,
        campaign_file=None,
        content_hash=None,
        plan_hash=None,
        approval="auto" if approval == "auto" else "manual",
        approved_by=None,
        approved_at=None,
        retry_failed=False,
        exit_code=None,
        jobs={},
        problems=[],
        message="Received; checking it once its files stop changing.",
        message_zh="已收到;文件停止变化后开始检查。",
        files=[],
        history=[StageMove(stage=stage, at=now)],
        updated_at=now,
    )


def update(drop: Drop, **changes: object) -> Drop:
    """Record *changes* in the drop's status (written now), without moving it."""
    status = drop.status.model_copy(update={**changes, "updated_at": beijing_stamp()})
    write_status(drop.folder, status)
    return Drop(drop.folder, drop.stage, status)


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/name-2``, ``-3``... when that is taken."""
    target, n = folder / name, 1
    while target.exists():
        n += 1
        target = folder / f"{name}-{n}"
    return target


def move(
    inbox: Inbox, drop: Drop, stage: DropStage, note: str | None = None, **changes: object
) -> Drop:
    """Write the status for *stage* into the drop, then rename it into *stage*'s folder
    (a drop already there stays; a name taken there gets a ``-2`` suffix)."""
    now = beijing_stamp()
    history = [*drop.status.history, StageMove(stage=stage, at=now, note=note)]
    stays = drop.folder.parent.resolve() == inbox.folder(stage).resolve()
    target = drop.folder if stays else _free_name(inbox.folder(stage), drop.name)
    changes = {**changes, "stage": stage, "history": history, "drop": target.name}
    status = drop.status.model_copy(update={**changes, "updated_at": now})
    write_status(drop.folder, status)
    if not stays:
        shutil.move(drop.folder, target)
    log.info("drop moved", drop=target.name, stage=stage, note=note)
    return Drop(target, stage, status)
