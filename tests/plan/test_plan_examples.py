"""`runner plan` on every example campaign: the good ones pass, each bad one says why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner.cli import main

CAMPAIGNS = Path(__file__).resolve().parents[2] / "campaigns"
GOOD = sorted(CAMPAIGNS.glob("*.yaml"))
BAD = sorted((CAMPAIGNS / "bad").glob("*.yaml"))


def _expectation(path: Path) -> tuple[str, str]:
    """The `# expect:` substring and the `# phase:` of a bad example."""
    head = path.read_text(encoding="utf-8").splitlines()[:3]
    expect = next(re.sub(r"^# expect:\s*", "", h) for h in head if h.startswith("# expect:"))
    phase = next(re.sub(r"^# phase:\s*", "", h) for h in head if h.startswith("# phase:"))
    return expect.strip(), phase.strip()


def _plan(path: Path, state: Path, capsys: pytest.CaptureFixture[str]) -> tuple[object, str]:
    with pytest.raises(SystemExit) as exited:
        main(["--log-format", "console", "plan", str(path), "--state-dir", str(state)])
    return exited.value.code, capsys.readouterr().err


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A set appkey variable (examples reference it) and the unset one an example relies on."""
    monkeypatch.setenv("WAIQIN_APPKEY", "example-appkey-not-a-secret")
    monkeypatch.delenv("CAMPAIGN_RUNNER_UNSET_EXAMPLE", raising=False)


def test_there_are_examples_of_both_kinds() -> None:
    """Both good examples and plan-level bad examples exist."""
    names = {p.name for p in GOOD}
    assert {"spring-2027-east.yaml", "north-zkbl-2027.yaml"} <= names
    assert sum(_expectation(p)[1] == "plan" for p in BAD) >= 9


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_example_plans(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A good example campaign plans with exit 0 and writes its preview files."""
    code, err = _plan(path, tmp_path, capsys)
    assert code == 0, err
    (directory,) = tmp_path.iterdir()
    assert {"plan.parquet", "plan.xlsx", "preview.md"} <= {p.name for p in directory.iterdir()}


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_example_is_refused_with_its_message(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad example exits 2 and stderr contains its `# expect:` text; nothing is written."""
    expect, phase = _expectation(path)
    assert phase in {"spec", "plan"}
    code, err = _plan(path, tmp_path, capsys)
    assert code == 2, err
    assert expect in err
    assert list(tmp_path.iterdir()) == []
