"""Fixtures for the api tests: credentials, the fake vendor, no-sleep retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina

from runner.api import Credentials

from .fakevendor import APPKEY, BASE_URL, OPENID, FakeVendor


@pytest.fixture
def creds() -> Credentials:
    return Credentials(openid=OPENID, appkey=APPKEY, base_url=BASE_URL)


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


@pytest.fixture(autouse=True)
def _no_sleep() -> Iterator[None]:
    """Retries do not sleep (but keep their attempt counts)."""
    with stamina.set_testing(True, attempts=100, cap=True):
        yield
