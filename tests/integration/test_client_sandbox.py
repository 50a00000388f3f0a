"""The real VoucherClient against the real sandbox over loopback HTTP: no mocks anywhere.

Covers every endpoint end to end, every error class as the client sees it (refusals,
push-backs, connection failures, injected faults), a sandbox restart from its state
file, and that the appkey never shows in logs or exceptions.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import stamina

from runner import logs
from runner.api import VoucherClient
from runner.errors import (
    ApiError,
    ApiUnreachable,
    NotSent,
    OutcomeUnknown,
    PushedBack,
    Refused,
)
from runner.sandbox import ManualClock, SandboxConfig, SandboxServer, dimension_id
from runner.sandbox.testing import inspect, mark, running_sandbox, set_faults

from .conftest import (
    APPKEY,
    CUSTOMERS,
    OPENID,
    START,
    client_for,
    reset_counters,
    sandbox_config,
    voucher_request,
)

_ID = re.compile(r"[0-9]{19}")


def _is_id(value: object) -> bool:
    """A 19-digit id given as text, beyond what a float keeps exactly."""
    return isinstance(value, str) and bool(_ID.fullmatch(value)) and int(value) > 2**53


def _counters(server: SandboxServer, operation: str) -> dict[str, int]:
    counters: dict[str, dict[str, int]] = inspect(server.base_url)["counters"]
    return counters.get(operation, {})


def _grants(server: SandboxServer, voucher_id: str) -> dict[str, Any]:
    grants: dict[str, dict[str, Any]] = inspect(server.base_url)["grants"]
    return grants[voucher_id]


# --- every endpoint, end to end -------------------------------------------------------


async def test_add_trade_range_2_by_code_list(server: SandboxServer, client: VoucherClient) -> None:
    """A tradeRange 2 voucher listing customers by code comes back with exact ids and its list."""
    codes = [c.code for c in CUSTOMERS[:3]]
    voucher_id = await client.add_voucher_info(voucher_request(cm_code=",".join(codes)))
    infos = await client.get_voucher_infos()
    state = inspect(server.base_url)
    assert _is_id(voucher_id)
    assert [v["id"] for v in state["vouchers"]] == [voucher_id]
    assert [c["code"] for c in state["vouchers"][0]["customers"]] == codes
    [info] = infos
    assert info.id == voucher_id
    assert (info.name, info.trade_range, info.money, info.num, info.each_cm_num) == (
        "十元券",
        "2",
        "10.00",
        10,
        1,
    )
    assert [c.code for c in info.cm_infos] == codes
    assert [c.id for c in info.cm_infos] == [c.id for c in CUSTOMERS[:3]]
    assert not info.finished


async def test_add_trade_range_1_scope_with_discount_rate(
    server: SandboxServer, client: VoucherClient
) -> None:
    """A tradeRange 1 ZKBL voucher scoped to level A reads back its scope, rate and customers."""
    level_a = [c for c in CUSTOMERS if c.level == "A"]
    other = next(c for c in CUSTOMERS if c.level != "A")
    assert level_a
    req = voucher_request(
        trade_range="1",
        cm_code=None,
        cm_level_name="A",
        discounts_type="ZKBL",
        discounts_percent="0.85",
        max_discounts_amount="20",
    )
    voucher_id = await client.add_voucher_info(req)
    [info] = await client.get_voucher_infos()
    holders = await client.get_cm_infos(voucher_id)
    await client.receive_voucher_info(voucher_id, cm_id=level_a[0].id)
    with pytest.raises(Refused) as outside:
        await client.receive_voucher_info(voucher_id, cm_id=other.id)
    assert info.id == voucher_id
    assert (info.trade_range, info.discounts_type, info.discounts_percent) == ("1", "ZKBL", "0.85")
    assert info.max_discounts_amount == "20.00"
    assert [(lv.cm_level_id, lv.cm_level_name) for lv in info.cm_levels] == [
        (dimension_id("level", "A"), "A")
    ]
    assert info.cm_infos == []
    assert [h.id for h in holders] == [c.id for c in level_a]
    assert outside.value.return_msg == "该客户不在优惠券的适用客户范围内"
    assert list(_grants(server, voucher_id)) == [level_a[0].id]
    scope = inspect(server.base_url)["vouchers"][0]["scope"]
    assert [ref["name"] for ref in scope["level"]] == ["A"]


async def test_get_voucher_infos_pages_and_date_filters(
    server: SandboxServer, client: VoucherClient, clock: ManualClock
) -> None:
    """Five vouchers read 2 per page take 3 calls; create/modify date windows filter them."""
    created = [await client.add_voucher_info(voucher_request(name=f"券{n}")) for n in range(5)]
    reset_counters(server)
    infos = await client.get_voucher_infos(page_length=2)
    calls = _counters(server, "getVoucherInfos")
    clock.advance(timedelta(days=1))
    await client.modify_voucher_end_date(created[3], "2026-04-15")
    tomorrow = (START + timedelta(days=1)).date()
    modified = await client.get_voucher_infos(start_modify_date=tomorrow, page_length=2)
    none_before = await client.get_voucher_infos(end_create_date=START.date() - timedelta(days=1))
    same_day = await client.get_voucher_infos(start_create_date=START.date(), page_length=2)
    assert [i.id for i in infos] == created
    assert all(_is_id(i.id) for i in infos)
    assert [v["id"] for v in inspect(server.base_url)["vouchers"]] == created
    assert [i.name for i in infos] == [f"券{n}" for n in range(5)]
    assert (calls["received"], calls["accepted"]) == (3, 3)
    assert [(i.id, i.end_date) for i in modified] == [(created[3], "2026-04-15")]
    assert none_before == []
    assert [i.id for i in same_day] == created


async def test_finish_voucher_then_grant_is_refused(
    server: SandboxServer, client: VoucherClient
) -> None:
    """A finished voucher reads as finished and refuses grants; finishing it again is a no-op."""
    voucher_id = await client.add_voucher_info(voucher_request())
    await client.finish_voucher(voucher_id)
    with pytest.raises(Refused) as refused:
        await client.receive_voucher_info(voucher_id, cm_code=CUSTOMERS[0].code)
    await client.finish_voucher(voucher_id)
    [info] = await client.get_voucher_infos()
    state = inspect(server.base_url)
    assert info.finished
    assert info.is_finish == "Y"
    assert state["vouchers"][0]["is_finish"] == "Y"
    assert (refused.value.return_code, refused.value.return_msg) == ("1", "优惠券已终止,不能领取")
    assert state["grants"][voucher_id] == {}
    finish = state["counters"]["finishVoucher"]
    assert (finish["accepted"], finish["applied"]) == (2, 1)


async def test_modify_voucher_end_date(server: SandboxServer, client: VoucherClient) -> None:
    """A new end date shows in getVoucherInfos and the sandbox; one before the start is refused."""
    voucher_id = await client.add_voucher_info(voucher_request())
    await client.modify_voucher_end_date(voucher_id, "2026-04-30")
    with pytest.raises(Refused) as refused:
        await client.modify_voucher_end_date(voucher_id, "2026-02-01")
    [info] = await client.get_voucher_infos()
    assert info.end_date == "2026-04-30"
    assert inspect(server.base_url)["vouchers"][0]["end_date"] == "2026-04-30"
    assert refused.value.return_msg == "截止日期不能早于优惠券开始日期"


async def test_receive_by_each_customer_key(server: SandboxServer, client: VoucherClient) -> None:
    """Grants by cm_id, cm_code and cm_source_code each reach the right customer."""
    first, second, third = CUSTOMERS[:3]
    voucher_id = await client.add_voucher_info(voucher_request())
    answers = [
        await client.receive_voucher_info(
            voucher_id, cm_id=first.id, receive_time="2026-03-10 10:00:00"
        ),
        await client.receive_voucher_info(voucher_id, cm_code=second.code, voucher_name="十元券"),
        await client.receive_voucher_info(voucher_id, cm_source_code=third.source_code),
    ]
    usages = await client.query_voucher_used_info(voucher_id, "0")
    state = inspect(server.base_url)
    grants = state["grants"][voucher_id]
    assert answers == [None, None, None]
    assert {cm: g["count"] for cm, g in grants.items()} == {c.id: 1 for c in (first, second, third)}
    assert [u.cm_id for u in usages] == [first.id, second.id, third.id]
    assert [u.cm_code for u in usages] == [first.code, second.code, third.code]
    assert [u.cm_source_code for u in usages] == [c.source_code for c in (first, second, third)]
    assert [u.id for u in usages] == [i["id"] for i in state["instances"][voucher_id]]
    assert all(_is_id(u.id) and u.voucher_id == voucher_id for u in usages)
    assert usages[0].receive_time == "2026-03-10 10:00:00"


async def test_get_cm_infos_pages(server: SandboxServer, client: VoucherClient) -> None:
    """A voucher listing five customers reads back 2 per page in 3 calls, ids exact."""
    listed = CUSTOMERS[:5]
    voucher_id = await client.add_voucher_info(
        voucher_request(cm_code=None, cm_id=",".join(c.id for c in listed))
    )
    reset_counters(server)
    infos = await client.get_cm_infos(voucher_id, page_length=2)
    assert [(i.id, i.code, i.name) for i in infos] == [(c.id, c.code, c.name) for c in listed]
    assert all(_is_id(i.id) for i in infos)
    assert [r["id"] for r in inspect(server.base_url)["vouchers"][0]["customers"]] == [
        c.id for c in listed
    ]
    assert _counters(server, "getCmInfos")["received"] == 3


async def test_query_voucher_used_info_every_status(
    server: SandboxServer, client: VoucherClient
) -> None:
    """After marking one instance used and one expired, statuses 0, 1 and 2 each show once."""
    voucher_id = await client.add_voucher_info(voucher_request())
    for customer in CUSTOMERS[:3]:
        await client.receive_voucher_info(voucher_id, cm_id=customer.id)
    before = await client.query_voucher_used_info(voucher_id)
    mark(server.base_url, voucher_id, used=1, expired=1)
    after = await client.query_voucher_used_info(voucher_id)
    used = await client.query_voucher_used_info(voucher_id, "1")
    expired = await client.query_voucher_used_info(voucher_id, "2")
    instances = {i["id"]: i for i in inspect(server.base_url)["instances"][voucher_id]}
    assert [u.use_status for u in before] == ["0", "0", "0"]
    assert sorted((u.use_status, u.id) for u in after) == sorted(
        (i["use_status"], i["id"]) for i in instances.values()
    )
    assert sorted(str(u.use_status) for u in after) == ["0", "1", "2"]
    [used_one] = used
    assert used_one.use_status == "1"
    assert _is_id(used_one.order_id)
    assert used_one.order_id == instances[used_one.id]["order_id"]
    assert used_one.order_amount == instances[used_one.id]["order_amount"] == "20.00"
    assert [u.use_status for u in expired] == ["2"]
    assert expired[0].id != used_one.id


# --- refusals --------------------------------------------------------------------------


async def test_wrong_appkey_is_refused_verbatim(server: SandboxServer) -> None:
    """A wrong appkey is Refused with code 1001 and the Chinese message; a read is not retried."""
    async with client_for(server, appkey="it-wrong-appkey-8kT3") as client:
        with pytest.raises(Refused) as write:
            await client.add_voucher_info(voucher_request())
        with pytest.raises(Refused) as read:
            await client.get_voucher_infos()
    for err in (write.value, read.value):
        assert (err.return_code, err.return_msg) == ("1001", "签名错误,请检查digest")
        assert err.status_code == 200
        assert err.hint
    assert write.value.operation == "addVoucherInfo"
    assert inspect(server.base_url)["vouchers"] == []
    assert _counters(server, "getVoucherInfos")["received"] == 1


async def test_unknown_openid_is_refused(server: SandboxServer) -> None:
    """An openid the sandbox does not know is Refused with code 1002."""
    async with client_for(server, openid="someone-else") as client:
        with pytest.raises(Refused) as refused:
            await client.add_voucher_info(voucher_request())
    assert (refused.value.return_code, refused.value.return_msg) == ("1002", "openid无效或未授权")
    assert inspect(server.base_url)["vouchers"] == []


async def test_per_customer_limit_and_total_are_refused(
    server: SandboxServer, client: VoucherClient
) -> None:
    """A customer over eachCmNum and a voucher whose num is used up are both Refused."""
    voucher_id = await client.add_voucher_info(voucher_request(num=2, each_cm_num=1))
    await client.receive_voucher_info(voucher_id, cm_code=CUSTOMERS[0].code)
    with pytest.raises(Refused) as per_customer:
        await client.receive_voucher_info(voucher_id, cm_code=CUSTOMERS[0].code)
    await client.receive_voucher_info(voucher_id, cm_code=CUSTOMERS[1].code)
    with pytest.raises(Refused) as total:
        await client.receive_voucher_info(voucher_id, cm_code=CUSTOMERS[2].code)
    assert (per_customer.value.return_code, per_customer.value.return_msg) == (
        "1",
        "超过单客户限领数量",
    )
    assert (total.value.return_code, total.value.return_msg) == ("1", "优惠券已发放完毕")
    grants = _grants(server, voucher_id)
    assert {cm: g["count"] for cm, g in grants.items()} == {
        CUSTOMERS[0].id: 1,
        CUSTOMERS[1].id: 1,
    }


async def test_unknown_customer_and_voucher_are_refused(
    server: SandboxServer, client: VoucherClient
) -> None:
    """An unknown customer code, and a read of an unknown voucher, are Refused with the key."""
    voucher_id = await client.add_voucher_info(voucher_request())
    with pytest.raises(Refused) as customer:
        await client.receive_voucher_info(voucher_id, cm_code="NOPE-1")
    with pytest.raises(Refused) as voucher:
        await client.get_cm_infos("1234567890123456789")
    assert customer.value.return_msg == "客户不存在:cmCode=NOPE-1"
    assert voucher.value.return_msg == "优惠券不存在:1234567890123456789"
    assert _grants(server, voucher_id) == {}


# --- push-back -------------------------------------------------------------------------


async def test_http429_write_is_one_attempt_and_read_gives_up(clock: ManualClock) -> None:
    """Over the rate (HTTP 429) a write is PushedBack once; a read retries then PushedBack."""
    with running_sandbox(**sandbox_config(clock, rate=0.01)) as server:
        async with client_for(server) as client:
            await client.get_voucher_infos()  # takes the only token for ~100 s
            with pytest.raises(PushedBack) as write:
                await client.add_voucher_info(voucher_request())
            with pytest.raises(PushedBack) as read:
                await client.get_voucher_infos()
        state = inspect(server.base_url)
    assert (write.value.status_code, write.value.retry_after) == (429, 1.0)
    assert write.value.return_code is None
    assert read.value.retry_after == 1.0
    adds, reads = state["counters"]["addVoucherInfo"], state["counters"]["getVoucherInfos"]
    assert (adds["received"], adds["rate_limited"], adds["applied"]) == (1, 1, 0)
    assert (reads["received"], reads["rate_limited"]) == (1 + 3, 3)
    assert state["vouchers"] == []


async def test_http429_read_is_retried_until_it_succeeds(clock: ManualClock) -> None:
    """A pushed-back read waits Retry-After and succeeds; the sandbox counted the push-backs."""
    with running_sandbox(**sandbox_config(clock, rate=0.5)) as server:
        async with client_for(server, max_read_attempts=6) as client:
            voucher_id = await client.add_voucher_info(voucher_request())  # takes the token
            with stamina.set_testing(False):  # really wait the Retry-After (1-1.5 s)
                infos = await client.get_voucher_infos()
        reads = inspect(server.base_url)["counters"]["getVoucherInfos"]
    assert [i.id for i in infos] == [voucher_id]
    assert reads["rate_limited"] >= 1
    assert reads["accepted"] == 1
    assert reads["received"] == reads["rate_limited"] + 1


async def test_refusal_mode_rate_limit_is_pushed_back(clock: ManualClock) -> None:
    """Over the rate in refusal mode the 1005 '频繁' envelope becomes PushedBack, not Refused."""
    with running_sandbox(**sandbox_config(clock, rate=0.01, rate_mode="refusal")) as server:
        async with client_for(server) as client:
            await client.get_voucher_infos()
            with pytest.raises(PushedBack) as pushed:
                await client.add_voucher_info(voucher_request())
        state = inspect(server.base_url)
    err = pushed.value
    assert (err.return_code, err.return_msg) == ("1005", "接口调用过于频繁,请稍后再试")
    assert (err.status_code, err.retry_after) == (200, None)
    assert not isinstance(err, Refused)
    assert state["counters"]["addVoucherInfo"]["rate_limited"] == 1
    assert state["vouchers"] == []


# --- no answer -------------------------------------------------------------------------


async def test_closed_port_is_not_sent(clock: ManualClock) -> None:
    """With nothing listening a write is NotSent and a read ends ApiUnreachable after retries."""
    stopped = SandboxServer(SandboxConfig(**sandbox_config(clock)))
    stopped.start()
    stopped.stop()
    async with client_for(stopped) as client:
        with pytest.raises(NotSent) as write:
            await client.add_voucher_info(voucher_request())
        with pytest.raises(ApiUnreachable) as read:
            await client.get_voucher_infos()
    assert write.value.operation == "addVoucherInfo"
    assert "ConnectError" in write.value.message
    assert isinstance(read.value.__cause__, NotSent)
    assert "3 attempt(s)" in read.value.message


async def test_http_5xx_fault_is_unknown_and_not_applied(
    server: SandboxServer, client: VoucherClient
) -> None:
    """An injected 5xx on a grant is OutcomeUnknown, and the sandbox applied nothing."""
    voucher_id = await client.add_voucher_info(voucher_request())
    set_faults(server.base_url, "http_5xx@receiveVoucherInfo=1.0")
    with pytest.raises(OutcomeUnknown) as unknown:
        await client.receive_voucher_info(voucher_id, cm_id=CUSTOMERS[0].id)
    assert unknown.value.status_code in (500, 502)
    assert _grants(server, voucher_id) == {}
    receive = _counters(server, "receiveVoucherInfo")
    assert (receive["http_5xx"], receive["applied"]) == (1, 0)
    set_faults(server.base_url, "")
    await client.receive_voucher_info(voucher_id, cm_id=CUSTOMERS[0].id)
    assert _grants(server, voucher_id)[CUSTOMERS[0].id]["count"] == 1


async def test_reset_fault_is_unknown_and_not_applied(
    server: SandboxServer, client: VoucherClient
) -> None:
    """A connection reset after the request was sent is OutcomeUnknown; nothing was applied."""
    voucher_id = await client.add_voucher_info(voucher_request())
    set_faults(server.base_url, "reset@receiveVoucherInfo=1.0")
    with pytest.raises(OutcomeUnknown) as unknown:
        await client.receive_voucher_info(voucher_id, cm_code=CUSTOMERS[1].code)
    assert unknown.value.operation == "receiveVoucherInfo"
    assert unknown.value.status_code is None
    assert _grants(server, voucher_id) == {}
    receive = _counters(server, "receiveVoucherInfo")
    assert (receive["reset"], receive["accepted"], receive["applied"]) == (1, 0, 0)


async def test_read_rides_out_faults_or_ends_unreachable(
    server: SandboxServer, client: VoucherClient
) -> None:
    """A read retries through a 5xx and a reset to succeed; always faulted, it is ApiUnreachable."""
    voucher_id = await client.add_voucher_info(voucher_request())
    spec = "http_5xx@getVoucherInfos=0.4,reset@getVoucherInfos=0.4"
    set_faults(server.base_url, spec, seed=11)  # this seed: 5xx, reset, then no fault
    reset_counters(server)
    infos = await client.get_voucher_infos()
    reads = _counters(server, "getVoucherInfos")
    set_faults(server.base_url, "http_5xx@getVoucherInfos=1.0")
    with pytest.raises(ApiUnreachable) as unreachable:
        await client.get_voucher_infos()
    assert [i.id for i in infos] == [voucher_id]
    assert (reads["received"], reads["http_5xx"], reads["reset"], reads["accepted"]) == (3, 1, 1, 1)
    assert isinstance(unreachable.value.__cause__, OutcomeUnknown)
    assert _counters(server, "getVoucherInfos")["http_5xx"] == 1 + 3


@pytest.mark.parametrize(
    "spec",
    [
        "lost_response@receiveVoucherInfo=1.0",
        "lost_response@receiveVoucherInfo=1.0,lost_response_delay=5s",
    ],
    ids=["dropped", "answered-too-late"],
)
async def test_lost_response_grant_is_unknown_but_applied(server: SandboxServer, spec: str) -> None:
    """A grant whose answer is lost is OutcomeUnknown, yet the sandbox did grant it."""
    customer = CUSTOMERS[2]
    async with client_for(server, timeout_s=0.5) as client:
        voucher_id = await client.add_voucher_info(voucher_request())
        set_faults(server.base_url, spec)
        with pytest.raises(OutcomeUnknown) as unknown:
            await client.receive_voucher_info(voucher_id, cm_id=customer.id)
        usages = await client.query_voucher_used_info(voucher_id)
        with pytest.raises(OutcomeUnknown):  # a blind resend meets the same fault ...
            await client.receive_voucher_info(voucher_id, cm_id=customer.id)
        set_faults(server.base_url, "")
        with pytest.raises(Refused) as resend:  # ... and without it, the limit
            await client.receive_voucher_info(voucher_id, cm_id=customer.id)
    assert unknown.value.operation == "receiveVoucherInfo"
    assert _grants(server, voucher_id)[customer.id]["count"] == 1
    assert [u.cm_id for u in usages] == [customer.id]
    receive = _counters(server, "receiveVoucherInfo")
    assert (receive["lost_response"], receive["applied"]) == (2, 1)
    assert resend.value.return_msg == "超过单客户限领数量"


async def test_lost_response_create_is_found_by_reading(server: SandboxServer) -> None:
    """A create whose answer is lost is OutcomeUnknown; getVoucherInfos then finds the voucher."""
    set_faults(server.base_url, "lost_response@addVoucherInfo=1.0")
    async with client_for(server, timeout_s=1.0) as client:
        with pytest.raises(OutcomeUnknown):
            await client.add_voucher_info(voucher_request(name="丢失应答券"))
        infos = await client.get_voucher_infos()
    [created] = inspect(server.base_url)["vouchers"]
    assert [(i.id, i.name) for i in infos] == [(created["id"], "丢失应答券")]
    assert _is_id(infos[0].id)
    assert _counters(server, "addVoucherInfo")["lost_response"] == 1


async def test_latency_beyond_timeout_is_unknown(server: SandboxServer) -> None:
    """A request slower than the client's timeout is OutcomeUnknown, and may be applied later."""
    async with client_for(server) as client:
        voucher_id = await client.add_voucher_info(voucher_request())
    set_faults(server.base_url, "latency@modifyVoucherEndDate=1.5s")
    async with client_for(server, timeout_s=0.5) as slow:
        with pytest.raises(OutcomeUnknown) as unknown:
            await slow.modify_voucher_end_date(voucher_id, "2026-04-20")
    assert "ReadTimeout" in unknown.value.message
    assert unknown.value.status_code is None
    end_date = await _poll(
        lambda: inspect(server.base_url)["vouchers"][0]["end_date"], "2026-04-20"
    )
    assert end_date == "2026-04-20"  # the sandbox applied it after the client gave up


