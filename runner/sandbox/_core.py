"""The sandbox itself, apart from HTTP: check a request, run its operation, count it all.

Per-operation counters (``GET /sandbox/inspect``): ``received`` every request,
``rate_limited`` pushed back, ``reset``/``http_5xx``/``lost_response`` faults injected,
``refused`` answered with a return_code other than "0", ``accepted`` answered "0" (or
would have been, when the answer was then lost) and ``applied`` accepted *and* changed
the state (created, finished, changed or granted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runner.errors import Refused

from ._config import SandboxConfig
from ._context import Context, Outcome
from ._customers import DIMENSIONS
from ._faults import FaultInjector, parse_faults
from ._grants import (
    MarkOrder,
    get_cm_infos,
    mark_instances,
    query_voucher_used_info,
    receive,
)
from ._payload import Payload, decode_body
from ._protocol import CODE_OK, CODE_UNKNOWN_OPERATION, OPERATIONS
from ._ratelimit import RateLimiter
from ._signature import check_request
from ._state import StateStore
from ._vouchers import (
    add_voucher_info,
    finish_voucher,
    get_voucher_infos,
    modify_voucher_end_date,
)

__all__ = ["COUNTERS", "Answer", "Sandbox"]

Handler = Callable[[Context, Payload], Outcome]

_HANDLERS: dict[str, Handler] = {
    "getVoucherInfos": get_voucher_infos,
    "addVoucherInfo": add_voucher_info,
    "finishVoucher": finish_voucher,
    "modifyVoucherEndDate": modify_voucher_end_date,
    "receiveVoucherInfo": receive,
    "getCmInfos": get_cm_infos,
    "queryVoucherUsedInfo": query_voucher_used_info,
}
assert tuple(_HANDLERS) == OPERATIONS

COUNTERS: tuple[str, ...] = (
    "received",
    "rate_limited",
    "reset",
    "http_5xx",
    "lost_response",
    "refused",
    "accepted",
    "applied",
)
_UNKNOWN = "(unknown)"


@dataclass(frozen=True)
class Answer:
    """What the envelope says: ``return_code``, ``return_msg`` and ``response_data``."""

    code: str
    message: str | None = None
    data: str | None = None


class Sandbox:
    """State, customers, faults, rate limit and counters of one simulated vendor."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.context = Context(
            store=_store(config),
            customers=config.customer_registry(),
            clock=config.clock,
            ignore_paging=config.ignore_paging,
        )
        self.faults = FaultInjector(config.fault_config(), config.seed)
        self.limiter = RateLimiter(config.rate)
        self.counters: dict[str, dict[str, int]] = {}

    def count(self, operation: str, counter: str) -> None:
        """Add one to a counter of an operation (unknown operations share one row)."""
        key = operation if operation in _HANDLERS else _UNKNOWN
        row = self.counters.setdefault(key, dict.fromkeys(COUNTERS, 0))
        row[counter] += 1

    def answer(
        self, *, operation: str, openid: str, timestamp: str, digest: str, body: bytes
    ) -> Answer:
        """Check the signature, then run the operation; refusals become non-"0" answers."""
        handler = _HANDLERS.get(operation)
        try:
            if handler is None:
                raise Refused(
                    operation=operation,
                    return_code=CODE_UNKNOWN_OPERATION,
                    return_msg=f"接口不存在或未授权:{operation}",
                )
            refusal = check_request(
                operation=operation,
                openid=openid,
                timestamp=timestamp,
                digest=digest,
                body=body,
                expected_openid=self.config.openid,
                appkey=self.config.appkey,
                clock=self.config.clock,
                window_seconds=self.config.timestamp_window,
            )
            if refusal is not None:
                raise refusal
            outcome = handler(self.context, decode_body(operation, body))
        except Refused as refused:
            self.count(operation, "refused")
            return Answer(refused.return_code, refused.return_msg)
        self.count(operation, "accepted")
        if outcome.applied:
            self.count(operation, "applied")
        return Answer(CODE_OK, None, outcome.data)

    def set_faults(self, spec: str, seed: int | None = None) -> str:
        """Replace the fault config (and restart its generator when ``seed`` is given)."""
        self.faults.config = parse_faults(spec)
        if seed is not None:
            self.faults.reseed(seed)
        return self.faults.config.describe()

    def reset_counters(self) -> None:
        """Zero every request counter."""
        self.counters.clear()

    def mark(
        self, voucher_id: str, used: int, expired: int, order: MarkOrder | None = None
    ) -> dict[str, object]:
        """Mark instances used (by *order*) or expired (see ``POST /sandbox/mark``)."""
        return mark_instances(self.context, voucher_id, used, expired, order)

    def inspect(self) -> dict[str, object]:
        """Everything a test may want to check, as JSON-ready data (ids as strings)."""
        store = self.context.store
        grants: dict[str, dict[str, dict[str, object]]] = {}
        for voucher in store.vouchers():
            held: dict[str, list[str]] = {}
            for instance in store.instances(voucher.id):
                held.setdefault(instance.cm_id, []).append(instance.id)
            grants[voucher.id] = {
                cm_id: {"count": len(ids), "instance_ids": ids} for cm_id, ids in held.items()
            }
        customers = self.context.customers
        return {
            "vouchers": [v.model_dump() for v in store.vouchers()],
            "grants": grants,
            "instances": {
                v.id: [i.model_dump() for i in store.instances(v.id)] for v in store.vouchers()
            },
            "counters": {op: dict(row) for op, row in self.counters.items()},
            "customers": {
                "count": len(customers),
                "dimensions": {d.key: customers.catalogue(d.key) for d in DIMENSIONS},
            },
            "faults": self.faults.config.describe(),
            "rate": self.config.rate,
            "rate_mode": self.config.rate_mode,
            "ignore_paging": self.config.ignore_paging,
        }


def _store(config: SandboxConfig) -> StateStore:
    return StateStore(config.state_file, seed=config.seed)
