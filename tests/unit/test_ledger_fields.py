"""Scrubbing secrets never changes the plan data the ledger keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.ledger import JobRow, Ledger, VoucherRow
from runner.redaction import Redactor


@pytest.fixture
def short_secret() -> Redactor:
    return Redactor.of("y")


def test_voucher_fields_survive_a_short_secret(tmp_path: Path, short_secret: Redactor) -> None:
    """Even a one-letter appkey leaves the stored addVoucherInfo payload intact."""
    fields: dict[str, object] = {"name": "满100减10", "payType": "UNLIMITED", "money": "10.00"}
    with Ledger.open(tmp_path, "c", redactor=short_secret) as ledger:
        ledger.sync_plan(
            "h", [VoucherRow("v", "f", fields)], [JobRow("j", "v", "a", "C1", "cm_code", 1)]
        )
    with Ledger.open(tmp_path, "c", read_only=True) as ledger:
        assert dict(ledger.voucher("v").fields) == fields


def test_free_text_is_scrubbed_without_breaking_json(
    tmp_path: Path, short_secret: Redactor
) -> None:
    """An error text holding the secret is scrubbed, and the event log still parses."""
    with Ledger.open(tmp_path, "c", redactor=short_secret) as ledger:
        ledger.sync_plan(
            "h", [VoucherRow("v", "f", {})], [JobRow("j", "v", "a", "C1", "cm_code", 1)]
        )
        ledger.mark_sending("j", "m1")
        ledger.mark_unknown("j", error='timeout "y" quoted')
        job = ledger.job("j")
        details = [e.detail for e in ledger.events("j")]
    assert job.last_error == 'timeout "***" quoted'
    assert all(isinstance(d, dict) for d in details)
