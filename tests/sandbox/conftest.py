"""Fixtures for the sandbox tests: a started sandbox with a fixed clock, and a tiny caller."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from runner.sandbox import BEIJING, Customer, ManualClock, SandboxServer, generate_customers
from runner.sandbox.testing import running_sandbox, signed_post

SEED = 7
CUSTOMER_COUNT = 30
CUSTOMERS: list[Customer] = list(generate_customers(CUSTOMER_COUNT, SEED))
START = datetime(2026, 3, 10, 9, 30, 0, tzinfo=BEIJING)


def voucher_payload(**overrides: Any) -> dict[str, Any]:
    """A valid addVoucherInfo body (tradeRange 2, the first three customers) plus overrides."""
    payload: dict[str, Any] = {
        "name": "十元券",
        "startDate": "2026-03-01",
        "endDate": "2026-03-31",
        "money": "10",
        "payType": "UNLIMITED",
        "grantType": "HDFF",
        "num": 10,
        "eachCmNum": 1,
        "tradeRange": "2",
        "cmId": ",".join(c.id for c in CUSTOMERS[:3]),
        "prodMode": "ALL",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


class Api:
    """Signed calls to one sandbox, decoding the envelope and its ``response_data``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.client = httpx.Client(timeout=10)

    def call(self, operation: str, payload: dict[str, Any] | str) -> dict[str, Any]:
        response = signed_post(self.base_url, operation, payload, client=self.client)
        assert response.status_code == 200, response.text
        envelope: dict[str, Any] = response.json()
        return envelope

    def ok(self, operation: str, payload: dict[str, Any] | str) -> Any:
        envelope = self.call(operation, payload)
        assert envelope["return_code"] == "0", envelope
        data = envelope["response_data"]
        return None if data is None else json.loads(data)

    def refused(self, operation: str, payload: dict[str, Any] | str) -> tuple[str, str]:
        envelope = self.call(operation, payload)
        assert envelope["return_code"] != "0", envelope
        assert envelope["response_data"] is None
        return envelope["return_code"], envelope["return_msg"]

    def create(self, **overrides: Any) -> str:
        data = self.ok("addVoucherInfo", voucher_payload(**overrides))
        voucher_id: str = data["voucherId"]
        return voucher_id


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def server(clock: ManualClock) -> Iterator[SandboxServer]:
    with running_sandbox(clock=clock, generate=CUSTOMER_COUNT, seed=SEED) as running:
        yield running


@pytest.fixture
def api(server: SandboxServer) -> Iterator[Api]:
    caller = Api(server.base_url)
    yield caller
    caller.client.close()


@pytest.fixture(scope="module")
def shared_api() -> Iterator[Api]:
    """One sandbox for a whole module, for tests that change nothing (refusals, reads)."""
    clock = ManualClock(START)
    with running_sandbox(clock=clock, generate=CUSTOMER_COUNT, seed=SEED) as running:
        caller = Api(running.base_url)
        yield caller
        caller.client.close()
