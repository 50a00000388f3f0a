"""Helpers for the report tests: a campaign run against a sandbox, usage marked through
the sandbox's own call, and the figures computed independently from ``/sandbox/inspect``.

The campaign has two audiences (``shops`` with level and district; ``vip`` with level
only; both keyed by customer code) and two vouchers (a fixed
10 off 100, and a ZKBL 90% capped at 30). Four shop names and one district look like
spreadsheet formulas. :func:`expected` knows nothing of the runner: it counts the
sandbox's instances with Counter and Decimal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import stamina

from runner.ops.report import ReportOptions, report_campaign
from runner.ops.run import run_campaign
from runner.sandbox.testing import inspect, mark, signed_post
from runner.summaries import ReportSummary
from tests.builders import write_audience_csv
from tests.execute.conftest import (
    APPKEY,
    OPENID,
    options,
    registry,
    sandbox,
    voucher,
    write_campaign,
)

__all__ = [
    "FIGURES",
    "MARKS",
    "TRICKY_DISTRICT",
    "TRICKY_NAMES",
    "Campaign",
    "Reported",
    "expected",
    "figures_of",
    "grouped",
    "make_campaign",
    "remote_instances",
    "report",
    "reported",
    "run_and_mark",
    "sandbox",
    "voucher_ids",
]

HEADER = ("客户ID", "客户编码", "客户名称", "客户等级", "区域", "数量")
#: Customer names a spreadsheet would run as formulas.
TRICKY_NAMES = ('=HYPERLINK("http://example.invalid","点我")', "+8613800000000", "-1+2", "@SUM(A1)")
TRICKY_DISTRICT = "=1+1"
#: The figure fields of every group, as the summary names them.
FIGURES = (
    "granted",
    "used",
    "unused",
    "expired",
    "redemption_rate",
    "order_count",
    "order_amount",
    "discount",
    "amount_per_discount",
)


#: Usage spread over three Beijing days, with chosen order amounts, and some expiries.
MARKS: list[tuple[str, dict[str, Any]]] = [
    ("满100减10", {"used": 3, "order_amount": "150.00", "at": "2027-01-05 09:00:00"}),
    ("满100减10", {"used": 2, "at": "2027-01-07 23:59:59"}),
    ("满100减10", {"expired": 2}),
    ("九折券", {"used": 2, "order_amount": "500.00", "at": "2027-01-05 12:00:00"}),
    ("九折券", {"used": 1, "order_amount": "120.00", "at": "2027-01-06 00:00:00"}),
    ("九折券", {"expired": 1}),
]


@dataclass(frozen=True)
class Campaign:
    """A campaign file, its state folder and its customers (what the test knows of them)."""

    path: Path
    state: Path
    base_url: str
    #: cm_id → {"audience", "level", "district"} as the audience files say
    customers: Mapping[str, Mapping[str, str | None]]


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    """Reads that are retried do not sleep in these tests (each keeps its attempts)."""
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


def _shop_rows(shops: pl.DataFrame) -> list[tuple[str, ...]]:
    """The shops' CSV rows: formula-looking names first, one formula-looking district."""
    rows = []
    for n, row in enumerate(shops.iter_rows(named=True)):
        name = TRICKY_NAMES[n] if n < len(TRICKY_NAMES) else row["name"]
        district = TRICKY_DISTRICT if n == len(TRICKY_NAMES) else row["district"]
        rows.append((row["id"], row["code"], name, row["level"], district, str(1 + n % 3)))
    return rows


