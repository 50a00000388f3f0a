"""Request signing for the voucher OpenAPI: Beijing timestamps, md5 digests, message ids.

``digest = md5_hex_lowercase(utf8(BODY + "|" + APPKEY + "|" + TIMESTAMP))`` where BODY is
exactly the text that is posted. The digest is as secret as the appkey for the life of
the timestamp: it goes into the URL path and nowhere else.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from runner.clock import BEIJING

__all__ = ["BEIJING", "beijing_timestamp", "new_msg_id", "sign"]


def beijing_timestamp(now: datetime | None = None) -> str:
    """``yyyyMMddHHmmss`` in Beijing time (UTC+8) for *now* (an aware datetime) or the clock."""
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        msg = "beijing_timestamp needs an aware datetime (with tzinfo), got a naive one"
        raise ValueError(msg)
    return now.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


def sign(body: str, appkey: str, timestamp: str) -> str:
    """The request digest: md5 of utf-8 ``body|appkey|timestamp``, lowercase hex."""
    data = f"{body}|{appkey}|{timestamp}".encode()
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def new_msg_id() -> str:
    """A fresh request id (uuid4 hex); the server echoes it back but does not deduplicate."""
    return uuid.uuid4().hex
