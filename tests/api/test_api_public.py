"""Promises of runner.api beyond its surface (checked for every package in test_public_api)."""

from __future__ import annotations

import runner.api


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
