"""The CLI's surface: --version, --help everywhere, and the single error boundary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner import __version__
from runner.cli import cli, main


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert isinstance(exc.value.code, int)
    return exc.value.code


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version and exits 0."""
    assert _exit_code(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every command answers --help with its usage and exit 0."""
    assert _exit_code([command, "--help"]) == 0
    assert f"runner {command}" in capsys.readouterr().out


def test_invalid_input_exits_2_with_every_problem_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In JSON mode an invalid campaign gives one JSON object on stderr and exit 2."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("campaign: x\ncampaign: y\nvouchers: {}\n", encoding="utf-8")
    code = _exit_code(["--log-format", "json", "plan", str(bad), "--state-dir", str(tmp_path)])
    assert code == 2
    payload = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert payload["exit_code"] == 2
    assert any("duplicate" in p["message"] for p in payload["problems"])
    assert all(p["where"].get("line") for p in payload["problems"])


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing argument is a usage error: exit 2 and click's message."""
    assert _exit_code(["run"]) == 2
    assert "Missing argument" in capsys.readouterr().err


def test_missing_credentials_exit_4_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """run without WAIQIN_* credentials exits 4 before anything is written or sent."""
    for name in ("WAIQIN_OPENID", "WAIQIN_APPKEY", "WAIQIN_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    campaign = Path("campaigns/spring-2027-east.yaml").resolve()
    state = tmp_path / "state"
    code = _exit_code(
        ["--log-format", "console", "run", str(campaign), "--yes", "--state-dir", str(state)]
    )
    assert code == 4
    assert "WAIQIN_OPENID" in capsys.readouterr().err
    assert not (state / "spring-2027-east" / "ledger.sqlite").exists()


def test_status_of_a_campaign_that_never_ran_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """status before any run says what a run would do and creates no ledger."""
    campaign = Path("campaigns/spring-2027-east.yaml").resolve()
    state = tmp_path / "state"
    assert _exit_code(["status", str(campaign), "--state-dir", str(state), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["last_run"] is None
    assert summary["rerun_would"]["grant"] > 0
    assert not state.exists()


def _campaign_with_credential_refs(tmp_path: Path) -> Path:
    text = Path("campaigns/spring-2027-east.yaml").read_text(encoding="utf-8")
    text = text.replace("../samples/", str(Path("samples").resolve()) + "/")
    text = text.replace("api:\n", "api:\n  openid: ${MY_OPENID}\n  appkey: ${MY_APPKEY}\n", 1)
    path = tmp_path / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_plan_needs_no_credentials_even_when_the_file_refers_to_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """plan succeeds with the file's credential variables unset."""
    monkeypatch.delenv("MY_OPENID", raising=False)
    monkeypatch.delenv("MY_APPKEY", raising=False)
    campaign = _campaign_with_credential_refs(tmp_path)
    assert _exit_code(["plan", str(campaign), "--state-dir", str(tmp_path / "state")]) == 0


def test_run_names_the_unset_credential_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """run with the file's credential variables unset exits 4 naming them."""
    monkeypatch.delenv("MY_OPENID", raising=False)
    monkeypatch.delenv("MY_APPKEY", raising=False)
    campaign = _campaign_with_credential_refs(tmp_path)
    argv = ["--log-format", "console", "run", str(campaign), "--yes", "--state-dir", str(tmp_path)]
    assert _exit_code(argv) == 4
    err = capsys.readouterr().err
    assert "MY_APPKEY" in err
    assert "MY_OPENID" in err
