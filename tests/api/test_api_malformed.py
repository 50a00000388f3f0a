"""Malformed server replies: every kind is classified for a write and for a read, never a crash.

A write (addVoucherInfo) that gets an answer it cannot read is OutcomeUnknown: the server
may have applied it, so it is reconciled, never resent blindly. A read changes nothing:
it is asked again, and after every attempt it is ApiUnreachable (exit 4, rerun resumes).
"""

from __future__ import annotations

import json

import httpx
import pytest

from runner.api import AddVoucherRequest, Credentials, VoucherClient
from runner.api._client import MAX_BODY_BYTES
from runner.api._outcome import MAX_SHOWN_CHARS
from runner.errors import ApiUnreachable, ExitCode, OutcomeUnknown, Refused, RunnerError

from .fakevendor import APPKEY, FakeVendor, envelope, raw

BIG_ID = "8144100181735612578"
READ_ATTEMPTS = 3
REQUEST = AddVoucherRequest(name="满100减10", start_date="2030-01-01", end_date="2030-02-01")


def body(data: bytes, *, status: int = 200, content_type: str | None = None) -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type else None
    return httpx.Response(status, content=data, headers=headers)


def deep(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


#: Replies no write or read can use: name → the reply.
UNUSABLE: dict[str, httpx.Response] = {
    "html_200": raw("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"),
    "html_404": raw("<html><body>404 Not Found</body></html>", status=404),
    "html_302": raw("<a href='/login'>moved</a>", status=302, headers={"Location": "/login"}),
    "truncated_json": raw('{"return_code":"0","response_data":"[{\\"id\\":'),
    "truncated_inner_json": raw('{"return_code":"0","response_data":"[{\\"id\\":81441"}'),
    "data_wrong_type_number": raw('{"return_code":"0","response_data":{"voucherId":{"x":1}}}'),
    "data_wrong_type_list_of_text": envelope(["a", "b"]),
    "data_wrong_type_bool": raw('{"return_code":"0","response_data":true}'),
    "non_utf8_bytes": body('{"return_code":"0","response_data":"成功"}'.encode("gbk")),
    "unknown_charset": body(b'{"return_code":"0"}', content_type="application/json;charset=x-no"),
    "empty_body": raw(""),
    "blank_body": raw(" \r\n "),
    "json_null": raw("null"),
    "json_list": raw('[{"return_code":"0"}]'),
    "json_text": raw('"ok"'),
    "no_return_code": raw('{"code":0,"data":[]}'),
    "return_code_bool": raw('{"return_code":true}'),
    "return_code_object": raw('{"return_code":{"v":0}}'),
    "nested_too_deep": raw('{"return_code":"0","response_data":' + deep() + "}"),
    "nested_too_deep_inside_text": raw('{"return_code":"0","response_data":"' + deep() + '"}'),
    "nan_id": raw('{"return_code":"0","response_data":{"voucherId":NaN}}'),
}


def _client(
    creds: Credentials, vendor: FakeVendor, max_body_bytes: int = MAX_BODY_BYTES
) -> VoucherClient:
    return VoucherClient(
        creds,
        transport=vendor.transport(),
        max_read_attempts=READ_ATTEMPTS,
        max_body_bytes=max_body_bytes,
    )


async def _write(
    creds: Credentials, vendor: FakeVendor, max_body_bytes: int = MAX_BODY_BYTES
) -> object:
    async with _client(creds, vendor, max_body_bytes) as client:
        return await client.add_voucher_info(REQUEST)


async def _read(
    creds: Credentials, vendor: FakeVendor, max_body_bytes: int = MAX_BODY_BYTES
) -> object:
    async with _client(creds, vendor, max_body_bytes) as client:
        return [v.id for v in await client.get_voucher_infos()]


def _assert_plain(err: RunnerError) -> None:
    """A message a person can read: bounded, no secret, no Python object dump."""
    text = f"{err}\n{err.hint}"
    assert len(text) < 2 * MAX_SHOWN_CHARS + 600, len(text)
    assert APPKEY not in text
    assert "Traceback" not in text


@pytest.mark.parametrize("name", sorted(UNUSABLE))
async def test_an_unusable_answer_to_a_write_is_outcome_unknown(
    creds: Credentials, vendor: FakeVendor, name: str
) -> None:
    """A create answered by garbage is OutcomeUnknown (reconcile before resending), sent once."""
    vendor.default = UNUSABLE[name]
    with pytest.raises(OutcomeUnknown) as info:
        await _write(creds, vendor)
    assert len(vendor.seen) == 1
    assert info.value.exit_code == ExitCode.FAILED
    assert "reconcile" in (info.value.hint or "")
    _assert_plain(info.value)


@pytest.mark.parametrize("name", sorted(UNUSABLE))
async def test_an_unusable_answer_to_a_read_is_asked_again_then_unreachable(
    creds: Credentials, vendor: FakeVendor, name: str
) -> None:
    """A listing answered by garbage is read again; still garbage, it is ApiUnreachable (exit 4)."""
    vendor.default = UNUSABLE[name]
    with pytest.raises(ApiUnreachable) as info:
        await _read(creds, vendor)
    assert len(vendor.seen) == READ_ATTEMPTS
    assert info.value.exit_code == ExitCode.ENVIRONMENT
    assert isinstance(info.value.__cause__, OutcomeUnknown)
    _assert_plain(info.value)


async def test_a_read_that_gets_garbage_once_then_an_answer_succeeds(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """One HTML page from a gateway, then the real answer: the listing is complete."""
    vendor.script += [UNUSABLE["html_200"], envelope([{"id": BIG_ID}])]
    assert await _read(creds, vendor) == [BIG_ID]
    assert len(vendor.seen) == 2


def _endless(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b'{"return_code":"0","response_data":"' + b"x" * 8192)


@pytest.mark.parametrize("kind", ["write", "read"])
async def test_a_body_beyond_the_cap_is_not_read(
    creds: Credentials, vendor: FakeVendor, kind: str
) -> None:
    """A body beyond max_body_bytes is not kept: unknown for a write, unreachable for a read."""
    vendor.default = _endless
    call = _write if kind == "write" else _read
    expected = OutcomeUnknown if kind == "write" else ApiUnreachable
    with pytest.raises(expected, match="larger than") as info:
        await call(creds, vendor, max_body_bytes=4096)
    _assert_plain(info.value)


@pytest.mark.parametrize("kind", ["write", "read"])
async def test_a_huge_return_msg_is_shown_cut_short(
    creds: Credentials, vendor: FakeVendor, kind: str
) -> None:
    """A 2 MB refusal message is kept to its first characters and how many more there were."""
    vendor.default = envelope(None, code="1", msg="错" * 2_000_000)
    call = _write if kind == "write" else _read
    with pytest.raises(Refused) as info:
        await call(creds, vendor)
    assert info.value.return_msg is not None
    assert info.value.return_msg.endswith("(1999500 more characters)")
    assert len(vendor.seen) == 1  # a refusal is an answer: a read does not ask again
    _assert_plain(info.value)


@pytest.mark.parametrize("kind", ["write", "read"])
async def test_a_lone_surrogate_in_the_answer_becomes_a_replacement_character(
    creds: Credentials, vendor: FakeVendor, kind: str
) -> None:
    """An escaped lone surrogate (text no file can hold) arrives as U+FFFD, encodable as UTF-8."""
    vendor.default = raw('{"return_code":"1","return_msg":"失败\\ud800了"}')
    call = _write if kind == "write" else _read
    with pytest.raises(Refused) as info:
        await call(creds, vendor)
    assert info.value.return_msg == "失败\ufffd了"
    str(info.value).encode("utf-8")  # would raise on a lone surrogate


async def test_ids_as_bare_numbers_stay_exact_for_a_write_and_a_read(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A 19-digit voucherId sent as a bare JSON number, inline or as the whole
    response_data, and listed ids as numbers, all arrive as their exact digits."""
    vendor.script += [
        raw(f'{{"return_code":"0","response_data":{{"voucherId":{BIG_ID}}}}}'),
        raw(f'{{"return_code":0,"response_data":{BIG_ID}}}'),
        raw(f'{{"return_code":"0","response_data":"[{{\\"id\\":{BIG_ID}}}]"}}'),
    ]
    assert await _write(creds, vendor) == BIG_ID
    assert await _write(creds, vendor) == BIG_ID
    assert await _read(creds, vendor) == [BIG_ID]


async def test_unknown_fields_are_kept_for_a_write_and_a_read(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """Fields the document does not name are no reason to doubt an answer."""
    extra = {"voucherId": BIG_ID, "newField": {"nested": [1, 2]}, "traceId": "t-1"}
    vendor.script += [
        raw(json.dumps({"return_code": "0", "response_data": extra, "server": "x"})),
        envelope([{"id": BIG_ID, "brandNewField": "v", "cmInfos": None}]),
    ]
    assert await _write(creds, vendor) == BIG_ID
    assert await _read(creds, vendor) == [BIG_ID]


async def test_a_body_in_a_declared_chinese_charset_is_read(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """A GBK body whose Content-Type says charset=GBK is decoded as GBK, not refused."""
    text = json.dumps({"return_code": "1", "return_msg": "客户不存在"}, ensure_ascii=False)
    vendor.default = body(text.encode("gbk"), content_type="application/json;charset=GBK")
    with pytest.raises(Refused) as info:
        await _write(creds, vendor)
    assert info.value.return_msg == "客户不存在"


#: Unusable only for what their response_data holds: the envelope itself says "0".
DATA_ONLY = {
    "data_wrong_type_bool",
    "data_wrong_type_list_of_text",
    "data_wrong_type_number",
    "nan_id",
    "nested_too_deep_inside_text",
    "truncated_inner_json",
}


@pytest.mark.parametrize("name", sorted(UNUSABLE.keys() - DATA_ONLY))
async def test_a_write_that_reads_no_data_is_unknown_on_a_bad_envelope(
    creds: Credentials, vendor: FakeVendor, name: str
) -> None:
    """finishVoucher (which uses no response_data) answered by a bad envelope is OutcomeUnknown."""
    vendor.default = UNUSABLE[name]
    async with _client(creds, vendor) as client:
        with pytest.raises(OutcomeUnknown):
            await client.finish_voucher(BIG_ID)


@pytest.mark.parametrize("name", sorted(DATA_ONLY))
async def test_a_write_that_reads_no_data_succeeds_on_a_good_envelope(
    creds: Credentials, vendor: FakeVendor, name: str
) -> None:
    """finishVoucher answered "0" with odd response_data succeeded: its data is not read."""
    vendor.default = UNUSABLE[name]
    async with _client(creds, vendor) as client:
        await client.finish_voucher(BIG_ID)
    assert len(vendor.seen) == 1
