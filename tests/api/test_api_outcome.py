"""Outcome classification: every httpx exception, every HTTP/envelope row, retry safety."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import get_args

import httpx
import pytest

from runner.api import (
    HTTPX_OUTCOMES,
    OutcomeRules,
    check_response,
    is_safe_to_retry,
    outcome_for_exception_type,
    parse_retry_after,
)
from runner.api._outcome import REFUSAL_CAUSES, RefusalCause, from_transport_error, refusal_cause
from runner.errors import (
    ApiError,
    CredentialsRejected,
    NotSent,
    OutcomeUnknown,
    PushedBack,
    Refused,
)

from .fakevendor import APPKEY, envelope, raw

URL = "https://vendor.example/api/voucher/v1/getCmInfos/oid/20240101000000/abcdef0123/m1"
SECRETS = (URL, "/api/voucher/v1/getCmInfos/oid/20240101000000/abcdef0123", "abcdef0123", APPKEY)
RULES = OutcomeRules(transient_messages=("系统繁忙",))


def _walk(cls: type[BaseException]) -> Iterator[type[BaseException]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _walk(sub)


def _reachable() -> set[type[BaseException]]:
    roots = (httpx.HTTPError, httpx.TransportError, httpx.RequestError, httpx.InvalidURL)
    return {cls for root in roots for cls in _walk(root)}


def test_every_httpx_exception_class_has_an_explicit_row() -> None:
    """Each exception class httpx defines (found via __subclasses__) is listed in the table."""
    unclassified = sorted(
        cls.__name__
        for cls in _reachable()
        if cls.__module__.startswith("httpx") and cls not in HTTPX_OUTCOMES
    )
    assert unclassified == [], f"classify these new httpx exceptions: {unclassified}"
    assert len(_reachable()) >= 22


def test_every_reachable_subclass_resolves_to_not_sent_or_unknown() -> None:
    """Every reachable class, including other libraries' subclasses, maps to one outcome."""
    for cls in _reachable():
        assert outcome_for_exception_type(cls) in (NotSent, OutcomeUnknown), cls


def test_a_subclass_outside_httpx_inherits_its_parents_row() -> None:
    """A transport's own subclass of ConnectError is classified like ConnectError."""

    class VendorConnectError(httpx.ConnectError):
        pass

    assert outcome_for_exception_type(VendorConnectError) is NotSent
    assert outcome_for_exception_type(ValueError) is OutcomeUnknown


@pytest.mark.parametrize(
    ("exc_type", "expected"),
    [
        (httpx.ConnectError, NotSent),
        (httpx.ConnectTimeout, NotSent),
        (httpx.PoolTimeout, NotSent),
        (httpx.UnsupportedProtocol, NotSent),
        (httpx.ProxyError, NotSent),
        (httpx.ReadTimeout, OutcomeUnknown),
        (httpx.WriteTimeout, OutcomeUnknown),
        (httpx.ReadError, OutcomeUnknown),
        (httpx.WriteError, OutcomeUnknown),
        (httpx.CloseError, OutcomeUnknown),
        (httpx.RemoteProtocolError, OutcomeUnknown),
        (httpx.LocalProtocolError, OutcomeUnknown),
        (httpx.DecodingError, OutcomeUnknown),
        (httpx.TransportError, OutcomeUnknown),
    ],
)
def test_transport_errors_are_wrapped_without_the_url(
    exc_type: type[httpx.RequestError], expected: type[ApiError]
) -> None:
    """httpx errors become the table's class, keep operation/msg_id, and lose URL and secrets."""
    exc = exc_type(f"failed talking to {URL} with key {APPKEY}")
    err = from_transport_error(exc, operation="getCmInfos", msg_id="m1", secrets=SECRETS)
    assert type(err) is expected
    assert (err.operation, err.msg_id) == ("getCmInfos", "m1")
    assert exc_type.__name__ in err.message
    for text in (str(err), repr(err), err.message, str(err.hint)):
        assert "abcdef0123" not in text
        assert APPKEY not in text
        assert "vendor.example" not in text


