"""The sandbox's customer registry: generated from a seed, or loaded from CSV/XLSX.

A customer file has the columns ``id, code, source_code, name, level, type, dept, label,
district`` (``id`` and ``code`` required, the rest may be empty), every cell read as text.
Customer ids must be digits; in an XLSX file they must be *text* cells (a number cell has
already lost digits to floating point). The five dimensions (level, type, dept, label,
district) are what ``tradeRange`` 1 scopes select on; each distinct value gets a stable
19-digit id so that scopes can be given by id or by name, like the vendor's.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from runner.errors import InvalidInput, Location, Problem, SheetError, UsageError

from ._ids import make_id

__all__ = [
    "COLUMNS",
    "DIMENSIONS",
    "Customer",
    "CustomerRegistry",
    "Dimension",
    "dimension_id",
    "generate_customers",
    "load_customers",
]

COLUMNS: tuple[str, ...] = (
    "id",
    "code",
    "source_code",
    "name",
    "level",
    "type",
    "dept",
    "label",
    "district",
)
_REQUIRED = ("id", "code")


@dataclass(frozen=True)
class Customer:
    """One customer (terminal store) as the vendor knows it; every field is text."""

    id: str
    code: str
    source_code: str = ""
    name: str = ""
    level: str = ""
    type: str = ""
    dept: str = ""
    label: str = ""
    district: str = ""

    def value(self, dimension: str) -> str:
        """The customer's value for one scope dimension (``level``, ``type``, ...)."""
        return str(getattr(self, dimension))


@dataclass(frozen=True)
class Dimension:
    """One customer dimension a ``tradeRange`` 1 voucher can be scoped by."""

    key: str
    label: str
    id_param: str
    name_param: str
    out_list: str
    out_id: str
    out_name: str


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "level", "客户等级", "cmLevelId", "cmLevelName", "cmLevels", "cmLevelId", "cmLevelName"
    ),
    Dimension("type", "客户类型", "cmTypeId", "cmTypeName", "cmTypes", "cmTypeId", "cmTypeName"),
    Dimension("dept", "客户部门", "cmDeptId", "cmDeptName", "cmDepts", "cmDeptId", "cmDeptName"),
    Dimension(
        "label", "客户标签", "cmLabelId", "cmLabelName", "cmLabels", "cmLabelId", "cmLabelName"
    ),
    Dimension(
        "district",
        "客户销售区域",
        "cmDistrictId",
        "cmDistrictName",
        "cmDistricts",
        "cmDistrictId",
        "cmDistrictName",
    ),
)


def dimension_id(dimension: str, name: str) -> str:
    """The stable id of one dimension value (the same in every sandbox, seed or not)."""
    return make_id(0, f"dimension:{dimension}:{name}", 0)


class CustomerRegistry:
    """Customers indexed by id, code and source code, plus each dimension's values."""

    def __init__(self, customers: Iterable[Customer]) -> None:
        self._customers = tuple(customers)
        self._by_id: dict[str, Customer] = {}
        self._by_code: dict[str, Customer] = {}
        self._by_source: dict[str, Customer] = {}
        for customer in self._customers:
            _index(self._by_id, customer.id, customer, "id")
            _index(self._by_code, customer.code, customer, "code")
            if customer.source_code:
                _index(self._by_source, customer.source_code, customer, "source_code")
        self._catalogue = {
            dim.key: {c.value(dim.key): dimension_id(dim.key, c.value(dim.key)) for c in self}
            for dim in DIMENSIONS
        }
        for values in self._catalogue.values():
            values.pop("", None)

    def __len__(self) -> int:
        return len(self._customers)

    def __iter__(self) -> Iterator[Customer]:
        return iter(self._customers)

    def by_id(self, customer_id: str) -> Customer | None:
        """The customer with this id, if any."""
        return self._by_id.get(customer_id)

    def by_code(self, code: str) -> Customer | None:
        """The customer with this code, if any."""
        return self._by_code.get(code)

    def by_source_code(self, source_code: str) -> Customer | None:
        """The customer with this source code, if any."""
        return self._by_source.get(source_code)

    def catalogue(self, dimension: str) -> dict[str, str]:
        """Every value of one dimension present among the customers: name → id."""
        return dict(self._catalogue[dimension])


def _index(table: dict[str, Customer], key: str, customer: Customer, what: str) -> None:
    if key in table:
        raise UsageError(
            f"two customers share the {what} {key!r}",
            hint=f"give every customer a distinct {what}",
        )
    table[key] = customer


