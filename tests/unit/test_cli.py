"""The CLI's surface: --version, --help everywhere, and the single error boundary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner import __version__
from runner.cli import cli, main
from runner.errors import ExitCode
from tests.builders import write_campaign_file

#: Paths from the repository, whatever the working directory (``pytest -n`` workers too).
REPO = Path(__file__).resolve().parents[2]
EAST_CAMPAIGN = REPO / "campaigns" / "spring-2027-east.yaml"


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
    assert _exit_code(["--log-format", "console", "run"]) == 2
    err = capsys.readouterr().err
    assert "Missing argument" in err
    assert "Usage: runner run" in err


def test_usage_errors_in_json_mode_are_one_json_error(capsys: pytest.CaptureFixture[str]) -> None:
    """With JSON logs, an unknown option is an ErrorReport a scheduler can parse: exit 2."""
    assert _exit_code(["--log-format", "json", "status", "x.yaml", "--bogus"]) == 2
    payload = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (payload["error"], payload["exit_code"]) == ("UsageError", 2)
    assert "--bogus" in payload["message"]
    assert "runner status --help" in payload["problems"][0]["hint"]


def test_missing_credentials_exit_4_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """run without WAIQIN_* credentials exits 4 before anything is written or sent."""
    for name in ("WAIQIN_OPENID", "WAIQIN_APPKEY", "WAIQIN_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    campaign = EAST_CAMPAIGN
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
    campaign = EAST_CAMPAIGN
    state = tmp_path / "state"
    assert _exit_code(["status", str(campaign), "--state-dir", str(state), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["last_run"] is None
    assert summary["rerun_would"]["grant"] > 0
    assert not state.exists()


def _campaign_with_credential_refs(tmp_path: Path) -> Path:
    text = EAST_CAMPAIGN.read_text(encoding="utf-8")
    text = text.replace("../samples/", str(REPO / "samples") + "/")
    text = text.replace("audience_root: ..", f"audience_root: {REPO}")  # the samples' folder
    text = text.replace("api:\n", "api:\n  openid: ${MY_OPENID}\n  appkey: ${MY_APPKEY}\n", 1)
    return write_campaign_file(tmp_path / "campaign.yaml", text)


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


@pytest.fixture
def crashing_command() -> Iterator[str]:
    """A command, added to the CLI for one test, that fails the way a bug does."""

    @cli.command("crash-for-test", hidden=True)
    def crash() -> None:
        raise RuntimeError("boom: a bug")

    yield "crash-for-test"
    del cli.commands["crash-for-test"]


def test_a_bug_exits_1_with_its_traceback_never_as_interrupted(
    crashing_command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unexpected exception ends with exit 1, the traceback and a report hint, not 130."""
    assert _exit_code(["--log-format", "console", crashing_command]) == ExitCode.FAILED
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "RuntimeError: boom: a bug" in err
    assert "this is a bug" in err.lower()


def test_a_bug_in_json_mode_is_one_json_object(
    crashing_command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """In JSON mode a crash prints one JSON object with its type, exit code and traceback."""
    assert _exit_code(["--log-format", "json", crashing_command]) == 1
    payload = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (payload["error"], payload["exit_code"]) == ("RuntimeError", 1)
    assert "boom: a bug" in payload["traceback"]


def test_plan_into_an_unusable_state_dir_exits_4_located_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """plan with a file where the state folder should be exits 4 naming the path, no *.tmp."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    campaign = EAST_CAMPAIGN
    argv = ["--log-format", "console", "plan", str(campaign), "--state-dir", str(blocker / "s")]
    assert _exit_code(argv) == ExitCode.ENVIRONMENT
    err = capsys.readouterr().err
    assert "cannot write the state directory" in err
    assert str(blocker / "s") in err
    assert "Traceback" not in err
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_damaged_ledger_exits_4_naming_the_file_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """run with a ledger that is not SQLite exits 4, names the file and leaves it untouched."""
    monkeypatch.setenv("WAIQIN_OPENID", "test-openid")
    monkeypatch.setenv("WAIQIN_APPKEY", "test-appkey")
    monkeypatch.setenv("WAIQIN_BASE_URL", "http://127.0.0.1:9")
    campaign = EAST_CAMPAIGN
    state = tmp_path / "state"
    ledger = state / "spring-2027-east" / "ledger.sqlite"
    ledger.parent.mkdir(parents=True)
    ledger.write_bytes(b"this is not a ledger")
    argv = ["--log-format", "console", "run", str(campaign), "--yes", "--state-dir", str(state)]
    assert _exit_code(argv) == ExitCode.ENVIRONMENT
    err = capsys.readouterr().err
    assert str(ledger) in err
    assert "Traceback" not in err
    assert ledger.read_bytes() == b"this is not a ledger"
