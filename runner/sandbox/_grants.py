"""The grant operations: receiveVoucherInfo, getCmInfos, queryVoucherUsedInfo (+ marking).

receiveVoucherInfo picks the customer by ``cmId``, else ``cmCode``, else ``cmSourceCode``
(the first one given decides, there is no fallback). It refuses an unknown voucher or
customer, a finished voucher, a voucher past its end date (granting *before* the start
date is allowed: pre-distribution), a customer outside the voucher's scope, a voucher
whose ``num`` is used up and a customer already holding ``eachCmNum``. Success creates
one instance and answers ``response_data`` null. An unused instance reads as expired
(``use_status`` "2") once today is past the voucher's end date. getCmInfos and
queryVoucherUsedInfo answer one page of at most 1,000 (see ``SandboxConfig.ignore_paging``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from runner.errors import UsageError

from ._context import Context, Outcome
from ._customers import Customer
from ._payload import Payload
from ._scope import customers_of, in_scope
from ._state import Instance, Voucher
from ._vouchers import find_voucher, one_page

__all__ = [
    "MarkOrder",
    "get_cm_infos",
    "instance_view",
    "mark_instances",
    "mark_order",
    "query_voucher_used_info",
    "receive",
]


def receive(ctx: Context, p: Payload) -> Outcome:
    """Grant one instance of a voucher to one customer, after every check."""
    voucher = find_voucher(ctx, p, "voucherId")
    customer = _customer(ctx, p)
    receive_time = p.timestamp("receiveTime")
    if voucher.is_finish == "Y":
        raise p.refuse("优惠券已终止,不能领取")
    if ctx.today() > date.fromisoformat(voucher.end_date):
        raise p.refuse("优惠券已过期,不能领取")
    if not in_scope(voucher, customer, ctx.store.listed_customers(voucher)):
        raise p.refuse("该客户不在优惠券的适用客户范围内")
    if ctx.store.granted(voucher.id) >= voucher.num:
        raise p.refuse("优惠券已发放完毕")
    if ctx.store.held(voucher.id, customer.id) >= voucher.each_cm_num:
        raise p.refuse("超过单客户限领数量")
    now = ctx.now_text()
    ctx.store.add_instance(
        Instance(
            id=ctx.store.new_id(),
            voucher_id=voucher.id,
            cm_id=customer.id,
            cm_code=customer.code,
            cm_source_code=customer.source_code,
            cm_name=customer.name,
            distribute_time=now,
            receive_time=receive_time or now,
        )
    )
    ctx.store.save()
    return Outcome(applied=True)


def _customer(ctx: Context, p: Payload) -> Customer:
    for key, lookup in (
        ("cmId", ctx.customers.by_id),
        ("cmCode", ctx.customers.by_code),
        ("cmSourceCode", ctx.customers.by_source_code),
    ):
        value = p.text(key)
        if value is not None:
            customer = lookup(value)
            if customer is None:
                raise p.refuse(f"客户不存在:{key}={value}")
            return customer
    raise p.refuse("cmId、cmCode、cmSourceCode必传其一")


def get_cm_infos(ctx: Context, p: Payload) -> Outcome:
    """One page of a voucher's customers as ``{"id", "code", "name"}``."""
    voucher = find_voucher(ctx, p, "voucher_id")
    refs = one_page(ctx, p, customers_of(voucher, ctx.customers))
    items = [{"id": r.id, "code": r.code, "name": r.name} for r in refs]
    return Outcome(json.dumps(items, ensure_ascii=False))


def query_voucher_used_info(ctx: Context, p: Payload) -> Outcome:
    """One page (at most 1,000) of a voucher's instances, in grant order, all fields.

    ``voucherStatus`` picks one use status (absent: every status). The vendor documents no
    paging here; this sandbox pages like getCmInfos (``page_number``/``page_length``).
    """
    voucher = find_voucher(ctx, p, "voucherId")
    wanted = p.enum("voucherStatus", ("0", "1", "2"), default="")
    views = [instance_view(ctx, voucher, i) for i in ctx.store.instances(voucher.id)]
    views = [v for v in views if not wanted or v["use_status"] == wanted]
    return Outcome(json.dumps(one_page(ctx, p, views), ensure_ascii=False))


