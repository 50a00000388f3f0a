"""Which files a campaign may read: its audience spreadsheets, inside the campaign's folder.

The rule: an audience ``file`` must resolve to a file inside the campaign's folder -- the
folder of the campaign file, subfolders included -- after following every symlink.
``../../outside.csv``, an absolute path elsewhere and a symlink that points out of the
folder are refused before anything is opened. A campaign file is often handed over
(dropped into the inbox, copied from a colleague); confining it to its own folder means
it can only read what was handed over with it, never ``/etc`` or another campaign's
customers, and that a folder copied elsewhere still reads the same files.

The rule is about where the file *is*, not how it is written: an absolute path that lands
inside the folder is fine (tests and scripts write them), a relative one that climbs out
is not.

Spreadsheets shared by several campaigns (the repository keeps its examples in
``campaigns/`` and their spreadsheets in ``samples/``) are reached by widening the folder
on purpose: the top-level key ``audience_root`` names the folder, relative to the
campaign file (``audience_root: ..``), that every audience file must then be inside.
It is visible in the file a person approves.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from runner.campaign import AudienceSpec, Campaign
from runner.errors import Location, Problem

__all__ = ["audience_file_problems", "locate_file_problems"]


def audience_file_problems(campaign: Campaign, name: str, spec: AudienceSpec) -> list[Problem]:
    """A problem when the audience's file resolves outside the folder it must be in."""
    root = campaign.audience_folder
    path = spec.path  # resolved: every symlink followed, '..' collapsed
    if path.is_relative_to(root):
        return []
    key = f"audiences.{name}.file"
    at = campaign.location(key)
    written = Path(spec.file)
    resolves = "" if _same(campaign.base_dir / written, path) else f" (it resolves to {path})"
    folder = "the campaign file's folder" if campaign.audience_root is None else "audience_root"
    message = (
        f"the audience file {spec.file!r} is outside the campaign's folder {root}{resolves}: "
        f"an audience file must be inside {folder} (subfolders are fine)"
    )
    hint = (
        "Move the spreadsheet into the campaign's folder and give its path relative to the "
        "campaign file (e.g. file: customers.xlsx). For a shared folder you trust, set "
        "`audience_root` at the top of the campaign file (e.g. audience_root: ..)."
    )
    return [Problem(message, Location(file=at.file, yaml_path=key, line=at.line), hint)]


def locate_file_problems(
    problems: list[Problem], campaign: Campaign, name: str, spec: AudienceSpec
) -> list[Problem]:
    """The problems, those about the file as a whole (missing, not a file, encrypted...)
    also located at the campaign key that names it, with its line."""
    key = f"audiences.{name}.file"
    line = campaign.line_of(key)
    whole = Location(file=str(spec.path))
    return [
        replace(p, where=replace(p.where, yaml_path=key, line=line)) if p.where == whole else p
        for p in problems
    ]


def _same(written: Path, resolved: Path) -> bool:
    """True when the written path names the resolved file without a symlink between."""
    return Path(_normalised(written)) == resolved


def _normalised(path: Path) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if len(parts) > 1:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return str(Path(*parts)) if parts else str(path)
