"""Which customers a voucher is for: ``tradeRange`` 1 (dimensions) or 2 (a list).

``tradeRange`` 1: for each dimension (level, type, dept, label, district) the ids win over
the names when both are given; a customer is in scope when, for every dimension that
lists values, its own value is one of them (no dimension listed: every customer).
``tradeRange`` 2: ``cmId`` wins over ``cmCode``; every listed customer must exist.
"""

from __future__ import annotations

from collections.abc import Collection

from ._customers import DIMENSIONS, Customer, CustomerRegistry, Dimension
from ._payload import Payload
from ._state import Ref, Voucher

__all__ = ["customer_list", "customers_of", "dimension_scope", "in_scope"]


def dimension_scope(payload: Payload, customers: CustomerRegistry) -> dict[str, list[Ref]]:
    """The dimension values a ``tradeRange`` 1 voucher selects, resolved to id and name."""
    scope: dict[str, list[Ref]] = {}
    for dim in DIMENSIONS:
        values = _resolve(payload, customers, dim)
        if values:
            scope[dim.key] = values
    return scope


def _resolve(payload: Payload, customers: CustomerRegistry, dim: Dimension) -> list[Ref]:
    catalogue = customers.catalogue(dim.key)
    ids = payload.id_list(dim.id_param)
    if ids:
        by_id = {ident: name for name, ident in catalogue.items()}
        unknown = [ident for ident in ids if ident not in by_id]
        if unknown:
            raise payload.refuse(f"{dim.label}id不存在:{','.join(unknown)}")
        return [Ref(id=ident, name=by_id[ident]) for ident in ids]
    names = payload.id_list(dim.name_param)
    unknown = [name for name in names if name not in catalogue]
    if unknown:
        raise payload.refuse(f"{dim.label}不存在:{','.join(unknown)}")
    return [Ref(id=catalogue[name], name=name) for name in names]


def customer_list(payload: Payload, customers: CustomerRegistry) -> list[Ref]:
    """The customers a ``tradeRange`` 2 voucher lists (``cmId`` first, else ``cmCode``)."""
    ids = payload.id_list("cmId")
    codes = payload.id_list("cmCode")
    if not ids and not codes:
        raise payload.refuse("客户范围为指定具体客户时,cmId和cmCode必传其一")
    found: list[Ref] = []
    unknown: list[str] = []
    for key in ids or codes:
        customer = customers.by_id(key) if ids else customers.by_code(key)
        if customer is None:
            unknown.append(key)
        else:
            found.append(Ref(id=customer.id, code=customer.code, name=customer.name))
    if unknown:
        field = "客户id" if ids else "客户编码"
        shown = ",".join(unknown[:10]) + (" 等" if len(unknown) > 10 else "")
        raise payload.refuse(f"{field}不存在:{shown}")
    return list({ref.id: ref for ref in found}.values())


def in_scope(voucher: Voucher, customer: Customer, listed: Collection[str] = ()) -> bool:
    """Whether the voucher may be granted to this customer (``listed``: tradeRange 2 ids)."""
    if voucher.trade_range == "2":
        return customer.id in listed
    return all(
        customer.value(key) in {ref.name for ref in refs}
        for key, refs in voucher.scope.items()
        if refs
    )


def customers_of(voucher: Voucher, customers: CustomerRegistry) -> list[Ref]:
    """The voucher's customers: its list (``tradeRange`` 2) or everyone in scope (1)."""
    if voucher.trade_range == "2":
        return list(voucher.customers)
    return [Ref(id=c.id, code=c.code, name=c.name) for c in customers if in_scope(voucher, c)]