def test_invalid_url_is_not_sent() -> None:
    """httpx.InvalidURL (not an HTTPError) is classified as NotSent."""
    err = from_transport_error(httpx.InvalidURL("bad"), operation="finishVoucher", msg_id="m")
    assert isinstance(err, NotSent)


def classify(response: httpx.Response, rules: OutcomeRules = RULES) -> object:
    """The envelope, or the raised error, for one response."""
    try:
        return check_response(
            response, operation="receiveVoucherInfo", msg_id="m1", rules=rules, secrets=SECRETS
        )
    except ApiError as err:
        return err


def test_http_429_is_pushed_back_with_or_without_retry_after() -> None:
    """429 is PushedBack; its Retry-After seconds become retry_after."""
    plain = classify(raw("", status=429))
    timed = classify(raw("", status=429, headers={"Retry-After": "7"}))
    assert isinstance(plain, PushedBack)
    assert plain.retry_after is None
    assert isinstance(timed, PushedBack)
    assert timed.retry_after == 7.0
    assert timed.status_code == 429


def test_http_503_is_pushed_back_only_with_retry_after() -> None:
    """503 with Retry-After is PushedBack; a bare 503 is OutcomeUnknown."""
    with_header = classify(raw("busy", status=503, headers={"Retry-After": "2"}))
    bare = classify(raw("busy", status=503))
    assert isinstance(with_header, PushedBack)
    assert with_header.retry_after == 2.0
    assert isinstance(bare, OutcomeUnknown)
    assert bare.status_code == 503


@pytest.mark.parametrize("status", [500, 502, 504])
def test_other_5xx_are_unknown_even_with_an_envelope(status: int) -> None:
    """Other 5xx answers are OutcomeUnknown whatever the body says."""
    err = classify(envelope(None, status=status))
    assert isinstance(err, OutcomeUnknown)
    assert f"HTTP {status}" in err.message


@pytest.mark.parametrize(
    "response",
    [
        raw("<html>gateway says hi</html>"),
        raw(""),
        raw('{"error": "no route"}', status=404),
        raw("[]"),
    ],
)
def test_non_envelope_bodies_are_unknown(response: httpx.Response) -> None:
    """HTML, empty, foreign-JSON or list bodies are OutcomeUnknown, whatever the 2xx/4xx status."""
    err = classify(response)
    assert isinstance(err, OutcomeUnknown)
    assert "not the API envelope" in err.message


def test_non_envelope_body_echoing_the_path_is_scrubbed() -> None:
    """A gateway page that quotes the request path does not leak the digest into the error."""
    err = classify(raw(f"<h1>404 {SECRETS[1]}</h1>", status=404))
    assert isinstance(err, OutcomeUnknown)
    assert "abcdef0123" not in str(err)


@pytest.mark.parametrize(
    "message", ["请求过于频繁", "Too Frequent, slow down", "接口限流", "Rate limit exceeded"]
)
def test_too_frequent_refusals_are_pushed_back(message: str) -> None:
    """A non-"0" return_code whose message says "too frequent" is PushedBack, code kept."""
    err = classify(envelope(None, code="1", msg=message))
    assert isinstance(err, PushedBack)
    assert (err.return_code, err.return_msg) == ("1", message)


def test_configured_transient_message_is_pushed_back_only_when_configured() -> None:
    """ "系统繁忙" is PushedBack when the campaign lists it, Refused otherwise."""
    response = envelope(None, code="1", msg="系统繁忙,请稍后再试")
    assert isinstance(classify(response), PushedBack)
    refused = classify(response, OutcomeRules())
    assert isinstance(refused, Refused)


def test_other_refusals_keep_code_and_message_verbatim() -> None:
    """Any other non-"0" return_code is Refused with return_code and return_msg verbatim."""
    err = classify(envelope(None, code=40001, msg="该客户已领取过此优惠券 "))
    assert isinstance(err, Refused)
    assert err.return_code == "40001"
    assert err.return_msg == "该客户已领取过此优惠券 "
    assert err.msg_id == "m1"
    assert err.hint is not None
    assert "transient_messages" in err.hint


