"""The client's connection pool: one idle connection per request, reused, and only as many as
the throttle lets run at once (fakes at the connection level, and a real sandbox).

httpcore gives out connections by setting an event: the fake-connection tests run in a loop."""

from __future__ import annotations

import asyncio

import httpcore

from runner.api import AddVoucherRequest, Credentials, VoucherClient
from runner.api._pool import LeanPool
from runner.execute import AdaptiveThrottle
from runner.sandbox import DEFAULT_APPKEY, DEFAULT_OPENID
from runner.sandbox.testing import running_sandbox

ORIGIN = httpcore.URL("http://127.0.0.1:1/").origin


class FakeConnection(httpcore.AsyncConnectionInterface):
    """A connection that is idle (or busy, or expired) as the test says; it sends nothing."""

    def __init__(self, *, idle: bool = True, expired: bool = False) -> None:
        self.idle = idle
        self.expired = expired
        self.closed = False

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        raise AssertionError("nothing is sent in these tests")

    async def aclose(self) -> None:
        self.closed = True

    def info(self) -> str:
        return "fake"

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == ORIGIN

    def is_available(self) -> bool:
        return self.idle and not self.closed

    def has_expired(self) -> bool:
        return self.expired

    def is_idle(self) -> bool:
        return self.idle and not self.closed

    def is_closed(self) -> bool:
        return self.closed


def queued(pool: LeanPool, n: int) -> list[httpcore._async.connection_pool.AsyncPoolRequest]:
    requests = [
        httpcore._async.connection_pool.AsyncPoolRequest(
            httpcore.Request("POST", "http://127.0.0.1:1/x")
        )
        for _ in range(n)
    ]
    pool._requests.extend(requests)
    return requests


async def test_requests_queued_together_get_different_idle_connections() -> None:
    """Two queued requests and two idle connections: one each (httpcore gives both the first)."""
    pool = LeanPool(max_connections=4, max_keepalive_connections=4)
    first, second = FakeConnection(), FakeConnection()
    pool._connections = [first, second]
    a, b = queued(pool, 2)
    assert pool._assign_requests_to_connections() == []
    assert {id(a.connection), id(b.connection)} == {id(first), id(second)}


async def test_a_connection_held_by_a_request_is_not_given_to_another() -> None:
    """An idle connection already assigned to a request that has not started stays its own."""
    pool = LeanPool(max_connections=1, max_keepalive_connections=1)
    only = FakeConnection()
    pool._connections = [only]
    (a,) = queued(pool, 1)
    pool._assign_requests_to_connections()
    (b,) = queued(pool, 1)
    pool._assign_requests_to_connections()
    assert a.connection is only
    assert b.connection is None  # waits: the pool is full


async def test_the_most_recently_used_idle_connection_is_reused_and_expired_ones_closed() -> None:
    """The newest idle connection goes first; an expired one met on the way is closed."""
    pool = LeanPool(max_connections=4, max_keepalive_connections=4)
    old, expired = FakeConnection(), FakeConnection(expired=True)
    pool._connections = [old, expired]
    (a,) = queued(pool, 1)
    closing = pool._assign_requests_to_connections()
    assert a.connection is old
    assert closing == [expired]
    assert pool._connections == [old]


async def test_idle_connections_beyond_the_keep_alive_limit_are_closed_oldest_first() -> None:
    """Four idle connections and a keep-alive limit of two: the two oldest are closed."""
    pool = LeanPool(max_connections=8, max_keepalive_connections=2)
    connections = [FakeConnection() for _ in range(4)]
    pool._connections = list(connections)
    assert pool._assign_requests_to_connections() == connections[:2]
    assert pool._connections == connections[2:]


async def test_a_busy_connection_is_neither_reused_nor_closed() -> None:
    """Only idle connections are given out or counted against the keep-alive limit."""
    pool = LeanPool(max_connections=2, max_keepalive_connections=0)
    busy = FakeConnection(idle=False)
    pool._connections = [busy]
    (a,) = queued(pool, 1)
    assert pool._assign_requests_to_connections() == []
    assert a.connection is not None
    assert a.connection is not busy
    assert busy in pool._connections


def test_the_client_keeps_a_connection_per_concurrent_request_and_no_more() -> None:
    """32 grants, 4 at a time, against a sandbox: all answered over at most 4 connections."""

    async def grant_all(base_url: str) -> tuple[int, int, type[object]]:
        creds = Credentials(openid=DEFAULT_OPENID, appkey=DEFAULT_APPKEY, base_url=base_url)
        throttle = AdaptiveThrottle(10_000.0, 4)
        async with VoucherClient(creds, throttle=throttle) as client:
            request = AddVoucherRequest.model_validate(
                {
                    "name": "pool",
                    "start_date": "2099-03-01",
                    "end_date": "2099-03-31",
                    "money": "1.00",
                    "pay_type": "UNLIMITED",
                    "grant_type": "HDFF",
                    "num": 40,
                    "each_cm_num": 1,
                    "trade_range": "1",
                    "prod_mode": "ALL",
                }
            )
            voucher_id = await client.add_voucher_info(request)

            async def grant(n: int) -> object:
                return await client.receive_voucher_info(voucher_id, cm_code=f"CUS{n:06d}")

            answers = await asyncio.gather(*(grant(n) for n in range(1, 33)))
            pool = client._http._transport._pool  # type: ignore[attr-defined]
            return len(answers), len(pool.connections), type(pool)

    with running_sandbox(generate=40) as server:
        answered, connections, pool_type = asyncio.run(grant_all(server.base_url))
    assert answered == 32
    assert pool_type is LeanPool
    assert 1 <= connections <= 4
