"""Listings answer one page of at most 1,000, or everything when told to ignore paging."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from runner.sandbox import ManualClock, SandboxConfig, SandboxServer
from runner.sandbox._serve import _banner
from runner.sandbox.testing import inspect, mark, running_sandbox, signed_post

from .conftest import CUSTOMER_COUNT, CUSTOMERS, SEED, START, Api

PER_CUSTOMER = 40
GRANTS = CUSTOMER_COUNT * PER_CUSTOMER  # 1,200: more than one page of 1,000
USED = 150


@dataclass(frozen=True)
class Granted:
    """A sandbox (with a state file) holding one voucher with GRANTS instances."""

    api: Api
    state_file: Path
    voucher_id: str
    ids: list[str]  # every instance id, in grant order
    statuses: dict[str, str]  # instance id -> use_status


def _grant_all(base_url: str, voucher_id: str) -> None:
    """GRANTS signed receiveVoucherInfo calls, PER_CUSTOMER for each customer, 16 at a time."""
    limits = httpx.Limits(max_connections=16)
    with httpx.Client(timeout=30, limits=limits) as client:

        def grant(n: int) -> str:
            body = {"voucherId": voucher_id, "cmId": CUSTOMERS[n % CUSTOMER_COUNT].id}
            response = signed_post(base_url, "receiveVoucherInfo", body, client=client)
            return str(response.json()["return_code"])

        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(grant, range(GRANTS)))
    assert set(codes) == {"0"}


@pytest.fixture(scope="module")
def granted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Granted]:
    state_file = tmp_path_factory.mktemp("paging") / "state.json"
    config: dict[str, Any] = {"clock": ManualClock(START), "generate": CUSTOMER_COUNT}
    with running_sandbox(**config, seed=SEED, state_file=state_file) as server:
        api = Api(server.base_url)
        voucher_id = api.create(
            num=GRANTS, eachCmNum=PER_CUSTOMER, cmId=",".join(c.id for c in CUSTOMERS)
        )
        _grant_all(server.base_url, voucher_id)
        mark(server.base_url, voucher_id, used=USED)
        instances = inspect(server.base_url)["instances"][voucher_id]
        yield Granted(
            api,
            state_file,
            voucher_id,
            [i["id"] for i in instances],
            {i["id"]: i["use_status"] for i in instances},
        )
        api.client.close()


def used_info(api: Api, voucher_id: str, **fields: Any) -> list[str]:
    """The instance ids of one queryVoucherUsedInfo answer."""
    rows = api.ok("queryVoucherUsedInfo", {"voucherId": voucher_id, **fields})
    return [row["id"] for row in rows]


def test_used_info_answers_at_most_1000_without_paging_fields(granted: Granted) -> None:
    """Without page_number/page_length the answer is the first 1,000 instances in grant order."""
    assert used_info(granted.api, granted.voucher_id) == granted.ids[:1000]


def test_used_info_pages_through_every_instance(granted: Granted) -> None:
    """Pages of 1,000 hold 1,000, then 200, then nothing: every instance exactly once."""
    pages = [
        used_info(granted.api, granted.voucher_id, page_number=n, page_length=1000)
        for n in (1, 2, 3)
    ]
    assert [len(page) for page in pages] == [1000, GRANTS - 1000, 0]
    assert [i for page in pages for i in page] == granted.ids


def test_used_info_pages_within_one_status(granted: Granted) -> None:
    """voucherStatus filters first, then pages: unused in 500s, used on one short page."""
    unused = [i for i in granted.ids if granted.statuses[i] == "0"]
    pages = [
        used_info(
            granted.api, granted.voucher_id, voucherStatus="0", page_number=n, page_length=500
        )
        for n in (1, 2, 3)
    ]
    used = used_info(granted.api, granted.voucher_id, voucherStatus="1", page_length=500)
    assert [len(page) for page in pages] == [500, 500, GRANTS - USED - 1000]
    assert [i for page in pages for i in page] == unused
    assert len(used) == USED
    assert {granted.statuses[i] for i in used} == {"1"}


def test_used_info_refuses_a_page_length_above_1000(granted: Granted) -> None:
    """page_length 1001 is refused like on the other listings."""
    payload = {"voucherId": granted.voucher_id, "page_length": 1001}
    code, message = granted.api.refused("queryVoucherUsedInfo", payload)
    assert code == "1"
    assert "page_length" in message


def test_ignore_paging_answers_everything_to_every_page(granted: Granted) -> None:
    """A sandbox ignoring paging, on the same state file, answers all 1,200 to any page."""
    config = {"clock": ManualClock(START), "generate": CUSTOMER_COUNT, "seed": SEED}
    with running_sandbox(**config, state_file=granted.state_file, ignore_paging=True) as server:
        api = Api(server.base_url)
        voucher_id = granted.voucher_id
        first = used_info(api, voucher_id, page_number=1, page_length=10)
        third = used_info(api, voucher_id, page_number=3, page_length=10)
        bare = used_info(api, voucher_id)
        unused = used_info(api, voucher_id, voucherStatus="0", page_number=2, page_length=1)
        customers = api.ok("getCmInfos", {"voucher_id": voucher_id, "page_number": 4})
        vouchers = api.ok("getVoucherInfos", {"page_number": 2, "page_length": 1})
        flagged = inspect(server.base_url)["ignore_paging"]
        api.client.close()
    assert first == third == bare == granted.ids
    assert len(unused) == GRANTS - USED
    assert [c["id"] for c in customers] == [c.id for c in CUSTOMERS]
    assert [str(v["id"]) for v in vouchers] == [voucher_id]
    assert flagged is True


def test_paging_is_honoured_by_default_on_every_listing(api: Api) -> None:
    """Without ignore_paging, page 2 of getCmInfos and getVoucherInfos is a different page."""
    voucher_id = api.create(cmId=",".join(c.id for c in CUSTOMERS[:3]))
    api.create()
    cm_page = api.ok("getCmInfos", {"voucher_id": voucher_id, "page_number": 2, "page_length": 2})
    voucher_page = api.ok("getVoucherInfos", {"page_number": 2, "page_length": 1})
    assert [c["id"] for c in cm_page] == [CUSTOMERS[2].id]
    assert len(voucher_page) == 1
    assert str(voucher_page[0]["id"]) != voucher_id
    assert inspect(api.base_url)["ignore_paging"] is False


def test_the_banner_says_whether_paging_is_ignored() -> None:
    """runner sandbox's banner names the paging mode."""
    ignoring = SandboxServer(SandboxConfig(generate=1, ignore_paging=True))
    paging = SandboxServer(SandboxConfig(generate=1))
    assert any("paging: ignored" in line for line in _banner(ignoring, "o", "k"))
    assert any("at most 1,000" in line for line in _banner(paging, "o", "k"))
