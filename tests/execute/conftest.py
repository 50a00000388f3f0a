"""Helpers for the exactly-once tests: campaigns in tmp_path, sandboxes, the invariant.

Every scenario ends with :func:`assert_exactly_planned`: the sandbox's inspection holds
exactly the planned vouchers and exactly the planned grants per customer, results.csv
agrees with it (every job done, ids as text), and the appkey is in no file of the state
directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
import stamina

from runner.execute import ExecSettings
from runner.ledger import campaign_dir
from runner.ops import RunOptions
from runner.plan import Plan, load_plan
from runner.sandbox import SandboxServer
from runner.sandbox.testing import inspect, running_sandbox
from tests.builders import AUDIENCE_HEADER, campaign_yaml, write_audience_csv, write_campaign_file

REPO = Path(__file__).resolve().parents[2]
REGISTRY = REPO / "samples" / "sandbox_customers.csv"
EAST_XLSX = REPO / "samples" / "customers_east.xlsx"
OPENID = "exec-test-openid"
APPKEY = "exec-SECRET-appkey-5f2e9d81c4"
CAMPAIGN = "exec-test"
START_DATE, END_DATE = "2027-01-01", "2035-12-31"
#: Our column names → the headers of an audience CSV (:data:`tests.builders.AUDIENCE_HEADER`).
*_NAMED, QTY = AUDIENCE_HEADER
HEADERS = dict(zip(("cm_id", "cm_code", "cm_name", "level"), _NAMED, strict=True))
ID_TEXT = re.compile(r"^[0-9]{19}$")

#: Short waits so that lost responses and retries resolve fast; many rounds so that a
#: job faulted several times in a row still gets through.
FAST = ExecSettings(
    max_attempts=10, wait_initial_s=0.01, wait_max_s=0.2, settle_s=0.05, rounds=20, drain_s=2
)
#: The campaigns' ``api.settle_s`` (the default would be ``timeout_s``, and 2 s in a
#: ``runner run`` child): the sandbox applies a write before it answers or drops the answer,
#: so only a request still queued after the client's 1 s timeout could land later than this.
SETTLE_S = 0.5


def registry() -> pl.DataFrame:
    """The sandbox's customer registry (all text)."""
    return pl.read_csv(REGISTRY, infer_schema=False)


def write_audience(
    path: Path, customers: pl.DataFrame, quantities: Sequence[int] | None = None
) -> Path:
    """A customer CSV with Chinese headers (客户ID, 客户编码, 客户名称, 客户等级, 数量)."""
    qty = quantities or [1 + i % 3 for i in range(customers.height)]
    columns = [customers[name].to_list() for name in ("id", "code", "name", "level")]
    return write_audience_csv(path, list(zip(*columns, map(str, qty), strict=True)))


def audience(file: Path, *, key: str = "cm_code") -> dict[str, Any]:
    """The campaign's ``audiences`` entry for a CSV written by :func:`write_audience`."""
    columns = {key: HEADERS[key], "cm_name": HEADERS["cm_name"], "level": HEADERS["level"]}
    return {"file": str(file), "key": key, "columns": {**columns, "qty": QTY}}


def east_audience(folder: Path) -> dict[str, Any]:
    """The east sample spreadsheet, copied into the campaign's ``folder`` (audience files
    must be inside it), as an audience (40 customers, 75 grants by qty)."""
    shutil.copyfile(EAST_XLSX, folder / EAST_XLSX.name)
    return {
        "file": EAST_XLSX.name,
        "sheet": "客户",
        "key": "cm_code",
        "columns": {
            "cm_code": "客户编码",
            "cm_name": "客户名称",
            "level": "客户等级",
            "qty": "数量",
        },
    }


