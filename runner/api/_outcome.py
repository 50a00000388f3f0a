"""THE one place that decides what a call's outcome means.

Every attempt ends in exactly one of: an OK :class:`Envelope`, or one of
:class:`~runner.errors.NotSent` (certainly not sent), :class:`~runner.errors.PushedBack`
(the server asked us to slow down), :class:`~runner.errors.OutcomeUnknown` (it may have
been applied) or :class:`~runner.errors.Refused` (``return_code`` other than "0").

httpx exceptions are classified through an explicit table, one row per class, so that
a new httpx exception class is noticed by the tests instead of silently guessed. What a
refusal's message says (its credentials were refused, a limit was reached) is read
through one table too, :data:`REFUSAL_CAUSES`, and nowhere else.
Messages built here never contain the URL, the digest, the appkey or the full openid:
every text that comes from httpx or the server is scrubbed of the caller's secrets first,
and a server's text is shown cut short (:func:`shorten`). An answer the server's clock
dates far from ours, or a refused timestamp, is put in words by ``_skew``.
"""

from __future__ import annotations

import email.utils
import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx

from runner.api._envelope import Envelope, NotAnEnvelope, decode_envelope
from runner.api._skew import CLOCK_HINT, names_the_timestamp, server_offset, timestamp_refused
from runner.errors import CredentialsRejected, NotSent, OutcomeUnknown, PushedBack, Refused
from runner.redaction import Redactor

__all__ = [
    "DEFAULT_PUSHBACK_PATTERNS",
    "HTTPX_OUTCOMES",
    "MAX_HONOURED_RETRY_AFTER_S",
    "MAX_SHOWN_CHARS",
    "REFUSAL_CAUSES",
    "Answer",
    "OutcomeRules",
    "RefusalCause",
    "body_too_large",
    "check_response",
    "classify_answer",
    "from_transport_error",
    "is_safe_to_retry",
    "outcome_for_exception_type",
    "parse_retry_after",
    "refusal_cause",
    "retry_wait",
    "scrub",
    "shorten",
    "unexpected_data",
]

DEFAULT_PUSHBACK_PATTERNS: tuple[str, ...] = ("频繁", "too frequent", "限流", "rate limit")

#: Exactly one row per httpx exception class. ``NotSent`` only where httpx raises the
#: error before any byte of the request can have left this machine.
HTTPX_OUTCOMES: Mapping[type[BaseException], type[NotSent] | type[OutcomeUnknown]] = {
    # certainly not sent: no connection was made, or the URL was rejected locally
    httpx.ConnectError: NotSent,
    httpx.ConnectTimeout: NotSent,
    httpx.PoolTimeout: NotSent,
    httpx.UnsupportedProtocol: NotSent,
    httpx.InvalidURL: NotSent,
    httpx.ProxyError: NotSent,  # the proxy refused to open a tunnel to the server
    # possibly sent: the request (or part of it) may have reached the server
    httpx.ReadTimeout: OutcomeUnknown,
    httpx.WriteTimeout: OutcomeUnknown,
    httpx.ReadError: OutcomeUnknown,
    httpx.WriteError: OutcomeUnknown,
    httpx.CloseError: OutcomeUnknown,
    httpx.RemoteProtocolError: OutcomeUnknown,
    # h11 can reject a later event after the headers and body were already written
    httpx.LocalProtocolError: OutcomeUnknown,
    httpx.DecodingError: OutcomeUnknown,
    httpx.TooManyRedirects: OutcomeUnknown,
    httpx.HTTPStatusError: OutcomeUnknown,
    # the abstract bases, should httpx or a transport ever raise one of them directly
    httpx.HTTPError: OutcomeUnknown,
    httpx.RequestError: OutcomeUnknown,
    httpx.TransportError: OutcomeUnknown,
    httpx.TimeoutException: OutcomeUnknown,
    httpx.NetworkError: OutcomeUnknown,
    httpx.ProtocolError: OutcomeUnknown,
}

_NOT_SENT_HINT = "Nothing reached the server; check the network and WAIQIN_BASE_URL, then retry."
_UNKNOWN_HINT = (
    "The server may have applied this call: reconcile (runner reconciles on resume) "
    "before sending it again."
)
_PUSHBACK_HINT = "The server asked to slow down; wait and retry at a lower rate."
_REFUSED_HINT = (
    "The server refused this call and its return_msg says why: fix the request (or list the "
    "message under api.transient_messages if it means 'busy, try later') and rerun."
)


@dataclass(frozen=True)
class OutcomeRules:
    """Which refusal messages mean "slow down" (``pushback``) or "busy, retry" (``transient``)."""

    pushback_patterns: tuple[str, ...] = DEFAULT_PUSHBACK_PATTERNS
    transient_messages: tuple[str, ...] = ()

    def wants_retry(self, return_msg: str | None) -> bool:
        """True when *return_msg* contains one of the patterns (case-insensitive)."""
        if not return_msg:
            return False
        text = return_msg.casefold()
        patterns = (*self.pushback_patterns, *self.transient_messages)
        return any(p.casefold() in text for p in patterns if p)


