"""Every example campaign plans, on a pinned day and two years ahead; each bad one says why."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from runner.clock import beijing_today
from runner.errors import InputError
from runner.ops.plan import preview_campaign
from runner.plan import load_plan

CAMPAIGNS = Path(__file__).resolve().parents[2] / "campaigns"
GOOD = sorted(CAMPAIGNS.glob("*.yaml"))
BAD = sorted((CAMPAIGNS / "bad").glob("*.yaml"))
ENV = {"WAIQIN_APPKEY": "example-appkey-not-a-secret"}  # the examples reference it
# the day the examples' results are pinned to; their dates are placeholders far ahead
TODAY = date(2026, 12, 1)
# grants each good example plans from the sample spreadsheets (a new example adds its count)
GRANTS = {"north-zkbl-2027.yaml": 16, "spring-2027-east.yaml": 54}


def _expectation(path: Path) -> tuple[str, str]:
    """The `# expect:` substring and the `# phase:` of a bad example."""
    head = path.read_text(encoding="utf-8").splitlines()[:3]
    expect = next(re.sub(r"^# expect:\s*", "", h) for h in head if h.startswith("# expect:"))
    phase = next(re.sub(r"^# phase:\s*", "", h) for h in head if h.startswith("# phase:"))
    return expect.strip(), phase.strip()


def test_there_are_examples_of_both_kinds() -> None:
    """Both good examples and plan-level bad examples exist, and every good one has a count."""
    names = {p.name for p in GOOD}
    assert {"spring-2027-east.yaml", "north-zkbl-2027.yaml"} <= names
    assert names == set(GRANTS)
    assert sum(_expectation(p)[1] == "plan" for p in BAD) >= 9


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_example_plans(path: Path, tmp_path: Path) -> None:
    """A good example campaign plans on the pinned day and writes its preview files."""
    result = preview_campaign(path, tmp_path, env=ENV, today=TODAY)
    assert result.preview.grants.total == GRANTS[path.name]
    written = {p.name for p in result.directory.iterdir()}
    assert {"plan.parquet", "plan.xlsx", "preview.md"} <= written


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_example_still_plans_two_years_from_now(path: Path) -> None:
    """With today two years after the real Beijing today, the example plans its usual grants."""
    later = beijing_today() + timedelta(days=730)
    _campaign, plan = load_plan(path, env=ENV, today=later)
    assert plan.jobs.height == GRANTS[path.name]
    assert all(v.payload["endDate"] >= later.isoformat() for v in plan.vouchers)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_example_is_refused_with_its_message(path: Path, tmp_path: Path) -> None:
    """A bad example is invalid input (exit 2) naming its `# expect:` text; nothing is written."""
    expect, phase = _expectation(path)
    assert phase in {"spec", "plan"}
    with pytest.raises(InputError) as caught:
        preview_campaign(path, tmp_path, env=ENV, today=TODAY)
    assert caught.value.exit_code == 2
    assert expect in str(caught.value)
    assert list(tmp_path.iterdir()) == []
