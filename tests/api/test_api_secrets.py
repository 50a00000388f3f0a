"""Secrets: the appkey, digest and URL never reach exceptions or log lines."""

from __future__ import annotations

import io
import json

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from runner import logs
from runner.api import Credentials, VoucherClient
from runner.errors import ApiError, EnvironmentProblem, RunnerError

from .fakevendor import APPKEY, BASE_URL, OPENID, FakeVendor, envelope, raw


def echo_path(request: httpx.Request) -> httpx.Response:
    """A gateway error page that quotes the whole request URL."""
    return raw(f"<h1>404 Not Found: {request.url}</h1>", status=404)


def refuse_quoting_url(request: httpx.Request) -> httpx.Response:
    """A refusal whose message quotes the URL and the appkey."""
    return envelope(None, code="1", msg=f"签名错误 url={request.url} key={APPKEY}")


def fail_quoting_url(request: httpx.Request) -> httpx.Response:
    """A transport error whose message quotes the URL, as httpx errors may."""
    raise httpx.ReadError(f"connection reset while reading {request.url}", request=request)


SCENARIOS = [
    echo_path,
    refuse_quoting_url,
    fail_quoting_url,
    httpx.ConnectError("refused"),
    raw("", status=429),
]


def assert_clean(text: str, vendor: FakeVendor) -> None:
    for secret in vendor.secrets():
        assert secret not in text
    assert BASE_URL + "/api" not in text
    assert "/api/voucher/v1/" not in text


@pytest.mark.parametrize("reply", SCENARIOS)
async def test_exceptions_never_show_secrets(
    creds: Credentials, vendor: FakeVendor, reply: object
) -> None:
    """Every classified error's str, repr, message, hint and chain is free of secrets and URL."""
    vendor.default = reply  # type: ignore[assignment]
    async with VoucherClient(creds, transport=vendor.transport()) as client:
        with pytest.raises(ApiError) as info:
            await client.finish_voucher("6812072753231956829")
    err = info.value
    for text in (str(err), repr(err), err.message, str(err.hint), repr(err.__dict__)):
        assert_clean(text, vendor)
    assert err.__cause__ is None
    assert err.__context__ is None or err.__suppress_context__


async def test_exhausted_read_error_chain_is_clean(creds: Credentials, vendor: FakeVendor) -> None:
    """ApiUnreachable after retries, and the error it chains, carry no secret or URL."""
    vendor.default = fail_quoting_url
    async with VoucherClient(creds, transport=vendor.transport(), max_read_attempts=2) as client:
        with pytest.raises(RunnerError) as info:
            await client.get_voucher_infos()
    chain: list[BaseException] = [info.value]
    if info.value.__cause__ is not None:
        chain.append(info.value.__cause__)
    for exc in chain:
        assert_clean(f"{exc} {exc!r}", vendor)
    assert len(vendor.seen) == 2


async def test_one_log_line_per_call_without_url_or_digest(
    creds: Credentials, vendor: FakeVendor
) -> None:
    """Each attempt logs operation, msg_id, status, outcome and elapsed; never URL or secrets."""
    vendor.script += [envelope(None), envelope(None, code="1", msg="already finished")]
    with capture_logs() as captured:
        async with VoucherClient(creds, transport=vendor.transport()) as client:
            await client.finish_voucher("1")
            with pytest.raises(ApiError):
                await client.finish_voucher("1")
    assert len(captured) == 2
    ok, refused = captured
    assert ok["event"] == "api.call"
    assert (ok["operation"], ok["status"], ok["outcome"]) == ("finishVoucher", 200, "ok")
    assert ok["msg_id"] == vendor.seen[0].msg_id
    assert isinstance(ok["elapsed_ms"], float)
    assert (refused["outcome"], refused["return_msg"]) == ("Refused", "already finished")
    assert_clean(repr(captured), vendor)
    assert OPENID not in repr(captured)


@pytest.mark.parametrize("reply", SCENARIOS)
async def test_rendered_json_logs_never_show_secrets(
    creds: Credentials, vendor: FakeVendor, reply: object
) -> None:
    """Through the real JSON log pipeline, failing calls leave no secret or URL in the output."""
    out = io.StringIO()
    logs.configure("json", level="debug", stream=out)
    vendor.default = reply  # type: ignore[assignment]
    async with VoucherClient(creds, transport=vendor.transport()) as client:
        with pytest.raises(ApiError):
            await client.finish_voucher("6812072753231956829")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["api.call"]
    assert_clean(out.getvalue(), vendor)


async def test_credentials_and_client_register_no_secret(vendor: FakeVendor) -> None:
    """Building credentials and a client leaves no secret in global state; creds.redactor
    has the appkey and the openid."""
    logs.reset()
    built = Credentials(openid=OPENID, appkey=APPKEY, base_url=BASE_URL)
    async with VoucherClient(built, transport=vendor.transport()):
        line = logs.Redact()(None, "info", {"event": f"k={APPKEY}"})
        assert line["event"] == f"k={APPKEY}"  # nothing registered behind our back
    assert built.redactor.secrets == frozenset({APPKEY, OPENID})
    assert built.redactor is built.redactor  # built once
    assert APPKEY not in repr(built.redactor)


def test_logging_bound_to_the_credentials_redactor_hides_the_appkey(creds: Credentials) -> None:
    """After use_redactor(creds.redactor), a line that quotes the appkey shows *** instead."""
    out = io.StringIO()
    logs.configure("json", level="debug", stream=out)
    logs.use_redactor(creds.redactor)
    structlog.get_logger().warning("odd", detail={"sent": [f"key={APPKEY}"]})
    assert APPKEY not in out.getvalue()
    assert json.loads(out.getvalue())["detail"] == {"sent": ["key=***"]}


@pytest.mark.parametrize("url", [f"ftp://{APPKEY}.example", f"{APPKEY}.example.com"])
def test_bad_base_url_built_from_the_appkey_is_not_echoed(url: str) -> None:
    """An invalid base URL holding the appkey is refused with *** in its place."""
    env = {"WAIQIN_OPENID": OPENID, "WAIQIN_APPKEY": APPKEY, "WAIQIN_BASE_URL": url}
    with pytest.raises(EnvironmentProblem) as info:
        Credentials.from_env(env)
    assert APPKEY not in f"{info.value} {info.value!r} {info.value.__dict__!r}"
    assert "***" in info.value.message


def test_repr_hides_the_appkey_inside_the_base_url() -> None:
    """A base URL that holds the appkey is shown with *** in the credentials' repr."""
    creds = Credentials(openid=OPENID, appkey=APPKEY, base_url=f"https://h.example/{APPKEY}")
    assert APPKEY not in repr(creds)
    assert "https://h.example/***" in repr(creds)
