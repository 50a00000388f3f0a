"""The ``notify:`` key: webhooks that hear about a drop's progress (``runner watch``).

Each target is a URL, a body format (plain JSON, a WeCom or a DingTalk group robot) and
the events it wants. Robot URLs carry their secret key in the query string, so write them
as ``${VAR}`` references; a URL is never repeated in an error message.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

from runner.campaign._types import fail

__all__ = ["NOTIFY_EVENTS", "NotifyEvent", "NotifyFormat", "NotifyTarget", "WebhookUrl"]

NotifyEvent = Literal["rejected", "awaiting-approval", "done", "failed", "needs-review"]
"""What happened to a drop: refused before planning, waiting for approval, finished,
failed, or stopped with outcomes a person must settle."""

NotifyFormat = Literal["json", "wecom", "dingtalk"]
"""The body sent: the notice as JSON, or a WeCom / DingTalk group robot markdown message."""

#: Every event, in the order a drop can meet them.
NOTIFY_EVENTS: Final[tuple[NotifyEvent, ...]] = get_args(NotifyEvent)

_EXAMPLE = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY}"


def _webhook_url(value: Any) -> str:
    """An http(s) URL with a host; the value is never quoted back (it may hold a key)."""
    if not isinstance(value, str):
        raise fail("must be text: an http(s) address", f"e.g. url: {_EXAMPLE}")
    text = value.strip()
    if not text:
        raise fail("must not be empty", f"e.g. url: {_EXAMPLE}")
    if re.search(r"\s", text):
        raise fail("must not contain blanks", "Check the address (and the variable it uses).")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        raise fail("is not a valid address", f"e.g. url: {_EXAMPLE}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise fail(
            "must start with http:// or https://",
            f"Paste the robot's webhook address, e.g. url: {_EXAMPLE}",
        )
    if not parts.hostname:
        raise fail("has no host name", f"e.g. url: {_EXAMPLE}")
    return text


WebhookUrl = Annotated[
    str,
    PlainValidator(_webhook_url),
    WithJsonSchema({"type": "string", "pattern": r"^(https?://|\$\{[A-Za-z_][A-Za-z0-9_]*\})"}),
]
"""An http(s) address; in the file usually a ``${VAR}`` reference (the key is secret)."""


class NotifyTarget(BaseModel):
    """One ``notify`` entry: where to POST a notice, in which format, for which events."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    url: WebhookUrl = Field(
        description="Webhook address (http or https). Robot addresses carry a secret key: "
        "write a reference such as ${WECOM_WEBHOOK}, or ...send?key=${WECOM_KEY}."
    )
    format: NotifyFormat = Field(
        "json",
        description="json (the notice as JSON, default), wecom (WeCom group robot markdown) "
        "or dingtalk (DingTalk robot markdown).",
    )
    events: list[NotifyEvent] = Field(
        default_factory=lambda: list(NOTIFY_EVENTS),
        min_length=1,
        description="Which events to send: rejected, awaiting-approval, done, failed, "
        "needs-review (default: all).",
    )

    def wants(self, event: str) -> bool:
        """Whether this target asked for ``event``."""
        return event in self.events