def _audiences(folder: Path, shops: int, vips: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write both audience files; returns the campaign's audiences and cm_id → attributes."""
    people = registry().slice(40, shops + vips)
    shop_rows = _shop_rows(people.head(shops))
    vip_rows = [
        (r["id"], r["code"], r["name"], r["level"], "", "1")
        for r in people.tail(vips).iter_rows(named=True)
    ]
    write_audience_csv(folder / "shops.csv", shop_rows, HEADER)
    write_audience_csv(folder / "vip.csv", vip_rows, HEADER)
    columns = {"cm_name": "客户名称", "level": "客户等级"}
    audiences = {
        "shops": {
            "file": str(folder / "shops.csv"),
            "key": "cm_code",
            "columns": {"cm_code": "客户编码", **columns, "district": "区域", "qty": "数量"},
        },
        "vip": {
            "file": str(folder / "vip.csv"),
            "key": "cm_code",
            "columns": {"cm_code": "客户编码", **columns},
        },
    }
    customers = {r[0]: {"audience": "shops", "level": r[3], "district": r[4]} for r in shop_rows}
    customers |= {r[0]: {"audience": "vip", "level": r[3], "district": None} for r in vip_rows}
    return audiences, customers


def make_campaign(folder: Path, base_url: str, *, shops: int = 12, vips: int = 5) -> Campaign:
    """Write the test campaign (two audiences, two vouchers) into *folder*."""
    audiences, customers = _audiences(folder, shops, vips)
    vouchers = {
        "ten-off": voucher("满100减10", total=200, each_customer_limit=5),
        "zk": voucher("九折券", discount={"type": "ZKBL", "percent": "0.9", "max_amount": "30"}),
    }
    grants = [
        {"voucher": "ten-off", "audience": "shops", "quantity": "qty"},
        {"voucher": "ten-off", "audience": "vip"},
        {"voucher": "zk", "audience": "vip", "quantity": 2},
    ]
    path = write_campaign(
        folder / "campaign.yaml", audiences=audiences, vouchers=vouchers, grants=grants
    )
    return Campaign(path, folder / "state", base_url, customers)


def voucher_ids(campaign: Campaign) -> dict[str, str]:
    """Remote voucher id per voucher name, from the sandbox."""
    return {v["name"]: v["id"] for v in inspect(campaign.base_url)["vouchers"]}


def run_and_mark(campaign: Campaign, marks: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Run the campaign (it must end with exit 0), then apply each (voucher name, mark)."""
    result = run_campaign(campaign.path, options(campaign.state, campaign.base_url))
    assert result.exit_code == 0, result.summary
    ids = voucher_ids(campaign)
    for name, how in marks:
        mark(campaign.base_url, ids[name], **how)


def report(campaign: Campaign, **overrides: Any) -> ReportSummary:
    """``runner report`` in-process, against the campaign's sandbox."""
    run = options(campaign.state, campaign.base_url)
    return report_campaign(campaign.path, ReportOptions(run=run, **overrides))


def remote_instances(base_url: str) -> list[dict[str, Any]]:
    """Every instance the sandbox holds, with its voucher's name as ``voucher``."""
    snapshot = inspect(base_url)
    names = {v["id"]: v["name"] for v in snapshot["vouchers"]}
    return [
        item | {"voucher": names[voucher_id]}
        for voucher_id, items in snapshot["instances"].items()
        for item in items
    ]


def _cents(amount: Decimal) -> str:
    """An amount as text with two decimals."""
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def expected(instances: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The figures of a group of sandbox instances, computed here from first principles."""
    items = list(instances)
    status = Counter(i["use_status"] for i in items)
    used = [i for i in items if i["use_status"] == "1"]
    orders = {i["order_id"]: Decimal(i["order_amount"]) for i in used if i["order_id"]}
    order_amount = sum(orders.values(), Decimal(0))
    discount = sum((Decimal(i["voucher_amount"]) for i in used), Decimal(0))
    return {
        "granted": len(items),
        "used": status["1"],
        "unused": status["0"],
        "expired": status["2"],
        "redemption_rate": round(status["1"] / len(items), 4) if items else None,
        "order_count": len(orders),
        "order_amount": _cents(order_amount),
        "discount": _cents(discount),
        "amount_per_discount": round(float(order_amount / discount), 4) if discount else None,
    }


def grouped(
    instances: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str]
) -> dict[str, dict[str, Any]]:
    """:func:`expected` of each group of *instances* by *key*."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for item in instances:
        groups[key(item)].append(item)
    return {name: expected(items) for name, items in groups.items()}


def figures_of(model: Any) -> dict[str, Any]:
    """The figure fields of a summary row."""
    return {name: getattr(model, name) for name in FIGURES}


def _extra_grant(campaign: Campaign) -> str:
    """Grant one more ten-off to the first shop behind the runner's back; its cm_id."""
    cm_id = next(k for k, v in campaign.customers.items() if v["audience"] == "shops")
    payload = {"voucherId": voucher_ids(campaign)["满100减10"], "cmId": cm_id}
    response = signed_post(campaign.base_url, "receiveVoucherInfo", payload, OPENID, APPKEY)
    assert response.json()["return_code"] == "0", response.text
    return cm_id


@dataclass(frozen=True)
class Reported:
    """A report, the sandbox's instances when it was made, and its campaign."""

    summary: ReportSummary
    instances: list[dict[str, Any]]
    campaign: Campaign


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reported]:
    """One campaign run, marked (:data:`MARKS`), given one extra grant behind the runner's
    back and reported; shared by the tests of a module."""
    folder = tmp_path_factory.mktemp("report")
    with sandbox(seed=31) as server:
        campaign = make_campaign(folder, server.base_url)
        run_and_mark(campaign, MARKS)
        _extra_grant(campaign)
        yield Reported(report(campaign), remote_instances(server.base_url), campaign)
