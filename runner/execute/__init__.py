"""Running a plan exactly once: create → grant → reconcile → verify, under a rate limit.

The ledger's write-ahead rule holds everywhere: a row is ``sending`` and committed
before its request leaves, and settled as soon as the answer is in. A request whose
outcome is unknown is never resent before reconciliation proved it absent.
"""

from __future__ import annotations

from runner.execute._budget import RateBudget
from runner.execute._changes import apply_lifecycle, settle_changes
from runner.execute._context import ExecSettings, RunContext
from runner.execute._drift import voucher_drift
from runner.execute._gate import close_gate, closed_by_ledger, closed_reason
from runner.execute._lookup import RemoteVoucher, identity_matches, owned_ids, remote_vouchers
from runner.execute._rate_limit import HEADROOM, AdaptiveThrottle
from runner.execute._readback import read_back
from runner.execute._reconcile import by_customer, stable_counts
from runner.execute._run import RunOutcome, execute
from runner.execute._settle import (
    ChangeDecision,
    GrantDecision,
    RemoteVoucherState,
    VoucherDecision,
    already_applied,
    matches_payload,
    settle_change,
    settle_customer,
    settle_voucher,
)
from runner.execute._verify import Mismatch, VerifyReport, verify

__all__ = [
    "HEADROOM",
    "AdaptiveThrottle",
    "ChangeDecision",
    "ExecSettings",
    "GrantDecision",
    "Mismatch",
    "RateBudget",
    "RemoteVoucher",
    "RemoteVoucherState",
    "RunContext",
    "RunOutcome",
    "VerifyReport",
    "VoucherDecision",
    "already_applied",
    "apply_lifecycle",
    "by_customer",
    "close_gate",
    "closed_by_ledger",
    "closed_reason",
    "execute",
    "identity_matches",
    "matches_payload",
    "owned_ids",
    "read_back",
    "remote_vouchers",
    "settle_change",
    "settle_changes",
    "settle_customer",
    "settle_voucher",
    "stable_counts",
    "verify",
    "voucher_drift",
]
