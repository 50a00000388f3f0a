"""The voucher OpenAPI: signing, envelope decoding, outcome classification, the async client.

This package knows nothing of campaigns: it turns calls into signed requests and
answers into values or into exactly one of NotSent, PushedBack, OutcomeUnknown, Refused.
"""

from __future__ import annotations

from runner.api._client import VoucherClient
from runner.api._credentials import (
    DEFAULT_BASE_URL,
    ENV_APPKEY,
    ENV_BASE_URL,
    ENV_OPENID,
    Credentials,
)
from runner.api._envelope import Envelope, decode_envelope
from runner.api._models import (
    CUSTOMER_KEYS,
    MAX_PAGE_LENGTH,
    OPERATIONS,
    AddVoucherRequest,
    AddVoucherResponse,
    CmDepartment,
    CmDistrict,
    CmInfo,
    CmLabel,
    CmLevel,
    CmType,
    FinishVoucherRequest,
    GetCmInfosRequest,
    GetVoucherInfosRequest,
    ModifyVoucherEndDateRequest,
    Operation,
    PdInfo,
    ProdBrand,
    ProdType,
    QueryVoucherUsedInfoRequest,
    ReceiveVoucherRequest,
    UseStatus,
    VoucherInfo,
    VoucherUsage,
)
from runner.api._oneshot import call_once, format_response, parse_payload
from runner.api._outcome import (
    DEFAULT_PUSHBACK_PATTERNS,
    HTTPX_OUTCOMES,
    MAX_HONOURED_RETRY_AFTER_S,
    OutcomeRules,
    check_response,
    is_safe_to_retry,
    outcome_for_exception_type,
    parse_retry_after,
    retry_wait,
)
from runner.api._signing import beijing_timestamp, new_msg_id, sign
from runner.api._throttle import NoThrottle, Throttle

__all__ = [
    "CUSTOMER_KEYS",
    "DEFAULT_BASE_URL",
    "DEFAULT_PUSHBACK_PATTERNS",
    "ENV_APPKEY",
    "ENV_BASE_URL",
    "ENV_OPENID",
    "HTTPX_OUTCOMES",
    "MAX_HONOURED_RETRY_AFTER_S",
    "MAX_PAGE_LENGTH",
    "OPERATIONS",
    "AddVoucherRequest",
    "AddVoucherResponse",
    "CmDepartment",
    "CmDistrict",
    "CmInfo",
    "CmLabel",
    "CmLevel",
    "CmType",
    "Credentials",
    "Envelope",
    "FinishVoucherRequest",
    "GetCmInfosRequest",
    "GetVoucherInfosRequest",
    "ModifyVoucherEndDateRequest",
    "NoThrottle",
    "Operation",
    "OutcomeRules",
    "PdInfo",
    "ProdBrand",
    "ProdType",
    "QueryVoucherUsedInfoRequest",
    "ReceiveVoucherRequest",
    "Throttle",
    "UseStatus",
    "VoucherClient",
    "VoucherInfo",
    "VoucherUsage",
    "beijing_timestamp",
    "call_once",
    "check_response",
    "decode_envelope",
    "format_response",
    "is_safe_to_retry",
    "new_msg_id",
    "outcome_for_exception_type",
    "parse_payload",
    "parse_retry_after",
    "retry_wait",
    "sign",
]
