"""A drop's life in one process: checked, approved, run, moved, with its status files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from runner.campaign import NotifyTarget
from runner.cli import main
from runner.errors import ExitCode
from runner.inbox import Inbox, approve
from runner.sandbox import SandboxServer
from runner.sandbox.testing import inspect
from runner.summaries import DropStatus
from tests.execute.conftest import STRAY_PUSHBACKS, registry

from .conftest import (
    age,
    grants_by_customer,
    make_drop,
    one_pass,
    processor,
    registry_ids,
    registry_row,
    sandbox,
    status_of,
)


def test_a_valid_drop_waits_for_approval_with_its_preview(
    inbox: Inbox, server: SandboxServer
) -> None:
    """A valid drop moves to awaiting-approval with preview.md, plan.xlsx and its status."""
    make_drop(inbox.root, "spring")
    one_pass(processor(inbox, server))
    folder = inbox.folder("awaiting-approval") / "spring"
    assert (folder / "preview.md").is_file()
    assert (folder / "plan.xlsx").is_file()
    status = status_of(folder)
    assert (status.stage, status.campaign, status.campaign_file) == (
        "awaiting-approval",
        "drop-test",
        "campaign.yaml",
    )
    assert status.plan_hash is not None
    assert status.content_hash is not None
    text = (folder / "STATUS.md").read_text(encoding="utf-8")
    assert "等待审批" in text
    assert "APPROVED" in text
    assert inspect(server.base_url)["vouchers"] == []  # nothing sent before approval


def test_an_approved_drop_runs_and_lands_in_done_with_results(
    inbox: Inbox, server: SandboxServer
) -> None:
    """After an empty APPROVED file the drop runs, moves to done and holds results.xlsx."""
    make_drop(inbox.root, "spring", customers=5)
    made = processor(inbox, server)
    one_pass(made)
    (inbox.folder("awaiting-approval") / "spring" / "APPROVED").touch()
    one_pass(made)
    folder = inbox.folder("done") / "spring"
    status = status_of(folder)
    assert status.stage == "done"
    assert status.exit_code == 0
    assert status.jobs == {"done": 5}
    assert status.approved_by is not None
    assert "APPROVED file" in status.approved_by
    assert {"results.xlsx", "results.csv"} <= {p.name for p in folder.iterdir()}
    assert [m.stage for m in status.history] == [
        "incoming",
        "awaiting-approval",
        "running",
        "done",
    ]
    assert grants_by_customer(inspect(server.base_url)) == dict.fromkeys(registry_ids(0, 5), 1)
    assert made.report.exit_code == ExitCode.OK


def test_a_broken_drop_is_rejected_with_located_problems(
    inbox: Inbox, server: SandboxServer
) -> None:
    """A campaign with a duplicate key goes to rejected; STATUS.md names the line."""
    folder = make_drop(inbox.root, "broken", settled=False)
    text = (folder / "campaign.yaml").read_text(encoding="utf-8")
    (folder / "campaign.yaml").write_text(text + "campaign: again\n", encoding="utf-8")
    age(folder)
    made = processor(inbox, server)
    one_pass(made)
    rejected = inbox.folder("rejected") / "broken"
    status = status_of(rejected)
    assert status.stage == "rejected"
    assert status.problems
    assert any("duplicate" in p.message for p in status.problems)
    assert all(p.where.get("line") for p in status.problems)
    assert "campaign.yaml" in (rejected / "STATUS.md").read_text(encoding="utf-8")
    assert made.report.exit_code == ExitCode.INVALID


def test_a_drop_whose_audience_root_leaves_the_drop_is_rejected(
    inbox: Inbox, server: SandboxServer
) -> None:
    """audience_root pointing above a drop is refused at its line; nothing is read or sent."""
    secret = inbox.root.parent / "outside.csv"
    secret.write_text("cm_id\n1\n", encoding="utf-8")
    folder = make_drop(inbox.root, "reach", settled=False)
    text = (folder / "campaign.yaml").read_text(encoding="utf-8")
    (folder / "campaign.yaml").write_text("audience_root: ../../..\n" + text, encoding="utf-8")
    age(folder)
    made = processor(inbox, server)
    one_pass(made)
    rejected = inbox.folder("rejected") / "reach"
    status = status_of(rejected)
    assert [p.where.get("yaml_path") for p in status.problems] == ["audience_root"]
    assert status.problems[0].where.get("line") == 1
    assert "outside the drop folder" in status.problems[0].message
    assert not (rejected / "preview.md").exists()
    assert made.report.exit_code == ExitCode.INVALID
    assert inspect(server.base_url)["vouchers"] == []


def test_a_drop_without_one_campaign_file_is_rejected(inbox: Inbox, server: SandboxServer) -> None:
    """A folder with two YAML files is rejected and says which it found."""
    folder = make_drop(inbox.root, "two", settled=False)
    (folder / "other.yml").write_text("campaign: other\n", encoding="utf-8")
    age(folder)
    one_pass(processor(inbox, server))
    status = status_of(inbox.folder("rejected") / "two")
    assert "campaign.yaml, other.yml" in status.problems[0].message


def test_a_drop_still_being_copied_is_not_read(inbox: Inbox, server: SandboxServer) -> None:
    """A drop is taken only after it looked the same twice, settle_s apart on our clock;
    a file that grew in between restarts the wait, whatever its modification time says."""
    folder = make_drop(inbox.root, "copying")  # mtimes a minute old: no help here
    made = processor(inbox, server, settle_s=0.3)
    one_pass(made)
    assert made.settle.pending
    assert not (folder / "status.json").exists()
    with (folder / "customers.csv").open("a", encoding="utf-8") as out:
        out.write("")  # a copy still running: the size changes below
        out.write(registry_row(10))
    age(folder)  # the file server's clock may say anything
    time.sleep(0.4)
    one_pass(made)
    assert (inbox.root / "copying" / "campaign.yaml").is_file(), "taken while still changing"
    time.sleep(0.4)
    one_pass(made)
    assert (inbox.folder("awaiting-approval") / "copying").is_dir()
    assert not made.settle.pending


def test_an_edit_after_preview_discards_the_approval(inbox: Inbox, server: SandboxServer) -> None:
    """A drop edited after its preview is previewed again; its APPROVED is not used."""
    make_drop(inbox.root, "spring", customers=3)
    made = processor(inbox, server)
    one_pass(made)
    folder = inbox.folder("awaiting-approval") / "spring"
    before = status_of(folder)
    csv = (folder / "customers.csv").read_text(encoding="utf-8")
    (folder / "customers.csv").write_text(csv.replace(",1\n", ",2\n", 1), encoding="utf-8")
    (folder / "APPROVED").touch()
    age(folder)
    one_pass(made)
    after = status_of(folder)
    assert after.stage == "awaiting-approval"
    assert after.plan_hash != before.plan_hash
    assert after.content_hash != before.content_hash
    assert not (folder / "APPROVED").exists()
    assert "discarded" in (after.history[-1].note or "")
    assert inspect(server.base_url)["vouchers"] == []


def test_an_approval_for_another_plan_is_discarded(inbox: Inbox, server: SandboxServer) -> None:
    """An APPROVED file naming a plan hash that was not previewed here runs nothing."""
    make_drop(inbox.root, "spring")
    made = processor(inbox, server)
    one_pass(made)
    folder = inbox.folder("awaiting-approval") / "spring"
    (folder / "APPROVED").write_text("plan: " + "0" * 64 + "\nby: mallory\n", encoding="utf-8")
    one_pass(made)
    assert status_of(folder).stage == "awaiting-approval"
    assert not (folder / "APPROVED").exists()
    assert inspect(server.base_url)["vouchers"] == []


def test_runner_approve_binds_the_previewed_plan(inbox: Inbox, server: SandboxServer) -> None:
    """`approve` writes the previewed plan hash and the approver; the drop then runs."""
    make_drop(inbox.root, "spring")
    made = processor(inbox, server)
    one_pass(made)
    folder = inbox.folder("awaiting-approval") / "spring"
    approval = approve(folder, by="alice")
    assert approval.plan_hash == status_of(folder).plan_hash
    one_pass(made)
    status = status_of(inbox.folder("done") / "spring")
    assert status.approved_by == "alice"


def test_the_same_files_dropped_twice_run_once(inbox: Inbox, server: SandboxServer) -> None:
    """A second drop with the same content is rejected as a duplicate; grants happen once."""
    make_drop(inbox.root, "spring", customers=3)
    made = processor(inbox, server, approval="auto")
    one_pass(made)
    assert status_of(inbox.folder("done") / "spring").exit_code == 0
    make_drop(inbox.root, "spring", customers=3)
    one_pass(made)
    duplicate = status_of(inbox.folder("rejected") / "spring")
    assert "done/spring" in duplicate.message
    assert grants_by_customer(inspect(server.base_url)) == dict.fromkeys(registry_ids(0, 3), 1)


def test_auto_approval_runs_valid_drops_at_once(inbox: Inbox, server: SandboxServer) -> None:
    """With approval auto a valid drop goes straight through to done."""
    make_drop(inbox.root, "spring")
    one_pass(processor(inbox, server, approval="auto"))
    status = status_of(inbox.folder("done") / "spring")
    assert status.approval == "auto"
    assert (status.approved_by or "").startswith("auto")


def test_one_bad_drop_does_not_stop_the_others(inbox: Inbox, server: SandboxServer) -> None:
    """A rejected drop and a valid one in the same pass each reach their own stage."""
    bad = make_drop(inbox.root, "a-bad", settled=False)
    (bad / "campaign.yaml").write_text("campaign: [unclosed\n", encoding="utf-8")
    age(bad)
    make_drop(inbox.root, "b-good", campaign="good-one")
    made = processor(inbox, server, approval="auto")
    one_pass(made)
    assert status_of(inbox.folder("rejected") / "a-bad").stage == "rejected"
    assert status_of(inbox.folder("done") / "b-good").stage == "done"
    assert made.report.exit_code == ExitCode.INVALID


def test_a_lone_campaign_file_is_wrapped_with_its_sheet(
    inbox: Inbox, server: SandboxServer, tmp_path: Path
) -> None:
    """A YAML dropped in the inbox itself becomes a drop folder with the sheet it names."""
    source = make_drop(tmp_path, "outside")
    for name in ("campaign.yaml", "customers.csv"):
        (source / name).rename(inbox.root / ("lone.yaml" if name == "campaign.yaml" else name))
    age(inbox.root)
    one_pass(processor(inbox, server))
    folder = inbox.folder("awaiting-approval") / "lone"
    assert {"lone.yaml", "customers.csv"} <= {p.name for p in folder.iterdir()}
    assert status_of(folder).campaign_file == "lone.yaml"


def test_ignored_files_do_not_change_a_drop(inbox: Inbox, server: SandboxServer) -> None:
    """Excel lock files, partial copies and hidden files are not part of a drop's content."""
    folder = make_drop(inbox.root, "spring", settled=False)
    made = processor(inbox, server)
    age(folder)
    one_pass(made)
    moved = inbox.folder("awaiting-approval") / "spring"
    first = status_of(moved).content_hash
    for name in ("~$customers.xlsx", ".~lock.customers.xlsx#", "x.tmp", "y.part", ".hidden"):
        (moved / name).write_text("noise", encoding="utf-8")
    age(moved)
    one_pass(made)
    status = status_of(moved)
    assert status.content_hash == first
    assert len(status.history) == 2  # incoming, awaiting-approval: not checked again


