"""The sandbox's own request checks: digest, openid, timestamp, operation, body."""

from __future__ import annotations

from datetime import timedelta

import httpx

from runner.sandbox import (
    CODE_BAD_OPENID,
    CODE_BAD_SIGNATURE,
    CODE_BAD_TIMESTAMP,
    CODE_FAILED,
    CODE_UNKNOWN_OPERATION,
    ManualClock,
    SandboxServer,
    compute_digest,
)
from runner.sandbox.testing import running_sandbox, sign, signed_post

from .conftest import START, Api

VECTOR_BODY = '{"org_id":"ORG001","org_name":"南京掌控网络","org_parent_id":"","org_sequence":001}'


def test_digest_matches_the_vendor_test_vector() -> None:
    """The sandbox's digest of the vendor's published example is the published digest."""
    digest = compute_digest(VECTOR_BODY.encode("utf-8"), "BFCO0PAgIUgd50c0l6", "20150806142836")
    assert digest == "74267bf0cae0998a719879ec9b3c7780"


def test_testing_helper_signs_like_the_sandbox() -> None:
    """testing.sign (used by tests instead of the client) agrees with the published vector."""
    digest = sign(VECTOR_BODY.encode("utf-8"), "BFCO0PAgIUgd50c0l6", "20150806142836")
    assert digest == "74267bf0cae0998a719879ec9b3c7780"


def test_signed_call_is_answered_with_the_envelope(server: SandboxServer) -> None:
    """A correctly signed call gets HTTP 200 and the envelope echoing msg_id."""
    response = signed_post(server.base_url, "getVoucherInfos", {}, msg_id="m-1")
    body = response.json()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert body == {
        "return_code": "0",
        "return_msg": body["return_msg"],
        "msg_id": "m-1",
        "response_data": "[]",
    }


def test_wrong_digest_is_refused(api: Api, server: SandboxServer) -> None:
    """A digest that does not match the body is refused with the signature code, 签名错误."""
    response = signed_post(server.base_url, "getVoucherInfos", {}, digest="0" * 32)
    body = response.json()
    assert body["return_code"] == CODE_BAD_SIGNATURE
    assert "签名错误" in body["return_msg"]


def test_digest_over_other_bytes_is_refused(server: SandboxServer) -> None:
    """Signing one serialisation and sending another (extra spaces) breaks the signature."""
    stamp = START.strftime("%Y%m%d%H%M%S")
    digest = sign(b'{"page_number":1}', "sandbox-appkey", stamp)
    response = signed_post(
        server.base_url, "getVoucherInfos", '{"page_number": 1}', timestamp=stamp, digest=digest
    )
    assert response.json()["return_code"] == CODE_BAD_SIGNATURE


def test_wrong_appkey_is_refused(server: SandboxServer) -> None:
    """A request signed with another appkey is refused as a bad signature."""
    response = signed_post(server.base_url, "getVoucherInfos", {}, appkey="not-the-key")
    assert response.json()["return_code"] == CODE_BAD_SIGNATURE


def test_unknown_openid_is_refused(server: SandboxServer) -> None:
    """An openid the sandbox does not know is refused with its own code."""
    response = signed_post(server.base_url, "getVoucherInfos", {}, openid="someone-else")
    body = response.json()
    assert body["return_code"] == CODE_BAD_OPENID
    assert "openid" in body["return_msg"]


def test_malformed_timestamps_are_refused(server: SandboxServer) -> None:
    """Timestamps that are not 14 digits, or not a real date and time, are refused."""
    for stamp in ("2026031009300", "2026-03-10 09:30", "20261310093000", "20260230093000"):
        response = signed_post(server.base_url, "getVoucherInfos", {}, timestamp=stamp)
        assert response.json()["return_code"] == CODE_BAD_TIMESTAMP, stamp


def test_timestamp_window_refuses_stale_requests(clock: ManualClock) -> None:
    """With a window set, a timestamp further from the sandbox clock is refused."""
    with running_sandbox(clock=clock, timestamp_window=300) as server:
        fresh = START.strftime("%Y%m%d%H%M%S")
        stale = (START - timedelta(minutes=10)).strftime("%Y%m%d%H%M%S")
        ok = signed_post(server.base_url, "getVoucherInfos", {}, timestamp=fresh)
        old = signed_post(server.base_url, "getVoucherInfos", {}, timestamp=stale)
    assert ok.json()["return_code"] == "0"
    assert old.json()["return_code"] == CODE_BAD_TIMESTAMP
    assert "过期" in old.json()["return_msg"]


def test_timestamp_window_is_off_by_default(server: SandboxServer) -> None:
    """Without a window, an old but valid timestamp is accepted."""
    response = signed_post(server.base_url, "getVoucherInfos", {}, timestamp="20150806142836")
    assert response.json()["return_code"] == "0"


def test_unknown_operation_is_refused(server: SandboxServer) -> None:
    """An operation outside the seven is refused with its own code."""
    response = signed_post(server.base_url, "deleteEverything", {})
    assert response.status_code == 200
    assert response.json()["return_code"] == CODE_UNKNOWN_OPERATION


def test_body_that_is_not_a_json_object_is_refused(api: Api) -> None:
    """A body that is not a JSON object is refused as a generic failure."""
    assert api.refused("getVoucherInfos", "[1, 2]")[0] == CODE_FAILED
    assert api.refused("getVoucherInfos", "{not json")[0] == CODE_FAILED


def test_missing_required_field_is_refused(api: Api) -> None:
    """A call without a required field names the field in the refusal."""
    code, message = api.refused("finishVoucher", {})
    assert code == CODE_FAILED
    assert "voucherId" in message


def test_wrong_path_and_method_get_non_json_answers(server: SandboxServer) -> None:
    """A short path is a 404 and a GET is a 405, neither of them an envelope."""
    short = httpx.post(f"{server.base_url}/api/voucher/v1/getVoucherInfos/x", content=b"{}")
    wrong_method = httpx.get(f"{server.base_url}/api/voucher/v1/getVoucherInfos/a/b/c/d")
    assert short.status_code == 404
    assert wrong_method.status_code == 405
    assert "return_code" not in short.text
