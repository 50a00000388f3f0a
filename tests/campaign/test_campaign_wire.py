"""``Voucher.wire_fields``, ``trade_range`` and ``doorsill_type``: the addVoucherInfo fields."""

from __future__ import annotations

from pathlib import Path

from runner.campaign import Voucher

from .helpers import VALID, load_text, replace


def voucher_from(tmp_path: Path, text: str) -> Voucher:
    return load_text(tmp_path, text).vouchers["ten-off"]


def test_specific_fixed_voucher_fields(tmp_path: Path) -> None:
    """The example voucher maps to exactly these fields, in this order."""
    fields = voucher_from(tmp_path, VALID).wire_fields()
    assert list(fields.items()) == [
        ("name", "满100减10"),
        ("startDate", "2027-03-01"),
        ("endDate", "2027-03-31"),
        ("money", "10.00"),
        ("doorsillType", "Y"),
        ("doorsillAmount", "100"),
        ("payType", "UNLIMITED"),
        ("remark", "使用说明"),
        ("grantType", "HDFF"),
        ("tradeRange", "2"),
        ("prodMode", "ALL"),
        ("businessFromName", "春季活动"),
        ("comment", "备注"),
        ("autoReceive", "N"),
        ("discountsType", "GDMZ"),
    ]


def test_plan_fields_are_never_included(tmp_path: Path) -> None:
    """num, eachCmNum, cmId and cmCode are left to the plan, even when total is a number."""
    text = replace(VALID, "total: auto", "total: 50")
    fields = voucher_from(tmp_path, text).wire_fields()
    assert not {"num", "eachCmNum", "cmId", "cmCode"} & fields.keys()
    assert all(isinstance(v, str) for v in fields.values())


def test_scope_ratio_and_products_fields(tmp_path: Path) -> None:
    """A scope joins names/ids by commas; ZKBL adds percent and cap; products add their list."""
    text = replace(
        VALID,
        "customers: specific",
        "customers: {levels: [A, B], type_ids: [6856083179295188426], districts: [华东]}",
    )
    text = replace(text, "products: {mode: ALL}", "products: {mode: BRAND, names: [徐福记, 德芙]}")
    text = replace(
        text, "discount: {type: GDMZ}", 'discount: {type: ZKBL, percent: "0.85", max_amount: 50}'
    )
    voucher = voucher_from(tmp_path, text)
    fields = voucher.wire_fields()
    assert voucher.trade_range == "1"
    assert fields["tradeRange"] == "1"
    assert fields["cmLevelName"] == "A,B"
    assert fields["cmTypeId"] == "6856083179295188426"
    assert fields["cmDistrictName"] == "华东"
    assert "cmLevelId" not in fields
    assert fields["prodMode"] == "BRAND"
    assert fields["prodBrandName"] == "徐福记,德芙"
    assert fields["discountsType"] == "ZKBL"
    assert fields["discountsPercent"] == "0.85"
    assert fields["maxDiscountsAmount"] == "50"


def test_product_ids_and_type_names(tmp_path: Path) -> None:
    """Product ids map to prodId; product type names to prodTypeName."""
    by_id = replace(VALID, "products: {mode: ALL}", "products: {mode: PRODUCT, ids: [1, 2]}")
    assert voucher_from(tmp_path, by_id).wire_fields()["prodId"] == "1,2"
    by_type = replace(VALID, "products: {mode: ALL}", "products: {mode: TYPE, names: [饼干]}")
    fields = voucher_from(tmp_path, by_type).wire_fields()
    assert (fields["prodMode"], fields["prodTypeName"]) == ("TYPE", "饼干")


def test_no_threshold_means_doorsill_n(tmp_path: Path) -> None:
    """Without doorsill_amount, or with 0, doorsillType is N and no doorsillAmount is sent."""
    for text in (
        replace(VALID, '    doorsill_amount: "100"\n', ""),
        replace(VALID, 'doorsill_amount: "100"', "doorsill_amount: 0"),
    ):
        voucher = voucher_from(tmp_path, text)
        fields = voucher.wire_fields()
        assert voucher.doorsill_type == "N"
        assert fields["doorsillType"] == "N"
        assert "doorsillAmount" not in fields


def test_wire_fields_are_deterministic(tmp_path: Path) -> None:
    """Two loads of the same file give identical field lists, order included."""
    first = voucher_from(tmp_path, VALID).wire_fields()
    second = voucher_from(tmp_path, VALID).wire_fields()
    assert list(first.items()) == list(second.items())
