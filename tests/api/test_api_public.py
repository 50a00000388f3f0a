"""The package's public API is pinned."""

from __future__ import annotations

import runner.api

EXPECTED = [
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


def test_all_is_pinned() -> None:
    """runner.api.__all__ is exactly the expected list and every name exists."""
    assert runner.api.__all__ == EXPECTED
    assert all(hasattr(runner.api, name) for name in EXPECTED)


def test_seven_operations() -> None:
    """OPERATIONS are the seven documented wire names."""
    assert set(runner.api.OPERATIONS) == {
        "getVoucherInfos",
        "addVoucherInfo",
        "finishVoucher",
        "modifyVoucherEndDate",
        "receiveVoucherInfo",
        "getCmInfos",
        "queryVoucherUsedInfo",
    }


def test_no_throttle_is_a_throttle() -> None:
    """NoThrottle satisfies the Throttle protocol and grants a slot immediately."""
    throttle: runner.api.Throttle = runner.api.NoThrottle()
    with throttle.slot() as held:  # type: ignore[attr-defined]
        assert held is None