def voucher(name: str, **overrides: Any) -> dict[str, Any]:
    """A valid voucher (10 off 100, specific customers, all products) plus overrides."""
    base: dict[str, Any] = {
        "name": name,
        "start_date": START_DATE,
        "end_date": END_DATE,
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
    return base | overrides


def write_campaign(
    path: Path,
    *,
    audiences: Mapping[str, Mapping[str, Any]],
    vouchers: Mapping[str, Mapping[str, Any]],
    grants: Sequence[Mapping[str, Any]],
    name: str = CAMPAIGN,
    **api: Any,
) -> Path:
    """Write a campaign YAML whose API is ``${SANDBOX_URL}``; ``api`` overrides settings.

    ``settle_s`` is short (:data:`SETTLE_S`): in-process and ``runner run`` children alike
    would otherwise wait ``timeout_s`` before every second read of reconciliation. Only a
    vendor that applies a request *after* the client's timeout needs more; a test of that
    passes its own ``settle_s`` (``settle_s=None`` leaves the campaign's default).
    """
    settings: dict[str, Any] = {
        "base_url": "${SANDBOX_URL}",
        "openid": "${WAIQIN_OPENID}",
        "appkey": "${WAIQIN_APPKEY}",
        "rate": 200,
        "concurrency": 8,
        "timeout_s": 1,
        "max_attempts": 10,
        "settle_s": SETTLE_S,
    }
    text = campaign_yaml(
        name,
        api={k: v for k, v in (settings | api).items() if v is not None},
        audiences=audiences,
        vouchers=vouchers,
        grants=grants,
    )
    return write_campaign_file(path, text)


def env_for(base_url: str) -> dict[str, str]:
    """The variables the campaign file refers to."""
    return {"SANDBOX_URL": base_url, "WAIQIN_OPENID": OPENID, "WAIQIN_APPKEY": APPKEY}


def options(state_dir: Path, base_url: str, **overrides: Any) -> RunOptions:
    """RunOptions for an unattended in-process run with short waits."""
    values: dict[str, Any] = {
        "yes": True,
        "state_dir": state_dir,
        "env": env_for(base_url),
        "settings": FAST,
        "bars": False,
    }
    return RunOptions(**(values | overrides))


def plan_of(campaign_path: Path, base_url: str) -> Plan:
    """The campaign's plan, as the runner builds it."""
    return load_plan(campaign_path, env=env_for(base_url))[1]


@contextmanager
def sandbox(**config: Any) -> Iterator[SandboxServer]:
    """A sandbox knowing the sample registry and our credentials (config overrides)."""
    values: dict[str, Any] = {"customers_file": REGISTRY, "openid": OPENID, "appkey": APPKEY}
    with running_sandbox(**(values | config)) as server:
        yield server


def grant_calls(base_url: str) -> int:
    """How many receiveVoucherInfo requests the sandbox has received."""
    counters = inspect(base_url)["counters"].get("receiveVoucherInfo", {})
    return int(counters.get("received", 0))


def granted(base_url: str) -> int:
    """How many instances the sandbox holds over all vouchers."""
    return sum(len(items) for items in inspect(base_url)["instances"].values())


def results(state_dir: Path, campaign: str = CAMPAIGN) -> pl.DataFrame:
    """results.csv, every column as text."""
    return pl.read_csv(campaign_dir(state_dir, campaign) / "results.csv", infer_schema=False)


def _cm_ids(registry_frame: pl.DataFrame) -> dict[tuple[str, str], str]:
    """(key kind, customer key) → cm_id, from the registry."""
    out: dict[tuple[str, str], str] = {}
    for row in registry_frame.iter_rows(named=True):
        out[("cm_id", row["id"])] = row["id"]
        out[("cm_code", row["code"])] = row["id"]
        out[("cm_source_code", row["source_code"])] = row["id"]
    return out


def assert_no_appkey(state_dir: Path) -> None:
    """The appkey appears in no file under the state directory."""
    files = [p for p in state_dir.rglob("*") if p.is_file()]
    assert files, f"nothing was written under {state_dir}"
    leaked = [str(p) for p in files if APPKEY.encode() in p.read_bytes()]
    assert not leaked, f"the appkey leaked into {leaked}"


def assert_exactly_planned(
    base_url: str,
    plan: Plan,
    state_dir: Path,
    *,
    refused: Collection[str] = (),
    registry_frame: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Remote == plan, results.csv == remote, no appkey in any file; returns results.

    ``refused``: customer keys the sandbox refuses for good (not in its registry); their
    jobs must be ``failed`` and hold no remote instance. Every other job must be ``done``.
    """
    snapshot = inspect(base_url)
    table = results(state_dir, plan.campaign)
    jobs = plan.jobs

    # results.csv: exactly the planned jobs; done, or failed exactly for the refused keys.
    assert sorted(table["job_id"].to_list()) == sorted(jobs["job_id"].to_list())
    states = dict(zip(table["job_id"], table["state"], strict=True))
    for row in jobs.iter_rows(named=True):
        wanted = "failed" if row["customer_key"] in refused else "done"
        assert states[row["job_id"]] == wanted, (row, states[row["job_id"]])

    # One remote voucher per voucher key, none extra, with the planned settings.
    ids_per_key = table.group_by("voucher_key").agg(pl.col("voucher_id").unique())
    remote_id: dict[str, str] = {}
    for key, ids in ids_per_key.iter_rows():
        assert len(ids) == 1, (key, ids)
        assert ids[0] is not None, (key, ids)
        assert ID_TEXT.match(ids[0]), f"voucher id {ids[0]!r} is not 19-digit text"
        remote_id[key] = ids[0]
    remote = {v["id"]: v for v in snapshot["vouchers"]}
    assert len(remote) == len(plan.vouchers), sorted(remote)
    assert set(remote) == set(remote_id.values())
    for planned in plan.vouchers:
        made = remote[remote_id[planned.key]]
        assert made["name"] == planned.payload["name"]
        assert made["num"] == planned.num
        assert made["each_cm_num"] == planned.each_cm_num

    # Exactly the planned grants per customer per voucher.
    cm_ids = _cm_ids(registry() if registry_frame is None else registry_frame)
    expected: Counter[tuple[str, str]] = Counter(
        (remote_id[r["voucher_key"]], cm_ids[(r["key_kind"], r["customer_key"])])
        for r in jobs.iter_rows(named=True)
        if r["customer_key"] not in refused
    )
    actual: Counter[tuple[str, str]] = Counter(
        {
            (voucher_id, cm_id): held["count"]
            for voucher_id, per_customer in snapshot["grants"].items()
            for cm_id, held in per_customer.items()
        }
    )
    assert actual == expected, {"missing": expected - actual, "extra": actual - expected}

    # ids stay text in the results file
    key_ids = table.filter(pl.col("key_kind") == "cm_id")["customer_key"].to_list()
    assert all(ID_TEXT.match(k) for k in key_ids), key_ids[:5]
    assert_no_appkey(state_dir)
    return table


# --- processes ------------------------------------------------------------------------------


def subprocess_env(base_url: str) -> dict[str, str]:
    """The environment of a ``python -m runner`` child: ours plus the campaign's variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAIQIN_")}
    return env | env_for(base_url) | {"PYTHONUNBUFFERED": "1"}


def runner_command(*args: str) -> list[str]:
    """``python -m runner --log-format json ARGS`` with the running interpreter."""
    return [sys.executable, "-m", "runner", "--log-format", "json", *args]


def start_run(campaign: Path, state: Path, base_url: str, log: Path) -> subprocess.Popen[bytes]:
    """``runner run CAMPAIGN --yes --state-dir STATE`` in a child process, logging to *log*."""
    command = runner_command("run", str(campaign), "--yes", "--state-dir", str(state))
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            env=subprocess_env(base_url),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )


def wait_until(condition: Any, *, timeout: float = 30.0, every: float = 0.05) -> None:
    """Poll ``condition()`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {condition}"
        time.sleep(every)


def answers(base_url: str) -> bool:
    """True once ``/sandbox/inspect`` answers."""
    try:
        return httpx.get(f"{base_url}/sandbox/inspect", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


_LISTENING = re.compile(r"sandbox listening on (http://\S+)")


def _announced_url(log: Path) -> str | None:
    """The base URL ``runner sandbox`` printed once it was listening, if it has yet."""
    found = _LISTENING.search(log.read_text("utf-8", errors="replace"))
    return found.group(1) if found else None


@contextmanager
def sandbox_process(tmp_path: Path, *, seed: int, faults: str = "") -> Iterator[str]:
    """``runner sandbox`` in its own process, with a state file; yields its base URL.

    It listens on port 0 (a port the kernel picks, so no other test can race for it) and
    the URL is read from its startup banner.
    """
    command = runner_command(
        "sandbox",
        "--port",
        "0",
        "--customers",
        str(REGISTRY),
        "--state",
        str(tmp_path / "sandbox-state.json"),
        "--seed",
        str(seed),
        "--faults",
        faults,
    )
    log_path = tmp_path / "sandbox.log"
    log = log_path.open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAIQIN_")}
    env |= {"WAIQIN_OPENID": OPENID, "WAIQIN_APPKEY": APPKEY, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:

        def up() -> bool:
            assert child.poll() is None, log_path.read_text("utf-8")
            url = _announced_url(log_path)
            return url is not None and answers(url)

        wait_until(up, timeout=30)
        base_url = _announced_url(log_path)
        assert base_url is not None
        yield base_url
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        log.close()


@pytest.fixture(autouse=True)
def _no_retry_waits(request: pytest.FixtureRequest) -> Iterator[None]:
    """Retries do not sleep (each keeps its number of attempts) in this process, unless the
    test is marked ``retry_waits``: backing off is then part of what it shows.

    ``runner run`` children are not affected: they wait as a real run does.
    """
    if request.node.get_closest_marker("retry_waits") is not None:
        yield
        return
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


#: The sandbox's limit is an exact sliding second. Starts are counted when a request gets
#: its slot; on a machine loaded by other work, the bytes of one may leave tens of ms
#: later than another's, so one request in a while lands in the same server second as
#: the limit's worth before it. That is scheduling noise, not pacing: the control in
#: test_exec_shared_budget.py, without the shared budget, is pushed back about a dozen
#: times (12 of 146 requests).
STRAY_PUSHBACKS = 2


def shops_campaign(tmp_path: Path, customers: int, *, first: int = 0, **api: Any) -> Path:
    """campaign.yaml granting one 满100减10 voucher to *customers* registry shops from
    *first* on (shops.csv beside it), with *api* settings."""
    shops = write_audience(tmp_path / "shops.csv", registry().slice(first, customers))
    return write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(shops)},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        **api,
    )
