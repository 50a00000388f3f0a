"""``load_campaign``: read, interpolate, validate, and report every problem at once.

Reading stops with a :class:`~runner.errors.SpecError` only when the file cannot be read
as YAML at all (missing, not UTF-8, bad syntax, not a mapping). Everything else, from
duplicate keys and unset variables to every field and cross-reference rule, is collected
and raised as one :class:`~runner.errors.InvalidInput`, each problem with the file, the
key path and the 1-based line.

The appkey's value may appear nowhere but ``api.appkey`` (see
:func:`~runner.campaign._env.appkey_leaks`): a campaign holding it elsewhere is refused here,
before any later step (audiences, plan files, API calls, the ledger) sees it, and no
problem text shows it. Loading registers no secret anywhere.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner.campaign._env import (
    appkey_leaks,
    appkey_values,
    fill_api_gaps,
    interpolate,
    unset_credentials,
)
from runner.campaign._issue import Issue, line_of
from runner.campaign._messages import to_issue
from runner.campaign._model import Campaign, beijing_today
from runner.campaign._yaml import parse_yaml
from runner.errors import InvalidInput, Location, Problem, SpecError
from runner.redaction import Redactor

__all__ = ["load_campaign"]


def load_campaign(
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    today: date | None = None,
    past_end_ok: bool = False,
) -> Campaign:
    """Load and validate a campaign file.

    ``env`` replaces ``os.environ`` for ``${VAR}`` references and WAIQIN_* defaults;
    ``today`` replaces today's date in Beijing for the "end date in the past" rule, which
    ``past_end_ok`` turns off for commands that only look at what happened (``status``,
    ``verify``, ``review``): a campaign that ended can still be inspected.
    """
    path = Path(path)
    file = str(path)
    document = parse_yaml(_read(path), file=file)
    variables = os.environ if env is None else env
    data, env_issues = interpolate(document.data, variables)
    data = fill_api_gaps(data, variables)
    leaks = appkey_leaks(document.data, data, variables)
    leaked = {i.yaml_path for i in leaks}
    early = [*leaks, *(i for i in env_issues if i.yaml_path not in leaked)]
    found: list[Issue] = []
    context: dict[str, Any] = {
        "today": today or beijing_today(),
        "past_end_ok": past_end_ok,
        "issues": found,
    }
    campaign: Campaign | None = None
    try:
        campaign = Campaign.model_validate(data, context=context)
    except ValidationError as exc:
        repeated = {issue.yaml_path for issue in document.issues}
        for error in exc.errors(include_url=False):
            issue = to_issue(error, data, Campaign)
            if not (error["type"] == "missing" and _inside_any(issue.yaml_path, repeated)):
                found.append(issue)
    issues = [*document.issues, *_merge(early, found)]
    if issues or campaign is None:
        # no message shows the appkey, even one that quotes a value built from it
        redactor = Redactor(appkey_values(data, variables))
        problems = [_problem(i, file, document.lines, redactor) for i in issues]
        raise InvalidInput(sorted(problems, key=lambda p: p.where.line or 0), source=file)
    campaign.attach_source(path, document.lines, unset_credentials(document.data, variables))
    return campaign


def _read(path: Path) -> str:
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except OSError:
        regular = True  # reading says why, below
    if not regular:  # a named pipe would block the read forever
        raise SpecError(
            "cannot read the campaign file: it is a folder, a named pipe or a device, not a file",
            where=Location(file=str(path)),
            hint="Give the path of the campaign's .yaml file saved on disk.",
        )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(
            "campaign file not found",
            where=Location(file=str(path)),
            hint="Check the path; it is relative to the current directory.",
        ) from None
    except OSError as exc:
        raise SpecError(
            f"cannot read the campaign file: {exc.strerror}",
            where=Location(file=str(path)),
            hint="Check that it is a readable file, not a directory.",
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            "the campaign file is not UTF-8 text",
            where=Location(file=str(path), line=line),
            hint="Save it as UTF-8 (in Notepad: Save As → Encoding UTF-8).",
        ) from None


def _merge(early: list[Issue], found: list[Issue]) -> list[Issue]:
    """Both lists, without model issues at a path that an interpolation issue explains."""
    explained = {i.yaml_path for i in early}
    kept = [i for i in found if not any(_within(i.yaml_path, p) for p in explained)]
    unique: dict[tuple[str, str], Issue] = {}
    for issue in [*early, *kept]:
        unique.setdefault((issue.yaml_path, issue.message), issue)
    return list(unique.values())


def _inside_any(path: str, repeated: set[str]) -> bool:
    """True for a key under a key that appears twice: of the two copies, the one read may
    lack keys the other has, and "required key missing" would only mislead (the duplicate
    key is reported, and keeping one copy is the fix)."""
    return any(path != parent and _within(path, parent) for parent in repeated)


def _within(path: str, parent: str) -> bool:
    return path == parent or path.startswith((parent + ".", parent + "["))


def _problem(issue: Issue, file: str, lines: Mapping[str, int], redactor: Redactor) -> Problem:
    line = issue.line if issue.line is not None else line_of(lines, issue.yaml_path)
    where = Location(file=file, yaml_path=issue.yaml_path or None, line=line)
    hint = None if issue.hint is None else redactor.text(issue.hint)
    return Problem(redactor.text(issue.message), where, hint)
