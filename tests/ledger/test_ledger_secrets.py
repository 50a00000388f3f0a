"""The appkey never reaches the ledger file, even when it leaks into an error text."""

from __future__ import annotations

import inspect
from pathlib import Path

from runner import logs
from runner.ledger import Ledger

from .helpers import CAMPAIGN, VOUCHER, seed

FAKE_APPKEY = "BFCO0PAgIUgd50c0l6"


def _campaign_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file())


def test_registered_secret_never_reaches_the_file(state_dir: Path) -> None:
    """Errors, messages, details and summaries holding the appkey are stored scrubbed."""
    logs.register_secret(FAKE_APPKEY)
    leak = f"POST /api/voucher/v1/receiveVoucherInfo appkey={FAKE_APPKEY} failed"
    with Ledger.open(state_dir, CAMPAIGN) as ledger:
        seed(ledger, "j1", "j2")
        run_id = ledger.start_run("run", "hash-1")
        ledger.mark_sending("j1", "m-1")
        ledger.mark_failed("j1", return_code="1", return_msg=leak, error=leak)
        ledger.mark_sending("j2", "m-2")
        ledger.mark_unknown("j2", error=leak)
        ledger.mark_review("j2", reason=leak, detail={"seen": leak})
        ledger.finish_run(run_id, 1, {"last_error": leak})
        stored = ledger.job("j1")
        assert stored.return_msg is not None
        assert FAKE_APPKEY not in stored.return_msg
        assert "***" in stored.return_msg
    data = _campaign_bytes(state_dir / CAMPAIGN)
    assert FAKE_APPKEY.encode() not in data
    assert "十元券".encode() in data  # the check does see the file's text


def test_ledger_api_takes_no_secret() -> None:
    """No public ledger method has a parameter for the appkey or any other secret."""
    names = {
        param
        for _, method in inspect.getmembers(Ledger, inspect.isfunction)
        for param in inspect.signature(method).parameters
    }
    assert "job_id" in names
    assert not {n for n in names if "appkey" in n or "secret" in n or "digest" in n}


def test_voucher_payload_is_stored_without_secrets(state_dir: Path) -> None:
    """A typical voucher payload is stored as given, and the file holds no appkey."""
    logs.register_secret(FAKE_APPKEY)
    with Ledger.open(state_dir, CAMPAIGN) as ledger:
        seed(ledger, "j1")
        assert ledger.voucher(VOUCHER).fields["name"] == "十元券"
    assert FAKE_APPKEY.encode() not in _campaign_bytes(state_dir / CAMPAIGN)
