"""``runner api``: usage errors, missing credentials, a real refused connection, output format."""

from __future__ import annotations

import json
import socket

import pytest

from runner.api import Credentials, call_once, format_response, parse_payload
from runner.cli import main
from runner.errors import OutcomeUnknown, UsageError

from .fakevendor import APPKEY, OPENID, FakeVendor, raw

CREDS_ENV = {"WAIQIN_OPENID": OPENID, "WAIQIN_APPKEY": APPKEY}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI's single error boundary; its exit code, stdout and stderr."""
    with pytest.raises(SystemExit) as info:
        main(["--log-format", "console", *argv])
    out, err = capsys.readouterr()
    code = info.value.code
    assert isinstance(code, int)
    return code, out, err


def set_creds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WAIQIN_BASE_URL", raising=False)


def test_invalid_json_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Broken JSON exits 2 saying where it broke and how to quote it; nothing is sent."""
    set_creds(monkeypatch)
    code, out, err = run(["api", "getCmInfos", "{voucher_id: 1}"], capsys)
    assert code == 2
    assert "not valid JSON" in err
    assert "line 1, column 2" in err
    assert "Quote" in err
    assert out == ""


def test_json_must_be_an_object(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A JSON array instead of an object exits 2 with a hint."""
    set_creds(monkeypatch)
    code, _, err = run(["api", "finishVoucher", "[1]"], capsys)
    assert code == 2
    assert "must be an object" in err


def test_unknown_operation_is_rejected_by_click(capsys: pytest.CaptureFixture[str]) -> None:
    """An operation outside the seven wire names exits 2 listing the choices."""
    code, _, err = run(["api", "dropVouchers"], capsys)
    assert code == 2
    assert "getVoucherInfos" in err


def test_missing_credentials_exit_4_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without WAIQIN_APPKEY the command exits 4 and names that variable."""
    monkeypatch.setenv("WAIQIN_OPENID", OPENID)
    monkeypatch.delenv("WAIQIN_APPKEY", raising=False)
    code, _, err = run(["api", "getVoucherInfos"], capsys)
    assert code == 4
    assert "WAIQIN_APPKEY" in err
    assert "export" in err


def test_refused_connection_is_not_sent_exit_1_without_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A closed loopback port gives NotSent (exit 1) and neither the appkey nor the path shows."""
    set_creds(monkeypatch)
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as sock:  # bound, never listening: refused, and no one else's
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        argv = ["api", "finishVoucher", '{"voucherId":"1"}', "--base-url", url]
        code, out, err = run(argv, capsys)
    assert code == 1
    assert "not sent" in err
    assert APPKEY not in out + err
    assert "/api/voucher/v1/" not in out + err


def test_parse_payload_keeps_big_ints_exact() -> None:
    """A 19-digit number in the JSON argument is kept exactly (Python ints are exact)."""
    assert parse_payload('{"voucherId":708742168422351694}') == {"voucherId": 708742168422351694}
    with pytest.raises(UsageError):
        parse_payload('"just text"')


async def test_call_once_formats_ids_and_chinese_exactly() -> None:
    """The printed response shows a bare 19-digit id with all its digits and Chinese as is."""
    vendor = FakeVendor()
    inner = json.dumps('[{"id":8833956197749704288,"name":"新增的终端"}]', ensure_ascii=False)
    vendor.script.append(raw(f'{{"return_code":"0","response_data":{inner}}}'))
    creds = Credentials(openid=OPENID, appkey=APPKEY)
    data = await call_once(
        "getCmInfos", {"voucher_id": "1"}, credentials=creds, transport=vendor.transport()
    )
    text = format_response(data)
    assert '"id": "8833956197749704288"' in text
    assert "新增的终端" in text


async def test_call_once_does_not_retry_even_a_read() -> None:
    """call_once makes exactly one attempt: a 500 on a read is raised, not retried."""
    vendor = FakeVendor(default=raw("boom", status=500))
    creds = Credentials(openid=OPENID, appkey=APPKEY)
    with pytest.raises(OutcomeUnknown):
        await call_once("getVoucherInfos", {}, credentials=creds, transport=vendor.transport())
    assert len(vendor.seen) == 1
