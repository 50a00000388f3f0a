"""Cross-checks between the campaign and its planned grants; each problem is located.

These rules need the spreadsheets, so the campaign model cannot check them: the limits
``each_customer_limit`` and ``total`` against what the plan grants (and the API's
NUMERIC(5) cap), vouchers with no planned grant, the customer list of a ``specific``
voucher (``cmId``/``cmCode``), the budget guard, and the finished payload against the
API's own request model (:func:`wire_problems`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import polars as pl
from pydantic import ValidationError

from runner.api import AddVoucherRequest
from runner.campaign import Campaign, DiscountRatio, Voucher
from runner.errors import Location, Problem

__all__ = [
    "MAX_COUNT",
    "CustomerList",
    "Limits",
    "VoucherCounts",
    "budget_check",
    "customer_list",
    "exposure",
    "limits",
    "list_kind",
    "voucher_counts",
    "wire_problems",
]

MAX_COUNT = 99_999  # num and eachCmNum are NUMERIC(5)
Locate = Callable[[str], Location]

_LIST_FIELDS: Mapping[str, str] = {"cm_id": "cmId", "cm_code": "cmCode"}
_WIRE_HINT = (
    "Nothing was sent. The runner built a payload its own addVoucherInfo request model "
    "refuses: check this voucher's values against the vendor document, and report it as a "
    "bug of campaign-runner if they are right."
)


@dataclass(frozen=True)
class VoucherCounts:
    """What the plan grants of one voucher: calls, and the most one customer gets."""

    grants: int = 0
    largest: int = 0
    largest_customer: str | None = None


def voucher_counts(rows: pl.DataFrame) -> dict[str, VoucherCounts]:
    """Grant counts per voucher key from the selected rows' quantities (before explosion).

    Vouchers without grants are absent. Counting before the rows are exploded keeps an
    absurd quantity (say 10**9) from being expanded into that many jobs.
    """
    per_customer = rows.group_by(["voucher_key", "key_kind", "customer_key"]).agg(
        pl.col("quantity").sum().alias("n")
    )
    n = pl.col("n")
    summary = per_customer.group_by("voucher_key").agg(
        n.sum().alias("grants"),
        n.max().alias("largest"),
        # the customer holding the most; of several, the first by key
        pl.col("customer_key").filter(n == n.max()).min().alias("who"),
    )
    return {
        key: VoucherCounts(int(grants), int(largest), who)
        for key, grants, largest, who in summary.iter_rows()
    }


@dataclass(frozen=True)
class Limits:
    """``num`` and ``eachCmNum`` for one voucher, or the problems that prevent them."""

    num: int
    each_cm_num: int
    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = ()


def limits(voucher: Voucher, counts: VoucherCounts, locate: Locate) -> Limits:
    """Resolve ``total``/``each_customer_limit`` (``auto`` or a number) against the plan."""
    base = f"vouchers.{voucher.key}"
    if counts.grants == 0:
        return _no_grants(voucher, locate)
    problems: list[Problem] = []
    each = voucher.each_customer_limit
    if each == "auto":
        each = counts.largest
        if each > MAX_COUNT:
            problems.append(
                _too_many(
                    f"customer {counts.largest_customer!r} gets",
                    each,
                    locate(f"{base}.each_customer_limit"),
                    one_customer=True,
                )
            )
    elif each < counts.largest:
        problems.append(
            Problem(
                f"each_customer_limit is {each}, but the plan grants {counts.largest} to "
                f"customer {counts.largest_customer!r}",
                locate(f"{base}.each_customer_limit"),
                f"Raise each_customer_limit to at least {counts.largest} (or write auto), or "
                "lower that customer's quantity, and run again.",
            )
        )
    total = voucher.total
    if total == "auto":
        total = counts.grants
        if total > MAX_COUNT:
            problems.append(_too_many("the plan grants", total, locate(f"{base}.total")))
    elif total < counts.grants:
        problems.append(
            Problem(
                f"total is {total}, but the plan grants {counts.grants} vouchers",
                locate(f"{base}.total"),
                f"Raise total to at least {counts.grants} (or write auto), or grant fewer, "
                "and run again.",
            )
        )
    return Limits(total, each, tuple(problems), _room_warnings(voucher.key, total, each, counts))


def _room_warnings(key: str, total: int, each: int, counts: VoucherCounts) -> tuple[str, ...]:
    """A warning when the limits leave room above the plan: the vendor would then accept
    a duplicate grant, so only the runner's reconciliation (api.settle_s) prevents one."""
    room = []
    if total > counts.grants:
        room.append(f"total {total} > {counts.grants} planned")
    if each > counts.largest:
        room.append(f"each_customer_limit {each} > {counts.largest} planned per customer")
    if not room:
        return ()
    return (
        f"voucher {key!r} leaves room above the plan ({'; '.join(room)}): the vendor will not "
        "refuse a duplicate grant, so a grant answered later than api.settle_s could be sent "
        "twice; use auto limits unless you need the room",
    )