def outcome_for_exception_type(cls: type[BaseException]) -> type[NotSent] | type[OutcomeUnknown]:
    """The table row for *cls*, or for its nearest tabled ancestor; unknown → OutcomeUnknown."""
    for klass in cls.__mro__:
        if klass in HTTPX_OUTCOMES:
            return HTTPX_OUTCOMES[klass]
    return OutcomeUnknown


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (URL, path, digest, appkey) found in *text* with ``***``."""
    return Redactor.of(*secrets).text(text)


def from_transport_error(
    exc: Exception, *, operation: str, msg_id: str, secrets: Iterable[str] = ()
) -> NotSent | OutcomeUnknown:
    """Wrap an httpx exception; its text is scrubbed because httpx may quote the URL."""
    kind = outcome_for_exception_type(type(exc))
    detail = scrub(str(exc), secrets) or "no details"
    if kind is NotSent:
        return NotSent(
            f"{operation}: not sent ({type(exc).__name__}: {detail})",
            operation=operation,
            msg_id=msg_id,
            hint=_NOT_SENT_HINT,
        )
    return OutcomeUnknown(
        f"{operation}: outcome unknown ({type(exc).__name__}: {detail})",
        operation=operation,
        msg_id=msg_id,
        hint=_UNKNOWN_HINT,
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def check_response(
    response: httpx.Response,
    *,
    operation: str,
    msg_id: str,
    rules: OutcomeRules,
    secrets: Iterable[str] = (),
    sent_timestamp: str | None = None,
) -> Envelope:
    """Return the envelope of a successful call, or raise the classified error."""
    return classify_answer(
        Answer(response.status_code, response.headers, response.content),
        operation=operation,
        msg_id=msg_id,
        rules=rules,
        secrets=secrets,
        sent_timestamp=sent_timestamp,
    )


@dataclass(frozen=True)
class Answer:
    """What came back for one request: status, headers and the (decoded, capped) body."""

    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def charset(self) -> str | None:
        """The charset the Content-Type declares, if any."""
        return httpx.Response(self.status, headers=self.headers).charset_encoding


def classify_answer(
    answer: Answer,
    *,
    operation: str,
    msg_id: str,
    rules: OutcomeRules,
    secrets: Iterable[str] = (),
    sent_timestamp: str | None = None,
) -> Envelope:
    """The envelope of a successful call, or the classified error (see the module doc).

    A body that is not the envelope (an HTML page, truncated or foreign JSON, an empty
    body, bytes in no known charset) is OutcomeUnknown: the call may have been applied
    behind a gateway that mangled the answer. Reads retry it; writes are reconciled.
    """
    status = answer.status
    secret_list = tuple(secrets)
    retry_after = parse_retry_after(answer.headers.get("Retry-After"))
    if status == 429 or (status == 503 and retry_after is not None):
        raise PushedBack(
            f"{operation}: pushed back by HTTP {status}"
            + (f" (Retry-After {retry_after:g}s)" if retry_after is not None else ""),
            operation=operation,
            retry_after=retry_after,
            msg_id=msg_id,
            status_code=status,
        )
    if status >= 500:
        raise _unknown(f"{operation}: HTTP {status} from the server", operation, msg_id, status)
    reason: str | None = None
    try:
        envelope = decode_envelope(answer.content, charset=answer.charset)
    except NotAnEnvelope as exc:
        reason = str(exc)
    if reason is not None:  # raised here: nothing chained keeps the body
        preview = _preview(answer.content, secret_list)
        raise _unknown(
            f"{operation}: HTTP {status} with a body that is not the API envelope: "
            f"{reason} ({preview})",
            operation,
            msg_id,
            status,
        )
    if envelope.ok:
        return envelope
    refusal = _refusal(envelope, operation, msg_id, status, rules, secret_list)
    if isinstance(refusal, CredentialsRejected) and names_the_timestamp(refusal.return_msg):
        _blame_the_clock(refusal, answer, sent_timestamp)
    raise refusal


def _blame_the_clock(
    refusal: CredentialsRejected, answer: Answer, sent_timestamp: str | None
) -> None:
    """Say that the clock is the likely cause, with the times involved, in *refusal*."""
    now = datetime.now(UTC)
    offset = server_offset(answer.headers.get("Date"), now)
    message = (
        f"{refusal.operation}: {timestamp_refused(sent_timestamp, now, offset)} "
        f"(return_code={refusal.return_code} return_msg={refusal.return_msg!r})"
    )
    refusal.message = message
    refusal.args = (message,)
    refusal.hint = CLOCK_HINT


#: How much of a server's text (a return_msg, a body) a message or log line shows at most.
MAX_SHOWN_CHARS = 500


def shorten(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """*text* cut to *limit* characters, saying how many more there were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def _preview(content: bytes, secrets: tuple[str, ...], limit: int = 80) -> str:
    """The start of a body for a message, scrubbed of secrets *before* it is cut short."""
    text = scrub(content[: 64 * 1024].decode("utf-8", errors="replace"), secrets)
    text = " ".join(text.split())
    return repr(text) if len(text) <= limit else f"starts {text[:limit]!r}"


