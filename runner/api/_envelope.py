"""Decoding the response envelope ``{"return_code", "return_msg", "msg_id", "response_data"}``.

Numbers are kept as their exact JSON text (``parse_int=str``, ``parse_float=str``) so that
19-digit ids, bare or quoted, arrive as strings; the models turn the few real counts back
into ints. ``response_data`` is usually itself a JSON document inside a string: it is
decoded a second time when it parses. This module only decodes; ``_outcome`` classifies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["Envelope", "NotAnEnvelope", "decode_envelope", "loads_exact"]


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
    """``json.loads`` keeping every number as its exact text."""
    return json.loads(text, parse_int=str, parse_float=str)


def decode_envelope(content: bytes) -> Envelope:
    """Decode a response body; raise :class:`NotAnEnvelope` when it is not an envelope."""
    if not content.strip():
        raise NotAnEnvelope("the body is empty")
    try:
        outer = loads_exact(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotAnEnvelope("the body is not JSON") from exc
    if not isinstance(outer, dict) or "return_code" not in outer:
        raise NotAnEnvelope("the JSON body has no return_code")
    code = outer["return_code"]
    if not isinstance(code, str):
        raise NotAnEnvelope(f"return_code is {type(code).__name__}, not a number or text")
    return Envelope(
        return_code=code.strip(),
        return_msg=_optional_text(outer.get("return_msg")),
        msg_id=_optional_text(outer.get("msg_id")),
        response_data=_decode_data(outer.get("response_data")),
    )


def _decode_data(data: object) -> object:
    """Decode ``response_data`` a second time when it is a JSON string; else keep it."""
    if not isinstance(data, str):
        return data
    if not data.strip():
        return None
    try:
        return loads_exact(data)
    except json.JSONDecodeError:
        return data


def _optional_text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
