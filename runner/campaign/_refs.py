"""Cross-references inside a campaign file, checked on the raw data.

These rules span sections (a grant names a voucher and an audience; a quantity column
must be mapped in that audience; a voucher for specific customers needs a grant). They
run on the plain data, before and independently of field validation, so that one pass
reports them together with every field-level problem. Parts that have the wrong shape
are skipped here: the model reports those.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from runner.campaign._issue import Issue
from runner.sheets import quoted

__all__ = ["cross_check"]


def cross_check(data: Mapping[str, Any]) -> list[Issue]:
    """Every cross-reference problem in ``data`` (a parsed, interpolated campaign file)."""
    vouchers = _mapping(data.get("vouchers"))
    audiences = _mapping(data.get("audiences"))
    grants = data.get("grants")
    grant_list: list[Any] = grants if isinstance(grants, list) else []
    issues: list[Issue] = []
    granted: set[str] = set()
    for index, grant in enumerate(grant_list):
        if isinstance(grant, Mapping):
            issues += _grant(index, grant, vouchers, audiences)
            name = _name(grant.get("voucher"))
            if name is not None:
                granted.add(name)
    for key, voucher in vouchers.items():
        if isinstance(voucher, Mapping) and key not in granted:
            issues += _ungranted(str(key), voucher)
    return issues


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _name(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip()


def _unknown(path: str, what: str, name: str, known: Mapping[str, Any]) -> Issue:
    guess = difflib.get_close_matches(name, [str(k) for k in known], n=1, cutoff=0.6)
    suffix = f" (did you mean '{guess[0]}'?)" if guess else ""
    listing = ", ".join(str(k) for k in known) or "none are defined"
    return Issue(
        path,
        f"unknown {what} {quoted(name, 40)}{suffix}",
        hint=f"Use one of the keys under {what}s: {listing}.",
    )


def _grant(
    index: int,
    grant: Mapping[str, Any],
    vouchers: Mapping[str, Any],
    audiences: Mapping[str, Any],
) -> list[Issue]:
    issues: list[Issue] = []
    voucher = _name(grant.get("voucher"))
    if voucher is not None and voucher not in vouchers:
        issues.append(_unknown(f"grants[{index}].voucher", "voucher", voucher, vouchers))
    audience = _name(grant.get("audience"))
    if audience is not None and audience not in audiences:
        issues.append(_unknown(f"grants[{index}].audience", "audience", audience, audiences))
    elif audience is not None:
        issues += _quantity(index, grant.get("quantity"), audience, audiences[audience])
    return issues


def _quantity(index: int, quantity: Any, audience: str, spec: Any) -> list[Issue]:
    if not isinstance(quantity, str) or not quantity.strip() or quantity.strip().isdigit():
        return []
    columns = spec.get("columns") if isinstance(spec, Mapping) else None
    if not isinstance(columns, Mapping) or quantity.strip() in columns:
        return []
    column = quantity.strip()
    mapped = ", ".join(str(k) for k in columns) or "none"
    return [
        Issue(
            f"grants[{index}].quantity",
            f"quantity column '{column}' is not mapped in audience '{audience}' (mapped: {mapped})",
            hint=(
                f"Add it under audiences.{audience}.columns (e.g. {column}: 数量), "
                "or give the quantity as a number."
            ),
        )
    ]


def _ungranted(key: str, voucher: Mapping[str, Any]) -> list[Issue]:
    if voucher.get("customers") == "specific":
        return [
            Issue(
                f"vouchers.{key}.customers",
                f"voucher '{key}' is for specific customers, but no grant names it",
                hint=f"Add a grant with `voucher: {key}`, or remove the voucher.",
            )
        ]
    automatic = [
        field for field in ("total", "each_customer_limit") if voucher.get(field, "auto") == "auto"
    ]
    if not automatic:
        return []
    return [
        Issue(
            f"vouchers.{key}.{automatic[0]}",
            f"voucher '{key}' has no grants, so {' and '.join(automatic)} cannot be 'auto'",
            hint="Give them as numbers, or add a grant that names this voucher.",
        )
    ]