def _refusal(
    envelope: Envelope,
    operation: str,
    msg_id: str,
    status: int,
    rules: OutcomeRules,
    secrets: tuple[str, ...],
) -> PushedBack | Refused:
    """A non-"0" return_code: pushed back if the message says so, refused otherwise."""
    return_msg = (
        None if envelope.return_msg is None else shorten(scrub(envelope.return_msg, secrets))
    )
    if rules.wants_retry(return_msg):
        error = PushedBack(
            f"{operation}: server busy: return_code={envelope.return_code} "
            f"return_msg={return_msg!r}",
            operation=operation,
            msg_id=msg_id,
            status_code=status,
            return_code=envelope.return_code,
            return_msg=return_msg,
        )
        error.hint = _PUSHBACK_HINT
        return error
    kind = CredentialsRejected if refusal_cause(return_msg) == "credentials" else Refused
    refused = kind(
        operation=operation,
        return_code=envelope.return_code,
        return_msg=return_msg,
        msg_id=msg_id,
        status_code=status,
    )
    if kind is Refused:
        refused.hint = _REFUSED_HINT
    return refused


RefusalCause = Literal["credentials", "limit"]

#: Refusals whose message says more than "no", by cause. The vendor publishes no code
#: list, so the message decides (case-insensitive substrings); the first row that matches
#: wins. ``credentials``: the request's signature, openid or timestamp was refused, not
#: its content (raised as CredentialsRejected). ``limit``: a limit (eachCmNum, num) was
#: reached, which for a grant may mean that an earlier one whose answer was lost counts.
REFUSAL_CAUSES: Mapping[RefusalCause, tuple[str, ...]] = {
    "credentials": (
        "签名",
        "digest",
        "openid",
        "appkey",
        "时间戳",
        "timestamp",
        "请求已过期",
        "请求过期",
        "鉴权",
        "授权",
    ),
    "limit": ("限领", "领完", "发放完", "已领取", "上限", "超过", "limit"),
}


def refusal_cause(return_msg: str | None) -> RefusalCause | None:
    """What a refusal's *return_msg* says beyond "no", by :data:`REFUSAL_CAUSES`."""
    text = (return_msg or "").casefold()
    for cause, patterns in REFUSAL_CAUSES.items():
        if any(p.casefold() in text for p in patterns):
            return cause
    return None


def _unknown(message: str, operation: str, msg_id: str, status: int | None) -> OutcomeUnknown:
    return OutcomeUnknown(
        message, operation=operation, msg_id=msg_id, status_code=status, hint=_UNKNOWN_HINT
    )


def body_too_large(operation: str, msg_id: str, limit: int) -> OutcomeUnknown:
    """An answer whose body is larger than *limit* bytes: not read, so not understood."""
    return _unknown(
        f"{operation}: the answer is larger than {limit:,} bytes; it was not read",
        operation,
        msg_id,
        None,
    )


def unexpected_data(operation: str, msg_id: str | None, detail: str) -> OutcomeUnknown:
    """An OK envelope whose ``response_data`` does not have the documented shape."""
    return OutcomeUnknown(
        f"{operation}: unexpected response_data: {detail}",
        operation=operation,
        msg_id=msg_id,
        hint=_UNKNOWN_HINT,
    )


def is_safe_to_retry(exc: BaseException, *, idempotent: bool) -> bool:
    """NotSent and PushedBack always; OutcomeUnknown only for idempotent calls (reads)."""
    if isinstance(exc, NotSent | PushedBack):
        return True
    if isinstance(exc, OutcomeUnknown):
        return idempotent
    return False


#: A pushback asking for a longer wait than this is not waited for by a retry loop: the
#: error goes to the caller, who can pause everything instead.
MAX_HONOURED_RETRY_AFTER_S = 120.0


def retry_wait(exc: BaseException, *, idempotent: bool) -> bool | float:
    """A stamina backoff hook: whether to retry, or how long to wait at least.

    A PushedBack's Retry-After is honoured (plus a little jitter) up to
    MAX_HONOURED_RETRY_AFTER_S; otherwise :func:`is_safe_to_retry` decides and stamina's
    exponential backoff with jitter applies.
    """
    if isinstance(exc, PushedBack) and exc.retry_after is not None:
        if exc.retry_after > MAX_HONOURED_RETRY_AFTER_S:
            return False
        return exc.retry_after + random.uniform(0.0, 0.5)
    return is_safe_to_retry(exc, idempotent=idempotent)
