"""What the sandbox remembers: vouchers and granted instances, optionally kept in a file.

The state file is JSON lines, append-only between compactions:

- line 1 is the whole state (:class:`StateData`), as one JSON document;
- every later line is what one :meth:`StateStore.save` changed: the vouchers and
  instances created or changed since the save before (each whole, replacing the one
  with its id) and the id counter. A grant appends one short line (~0.4 kB) instead of
  rewriting every grant made so far (69 grants/s at 10,000 grants before).

Opening the file replays the lines and *compacts* it: the whole state is written to a
temporary file as one line and renamed over the file, so a crash leaves the old file or
the new one. It is compacted again when a server stops, and never while it serves: a
compaction rewrites the whole state on the event loop (~2 s at 200,000 grants), a stall
every request would wait behind. A file that ends in a partial line (the process died
while appending) loses that line only, the change it was writing, whose request was
never answered; a damaged line anywhere else is refused. A file of the earlier format
(one JSON document) is line 1 of this one.

Durability: a save is one ``write`` to the file (unbuffered) before the request is
answered, so the line is in the kernel's page cache when the answer leaves and survives
a SIGKILL of the sandbox. It is not ``fsync``'d: only a crash of the machine itself could
lose it, and a rehearsal's vendor need not outlive its host (an fsync would cost ~1-10 ms
a grant, the whole budget of 1,000 grants/s). SQLite (WAL, ``synchronous=NORMAL``, as
durable against a process crash) was measured against this log: ~29 µs of CPU per grant
against ~13 µs here, and its file would no longer be the JSON document a stopped
sandbox leaves for people and tests to read.

What a save writes is tracked, not searched for: a voucher or instance joins the next
line when it is added, or when one of its fields is assigned (``voucher.is_finish =
"Y"``); a change inside a list field would not be seen, and none is made.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from runner.errors import Location, UsageError

from ._ids import make_id

__all__ = ["Instance", "Ref", "StateData", "StateStore", "Voucher"]

_M = TypeVar("_M", bound=BaseModel)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class _Stored(_Model):
    """A voucher or instance of a store: assigning a field puts it in the next save."""

    _pending: dict[int, _Stored] | None = PrivateAttr(default=None)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        pending = self._pending
        if pending is not None and name in type(self).model_fields:
            pending[id(self)] = self


class Ref(_Model):
    """A reference to something by id, code and/or name (empty when unknown)."""

    id: str = ""
    code: str = ""
    name: str = ""


class Voucher(_Stored):
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


class Instance(_Stored):
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


class _Saved(_Model):
    """One appended line: the objects one save changed, whole, and the id counter."""

    id_counter: int
    vouchers: list[Voucher] = Field(default_factory=list)
    instances: list[Instance] = Field(default_factory=list)


class StateStore:
    """Vouchers and instances in memory, indexed, and saved to ``path`` when given."""

    def __init__(self, path: Path | None, *, seed: int) -> None:
        self.path = path
        self.seed = seed
        self._pending: dict[int, _Stored] = {}
        self._log: BinaryIO | None = None
        self._head_bytes = 0
        self._saved_counter = 0
        self.data = StateData()
        if path is not None:
            self.data, replayed = _load(path)
            if replayed:
                self.compact()
            else:
                self._head_bytes = _first_line_size(path)
            for stored in [*self.data.vouchers, *self.data.instances]:
                _watch(stored, self._pending)
        self._saved_counter = self.data.id_counter
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
        self._track(voucher)

    def add_instance(self, instance: Instance) -> None:
        """Remember a new granted instance."""
        self.data.instances.append(instance)
        self._index_instance(instance)
        self._track(instance)

    def _track(self, stored: _Stored) -> None:
        if self.path is not None:
            _watch(stored, self._pending)
            self._pending[id(stored)] = stored

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
        """Append what changed since the last save as one line; no-op without a file.

        One unbuffered ``write`` of one line, before the request is answered: a process
        killed meanwhile leaves a partial last line, which the next open drops (see the
        module's docstring).
        """
        if self.path is None:
            return
        if not self._pending and self.data.id_counter == self._saved_counter:
            return
        if self._head_bytes == 0:  # a new (or empty) file: its first line is the state
            self._pending.clear()
            self._saved_counter = self.data.id_counter
            self.compact()
            return
        changed = list(self._pending.values())
        self._pending.clear()
        saved = _Saved(
            id_counter=self.data.id_counter,
            vouchers=[one for one in changed if isinstance(one, Voucher)],
            instances=[one for one in changed if isinstance(one, Instance)],
        )
        line = saved.model_dump_json().encode("utf-8") + b"\n"
        if self._log is None:
            self._log = self.path.open("ab", buffering=0)
        view = memoryview(line)
        while view:
            view = view[self._log.write(view) or 0 :]
        self._saved_counter = self.data.id_counter

    def compact(self) -> None:
        """Rewrite the file as one line holding the whole state (temporary file, then an
        atomic rename); no-op without a file. Called on open and when a server stops."""
        if self.path is None:
            return
        self.close()
        text = self.data.model_dump_json().encode("utf-8") + b"\n"
        directory = self.path.parent
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(text)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self._head_bytes = len(text)

    def close(self) -> None:
        """Close the file appended to (the next save opens it again)."""
        if self._log is not None:
            self._log.close()
            self._log = None


def _watch(stored: _Stored, pending: dict[int, _Stored]) -> None:
    """Let an assignment to one of *stored*'s fields put it into *pending*."""
    private = stored.__pydantic_private__
    if private is not None:  # always: _Stored has a private attribute
        private["_pending"] = pending


def _first_line_size(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return len(handle.readline())
    except FileNotFoundError:
        return 0


def _load(path: Path) -> tuple[StateData, bool]:
    """The state the file holds, and whether it has more than its first line (appended
    saves, or a partial line to drop): then it needs compacting."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return StateData(), False
    except OSError as exc:
        raise UsageError(
            f"cannot read the sandbox state file: {exc}",
            where=Location(file=str(path)),
            hint="check the --state path and its permissions",
        ) from exc
    lines = raw.splitlines(keepends=True)
    if not raw.strip():
        return StateData(), bool(raw)  # empty; whitespace is compacted away
    data = _parse(path, StateData, lines[0], 1)
    vouchers = {v.id: n for n, v in enumerate(data.vouchers)}
    instances = {i.id: n for n, i in enumerate(data.instances)}
    for number, line in enumerate(lines[1:], start=2):
        if number == len(lines) and not line.endswith(b"\n"):
            try:
                saved = _Saved.model_validate_json(line)
            except ValidationError:
                break  # the last save was cut short by a crash: never answered, dropped
        else:
            saved = _parse(path, _Saved, line, number)
        data.id_counter = max(data.id_counter, saved.id_counter)
        for voucher in saved.vouchers:
            _upsert(data.vouchers, vouchers, voucher)
        for instance in saved.instances:
            _upsert(data.instances, instances, instance)
    # more than one line, or one without its newline (the earlier format): compact
    return data, len(lines) > 1 or not raw.endswith(b"\n")


def _upsert(items: list[Any], where: dict[str, int], item: Voucher | Instance) -> None:
    at = where.get(item.id)
    if at is None:
        where[item.id] = len(items)
        items.append(item)
    else:
        items[at] = item


def _parse(path: Path, model: type[_M], line: bytes, number: int) -> _M:
    try:
        return model.model_validate_json(line)
    except ValidationError as exc:
        where = "" if number == 1 else f" (line {number})"
        raise UsageError(
            f"{path} is not a sandbox state file{where} ({exc.error_count()} problem(s))",
            where=Location(file=str(path), row=number if number > 1 else None),
            hint="pass another --state file, or delete this one to start empty",
        ) from None
