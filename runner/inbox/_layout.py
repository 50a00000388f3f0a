"""The inbox's folders: one per stage of a drop's life, plus the state the runner keeps.

::

    INBOX/
      <drop>/                 a new drop: a folder with one campaign YAML and its sheets,
      <name>.yaml             or a lone YAML (wrapped into <name>/ with the sheets it names)
      awaiting-approval/<drop>/   checked; preview.md and plan.xlsx inside; APPROVED runs it
      rejected/<drop>/        invalid: every problem in STATUS.md and status.json
      running/<drop>/         approved; being run (a restarted watcher resumes it)
      done/<drop>/            every grant confirmed; results.xlsx inside
      failed/<drop>/          some grants failed for good; failures.csv inside; RETRY runs again
      needs-review/<drop>/    a person decides (runner review); RETRY runs again
      templates/              audience templates to copy (runner init's)
      .state/                 the ledgers (one per campaign id) and the watcher's lock

The folder a drop sits in is the truth about its stage; ``status.json`` inside it says
more (hashes, approval, counts, history) and is written before every move.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, get_args

from runner.summaries import DropStage

__all__ = ["STAGE_FOLDERS", "STATE_FOLDER", "TEMPLATES_FOLDER", "Inbox"]

#: The stages that have a folder of their own (``incoming`` is the inbox itself).
STAGE_FOLDERS: Final = tuple(s for s in get_args(DropStage) if s != "incoming")
STATE_FOLDER: Final = ".state"
TEMPLATES_FOLDER: Final = "templates"


@dataclass(frozen=True)
class Inbox:
    """An inbox folder and the state directory its ledgers live in."""

    root: Path
    state_dir: Path

    @classmethod
    def at(cls, root: Path, state_dir: Path | None = None) -> Inbox:
        """The inbox at *root*, its ledgers in *state_dir* (default ``root/.state``)."""
        root = root.resolve()
        return cls(root, (state_dir or root / STATE_FOLDER).resolve())

    def folder(self, stage: DropStage) -> Path:
        """Where drops of *stage* sit."""
        return self.root if stage == "incoming" else self.root / stage

    @property
    def reserved(self) -> frozenset[str]:
        """Names in the inbox's top level that are not drops."""
        names = {*STAGE_FOLDERS, TEMPLATES_FOLDER, STATE_FOLDER}
        if self.state_dir.parent == self.root:
            names.add(self.state_dir.name)
        return frozenset(names)

    def ensure(self) -> None:
        """Create the stage folders and the state directory (nothing else is touched)."""
        for stage in STAGE_FOLDERS:
            self.folder(stage).mkdir(parents=True, exist_ok=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
