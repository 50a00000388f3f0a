"""``runner run`` against a vendor answering garbage: a located message and an exit code,
never a traceback, and what was sent is left for reconciliation to settle on a rerun.

A proxy in front of the sandbox forwards every request (so the sandbox applies the
writes) and answers in its place with an HTML page, truncated JSON or an envelope whose
response_data has the wrong type.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.cli import main
from runner.ledger import Ledger
from runner.sandbox.testing import inspect
from tests.execute.conftest import (
    APPKEY,
    CAMPAIGN,
    OPENID,
    assert_exactly_planned,
    audience,
    plan_of,
    registry,
    sandbox,
    voucher,
    write_audience,
    write_campaign,
)

from .proxy import Rewrite, proxy_to

WRITES = frozenset({"addVoucherInfo", "receiveVoucherInfo"})

#: Garbage bodies a gateway or a broken vendor may send with HTTP 200.
GARBAGE: dict[str, bytes] = {
    "html": b"<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>",
    "truncated_json": b'{"return_code":"0","return_msg":"ok","response_data":"{\\"vouch',
    "wrong_type": b'{"return_code":"0","response_data":{"unexpected":[1,2,3]}}',
}


def garbage_after_the_first_write(body: bytes) -> Rewrite:
    """Reads pass until a write was sent; from then on every answer is *body*."""
    broken = False

    def rewrite(operation: str, _status: int, _content: bytes) -> tuple[int, str, bytes] | None:
        nonlocal broken
        broken = broken or operation in WRITES
        return (200, "text/html", body) if broken else None

    return rewrite


def garbage_for_writes(body: bytes) -> Rewrite:
    """Every write is applied by the sandbox and answered with *body*; reads pass."""

    def rewrite(operation: str, _status: int, _content: bytes) -> tuple[int, str, bytes] | None:
        return (200, "text/html", body) if operation in WRITES else None

    return rewrite


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["--log-format", "console", *args])
    out, err = capsys.readouterr()
    assert isinstance(info.value.code, int)
    return info.value.code, out, err


def campaign_in(folder: Path) -> Path:
    write_audience(folder / "aud.csv", registry().slice(0, 8))
    return write_campaign(
        folder / "campaign.yaml",
        audiences={"shops": audience(folder / "aud.csv")},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        max_attempts=3,
    )


def use_vendor(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    monkeypatch.setenv("SANDBOX_URL", base_url)
    monkeypatch.setenv("WAIQIN_OPENID", OPENID)
    monkeypatch.setenv("WAIQIN_APPKEY", APPKEY)
    monkeypatch.delenv("WAIQIN_BASE_URL", raising=False)


def voucher_states(state: Path) -> list[str]:
    with Ledger.open(state, CAMPAIGN, read_only=True) as ledger:
        return [v.state for v in ledger.vouchers(active=None)]


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_garbage_answers_stop_the_run_cleanly_and_a_rerun_settles_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kind: str,
) -> None:
    """Garbage from the first write on: exit 4 with a message naming the bad answer, no
    traceback, the create left unknown; once the vendor answers again, the rerun adopts
    the voucher the garbage hid and grants each customer exactly once."""
    campaign = campaign_in(tmp_path)
    state = tmp_path / "state"
    with sandbox() as server, proxy_to(server.base_url) as proxy:
        use_vendor(monkeypatch, proxy.base_url)
        proxy.rewrite = garbage_after_the_first_write(GARBAGE[kind])
        code, out, err = cli(capsys, "run", str(campaign), "--yes", "--state-dir", str(state))
        assert code == 4, err
        assert "Traceback" not in out + err
        assert "error: " in err
        assert "no usable answer" in err
        assert "the API envelope" in err or "unexpected response_data" in err
        assert voucher_states(state) == ["unknown"]
        created = len(inspect(server.base_url)["vouchers"])
        assert created == 1  # the garbage hid a create the sandbox applied

        proxy.rewrite = None
        code, out, err = cli(capsys, "run", str(campaign), "--yes", "--state-dir", str(state))
        assert code == 0, err
        plan = plan_of(campaign, proxy.base_url)
        assert_exactly_planned(server.base_url, plan, state)


def test_garbage_answers_to_every_write_are_reconciled_into_a_complete_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every create and grant applied but answered with an HTML page: reconciliation reads
    the truth back and the run ends done (exit 0), each grant sent once."""
    campaign = campaign_in(tmp_path)
    state = tmp_path / "state"
    with sandbox() as server, proxy_to(server.base_url) as proxy:
        use_vendor(monkeypatch, proxy.base_url)
        proxy.rewrite = garbage_for_writes(GARBAGE["html"])
        code, _, err = cli(capsys, "run", str(campaign), "--yes", "--state-dir", str(state))
        assert code == 0, err
        plan = plan_of(campaign, proxy.base_url)
        assert_exactly_planned(server.base_url, plan, state)
        counters = inspect(server.base_url)["counters"]
    assert counters["addVoucherInfo"]["received"] == 1
    assert counters["receiveVoucherInfo"]["received"] == plan.jobs.height


def test_the_json_error_report_of_a_garbage_run_is_one_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --log-format json the failure is one JSON error report (exit 4), no traceback."""
    campaign = campaign_in(tmp_path)
    with sandbox() as server, proxy_to(server.base_url) as proxy:
        use_vendor(monkeypatch, proxy.base_url)
        proxy.rewrite = garbage_after_the_first_write(GARBAGE["truncated_json"])
        with pytest.raises(SystemExit) as info:
            main(["--log-format", "json", "run", str(campaign), "--yes"])
    _, err = capsys.readouterr()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    reports = [line for line in lines if line.get("kind") == "error"]
    assert info.value.code == 4
    assert [r["error"] for r in reports] == ["ApiUnreachable"]
    assert reports[0].get("traceback") is None