@pytest.mark.parametrize("message", ["签名错误,请检查digest", "openid无效或未授权"])
def test_credential_refusals_are_an_environment_problem(message: str) -> None:
    """A refusal of the signature, openid or timestamp is CredentialsRejected (exit 4)."""
    err = classify(envelope(None, code="1001", msg=message))
    assert isinstance(err, CredentialsRejected)
    assert err.exit_code == 4
    assert err.return_msg == message
    assert "WAIQIN_APPKEY" in (err.hint or "")


def test_business_refusals_are_not_credential_problems() -> None:
    """A refusal about the customer or the voucher stays a plain Refused (exit 1)."""
    err = classify(envelope(None, code="1", msg="超过单客户限领数量"))
    assert type(err) is Refused


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        ("超过单客户限领数量", "limit"),
        ("优惠券已领完", "limit"),
        ("Daily LIMIT reached", "limit"),
        ("签名错误,请检查digest", "credentials"),
        ("时间戳超过有效期", "credentials"),  # "超过" too: the credentials row comes first
        ("客户不存在", None),
        (None, None),
    ],
)
def test_refusal_causes_come_from_the_one_table(
    message: str | None, cause: RefusalCause | None
) -> None:
    """refusal_cause reads a return_msg by REFUSAL_CAUSES, first matching row first."""
    assert refusal_cause(message) == cause


def test_every_refusal_cause_is_a_row_of_the_table() -> None:
    """The table has one row per RefusalCause, none of them empty."""
    assert list(REFUSAL_CAUSES) == list(get_args(RefusalCause))
    assert all(REFUSAL_CAUSES.values())


def test_a_credentials_cause_is_raised_as_credentials_rejected_and_a_limit_as_refused() -> None:
    """The classification of refusals follows the table: credentials stop the run, a limit
    is a plain Refused whose message the grant phase reads through the same table."""
    credentials = classify(envelope(None, code="1", msg="鉴权失败"))
    limit = classify(envelope(None, code="1", msg="已达发放上限"))
    assert isinstance(credentials, CredentialsRejected)
    assert isinstance(limit, Refused)
    assert not isinstance(limit, CredentialsRejected)
    assert refusal_cause(limit.return_msg) == "limit"


def test_refusal_echoing_the_digest_is_scrubbed() -> None:
    """A return_msg quoting the digest keeps everything else but the digest."""
    err = classify(envelope(None, code="1", msg="签名错误 digest=abcdef0123"))
    assert isinstance(err, Refused)
    assert err.return_msg == "签名错误 digest=***"


def test_success_returns_the_envelope() -> None:
    """return_code "0" returns the decoded envelope."""
    env = classify(envelope({"voucherId": "1"}, code=0))
    assert not isinstance(env, ApiError)
    assert getattr(env, "response_data", None) == {"voucherId": "1"}


def test_parse_retry_after_seconds_and_dates() -> None:
    """Retry-After is read as delta-seconds or an HTTP date; garbage or absence is None."""
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(
        format_datetime(now + timedelta(seconds=30), usegmt=True), now=now
    ) == (30.0)
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("error", "idempotent", "safe"),
    [
        (NotSent("x", operation="addVoucherInfo"), False, True),
        (PushedBack("x", operation="addVoucherInfo"), False, True),
        (OutcomeUnknown("x", operation="addVoucherInfo"), False, False),
        (OutcomeUnknown("x", operation="getVoucherInfos"), True, True),
        (Refused(operation="getCmInfos", return_code="1", return_msg="no"), True, False),
        (ValueError("not an api error"), True, False),
    ],
)
def test_is_safe_to_retry(error: BaseException, idempotent: bool, safe: bool) -> None:
    """NotSent/PushedBack always retry; OutcomeUnknown only for reads; nothing else."""
    assert is_safe_to_retry(error, idempotent=idempotent) is safe
