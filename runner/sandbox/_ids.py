"""Vendor-like ids: 19-digit decimal strings above 2**53, derived deterministically.

Ids are strings from birth to the wire: they never pass through int-to-float conversion.
"""

from __future__ import annotations

import hashlib

__all__ = ["make_id"]

_LOW = 2**60  # the smallest 19-digit power of two: every id is far beyond 2**53
_SPAN = 2**63 - _LOW  # ids stay below 2**63, like the vendor's signed 64-bit ids


def make_id(seed: int, namespace: str, n: int) -> str:
    """The ``n``-th id of ``namespace`` for ``seed``: always 19 digits, in [2**60, 2**63)."""
    material = f"{seed}:{namespace}:{n}".encode()
    value = int.from_bytes(hashlib.sha256(material).digest()[:8], "big") % _SPAN
    return str(_LOW + value)
