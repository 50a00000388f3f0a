"""A scripted fake vendor behind httpx.MockTransport that checks every signature."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from runner.api import sign

APPKEY = "TESTAPPKEY0secret42"
OPENID = "openid-1234567890"
BASE_URL = "https://vendor.example"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def envelope(
    data: object = None,
    *,
    code: object = "0",
    msg: str | None = "ok",
    encode_data: bool = True,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A vendor answer; response_data JSON-encoded into a string, as the vendor does."""
    payload = json.dumps(data, ensure_ascii=False) if encode_data and data is not None else data
    body = json.dumps(
        {"return_code": code, "return_msg": msg, "msg_id": "echo", "response_data": payload},
        ensure_ascii=False,
    )
    return httpx.Response(status, content=body.encode(), headers=headers)


def raw(text: str, *, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    """A raw body exactly as given (for ids as bare JSON numbers, HTML pages...)."""
    return httpx.Response(status, content=text.encode(), headers=headers)


@dataclass
class Seen:
    """One request as the fake vendor saw it."""

    operation: str
    openid: str
    timestamp: str
    digest: str
    msg_id: str
    content: bytes
    headers: httpx.Headers
    signature_ok: bool

    @property
    def body(self) -> dict[str, object]:
        decoded = json.loads(self.content)
        assert isinstance(decoded, dict)
        return decoded


@dataclass
class FakeVendor:
    """Answers from a script (in order), then a default; checks every signature."""

    appkey: str = APPKEY
    script: list[Reply] = field(default_factory=list)
    default: Reply | None = None
    seen: list[Seen] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.split("/")
        assert parts[:4] == ["", "api", "voucher", "v1"], request.url.path
        operation, openid, timestamp, digest, msg_id = parts[4:]
        content = request.content
        ok = sign(content.decode("utf-8"), self.appkey, timestamp) == digest
        self.seen.append(
            Seen(operation, openid, timestamp, digest, msg_id, content, request.headers, ok)
        )
        reply = self.script.pop(0) if self.script else self.default
        if reply is None:
            return envelope(None)
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def secrets(self) -> list[str]:
        """Everything that must never show: the appkey, every digest, every path."""
        out = [self.appkey]
        for s in self.seen:
            out += [s.digest, f"{s.timestamp}/{s.digest}"]
        return out
