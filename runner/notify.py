"""Notices of a drop's progress, POSTed to the campaign's ``notify`` webhooks.

``runner watch`` builds one :class:`Notice` when a drop is rejected, awaits approval,
is done, fails or needs review, and calls :func:`send_notice` between drops. Each target
whose ``events`` include the notice's event gets one POST in its format:

* ``json``: the notice itself, ``{"kind": "notice", "schema_version": 1, "event": ...}``;
* ``wecom``: a WeCom group robot message ``{"msgtype": "markdown", "markdown": {"content"}}``;
* ``dingtalk``: a DingTalk robot message ``{"msgtype": "markdown", "markdown": {"title",
  "text"}}``.

Sending never raises: a delivery that fails (connect error, timeout, HTTP 5xx or 429, a
robot's "too frequent" errcode) is retried a few times with stamina, then given up with
one warning. Robots answer HTTP 200 with ``errcode`` 0 on success; any other errcode is a
failed delivery. The webhook URL holds the robot's key: logs and :class:`Delivery` show it
only through :func:`redact_url`, and the redactor given (the appkey) scrubs the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import httpx
import stamina
import structlog
from pydantic import BaseModel, ConfigDict, Field

from runner import __version__
from runner.campaign import NotifyEvent, NotifyFormat, NotifyTarget
from runner.clock import beijing_stamp
from runner.redaction import MASK, NO_SECRETS, Redactor

__all__ = ["NOTICE_SCHEMA_VERSION", "Delivery", "Notice", "redact_url", "send_notice"]

#: The ``schema_version`` of the ``json`` body; changes only when a field is removed or
#: changes meaning.
NOTICE_SCHEMA_VERSION: Final = 1

_log = structlog.get_logger("runner.notify")

_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": f"campaign-runner/{__version__}",
}
#: Robots refuse longer markdown (WeCom: 4096 bytes); the text is cut to fit.
_MAX_MARKDOWN_BYTES = 4000
#: Path segments this long are tokens (Feishu, Slack and others put the key in the path).
_TOKEN_SEGMENT = 16
#: Parts of a URL shorter than this are not hidden in error texts (too common to be keys).
_MIN_SECRET = 8
#: A robot's refusal worth retrying: its frequency limit (WeCom 45009, DingTalk 130101 and
#: 410100), recognised by the message as well as by the code.
_FREQUENCY_CODES = frozenset({45009, 130101, 410100})
_FREQUENCY_WORDS = re.compile(r"freq|too fast|too many|频率|频繁|限流", re.IGNORECASE)

_LABELS: dict[str, tuple[str, str]] = {
    "rejected": ("已拒收", "rejected"),
    "awaiting-approval": ("待审批", "awaiting approval"),
    "done": ("已完成", "done"),
    "failed": ("失败", "failed"),
    "needs-review": ("待人工复核", "needs review"),
}


class Notice(BaseModel):
    """What happened to one drop, in words a person reads and fields a program reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: NotifyEvent = Field(description="What happened to the drop.")
    campaign: str | None = Field(description="The campaign id; None: the file was unreadable.")
    drop: str = Field(description="The drop folder's name.")
    stage: str = Field(description="The drop's stage, e.g. awaiting-approval, running, done.")
    message: str = Field(description="One plain sentence saying what happened.")
    counts: dict[str, int] = Field(default_factory=dict, description="Jobs per state.")
    files: list[str] = Field(default_factory=list, description="Files a person should open.")
    plan_hash: str | None = Field(None, description="The plan's hash, once planned.")
    at: str = Field(default_factory=beijing_stamp, description="When, Beijing time (ISO 8601).")


@dataclass(frozen=True)
class Delivery:
    """How sending one notice to one target ended; the URL shown without its secrets."""

    url_redacted: str
    ok: bool
    status: int | None
    error: str | None


