"""Progress of the grant phase: a rich bar per voucher on a terminal, JSON lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Protocol

import structlog
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeRemainingColumn

__all__ = ["BarProgress", "LogProgress", "ProgressSink", "make_progress"]

log = structlog.get_logger(__name__)


class ProgressSink(Protocol):
    """Receives one tick per settled job."""

    def __enter__(self) -> ProgressSink: ...
    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def advance(self, voucher_key: str, outcome: str) -> None: ...
    def set_done(self, voucher_key: str, done: int) -> None: ...


class BarProgress:
    """A rich progress bar per voucher, on stderr."""

    def __init__(self, totals: Mapping[str, tuple[int, int]]) -> None:
        self._progress = Progress(
            "[bold]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {
            key: self._progress.add_task(key, total=total, completed=done)
            for key, (done, total) in totals.items()
        }

    def __enter__(self) -> BarProgress:
        self._progress.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def advance(self, voucher_key: str, outcome: str) -> None:
        if outcome == "done":
            self._progress.advance(self._tasks[voucher_key])

    def set_done(self, voucher_key: str, done: int) -> None:
        """Catch up with the ledger (reconciliation adopts grants without a tick)."""
        if voucher_key in self._tasks:
            self._progress.update(self._tasks[voucher_key], completed=done)


class LogProgress:
    """Periodic JSON progress lines for unattended runs."""

    def __init__(self, totals: Mapping[str, tuple[int, int]], *, every_s: float = 5.0) -> None:
        self._done = {key: done for key, (done, _total) in totals.items()}
        self._total = {key: total for key, (_done, total) in totals.items()}
        self._settled: dict[str, int] = dict.fromkeys(totals, 0)
        self._every = every_s
        self._last = time.monotonic()

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._emit()

    def advance(self, voucher_key: str, outcome: str) -> None:
        self._settled[voucher_key] += 1
        if outcome == "done":
            self._done[voucher_key] += 1
        if time.monotonic() - self._last >= self._every:
            self._emit()

    def set_done(self, voucher_key: str, done: int) -> None:
        """Catch up with the ledger (reconciliation adopts grants without a tick)."""
        if voucher_key in self._done:
            self._done[voucher_key] = done

    def _emit(self) -> None:
        self._last = time.monotonic()
        for key, total in self._total.items():
            log.info("progress", voucher=key, done=self._done[key], total=total)


def make_progress(
    totals: Mapping[str, tuple[int, int]], *, bars: bool | None = None
) -> ProgressSink:
    """Bars on a terminal, log lines otherwise; ``totals`` maps voucher key → (done, total)."""
    use_bars = sys.stderr.isatty() if bars is None else bars
    return BarProgress(totals) if use_bars else LogProgress(totals)
