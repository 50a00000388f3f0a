"""The pure reconciliation decisions of runner.execute."""

from __future__ import annotations

from runner.execute import matches_payload, settle_customer, settle_voucher

PAYLOAD: dict[str, object] = {
    "name": "满100减10",
    "startDate": "2027-03-01",
    "endDate": "2027-03-31",
    "money": "10.00",
    "doorsillType": "Y",
    "doorsillAmount": "100",
    "payType": "UNLIMITED",
    "tradeRange": "2",
    "prodMode": "ALL",
    "num": 54,
    "eachCmNum": 3,
    "remark": "说明",
}


def remote(voucher_id: str, **changes: object) -> dict[str, object]:
    item: dict[str, object] = {
        **PAYLOAD,
        "id": voucher_id,
        "num": "54",
        "money": "10.0",
        "doorsillAmount": "100.00",
    }
    item.update(changes)
    return item


def test_lost_grants_are_adopted_lowest_sequence_first() -> None:
    """Extra remote instances are adopted by the unknown jobs with the lowest seq."""
    decisions = settle_customer(["j1", "j2", "j3"], remote=3, confirmed=1)
    assert [d.outcome for d in decisions] == ["adopt", "adopt", "resend"]
    assert [d.job_id for d in decisions] == ["j1", "j2", "j3"]


def test_absent_grants_are_sent_again() -> None:
    """With no extra remote instance every unknown job is proven absent."""
    decisions = settle_customer(["j1", "j2"], remote=1, confirmed=1)
    assert {d.outcome for d in decisions} == {"resend"}


def test_more_remote_than_unknown_adopts_all_unknown() -> None:
    """Remote instances beyond the unknown jobs never make a job resend."""
    decisions = settle_customer(["j1"], remote=5, confirmed=1)
    assert [d.outcome for d in decisions] == ["adopt"]


def test_remote_below_ledger_needs_review() -> None:
    """A remote count below the confirmed grants cannot be explained: a person decides."""
    decisions = settle_customer(["j1"], remote=0, confirmed=2)
    assert decisions[0].outcome == "review"
    assert "ledger confirms 2" in decisions[0].reason


def test_payload_matches_remote_with_other_number_formats() -> None:
    """Amounts compare as decimals and counts as text, whatever format the server uses."""
    assert matches_payload(PAYLOAD, remote("1"))


def test_payload_differs_on_any_fingerprinted_field() -> None:
    """A different name, date, count or amount is another voucher."""
    changes: list[dict[str, object]] = [
        {"name": "x"},
        {"endDate": "2027-04-01"},
        {"num": 55},
        {"money": "9.99"},
        {"remark": "其他说明"},
    ]
    for change in changes:
        assert not matches_payload(PAYLOAD, remote("1", **change)), change


def test_finished_or_incomplete_remote_vouchers_never_match() -> None:
    """A finished voucher, or one lacking a required field, is not our lost create."""
    assert not matches_payload(PAYLOAD, remote("1", isFinish="Y"))
    incomplete = remote("1")
    del incomplete["endDate"]
    assert not matches_payload(PAYLOAD, incomplete)


def test_one_match_is_adopted() -> None:
    """Exactly one matching remote voucher is ours."""
    decision = settle_voucher(
        PAYLOAD, [remote("111"), remote("222", name="other")], owned_ids=frozenset()
    )
    assert decision.outcome == "adopt"
    assert decision.remote_id == "111"


def test_vouchers_owned_by_other_keys_are_not_candidates() -> None:
    """A remote voucher another key already owns is never adopted twice."""
    decision = settle_voucher(PAYLOAD, [remote("111")], owned_ids=frozenset({"111"}))
    assert decision.outcome == "resend"


def test_several_matches_go_to_review() -> None:
    """Two identical remote vouchers: never guess."""
    decision = settle_voucher(PAYLOAD, [remote("111"), remote("222")], owned_ids=frozenset())
    assert decision.outcome == "review"
    assert "111" in decision.reason
    assert "222" in decision.reason
