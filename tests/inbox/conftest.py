"""Helpers for the drop-folder tests: an inbox in tmp_path, drops built from the sample
registry, a processor with short waits, and what the sandbox holds afterwards."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.inbox import Inbox, Processor, WatchOptions, read_status
from runner.sandbox import SandboxServer
from runner.summaries import DropStatus
from tests.execute.conftest import (
    FAST,
    audience,
    env_for,
    registry,
    sandbox,
    voucher,
    write_audience,
    write_campaign,
)

__all__ = [
    "age",
    "make_drop",
    "processor",
    "sandbox",
    "status_of",
]


def age(folder: Path, seconds: float = 60.0) -> None:
    """Make every file under *folder* look unchanged for *seconds* (as if copied earlier)."""
    then = time.time() - seconds
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (then, then))


def make_drop(
    parent: Path,
    name: str,
    *,
    customers: int = 4,
    first: int = 0,
    campaign: str = "drop-test",
    settled: bool = True,
    scope: dict[str, list[str]] | None = None,
    **api: Any,
) -> Path:
    """A drop folder: campaign.yaml (audience ``customers.csv`` beside it) and the CSV;
    the voucher is for those customers, or for a customer *scope* (e.g. levels)."""
    folder = parent / name
    folder.mkdir(parents=True)
    rows = registry().slice(first, customers)
    write_audience(folder / "customers.csv", rows, [1] * rows.height)
    spec = audience(folder / "customers.csv") | {"file": "customers.csv"}
    write_campaign(
        folder / "campaign.yaml",
        audiences={"shops": spec},
        vouchers={"ten-off": voucher(f"满100减10 {campaign}", customers=scope or "specific")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        name=campaign,
        **api,
    )
    if settled:
        age(folder)
    return folder


def status_of(folder: Path) -> DropStatus:
    """The drop's status.json (which must exist and parse)."""
    status = read_status(folder)
    assert status is not None, f"no status.json in {folder}"
    return status


@pytest.fixture
def inbox(tmp_path: Path) -> Inbox:
    """An empty inbox in tmp_path with its stage folders."""
    made = Inbox.at(tmp_path / "inbox")
    made.ensure()
    return made


def processor(inbox: Inbox, server: SandboxServer, **overrides: Any) -> Processor:
    """A processor whose runs reach *server* with short waits."""
    values: dict[str, Any] = {
        "settle_s": 0.0,
        "env": env_for(server.base_url),
        "settings": FAST,
        "parallel": 2,
    }
    return Processor(inbox, WatchOptions(**(values | overrides)))


def one_pass(made: Processor) -> None:
    """One pass and the runs it started."""
    made.run_pass()
    made.wait()


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A sandbox knowing the sample registry."""
    with sandbox() as running:
        yield running


def grants_by_customer(snapshot: dict[str, Any]) -> dict[str, int]:
    """Grants per customer id over every voucher of the sandbox."""
    out: dict[str, int] = {}
    for per_customer in snapshot["grants"].values():
        for cm_id, held in per_customer.items():
            out[cm_id] = out.get(cm_id, 0) + int(held["count"])
    return out


def registry_ids(first: int, count: int) -> list[str]:
    """The customer ids of registry rows first .. first + count."""
    return registry().slice(first, count)["id"].to_list()


def registry_row(index: int) -> str:
    """One more audience CSV line: registry customer *index*, quantity 1."""
    row = registry().row(index, named=True)
    return f"{row['id']},{row['code']},{row['name']},{row['level']},1\n"
