"""Injected faults: the spec parser, the seeded decisions, and each kind seen by a client."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from runner.errors import UsageError
from runner.sandbox import FaultConfig, FaultRule, Latency, ManualClock, parse_faults
from runner.sandbox._faults import FaultInjector
from runner.sandbox.testing import inspect, running_sandbox, set_faults, signed_post

from .conftest import START, voucher_payload


def test_parse_full_spec() -> None:
    """Every kind, a scoped rate and the lost-response delay parse into one config."""
    config = parse_faults(
        "lost_response=0.05, http_5xx=0.02,reset=0.01,latency=20ms~10ms,"
        "lost_response@receiveVoucherInfo=0.3,lost_response_delay=2.5"
    )
    assert config == FaultConfig(
        rules=(
            FaultRule("lost_response", 0.05),
            FaultRule("http_5xx", 0.02),
            FaultRule("reset", 0.01),
            FaultRule("lost_response", 0.3, "receiveVoucherInfo"),
        ),
        latencies=(Latency(0.02, 0.01),),
        lost_response_delay=2.5,
    )
    assert config.rate("lost_response", "receiveVoucherInfo") == 0.3
    assert config.rate("lost_response", "addVoucherInfo") == 0.05
    assert parse_faults(config.describe()) == config


def test_empty_spec_injects_nothing() -> None:
    """An empty spec is the empty config."""
    assert parse_faults("  ") == FaultConfig()


@pytest.mark.parametrize(
    ("spec", "mentions"),
    [
        ("explode=0.1", "unknown fault kind 'explode'"),
        ("reset@deleteAll=0.1", "unknown operation 'deleteAll'"),
        ("reset=1.5", "not between 0 and 1"),
        ("reset=often", "not a number"),
        ("reset", "expected kind=value"),
        ("latency=fast", "not like 20ms"),
        ("reset=0.1,reset=0.2", "given twice"),
        ("lost_response_delay@getCmInfos=2", "every operation"),
        ("reset=0.6,lost_response=0.6", "more than 1"),
    ],
)
def test_bad_specs_are_usage_errors(spec: str, mentions: str) -> None:
    """A bad spec raises UsageError naming the item and giving an example."""
    with pytest.raises(UsageError) as caught:
        parse_faults(spec)
    assert mentions in caught.value.message
    assert caught.value.hint


def test_seeded_decisions_repeat_and_latency_stays_in_range() -> None:
    """Two injectors with one seed decide alike; latency is fixed plus at most the jitter."""
    config = parse_faults("reset=0.2,http_5xx=0.2,lost_response=0.2,latency=20ms~10ms")
    first, second = FaultInjector(config, 11), FaultInjector(config, 11)
    one = [first.decide("getVoucherInfos") for _ in range(50)]
    two = [second.decide("getVoucherInfos") for _ in range(50)]
    assert one == two
    assert {d.kind for d in one} == {None, "reset", "http_5xx", "lost_response"}
    assert all(0.02 <= d.delay <= 0.03 for d in one)
    assert {d.status for d in one if d.kind == "http_5xx"} <= {500, 502}


def create(base_url: str, **kwargs: Any) -> httpx.Response:
    return signed_post(
        base_url, "addVoucherInfo", voucher_payload(cmId=None, tradeRange="1"), **kwargs
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def test_http_5xx_answers_html_and_applies_nothing(clock: ManualClock) -> None:
    """A 5xx fault answers 500/502 with an HTML body and creates nothing."""
    with running_sandbox(clock=clock, faults="http_5xx=1") as server:
        response = create(server.base_url)
        state = inspect(server.base_url)
    assert response.status_code in (500, 502)
    assert response.headers["content-type"].startswith("text/html")
    assert "<html>" in response.text
    assert state["vouchers"] == []
    assert state["counters"]["addVoucherInfo"]["http_5xx"] == 1


def test_reset_drops_the_connection_before_applying(clock: ManualClock) -> None:
    """A reset fault gives the client a transport error, and nothing was created."""
    with running_sandbox(clock=clock, faults="reset=1") as server:
        with pytest.raises(httpx.TransportError):
            create(server.base_url)
        state = inspect(server.base_url)
    assert state["vouchers"] == []
    counters = state["counters"]["addVoucherInfo"]
    assert (counters["reset"], counters["accepted"]) == (1, 0)


def test_lost_response_applies_then_drops(clock: ManualClock) -> None:
    """A lost response gives a transport error although the voucher WAS created."""
    with running_sandbox(clock=clock, faults="lost_response=1") as server:
        with pytest.raises(httpx.TransportError):
            create(server.base_url)
        state = inspect(server.base_url)
    assert len(state["vouchers"]) == 1
    counters = state["counters"]["addVoucherInfo"]
    assert (counters["lost_response"], counters["applied"]) == (1, 1)


def test_delayed_lost_response_times_out_after_applying(clock: ManualClock) -> None:
    """With lost_response_delay the client times out, and the voucher was created."""
    spec = "lost_response=1,lost_response_delay=60s"
    with running_sandbox(clock=clock, faults=spec) as server:
        with pytest.raises(httpx.TimeoutException):
            create(server.base_url, timeout=1.0)
        state = inspect(server.base_url)
    assert len(state["vouchers"]) == 1


def test_scoped_fault_hits_only_its_operation(clock: ManualClock) -> None:
    """A fault scoped to receiveVoucherInfo leaves the other operations alone."""
    with running_sandbox(clock=clock, faults="reset@receiveVoucherInfo=1") as server:
        created = create(server.base_url).json()
        voucher_id = json.loads(created["response_data"])["voucherId"]
        with pytest.raises(httpx.TransportError):
            signed_post(server.base_url, "receiveVoucherInfo", {"voucherId": voucher_id})
    assert created["return_code"] == "0"


def outcomes(base_url: str, count: int) -> list[str]:
    seen: list[str] = []
    for _ in range(count):
        try:
            response = signed_post(base_url, "getVoucherInfos", {})
        except httpx.TransportError:
            seen.append("dropped")
        else:
            seen.append(str(response.status_code))
    return seen


def test_seeded_faults_are_reproducible_across_servers_and_reseeding() -> None:
    """The same seed and spec give the same outcome sequence, also after re-seeding live."""
    spec = "reset=0.3,http_5xx=0.3"
    with running_sandbox(faults=spec, seed=3) as server:
        first = outcomes(server.base_url, 20)
        assert set_faults(server.base_url, spec, seed=3) == spec
        replay = outcomes(server.base_url, 20)
    with running_sandbox(faults=spec, seed=3) as other:
        second = outcomes(other.base_url, 20)
    assert first == second == replay
    assert {"dropped", "200"} <= set(first)
    assert {"500", "502"} & set(first)


def test_faults_can_be_replaced_at_runtime() -> None:
    """POST /sandbox/faults switches faults on and off; a bad spec answers 400."""
    with running_sandbox() as server:
        set_faults(server.base_url, "http_5xx=1")
        failing = signed_post(server.base_url, "getVoucherInfos", {})
        set_faults(server.base_url, "")
        working = signed_post(server.base_url, "getVoucherInfos", {})
        bad = httpx.post(f"{server.base_url}/sandbox/faults", json={"spec": "boom=1"})
    assert failing.status_code in (500, 502)
    assert working.json()["return_code"] == "0"
    assert bad.status_code == 400
    assert "boom" in bad.json()["error"]


def test_latency_delays_but_answers() -> None:
    """With only latency configured every request is still answered normally."""
    with running_sandbox(faults="latency=1ms~1ms") as server:
        response = signed_post(server.base_url, "getVoucherInfos", {})
        state = inspect(server.base_url)
    assert response.json()["return_code"] == "0"
    assert state["faults"] == "latency=1ms~1ms"
