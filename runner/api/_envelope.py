"""Decoding the response envelope ``{"return_code", "return_msg", "msg_id", "response_data"}``.

Numbers are kept as their exact JSON text (``parse_int=str``, ``parse_float=str``) so that
19-digit ids, bare or quoted, arrive as strings; the models turn the few real counts back
into ints. ``response_data`` is usually itself a JSON document inside a string: it is
decoded a second time when it parses. This module only decodes; ``_outcome`` classifies.

The body is untrusted: it is read as UTF-8 (or the charset its Content-Type declares),
JSON nested too deeply to decode is "not JSON" rather than a crash, and a lone UTF-16
surrogate escaped in a string (``"\\ud800"``, text no file or database can store) becomes
U+FFFD.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass

__all__ = ["Envelope", "NotAnEnvelope", "decode_envelope", "loads_exact"]

#: A JSON escape of a UTF-16 surrogate: only then can a decoded string hold a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class NotAnEnvelope(ValueError):
    """The body is not the vendor's JSON envelope; the reason says why (never leaves the api)."""


@dataclass(frozen=True)
class Envelope:
    """A decoded envelope: ``return_code`` as text, ``response_data`` decoded."""

    return_code: str
    return_msg: str | None
    msg_id: str | None
    response_data: object

    @property
    def ok(self) -> bool:
        """True when ``return_code`` is "0" (an int 0 on the wire counts too)."""
        return self.return_code == "0"


def loads_exact(text: str | bytes) -> object:
    """``json.loads`` keeping every number as its exact text; lone surrogates become U+FFFD.

    Raises ``json.JSONDecodeError``, ``UnicodeDecodeError`` or ``RecursionError`` (JSON
    nested deeper than Python's recursion limit).
    """
    value = json.loads(text, parse_int=str, parse_float=str)
    source = text if isinstance(text, str) else text.decode("utf-8", errors="replace")
    return _no_lone_surrogates(value) if _SURROGATE_ESCAPE.search(source) else value


def decode_envelope(content: bytes, *, charset: str | None = None) -> Envelope:
    """Decode a response body; raise :class:`NotAnEnvelope` when it is not an envelope.

    *charset*: the one the response's Content-Type declares (default UTF-8).
    """
    if not content.strip():
        raise NotAnEnvelope("the body is empty")
    text = _text(content, charset)
    try:
        outer = loads_exact(text)
    except json.JSONDecodeError:
        raise NotAnEnvelope("the body is not JSON") from None
    except RecursionError:
        raise NotAnEnvelope("the body is JSON nested too deeply to read") from None
    if not isinstance(outer, dict) or "return_code" not in outer:
        raise NotAnEnvelope(f"the JSON body has no return_code (it is {_json_type(outer)})")
    code = outer["return_code"]
    if not isinstance(code, str):
        raise NotAnEnvelope(f"return_code is {_json_type(code)}, not a number or text")
    return Envelope(
        return_code=code.strip(),
        return_msg=_optional_text(outer.get("return_msg")),
        msg_id=_optional_text(outer.get("msg_id")),
        response_data=_decode_data(outer.get("response_data")),
    )


def _text(content: bytes, charset: str | None) -> str:
    """The body as text in its declared charset (UTF-8 unless told), or NotAnEnvelope."""
    encoding = "utf-8"
    if charset:
        try:
            encoding = codecs.lookup(charset).name
        except LookupError:
            raise NotAnEnvelope(f"the body's charset {charset[:40]!r} is unknown") from None
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        raise NotAnEnvelope(f"the body is not {encoding.upper()} text") from None


def _decode_data(data: object) -> object:
    """Decode ``response_data`` a second time when it is a JSON string; else keep it."""
    if not isinstance(data, str):
        return data
    if not data.strip():
        return None
    try:
        return loads_exact(data)
    except (json.JSONDecodeError, RecursionError):
        return data


def _no_lone_surrogates(value: object) -> object:
    """*value* with every lone surrogate in its strings (and keys) replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_no_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {
            _LONE_SURROGATE.sub("\ufffd", key): _no_lone_surrogates(item)
            for key, item in value.items()
        }
    return value


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type (numbers are decoded as text)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "text" if isinstance(value, str) else type(value).__name__


def _optional_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (RecursionError, ValueError):
        return "(unreadable)"
