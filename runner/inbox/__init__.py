"""The drop folder: campaign managers drop files, approve by file, and read what comes back.

``runner watch INBOX`` turns each drop (a folder with one campaign YAML and its
sheets) into a checked preview, waits for an ``APPROVED`` file bound to that preview,
runs it through the same ledger as ``runner run`` and leaves the results in the drop's
folder, which moves through the stage folders (see :mod:`runner.inbox._layout`).
``runner approve DROP`` approves from a terminal.
"""

from __future__ import annotations

from runner.inbox._approval import Approval, approve, read_approval
from runner.inbox._layout import STAGE_FOLDERS, Inbox
from runner.inbox._process import PassReport, Processor, WatchOptions
from runner.inbox._scan import content_hash, drop_files, is_ignored
from runner.inbox._status import read_status
from runner.inbox._watch import WatchLoop, watch

__all__ = [
    "STAGE_FOLDERS",
    "Approval",
    "Inbox",
    "PassReport",
    "Processor",
    "WatchLoop",
    "WatchOptions",
    "approve",
    "content_hash",
    "drop_files",
    "is_ignored",
    "read_approval",
    "read_status",
    "watch",
]
