"""receiveVoucherInfo, getCmInfos and queryVoucherUsedInfo rules, and /sandbox/mark."""

from __future__ import annotations

from datetime import timedelta

import httpx

from runner.sandbox import ManualClock, SandboxServer
from runner.sandbox.testing import inspect, mark

from .conftest import CUSTOMERS, Api

FIRST, SECOND, THIRD, OUTSIDER = CUSTOMERS[0], CUSTOMERS[1], CUSTOMERS[2], CUSTOMERS[3]


def grant(api: Api, voucher_id: str, **key: str) -> None:
    assert api.ok("receiveVoucherInfo", {"voucherId": voucher_id, **key}) is None


def refusal(api: Api, voucher_id: str, **key: str) -> str:
    code, message = api.refused("receiveVoucherInfo", {"voucherId": voucher_id, **key})
    assert code == "1"
    return message


def test_grant_creates_an_instance_with_every_field(api: Api) -> None:
    """A grant creates one unused instance carrying the customer and voucher fields."""
    voucher_id = api.create(money="10.5")
    grant(api, voucher_id, cmId=FIRST.id)
    (instance,) = api.ok("queryVoucherUsedInfo", {"voucherId": voucher_id})
    assert len(instance["id"]) == 19
    assert (instance["cm_id"], instance["cm_code"], instance["cm_name"]) == (
        FIRST.id,
        FIRST.code,
        FIRST.name,
    )
    assert instance["cm_source_code"] == FIRST.source_code
    assert (instance["voucher_id"], instance["money"], instance["use_status"]) == (
        voucher_id,
        "10.50",
        "0",
    )
    assert instance["distribute_time"] == "2026-03-10 09:30:00"
    assert instance["order_no"] == instance["order_id"] == ""


def test_customer_can_be_named_by_code_or_source_code(api: Api) -> None:
    """cmCode and cmSourceCode find the customer when no cmId is given."""
    voucher_id = api.create()
    grant(api, voucher_id, cmCode=SECOND.code)
    grant(api, voucher_id, cmSourceCode=THIRD.source_code)
    held = inspect(api.base_url)["grants"][voucher_id]
    assert {cm_id: entry["count"] for cm_id, entry in held.items()} == {SECOND.id: 1, THIRD.id: 1}


def test_cm_id_takes_priority_over_code(api: Api) -> None:
    """cmId decides when given: a valid id with a bogus code grants, the reverse is refused."""
    voucher_id = api.create()
    grant(api, voucher_id, cmId=FIRST.id, cmCode="NOPE")
    assert "客户不存在" in refusal(api, voucher_id, cmId="1234567890123456789", cmCode=SECOND.code)


def test_grant_needs_a_customer_key(api: Api) -> None:
    """A grant with none of cmId, cmCode, cmSourceCode is refused."""
    voucher_id = api.create()
    assert "cmId" in refusal(api, voucher_id)


def test_grant_to_unknown_voucher_is_refused(api: Api) -> None:
    """A grant of a voucher that does not exist is refused."""
    assert "优惠券不存在" in refusal(api, "1234567890123456789", cmId=FIRST.id)


def test_grant_of_finished_voucher_is_refused(api: Api) -> None:
    """After finishVoucher no grant is accepted."""
    voucher_id = api.create()
    api.ok("finishVoucher", {"voucherId": voucher_id})
    assert "已终止" in refusal(api, voucher_id, cmId=FIRST.id)


def test_grant_after_end_date_is_refused(api: Api, clock: ManualClock) -> None:
    """A grant after the voucher's end date is refused; on the end date it is accepted."""
    voucher_id = api.create(endDate="2026-03-11", eachCmNum=2)
    clock.advance(timedelta(days=1))
    grant(api, voucher_id, cmId=FIRST.id)
    clock.advance(timedelta(days=1))
    assert "过期" in refusal(api, voucher_id, cmId=FIRST.id)


def test_grant_before_start_date_is_allowed(api: Api) -> None:
    """Pre-distribution: a grant before the voucher's start date is accepted."""
    voucher_id = api.create(startDate="2026-04-01", endDate="2026-04-30")
    grant(api, voucher_id, cmId=FIRST.id)
    assert inspect(api.base_url)["grants"][voucher_id][FIRST.id]["count"] == 1


def test_trade_range_2_grants_only_listed_customers(api: Api) -> None:
    """A tradeRange 2 voucher refuses a customer not in its list."""
    voucher_id = api.create()
    assert "范围" in refusal(api, voucher_id, cmId=OUTSIDER.id)


def test_trade_range_1_grants_only_customers_in_scope(api: Api) -> None:
    """A customer is in scope when every listed dimension contains its value."""
    level, district = FIRST.level, FIRST.district
    voucher_id = api.create(tradeRange="1", cmId=None, cmLevelName=level, cmDistrictName=district)
    inside = [c for c in CUSTOMERS if c.level == level and c.district == district]
    outside = [c for c in CUSTOMERS if c.level != level or c.district != district]
    grant(api, voucher_id, cmId=inside[-1].id)
    assert "范围" in refusal(api, voucher_id, cmId=outside[0].id)


