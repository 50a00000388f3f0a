"""The real client pages queryVoucherUsedInfo against the real sandbox, paging or not."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from runner.api import VoucherClient
from runner.sandbox import ManualClock, SandboxServer
from runner.sandbox.testing import inspect, mark, running_sandbox

from .conftest import CUSTOMERS, client_for, reset_counters, sandbox_config, voucher_request

PER_CUSTOMER = 3
GRANTS = len(CUSTOMERS) * PER_CUSTOMER  # 36


async def _granted_voucher(client: VoucherClient) -> str:
    """A voucher listing every customer, granted PER_CUSTOMER times to each."""
    request = voucher_request(
        cm_code=None,
        cm_id=",".join(c.id for c in CUSTOMERS),
        num=GRANTS,
        each_cm_num=PER_CUSTOMER,
    )
    voucher_id = await client.add_voucher_info(request)
    grants = [
        client.receive_voucher_info(voucher_id, cm_id=c.id)
        for c in CUSTOMERS
        for _ in range(PER_CUSTOMER)
    ]
    await asyncio.gather(*grants)
    return voucher_id


def _used_info_calls(server: SandboxServer) -> int:
    counters: dict[str, dict[str, int]] = inspect(server.base_url)["counters"]
    return counters.get("queryVoucherUsedInfo", {}).get("received", 0)


async def test_every_page_of_every_status_is_read(
    server: SandboxServer, client: VoucherClient
) -> None:
    """36 instances (30 unused, 6 used) read 10 per page: 4 + 1 + 1 calls, each instance once."""
    voucher_id = await _granted_voucher(client)
    mark(server.base_url, voucher_id, used=6)
    reset_counters(server)
    usages = await client.query_voucher_used_info(voucher_id, page_length=10)
    instances = inspect(server.base_url)["instances"][voucher_id]
    assert sorted((u.id, u.use_status) for u in usages) == sorted(
        (i["id"], i["use_status"]) for i in instances
    )
    assert len(usages) == GRANTS
    assert _used_info_calls(server) == 4 + 1 + 1


async def test_a_sandbox_ignoring_paging_is_read_once_without_duplicates(
    clock: ManualClock,
) -> None:
    """Against ignore_paging the full first page repeats on page 2: reading stops, one warning."""
    with running_sandbox(**sandbox_config(clock, ignore_paging=True)) as server:
        async with client_for(server) as client:
            voucher_id = await _granted_voucher(client)
            reset_counters(server)
            with capture_logs() as logged:
                usages = await client.query_voucher_used_info(voucher_id, "0", page_length=10)
        instances = inspect(server.base_url)["instances"][voucher_id]
        calls = _used_info_calls(server)
    assert [u.id for u in usages] == [i["id"] for i in instances]
    assert calls == 2
    assert [e["operation"] for e in logged if e["event"] == "server seems to ignore paging"] == [
        "queryVoucherUsedInfo"
    ]
