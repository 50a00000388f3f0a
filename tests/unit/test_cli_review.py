"""`runner review`: list what is in review (exit 3, or 0 when nothing is) and record decisions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.cli import main
from runner.ledger import Ledger, campaign_dir
from tests.builders import write_campaign_file
from tests.ledger.helpers import CAMPAIGN, reach_job, seed, table_dump

CAMPAIGN_TEXT = f"""\
campaign: {CAMPAIGN}
audiences:
  east:
    file: customers.csv
    key: cm_code
    columns: {{cm_code: 客户编码}}
vouchers:
  ten-off:
    name: 满100减10
    start_date: 2099-03-01
    end_date: 2099-03-31
    money: "10.00"
    discount: {{type: GDMZ}}
    pay_type: UNLIMITED
    grant_type: HDFF
    customers: specific
    products: {{mode: ALL}}
    each_customer_limit: auto
    total: auto
grants:
  - voucher: ten-off
    audience: east
    quantity: 1
"""
REMOTE_TEXT = "remote holds 1 instance(s) but the ledger confirms 2"


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert isinstance(exc.value.code, int)
    return exc.value.code


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    """A campaign file whose ledger (in tmp_path/state) holds j1 in review and j2 done."""
    path = write_campaign_file(tmp_path / "campaign.yaml", CAMPAIGN_TEXT)
    with Ledger.open(tmp_path / "state", CAMPAIGN, command="test") as ledger:
        seed(ledger, "j1", "j2")
        ledger.mark_sending("j1", "m-1")
        ledger.mark_unknown("j1", error="read timeout")
        ledger.mark_review("j1", reason=REMOTE_TEXT)
        reach_job(ledger, "j2", "done")
    return path


def _argv(campaign: Path, *extra: str) -> list[str]:
    state = campaign.parent / "state"
    return ["--log-format", "console", "review", str(campaign), "--state-dir", str(state), *extra]


def _ledger_file(campaign: Path) -> Path:
    return campaign_dir(campaign.parent / "state", CAMPAIGN) / "ledger.sqlite"


def test_lists_review_items_as_json_and_exits_3(
    campaign: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json prints one object with each item's evidence and events, and exit 3."""
    assert _exit_code(_argv(campaign, "--json")) == 3
    payload = json.loads(capsys.readouterr().out)
    assert payload["in_review"] == 1
    (item,) = payload["items"]
    assert (item["kind"], item["id"]) == ("job", "j1")
    assert REMOTE_TEXT in item["evidence"]
    assert [e["to"] for e in item["events"]] == ["planned", "sending", "unknown", "review"]


def test_lists_review_items_as_a_table(campaign: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json the items, their evidence and how to decide are printed for people."""
    assert _exit_code(_argv(campaign)) == 3
    out = capsys.readouterr().out
    assert "j1" in out
    assert f"evidence: {REMOTE_TEXT}" in out
    assert "unknown → review" in out
    assert "--resolve ID=done|resend|failed" in out


def test_nothing_in_review_exits_0(campaign: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Once every item is resolved, listing says nothing is in review and exits 0."""
    assert _exit_code(_argv(campaign, "--resolve", "j1=resend", "--note", "absent")) == 0
    capsys.readouterr()
    assert _exit_code(_argv(campaign)) == 0
    assert "nothing is in review" in capsys.readouterr().out


def test_campaign_that_never_ran_exits_0_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Listing a campaign without a ledger exits 0 and writes no state."""
    path = write_campaign_file(tmp_path / "campaign.yaml", CAMPAIGN_TEXT)
    state = tmp_path / "nowhere"
    argv = ["review", str(path), "--state-dir", str(state), "--json"]
    assert _exit_code(argv) == 0
    assert json.loads(capsys.readouterr().out)["items"] == []
    assert not state.exists()


@pytest.mark.parametrize(("word", "state"), [("done", "done"), ("resend", "planned")])
def test_resolve_records_the_decision_and_exits_0(
    campaign: Path, capsys: pytest.CaptureFixture[str], word: str, state: str
) -> None:
    """--resolve with --note moves the job, keeps the note in its event and prints it."""
    argv = _argv(campaign, "--resolve", f"j1={word}", "--note", "seen in console", "--json")
    assert _exit_code(argv) == 0
    (event,) = json.loads(capsys.readouterr().out)["recorded"]
    assert (event["id"], event["from"], event["to"]) == ("j1", "review", state)
    with Ledger.open(campaign.parent / "state", CAMPAIGN, read_only=True) as ledger:
        assert ledger.job("j1").state == state
        assert ledger.events("j1")[-1].detail["note"] == "seen in console"


def test_resolve_prints_what_was_recorded(
    campaign: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --json the recorded decision is printed as one line with the note."""
    assert _exit_code(_argv(campaign, "--resolve", "j1=failed", "--note", "give up")) == 0
    out = capsys.readouterr().out
    assert "recorded: job j1 review → failed" in out
    assert "give up" in out


def test_resolve_without_note_exits_2_and_writes_nothing(
    campaign: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--resolve without --note is a usage error (exit 2) and the ledger is untouched."""
    before = table_dump(_ledger_file(campaign))
    assert _exit_code(_argv(campaign, "--resolve", "j1=done")) == 2
    assert "--note" in capsys.readouterr().err
    assert table_dump(_ledger_file(campaign)) == before


def test_note_without_resolve_exits_2(campaign: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--note alone would record nothing, so it is refused with exit 2."""
    assert _exit_code(_argv(campaign, "--note", "hello")) == 2
    assert "--resolve" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argument", "named"),
    [("j1=maybe", "'j1=maybe'"), ("nope=done", "nope"), ("j2=resend", "j2")],
)
def test_bad_decisions_exit_2_naming_the_id_and_write_nothing(
    campaign: Path, capsys: pytest.CaptureFixture[str], argument: str, named: str
) -> None:
    """Bad syntax, an unknown id or an id not in review exit 2, name it, and write nothing."""
    before = table_dump(_ledger_file(campaign))
    argv = _argv(campaign, "--resolve", "j1=done", "--resolve", argument, "--note", "n")
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert named in err
    assert table_dump(_ledger_file(campaign)) == before
