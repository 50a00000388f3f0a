"""addVoucherInfo, getVoucherInfos, finishVoucher and modifyVoucherEndDate rules."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from runner.sandbox import ManualClock, SandboxServer, dimension_id
from runner.sandbox.testing import signed_post

from .conftest import CUSTOMERS, Api, voucher_payload


def test_create_returns_a_19_digit_string_id(api: Api) -> None:
    """A valid voucher is created and its id is a 19-digit string beyond 2**53."""
    voucher_id = api.create()
    assert isinstance(voucher_id, str)
    assert re.fullmatch(r"[0-9]{19}", voucher_id)
    assert int(voucher_id) > 2**53


def test_voucher_infos_write_the_id_as_a_bare_number_without_losing_digits(
    api: Api, server: SandboxServer
) -> None:
    """getVoucherInfos writes ``id`` as a bare JSON number whose digits are exactly the id."""
    voucher_id = api.create()
    raw = signed_post(server.base_url, "getVoucherInfos", {}).json()["response_data"]
    assert f'"id": {voucher_id},' in raw
    assert json.loads(raw)[0]["id"] == int(voucher_id)
    assert json.loads(raw, parse_int=str)[0]["id"] == voucher_id


def test_voucher_infos_have_the_documented_shape(api: Api) -> None:
    """A tradeRange 2 voucher reads back with every documented field and its customers."""
    voucher_id = api.create(doorsillType="Y", doorsillAmount=222, remark="满222可用")
    (info,) = api.ok("getVoucherInfos", {})
    assert str(info["id"]) == voucher_id
    assert info["money"] == "10.00"
    assert info["doorsillAmount"] == "222.00"
    assert (info["num"], info["eachCmNum"]) == (10, 1)
    assert info["isFinish"] == "N"
    assert info["tradeRange"] == "2"
    assert info["cmInfos"] == [{"id": c.id, "code": c.code, "name": c.name} for c in CUSTOMERS[:3]]
    for key in ("cmLevels", "cmTypes", "cmDepts", "cmLabels", "cmDistricts", "pdInfos"):
        assert info[key] == []
    assert info["createDate"] == info["modifyDate"] == "2026-03-10"
    assert info["remark"] == "满222可用"


def test_trade_range_1_scope_is_resolved_to_ids_and_names(api: Api) -> None:
    """Dimension names resolve to stable ids, and ids resolve to names (ids win)."""
    level, kind = CUSTOMERS[0].level, CUSTOMERS[0].type
    api.create(tradeRange="1", cmId=None, cmLevelName=level, cmTypeId=dimension_id("type", kind))
    (info,) = api.ok("getVoucherInfos", {})
    assert info["cmLevels"] == [{"cmLevelId": dimension_id("level", level), "cmLevelName": level}]
    assert info["cmTypes"] == [{"cmTypeId": dimension_id("type", kind), "cmTypeName": kind}]
    assert info["cmInfos"] == []


def test_product_scope_is_recorded(api: Api) -> None:
    """prodMode PRODUCT keeps the product codes in pdInfos."""
    api.create(prodMode="PRODUCT", prodCode="SP1,SP2")
    (info,) = api.ok("getVoucherInfos", {})
    assert [p["code"] for p in info["pdInfos"]] == ["SP1", "SP2"]


def test_discount_vouchers_keep_their_percent(api: Api) -> None:
    """A ZKBL voucher keeps discountsPercent and maxDiscountsAmount."""
    api.create(discountsType="ZKBL", discountsPercent="0.85", maxDiscountsAmount="30")
    (info,) = api.ok("getVoucherInfos", {})
    assert (info["discountsType"], info["discountsPercent"]) == ("ZKBL", "0.85")
    assert info["maxDiscountsAmount"] == "30.00"


BAD_VOUCHERS: list[tuple[dict[str, Any], str]] = [
    ({"name": None}, "name"),
    ({"name": "券" * 33}, "name"),
    ({"startDate": "2026/03/01"}, "startDate"),
    ({"endDate": "2026-02-30"}, "endDate"),
    ({"startDate": "2026-04-01", "endDate": "2026-03-31"}, "开始日期"),
    ({"startDate": "2026-01-01", "endDate": "2026-03-09"}, "今天"),
    ({"money": "0"}, "money"),
    ({"money": "10.001"}, "money"),
    ({"money": "ten"}, "money"),
    ({"payType": "CASH"}, "payType"),
    ({"grantType": "AUTO"}, "grantType"),
    ({"tradeRange": "3"}, "tradeRange"),
    ({"prodMode": "SOME"}, "prodMode"),
    ({"doorsillType": "X"}, "doorsillType"),
    ({"doorsillType": "Y"}, "doorsillAmount"),
    ({"discountsType": "MJ"}, "discountsType"),
    ({"discountsType": "ZKBL"}, "discountsPercent"),
    ({"discountsType": "ZKBL", "discountsPercent": "1.5"}, "折扣比例"),
    ({"discountsType": "ZKBL", "discountsPercent": "0.12345"}, "discountsPercent"),
    ({"num": 0}, "num"),
    ({"num": "many"}, "num"),
    ({"num": 100000}, "num"),
    ({"eachCmNum": 11}, "单客户限领数量"),
    ({"grantType": "ZDLQ"}, "ZDLQ"),
    ({"cmId": None}, "cmId"),
    ({"cmId": "1234567890123456789"}, "客户id不存在"),
    ({"cmId": None, "cmCode": "NOPE"}, "客户编码不存在"),
    ({"tradeRange": "1", "cmLevelName": "Z"}, "客户等级不存在"),
    ({"tradeRange": "1", "cmDistrictId": "1"}, "客户销售区域id不存在"),
    ({"prodMode": "PRODUCT"}, "prodId"),
    ({"prodMode": "BRAND"}, "prodBrandId"),
]


@pytest.mark.parametrize(("overrides", "mentions"), BAD_VOUCHERS)
def test_invalid_vouchers_are_refused(
    shared_api: Api, overrides: dict[str, Any], mentions: str
) -> None:
    """Each broken rule is refused with return_code 1 and a message naming the problem."""
    code, message = shared_api.refused("addVoucherInfo", voucher_payload(**overrides))
    assert code == "1"
    assert mentions in message
    assert shared_api.ok("getVoucherInfos", {}) == []


def test_numbers_may_come_as_strings_and_ids_as_bare_numbers(api: Api) -> None:
    """num as a digit string and a customer id as a bare JSON number are both accepted."""
    body = voucher_payload(num="5", cmId=None)
    text = json.dumps(body, ensure_ascii=False)[:-1] + f', "cmId": {CUSTOMERS[0].id}}}'
    assert api.ok("addVoucherInfo", text) is not None
    (info,) = api.ok("getVoucherInfos", {})
    assert info["num"] == 5
    assert info["cmInfos"][0]["id"] == CUSTOMERS[0].id


def test_filters_by_create_and_modify_date_inclusive(api: Api, clock: ManualClock) -> None:
    """Create/modify date filters are inclusive yyyy-MM-dd bounds."""
    first = api.create(name="first")
    clock.advance(timedelta(days=1))
    second = api.create(name="second")
    clock.advance(timedelta(days=1))
    api.ok("finishVoucher", {"voucherId": first})

    def ids(**filters: str) -> list[str]:
        return [str(v["id"]) for v in api.ok("getVoucherInfos", filters)]

    assert ids(start_create_date="2026-03-10", end_create_date="2026-03-10") == [first]
    assert ids(start_create_date="2026-03-11") == [second]
    assert ids(start_modify_date="2026-03-12", end_modify_date="2026-03-12") == [first]
    assert ids(end_modify_date="2026-03-11") == [second]
    assert ids() == [first, second]


def test_bad_filter_date_is_refused(api: Api) -> None:
    """A filter date that is not yyyy-MM-dd is refused."""
    code, message = api.refused("getVoucherInfos", {"start_create_date": "20260310"})
    assert code == "1"
    assert "start_create_date" in message


def test_pagination_pages_in_creation_order(api: Api) -> None:
    """page_number/page_length cut the creation-ordered list into pages."""
    created = [api.create(name=f"v{n}") for n in range(5)]

    def page(number: int) -> list[str]:
        rows = api.ok("getVoucherInfos", {"page_number": number, "page_length": 2})
        return [str(v["id"]) for v in rows]

    assert [page(1), page(2), page(3), page(4)] == [created[:2], created[2:4], created[4:], []]


def test_page_length_above_1000_is_refused(api: Api) -> None:
    """A page_length above the documented maximum of 1000 is refused."""
    code, message = api.refused("getVoucherInfos", {"page_length": 1001})
    assert code == "1"
    assert "page_length" in message


def test_finish_marks_the_voucher_and_updates_modify_date(api: Api, clock: ManualClock) -> None:
    """finishVoucher sets isFinish=Y and today's modifyDate; a second finish changes nothing."""
    voucher_id = api.create()
    clock.advance(timedelta(days=2))
    assert api.ok("finishVoucher", {"voucherId": voucher_id}) is None
    assert api.ok("finishVoucher", {"voucherId": voucher_id}) is None
    (info,) = api.ok("getVoucherInfos", {})
    assert (info["isFinish"], info["modifyDate"], info["createDate"]) == (
        "Y",
        "2026-03-12",
        "2026-03-10",
    )


