"""The sandbox's own check of the request signature, openid and timestamp.

Written independently of ``runner.api`` on purpose: a signing bug must not be able to
pass on both sides. ``digest = md5_hex(BODY + "|" + APPKEY + "|" + TIMESTAMP)`` over the
exact bytes posted (UTF-8), lower-case hex.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from runner.errors import Refused

from ._clock import BEIJING, Clock
from ._protocol import CODE_BAD_OPENID, CODE_BAD_SIGNATURE, CODE_BAD_TIMESTAMP, refuse

__all__ = ["check_request", "compute_digest", "parse_timestamp"]

_TIMESTAMP = re.compile(r"[0-9]{14}")


def compute_digest(body: bytes, appkey: str, timestamp: str) -> str:
    """The lower-case md5 hex digest of ``body|appkey|timestamp`` (UTF-8)."""
    material = body + b"|" + appkey.encode("utf-8") + b"|" + timestamp.encode("utf-8")
    return hashlib.md5(material).hexdigest()


def parse_timestamp(text: str) -> datetime | None:
    """A ``yyyyMMddHHmmss`` Beijing timestamp as an aware datetime, or None if malformed."""
    if not _TIMESTAMP.fullmatch(text):
        return None
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None


def check_request(
    *,
    operation: str,
    openid: str,
    timestamp: str,
    digest: str,
    body: bytes,
    expected_openid: str,
    appkey: str,
    clock: Clock,
    window_seconds: float | None,
) -> Refused | None:
    """Why the request must be refused (openid, timestamp, signature), or None if it passes."""
    if not hmac.compare_digest(openid.encode("utf-8"), expected_openid.encode("utf-8")):
        return refuse(operation, "openid无效或未授权", CODE_BAD_OPENID)
    when = parse_timestamp(timestamp)
    if when is None:
        return refuse(operation, "时间戳格式错误,应为yyyyMMddHHmmss", CODE_BAD_TIMESTAMP)
    if window_seconds is not None:
        skew = abs((clock() - when).total_seconds())
        if skew > window_seconds:
            return refuse(operation, "时间戳已过期,请校准时间后重试", CODE_BAD_TIMESTAMP)
    expected = compute_digest(body, appkey, timestamp)
    if not hmac.compare_digest(digest.encode("utf-8"), expected.encode("utf-8")):
        return refuse(operation, "签名错误,请检查digest", CODE_BAD_SIGNATURE)
    return None
