"""Which campaign, run and phase each log line belongs to, and errors stamped like lines.

A scheduler or a drop-folder watcher reads ``--log-format json`` output: every line of a
command that works on a campaign names it (``campaign``), every line after the run is
recorded names the run (``run_id``), phases end with a ``phase finished`` line with their
counts and ``duration_ms``, and the error object carries ``timestamp`` and ``level`` like
a line. Nothing bound for one command or one thread reaches the next.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from runner import logs
from runner.cli import main
from runner.sandbox import SandboxServer
from runner.sandbox.testing import running_sandbox
from runner.summaries import ErrorReport, output_schema
from tests.builders import campaign_yaml, write_audience_csv, write_campaign_file

REPO = Path(__file__).resolve().parents[2]
REGISTRY = REPO / "samples" / "sandbox_customers.csv"
OPENID = "ctx-test-openid"
APPKEY = "ctx-SECRET-appkey-81c4e2"
#: The format of every line's ``timestamp`` (and of an error report's).
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
#: Phases the executor and the run command end with a ``phase finished`` line.
RUN_PHASES = {"plan", "lookup", "create", "lifecycle", "grant", "reconcile", "verify", "results"}


# --- campaigns and processes ----------------------------------------------------------------


def _customers(first: int, count: int) -> list[dict[str, str]]:
    with REGISTRY.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))[first : first + count]


def _campaign(folder: Path, name: str, *, first: int, count: int) -> Path:
    """A campaign *name* of one voucher granted 1 to 3 times to *count* sandbox customers."""
    rows = [
        (c["id"], c["code"], c["name"], c["level"], str(1 + i % 3))
        for i, c in enumerate(_customers(first, count))
    ]
    shops = write_audience_csv(folder / f"{name}.csv", rows)
    text = campaign_yaml(
        name,
        api={
            "base_url": "${SANDBOX_URL}",
            "openid": "${WAIQIN_OPENID}",
            "appkey": "${WAIQIN_APPKEY}",
            "rate": 200,
            "concurrency": 8,
            "timeout_s": 1,
            "max_attempts": 10,
            "settle_s": 0.2,
        },
        audiences={
            "shops": {
                "file": str(shops),
                "key": "cm_code",
                "columns": {"cm_code": "客户编码", "cm_name": "客户名称", "qty": "数量"},
            }
        },
        vouchers={
            "ten-off": {
                "name": f"{name} 满100减10",
                "start_date": "2027-01-01",
                "end_date": "2035-12-31",
                "money": "10.00",
                "doorsill_amount": "100",
                "discount": {"type": "GDMZ"},
                "pay_type": "UNLIMITED",
                "grant_type": "HDFF",
                "customers": "specific",
                "products": {"mode": "ALL"},
                "each_customer_limit": "auto",
                "total": "auto",
            }
        },
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
    )
    return write_campaign_file(folder / f"{name}.yaml", text)


def _grants(count: int) -> int:
    """How many grants :func:`_campaign` plans for *count* customers."""
    return sum(1 + i % 3 for i in range(count))


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A sandbox that knows the sample registry and the test credentials."""
    with running_sandbox(customers_file=REGISTRY, openid=OPENID, appkey=APPKEY) as server:
        yield server


def _env(base_url: str) -> dict[str, str]:
    return {"SANDBOX_URL": base_url, "WAIQIN_OPENID": OPENID, "WAIQIN_APPKEY": APPKEY}


