"""The pure reconciliation decisions of runner.execute, and how reconciliation records
them: a job a refusal left unknown is told apart by its typed flag, never by its text."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import httpx

from runner.api import Credentials, VoucherClient
from runner.execute import (
    AdaptiveThrottle,
    ExecSettings,
    RunContext,
    matches_payload,
    settle_customer,
    settle_voucher,
)
from runner.execute._grants import grant_one
from runner.execute._reconcile import reconcile_jobs
from runner.ledger import LEDGER_FILE, JobRow, Ledger, VoucherRow
from tests.ledger.helpers import BIG_ID, CAMPAIGN, VOUCHER, write_v1_ledger

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


class _Holding:
    """queryVoucherUsedInfo answers, for unused instances, *held[customer]* instances of
    each customer (by cm_id) and none otherwise."""

    def __init__(self, held: dict[str, int]) -> None:
        self.held = held
        self._ids = itertools.count(1)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        items = [
            {"id": str(next(self._ids)), "cm_id": customer, "voucher_id": BIG_ID, "use_status": "0"}
            for customer, n in self.held.items()
            for _ in range(n)
            if body.get("voucherStatus") == "0"
        ]
        data = json.dumps(items)
        envelope = {"return_code": "0", "return_msg": "ok", "msg_id": "m", "response_data": data}
        return httpx.Response(200, json=envelope)


def _context(ledger: Ledger, vendor: httpx.MockTransport) -> RunContext:
    """A run context whose client talks to *vendor*, with short settle waits."""
    creds = Credentials(openid="settle-openid", appkey="settle-key", base_url="https://v.example")
    client = VoucherClient(creds, transport=vendor)
    return RunContext(ledger, client, AdaptiveThrottle(100.0, 2), ExecSettings(settle_s=0.01))


def _reconcile(ledger: Ledger, held: dict[str, int]) -> int:
    """Run reconciliation of the ledger's unknown jobs against a vendor holding *held*."""
    ctx = _context(ledger, httpx.MockTransport(_Holding(held)))

    async def go() -> int:
        async with ctx.client:
            return await reconcile_jobs(ctx, {VOUCHER: BIG_ID})

    return asyncio.run(go())


def _created_with_jobs(ledger: Ledger, *job_ids: str, sending: bool = True) -> None:
    """A created voucher with one job per id, for customer c-<id>, each in sending (or
    still planned)."""
    jobs = [JobRow(j, VOUCHER, "vip", f"c-{j}", "cm_id", 1) for j in job_ids]
    ledger.sync_plan("h", [VoucherRow(VOUCHER, "fp", {"name": "券"})], jobs)
    ledger.mark_voucher_sending(VOUCHER, "m-v")
    ledger.mark_voucher_created(VOUCHER, remote_id=BIG_ID)
    for job_id in job_ids if sending else ():
        ledger.mark_sending(job_id, f"m-{job_id}")


def test_reconciliation_fails_refused_jobs_proven_absent_and_resends_lost_ones(
    tmp_path: Path,
) -> None:
    """Absent remotely, a job a limit refusal left unknown is failed with the server's
    words kept, a lost one is planned again, and a refused one the remote holds is adopted."""
    with Ledger.open(tmp_path, CAMPAIGN) as ledger:
        _created_with_jobs(ledger, "limit", "lost", "held")
        for job_id in ("limit", "held"):
            ledger.mark_unknown_refused(job_id, return_code="1", return_msg="超出单客户限领数量")
        ledger.mark_unknown("lost", error="refused: the text alone decides nothing")
        assert _reconcile(ledger, {"c-held": 1}) == 3
        jobs = {j.job_id: j for j in ledger.jobs(active=None)}
    assert {j: (job.state, job.refused) for j, job in jobs.items()} == {
        "limit": ("failed", True),
        "lost": ("planned", False),
        "held": ("done", False),
    }
    assert (jobs["limit"].return_code, jobs["limit"].return_msg) == ("1", "超出单客户限领数量")


def test_a_v1_ledger_keeps_its_refusals_through_the_upgrade_into_reconciliation(
    tmp_path: Path,
) -> None:
    """A v1 job that a limit refusal left unknown (the old text prefix) is failed by
    reconciliation after the upgrade, not sent again; a lost one is planned again."""
    write_v1_ledger(tmp_path / CAMPAIGN / LEDGER_FILE)
    with Ledger.open(tmp_path, CAMPAIGN) as ledger:
        assert _reconcile(ledger, {}) == 2
        states = {j.job_id: j.state for j in ledger.jobs(active=None)}
    assert (states["limit"], states["lost"]) == ("failed", "planned")


def _refusing(message: str) -> httpx.MockTransport:
    """A vendor that refuses every call with return_code 1 and *message*."""
    envelope = {"return_code": "1", "return_msg": message, "msg_id": "m", "response_data": None}
    return httpx.MockTransport(lambda request: httpx.Response(200, json=envelope))


def _grant(ledger: Ledger, job_id: str, vendor: httpx.MockTransport) -> None:
    """Run the grant phase's one call for a planned job against *vendor*."""
    ctx = _context(ledger, vendor)

    async def go() -> None:
        async with ctx.client:
            await grant_one(ctx, ledger.job(job_id), BIG_ID)

    asyncio.run(go())


def test_a_limit_refusal_leaves_the_grant_unknown_and_refused_another_fails_it(
    tmp_path: Path,
) -> None:
    """The grant phase reads refusals through the outcome table: a limit leaves the job for
    reconciliation with the flag set, any other refusal fails it; both keep the words."""
    with Ledger.open(tmp_path, CAMPAIGN) as ledger:
        _created_with_jobs(ledger, "limit", "no", sending=False)
        _grant(ledger, "limit", _refusing("超出单客户限领数量"))
        _grant(ledger, "no", _refusing("客户不存在"))
        jobs = {j.job_id: (j.state, j.refused, j.return_msg) for j in ledger.jobs()}
    assert jobs == {
        "limit": ("unknown", True, "超出单客户限领数量"),
        "no": ("failed", True, "客户不存在"),
    }