def test_a_failed_drop_runs_again_after_retry(inbox: Inbox, server: SandboxServer) -> None:
    """A drop with a customer the vendor refuses ends in failed; RETRY runs retry-failed."""
    levels = sorted(set(registry()["level"].to_list()))
    folder = make_drop(inbox.root, "spring", customers=2, settled=False, scope={"levels": levels})
    csv = (folder / "customers.csv").read_text(encoding="utf-8")
    (folder / "customers.csv").write_text(
        csv + f"6800000000000000001,NOPE001,不存在的店,{levels[0]},1\n", encoding="utf-8"
    )
    age(folder)
    made = processor(inbox, server, approval="auto")
    one_pass(made)
    failed = inbox.folder("failed") / "spring"
    status = status_of(failed)
    assert (status.exit_code, status.jobs) == (1, {"done": 2, "failed": 1})
    assert (failed / "failures.csv").is_file()
    assert made.report.exit_code == ExitCode.FAILED
    (failed / "RETRY").touch()
    one_pass(made)
    again = status_of(inbox.folder("failed") / "spring")
    assert again.retry_failed is True
    assert [m.note for m in again.history][-2:] == ["RETRY requested", "exit 1"]


def test_status_json_follows_its_schema(inbox: Inbox, server: SandboxServer) -> None:
    """status.json parses as DropStatus with kind drop and every field present."""
    make_drop(inbox.root, "spring")
    one_pass(processor(inbox, server))
    raw = json.loads(
        (inbox.folder("awaiting-approval") / "spring" / "status.json").read_text("utf-8")
    )
    assert (raw["kind"], raw["schema_version"]) == ("drop", 1)
    assert set(raw) == set(DropStatus.model_fields) - {"from_"}


