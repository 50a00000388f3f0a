"""What an operation handler works with (state, customers, clock) and what it returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ._clock import BEIJING, Clock
from ._customers import CustomerRegistry
from ._state import StateStore

__all__ = ["Context", "Outcome"]


@dataclass
class Context:
    """The world one request is handled in (``ignore_paging``: see ``SandboxConfig``)."""

    store: StateStore
    customers: CustomerRegistry
    clock: Clock
    ignore_paging: bool = False

    def today(self) -> date:
        """Today in Beijing."""
        return self.clock().astimezone(BEIJING).date()

    def now_text(self) -> str:
        """Now in Beijing as ``yyyy-MM-dd HH:mm:ss``."""
        return self.clock().astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Outcome:
    """A successful answer: ``response_data`` text (or None) and whether state changed."""

    data: str | None = None
    applied: bool = False