async def _poll(read: Callable[[], object], wanted: object, limit_s: float = 15.0) -> object:
    """Read until *wanted* comes back or *limit_s* passes; the last value read."""
    deadline = time.monotonic() + limit_s
    value = read()
    while value != wanted and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        value = read()
    return value


# --- restart ---------------------------------------------------------------------------


async def test_restart_from_state_file_keeps_vouchers_and_grants(
    tmp_path: Path, clock: ManualClock
) -> None:
    """A new sandbox on the same state file and port serves the same vouchers and instances."""
    config = sandbox_config(clock, state_file=tmp_path / "state.json")
    first = SandboxServer(SandboxConfig(**config)).start()
    try:
        async with client_for(first) as client:
            voucher_id = await client.add_voucher_info(voucher_request())
            await client.receive_voucher_info(voucher_id, cm_code=CUSTOMERS[0].code)
            before = await client.query_voucher_used_info(voucher_id)
            first_state = inspect(first.base_url)
            first.stop()
            with pytest.raises(NotSent):
                await client.finish_voucher(voucher_id)
            second = SandboxServer(SandboxConfig(**config, port=first.port)).start()
            try:
                infos = await client.get_voucher_infos()
                after = await client.query_voucher_used_info(voucher_id)
                with pytest.raises(Refused) as again:
                    await client.receive_voucher_info(voucher_id, cm_code=CUSTOMERS[0].code)
                other = await client.add_voucher_info(voucher_request(name="重启后"))
                second_state = inspect(second.base_url)
            finally:
                second.stop()
    finally:
        first.stop()
    assert second.base_url == first.base_url
    assert [i.id for i in infos] == [voucher_id]
    assert [(u.id, u.cm_id) for u in after] == [(u.id, u.cm_id) for u in before]
    assert after[0].cm_id == CUSTOMERS[0].id
    assert second_state["instances"][voucher_id] == first_state["instances"][voucher_id]
    assert second_state["vouchers"][0] == first_state["vouchers"][0]
    assert again.value.return_msg == "超过单客户限领数量"
    assert _is_id(other)
    assert other not in {voucher_id, after[0].id}


