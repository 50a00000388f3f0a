"""The wire format: return codes, the response envelope and JSON with bare 19-digit ids.

The vendor publishes no list of return codes beyond ``"0"`` (success) and ``"1"``
(failure); the others below are the sandbox's own invention, chosen so that clients can
be tested against distinct refusals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from runner.errors import Refused

__all__ = [
    "CODE_BAD_OPENID",
    "CODE_BAD_SIGNATURE",
    "CODE_BAD_TIMESTAMP",
    "CODE_FAILED",
    "CODE_OK",
    "CODE_TOO_FREQUENT",
    "CODE_UNKNOWN_OPERATION",
    "MSG_TOO_FREQUENT",
    "OPERATIONS",
    "envelope",
    "json_with_bare_ids",
    "refuse",
]

CODE_OK = "0"
CODE_FAILED = "1"
CODE_BAD_SIGNATURE = "1001"
CODE_BAD_OPENID = "1002"
CODE_BAD_TIMESTAMP = "1003"
CODE_UNKNOWN_OPERATION = "1004"
CODE_TOO_FREQUENT = "1005"

MSG_OK = "操作成功"
MSG_TOO_FREQUENT = "接口调用过于频繁,请稍后再试"

OPERATIONS: tuple[str, ...] = (
    "getVoucherInfos",
    "addVoucherInfo",
    "finishVoucher",
    "modifyVoucherEndDate",
    "receiveVoucherInfo",
    "getCmInfos",
    "queryVoucherUsedInfo",
)


def refuse(operation: str, message: str, code: str = CODE_FAILED) -> Refused:
    """A refusal to answer with: ``return_code`` ``code`` and the Chinese ``message``."""
    return Refused(operation=operation, return_code=code, return_msg=message)


def envelope(
    msg_id: str, *, code: str = CODE_OK, message: str | None = None, data: str | None = None
) -> bytes:
    """The HTTP body of every answer: ``response_data`` is a JSON *string* (or null)."""
    body = {
        "return_code": code,
        "return_msg": message if message is not None else (MSG_OK if code == CODE_OK else ""),
        "msg_id": msg_id,
        "response_data": data,
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def json_with_bare_ids(items: Sequence[Mapping[str, object]], id_key: str = "id") -> str:
    """A JSON array whose ``id_key`` values are written as bare numbers, digit for digit.

    The vendor's document shows 19-digit ids as JSON numbers; writing them by hand keeps
    every digit (going through a float would not) and makes clients prove they do too.
    """
    parts: list[str] = []
    for item in items:
        ident = str(item[id_key])
        if not (ident.isascii() and ident.isdigit()):
            raise ValueError(f"id {ident!r} is not a run of digits")
        rest = {k: v for k, v in item.items() if k != id_key}
        tail = json.dumps(rest, ensure_ascii=False)
        parts.append(f'{{"{id_key}": {ident}' + ("}" if tail == "{}" else ", " + tail[1:]))
    return "[" + ", ".join(parts) + "]"
