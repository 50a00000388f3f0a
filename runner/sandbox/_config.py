"""How one sandbox is set up: credentials, rate, faults, customers, state file, seed, clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runner.errors import UsageError

from ._clock import Clock, beijing_now
from ._customers import Customer, CustomerRegistry, generate_customers, load_customers
from ._faults import FaultConfig, parse_faults
from ._ratelimit import RateMode

__all__ = ["DEFAULT_APPKEY", "DEFAULT_OPENID", "SandboxConfig"]

DEFAULT_OPENID = "sandbox-openid"
DEFAULT_APPKEY = "sandbox-appkey"


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox needs; every field has a usable default.

    Customers come from ``customers`` (given directly), else ``customers_file`` (CSV or
    XLSX), else ``generate`` made-up ones from ``seed``. ``faults`` takes a
    :class:`FaultConfig` or a spec string. ``timestamp_window`` (seconds) refuses
    timestamps that far from the sandbox clock; None (the default) accepts any valid one.

    Listings (getVoucherInfos, getCmInfos, queryVoucherUsedInfo) answer one page of at
    most 1,000 items, as ``page_number``/``page_length`` select. ``ignore_paging`` models
    a server that has no paging for them: it reads neither field and answers every item
    at once, the same answer for every page_number (no cap, so a client that pages until
    it sees a repeated page still gets everything).
    """

    openid: str = DEFAULT_OPENID
    appkey: str = field(default=DEFAULT_APPKEY, repr=False)
    host: str = "127.0.0.1"
    port: int = 0
    rate: float | None = None
    rate_mode: RateMode = "http429"
    faults: FaultConfig | str = field(default_factory=FaultConfig)
    customers: tuple[Customer, ...] | None = None
    customers_file: Path | None = None
    generate: int = 50
    state_file: Path | None = None
    seed: int = 0
    clock: Clock = beijing_now
    timestamp_window: float | None = None
    ignore_paging: bool = False

    def __post_init__(self) -> None:
        if self.rate is not None and self.rate <= 0:
            raise UsageError(f"rate {self.rate} is not positive", hint="pass a rate above 0")
        if self.rate_mode not in ("http429", "refusal"):
            raise UsageError(f"unknown rate mode {self.rate_mode!r}", hint="use http429 or refusal")
        if self.customers is not None and self.customers_file is not None:
            raise UsageError(
                "both customers and a customers file were given", hint="give only one of them"
            )
        if not self.openid or not self.appkey:
            raise UsageError("the sandbox openid and appkey must not be empty")
        self.fault_config()  # a bad spec fails here, before anything starts

    def fault_config(self) -> FaultConfig:
        """The faults as a parsed config."""
        return parse_faults(self.faults) if isinstance(self.faults, str) else self.faults

    def customer_registry(self) -> CustomerRegistry:
        """The customers this sandbox knows."""
        if self.customers is not None:
            return CustomerRegistry(self.customers)
        if self.customers_file is not None:
            return load_customers(self.customers_file)
        return generate_customers(self.generate, self.seed)
