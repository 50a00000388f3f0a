"""What ``runner api OPERATION [JSON]`` does: parse JSON, make one attempt, format the answer."""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx

from runner.api._client import VoucherClient
from runner.api._credentials import Credentials
from runner.errors import UsageError

__all__ = ["call_once", "format_response", "parse_payload"]

_EXAMPLE = """runner api getCmInfos '{"voucher_id":"8144100181735612578"}'"""


def parse_payload(text: str) -> dict[str, object]:
    """The JSON argument as an object; anything else is a UsageError saying where it broke."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"the JSON argument is not valid JSON: {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})",
            hint=f"Quote the whole object for the shell, e.g. {_EXAMPLE}",
        ) from None
    if not isinstance(value, dict):
        raise UsageError(
            f"the JSON argument must be an object {{...}}, not {type(value).__name__}",
            hint=f"Pass the request body as one JSON object, e.g. {_EXAMPLE}",
        )
    return value


async def call_once(
    operation: str,
    payload: Mapping[str, object],
    *,
    credentials: Credentials,
    timeout_s: float = 15.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> object:
    """One attempt of *operation*; the decoded ``response_data`` (no retry, no pagination)."""
    async with VoucherClient(credentials, timeout_s=timeout_s, transport=transport) as client:
        return await client.call(operation, payload)


def format_response(data: object) -> str:
    """Pretty JSON for people; numbers are shown as the exact text the server sent."""
    return json.dumps(data, ensure_ascii=False, indent=2)
