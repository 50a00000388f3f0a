"""Injected faults: parse a spec string, then decide per request with a seeded generator.

Spec: comma-separated ``kind[@operation]=value`` items, for example
``lost_response=0.05,http_5xx=0.02,reset=0.01,latency=20ms~10ms,lost_response@receiveVoucherInfo=0.3``.

- ``reset=RATE``: drop the connection before processing (the request is NOT applied).
- ``http_5xx=RATE``: answer 502 or 500 with an HTML body (the request is NOT applied).
- ``lost_response=RATE``: apply the request, then drop the connection without an answer;
  with ``lost_response_delay=DURATION`` the answer is sent that late instead (past the
  client's timeout) or never, if the client hangs up first.
- ``latency=FIXED[~JITTER]``: wait FIXED plus up to JITTER before every request.

Durations are ``20ms``, ``1.5s`` or bare seconds. An ``@operation`` item overrides the
global item of the same kind for that operation. At most one of reset, http_5xx and
lost_response happens to one request; their rates for any operation add up to ≤ 1.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal, get_args

from runner.errors import UsageError

from ._protocol import OPERATIONS

__all__ = [
    "FaultConfig",
    "FaultDecision",
    "FaultInjector",
    "FaultKind",
    "FaultRule",
    "Latency",
    "parse_faults",
]

FaultKind = Literal["reset", "http_5xx", "lost_response"]
_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
_HINT = (
    "write items like lost_response=0.05,http_5xx=0.02,reset=0.01,latency=20ms~10ms "
    "or lost_response@receiveVoucherInfo=0.3"
)
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(ms|s)?")


@dataclass(frozen=True)
class FaultRule:
    """One fault kind at a rate in [0, 1], for one operation or (None) all of them."""

    kind: FaultKind
    rate: float
    operation: str | None = None


@dataclass(frozen=True)
class Latency:
    """Added delay: ``fixed`` seconds plus a uniform draw from ``[0, jitter]``."""

    fixed: float
    jitter: float = 0.0
    operation: str | None = None


@dataclass(frozen=True)
class FaultConfig:
    """Every configured fault; the empty config injects nothing."""

    rules: tuple[FaultRule, ...] = ()
    latencies: tuple[Latency, ...] = ()
    lost_response_delay: float | None = None

    def rate(self, kind: FaultKind, operation: str) -> float:
        """The rate of ``kind`` for ``operation`` (a scoped rule wins over a global one)."""
        rules = [r for r in self.rules if r.kind == kind]
        chosen = [r for r in rules if r.operation == operation] or [
            r for r in rules if r.operation is None
        ]
        return chosen[0].rate if chosen else 0.0

    def latency(self, operation: str) -> Latency | None:
        """The latency that applies to ``operation``, if any."""
        chosen = [lat for lat in self.latencies if lat.operation == operation] or [
            lat for lat in self.latencies if lat.operation is None
        ]
        return chosen[0] if chosen else None

    def describe(self) -> str:
        """The config as a normalised spec string (parses back to an equal config)."""
        items = [f"{r.kind}{_at(r.operation)}={r.rate:.10g}" for r in self.rules]
        items += [
            f"latency{_at(lat.operation)}={_ms(lat.fixed)}~{_ms(lat.jitter)}"
            for lat in self.latencies
        ]
        if self.lost_response_delay is not None:
            items.append(f"lost_response_delay={_ms(self.lost_response_delay)}")
        return ",".join(items)


def _at(operation: str | None) -> str:
    return "" if operation is None else f"@{operation}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.10g}ms"


def parse_faults(spec: str) -> FaultConfig:
    """Parse a fault spec (see the module docstring); raise UsageError naming the bad item."""
    rules: list[FaultRule] = []
    latencies: list[Latency] = []
    delay: float | None = None
    seen: set[str] = set()
    items = [item.strip() for item in spec.split(",") if item.strip()]
    for position, item in enumerate(items, start=1):
        name, operation, value = _split(item, position)
        key = name + _at(operation)
        if key in seen:
            raise _error(position, item, f"{key} is given twice")
        seen.add(key)
        if name == "latency":
            latencies.append(_latency(value, operation, position, item))
        elif name == "lost_response_delay":
            if operation is not None:
                raise _error(position, item, "lost_response_delay applies to every operation")
            delay = _duration(value, position, item)
        else:
            kind, rate = _kind(name, position, item), _rate(value, position, item)
            rules.append(FaultRule(kind, rate, operation))
    config = FaultConfig(tuple(rules), tuple(latencies), delay)
    _check_sums(config)
    return config


def _split(item: str, position: int) -> tuple[str, str | None, str]:
    key, sep, value = item.partition("=")
    if not sep or not value.strip():
        raise _error(position, item, "expected kind=value")
    name, at, operation = key.strip().partition("@")
    if at and operation.strip() not in OPERATIONS:
        raise _error(
            position,
            item,
            f"unknown operation {operation.strip()!r} (known: {', '.join(OPERATIONS)})",
        )
    return name.strip(), operation.strip() if at else None, value.strip()


def _kind(name: str, position: int, item: str) -> FaultKind:
    for kind in _KINDS:
        if kind == name:
            return kind
    known = ", ".join((*_KINDS, "latency", "lost_response_delay"))
    raise _error(position, item, f"unknown fault kind {name!r} (known: {known})")


def _rate(value: str, position: int, item: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise _error(position, item, f"rate {value!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:
        raise _error(position, item, f"rate {value} is not between 0 and 1")
    return rate


def _duration(value: str, position: int, item: str) -> float:
    match = _DURATION.fullmatch(value.strip())
    if match is None:
        raise _error(position, item, f"duration {value!r} is not like 20ms, 1.5s or 2")
    number = float(match.group(1))
    return number / 1000 if match.group(2) == "ms" else number


def _latency(value: str, operation: str | None, position: int, item: str) -> Latency:
    fixed, _, jitter = value.partition("~")
    return Latency(
        _duration(fixed, position, item),
        _duration(jitter, position, item) if jitter else 0.0,
        operation,
    )


def _check_sums(config: FaultConfig) -> None:
    for operation in OPERATIONS:
        total = sum(config.rate(kind, operation) for kind in _KINDS)
        if total > 1.0 + 1e-9:
            raise UsageError(
                f"fault rates for {operation} add up to {total:g}, more than 1",
                hint="lower the rates: at most one fault happens to each request",
            )


def _error(position: int, item: str, problem: str) -> UsageError:
    return UsageError(f"fault spec item {position} {item!r}: {problem}", hint=_HINT)


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one request: a fault kind (or None), its 5xx status, its delay."""

    kind: FaultKind | None
    delay: float = 0.0
    status: int = 0


class FaultInjector:
    """Decides faults per request from a seeded generator: same seed, same decisions."""

    def __init__(self, config: FaultConfig, seed: int) -> None:
        self.config = config
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        """Restart both generators from ``seed``."""
        self._faults = random.Random(f"faults:{seed}")
        self._latency = random.Random(f"latency:{seed}")

    def decide(self, operation: str) -> FaultDecision:
        """One draw per request decides its fault; latency comes from its own generator."""
        latency = self.config.latency(operation)
        delay = 0.0
        if latency is not None:
            delay = latency.fixed + self._latency.uniform(0.0, latency.jitter)
        draw = self._faults.random()
        threshold = 0.0
        for kind in _KINDS:
            threshold += self.config.rate(kind, operation)
            if draw < threshold:
                status = (502 if self._faults.random() < 0.5 else 500) if kind == "http_5xx" else 0
                return FaultDecision(kind, delay, status)
        return FaultDecision(None, delay)
