"""`runner demo` at a small size: remote equal to the plan, on any day, any number of times."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from runner.campaign import load_campaign
from runner.ops.demo import CAMPAIGN_ID, DemoSettings, campaign_text, run_demo


def _small(directory: Path) -> DemoSettings:
    return DemoSettings(directory=directory, customers=300, audience=40, seed=3)


def _run_calls(ledger: Path) -> list[dict[str, int]]:
    """The calls each run recorded in the ledger, oldest run first."""
    with sqlite3.connect(ledger) as conn:
        rows = conn.execute("SELECT summary FROM runs ORDER BY rowid").fetchall()
    return [json.loads(summary)["calls"] for (summary,) in rows]


@pytest.mark.slow
def test_small_demo_ends_with_remote_equal_to_plan(tmp_path: Path) -> None:
    """Two runs against a faulty sandbox leave exactly the planned grants (exit 0)."""
    settings = _small(tmp_path / "demo")
    assert run_demo(settings, bars=False) == 0
    results = pl.read_csv(
        tmp_path / "demo" / "state" / "demo-spring" / "results.csv", infer_schema=False
    )
    assert results.height > 0
    assert set(results["state"].to_list()) == {"done"}


@pytest.mark.slow
def test_demo_twice_in_the_same_folder_starts_fresh_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second demo in one folder starts fresh (its own state only); its rerun grants nothing."""
    folder = tmp_path / "demo"
    keep = [folder / "notes.txt", folder / "state" / "other-campaign" / "ledger.sqlite"]
    for path in keep:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not the demo's", encoding="utf-8")
    assert run_demo(_small(folder), bars=False) == 0
    first_output = capsys.readouterr().out
    assert run_demo(_small(folder), bars=False) == 0
    second_output = capsys.readouterr().out
    state = folder / "state" / CAMPAIGN_ID
    assert "fresh start: removed" not in first_output
    assert "fresh start: removed" in second_output
    assert str(state) in second_output.replace("\n", "")
    calls = _run_calls(state / "ledger.sqlite")
    assert len(calls) == 2  # the first demo's runs went with its folder
    assert calls[0].get("receiveVoucherInfo", 0) > 0
    assert calls[1].get("receiveVoucherInfo", 0) == 0
    assert all(path.read_text(encoding="utf-8") == "not the demo's" for path in keep)


def test_demo_voucher_is_valid_from_today_for_sixty_days(tmp_path: Path) -> None:
    """The demo campaign's voucher runs from the given Beijing day to 60 days later."""
    today = date(2031, 12, 31)
    path = tmp_path / "campaign.yaml"
    path.write_text(campaign_text(40.0, today), encoding="utf-8")
    env = {"DEMO_SANDBOX_URL": "http://127.0.0.1:9", "WAIQIN_APPKEY": "k", "WAIQIN_OPENID": "o"}
    campaign = load_campaign(path, env=env, today=today)
    voucher = campaign.vouchers["ten-off"]
    assert voucher.start_date == today
    assert voucher.end_date == date(2032, 2, 29)  # 2032 is a leap year
    assert campaign.campaign == CAMPAIGN_ID
