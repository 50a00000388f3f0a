"""Fixtures for the ledger tests: a state directory and an open, writable ledger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.ledger import Ledger

from .helpers import CAMPAIGN


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def ledger(state_dir: Path) -> Iterator[Ledger]:
    with Ledger.open(state_dir, CAMPAIGN, command="test") as opened:
        yield opened
