"""What every phase of a run shares: the ledger, the client, the throttle, the stop flag."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from runner.api import VoucherClient
from runner.errors import Location, RunnerError
from runner.execute._progress import ProgressSink
from runner.execute._rate_limit import AdaptiveThrottle
from runner.ledger import Ledger
from runner.plan import Wanted

__all__ = ["ExecSettings", "RunContext"]


@dataclass(frozen=True)
class ExecSettings:
    """How hard a run tries; defaults suit the vendor, tests shorten the waits."""

    max_attempts: int = 6
    wait_initial_s: float = 0.5
    wait_max_s: float = 30.0
    settle_s: float = 2.0  # wait before reading remote truth after an unknown outcome
    rounds: int = 6  # grant passes, each followed by reconciliation
    drain_s: float = 30.0  # how long in-flight calls may finish after SIGINT/SIGTERM


@dataclass
class RunContext:
    """The shared state of one run."""

    ledger: Ledger
    client: VoucherClient
    throttle: AdaptiveThrottle
    settings: ExecSettings = field(default_factory=ExecSettings)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    progress: ProgressSink | None = None
    calls: Counter[str] = field(default_factory=Counter)
    fatal: RunnerError | None = None  # an error that stopped the workers, raised after them
    #: Set from another thread (a watcher stopping) to stop the run like SIGTERM would.
    stop_request: threading.Event | None = None
    #: Where a campaign key path is (file and line), for messages about vouchers.
    locate: Callable[[str], Location] = field(default=lambda path: Location(yaml_path=path))
    #: The end date and finish each created voucher should have (the lifecycle phase).
    wanted: tuple[Wanted, ...] = ()
    #: ``runner retry-failed``: refused changes are sent again too.
    retry_failed: bool = False

    @property
    def stopping(self) -> bool:
        """True once SIGINT/SIGTERM asked the run to stop starting new calls."""
        return self.stop.is_set()
