"""The server: inspection, counters, persistence across restarts, start/stop, secrets."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import httpx
import pytest

from runner.errors import EnvironmentProblem, UsageError
from runner.sandbox import ManualClock, SandboxConfig, SandboxServer
from runner.sandbox.testing import inspect, running_sandbox, signed_post

from .conftest import CUSTOMER_COUNT, CUSTOMERS, SEED, Api, voucher_payload


def test_inspect_shows_vouchers_grants_and_counters(api: Api) -> None:
    """Inspection lists each voucher, each customer's grants and per-operation counters."""
    voucher_id = api.create()
    api.ok("receiveVoucherInfo", {"voucherId": voucher_id, "cmId": CUSTOMERS[0].id})
    api.refused("receiveVoucherInfo", {"voucherId": voucher_id, "cmId": CUSTOMERS[0].id})
    api.ok("getVoucherInfos", {})
    state = inspect(api.base_url)
    assert [v["id"] for v in state["vouchers"]] == [voucher_id]
    entry = state["grants"][voucher_id][CUSTOMERS[0].id]
    assert entry["count"] == 1
    assert entry["instance_ids"] == [i["id"] for i in state["instances"][voucher_id]]
    receive = state["counters"]["receiveVoucherInfo"]
    assert (receive["received"], receive["accepted"], receive["applied"]) == (2, 1, 1)
    assert receive["refused"] == 1
    reads = state["counters"]["getVoucherInfos"]
    assert (reads["accepted"], reads["applied"]) == (1, 0)
    assert state["customers"]["count"] == CUSTOMER_COUNT


def test_reset_counters_zeroes_them(api: Api) -> None:
    """POST /sandbox/reset-counters forgets every request counter but not the state."""
    voucher_id = api.create()
    response = httpx.post(f"{api.base_url}/sandbox/reset-counters")
    state = inspect(api.base_url)
    assert response.status_code == 200
    assert state["counters"] == {}
    assert [v["id"] for v in state["vouchers"]] == [voucher_id]


def test_state_survives_a_restart_from_the_state_file(tmp_path: Path, clock: ManualClock) -> None:
    """A new server on the same state file sees the same vouchers and grants, new ids stay new."""
    state_file = tmp_path / "state.json"
    config = {"clock": clock, "generate": CUSTOMER_COUNT, "seed": SEED, "state_file": state_file}
    with running_sandbox(**config) as first:
        api = Api(first.base_url)
        voucher_id = api.create()
        api.ok("receiveVoucherInfo", {"voucherId": voucher_id, "cmId": CUSTOMERS[0].id})
    saved = json.loads(state_file.read_text(encoding="utf-8"))
    assert [v["id"] for v in saved["vouchers"]] == [voucher_id]
    with running_sandbox(**config) as second:  # on a port of its own: only the file is shared
        api = Api(second.base_url)
        state = inspect(second.base_url)
        again = api.refused(
            "receiveVoucherInfo", {"voucherId": voucher_id, "cmId": CUSTOMERS[0].id}
        )
        other = api.create()
    assert state["grants"][voucher_id][CUSTOMERS[0].id]["count"] == 1
    assert "单客户限领" in again[1]
    assert other != voucher_id
    assert not list(tmp_path.glob("*.tmp"))


def test_server_restarts_on_the_same_port_with_its_state(clock: ManualClock) -> None:
    """stop() then start() serves again on the same port, keeping the in-memory state."""
    server = SandboxServer(SandboxConfig(clock=clock, generate=CUSTOMER_COUNT, seed=SEED))
    with server:
        port = server.port
        voucher_id = Api(server.base_url).create()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/sandbox/inspect")
    with server:
        state = inspect(server.base_url)
    assert server.port == port
    assert [v["id"] for v in state["vouchers"]] == [voucher_id]


def test_a_damaged_state_file_is_a_usage_error(tmp_path: Path) -> None:
    """A state file that is not the sandbox's JSON is refused, naming the file."""
    state_file = tmp_path / "state.json"
    state_file.write_text('{"vouchers": "oops"}', encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        SandboxServer(SandboxConfig(state_file=state_file))
    assert caught.value.where.file == str(state_file)
    assert caught.value.hint is not None


def test_a_busy_port_is_an_environment_problem(server: SandboxServer) -> None:
    """Starting a second server on a port in use fails with a hint to choose another."""
    with pytest.raises(EnvironmentProblem) as caught:
        SandboxServer(SandboxConfig(port=server.port)).start()
    assert "--port" in str(caught.value.hint)


def test_appkey_never_leaves_the_sandbox(tmp_path: Path, clock: ManualClock) -> None:
    """The appkey is absent from the config's repr, the inspection and the state file."""
    secret = "S3cret-Appkey-Value"
    state_file = tmp_path / "state.json"
    config = SandboxConfig(appkey=secret, state_file=state_file, generate=5, clock=clock)
    with SandboxServer(config) as server:
        body = json.dumps(voucher_payload(cmId=None, tradeRange="1"), ensure_ascii=False)
        response = signed_post(server.base_url, "addVoucherInfo", body, appkey=secret)
        inspected = httpx.get(f"{server.base_url}/sandbox/inspect").text
    assert response.json()["return_code"] == "0"
    assert secret not in repr(config)
    assert secret not in inspected
    assert secret not in state_file.read_text(encoding="utf-8")


def test_inspect_helper_sees_customers_loaded_from_a_config() -> None:
    """Customers given directly in the config are the ones the sandbox knows."""
    with running_sandbox(customers=tuple(CUSTOMERS[:2])) as server:
        state = inspect(server.base_url)
    assert state["customers"]["count"] == 2


def test_answers_on_a_keep_alive_connection_are_not_held_back(server: SandboxServer) -> None:
    """Sequential calls on one keep-alive connection each come back in well under the
    40 ms a client's delayed ACK costs when Nagle's algorithm holds the answer's body back
    (every answer took ~44 ms so before TCP_NODELAY took effect)."""
    durations = []
    with httpx.Client(timeout=10) as client:
        for _ in range(15):
            start = time.perf_counter()
            answer = signed_post(server.base_url, "getVoucherInfos", {}, client=client)
            durations.append(time.perf_counter() - start)
            assert answer.status_code == 200
    assert statistics.median(durations) < 0.030, durations


def test_a_wrong_method_on_the_vendor_route_is_still_405(server: SandboxServer) -> None:
    """Only POST takes the fast path to the vendor's endpoint: a GET there is routed as
    before and answered 405, an unknown path 404."""
    route = f"{server.base_url}/api/voucher/v1/getVoucherInfos/o/20260310093000/d/m"
    assert httpx.get(route, timeout=10).status_code == 405
    assert httpx.post(f"{server.base_url}/api/voucher/v1/x", timeout=10).status_code == 404
