"""The preview: summary shape, the files runner plan writes, the ledger diff, `runner plan`."""

from __future__ import annotations

import json
from pathlib import Path

import fastexcel
import polars as pl
import pytest
from rich.console import Console

from runner.campaign import Campaign
from runner.cli import main
from runner.errors import InvalidInput
from runner.ledger import Ledger
from runner.ops.plan import preview_campaign, summarize
from runner.outputs.preview import markdown, print_preview, write_preview
from runner.plan import Plan, ledger_rows, load_plan
from runner.summaries import to_json
from tests.plan.helpers import (
    ID_A,
    TODAY,
    campaign_text,
    dates_from_today,
    grant,
    voucher,
    write_campaign,
)

SUMMARY_KEYS = {
    "campaign",
    "plan_hash",
    "vouchers",
    "grants",
    "customers",
    "face_value",
    "estimated_seconds",
    "first_jobs",
    "ledger",
}
VOUCHER_KEYS = {
    "key",
    "name",
    "num",
    "eachCmNum",
    "money",
    "doorsill",
    "discount",
    "start_date",
    "end_date",
    "scope",
    "grants",
}


def _load(path: Path) -> tuple[Campaign, Plan]:
    return load_plan(path, env={}, today=TODAY)


def _run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["--log-format", "console", *args])
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_summary_has_the_documented_shape(tmp_path: Path) -> None:
    """summarize returns the architecture's JSON shape with counts, face value and duration."""
    campaign, plan = _load(write_campaign(tmp_path, campaign_text()))
    summary = summarize(campaign, plan, rate=4.0)
    data = json.loads(to_json(summary))
    assert set(data) >= SUMMARY_KEYS
    (one,) = data["vouchers"]
    assert set(one) >= VOUCHER_KEYS
    assert (one["num"], one["eachCmNum"], one["grants"], one["scope"]) == (6, 3, 6, "specific")
    assert one["discount"] == {"type": "GDMZ"}
    assert data["grants"] == {
        "total": 6,
        "by_voucher": {"ten-off": 6},
        "by_audience": {"east": 6},
    }
    assert summary.customers == 3
    assert summary.face_value == "60.00"
    assert summary.estimated_seconds == 2.0  # (1 create + 6 grants + 1 verify) / 4 per s
    assert len(summary.first_jobs) == 6
    assert summary.ledger is None
    assert (data["kind"], data["schema_version"]) == ("plan", 1)


def test_summary_of_a_zkbl_scope_voucher(tmp_path: Path) -> None:
    """A ZKBL scope voucher shows its ratio, cap, scope lists; face value counts the cap."""
    vouchers = voucher(
        customers="{levels: [A, B]}",
        discount='{type: ZKBL, percent: "0.85", max_amount: "7.50"}',
        doorsill_amount='"100"',
    )
    campaign, plan = _load(write_campaign(tmp_path, campaign_text(vouchers=vouchers)))
    summary = summarize(campaign, plan, rate=10)
    (one,) = summary.vouchers
    assert one.discount == {"type": "ZKBL", "percent": "0.85", "max_amount": "7.50"}
    assert one.scope == {"levels": ["A", "B"]}
    assert one.doorsill == "100"
    assert summary.face_value == "45.00"
    assert summary.unbounded_vouchers == []


def test_preview_files_keep_ids_as_text(tmp_path: Path) -> None:
    """plan.parquet and plan.xlsx hold 19-digit customer ids as text; preview files exist."""
    campaign, plan = _load(write_campaign(tmp_path, campaign_text(key="cm_id")))
    summary = summarize(campaign, plan, rate=10)
    directory = write_preview(tmp_path / "state", plan, summary)
    assert directory == tmp_path / "state" / "test-plan"
    parquet = pl.read_parquet(directory / "plan.parquet")
    assert parquet.schema["customer_key"] == pl.String
    assert parquet.schema["job_id"] == pl.String
    assert ID_A in parquet.get_column("customer_key").to_list()
    assert parquet.equals(plan.jobs)
    sheet = fastexcel.read_excel(directory / "plan.xlsx").load_sheet("jobs")
    dtypes = {c.name: c.dtype for c in sheet.available_columns()}
    assert dtypes["customer_key"] == "string"
    assert dtypes["job_id"] == "string"
    assert ID_A in pl.read_excel(directory / "plan.xlsx", sheet_name="jobs")["customer_key"]
    vouchers = pl.read_excel(directory / "plan.xlsx", sheet_name="vouchers")
    assert vouchers["cmId"][0] == plan.vouchers[0].payload["cmId"]
    saved = json.loads((directory / "preview.json").read_text(encoding="utf-8"))
    assert saved["plan_hash"] == plan.plan_hash
    assert plan.plan_hash in (directory / "preview.md").read_text(encoding="utf-8")


