"""/sandbox/mark with a chosen order: its amount and time, the discount it gets (fixed, or
the unpaid part of a ZKBL order, capped), and the orders it refuses."""

from __future__ import annotations

import httpx
import pytest

from runner.sandbox.testing import mark

from .conftest import CUSTOMERS, Api


def _granted(api: Api, **voucher: str) -> str:
    """A voucher granted once to each of the first three customers."""
    voucher_id = api.create(**voucher)
    for customer in CUSTOMERS[:3]:
        assert api.ok("receiveVoucherInfo", {"voucherId": voucher_id, "cmId": customer.id}) is None
    return voucher_id


def _used(api: Api, voucher_id: str) -> list[dict[str, str]]:
    """The used instances of a voucher, as the vendor call lists them."""
    rows: list[dict[str, str]] = api.ok(
        "queryVoucherUsedInfo", {"voucherId": voucher_id, "voucherStatus": "1"}
    )
    return rows


def test_used_instances_carry_the_chosen_order_amount_and_time(api: Api) -> None:
    """Each used instance gets its own order, of the amount and at the time given."""
    voucher_id = _granted(api, doorsillType="Y", doorsillAmount="100")
    mark(api.base_url, voucher_id, used=2, order_amount="150.00", at="2027-01-05 09:30:00")
    first, second = _used(api, voucher_id)
    assert first["order_id"] != second["order_id"]
    assert (first["order_amount"], first["voucher_amount"]) == ("150.00", "10.00")
    assert first["order_create_time"] == "2027-01-05 09:30:00"
    assert first["order_no"].startswith("DD20270105")


def test_a_zkbl_discount_is_the_unpaid_part_capped(api: Api) -> None:
    """discountsPercent is the ratio paid: 0.9 of 120 leaves 12 off; of 500, 50 capped at 30."""
    voucher_id = _granted(
        api, discountsType="ZKBL", discountsPercent="0.9", maxDiscountsAmount="30"
    )
    mark(api.base_url, voucher_id, used=1, order_amount="120.00")
    mark(api.base_url, voucher_id, used=1, order_amount="500.00")
    assert [u["voucher_amount"] for u in _used(api, voucher_id)] == ["12.00", "30.00"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"orderAmount": "50.00"}, "below the voucher's threshold"),
        ({"orderAmount": "12.345"}, "is not an amount"),
        ({"at": "2027-01-05"}, "is not a time"),
    ],
)
def test_bad_orders_are_refused_and_change_nothing(
    api: Api, body: dict[str, str], error: str
) -> None:
    """An order below the threshold, an amount with 3 decimals or a date without time get
    HTTP 400 and leave every instance unused."""
    voucher_id = _granted(api, doorsillType="Y", doorsillAmount="100")
    payload = {"voucherId": voucher_id, "used": 1, **body}
    response = httpx.post(f"{api.base_url}/sandbox/mark", json=payload, timeout=10)
    assert response.status_code == 400
    assert error in response.json()["error"]
    assert _used(api, voucher_id) == []
