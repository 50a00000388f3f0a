"""``runner watch``: passes over the inbox at start, on every change, and on a tick.

The first pass runs at start, so what was dropped while no watcher ran is not missed.
Then watchfiles reports changes (native events, or polling with ``--poll`` for network
shares where events do not arrive); a pass also runs every ``tick_s`` without any event,
because a drop that was still settling needs another look. Events inside the state
directory (every ledger commit) are filtered out. ``--once`` runs one pass, waits for
the runs it started and exits with the most urgent outcome (for cron).

One watcher per inbox: it holds a lock in the state directory for as long as it runs.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import structlog
import watchfiles

from runner.errors import ExitCode
from runner.inbox._layout import TEMPLATES_FOLDER, Inbox
from runner.inbox._process import Processor, WatchOptions
from runner.ledger import CampaignLock
from runner.outputs.templates import write_templates

__all__ = ["WatchLoop", "watch"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class WatchLoop:
    """How the watcher wakes up: polling instead of events, and the tick between passes."""

    poll: bool = False
    tick_s: float = 2.0


def _outside_state(inbox: Inbox) -> watchfiles.DefaultFilter:
    return watchfiles.DefaultFilter(ignore_paths=[str(inbox.state_dir)])


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM (systemd, docker) ends the loop like Ctrl-C: no new run starts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, _frame: object) -> None:
        log.warning("stopping the watcher: runs in flight stop and are recorded", signal=signum)
        stop.set()

    previous = signal.signal(signal.SIGTERM, request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def watch(
    inbox: Inbox, options: WatchOptions, *, once: bool, loop: WatchLoop | None = None
) -> ExitCode:
    """Process the inbox once (``once``) or until stopped; returns the exit code."""
    loop = loop or WatchLoop()
    inbox.ensure()
    write_templates(inbox.root / TEMPLATES_FOLDER)  # never replaces an edited template
    with CampaignLock(inbox.state_dir / ".watch", command="watch"):
        processor = Processor(inbox, options)
        try:
            with _stop_on_signals(processor.stop):
                processor.run_pass()
                if once:
                    _settle_pending(processor)
                    processor.wait()
                    return processor.report.exit_code
                _forever(inbox, processor, loop)
        except BaseException:  # Ctrl-C or a bug: runs in flight stop and are recorded
            processor.stop.set()
            raise
        finally:
            processor.close()
    return ExitCode.INTERRUPTED if processor.stop.is_set() else ExitCode.OK


def _settle_pending(processor: Processor) -> None:
    """``--once``: passes ``settle_s`` apart while a drop is still settling (a drop is
    taken only after it looked the same twice, ``settle_s`` apart), at most a minute."""
    deadline = time.monotonic() + processor.settle.settle_s + 60
    while processor.settle.pending and time.monotonic() < deadline:
        if processor.stop.wait(processor.settle.settle_s):
            return
        processor.run_pass()


def _forever(inbox: Inbox, processor: Processor, loop: WatchLoop) -> None:
    for changes in watchfiles.watch(
        inbox.root,
        watch_filter=_outside_state(inbox),
        stop_event=processor.stop,
        rust_timeout=int(loop.tick_s * 1000),
        yield_on_timeout=True,
        force_polling=loop.poll or None,
        debounce=800,
        raise_interrupt=True,
    ):
        log.debug("inbox pass", changes=len(changes))
        processor.run_pass()