def test_total_num_caps_grants(api: Api) -> None:
    """Once num instances exist, the next grant is refused as used up."""
    voucher_id = api.create(num=2)
    grant(api, voucher_id, cmId=FIRST.id)
    grant(api, voucher_id, cmId=SECOND.id)
    assert "发放完毕" in refusal(api, voucher_id, cmId=THIRD.id)


def test_each_customer_cap(api: Api) -> None:
    """A customer holding eachCmNum instances is refused another one."""
    voucher_id = api.create(eachCmNum=2)
    grant(api, voucher_id, cmId=FIRST.id)
    grant(api, voucher_id, cmId=FIRST.id)
    assert "单客户限领" in refusal(api, voucher_id, cmId=FIRST.id)
    assert inspect(api.base_url)["grants"][voucher_id][FIRST.id]["count"] == 2


def test_receive_time_is_kept_and_checked(api: Api) -> None:
    """receiveTime is recorded when valid and refused when not yyyy-MM-dd HH:mm:ss."""
    voucher_id = api.create()
    grant(api, voucher_id, cmId=FIRST.id, receiveTime="2026-03-09 08:00:00")
    assert "receiveTime" in refusal(api, voucher_id, cmId=SECOND.id, receiveTime="2026-03-09")
    (instance,) = api.ok("queryVoucherUsedInfo", {"voucherId": voucher_id})
    assert instance["receive_time"] == "2026-03-09 08:00:00"


def test_cm_infos_lists_a_trade_range_2_voucher_page_by_page(api: Api) -> None:
    """getCmInfos pages through the listed customers as id/code/name with string ids."""
    voucher_id = api.create(cmId=",".join(c.id for c in CUSTOMERS[:5]))
    pages = [
        api.ok("getCmInfos", {"voucher_id": voucher_id, "page_number": n, "page_length": 2})
        for n in (1, 2, 3)
    ]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [row["id"] for page in pages for row in page] == [c.id for c in CUSTOMERS[:5]]
    assert pages[0][0] == {"id": FIRST.id, "code": FIRST.code, "name": FIRST.name}


def test_cm_infos_of_a_trade_range_1_voucher_are_the_customers_in_scope(api: Api) -> None:
    """For tradeRange 1 getCmInfos lists every customer in scope, in registry order."""
    voucher_id = api.create(tradeRange="1", cmId=None, cmTypeName=FIRST.type)
    rows = api.ok("getCmInfos", {"voucher_id": voucher_id})
    assert [r["id"] for r in rows] == [c.id for c in CUSTOMERS if c.type == FIRST.type]


def test_cm_infos_needs_the_snake_case_voucher_id(api: Api) -> None:
    """getCmInfos reads voucher_id (as documented); without it the call is refused."""
    voucher_id = api.create()
    assert "voucher_id" in api.refused("getCmInfos", {"voucherId": voucher_id})[1]


def test_used_info_filters_by_status_after_marking(api: Api) -> None:
    """Marked instances read back used (with an order) or expired, and filter by status."""
    voucher_id = api.create(cmId=",".join(c.id for c in CUSTOMERS[:3]))
    for customer in CUSTOMERS[:3]:
        grant(api, voucher_id, cmId=customer.id)
    assert mark(api.base_url, voucher_id, used=1, expired=1) == {
        "voucherId": voucher_id,
        "used": 1,
        "expired": 1,
    }

    def by_status(status: str) -> list[dict[str, str]]:
        rows: list[dict[str, str]] = api.ok(
            "queryVoucherUsedInfo", {"voucherId": voucher_id, "voucherStatus": status}
        )
        return rows

    (used,), (unused,), (expired,) = by_status("1"), by_status("0"), by_status("2")
    assert used["cm_id"] == FIRST.id
    assert used["order_no"].startswith("DD20260310")
    assert len(used["order_id"]) == 19
    assert used["voucher_amount"] == "10.00"
    assert unused["cm_id"] == THIRD.id
    assert expired["cm_id"] == SECOND.id
    assert len(api.ok("queryVoucherUsedInfo", {"voucherId": voucher_id})) == 3


def test_unused_instances_read_expired_after_the_end_date(api: Api, clock: ManualClock) -> None:
    """An unused instance shows use_status 2 once today is past the voucher's end date."""
    voucher_id = api.create(endDate="2026-03-10")
    grant(api, voucher_id, cmId=FIRST.id)
    clock.advance(timedelta(days=1))
    (instance,) = api.ok("queryVoucherUsedInfo", {"voucherId": voucher_id})
    assert instance["use_status"] == "2"


def test_bad_voucher_status_is_refused(api: Api) -> None:
    """A voucherStatus outside 0/1/2 is refused."""
    voucher_id = api.create()
    query = {"voucherId": voucher_id, "voucherStatus": "9"}
    assert "voucherStatus" in api.refused("queryVoucherUsedInfo", query)[1]


def test_mark_refuses_more_than_the_unused_instances(api: Api, server: SandboxServer) -> None:
    """/sandbox/mark answers 400 with a reason when asked to mark more than exist."""
    voucher_id = api.create()
    grant(api, voucher_id, cmId=FIRST.id)
    payload = {"voucherId": voucher_id, "used": 2}
    response = httpx.post(f"{server.base_url}/sandbox/mark", json=payload)
    assert response.status_code == 400
    assert "only 1 unused" in response.json()["error"]
