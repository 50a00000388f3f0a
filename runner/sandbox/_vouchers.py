"""The voucher operations: addVoucherInfo, getVoucherInfos, finishVoucher, modifyVoucherEndDate.

addVoucherInfo requires ``name`` (≤ 32 characters), ``startDate``, ``endDate``
(``yyyy-MM-dd``, start ≤ end, end not before today), ``money`` (> 0, ≤ 2 decimals),
``payType``, ``grantType``, ``num`` and ``eachCmNum`` (1..99999, eachCmNum ≤ num),
``tradeRange`` and ``prodMode``. ``doorsillType`` defaults to N (Y needs a positive
``doorsillAmount``); ``discountsType`` defaults to GDMZ (ZKBL needs ``discountsPercent``
in (0, 1] with at most 4 decimals). ZDLQ vouchers must use ``tradeRange`` 1.
finishVoucher on a finished voucher succeeds without change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TypeVar

from ._context import Context, Outcome
from ._customers import DIMENSIONS
from ._payload import Payload
from ._protocol import json_with_bare_ids
from ._scope import customer_list, dimension_scope
from ._state import Ref, Voucher

__all__ = [
    "add_voucher_info",
    "find_voucher",
    "finish_voucher",
    "get_voucher_infos",
    "modify_voucher_end_date",
    "one_page",
    "page_bounds",
    "voucher_view",
]

_CENT = Decimal("0.01")
T = TypeVar("T")


def add_voucher_info(ctx: Context, p: Payload) -> Outcome:
    """Create a voucher after checking every rule; answer ``{"voucherId": "..."}``."""
    name = p.required("name", max_len=32)
    start, end = p.required_date("startDate"), p.required_date("endDate")
    if start > end:
        raise p.refuse("优惠券开始日期不能晚于截止日期")
    if end < ctx.today():
        raise p.refuse("优惠券截止日期不能早于今天")
    money = _amount(p, "money", required=True, max_places=2)
    pay_type = p.enum("payType", ("UNLIMITED", "ONLINE"))
    grant_type = p.enum("grantType", ("ZDLQ", "HDFF", "THIRDPARTY"))
    num = p.integer("num", low=1)
    each = p.integer("eachCmNum", low=1)
    if each > num:
        raise p.refuse("单客户限领数量不能大于优惠券总数量")
    trade_range = p.enum("tradeRange", ("1", "2"))
    if grant_type == "ZDLQ" and trade_range != "1":
        raise p.refuse("发放方式为主动领取(ZDLQ)时,客户范围只能为1-指定客户范围")
    prod_mode = p.enum("prodMode", ("ALL", "TYPE", "BRAND", "PRODUCT"))
    doorsill_type = p.enum("doorsillType", ("Y", "N"), default="N")
    doorsill = _amount(p, "doorsillAmount", required=doorsill_type == "Y", max_places=8)
    discounts_type = p.enum("discountsType", ("GDMZ", "ZKBL"), default="GDMZ")
    percent, max_amount = _discount(p, discounts_type)
    voucher = Voucher(
        id=ctx.store.new_id(),
        seq=ctx.store.next_seq(),
        name=name,
        start_date=start.isoformat(),
        end_date=end.isoformat(),
        money=_money_text(money),
        num=num,
        each_cm_num=each,
        doorsill_type=doorsill_type,
        doorsill_amount=_money_text(doorsill) if doorsill_type == "Y" else "",
        pay_type=pay_type,
        grant_type=grant_type,
        trade_range=trade_range,
        prod_mode=prod_mode,
        discounts_type=discounts_type,
        discounts_percent=percent,
        max_discounts_amount=max_amount,
        remark=p.text("remark", max_len=1000) or "",
        business_from_name=p.text("businessFromName", max_len=32) or "",
        comment=p.text("comment", max_len=1000) or "",
        auto_receive=p.enum("autoReceive", ("Y", "N"), default=""),
        scope=dimension_scope(p, ctx.customers) if trade_range == "1" else {},
        customers=customer_list(p, ctx.customers) if trade_range == "2" else [],
        **_products(p, prod_mode),
        create_date=ctx.today().isoformat(),
        modify_date=ctx.today().isoformat(),
    )
    ctx.store.add_voucher(voucher)
    ctx.store.save()
    return Outcome(json.dumps({"voucherId": voucher.id}), applied=True)


def _amount(p: Payload, key: str, *, required: bool, max_places: int) -> Decimal:
    value = p.decimal(key)
    if value is None:
        if required:
            raise p.refuse(f"缺少必填参数{key}")
        return Decimal(0)
    if value <= 0:
        raise p.refuse(f"参数{key}必须大于0")
    if _places(value) > max_places:
        raise p.refuse(f"参数{key}最多{max_places}位小数")
    return value


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _money_text(value: Decimal) -> str:
    return str(value.quantize(_CENT)) if value == value.quantize(_CENT) else str(value)


def _discount(p: Payload, discounts_type: str) -> tuple[str, str]:
    if discounts_type != "ZKBL":
        return "", ""
    percent = _amount(p, "discountsPercent", required=True, max_places=4)
    if percent > 1:
        raise p.refuse("折扣比例必须在0到1之间")
    max_amount = p.decimal("maxDiscountsAmount")
    if max_amount is not None and max_amount < 0:
        raise p.refuse("最大优惠金额不能小于0")
    return str(percent), "" if max_amount is None else _money_text(max_amount)


def _products(p: Payload, prod_mode: str) -> dict[str, list[Ref]]:
    if prod_mode == "ALL":
        return {}
    key, id_param, other_param, label = {
        "TYPE": ("prod_types", "prodTypeId", "prodTypeName", "商品类型"),
        "BRAND": ("prod_brands", "prodBrandId", "prodBrandName", "商品品牌"),
        "PRODUCT": ("products", "prodId", "prodCode", "商品"),
    }[prod_mode]
    ids, others = p.id_list(id_param), p.id_list(other_param)
    if not ids and not others:
        raise p.refuse(f"商品范围为{label}时,{id_param}和{other_param}必传其一")
    if ids:
        return {key: [Ref(id=ident) for ident in ids]}
    if prod_mode == "PRODUCT":
        return {key: [Ref(code=code) for code in others]}
    return {key: [Ref(name=name) for name in others]}


def page_bounds(p: Payload) -> tuple[int, int]:
    """The slice ``[start, stop)`` that ``page_number``/``page_length`` select (max 1000)."""
    number = p.integer("page_number", default=1, low=1, high=10**9)
    length = p.integer("page_length", default=1000, low=1, high=1000)
    return (number - 1) * length, number * length


def one_page(ctx: Context, p: Payload, items: Sequence[T]) -> list[T]:
    """The page of *items* that :func:`page_bounds` selects; all when paging is ignored."""
    if ctx.ignore_paging:
        return list(items)
    start, stop = page_bounds(p)
    return list(items[start:stop])


def get_voucher_infos(ctx: Context, p: Payload) -> Outcome:
    """List vouchers by create/modify date (inclusive), in creation order, one page."""
    windows = [
        ("create_date", p.optional_date("start_create_date"), p.optional_date("end_create_date")),
        ("modify_date", p.optional_date("start_modify_date"), p.optional_date("end_modify_date")),
    ]
    selected = [v for v in ctx.store.vouchers() if _within(v, windows)]
    return Outcome(json_with_bare_ids([voucher_view(v) for v in one_page(ctx, p, selected)]))


def _within(voucher: Voucher, windows: list[tuple[str, date | None, date | None]]) -> bool:
    for attribute, low, high in windows:
        day = date.fromisoformat(getattr(voucher, attribute))
        if (low is not None and day < low) or (high is not None and day > high):
            return False
    return True


def voucher_view(v: Voucher) -> dict[str, object]:
    """One voucher in getVoucherInfos' documented shape (plus createDate/modifyDate)."""
    view: dict[str, object] = {
        "id": v.id,
        "name": v.name,
        "startDate": v.start_date,
        "endDate": v.end_date,
        "money": v.money,
        "num": v.num,
        "payType": v.pay_type,
        "grantType": v.grant_type,
        "tradeRange": v.trade_range,
    }
    for dim in DIMENSIONS:
        refs = v.scope.get(dim.key, [])
        view[dim.out_list] = [_dimension_item(dim.key, dim.out_id, dim.out_name, r) for r in refs]
    view["cmInfos"] = [{"id": r.id, "code": r.code, "name": r.name} for r in v.customers]
    view.update(
        prodMode=v.prod_mode,
        pdInfos=[_product_item(r) for r in v.products],
        prodBrands=[{"pdBrandId": r.id, "prodBrandName": r.name} for r in v.prod_brands],
        prodTypes=[{"pdTypeId": r.id, "prodTypeName": r.name} for r in v.prod_types],
        remark=v.remark,
        requiredAllnum="0.000",
        sourceFrom="ZZ",
        requiredType="0",
        isFinish=v.is_finish,
        doorsillAmount=v.doorsill_amount,
        doorsillType=v.doorsill_type,
        eachCmNum=v.each_cm_num,
        hasRequired="N",
        discountsType=v.discounts_type,
        discountsPercent=v.discounts_percent,
        maxDiscountsAmount=v.max_discounts_amount,
        createDate=v.create_date,
        modifyDate=v.modify_date,
    )
    return view