def test_notices_reach_the_campaigns_webhook_and_the_watchers(
    inbox: Inbox, server: SandboxServer
) -> None:
    """The campaign's notify: hears awaiting-approval and done; the watcher's hears all."""
    seen: list[tuple[str, dict[str, object]]] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, json.loads(request.content)))
        return httpx.Response(200, json={"ok": True})

    folder = make_drop(inbox.root, "spring", settled=False)
    with (folder / "campaign.yaml").open("a", encoding="utf-8") as out:
        out.write("notify:\n  - url: https://campaign.example/hook\n")
    age(folder)
    watcher_wide = NotifyTarget.model_validate({"url": "https://ops.example/hook"})
    made = processor(
        inbox, server, notify=(watcher_wide,), notify_transport=httpx.MockTransport(receive)
    )
    one_pass(made)
    (inbox.folder("awaiting-approval") / "spring" / "APPROVED").touch()
    one_pass(made)
    events = sorted((host, str(body["event"])) for host, body in seen)
    assert events == [
        ("campaign.example", "awaiting-approval"),
        ("campaign.example", "done"),
        ("ops.example", "awaiting-approval"),
        ("ops.example", "done"),
    ]
    done = next(body for host, body in seen if body["event"] == "done")
    assert done["counts"] == {"done": 4}
    assert any(str(f).endswith("results.xlsx") for f in done["files"])  # type: ignore[attr-defined]


