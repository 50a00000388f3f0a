"""Reading one request body's fields the way the vendor would, refusing in Chinese.

Missing, ``null`` and empty-string fields count as absent. Text fields also accept JSON
numbers (the vendor's own examples post ids as bare numbers); integers are exact, and
decimals are parsed as :class:`~decimal.Decimal`, never through a float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from runner.errors import Refused

from ._protocol import refuse

__all__ = ["Payload", "decode_body"]

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def decode_body(operation: str, body: bytes) -> Payload:
    """Parse a request body (a JSON object) exactly: big ints stay ints, decimals Decimal."""
    try:
        data = json.loads(body.decode("utf-8"), parse_float=Decimal) if body.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise refuse(operation, "请求参数格式错误,请求体必须是JSON对象") from None
    if not isinstance(data, dict):
        raise refuse(operation, "请求参数格式错误,请求体必须是JSON对象")
    return Payload(operation, data)


class Payload:
    """The fields of one request body, read with the vendor's rules."""

    def __init__(self, operation: str, data: Mapping[str, object]) -> None:
        self.operation = operation
        self._data = dict(data)

    def refuse(self, message: str) -> Refused:
        """A generic refusal (``return_code`` "1") for this operation."""
        return refuse(self.operation, message)

    def text(self, key: str, *, max_len: int | None = None) -> str | None:
        """A text field (numbers accepted as their digits), or None when absent."""
        value = self._data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise self.refuse(f"参数{key}格式错误")
        text = value if isinstance(value, str) else str(value)
        text = text.strip()
        if max_len is not None and len(text) > max_len:
            raise self.refuse(f"参数{key}长度不能超过{max_len}")
        return text or None

    def required(self, key: str, *, max_len: int | None = None) -> str:
        """A text field that must be present."""
        value = self.text(key, max_len=max_len)
        if value is None:
            raise self.refuse(f"缺少必填参数{key}")
        return value

    def enum(self, key: str, allowed: Collection[str], *, default: str | None = None) -> str:
        """One of ``allowed``; ``default`` when absent (absent without default: refused)."""
        value = self.text(key)
        if value is None:
            if default is None:
                raise self.refuse(f"缺少必填参数{key}")
            return default
        if value not in allowed:
            raise self.refuse(f"参数{key}取值错误:{value},可选值:{'/'.join(allowed)}")
        return value

    def optional_date(self, key: str) -> date | None:
        """A ``yyyy-MM-dd`` date, or None when absent."""
        value = self.text(key)
        if value is None:
            return None
        if _DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.refuse(f"参数{key}日期格式错误,应为yyyy-MM-dd")

    def required_date(self, key: str) -> date:
        """A ``yyyy-MM-dd`` date that must be present."""
        value = self.optional_date(key)
        if value is None:
            raise self.refuse(f"缺少必填参数{key}")
        return value

    def timestamp(self, key: str) -> str | None:
        """A ``yyyy-MM-dd HH:mm:ss`` time, or None when absent."""
        value = self.text(key)
        if value is None:
            return None
        if _DATETIME.fullmatch(value):
            try:
                datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
                return value
            except ValueError:
                pass
        raise self.refuse(f"参数{key}时间格式错误,应为yyyy-MM-dd HH:mm:ss")

    def integer(
        self, key: str, *, default: int | None = None, low: int = 0, high: int = 99999
    ) -> int:
        """A whole number in ``[low, high]`` (a JSON int or a string of digits)."""
        value = self._data.get(key)
        if value is None or value == "":
            if default is None:
                raise self.refuse(f"缺少必填参数{key}")
            return default
        number = _as_int(value)
        if number is None:
            raise self.refuse(f"参数{key}必须是整数")
        if not low <= number <= high:
            raise self.refuse(f"参数{key}必须在{low}到{high}之间")
        return number

    def decimal(self, key: str) -> Decimal | None:
        """A decimal number (JSON number or numeric string), or None when absent."""
        value = self.text(key)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.refuse(f"参数{key}必须是数字") from None
        if not number.is_finite():
            raise self.refuse(f"参数{key}必须是数字")
        return number

    def id_list(self, key: str) -> list[str]:
        """A comma-separated list (either comma), de-duplicated in order; [] when absent."""
        value = self.text(key)
        if value is None:
            return []
        items = [part.strip() for part in value.replace(",", ",").split(",")]
        return list(dict.fromkeys(item for item in items if item))


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None
