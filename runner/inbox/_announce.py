"""Telling people that a drop reached a stage they act on: its webhooks, and the watcher's.

The targets are the campaign file's own ``notify:`` (when the file can be read) and the
watcher's ``--notify`` URLs. A notice says the stage, the campaign, the counts and the
files to open; sending it never fails a drop (:func:`runner.notify.send_notice` logs
and gives up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.campaign import NOTIFY_EVENTS, Campaign, NotifyTarget, load_campaign
from runner.errors import RunnerError
from runner.notify import Notice, send_notice
from runner.ops import credentials_for
from runner.redaction import Redactor

if TYPE_CHECKING:
    from runner.inbox._drop import Drop
    from runner.inbox._process import WatchOptions

__all__ = ["announce"]


def _campaign(drop: Drop, options: WatchOptions) -> Campaign | None:
    name = drop.status.campaign_file
    if name is None:
        return None
    try:
        return load_campaign(drop.folder / name, env=options.env, past_end_ok=True)
    except RunnerError:
        return None


def _redactor(campaign: Campaign | None, options: WatchOptions) -> Redactor | None:
    if campaign is None:
        return None
    try:
        return credentials_for(campaign, options.env).redactor
    except RunnerError:
        return None


def announce(drop: Drop, options: WatchOptions) -> None:
    """Send the drop's notice to every target that wants its stage."""
    if drop.stage not in NOTIFY_EVENTS:
        return
    campaign = _campaign(drop, options)
    targets: list[NotifyTarget] = [*options.notify, *(campaign.notify if campaign else [])]
    if not targets:
        return
    status = drop.status
    notice = Notice(
        event=drop.stage,
        campaign=status.campaign,
        drop=drop.name,
        stage=drop.stage,
        message=f"{status.campaign or drop.name}: {status.message}",
        counts=dict(status.jobs),
        files=[str(drop.folder / name) for name in ["STATUS.md", *status.files]],
        plan_hash=status.plan_hash,
    )
    send_notice(
        notice, targets, redactor=_redactor(campaign, options), transport=options.notify_transport
    )
