"""The typed results of the commands: one JSON form, a versioned JSON Schema per output."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest

from runner.cli import main
from runner.summaries import (
    OUTPUTS,
    SCHEMA_VERSION,
    ErrorReport,
    PlanPreview,
    StatusReport,
    output_schema,
)

REPO = Path(__file__).resolve().parents[2]
EAST_CAMPAIGN = REPO / "campaigns" / "spring-2027-east.yaml"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    assert isinstance(exc.value.code, int)
    return exc.value.code, out, err


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_schema_output_prints_a_versioned_schema(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`runner schema --output NAME` prints that output's schema, named by kind and version."""
    code, out, _ = _run(["schema", "--output", name], capsys)
    assert code == 0
    schema = json.loads(out)
    assert schema == output_schema(name)
    assert schema["$id"] == f"urn:campaign-runner:output:{name}:v{SCHEMA_VERSION}"
    assert {"kind", "schema_version"} <= set(schema["properties"])
    assert set(schema["required"]) >= {"kind"} | set(schema["properties"]) - {"schema_version"}


def test_schema_without_output_is_still_the_campaign_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`runner schema` alone prints the campaign file's schema, as before."""
    code, out, _ = _run(["schema"], capsys)
    assert code == 0
    assert "vouchers" in json.loads(out)["properties"]


def test_status_json_is_a_status_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`runner status --json` parses as the StatusReport its schema documents."""
    state = tmp_path / "state"
    code, out, _ = _run(["status", str(EAST_CAMPAIGN), "--state-dir", str(state), "--json"], capsys)
    assert code == 0
    report = StatusReport.model_validate_json(out)
    assert (report.kind, report.schema_version) == ("status", SCHEMA_VERSION)
    assert report.rerun_would.grant == report.rerun_would.new_jobs > 0


def test_plan_json_and_preview_file_are_the_same_preview(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`runner plan --json` and preview.json hold the same PlanPreview."""
    state = tmp_path / "state"
    code, out, _ = _run(["plan", str(EAST_CAMPAIGN), "--state-dir", str(state), "--json"], capsys)
    assert code == 0
    printed = PlanPreview.model_validate_json(out)
    saved = (state / "spring-2027-east" / "preview.json").read_text(encoding="utf-8")
    assert PlanPreview.model_validate_json(saved) == printed


def test_an_error_in_json_is_an_error_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused campaign prints an ErrorReport on stderr, with the exit code it ends with."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("campaign: x\ncampaign: y\nvouchers: {}\n", encoding="utf-8")
    argv = ["--log-format", "json", "plan", str(bad), "--state-dir", str(tmp_path)]
    code, _, err = _run(argv, capsys)
    report = ErrorReport.model_validate_json(err.strip().splitlines()[-1])
    assert report.exit_code == code == 2
    assert report.problems
    assert report.problems[0].where.get("line") == 2


def test_results_refuse_unknown_fields() -> None:
    """A result with a field its schema does not name is refused, so the schema stays true."""
    with pytest.raises(pydantic.ValidationError):
        ErrorReport.model_validate({"error": "X", "exit_code": 2, "message": "m", "surprise": True})