def redact_url(url: str) -> str:
    """``url`` safe to show: no userinfo, no query string or fragment, no token-like path.

    ``https://user:pw@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K`` becomes
    ``https://***@qyapi.weixin.qq.com/cgi-bin/webhook/send?***``; a path segment of 16 or
    more characters (the token of a Feishu or Slack hook) becomes ``***`` too.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    if "@" in parts.netloc:
        netloc = f"{MASK}@{netloc}"
    path = "/".join(MASK if len(s) >= _TOKEN_SEGMENT else s for s in parts.path.split("/"))
    query = MASK if parts.query or parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def send_notice(
    notice: Notice,
    targets: Sequence[NotifyTarget],
    *,
    redactor: Redactor | None = None,
    timeout_s: float = 5.0,
    attempts: int = 3,
    transport: httpx.BaseTransport | None = None,
) -> list[Delivery]:
    """POST ``notice`` to each target that wants its event; one :class:`Delivery` each.

    Never raises for a delivery that fails: it is retried up to ``attempts`` times in all
    (connect errors, timeouts, 5xx, 429, a robot's frequency limit), logged with the URL
    redacted, and reported as ``ok=False``. ``redactor``'s secrets (the appkey) are
    replaced by ``***`` in every body sent and every text logged. Targets that did not ask
    for the event get no request and no :class:`Delivery`.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    if timeout_s <= 0:
        raise ValueError("timeout_s must be greater than 0")
    secrets = redactor if redactor is not None else NO_SECRETS
    chosen = [target for target in targets if target.wants(notice.event)]
    if not chosen:
        return []
    with httpx.Client(
        timeout=httpx.Timeout(timeout_s), transport=transport, follow_redirects=False
    ) as client:
        return [_deliver(client, notice, target, secrets, attempts) for target in chosen]


# --- one target ---------------------------------------------------------------------------


class _Failed(Exception):
    """A failed attempt; its text holds no secret (stamina logs its repr on a retry)."""

    def __init__(self, error: str, *, status: int | None = None, retry: bool) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.retry = retry


def _deliver(
    client: httpx.Client,
    notice: Notice,
    target: NotifyTarget,
    redactor: Redactor,
    attempts: int,
) -> Delivery:
    shown = redact_url(target.url)
    hidden = _url_redactor(redactor, target.url)
    log = _log.bind(url=shown, notice_event=notice.event, format=target.format, drop=notice.drop)
    try:
        body = json.dumps(_body(notice, target.format, redactor), ensure_ascii=False)
        status = _post_with_retries(client, target, body.encode("utf-8"), hidden, attempts)
    except _Failed as failed:
        log.warning("notice not delivered", status=failed.status, error=failed.error)
        return Delivery(shown, ok=False, status=failed.status, error=failed.error)
    except Exception as exc:  # a bug must not stop the watcher: report it as a failure
        error = hidden.text(f"{type(exc).__name__}: {exc}")
        log.error("notice not delivered", error=error)
        return Delivery(shown, ok=False, status=None, error=error)
    log.info("notice delivered", status=status)
    return Delivery(shown, ok=True, status=status, error=None)


def _url_redactor(redactor: Redactor, url: str) -> Redactor:
    """``redactor`` plus the URL's secret parts, for error texts that might quote them."""
    pieces: tuple[str | None, ...] = ()
    try:
        parts = urlsplit(url)
        pieces = (parts.query, parts.fragment, parts.password, parts.username)
    except ValueError:
        pass
    # a short piece (a user name "u") is no secret, and hiding it would garble the text
    return redactor.including(url, *(p for p in pieces if p and len(p) >= _MIN_SECRET))


def _post_with_retries(
    client: httpx.Client, target: NotifyTarget, body: bytes, hidden: Redactor, attempts: int
) -> int:
    """The HTTP status of the attempt that succeeded; raises the last :class:`_Failed`."""
    for attempt in stamina.retry_context(
        on=lambda exc: isinstance(exc, _Failed) and exc.retry,
        attempts=attempts,
        timeout=None,
        wait_initial=0.5,
        wait_max=5.0,
    ):
        with attempt:
            return _post_once(client, target, body, hidden)
    raise AssertionError("stamina.retry_context ended without an attempt")  # pragma: no cover


def _post_once(client: httpx.Client, target: NotifyTarget, body: bytes, hidden: Redactor) -> int:
    try:
        response = client.post(target.url, content=body, headers=_HEADERS)
    except httpx.UnsupportedProtocol as exc:
        raise _Failed(hidden.text(f"{type(exc).__name__}: {exc}"), retry=False) from None
    except httpx.TimeoutException:
        raise _Failed("no answer in time (timeout)", retry=True) from None
    except httpx.TransportError as exc:
        raise _Failed(hidden.text(f"{type(exc).__name__}: {exc}"), retry=True) from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise _Failed(f"HTTP {status}", status=status, retry=True)
    if not 200 <= status < 300:
        raise _Failed(f"HTTP {status}", status=status, retry=False)
    if target.format != "json":
        _check_errcode(response, hidden)
    return status


def _check_errcode(response: httpx.Response, hidden: Redactor) -> None:
    """A robot's answer: ``{"errcode": 0}`` is a success, anything else a refusal."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    code = answer.get("errcode") if isinstance(answer, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        raise _Failed("the robot's answer has no errcode", status=response.status_code, retry=False)
    if code == 0:
        return
    message = str(answer.get("errmsg", "")) if isinstance(answer, dict) else ""
    error = hidden.text(f"errcode {code}: {message[:200]}".rstrip(": "))
    frequent = code in _FREQUENCY_CODES or _FREQUENCY_WORDS.search(message) is not None
    raise _Failed(error, status=response.status_code, retry=frequent)


# --- bodies -------------------------------------------------------------------------------


def _body(notice: Notice, fmt: NotifyFormat, redactor: Redactor) -> dict[str, Any]:
    """The request body for ``fmt``, every secret of ``redactor`` replaced by ``***``."""
    fields: dict[str, Any] = redactor.redact(notice.model_dump(mode="json"))
    if fmt == "json":
        return {"kind": "notice", "schema_version": NOTICE_SCHEMA_VERSION, **fields}
    title = _title(fields)
    if fmt == "wecom":
        content = _fit("\n".join(_lines(fields, bold_title=True)))
        return {"msgtype": "markdown", "markdown": {"content": content}}
    # DingTalk's markdown needs a blank line to break a line
    text = _fit("\n\n".join(_lines(fields, bold_title=False)))
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def _title(fields: dict[str, Any]) -> str:
    chinese, english = _LABELS[fields["event"]]
    return f"{fields['campaign'] or fields['drop']} {chinese} / {english}"


def _lines(fields: dict[str, Any], *, bold_title: bool) -> list[str]:
    """The markdown lines, Chinese first then English, shared by both robots."""
    chinese, english = _LABELS[fields["event"]]
    name = fields["campaign"] or "(活动文件无法读取 / campaign file unreadable)"
    head = f"{name} {chinese} / {english}"
    head = f"**{head}**" if bold_title else f"### {head}"
    lines = [
        head,
        f"> 投放 drop: `{fields['drop']}` · 阶段 stage: {fields['stage']}",
        str(fields["message"]),
    ]
    counts: dict[str, int] = fields["counts"]
    if counts:
        lines.append("任务 jobs: " + " · ".join(f"{state} {n}" for state, n in counts.items()))
    lines += [f"文件 file: `{path}`" for path in fields["files"]]
    if fields["plan_hash"]:
        lines.append(f"计划 plan: `{fields['plan_hash']}`")
    lines.append(f"时间 at: {fields['at']}")
    return lines


def _fit(text: str) -> str:
    """``text`` cut to what a robot accepts, marked with an ellipsis when cut."""
    data = text.encode("utf-8")
    if len(data) <= _MAX_MARKDOWN_BYTES:
        return text
    return data[: _MAX_MARKDOWN_BYTES - 3].decode("utf-8", errors="ignore") + "…"