def test_finish_unknown_voucher_is_refused(api: Api) -> None:
    """Finishing a voucher id that does not exist is refused."""
    code, message = api.refused("finishVoucher", {"voucherId": "1234567890123456789"})
    assert code == "1"
    assert "不存在" in message


def test_modify_end_date_moves_it_and_updates_modify_date(api: Api, clock: ManualClock) -> None:
    """modifyVoucherEndDate sets the new end date and today's modifyDate."""
    voucher_id = api.create()
    clock.advance(timedelta(days=1))
    api.ok("modifyVoucherEndDate", {"voucherId": voucher_id, "endDate": "2026-04-30"})
    (info,) = api.ok("getVoucherInfos", {})
    assert (info["endDate"], info["modifyDate"]) == ("2026-04-30", "2026-03-11")


def test_modify_end_date_rules(api: Api) -> None:
    """The new end date must be a date not before the start, on an unfinished voucher."""
    voucher_id = api.create()
    before_start = {"voucherId": voucher_id, "endDate": "2026-02-28"}
    assert "开始日期" in api.refused("modifyVoucherEndDate", before_start)[1]
    bad_format = {"voucherId": voucher_id, "endDate": "30.04.2026"}
    assert "endDate" in api.refused("modifyVoucherEndDate", bad_format)[1]
    api.ok("finishVoucher", {"voucherId": voucher_id})
    later = {"voucherId": voucher_id, "endDate": "2026-04-30"}
    assert "已终止" in api.refused("modifyVoucherEndDate", later)[1]
