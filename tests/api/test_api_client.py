"""VoucherClient over httpx.MockTransport: signing, attempts, retries, pagination, throttle."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from runner.api import (
    MAX_HONOURED_RETRY_AFTER_S,
    AddVoucherRequest,
    CmInfo,
    Credentials,
    VoucherClient,
)
from runner.errors import (
    ApiUnreachable,
    NotSent,
    OutcomeUnknown,
    PushedBack,
    Refused,
    UsageError,
)

from .fakevendor import OPENID, FakeVendor, envelope, raw

VOUCHER_ID = "6812072753231956829"


def client_for(creds: Credentials, vendor: FakeVendor, **kwargs: object) -> VoucherClient:
    return VoucherClient(creds, transport=vendor.transport(), **kwargs)  # type: ignore[arg-type]


class CountingThrottle:
    """Our Throttle protocol, counting slots and reports."""

    def __init__(self) -> None:
        self.active = 0
        self.slots = 0
        self.successes = 0
        self.pushbacks: list[float | None] = []

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        self.slots += 1
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1

    def slot(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._slot()

    def pushed_back(self, retry_after: float | None) -> None:
        assert self.active == 1, "reported while holding the slot"
        self.pushbacks.append(retry_after)

    def succeeded(self) -> None:
        assert self.active == 1, "reported while holding the slot"
        self.successes += 1


# --- the request on the wire -----------------------------------------------------------


async def test_posted_bytes_are_the_signed_bytes(creds: Credentials, vendor: FakeVendor) -> None:
    """The server recomputes md5(body|appkey|ts) from the posted bytes and the path: it matches."""
    vendor.script.append(envelope({"voucherId": VOUCHER_ID}))
    req = AddVoucherRequest(name="十元券", start_date="2024-05-01", end_date="2024-05-31", num=5)
    async with client_for(creds, vendor) as client:
        await client.add_voucher_info(req)
    (seen,) = vendor.seen
    assert seen.signature_ok
    assert seen.operation == "addVoucherInfo"
    assert seen.openid == OPENID
    assert re.fullmatch(r"\d{14}", seen.timestamp)
    assert seen.content == (
        '{"name":"十元券","startDate":"2024-05-01","endDate":"2024-05-31","num":5}'.encode()
    )
    assert seen.headers["content-type"] == "application/json;charset=utf-8"


async def test_call_sends_the_payload_as_given(creds: Credentials, vendor: FakeVendor) -> None:
    """call() signs and sends an arbitrary payload once and returns the decoded response_data."""
    vendor.script.append(envelope([{"id": "1", "code": "C", "name": "n"}]))
    async with client_for(creds, vendor) as client:
        data = await client.call("getCmInfos", {"voucher_id": VOUCHER_ID, "page_number": 2})
    assert data == [{"id": "1", "code": "C", "name": "n"}]
    assert vendor.seen[0].body == {"voucher_id": VOUCHER_ID, "page_number": 2}
    assert vendor.seen[0].signature_ok


async def test_call_refuses_unknown_operations(creds: Credentials, vendor: FakeVendor) -> None:
    """An operation outside the seven is a UsageError and nothing is sent."""
    async with client_for(creds, vendor) as client:
        with pytest.raises(UsageError, match="unknown operation"):
            await client.call("deleteEverything", {})
    assert vendor.seen == []


async def test_msg_id_is_fresh_for_every_attempt(creds: Credentials, vendor: FakeVendor) -> None:
    """A retried read and a second call each carry a new msg_id (and a valid signature)."""
    vendor.script += [raw("oops", status=500), envelope([]), envelope([])]
    async with client_for(creds, vendor) as client:
        await client.get_cm_infos(VOUCHER_ID)
        await client.get_cm_infos(VOUCHER_ID)
    ids = [s.msg_id for s in vendor.seen]
    assert len(ids) == 3
    assert len(set(ids)) == 3
    assert all(s.signature_ok for s in vendor.seen)


# --- writes: one attempt -----------------------------------------------------------------


async def test_add_voucher_returns_the_exact_id(creds: Credentials, vendor: FakeVendor) -> None:
    """A voucherId sent as a bare 19-digit number comes back as its exact digits."""
    inner = json.dumps(f'{{"voucherId":{VOUCHER_ID}}}')
    vendor.script.append(raw(f'{{"return_code":0,"return_msg":null,"response_data":{inner}}}'))
    req = AddVoucherRequest(name="x", start_date="2024-05-01", end_date="2024-05-31")
    async with client_for(creds, vendor) as client:
        assert await client.add_voucher_info(req) == VOUCHER_ID


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (httpx.ReadTimeout("timed out"), OutcomeUnknown),
        (httpx.ConnectError("refused"), NotSent),
        (raw("", status=503, headers={"Retry-After": "1"}), PushedBack),
        (raw("<html>bad gateway</html>", status=502), OutcomeUnknown),
        (envelope(None, code="1", msg="名称重复"), Refused),
    ],
)
async def test_writes_are_never_retried(
    creds: Credentials,
    vendor: FakeVendor,
    reply: httpx.Response | Exception,
    expected: type[Exception],
) -> None:
    """Whatever goes wrong, a create is attempted exactly once and the outcome is raised."""
    vendor.default = reply
    req = AddVoucherRequest(name="x", start_date="2024-05-01", end_date="2024-05-31")
    async with client_for(creds, vendor) as client:
        with pytest.raises(expected):
            await client.add_voucher_info(req)
    assert len(vendor.seen) == 1


async def test_add_voucher_without_voucher_id_is_unknown(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """An OK answer without voucherId means we cannot know what was created: OutcomeUnknown."""
    vendor.script.append(envelope({"something": "else"}))
    req = AddVoucherRequest(name="x", start_date="2024-05-01", end_date="2024-05-31")
    async with client_for(creds, vendor) as client:
        with pytest.raises(OutcomeUnknown, match="voucherId"):
            await client.add_voucher_info(req)


async def test_receive_voucher_sends_one_customer_key_once(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A grant sends voucherId and the one given customer key, once, even on a connect error."""
    vendor.script += [envelope("ok"), httpx.ConnectError("refused")]
    async with client_for(creds, vendor) as client:
        assert await client.receive_voucher_info(VOUCHER_ID, cm_code="CUS010043") == "ok"
        with pytest.raises(NotSent):
            await client.receive_voucher_info(VOUCHER_ID, cm_id="9139133117350330302")
    assert [s.body for s in vendor.seen] == [
        {"voucherId": VOUCHER_ID, "cmCode": "CUS010043"},
        {"voucherId": VOUCHER_ID, "cmId": "9139133117350330302"},
    ]