def _lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line of *text* as a JSON object (a line that is not one fails)."""
    parsed = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(value, dict), line
        parsed.append(value)
    return parsed


def _finished(lines: list[dict[str, Any]], phase: str) -> list[dict[str, Any]]:
    return [x for x in lines if x["event"] == "phase finished" and x["phase"] == phase]


def _run_ids(state: Path, campaign: str) -> list[str]:
    with sqlite3.connect(state / campaign / "ledger.sqlite") as db:
        return [row[0] for row in db.execute("SELECT run_id FROM runs")]


# --- a real run, as a scheduler sees it -------------------------------------------------------


def test_every_line_of_a_run_names_its_campaign_run_and_phase(tmp_path: Path) -> None:
    """`runner --log-format json run --yes --json` in a child process, against a sandbox that
    loses one grant answer in ten: every stderr line is a JSON object naming the campaign,
    every line from the run's start on names the run, each phase ends with its counts."""
    campaign = _campaign(tmp_path, "ctx-east", first=40, count=25)
    state = tmp_path / "state"
    faults = "lost_response@receiveVoucherInfo=0.1"
    with running_sandbox(
        customers_file=REGISTRY, openid=OPENID, appkey=APPKEY, faults=faults, seed=11
    ) as server:
        command = ["-m", "runner", "--log-format", "json", "run", str(campaign), "--yes"]
        done = subprocess.run(
            [sys.executable, *command, "--state-dir", str(state), "--json"],
            env={**_clean_environ(), **_env(server.base_url), "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=tmp_path,
            timeout=120,
        )
    err, out = done.stderr.decode("utf-8"), done.stdout.decode("utf-8")
    assert done.returncode == 0, err[-3000:]

    lines = _lines(err)
    assert lines, "no log line at all"
    for line in lines:
        assert line["campaign"] == "ctx-east", line
        assert ISO_UTC.match(line["timestamp"]), line
        assert line["level"] in ("debug", "info", "warning", "error"), line
    (summary,) = _lines(out)  # --json: exactly one object on stdout, for the same campaign
    assert summary["campaign"] == "ctx-east"

    (run_id,) = _run_ids(state, "ctx-east")
    first = next(i for i, line in enumerate(lines) if "run_id" in line)
    assert first > 0, "the plan is built before the run is recorded: no run_id yet"
    assert all(line.get("run_id") == run_id for line in lines[first:]), lines[first:]
    assert all("run_id" not in line for line in lines[:first])

    phased = [line for line in lines if "phase" in line]
    assert {line["phase"] for line in phased} == RUN_PHASES
    assert all(line.get("run_id") == run_id for line in phased if line["phase"] != "plan")
    ends = [line for line in lines if line["event"] == "phase finished"]
    assert all(isinstance(x["duration_ms"], int) and x["duration_ms"] >= 0 for x in ends)
    assert {x["phase"] for x in ends} == RUN_PHASES

    (plan,) = _finished(lines, "plan")
    planned = _grants(25)
    assert (plan["vouchers"], plan["grants"]) == (1, planned)
    (create,) = _finished(lines, "create")
    assert (create["vouchers"], create["sent"], create["created"]) == (1, 1, 1)
    grants, reconciles = _finished(lines, "grant"), _finished(lines, "reconcile")
    assert grants
    assert reconciles
    assert grants[0]["jobs"] == planned
    # a lost answer is granted remotely: reconciliation adopts it; the rest were done
    done_by_grant = sum(x["done"] for x in grants)
    adopted = sum(x["adopt"] for x in reconciles)
    assert adopted > 0, "the sandbox lost no answer: reconciliation was not exercised"
    assert done_by_grant + adopted == planned
    (verify,) = _finished(lines, "verify")
    assert (verify["mismatches"], verify["ledger_grants"]) == (0, planned)
    lost = [x for x in lines if x["event"] != "phase finished" and x.get("phase") == "grant"]
    assert lost, "the client's lines about lost answers are the grant phase's too"
    assert APPKEY not in err


def _clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("WAIQIN_")}


# --- errors, and several commands in one process ---------------------------------------------


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    captured = capsys.readouterr()
    assert isinstance(exc.value.code, int)
    return exc.value.code, captured.out, captured.err


