"""Paging of every listing, queryVoucherUsedInfo included, over httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import pytest
from structlog.testing import capture_logs

from runner.api import Credentials, VoucherClient
from runner.errors import ApiUnreachable, OutcomeUnknown

from .fakevendor import FakeVendor, envelope

VOUCHER_ID = "7087421684223516948"
PAGING_WARNING = "server seems to ignore paging"


def usage(n: int) -> dict[str, str]:
    """One granted instance as the vendor lists it (19-digit ids)."""
    return {"id": str(4748332116608160000 + n), "cm_id": str(9139133117350330000 + n)}


def reply(items: Sequence[object], msg_id: str = "echo") -> httpx.Response:
    """An OK envelope listing *items*, echoing *msg_id*."""
    body = {
        "return_code": "0",
        "return_msg": None,
        "msg_id": msg_id,
        "response_data": json.dumps(list(items)),
    }
    return httpx.Response(200, content=json.dumps(body).encode())


@dataclass
class UsageServer:
    """queryVoucherUsedInfo over a fixed set of instances per status.

    ``mode``: "pages" honours page_number/page_length, "first" ignores page_number and
    answers the first page every time, "all" ignores paging and answers everything.
    """

    by_status: dict[str, list[dict[str, str]]]
    mode: str = "pages"
    asked: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        status, number, length = body["voucherStatus"], body["page_number"], body["page_length"]
        self.asked.append((status, number))
        items = self.by_status.get(status, [])
        if self.mode == "all":
            return reply(items)
        start = 0 if self.mode == "first" else (number - 1) * length
        return reply(items[start : start + length])


def client_for(creds: Credentials, vendor: FakeVendor) -> VoucherClient:
    return VoucherClient(creds, transport=vendor.transport())


async def test_every_page_of_used_info_is_read(creds: Credentials, vendor: FakeVendor) -> None:
    """2,500 unused instances come back complete from pages of 1,000, 1,000 and 500."""
    server = UsageServer({"0": [usage(n) for n in range(2500)]})
    vendor.default = server
    async with client_for(creds, vendor) as client:
        usages = await client.query_voucher_used_info(VOUCHER_ID)
    assert [u.id for u in usages] == [usage(n)["id"] for n in range(2500)]
    assert {u.use_status for u in usages} == {"0"}
    assert server.asked == [("0", 1), ("0", 2), ("0", 3), ("1", 1), ("2", 1)]


async def test_paging_fields_are_sent_snake_case(creds: Credentials, vendor: FakeVendor) -> None:
    """Each page asks with page_number/page_length beside the camelCase voucher fields."""
    vendor.default = UsageServer({"1": [usage(n) for n in range(5)]})
    async with client_for(creds, vendor) as client:
        usages = await client.query_voucher_used_info(VOUCHER_ID, "1", page_length=2)
    assert [s.body for s in vendor.seen] == [
        {"page_number": n, "page_length": 2, "voucherId": VOUCHER_ID, "voucherStatus": "1"}
        for n in (1, 2, 3)
    ]
    assert len(usages) == 5
    assert all(s.signature_ok for s in vendor.seen)


async def test_a_short_page_ends_each_status(creds: Credentials, vendor: FakeVendor) -> None:
    """Each status ends on its first short page; an exact multiple ends on an empty page."""
    server = UsageServer(
        {"0": [usage(n) for n in range(4)], "1": [usage(n) for n in range(10, 13)]}
    )
    vendor.default = server
    async with client_for(creds, vendor) as client:
        usages = await client.query_voucher_used_info(VOUCHER_ID, page_length=2)
    assert server.asked == [("0", 1), ("0", 2), ("0", 3), ("1", 1), ("1", 2), ("2", 1)]
    assert [(u.id, u.use_status) for u in usages] == [
        *((usage(n)["id"], "0") for n in range(4)),
        *((usage(n)["id"], "1") for n in range(10, 13)),
    ]


async def test_a_repeated_page_ends_the_read_without_duplicates(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A server answering page 1 to every page_number costs two calls, one warning, no copy."""
    server = UsageServer({"0": [usage(n) for n in range(1500)]}, mode="first")
    vendor.default = server
    async with client_for(creds, vendor) as client:
        with capture_logs() as logged:
            usages = await client.query_voucher_used_info(VOUCHER_ID, "0")
    ids = [u.id for u in usages]
    assert ids == [usage(n)["id"] for n in range(1000)]
    assert server.asked == [("0", 1), ("0", 2)]
    warnings = [e for e in logged if e["event"] == PAGING_WARNING]
    assert len(warnings) == 1
    assert warnings[0]["operation"] == "queryVoucherUsedInfo"


async def test_a_server_without_paging_gives_everything_once(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A server answering all 2,500 instances to every page yields each instance exactly once."""
    server = UsageServer({"2": [usage(n) for n in range(2500)]}, mode="all")
    vendor.default = server
    async with client_for(creds, vendor) as client:
        usages = await client.query_voucher_used_info(VOUCHER_ID, "2")
    assert len(usages) == len({u.id for u in usages}) == 2500
    assert server.asked == [("2", 1), ("2", 2)]


async def test_an_overlapping_page_keeps_only_its_new_items(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A page repeating some ids adds only the new ones and reading goes on to the short page."""
    vendor.script += [
        envelope([usage(0), usage(1), usage(2)]),
        envelope([usage(2), usage(3), usage(4)]),
        envelope([usage(5)]),
    ]
    async with client_for(creds, vendor) as client:
        with capture_logs() as logged:
            usages = await client.query_voucher_used_info(VOUCHER_ID, "0", page_length=3)
    assert [u.id for u in usages] == [usage(n)["id"] for n in range(6)]
    assert [s.body["page_number"] for s in vendor.seen] == [1, 2, 3]
    assert [e["repeated_ids"] for e in logged if e["event"] == PAGING_WARNING] == [1]


async def test_other_listings_end_on_a_repeated_page_too(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """getVoucherInfos against a server ignoring page_number stops after two calls."""
    vendor.default = envelope([{"id": "6856083179295188426"}, {"id": "6856083179295188427"}])
    async with client_for(creds, vendor) as client:
        vouchers = await client.get_voucher_infos(page_length=2)
    assert [v.id for v in vouchers] == ["6856083179295188426", "6856083179295188427"]
    assert [s.body["page_number"] for s in vendor.seen] == [1, 2]


async def test_a_bad_item_names_the_answer_it_came_in(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """An item without id on page 2, every time it is read, ends as ApiUnreachable whose
    cause is the OutcomeUnknown carrying page 2's msg_id."""
    vendor.script += [reply([usage(0), usage(1)], "page-1")]
    vendor.default = reply([{"cm_id": "1"}], "page-2")
    async with VoucherClient(creds, transport=vendor.transport(), max_read_attempts=2) as client:
        with pytest.raises(ApiUnreachable, match="id") as info:
            await client.query_voucher_used_info(VOUCHER_ID, "0", page_length=2)
    cause = info.value.__cause__
    assert isinstance(cause, OutcomeUnknown)
    assert cause.msg_id == "page-2"
    assert len(vendor.seen) == 3


async def test_a_server_ignoring_the_status_filter_counts_each_instance_once(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """The same instances answered for every voucherStatus are counted once, not thrice."""
    same = [usage(n) for n in range(3)]

    def every_status(request: httpx.Request) -> httpx.Response:
        return reply(same)

    vendor.default = every_status
    async with client_for(creds, vendor) as client:
        usages = await client.query_voucher_used_info(VOUCHER_ID)
    assert sorted(u.id for u in usages) == sorted(u["id"] for u in same)