async def test_receive_voucher_needs_exactly_one_key(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """Zero or two customer keys are a UsageError before anything is sent."""
    async with client_for(creds, vendor) as client:
        with pytest.raises(UsageError, match="exactly one"):
            await client.receive_voucher_info(VOUCHER_ID)
        with pytest.raises(UsageError, match="cm_id, cm_code"):
            await client.receive_voucher_info(VOUCHER_ID, cm_id="1", cm_code="C")
    assert vendor.seen == []


async def test_finish_and_modify_send_documented_bodies(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """finishVoucher and modifyVoucherEndDate send voucherId (and endDate) once each."""
    async with client_for(creds, vendor) as client:
        await client.finish_voucher(VOUCHER_ID)
        await client.modify_voucher_end_date(VOUCHER_ID, "2022-09-20")
    assert [(s.operation, s.body) for s in vendor.seen] == [
        ("finishVoucher", {"voucherId": VOUCHER_ID}),
        ("modifyVoucherEndDate", {"voucherId": VOUCHER_ID, "endDate": "2022-09-20"}),
    ]


# --- reads: retried, paginated -----------------------------------------------------------


def cm_page(start: int, count: int) -> httpx.Response:
    return envelope([{"id": str(10**18 + i), "code": f"C{i}"} for i in range(start, start + count)])


async def test_pagination_stops_on_a_short_page(creds: Credentials, vendor: FakeVendor) -> None:
    """Pages 1..3 are asked for (2, 2, 1 items) and all five customers are returned."""
    vendor.script += [cm_page(0, 2), cm_page(2, 2), cm_page(4, 1)]
    async with client_for(creds, vendor) as client:
        customers = await client.get_cm_infos(VOUCHER_ID, page_length=2)
    assert [s.body["page_number"] for s in vendor.seen] == [1, 2, 3]
    assert {s.body["page_length"] for s in vendor.seen} == {2}
    assert customers[4] == CmInfo(id=str(10**18 + 4), code="C4")
    assert len(customers) == 5


async def test_pagination_stops_on_an_empty_or_null_page(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """When the total is a multiple of the page length, an empty (null) page ends it."""
    vendor.script += [cm_page(0, 2), envelope(None)]
    async with client_for(creds, vendor) as client:
        customers = await client.get_cm_infos(VOUCHER_ID, page_length=2)
    assert len(customers) == 2
    assert len(vendor.seen) == 2


async def test_a_server_ignoring_page_number_ends_the_listing(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """The same full page twice ends the read after two calls, keeping one copy of each item."""
    vendor.default = cm_page(0, 2)
    async with client_for(creds, vendor) as client:
        customers = await client.get_cm_infos(VOUCHER_ID, page_length=2)
    assert [c.id for c in customers] == [str(10**18), str(10**18 + 1)]
    assert len(vendor.seen) == 2


async def test_every_page_and_retry_goes_through_the_throttle(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """Each HTTP attempt takes one slot; pushback and success are reported inside it."""
    vendor.script += [
        cm_page(0, 2),
        raw("", status=429, headers={"Retry-After": "0"}),
        cm_page(2, 2),
        cm_page(4, 0),
    ]
    throttle = CountingThrottle()
    async with client_for(creds, vendor, throttle=throttle) as client:
        customers = await client.get_cm_infos(VOUCHER_ID, page_length=2)
    assert len(customers) == 4
    assert throttle.slots == len(vendor.seen) == 4
    assert throttle.successes == 3
    assert throttle.pushbacks == [0.0]


async def test_get_voucher_infos_keeps_bare_ids_exact(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """Vouchers listed with bare 19-digit ids come back with exactly those digits."""
    inner = json.dumps('[{"id":6856083179295188426,"num":2,"eachCmNum":1}]')
    vendor.script.append(raw(f'{{"return_code":"0","response_data":{inner}}}'))
    async with client_for(creds, vendor) as client:
        (voucher,) = await client.get_voucher_infos(start_create_date="2021-04-20")
    assert voucher.id == "6856083179295188426"
    assert (voucher.num, voucher.each_cm_num) == (2, 1)
    assert vendor.seen[0].body == {
        "page_number": 1,
        "page_length": 1000,
        "start_create_date": "2021-04-20",
    }


async def test_reads_retry_transient_failures(creds: Credentials, vendor: FakeVendor) -> None:
    """A read survives a read timeout, a connect error and a "too frequent" refusal."""
    vendor.script += [
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("down"),
        envelope(None, code="1", msg="请求过于频繁"),
        envelope([{"id": "1"}]),
    ]
    async with client_for(creds, vendor) as client:
        customers = await client.get_cm_infos(VOUCHER_ID)
    assert [c.id for c in customers] == ["1"]
    assert len(vendor.seen) == 4


async def test_reads_give_up_as_api_unreachable(creds: Credentials, vendor: FakeVendor) -> None:
    """After max_read_attempts unanswered tries a read raises ApiUnreachable (exit 4)."""
    vendor.default = httpx.ConnectError("down")
    async with client_for(creds, vendor, max_read_attempts=3) as client:
        with pytest.raises(ApiUnreachable, match="3 attempt") as info:
            await client.get_voucher_infos()
    assert len(vendor.seen) == 3
    assert info.value.exit_code == 4


async def test_reads_do_not_retry_refusals(creds: Credentials, vendor: FakeVendor) -> None:
    """A Refused read (e.g. no permission) is raised after one attempt."""
    vendor.default = envelope(None, code="1", msg="无接口权限")
    async with client_for(creds, vendor) as client:
        with pytest.raises(Refused, match="无接口权限"):
            await client.get_cm_infos(VOUCHER_ID)
    assert len(vendor.seen) == 1


async def test_long_retry_after_is_left_to_the_caller(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A pushback longer than the client will wait is raised as PushedBack at once."""
    wait = str(int(MAX_HONOURED_RETRY_AFTER_S) + 1)
    vendor.default = raw("", status=429, headers={"Retry-After": wait})
    async with client_for(creds, vendor) as client:
        with pytest.raises(PushedBack) as info:
            await client.get_cm_infos(VOUCHER_ID)
    assert info.value.retry_after == float(wait)
    assert len(vendor.seen) == 1


async def test_used_info_without_status_asks_all_three(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """status=None queries unused, used and expired and fills a missing use_status."""
    vendor.script += [
        envelope([{"id": "11", "cm_id": "21"}]),
        envelope([{"id": "12", "cm_id": "22", "use_status": "1"}]),
        envelope(None),
    ]
    async with client_for(creds, vendor) as client:
        usages = await client.query_voucher_used_info(VOUCHER_ID)
    assert [s.body for s in vendor.seen] == [
        {"page_number": 1, "page_length": 1000, "voucherId": VOUCHER_ID, "voucherStatus": status}
        for status in ("0", "1", "2")
    ]
    assert [(u.id, u.cm_id, u.use_status) for u in usages] == [("11", "21", "0"), ("12", "22", "1")]


async def test_unexpected_shapes_are_asked_again_then_unreachable(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A list endpoint answering an object, or items without ids, is asked again (a read
    changes nothing); still so after every attempt, it is ApiUnreachable naming the shape."""
    vendor.script += [envelope({"not": "a list"})] * 6 + [envelope([{"code": "no id"}])] * 6
    async with client_for(creds, vendor) as client:
        with pytest.raises(ApiUnreachable, match="expected a list") as first:
            await client.get_cm_infos(VOUCHER_ID)
        with pytest.raises(ApiUnreachable, match="id: Field required") as second:
            await client.get_cm_infos(VOUCHER_ID)
    assert isinstance(first.value.__cause__, OutcomeUnknown)
    assert isinstance(second.value.__cause__, OutcomeUnknown)
    assert len(vendor.seen) == 12


async def test_bad_arguments_fail_before_sending(creds: Credentials, vendor: FakeVendor) -> None:
    """An invalid page length is a UsageError and nothing is sent."""
    async with client_for(creds, vendor) as client:
        with pytest.raises(UsageError, match="page_length"):
            await client.get_cm_infos(VOUCHER_ID, page_length=0)
    assert vendor.seen == []


async def test_writes_use_the_callers_msg_id(creds: Credentials, vendor: FakeVendor) -> None:
    """A msg_id given by the caller (recorded in the ledger first) is the one on the wire."""
    async with client_for(creds, vendor) as client:
        await client.receive_voucher_info(VOUCHER_ID, cm_code="C1", msg_id="job42-attempt1")
        await client.finish_voucher(VOUCHER_ID, msg_id="abc_DEF-9")
    assert [s.msg_id for s in vendor.seen] == ["job42-attempt1", "abc_DEF-9"]
    assert all(s.signature_ok for s in vendor.seen)


async def test_unsafe_msg_id_is_refused_before_sending(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A msg_id that would break the URL path is a ValueError and nothing is sent."""
    async with client_for(creds, vendor) as client:
        with pytest.raises(ValueError, match="msg_id"):
            await client.finish_voucher(VOUCHER_ID, msg_id="../../other")
    assert vendor.seen == []