def _too_many(what: str, count: int, at: Location, *, one_customer: bool = False) -> Problem:
    """A count beyond NUMERIC(5), with how many vouchers it takes: ceil(count / 99999)."""
    needed = -(-count // MAX_COUNT)
    if one_customer:
        hint = (
            f"Give this customer at most {MAX_COUNT} of one voucher: split the quantity over "
            f"{needed} vouchers (keys), or lower it, and run again."
        )
    else:
        hint = (
            f"Split the customers over at least {needed} vouchers (keys), each granting at "
            f"most {MAX_COUNT} (e.g. one grant line each, with a where condition on a batch "
            "column), and run again."
        )
    return Problem(f"{what} {count} vouchers; the API allows at most {MAX_COUNT}", at, hint)


def _no_grants(voucher: Voucher, locate: Locate) -> Limits:
    """A voucher whose grant lines select nobody: fine only for a scope with fixed limits."""
    base = f"vouchers.{voucher.key}"
    if voucher.customers == "specific":
        problem = Problem(
            f"voucher {voucher.key!r} is for specific customers, but its grants select nobody",
            locate(f"{base}.customers"),
            "Check the grants' where conditions and quantities (0 means none), and run again.",
        )
        return Limits(0, 0, (problem,))
    problems = [
        Problem(
            f"{name}: auto needs grants, and voucher {voucher.key!r} has none planned",
            locate(f"{base}.{name}"),
            f"Give {name} as a number, or add a grant that selects customers, and run again.",
        )
        for name in ("total", "each_customer_limit")
        if getattr(voucher, name) == "auto"
    ]
    num = voucher.total if isinstance(voucher.total, int) else 0
    each = voucher.each_customer_limit if isinstance(voucher.each_customer_limit, int) else 0
    warnings: tuple[str, ...] = ()
    if not problems and voucher.grant_type != "ZDLQ":
        warnings = (
            f"voucher {voucher.key!r} ({voucher.grant_type}) has no planned grants: it will be "
            "created, but this campaign gives it to nobody",
        )
    return Limits(num, each, tuple(problems), warnings)


@dataclass(frozen=True)
class CustomerList:
    """The ``cmId``/``cmCode`` field of a specific voucher, or why it cannot be built."""

    fields: dict[str, str]
    problems: tuple[Problem, ...] = ()


def list_kind(key: str, columns: Mapping[str, str]) -> str | None:
    """Which id lists an audience's customers for addVoucherInfo: cm_id, cm_code or None."""
    if key in _LIST_FIELDS:
        return key
    return next((kind for kind in _LIST_FIELDS if kind in columns), None)


def one_key_kind(voucher: Voucher, rows: pl.DataFrame, locate: Locate) -> list[Problem]:
    """A voucher's grants must name customers by one key kind.

    Reconciliation and verify count a customer's remote instances under the key the
    jobs use; the same customer reached as cm_code in one audience and cm_id in another
    would be counted twice, and ``eachCmNum`` computed per key would be too small.
    """
    own = rows.filter(pl.col("voucher_key") == voucher.key)
    kinds = own.group_by("key_kind").agg(pl.col("audience").unique().sort()).sort("key_kind")
    if kinds.height <= 1:
        return []
    used = "; ".join(f"{kind} in {', '.join(audiences)}" for kind, audiences in kinds.iter_rows())
    return [
        Problem(
            f"the grants of voucher {voucher.key!r} name customers by different keys ({used})",
            locate(f"vouchers.{voucher.key}"),
            "Use the same `key` (cm_id, cm_code or cm_source_code) in every audience that "
            "grants this voucher, so one customer is always counted as one.",
        )
    ]


def customer_list(voucher: Voucher, rows: pl.DataFrame, locate: Locate) -> CustomerList:
    """The sorted, deduplicated customer list of a specific voucher, from its grant rows.

    ``rows`` are the voucher's selected rows with ``list_kind`` / ``list_value`` columns
    (see :func:`runner.plan._expand.select_line`) and a positive quantity.
    """
    at = locate(f"vouchers.{voucher.key}.customers")
    unlisted = rows.filter(pl.col("list_kind").is_null())
    if unlisted.height:
        names = ", ".join(unlisted.get_column("audience").unique(maintain_order=True).to_list())
        return CustomerList({}, (_unlistable(voucher.key, names, at),))
    kinds = rows.get_column("list_kind").drop_nulls().unique().sort().to_list()
    if not kinds:
        return CustomerList({})
    if len(kinds) > 1:
        return CustomerList({}, (_mixed(voucher.key, kinds, at),))
    missing = rows.filter(pl.col("list_value").is_null())
    problems = tuple(
        Problem(
            f"no {kinds[0]} for this customer, needed to list it on specific voucher "
            f"{voucher.key!r}",
            Location(file=file, sheet=sheet, row=row, column=column),
            f"Fill in the customer's {kinds[0]}, or leave the row out, and run again.",
        )
        for file, sheet, row, column in missing.select(
            "source_file", "source_sheet", "source_row", "list_column"
        ).iter_rows()
    )
    values = rows.get_column("list_value").drop_nulls().unique().sort()
    return CustomerList({_LIST_FIELDS[kinds[0]]: str(values.str.join(",").item())}, problems)


def _unlistable(key: str, names: str, at: Location) -> Problem:
    return Problem(
        f"voucher {key!r} is for specific customers, but audience(s) {names} identify "
        "customers by cm_source_code, which addVoucherInfo cannot list",
        at,
        "Map a cm_code (or cm_id) column in the audience too, or key it by cm_code or "
        "cm_id, and run again.",
    )


def _mixed(key: str, kinds: list[str], at: Location) -> Problem:
    return Problem(
        f"voucher {key!r} mixes audiences that list customers by {' and '.join(kinds)}; "
        "the API would use only cmId",
        at,
        "Give every audience of this voucher the same key (cm_id or cm_code), and run again.",
    )


def exposure(voucher: Voucher, grants: int) -> Decimal | None:
    """The most this voucher's planned grants can take off orders; None when unbounded.

    GDMZ: money × grants. ZKBL: max_amount × grants, or None without a max_amount.
    """
    discount = voucher.discount
    if isinstance(discount, DiscountRatio):
        if discount.max_amount is None:
            return None
        return Decimal(discount.max_amount) * grants
    return Decimal(voucher.money) * grants


def budget_check(
    campaign: Campaign, grants: Mapping[str, int], locate: Locate
) -> tuple[list[Problem], list[str]]:
    """The budget guard: planned face value ≤ budget.max_face_value (Decimal arithmetic)."""
    if campaign.budget is None or campaign.budget.max_face_value is None:
        return [], []
    limit = Decimal(campaign.budget.max_face_value)
    total = Decimal(0)
    parts: list[str] = []
    notes: list[str] = []
    for key, voucher in campaign.vouchers.items():
        value = exposure(voucher, grants.get(key, 0))
        if value is None:
            notes.append(
                f"voucher {key!r} (ZKBL without max_amount) is unbounded and left out of the "
                "budget guard"
            )
            continue
        total += value
        parts.append(f"{key}: {value:.2f}")
    if total <= limit:
        return [], notes
    problem = Problem(
        f"the plan's face value {total:.2f} exceeds budget.max_face_value {limit:.2f} "
        f"({'; '.join(parts)})",
        locate("budget.max_face_value"),
        "Grant fewer vouchers, lower their value, or raise the budget, and run again.",
    )
    return [problem], notes


def wire_problems(key: str, payload: Mapping[str, object], locate: Locate) -> list[Problem]:
    """Problems with a voucher's finished addVoucherInfo payload, at ``vouchers.<key>``.

    The payload is validated by wire names only (a snake_case or misspelt name is an
    unknown field) against :class:`~runner.api.AddVoucherRequest`, the model the run
    sends it through; a value the model would send differently is a problem too, since
    the plan's fingerprint is taken from the payload as built.
    """
    at = locate(f"vouchers.{key}")
    try:
        request = AddVoucherRequest.model_validate(dict(payload), by_alias=True, by_name=False)
    except ValidationError as err:
        return [_refused(key, error, at) for error in err.errors(include_url=False)]
    sent = request.to_wire()
    changed = sorted(n for n in {*payload, *sent} if payload.get(n) != sent.get(n))
    return [_changed(key, name, payload.get(name), sent.get(name), at) for name in changed]


def _refused(key: str, error: Mapping[str, object], at: Location) -> Problem:
    loc = error.get("loc")
    name = ".".join(str(part) for part in loc) if isinstance(loc, tuple) and loc else "payload"
    message = f"voucher {key!r}: addVoucherInfo field {name!r}: {error.get('msg')}"
    return Problem(message, at, _WIRE_HINT)


def _changed(key: str, name: str, built: object, sent: object, at: Location) -> Problem:
    message = (
        f"voucher {key!r}: addVoucherInfo field {name!r} is planned as {built!r} "
        f"but would be sent as {sent!r}"
    )
    return Problem(message, at, _WIRE_HINT)