def test_two_drops_of_one_tenant_run_side_by_side_within_its_rate(inbox: Inbox) -> None:
    """Two campaigns dropped together run at once and, sharing the tenant's rate budget,
    draw no pushback from a vendor limited to exactly that rate."""
    with sandbox(rate=20.0) as limited:
        make_drop(inbox.root, "east", customers=25, campaign="east", rate=20, concurrency=4)
        make_drop(inbox.root, "west", customers=25, first=25, campaign="west", rate=20)
        made = processor(inbox, limited, approval="auto")
        one_pass(made)
        counters = inspect(limited.base_url)["counters"]
        stages = {name: status_of(inbox.folder("done") / name).jobs for name in ("east", "west")}
    assert stages == {"east": {"done": 25}, "west": {"done": 25}}
    # at most a stray 429 from scheduling noise on a loaded machine (see
    # tests/execute/test_exec_shared_budget.py: without the budget, dozens)
    assert sum(row["rate_limited"] for row in counters.values()) <= STRAY_PUSHBACKS
    assert made.report.exit_code == ExitCode.OK


def test_a_bad_notify_url_is_a_usage_error_that_hides_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`watch --notify` with a non-http URL exits 2 without echoing the URL's query."""
    with pytest.raises(SystemExit) as exited:
        main(["watch", str(tmp_path / "inbox"), "--once", "--notify", "ftp://h/x?key=S3CRET"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "not a webhook URL" in err
    assert "S3CRET" not in err
