"""The sandbox's state file: appended to per change, replayed and compacted on open.

A copy of the file taken while the server runs is what a killed sandbox leaves behind
(its appended lines, never compacted); a new server on that copy shows a restart after a
crash.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from runner.errors import UsageError
from runner.sandbox import DEFAULT_APPKEY, DEFAULT_OPENID, ManualClock, SandboxConfig, SandboxServer
from runner.sandbox._state import Instance, StateStore
from runner.sandbox.testing import inspect, mark, running_sandbox, signed_post

from .conftest import CUSTOMER_COUNT, CUSTOMERS, SEED, Api, voucher_payload


def _config(clock: ManualClock, state_file: Path) -> dict[str, object]:
    return {"clock": clock, "generate": CUSTOMER_COUNT, "seed": SEED, "state_file": state_file}


def _scope_voucher(api: Api, num: int = 90, each: int = 3) -> str:
    return api.create(cmId=None, tradeRange="1", num=num, eachCmNum=each)


def _grant(api: Api, voucher_id: str, n: int) -> None:
    customer = CUSTOMERS[n % CUSTOMER_COUNT]
    api.ok("receiveVoucherInfo", {"voucherId": voucher_id, "cmId": customer.id})


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _granted(base_url: str, voucher_id: str) -> int:
    return sum(one["count"] for one in inspect(base_url)["grants"][voucher_id].values())


def test_each_grant_appends_a_line_and_many_survive_a_restart(
    tmp_path: Path, clock: ManualClock
) -> None:
    """The first line (the state) is never rewritten while grants are made: each grant
    appends one line. Stopping compacts the file into one document; a new server on it has
    every grant and gives new ids."""
    state_file = tmp_path / "state.json"
    with running_sandbox(**_config(clock, state_file)) as first:
        api = Api(first.base_url)
        voucher_id = _scope_voucher(api)
        (head,) = _lines(state_file)  # a new file starts with the whole state
        for n in range(60):
            _grant(api, voucher_id, n)
        lines = _lines(state_file)
        assert lines[0] == head
        assert len(lines) == 61  # then one line per grant
        assert all(len(line) < 2_000 for line in lines[1:])
    saved = json.loads(state_file.read_text(encoding="utf-8"))
    assert len(saved["instances"]) == 60
    assert len(_lines(state_file)) == 1
    with running_sandbox(**_config(clock, state_file)) as second:
        assert _granted(second.base_url, voucher_id) == 60
        api = Api(second.base_url)
        ids = {i["id"] for i in inspect(second.base_url)["instances"][voucher_id]}
        _grant(api, voucher_id, 60)
        after = inspect(second.base_url)["instances"][voucher_id]
    assert len(after) == 61
    assert after[-1]["id"] not in ids


def test_a_serving_store_never_rewrites_its_file(tmp_path: Path) -> None:
    """Thousands of saves (past a megabyte of appended lines) only append: the first line
    stays as written, one line per save; only reopening compacts."""
    state_file = tmp_path / "state.json"
    store = StateStore(state_file, seed=SEED)
    store.compact()  # what a server does on open: the file starts as the whole state
    (head,) = _lines(state_file)
    for n in range(4_000):
        customer = CUSTOMERS[n % CUSTOMER_COUNT]
        store.add_instance(
            Instance(
                id=store.new_id(),
                voucher_id="1152921504606846976",
                cm_id=customer.id,
                cm_code=customer.code,
                cm_source_code=customer.source_code,
                cm_name=customer.name,
                distribute_time="2099-03-01 10:00:00",
                receive_time="2099-03-01 10:00:00",
            )
        )
        store.save()
    store.close()
    lines = _lines(state_file)
    assert state_file.stat().st_size > 1 << 20
    assert (lines[0], len(lines)) == (head, 4_001)
    reopened = StateStore(state_file, seed=SEED)
    assert reopened.granted("1152921504606846976") == 4_000
    assert len(_lines(state_file)) == 1


def test_a_crash_mid_append_loses_only_the_partial_line(tmp_path: Path, clock: ManualClock) -> None:
    """A file cut in the middle of its last line (the process died while writing it)
    opens with every complete line; the partial one is dropped, the file compacted, and
    the sandbox carries on."""
    state_file, crashed = tmp_path / "state.json", tmp_path / "crashed.json"
    with running_sandbox(**_config(clock, state_file)) as first:
        api = Api(first.base_url)
        voucher_id = _scope_voucher(api)
        for n in range(5):
            _grant(api, voucher_id, n)
        shutil.copy(state_file, crashed)
        _grant(api, voucher_id, 5)
        sixth = _lines(state_file)[-1]
    with crashed.open("ab") as handle:
        handle.write(sixth[: len(sixth) // 2])
    with running_sandbox(**_config(clock, crashed)) as second:
        assert _granted(second.base_url, voucher_id) == 5
        assert len(_lines(crashed)) == 1  # compacted on open: the partial line is gone
        _grant(Api(second.base_url), voucher_id, 5)
    assert len(json.loads(crashed.read_text(encoding="utf-8"))["instances"]) == 6


def test_changes_in_place_are_appended_too(tmp_path: Path, clock: ManualClock) -> None:
    """A finished voucher, a moved end date and used or expired instances reach the file
    as appended lines (read from a copy taken before any compaction)."""
    state_file, crashed = tmp_path / "state.json", tmp_path / "crashed.json"
    with running_sandbox(**_config(clock, state_file)) as first:
        api = Api(first.base_url)
        kept, finished = _scope_voucher(api), _scope_voucher(api)
        for n in range(4):
            _grant(api, kept, n)
        api.ok("modifyVoucherEndDate", {"voucherId": kept, "endDate": "2026-04-30"})
        api.ok("finishVoucher", {"voucherId": finished})
        mark(first.base_url, kept, used=1, expired=2)
        shutil.copy(state_file, crashed)
    with running_sandbox(**_config(clock, crashed)) as second:
        state = inspect(second.base_url)
    vouchers = {v["id"]: v for v in state["vouchers"]}
    assert vouchers[kept]["end_date"] == "2026-04-30"
    assert vouchers[finished]["is_finish"] == "Y"
    statuses = [i["use_status"] for i in state["instances"][kept]]
    assert statuses == ["1", "2", "2", "0"]
    assert state["instances"][kept][0]["order_id"]


def test_a_damaged_line_before_the_last_is_refused_naming_it(tmp_path: Path) -> None:
    """Only a cut last line is a crash; damage anywhere else refuses the file (line named)."""
    state_file = tmp_path / "state.json"
    good = json.dumps({"id_counter": 3, "vouchers": [], "instances": []})
    state_file.write_text(f"{json.dumps({'id_counter': 2})}\nnot json\n{good}\n", "utf-8")
    with pytest.raises(UsageError) as caught:
        SandboxServer(SandboxConfig(state_file=state_file))
    assert "line 2" in caught.value.message
    assert caught.value.where.row == 2


def test_a_state_file_of_the_earlier_format_is_read_and_carried_on(
    tmp_path: Path, clock: ManualClock
) -> None:
    """One JSON document without a final newline (as earlier versions wrote it) is the
    state; appending to it starts on a line of its own."""
    state_file, crashed = tmp_path / "state.json", tmp_path / "crashed.json"
    with running_sandbox(**_config(clock, state_file)) as first:
        voucher_id = _scope_voucher(Api(first.base_url))
    state_file.write_bytes(state_file.read_bytes().rstrip(b"\n"))
    with running_sandbox(**_config(clock, state_file)) as second:
        _grant(Api(second.base_url), voucher_id, 0)
        shutil.copy(state_file, crashed)
    with running_sandbox(**_config(clock, crashed)) as third:
        assert _granted(third.base_url, voucher_id) == 1


_LISTENING = re.compile(r"listening on (http://\S+)")


def _start(state_file: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAIQIN_")}
    command = [sys.executable, "-m", "runner", "sandbox", "--port", "0", "--generate"]
    command += [str(CUSTOMER_COUNT), "--seed", str(SEED), "--state", str(state_file)]
    with log.open("wb") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = _LISTENING.search(log.read_text("utf-8", errors="replace"))
        if found:
            return child, found.group(1)
        assert child.poll() is None, log.read_text("utf-8", errors="replace")
        time.sleep(0.05)
    child.kill()
    raise AssertionError("the sandbox did not start")


def test_a_killed_sandbox_restarts_with_every_answered_grant(tmp_path: Path) -> None:
    """SIGKILL a `runner sandbox --state` process after many grants: a new process on the
    file has every grant that was answered."""
    state_file = tmp_path / "state.json"
    child, base_url = _start(state_file, tmp_path / "first.log")
    try:
        body = voucher_payload(
            cmId=None,
            tradeRange="1",
            num=90,
            eachCmNum=3,
            startDate="2099-03-01",
            endDate="2099-03-31",
        )
        created = signed_post(base_url, "addVoucherInfo", body, DEFAULT_OPENID, DEFAULT_APPKEY)
        voucher_id = json.loads(created.json()["response_data"])["voucherId"]
        for n in range(40):
            grant = {"voucherId": voucher_id, "cmId": CUSTOMERS[n % CUSTOMER_COUNT].id}
            answer = signed_post(base_url, "receiveVoucherInfo", grant)
            assert answer.json()["return_code"] == "0"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert len(_lines(state_file)) > 1  # killed: never compacted
    child, base_url = _start(state_file, tmp_path / "second.log")
    try:
        assert _granted(base_url, voucher_id) == 40
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)
    assert len(json.loads(state_file.read_text(encoding="utf-8"))["instances"]) == 40


def _grant_until_gone(base_url: str, voucher_id: str, answered: list[int]) -> None:
    """Grant on one keep-alive connection until the sandbox is gone; count answers."""
    with httpx.Client(timeout=10) as client:
        for n in range(10_000):
            grant = {"voucherId": voucher_id, "cmId": CUSTOMERS[n % CUSTOMER_COUNT].id}
            try:
                answer = signed_post(base_url, "receiveVoucherInfo", grant, client=client)
            except httpx.HTTPError:
                return
            assert answer.json()["return_code"] == "0"
            answered.append(n)


def test_a_sandbox_killed_under_load_knows_every_grant_it_answered(tmp_path: Path) -> None:
    """SIGKILL a `runner sandbox --state` process while 8 clients grant as fast as they
    can: a new process on the file knows every grant that was answered, and at most one
    more per client (sent, applied, its answer lost with the process)."""
    state_file = tmp_path / "state.json"
    child, base_url = _start(state_file, tmp_path / "first.log")
    answered: list[int] = []
    try:
        body = voucher_payload(cmId=None, tradeRange="1", num=20_000, eachCmNum=2_000)
        body |= {"startDate": "2099-03-01", "endDate": "2099-03-31"}
        created = signed_post(base_url, "addVoucherInfo", body)
        voucher_id = json.loads(created.json()["response_data"])["voucherId"]
        clients = [
            threading.Thread(target=_grant_until_gone, args=(base_url, voucher_id, answered))
            for _ in range(8)
        ]
        for one in clients:
            one.start()
        deadline = time.monotonic() + 30
        while len(answered) < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    for one in clients:
        one.join(timeout=30)
    assert len(answered) >= 300
    child, base_url = _start(state_file, tmp_path / "second.log")
    try:
        known = _granted(base_url, voucher_id)
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)
    assert len(answered) <= known <= len(answered) + len(clients)
