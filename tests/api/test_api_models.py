"""Models: documented wire names, ids as text, counts as ints, documented examples parse."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from runner.api import (
    AddVoucherRequest,
    CmInfo,
    GetCmInfosRequest,
    GetVoucherInfosRequest,
    QueryVoucherUsedInfoRequest,
    ReceiveVoucherRequest,
    VoucherInfo,
    VoucherUsage,
)
from runner.api._envelope import loads_exact

ADD_VOUCHER_FIELDS = {
    "name", "startDate", "endDate", "money", "doorsillAmount", "doorsillType", "payType",
    "remark", "grantType", "eachCmNum", "num", "tradeRange", "cmTypeId", "cmTypeName",
    "cmLevelId", "cmLevelName", "cmDeptId", "cmDeptName", "cmLabelId", "cmLabelName",
    "cmDistrictId", "cmDistrictName", "cmId", "cmCode", "prodMode", "prodTypeId",
    "prodTypeName", "prodBrandId", "prodBrandName", "prodId", "prodCode", "businessFromName",
    "comment", "autoReceive", "discountsType", "discountsPercent", "maxDiscountsAmount",
}  # fmt: skip

# getVoucherInfos' documented DATA example, ids as bare numbers as in the document
VOUCHER_EXAMPLE = """[{"id":6856083179295188426,"name":"cesfdfs","startDate":"2021-04-15",
"endDate":"2021-05-28","money":"111.00","num":2,"payType":"UNLIMITED","tradeRange":"2",
"cmLevels":[{"cmLevelName":"D"}],"cmTypes":[{"cmTypeName":"陶瓷店"}],"prodMode":"PRODUCT",
"pdInfos":[{"isRequired":"","code":"12428312","requiredNum":"",
"name":"徐福记鸡蛋味煎卷盒装喜铺专销系列@40x32g CN","unitId":"","unitName":""}],
"prodBrands":[],"prodTypes":[],"remark":"","requiredAllnum":"0.000","sourceFrom":"ZZ",
"requiredType":"0","isFinish":"N","doorsillAmount":"222.00","doorsillType":"Y","eachCmNum":1,
"hasRequired":"N","cmInfos":[{"id":8833956197749704288,"code":"CUS010043","name":"新增的终端"}]}]"""

USAGE_EXAMPLE = """[{"end_date":"2022-10-31","order_no":"DD20221020000017",
"voucher_name":"10元优惠券","discounts_type":"GDMZ","receive_time":"2022-10-20 13:25",
"create_type":"ZZ","cm_code":"CUS010103",
"distribute_time":"2022-10-20 13:25","order_create_time":"2022-10-20 13:27:20","money":"10.00",
"business_from_name":"","cm_id":"9139133117350330302","cm_name":"fx0906","max_discounts_amount":"",
"order_amount":"100","voucher_id":"7087421684223516948","id":"4748332116608163964",
"cm_source_code":"","voucher_amount":"10.00","doorsill_amount":"20.00",
"order_id":"4748332116608163964","discounts_percent":"","start_date":"2022-10-20"}]"""


def as_list(value: object) -> list[object]:
    assert isinstance(value, list)
    return value


def test_add_voucher_wire_names_are_exactly_the_documented_ones() -> None:
    """AddVoucherRequest has one field per documented addVoucherInfo parameter, same spelling."""
    aliases = {f.alias for f in AddVoucherRequest.model_fields.values()}
    assert aliases == ADD_VOUCHER_FIELDS


def test_add_voucher_to_wire_uses_aliases_drops_none_and_keeps_money_text() -> None:
    """to_wire uses wire names, leaves out unset fields, and renders amounts as text."""
    req = AddVoucherRequest(
        name="十元券",
        start_date=date(2024, 5, 1),
        end_date="2024-05-31",
        money=10,
        doorsill_amount="100.00",
        each_cm_num=1,
        num="500",
        cm_code="C1,C2",
    )
    assert req.to_wire() == {
        "name": "十元券",
        "startDate": "2024-05-01",
        "endDate": "2024-05-31",
        "money": "10",
        "doorsillAmount": "100.00",
        "eachCmNum": 1,
        "num": 500,
        "cmCode": "C1,C2",
    }


def test_requests_refuse_unknown_fields() -> None:
    """A misspelt request field is a validation error, not silently dropped."""
    with pytest.raises(ValidationError, match="nmae"):
        AddVoucherRequest.model_validate(
            {"name": "x", "startDate": "2024-01-01", "endDate": "2024-01-02", "nmae": "typo"}
        )


def test_voucher_info_parses_the_documented_example() -> None:
    """The documented example parses: exact string ids, int counts, nested lists."""
    (item,) = as_list(loads_exact(VOUCHER_EXAMPLE))
    info = VoucherInfo.model_validate(item)
    assert info.id == "6856083179295188426"
    assert (info.num, info.each_cm_num) == (2, 1)
    assert info.money == "111.00"
    assert info.required_allnum == "0.000"
    assert info.cm_types[0].cm_type_name == "陶瓷店"
    assert info.pd_infos[0].code == "12428312"
    assert info.cm_infos == [CmInfo(id="8833956197749704288", code="CUS010043", name="新增的终端")]
    assert info.cm_depts == []
    assert not info.finished


def test_voucher_info_accepts_both_spellings_of_prod_brands_and_null_lists() -> None:
    """ "prodBrand" (table) and "prodBrands" (example) both fill prod_brands; null lists are []."""
    for key in ("prodBrand", "prodBrands"):
        info = VoucherInfo.model_validate(
            {"id": "1", key: [{"pdBrandId": 77, "prodBrandName": "B"}], "cmLevels": None}
        )
        assert info.prod_brands[0].pd_brand_id == "77"
        assert info.cm_levels == []


def test_unknown_response_fields_are_kept() -> None:
    """Fields the document does not list are kept on the model, not rejected."""
    info = VoucherInfo.model_validate({"id": "1", "grantType": "HDFF"})
    assert info.model_extra == {"grantType": "HDFF"}


def test_voucher_usage_parses_the_documented_example() -> None:
    """The documented usage row parses with every id as exact text."""
    (item,) = as_list(loads_exact(USAGE_EXAMPLE))
    usage = VoucherUsage.model_validate(item)
    assert usage.id == "4748332116608163964"
    assert usage.cm_id == "9139133117350330302"
    assert usage.voucher_id == "7087421684223516948"
    assert usage.cm_source_code == ""
    assert usage.use_status is None


def test_ids_accept_ints_exactly_and_refuse_floats() -> None:
    """An int id becomes its exact digits; a float id (maybe already rounded) is refused."""
    assert CmInfo.model_validate({"id": 8833956197749704288}).id == "8833956197749704288"
    with pytest.raises(ValidationError, match="lost digits"):
        CmInfo.model_validate({"id": 8.833956197749704e18})


def test_receive_request_needs_exactly_one_customer_key() -> None:
    """ReceiveVoucherRequest refuses zero or two customer keys and serialises one."""
    with pytest.raises(ValidationError, match="exactly one"):
        ReceiveVoucherRequest(voucher_id="1")
    with pytest.raises(ValidationError, match="exactly one"):
        ReceiveVoucherRequest(voucher_id="1", cm_id="2", cm_code="C")
    req = ReceiveVoucherRequest(
        voucher_id=7, cm_source_code="S1", receive_time=datetime(2024, 5, 1, 8, 30, 0)
    )
    assert req.to_wire() == {
        "voucherId": "7",
        "cmSourceCode": "S1",
        "receiveTime": "2024-05-01 08:30:00",
    }


def test_snake_case_requests_keep_snake_case_wire_names() -> None:
    """getVoucherInfos and getCmInfos use the vendor's snake_case names, with page defaults."""
    assert GetVoucherInfosRequest(start_create_date=date(2021, 4, 20)).to_wire() == {
        "page_number": 1,
        "page_length": 1000,
        "start_create_date": "2021-04-20",
    }
    assert GetCmInfosRequest(voucher_id="8144100181735612578", page_number=3).to_wire() == {
        "page_number": 3,
        "page_length": 1000,
        "voucher_id": "8144100181735612578",
    }
    assert QueryVoucherUsedInfoRequest(voucher_id="1", voucher_status="2").to_wire() == {
        "page_number": 1,
        "page_length": 1000,
        "voucherId": "1",
        "voucherStatus": "2",
    }


def test_used_info_request_pages_in_snake_case_beside_camel_case_fields() -> None:
    """queryVoucherUsedInfo sends page_number/page_length snake_case next to voucherId."""
    request = QueryVoucherUsedInfoRequest(voucher_id=7, page_number=3, page_length=250)
    assert request.to_wire() == {"page_number": 3, "page_length": 250, "voucherId": "7"}
    with pytest.raises(ValidationError):
        QueryVoucherUsedInfoRequest.model_validate({"voucherId": "7", "pageNumber": 2})
    with pytest.raises(ValidationError):
        QueryVoucherUsedInfoRequest(voucher_id="7", page_number=0)


def test_page_length_is_capped_at_1000() -> None:
    """A page length above the documented maximum is refused."""
    with pytest.raises(ValidationError):
        GetCmInfosRequest(voucher_id="1", page_length=1001)
    with pytest.raises(ValidationError):
        QueryVoucherUsedInfoRequest(voucher_id="1", page_length=1001)
