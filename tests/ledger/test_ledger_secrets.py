"""The appkey never reaches the ledger file, even when it leaks into an error text."""

from __future__ import annotations

import inspect
from pathlib import Path

from runner.ledger import Ledger
from runner.redaction import Redactor

from .helpers import CAMPAIGN, VOUCHER, seed

FAKE_APPKEY = "BFCO0PAgIUgd50c0l6"
OTHER_APPKEY = "Zt7-other-tenant-appkey"


def _campaign_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file())


def test_redactor_secret_never_reaches_the_file(state_dir: Path) -> None:
    """Errors, messages, details and summaries holding the appkey are stored scrubbed."""
    leak = f"POST /api/voucher/v1/receiveVoucherInfo appkey={FAKE_APPKEY} failed"
    redactor = Redactor.of(FAKE_APPKEY)
    with Ledger.open(state_dir, CAMPAIGN, redactor=redactor) as ledger:
        assert ledger.redactor is redactor
        seed(ledger, "j1", "j2")
        run_id = ledger.start_run("run", "hash-1")
        ledger.mark_sending("j1", "m-1")
        ledger.mark_failed("j1", return_code="1", return_msg=leak, error=leak)
        ledger.mark_sending("j2", "m-2")
        ledger.mark_unknown("j2", error=leak)
        ledger.mark_review("j2", reason=leak, detail={"seen": [leak]})
        ledger.finish_run(run_id, 1, {"last_error": leak})
        stored = ledger.job("j1")
        assert stored.return_msg is not None
        assert FAKE_APPKEY not in stored.return_msg
        assert "***" in stored.return_msg
        assert ledger.events("j2")[-1].detail["seen"] == [leak.replace(FAKE_APPKEY, "***")]
    data = _campaign_bytes(state_dir / CAMPAIGN)
    assert FAKE_APPKEY.encode() not in data
    assert "十元券".encode() in data  # the check does see the file's text


def test_adopted_remote_fields_are_scrubbed(state_dir: Path) -> None:
    """A remote voucher's fields taken in by adopt go through the ledger's redactor too."""
    with Ledger.open(state_dir, CAMPAIGN, redactor=Redactor.of(FAKE_APPKEY)) as ledger:
        seed(ledger, "j1")
        fields = {"name": "十元券", "remark": f"from {FAKE_APPKEY}"}
        ledger.adopt_remote_voucher(VOUCHER, remote_id="9", fields=fields, fingerprint="fp-2")
        assert ledger.voucher(VOUCHER).fields["remark"] == "from ***"
    assert FAKE_APPKEY.encode() not in _campaign_bytes(state_dir / CAMPAIGN)


def test_two_redactors_in_one_process_do_not_leak_into_each_other(tmp_path: Path) -> None:
    """Each ledger scrubs only its own redactor's secrets, and nothing is left global."""
    text = f"a={FAKE_APPKEY} b={OTHER_APPKEY}"
    errors = {}
    for name, secret in (("one", FAKE_APPKEY), ("two", OTHER_APPKEY)):
        with Ledger.open(tmp_path / name, CAMPAIGN, redactor=Redactor.of(secret)) as ledger:
            seed(ledger, "j1")
            ledger.mark_sending("j1", "m-1")
            ledger.mark_unknown("j1", error=text)
            errors[name] = ledger.job("j1").last_error
    assert errors == {"one": f"a=*** b={OTHER_APPKEY}", "two": f"a={FAKE_APPKEY} b=***"}
    with Ledger.open(tmp_path / "three", CAMPAIGN) as ledger:
        seed(ledger, "j1")
        ledger.mark_sending("j1", "m-1")
        ledger.mark_unknown("j1", error=text)
        assert ledger.job("j1").last_error == text  # no secret left behind globally


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
    with Ledger.open(state_dir, CAMPAIGN, redactor=Redactor.of(FAKE_APPKEY)) as ledger:
        seed(ledger, "j1")
        assert ledger.voucher(VOUCHER).fields["name"] == "十元券"
    assert FAKE_APPKEY.encode() not in _campaign_bytes(state_dir / CAMPAIGN)