def test_markdown_preview_is_readable(tmp_path: Path) -> None:
    """preview.md has the voucher table, totals and the first jobs for the manager."""
    campaign, plan = _load(write_campaign(tmp_path, campaign_text()))
    text = markdown(summarize(campaign, plan, rate=10))
    assert text.startswith("# Campaign plan: test-plan\n")
    assert "| ten-off | 满100减10 | 10.00 | none | GDMZ 10.00 off |" in text
    assert "- face value: 60.00" in text
    assert "CUS010043" in text
    assert "never ran" in text


def test_rich_preview_names_the_vouchers_and_totals(tmp_path: Path) -> None:
    """The terminal preview shows the voucher settings, grant totals and the ledger line."""
    campaign, plan = _load(write_campaign(tmp_path, campaign_text()))
    console = Console(record=True, width=200)
    print_preview(summarize(campaign, plan, rate=10), console)
    text = console.export_text()
    assert "Voucher ten-off" in text
    assert "满100减10" in text
    assert "60.00" in text
    assert plan.plan_hash in text


def test_ledger_diff_reports_done_to_do_and_dropped(tmp_path: Path) -> None:
    """After a partial run, the preview says what is done, what is left, what left the plan."""
    path = write_campaign(tmp_path, campaign_text())
    state = tmp_path / "state"
    _, plan = _load(path)
    vouchers, jobs = ledger_rows(plan)
    with Ledger.open(state, plan.campaign) as ledger:
        ledger.sync_plan(plan.plan_hash, vouchers, jobs)
        first = jobs[0].job_id
        ledger.mark_sending(first, "msg-1")
        ledger.mark_done(first)
    path.write_text(campaign_text(grants=grant(where="level <> 'C'")), encoding="utf-8")
    summary = preview_campaign(path, state, env={}, today=TODAY).preview
    assert summary.ledger is not None
    assert summary.ledger.model_dump() == {
        "already_done": 1,
        "still_to_do": 2,
        "new": 0,
        "no_longer_planned": 3,
        "done_not_in_plan": 0,
        "voucher_conflicts": [],
    }
    assert summary.calls == 2 + 2


def test_plan_refuses_a_changed_created_voucher_like_run(tmp_path: Path) -> None:
    """A voucher changed after it was created makes plan exit 2 with run's reason, located
    at the voucher's key and line."""
    path = write_campaign(tmp_path, campaign_text())
    state = tmp_path / "state"
    _, plan = _load(path)
    vouchers, jobs = ledger_rows(plan)
    with Ledger.open(state, plan.campaign) as ledger:
        ledger.sync_plan(plan.plan_hash, vouchers, jobs)
        ledger.mark_voucher_sending("ten-off", "msg-1")
        ledger.mark_voucher_created("ten-off", remote_id="6812072753231956829")
    path.write_text(campaign_text().replace('"10.00"', '"20.00"'), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        preview_campaign(path, state, env={}, today=TODAY)
    assert caught.value.exit_code == 2
    problem = caught.value.problems()[0]
    assert "'ten-off' changed after it was sent" in problem.message
    assert problem.where.yaml_path == "vouchers.ten-off"
    assert problem.where.line is not None


def test_runner_plan_json_prints_one_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`runner plan --json` prints the summary as one JSON object and, run from another
    folder, writes its state beside the campaign."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = write_campaign(tmp_path, campaign_text(vouchers=voucher(**dates_from_today())))
    code, out, _ = _run_cli(["plan", str(path), "--json"], capsys)
    assert code == 0
    summary = json.loads(out)
    assert set(summary) >= SUMMARY_KEYS
    assert summary["grants"]["total"] == 6
    assert (tmp_path / "state" / "test-plan" / "plan.parquet").is_file()
    assert list(elsewhere.iterdir()) == []


def test_runner_plan_human_preview(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`runner plan` prints the preview, where the files are, and how to launch this plan."""
    path = write_campaign(tmp_path, campaign_text(vouchers=voucher(**dates_from_today())))
    state = tmp_path / "elsewhere"
    code, out, _ = _run_cli(["plan", str(path), "--state-dir", str(state)], capsys)
    assert code == 0
    assert "Voucher ten-off" in out
    assert f"{state / 'test-plan'}/" in out
    assert "--plan-hash " in out
    assert (state / "test-plan" / "preview.md").is_file()


def test_runner_plan_lists_every_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invalid plan exits 2 with each problem, its location and hint on stderr."""
    vouchers = voucher(total="1", each_customer_limit="1", **dates_from_today())
    path = write_campaign(tmp_path, campaign_text(vouchers=vouchers))
    code, out, err = _run_cli(["plan", str(path), "--state-dir", str(tmp_path / "s")], capsys)
    assert code == 2
    assert out == ""
    assert "2 problem(s)" in err
    assert "key vouchers.ten-off.total" in err
    assert "key vouchers.ten-off.each_customer_limit" in err
    assert not (tmp_path / "s").exists()