def instance_view(ctx: Context, voucher: Voucher, instance: Instance) -> dict[str, str]:
    """One instance in queryVoucherUsedInfo's documented shape."""
    status = instance.use_status
    if status == "0" and ctx.today() > date.fromisoformat(voucher.end_date):
        status = "2"
    return {
        "id": instance.id,
        "cm_id": instance.cm_id,
        "cm_source_code": instance.cm_source_code,
        "cm_code": instance.cm_code,
        "cm_name": instance.cm_name,
        "voucher_id": voucher.id,
        "voucher_name": voucher.name,
        "start_date": voucher.start_date,
        "end_date": voucher.end_date,
        "doorsill_amount": voucher.doorsill_amount,
        "money": voucher.money,
        "discounts_type": voucher.discounts_type,
        "discounts_percent": voucher.discounts_percent,
        "max_discounts_amount": voucher.max_discounts_amount,
        "business_from_name": voucher.business_from_name,
        "create_type": "OPENAPI",
        "distribute_time": instance.distribute_time,
        "receive_time": instance.receive_time,
        "order_id": instance.order_id,
        "order_no": instance.order_no,
        "order_create_time": instance.order_create_time,
        "order_amount": instance.order_amount,
        "voucher_amount": instance.voucher_amount,
        "use_status": status,
    }


@dataclass(frozen=True)
class MarkOrder:
    """The order that uses the marked instances: its amount (default: twice the face value,
    at least the threshold) and its creation time (default: now), ``yyyy-MM-dd HH:mm:ss``."""

    amount: Decimal | None = None
    at: str | None = None


def mark_order(amount: object, at: object) -> MarkOrder:
    """``orderAmount`` and ``at`` of a ``/sandbox/mark`` body, checked (None: default)."""
    order = MarkOrder()
    if amount is not None:
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
            raise UsageError(
                f"/sandbox/mark: orderAmount {amount!r} is not an amount", hint='e.g. "250.00"'
            )
        order = MarkOrder(amount=value)
    if at is not None:
        try:
            datetime.strptime(str(at), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise UsageError(
                f"/sandbox/mark: at {at!r} is not a time", hint='e.g. "2027-03-02 10:30:00"'
            ) from None
        order = MarkOrder(amount=order.amount, at=str(at))
    return order


def mark_instances(
    ctx: Context, voucher_id: str, used: int, expired: int, order: MarkOrder | None = None
) -> dict[str, object]:
    """Sandbox-only: mark unused instances used (each with its own order, *order*'s amount
    and time) or expired, oldest first."""
    voucher = ctx.store.voucher(voucher_id)
    if voucher is None:
        raise UsageError(
            f"/sandbox/mark: no voucher {voucher_id!r}", hint="GET /sandbox/inspect lists them"
        )
    if used < 0 or expired < 0:
        raise UsageError("/sandbox/mark: used and expired must be 0 or more")
    unused = [i for i in ctx.store.instances(voucher_id) if i.use_status == "0"]
    if used + expired > len(unused):
        raise UsageError(
            f"/sandbox/mark: voucher {voucher_id} has only {len(unused)} unused instance(s)",
            hint="mark at most that many",
        )
    order = order or MarkOrder()
    amount = _order_amount(voucher, order.amount)
    for instance in unused[:used]:
        _use(ctx, voucher, instance, amount, order.at or ctx.now_text())
    for instance in unused[used : used + expired]:
        instance.use_status = "2"
    ctx.store.save()
    return {"voucherId": voucher_id, "used": used, "expired": expired}


def _order_amount(voucher: Voucher, asked: Decimal | None) -> Decimal:
    """The order's amount: *asked*, else twice the face value; never below the threshold."""
    doorsill = Decimal(voucher.doorsill_amount or "0")
    if asked is None:
        return max(Decimal(voucher.money) * 2, doorsill).quantize(Decimal("0.01"))
    if asked < doorsill:
        raise UsageError(
            f"/sandbox/mark: an order of {asked} is below the voucher's threshold {doorsill}",
            hint="a voucher is used only by an order that reaches its doorsill_amount",
        )
    return asked


def _discount(voucher: Voucher, order_amount: Decimal) -> Decimal:
    """The discount an order gets: the face value (GDMZ), or the part of the order not paid
    (ZKBL: ``discounts_percent`` is the ratio paid), capped by ``max_discounts_amount``."""
    if voucher.discounts_type != "ZKBL":
        return min(Decimal(voucher.money), order_amount)
    discount = order_amount * (1 - Decimal(voucher.discounts_percent))
    if voucher.max_discounts_amount:
        discount = min(discount, Decimal(voucher.max_discounts_amount))
    return discount


def _use(ctx: Context, voucher: Voucher, instance: Instance, amount: Decimal, at: str) -> None:
    order_id = ctx.store.new_id()
    instance.use_status = "1"
    instance.order_id = order_id
    instance.order_no = f"DD{at[:10].replace('-', '')}{order_id[-6:]}"
    instance.order_create_time = at
    instance.order_amount = str(amount)
    instance.voucher_amount = str(_discount(voucher, amount).quantize(Decimal("0.01")))
