"""A standalone simulator of the vendor's seven voucher endpoints (勤策/外勤365 OpenAPI).

Used by the tests, the demo and users' rehearsals (``runner sandbox``). It checks
signatures on its own (it never imports ``runner.api``), applies the vendor's business
rules, keeps its state in an optional JSON file, and injects seeded faults and rate limits.

Every answer to ``POST /api/voucher/v1/{operation}/{openid}/{timestamp}/{digest}/{msg_id}``
is HTTP 200 with the envelope ``{"return_code", "return_msg", "msg_id", "response_data"}``
(``response_data`` a JSON-encoded *string* or null), unless a fault or the ``http429``
rate mode says otherwise. Return codes -- the vendor publishes only "0" and "1"; the
others are this sandbox's invention:

======  =====================================================================
"0"     success
"1"     refused by a business rule or a bad field (missing, enum, date, ...)
"1001"  signature (digest) does not match -- 签名错误
"1002"  unknown openid
"1003"  timestamp malformed, or outside ``timestamp_window`` when one is set
"1004"  unknown operation
"1005"  rate limited (``rate_mode="refusal"``) -- 接口调用过于频繁,请稍后再试
======  =====================================================================

Ids are 19-digit strings everywhere, except ``id`` in getVoucherInfos' data, written as a
bare JSON number (as in the vendor's document) digit for digit. Decisions where the
document is silent: granting before a voucher's start date is allowed, after its end
date refused; finishing a finished voucher succeeds without change; ``page_length``
above 1000 is refused; receiveVoucherInfo answers ``response_data`` null;
queryVoucherUsedInfo pages like the other listings (at most 1,000 per answer) unless
``SandboxConfig.ignore_paging`` makes every listing answer everything at once.
The business rules are in ``_vouchers`` and ``_grants``; faults in ``_faults``.
"""

from __future__ import annotations

from ._app import create_app
from ._clock import BEIJING, Clock, ManualClock, beijing_now
from ._config import DEFAULT_APPKEY, DEFAULT_OPENID, SandboxConfig
from ._core import COUNTERS, Sandbox
from ._customers import (
    COLUMNS,
    Customer,
    CustomerRegistry,
    dimension_id,
    generate_customers,
    load_customers,
)
from ._faults import FaultConfig, FaultKind, FaultRule, Latency, parse_faults
from ._protocol import (
    CODE_BAD_OPENID,
    CODE_BAD_SIGNATURE,
    CODE_BAD_TIMESTAMP,
    CODE_FAILED,
    CODE_OK,
    CODE_TOO_FREQUENT,
    CODE_UNKNOWN_OPERATION,
    OPERATIONS,
)
from ._ratelimit import RateMode
from ._serve import serve
from ._server import SandboxServer
from ._signature import compute_digest

__all__ = [
    "BEIJING",
    "CODE_BAD_OPENID",
    "CODE_BAD_SIGNATURE",
    "CODE_BAD_TIMESTAMP",
    "CODE_FAILED",
    "CODE_OK",
    "CODE_TOO_FREQUENT",
    "CODE_UNKNOWN_OPERATION",
    "COLUMNS",
    "COUNTERS",
    "DEFAULT_APPKEY",
    "DEFAULT_OPENID",
    "OPERATIONS",
    "Clock",
    "Customer",
    "CustomerRegistry",
    "FaultConfig",
    "FaultKind",
    "FaultRule",
    "Latency",
    "ManualClock",
    "RateMode",
    "Sandbox",
    "SandboxConfig",
    "SandboxServer",
    "beijing_now",
    "compute_digest",
    "create_app",
    "dimension_id",
    "generate_customers",
    "load_customers",
    "parse_faults",
    "serve",
]
