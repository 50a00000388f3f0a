"""The three ways to name a customer to the vendor, said once.

``receiveVoucherInfo`` takes exactly one of ``cmId``, ``cmCode`` and ``cmSourceCode``;
audiences choose one with ``key:``, the plan and the ledger store it as a job's
``key_kind``, and reconciliation counts remote instances under each.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["KEY_KINDS", "KeyKind"]

KeyKind = Literal["cm_id", "cm_code", "cm_source_code"]
KEY_KINDS: tuple[KeyKind, ...] = get_args(KeyKind)
