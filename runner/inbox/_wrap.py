"""A lone campaign YAML dropped into the inbox becomes a drop folder with its sheets.

``INBOX/spring.yaml`` naming ``customers.xlsx`` (which sits in the inbox too) becomes
``INBOX/spring/`` holding both, once neither changed for the settle time. The files are
moved into a hidden folder first (``.wrap-spring``, ignored by every scan) that is then
renamed, so a watcher stopped half-way never shows half a drop; the next pass finishes
a hidden folder it finds.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

import structlog

from runner.campaign import parse_yaml
from runner.errors import RunnerError
from runner.inbox._layout import Inbox
from runner.inbox._scan import SettleWatch, is_ignored

__all__ = ["wrap_lone_campaigns"]

log = structlog.get_logger(__name__)

_PREFIX: Final = ".wrap-"
_SUFFIXES: Final = (".yaml", ".yml")


def _named_sheets(campaign: Path) -> list[Path]:
    """The audience files a campaign names that sit beside it (unreadable YAML: none)."""
    try:
        data = parse_yaml(campaign.read_text(encoding="utf-8"), file=campaign.name).data
    except (OSError, UnicodeDecodeError, RunnerError):
        return []
    audiences = data.get("audiences")
    if not isinstance(audiences, dict):
        return []
    found: list[Path] = []
    for spec in audiences.values():
        name = spec.get("file") if isinstance(spec, dict) else None
        if isinstance(name, str) and Path(name).name == name and not is_ignored(name):
            path = campaign.parent / name
            if path.is_file():
                found.append(path)
    return found


def _settled(paths: list[Path], settle: SettleWatch) -> bool:
    try:
        stamps = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in paths)
    except OSError:
        return False
    return settle.settled(paths[0], stamps)


def _free(root: Path, name: str) -> Path:
    target, n = root / name, 1
    while target.exists():
        n += 1
        target = root / f"{name}-{n}"
    return target


def _finish(hidden: Path) -> Path:
    target = _free(hidden.parent, hidden.name.removeprefix(_PREFIX))
    hidden.rename(target)
    log.info("lone campaign file wrapped into a drop", drop=target.name)
    return target


def wrap_lone_campaigns(inbox: Inbox, settle: SettleWatch) -> list[Path]:
    """Wrap each settled lone YAML in the inbox (and the sheets it names) into a folder."""
    made = [_finish(p) for p in sorted(inbox.root.glob(_PREFIX + "*")) if p.is_dir()]
    for campaign in sorted(inbox.root.iterdir()):
        if not campaign.is_file() or campaign.suffix.lower() not in _SUFFIXES:
            continue
        if is_ignored(campaign.name):
            continue
        files = [campaign, *_named_sheets(campaign)]
        if not _settled(files, settle):
            continue
        hidden = _free(inbox.root, _PREFIX + campaign.stem)
        hidden.mkdir()
        for path in files:
            shutil.move(path, hidden / path.name)
        made.append(_finish(hidden))
    return made