def test_an_invalid_campaign_error_is_stamped_like_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 on an invalid campaign: the JSON error has timestamp and level, and no
    campaign or run (none was known), every field present."""
    bad = write_campaign_file(tmp_path / "bad.yaml", "campaign: x\ncampaign: y\nvouchers: {}\n")
    before = logs.timestamp()
    code, _, err = _main(["--log-format", "json", "run", str(bad), "--yes"], capsys)
    assert code == 2
    (line,) = _lines(err)
    report = ErrorReport.model_validate(line)
    assert report.level == line["level"] == "error"
    assert ISO_UTC.match(line["timestamp"])
    assert before <= line["timestamp"] <= logs.timestamp()
    assert {"campaign", "run_id"} <= line.keys()
    assert (line["campaign"], line["run_id"]) == (None, None)


def test_successive_commands_in_one_process_do_not_share_ids(
    tmp_path: Path,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two campaigns run by runner.cli.main in one process: each command's lines carry
    only its own campaign and run; an error after a run started names both; an error
    before any campaign is known names neither; nothing stays bound afterwards."""
    for name, value in _env(sandbox.base_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WAIQIN_BASE_URL", raising=False)
    east = _campaign(tmp_path, "ctx-one", first=10, count=6)
    west = _campaign(tmp_path, "ctx-two", first=20, count=5)
    state = tmp_path / "state"

    def run(campaign: Path, state_dir: Path) -> tuple[int, list[dict[str, Any]]]:
        """The command's exit code and lines, without those of the sandbox's own thread
        (this process serves it too): those name no campaign, being no command's."""
        argv = ["--log-format", "json", "run", str(campaign), "--yes", "--state-dir"]
        code, _out, err = _main([*argv, str(state_dir)], capsys)
        lines = _lines(err)
        served = [x for x in lines if x.get("event") == "sandbox request"]
        assert served, "the sandbox logs its requests: its thread's lines are checked"
        assert [x for x in served if "campaign" in x or "run_id" in x] == []
        return code, [x for x in lines if x.get("event") != "sandbox request"]

    code, one = run(east, state)
    assert code == 0, one
    code, two = run(west, state)
    assert code == 0, two
    (one_run,), (two_run,) = _run_ids(state, "ctx-one"), _run_ids(state, "ctx-two")
    assert {x["campaign"] for x in one} == {"ctx-one"}
    assert {x["campaign"] for x in two} == {"ctx-two"}
    assert {x["run_id"] for x in one if "run_id" in x} == {one_run}
    assert {x["run_id"] for x in two if "run_id" in x} == {two_run}
    assert _finished(two, "grant"), "the second command logged its own phases"
    assert logs.current() == {}

    # the same campaign from another state folder: its voucher exists remotely, exit 3,
    # raised in the lookup phase of a recorded run (whose scope closed before printing)
    other = tmp_path / "other-state"
    code, three = run(east, other)
    assert code == 3, three
    *logged, error = three
    (three_run,) = _run_ids(other, "ctx-one")
    assert error["kind"] == "error"
    assert (error["campaign"], error["run_id"], error["level"]) == ("ctx-one", three_run, "error")
    assert three_run not in (one_run, two_run)
    assert all(x["campaign"] == "ctx-one" for x in logged)
    assert logged[-1]["timestamp"] <= error["timestamp"]
    stopped = [x for x in logged if x["event"] == "phase stopped"]
    assert [(x["phase"], x["by"]) for x in stopped] == [("lookup", "RemoteVoucherExists")]

    bad = write_campaign_file(tmp_path / "bad.yaml", "campaign: [\n")
    code, _, err = _main(["--log-format", "json", "run", str(bad), "--yes"], capsys)
    assert code == 2
    (error,) = _lines(err)
    assert (error["campaign"], error["run_id"]) == (None, None)
    assert logs.current() == {}


# --- the context itself -------------------------------------------------------------------


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    logs.configure("json", level="debug", stream=out)
    yield out
    logs.reset()


def test_scope_restores_the_context_exactly_and_remembers_it_on_errors(
    stream: io.StringIO,
) -> None:
    """A scope drops what was bound in it, restores what it shadowed, and an exception
    leaving it keeps the innermost context (for the error report printed later)."""
    log = structlog.get_logger()

    def fail() -> None:
        with logs.scope(campaign="a"):
            logs.bind(run_id="r1")
            with logs.scope(campaign="b"):
                log.info("inner")
                raise RuntimeError("boom")

    with logs.scope(drop="d1"):
        with pytest.raises(RuntimeError) as caught:
            fail()
        log.info("outer")
        assert logs.current() == {"drop": "d1"}
    assert logs.current() == {}
    assert logs.context_of(caught.value) == {"drop": "d1", "campaign": "b", "run_id": "r1"}
    inner, outer = _lines(stream.getvalue())
    assert (inner["campaign"], inner["run_id"], inner["drop"]) == ("b", "r1", "d1")
    assert "campaign" not in outer
    assert "run_id" not in outer
    assert logs.context_of(ValueError()) == {}


def test_phase_ends_with_its_counts_and_restores_the_enclosing_phase(
    stream: io.StringIO,
) -> None:
    """A phase's lines carry it; it ends with `phase finished` (counts, duration_ms), or
    `phase stopped` naming the exception; the enclosing phase is bound again after."""
    log = structlog.get_logger()

    def fail_in_verify() -> None:
        with logs.phase("verify") as failing:
            failing.update(vouchers=1)
            raise KeyError("x")

    with logs.scope(campaign="c"), logs.phase("create") as outer:
        with logs.phase("reconcile") as counts:
            log.info("inside")
            counts.update(settled=3)
        log.info("back")
        with pytest.raises(KeyError):
            fail_in_verify()
        outer.update(created=1)
    inside, finished, back, stopped, created = _lines(stream.getvalue())
    assert (inside["phase"], inside["campaign"]) == ("reconcile", "c")
    assert finished["event"] == "phase finished"
    assert (finished["phase"], finished["settled"]) == ("reconcile", 3)
    assert isinstance(finished["duration_ms"], int)
    assert back["phase"] == "create"
    assert (stopped["event"], stopped["phase"], stopped["by"]) == (
        "phase stopped",
        "verify",
        "KeyError",
    )
    assert (stopped["level"], stopped["vouchers"]) == ("warning", 1)
    assert (created["phase"], created["created"]) == ("create", 1)
    assert logs.current() == {}


def test_each_thread_logs_its_own_campaign(stream: io.StringIO) -> None:
    """Campaigns run side by side in worker threads (as a watcher does) never swap ids, and a
    thread starts with nothing bound whatever its parent bound."""
    barrier = threading.Barrier(2)
    seen: list[dict[str, Any]] = []

    def work(name: str) -> None:
        seen.append(logs.current())
        with logs.scope(campaign=name):
            barrier.wait(timeout=10)  # both bound before either logs
            structlog.get_logger().info("working")
            barrier.wait(timeout=10)

    with logs.scope(campaign="parent"):
        threads = [threading.Thread(target=work, args=(n,)) for n in ("t1", "t2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    assert seen == [{}, {}]
    assert sorted(line["campaign"] for line in _lines(stream.getvalue())) == ["t1", "t2"]


def test_the_error_report_schema_names_the_new_fields() -> None:
    """`runner schema --output error` lists timestamp, level, campaign and run_id, always
    present; level is always "error"."""
    schema = output_schema("error")
    assert {"timestamp", "level", "campaign", "run_id"} <= set(schema["required"])
    assert schema["properties"]["level"].get("const") == "error"
    assert ISO_UTC.match(logs.timestamp())