# --- secrets ---------------------------------------------------------------------------


async def test_appkey_never_in_logs_or_exceptions(server: SandboxServer) -> None:
    """Across OK, refused and faulted calls the appkeys show in no log line and no exception."""
    wrong = "it-wrong-appkey-Zr5wK1"
    stream = io.StringIO()
    logs.configure("json", level="debug", stream=stream)
    errors: list[ApiError] = []
    async with client_for(server, timeout_s=1.0) as client:
        voucher_id = await client.add_voucher_info(voucher_request())
        await client.get_voucher_infos()
        for spec, customer_code in (
            ("", "NOPE-2"),
            ("http_5xx@receiveVoucherInfo=1.0", CUSTOMERS[0].code),
            ("reset@receiveVoucherInfo=1.0", CUSTOMERS[0].code),
            ("lost_response@receiveVoucherInfo=1.0", CUSTOMERS[0].code),
        ):
            set_faults(server.base_url, spec)
            try:
                await client.receive_voucher_info(voucher_id, cm_code=customer_code)
            except ApiError as err:
                errors.append(err)
        client_repr = repr(client)
    async with client_for(server, appkey=wrong) as bad:
        try:
            await bad.finish_voucher(voucher_id)
        except ApiError as err:
            errors.append(err)
    text = stream.getvalue()
    kinds = [type(e).__name__ for e in errors]
    assert kinds == [
        "Refused",
        "OutcomeUnknown",
        "OutcomeUnknown",
        "OutcomeUnknown",
        "CredentialsRejected",
    ]
    assert '"outcome": "Refused"' in text
    assert '"outcome": "OutcomeUnknown"' in text
    shown = [text, client_repr]
    for caught in errors:
        shown += [str(caught), repr(caught), caught.message, caught.hint or ""]
        shown += [repr(caught.__cause__), repr(caught.__context__)]
    for secret in (APPKEY, wrong):
        assert all(secret not in piece for piece in shown)
    assert all("/api/voucher/v1/" not in piece for piece in shown)
    assert OPENID not in text
