"""Times people read (results files, status, run summaries) are Beijing time with +08:00."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from runner.cli import main
from runner.ledger import JobRow, Ledger, VoucherRow
from runner.outputs.results import write_outputs
from tests.plan.helpers import campaign_text, dates_from_today, voucher, write_campaign

BEIJING_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$")
EIGHT_HOURS = timedelta(hours=8)


def _beijing(text: str) -> bool:
    """ISO 8601 with milliseconds and +08:00, read back by fromisoformat as UTC+8."""
    return bool(BEIJING_ISO.match(text)) and datetime.fromisoformat(text).utcoffset() == EIGHT_HOURS


def _exit_code(argv: list[str]) -> object:
    with pytest.raises(SystemExit) as exited:
        main(["--log-format", "console", *argv])
    return exited.value.code


def test_results_files_show_beijing_time_with_offset(tmp_path: Path) -> None:
    """Every updated_at in results.csv and results.xlsx is Beijing time ending in +08:00."""
    with Ledger.open(tmp_path / "state", "c1") as ledger:
        jobs = [JobRow(f"j{i}", "v", "stores", f"CUS{i}", "cm_code", 1, f"店{i}") for i in (1, 2)]
        ledger.sync_plan("h", [VoucherRow("v", "f", {"name": "券"})], jobs)
        ledger.mark_sending("j1", "m1")
        ledger.mark_done("j1")
        files = write_outputs(tmp_path / "out", ledger.jobs(active=None), ledger.vouchers(), {})
    csv = pl.read_csv(files.results_csv, infer_schema=False)["updated_at"].to_list()
    xlsx = pl.read_excel(files.results_xlsx)["updated_at"].to_list()
    assert len(csv) == len(xlsx) == 2
    assert all(_beijing(t) for t in csv), csv
    assert all(_beijing(t) for t in xlsx), xlsx


def test_status_shows_the_last_run_in_beijing_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`runner status` (JSON and table) gives the last run's start and finish with +08:00."""
    path = write_campaign(tmp_path, campaign_text(vouchers=voucher(**dates_from_today())))
    state = tmp_path / "state"
    with Ledger.open(state, "test-plan", command="run") as ledger:
        run_id = ledger.start_run("run", "h")
        ledger.finish_run(run_id, 0, {"calls": {}})
    assert _exit_code(["status", str(path), "--state-dir", str(state), "--json"]) == 0
    last = json.loads(capsys.readouterr().out)["last_run"]
    assert last["run_id"] == run_id
    assert _beijing(last["started_at"]), last
    assert _beijing(last["finished_at"]), last
    assert _exit_code(["status", str(path), "--state-dir", str(state)]) == 0
    table = capsys.readouterr().out
    assert f"started {last['started_at']}" in table
    assert f"finished {last['finished_at']}" in table
