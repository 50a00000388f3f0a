"""Fixtures for client-against-sandbox tests: a real sandbox on loopback, a real client.

Nothing is faked: ``runner.api.VoucherClient`` signs and posts over HTTP to a
``runner.sandbox`` server running in a background thread. Read retries do not sleep
(stamina testing mode, attempts capped by the client's ``max_read_attempts``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest
import stamina

from runner.api import AddVoucherRequest, Credentials, VoucherClient
from runner.sandbox import BEIJING, Customer, ManualClock, SandboxServer, generate_customers
from runner.sandbox.testing import running_sandbox

SEED = 11
OPENID = "it-openid-4711"
APPKEY = "it-appkey-Qx7vR2mZ9pL4"
CUSTOMERS: tuple[Customer, ...] = tuple(generate_customers(12, SEED))
START = datetime(2026, 3, 10, 9, 30, 0, tzinfo=BEIJING)
READ_ATTEMPTS = 3


def voucher_request(**overrides: Any) -> AddVoucherRequest:
    """A valid addVoucherInfo request (tradeRange 2, the first three customers by code)."""
    fields: dict[str, Any] = {
        "name": "十元券",
        "start_date": "2026-03-01",
        "end_date": "2026-03-31",
        "money": "10",
        "pay_type": "UNLIMITED",
        "grant_type": "HDFF",
        "num": 10,
        "each_cm_num": 1,
        "trade_range": "2",
        "cm_code": ",".join(c.code for c in CUSTOMERS[:3]),
        "prod_mode": "ALL",
    }
    fields.update(overrides)
    return AddVoucherRequest(**{k: v for k, v in fields.items() if v is not None})


def sandbox_config(clock: ManualClock, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of a sandbox with this module's customers and credentials."""
    config: dict[str, Any] = {
        "clock": clock,
        "customers": CUSTOMERS,
        "seed": SEED,
        "openid": OPENID,
        "appkey": APPKEY,
    }
    config.update(overrides)
    return config


def credentials(
    server: SandboxServer, *, openid: str = OPENID, appkey: str = APPKEY
) -> Credentials:
    """Credentials pointing at *server* (the sandbox's own by default)."""
    return Credentials(openid=openid, appkey=appkey, base_url=server.base_url)


@asynccontextmanager
async def client_for(
    server: SandboxServer,
    *,
    openid: str = OPENID,
    appkey: str = APPKEY,
    timeout_s: float = 5.0,
    max_read_attempts: int = READ_ATTEMPTS,
) -> AsyncIterator[VoucherClient]:
    """An open VoucherClient talking to *server*."""
    creds = credentials(server, openid=openid, appkey=appkey)
    async with VoucherClient(
        creds, timeout_s=timeout_s, max_read_attempts=max_read_attempts
    ) as client:
        yield client


def reset_counters(server: SandboxServer) -> None:
    """Zero the sandbox's request counters (its state is kept)."""
    httpx.post(f"{server.base_url}/sandbox/reset-counters", timeout=10).raise_for_status()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def server(clock: ManualClock) -> Iterator[SandboxServer]:
    with running_sandbox(**sandbox_config(clock)) as running:
        yield running


@pytest.fixture
async def client(server: SandboxServer) -> AsyncIterator[VoucherClient]:
    async with client_for(server) as opened:
        yield opened


@pytest.fixture(autouse=True)
def _fast_retries() -> Iterator[None]:
    """Read retries do not sleep (attempts stay the client's)."""
    with stamina.set_testing(True, attempts=100, cap=True):
        yield
