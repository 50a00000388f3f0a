"""``runner report`` as a scheduler runs it: a child process, one JSON object with
``--json``, a table and the files otherwise, exit 2 for what it refuses."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from runner.summaries import ReportSummary
from tests.execute.conftest import REPO, runner_command, subprocess_env

from .conftest import Reported


def _report(reported: Reported, *args: str) -> subprocess.CompletedProcess[str]:
    """``runner report CAMPAIGN --state-dir STATE ARGS`` in a child process."""
    campaign = reported.campaign
    command = runner_command("report", str(campaign.path), "--state-dir", str(campaign.state))
    return subprocess.run(
        [*command, *args],
        env=subprocess_env(campaign.base_url),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_json_prints_one_report_object_with_the_same_figures(
    reported: Reported, tmp_path: Path
) -> None:
    """--json prints exactly one ReportSummary; --out and --format choose the files."""
    done = _report(reported, "--json", "--out", str(tmp_path / "r"), "--format", "html,csv")
    assert done.returncode == 0, done.stderr
    summary = ReportSummary.model_validate_json(done.stdout)
    assert summary.kind == "report"
    assert summary.totals == reported.summary.totals
    assert summary.by_segment == reported.summary.by_segment
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == sorted(
        Path(f).name for f in summary.files
    )
    assert not (tmp_path / "r" / "report.xlsx").exists()


def test_without_json_it_shows_the_ledger_the_vouchers_and_the_files(reported: Reported) -> None:
    """The terminal shows the ledger, a row per voucher, what was used and the files."""
    done = _report(reported, "--format", "html")
    assert done.returncode == 0, done.stderr
    assert "ledger: " in done.stdout
    for key in ("ten-off", "zk", "all"):
        assert key in done.stdout
    assert reported.summary.message in done.stdout
    assert "report.html" in done.stdout


def test_an_unknown_format_is_a_usage_error(reported: Reported) -> None:
    """--format pdf exits 2 naming the formats there are, and writes nothing."""
    done = _report(reported, "--format", "pdf", "--json")
    assert done.returncode == 2
    error = json.loads(done.stderr.strip().splitlines()[-1])
    assert error["kind"] == "error"
    assert "xlsx, html, csv" in error["problems"][0]["hint"]


def test_the_output_schema_is_published() -> None:
    """`runner schema --output report` prints the JSON Schema of the report's --json."""
    done = subprocess.run(
        runner_command("schema", "--output", "report"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert schema["$id"] == "urn:campaign-runner:output:report:v1"
    for name in ("totals", "by_voucher", "by_audience", "by_segment", "by_day", "files"):
        assert name in schema["required"], name