_LEVELS = ("A", "B", "C", "D")
_TYPES = ("便利店", "超市", "餐饮店", "陶瓷店")
_DEPTS = ("华东事业部", "华南事业部", "华北事业部")
_LABELS = ("重点客户", "新客户", "普通客户")
_DISTRICTS = ("南京", "上海", "杭州", "苏州")


def generate_customers(count: int, seed: int = 0) -> CustomerRegistry:
    """``count`` made-up customers, the same for the same seed: ``CUS000001``, ..."""
    if count < 0:
        raise UsageError(f"cannot generate {count} customers", hint="pass a count of 0 or more")
    rng = random.Random(seed)
    customers = [
        Customer(
            id=make_id(seed, "customer", n),
            code=f"CUS{n:06d}",
            source_code=f"SRC{n:06d}",
            name=f"测试客户{n:04d}",
            level=rng.choice(_LEVELS),
            type=rng.choice(_TYPES),
            dept=rng.choice(_DEPTS),
            label=rng.choice(_LABELS),
            district=rng.choice(_DISTRICTS),
        )
        for n in range(1, count + 1)
    ]
    return CustomerRegistry(customers)


def load_customers(path: Path) -> CustomerRegistry:
    """Read a customer CSV or XLSX file (first sheet), every cell as text, checking ids."""
    frame = _read_frame(path)
    frame = frame.rename({c: c.strip().lstrip("\ufeff").lower() for c in frame.columns})
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise SheetError(
            f"the customer file has no column {', '.join(missing)}",
            where=Location(file=str(path), row=1),
            hint=f"the header row needs the columns: {', '.join(COLUMNS)}",
        )
    present = [c for c in COLUMNS if c in frame.columns]
    rows = frame.select(present).fill_null("").rows(named=True)
    return _build_registry(path, rows)


def _read_frame(path: Path) -> pl.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pl.read_csv(io.BytesIO(_utf8(path)), infer_schema=False)
        if suffix in (".xlsx", ".xlsm"):
            return pl.read_excel(path, sheet_id=1, infer_schema_length=0, drop_empty_rows=False)
    except FileNotFoundError:
        raise UsageError(
            f"customer file {path} does not exist", hint="check the --customers path"
        ) from None
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise SheetError(
            f"cannot read the customer file: {exc}",
            where=Location(file=str(path)),
            hint="save it as UTF-8 CSV or XLSX with a header row",
        ) from exc
    raise UsageError(
        f"customer file {path} is neither .csv nor .xlsx",
        where=Location(file=str(path)),
        hint="save the customers as CSV (UTF-8) or XLSX",
    )


def _utf8(path: Path) -> bytes:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding).encode("utf-8")
        except UnicodeDecodeError:
            continue
    raise SheetError(
        "the customer file is neither UTF-8 nor GBK text",
        where=Location(file=str(path)),
        hint="save it as UTF-8 CSV",
    )


def _build_registry(path: Path, rows: list[dict[str, str]]) -> CustomerRegistry:
    problems: list[Problem] = []
    customers: list[Customer] = []
    seen: dict[str, dict[str, int]] = {"id": {}, "code": {}, "source_code": {}}
    for offset, raw in enumerate(rows):
        row_number = offset + 2  # the header is row 1
        values = {k: (v or "").strip() for k, v in raw.items()}
        if not any(values.values()):
            continue
        found = _row_problems(path, row_number, values, seen)
        problems.extend(found)
        if not found:
            customers.append(Customer(**values))
    if problems:
        raise InvalidInput(problems, source=str(path))
    return CustomerRegistry(customers)


def _row_problems(
    path: Path, row: int, values: dict[str, str], seen: dict[str, dict[str, int]]
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(column: str, message: str, hint: str) -> None:
        problems.append(Problem(message, Location(file=str(path), row=row, column=column), hint))

    ident = values["id"]
    if not ident:
        problem("id", "the customer id is empty", "fill in the customer's id")
    elif not (ident.isascii() and ident.isdigit()):
        problem("id", f"customer id {ident!r} is not all digits", "store ids as text cells")
    for column in ("id", "code", "source_code"):
        value = values.get(column, "")
        if column == "code" and not value:
            problem("code", "the customer code is empty", "fill in the customer's code")
        elif value and value in seen[column]:
            first = seen[column][value]
            problem(column, f"{column} {value!r} repeats row {first}", "keep one row per customer")
        elif value:
            seen[column][value] = row
    return problems