def _dimension_item(key: str, out_id: str, out_name: str, ref: Ref) -> dict[str, str]:
    item = {out_id: ref.id, out_name: ref.name}
    if key == "district":
        item = {out_id: ref.id, "cmDistrictCode": ref.code, out_name: ref.name}
    return item


def _product_item(ref: Ref) -> dict[str, str]:
    return {
        "pdId": ref.id,
        "isRequired": "",
        "code": ref.code,
        "requiredNum": "",
        "name": ref.name,
        "unitId": "",
        "unitName": "",
    }


def finish_voucher(ctx: Context, p: Payload) -> Outcome:
    """Mark a voucher finished (isFinish=Y): it accepts no more grants."""
    voucher = find_voucher(ctx, p, "voucherId")
    if voucher.is_finish == "Y":
        return Outcome()
    voucher.is_finish = "Y"
    voucher.modify_date = ctx.today().isoformat()
    ctx.store.save()
    return Outcome(applied=True)


def modify_voucher_end_date(ctx: Context, p: Payload) -> Outcome:
    """Move a voucher's end date (not before its start date, not on a finished voucher)."""
    voucher = find_voucher(ctx, p, "voucherId")
    end = p.required_date("endDate")
    if voucher.is_finish == "Y":
        raise p.refuse("优惠券已终止,不能修改截止日期")
    if end < date.fromisoformat(voucher.start_date):
        raise p.refuse("截止日期不能早于优惠券开始日期")
    voucher.end_date = end.isoformat()
    voucher.modify_date = ctx.today().isoformat()
    ctx.store.save()
    return Outcome(applied=True)


def find_voucher(ctx: Context, p: Payload, key: str) -> Voucher:
    """The voucher whose id is in field ``key``; refused when absent or unknown."""
    voucher_id = p.required(key)
    voucher = ctx.store.voucher(voucher_id)
    if voucher is None:
        raise p.refuse(f"优惠券不存在:{voucher_id}")
    return voucher
