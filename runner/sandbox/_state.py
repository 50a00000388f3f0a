"""What the sandbox remembers: vouchers and granted instances, optionally kept in a file.

The state file is one JSON document, rewritten after every applied mutation through a
temporary file and an atomic rename, so a crash leaves either the old or the new state
and a new server on the same file carries on where the old one stopped.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runner.errors import Location, UsageError

from ._ids import make_id

__all__ = ["Instance", "Ref", "StateData", "StateStore", "Voucher"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Ref(_Model):
    """A reference to something by id, code and/or name (empty when unknown)."""

    id: str = ""
    code: str = ""
    name: str = ""


class Voucher(_Model):
    """One voucher as created by ``addVoucherInfo`` (money and amounts as text)."""

    id: str
    seq: int
    name: str
    start_date: str
    end_date: str
    money: str
    num: int
    each_cm_num: int
    doorsill_type: str
    doorsill_amount: str
    pay_type: str
    grant_type: str
    trade_range: str
    prod_mode: str
    discounts_type: str
    discounts_percent: str
    max_discounts_amount: str
    remark: str = ""
    business_from_name: str = ""
    comment: str = ""
    auto_receive: str = ""
    scope: dict[str, list[Ref]] = Field(default_factory=dict)
    customers: list[Ref] = Field(default_factory=list)
    prod_types: list[Ref] = Field(default_factory=list)
    prod_brands: list[Ref] = Field(default_factory=list)
    products: list[Ref] = Field(default_factory=list)
    is_finish: Literal["Y", "N"] = "N"
    create_date: str
    modify_date: str


class Instance(_Model):
    """One granted voucher instance held by one customer."""

    id: str
    voucher_id: str
    cm_id: str
    cm_code: str
    cm_source_code: str
    cm_name: str
    distribute_time: str
    receive_time: str
    use_status: Literal["0", "1", "2"] = "0"
    order_id: str = ""
    order_no: str = ""
    order_create_time: str = ""
    order_amount: str = ""
    voucher_amount: str = ""


class StateData(_Model):
    """The whole persisted state."""

    version: Literal[1] = 1
    id_counter: int = 0
    vouchers: list[Voucher] = Field(default_factory=list)
    instances: list[Instance] = Field(default_factory=list)


class StateStore:
    """Vouchers and instances in memory, indexed, and saved to ``path`` when given."""

    def __init__(self, path: Path | None, *, seed: int) -> None:
        self.path = path
        self.seed = seed
        self.data = _load(path) if path is not None else StateData()
        self._vouchers = {v.id: v for v in self.data.vouchers}
        self._instances: dict[str, list[Instance]] = {}
        self._held: dict[tuple[str, str], int] = {}
        self._listed: dict[str, frozenset[str]] = {}
        for instance in self.data.instances:
            self._index_instance(instance)
        self._taken = set(self._vouchers) | {i.id for i in self.data.instances}

    def new_id(self) -> str:
        """A fresh 19-digit id, never used before in this state."""
        while True:
            self.data.id_counter += 1
            candidate = make_id(self.seed, "object", self.data.id_counter)
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate

    def voucher(self, voucher_id: str) -> Voucher | None:
        """The voucher with this id, if any."""
        return self._vouchers.get(voucher_id)

    def vouchers(self) -> list[Voucher]:
        """Every voucher, in creation order."""
        return list(self.data.vouchers)

    def instances(self, voucher_id: str) -> list[Instance]:
        """The instances of one voucher, in grant order."""
        return list(self._instances.get(voucher_id, ()))

    def add_voucher(self, voucher: Voucher) -> None:
        """Remember a new voucher."""
        self.data.vouchers.append(voucher)
        self._vouchers[voucher.id] = voucher

    def add_instance(self, instance: Instance) -> None:
        """Remember a new granted instance."""
        self.data.instances.append(instance)
        self._index_instance(instance)

    def _index_instance(self, instance: Instance) -> None:
        self._instances.setdefault(instance.voucher_id, []).append(instance)
        key = (instance.voucher_id, instance.cm_id)
        self._held[key] = self._held.get(key, 0) + 1

    def granted(self, voucher_id: str) -> int:
        """How many instances of the voucher were granted."""
        return len(self._instances.get(voucher_id, ()))

    def held(self, voucher_id: str, customer_id: str) -> int:
        """How many instances of the voucher one customer holds."""
        return self._held.get((voucher_id, customer_id), 0)

    def listed_customers(self, voucher: Voucher) -> frozenset[str]:
        """The ids a ``tradeRange`` 2 voucher lists (cached: the list never changes)."""
        listed = self._listed.get(voucher.id)
        if listed is None:
            listed = self._listed[voucher.id] = frozenset(ref.id for ref in voucher.customers)
        return listed

    def next_seq(self) -> int:
        """The creation sequence number for the next voucher."""
        return len(self.data.vouchers) + 1

    def save(self) -> None:
        """Write the state file atomically (temporary file, then rename); no-op without one."""
        if self.path is None:
            return
        text = self.data.model_dump_json()
        directory = self.path.parent
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def _load(path: Path) -> StateData:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return StateData()
    except OSError as exc:
        raise UsageError(
            f"cannot read the sandbox state file: {exc}",
            where=Location(file=str(path)),
            hint="check the --state path and its permissions",
        ) from exc
    if not text.strip():
        return StateData()
    try:
        return StateData.model_validate_json(text)
    except ValidationError as exc:
        raise UsageError(
            f"{path} is not a sandbox state file ({exc.error_count()} problem(s))",
            where=Location(file=str(path)),
            hint="pass another --state file, or delete this one to start empty",
        ) from None
