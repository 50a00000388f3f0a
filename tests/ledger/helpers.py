"""Helpers for the ledger tests: small plans, reaching a state, reading the file raw."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from runner.ledger import JobRow, JobState, Ledger, VoucherRow, VoucherState

CAMPAIGN = "spring-2025"
BIG_ID = "6856083179295188426"  # 19 digits, beyond 2**53
VOUCHER = "ten-off"


def voucher_row(key: str = VOUCHER, fingerprint: str = "fp-1") -> VoucherRow:
    """A voucher of the plan with a typical addVoucherInfo payload."""
    fields: dict[str, object] = {
        "name": "十元券",
        "startDate": "2025-03-01",
        "endDate": "2025-03-31",
        "money": "10",
        "num": 3,
        "eachCmNum": 1,
        "tradeRange": "2",
        "grantType": "HDFF",
    }
    return VoucherRow(voucher_key=key, fingerprint=fingerprint, fields=fields)


def job_row(
    job_id: str, voucher_key: str = VOUCHER, customer_key: str = "c1", seq: int = 1
) -> JobRow:
    """A grant job of the plan."""
    return JobRow(
        job_id=job_id,
        voucher_key=voucher_key,
        audience="vip",
        customer_key=customer_key,
        key_kind="cm_id",
        seq=seq,
        customer_name="张三",
    )


def seed(ledger: Ledger, *job_ids: str) -> None:
    """Sync a plan with one voucher and one job per id (customers c-<id>)."""
    jobs = [job_row(job_id, customer_key=f"c-{job_id}") for job_id in job_ids]
    report = ledger.sync_plan("hash-1", [voucher_row()], jobs)
    assert report.applied


def _job_steps() -> dict[JobState, list[Callable[[Ledger, str], None]]]:
    def send(ledger: Ledger, job_id: str) -> None:
        ledger.mark_sending(job_id, f"msg-{job_id}")

    def done(ledger: Ledger, job_id: str) -> None:
        ledger.mark_done(job_id, remote_ref=BIG_ID)

    def fail(ledger: Ledger, job_id: str) -> None:
        ledger.mark_failed(job_id, return_code="1", return_msg="客户不存在")

    def lose(ledger: Ledger, job_id: str) -> None:
        ledger.mark_unknown(job_id, error="read timeout")

    def review(ledger: Ledger, job_id: str) -> None:
        ledger.mark_review(job_id, reason="two grants found")

    return {
        "planned": [],
        "sending": [send],
        "done": [send, done],
        "failed": [send, fail],
        "unknown": [send, lose],
        "review": [send, lose, review],
    }


JOB_STEPS = _job_steps()


def reach_job(ledger: Ledger, job_id: str, state: JobState) -> None:
    """Move a planned job to ``state`` by legal transitions."""
    for step in JOB_STEPS[state]:
        step(ledger, job_id)
    assert ledger.job(job_id).state == state


def _voucher_steps() -> dict[VoucherState, list[Callable[[Ledger, str], None]]]:
    def send(ledger: Ledger, key: str) -> None:
        ledger.mark_voucher_sending(key, f"msg-{key}")

    def create(ledger: Ledger, key: str) -> None:
        ledger.mark_voucher_created(key, remote_id=BIG_ID)

    def fail(ledger: Ledger, key: str) -> None:
        ledger.mark_voucher_failed(key, return_code="1", return_msg="名称重复")

    def lose(ledger: Ledger, key: str) -> None:
        ledger.mark_voucher_unknown(key, error="connection reset")

    def review(ledger: Ledger, key: str) -> None:
        ledger.mark_voucher_review(key, reason="two vouchers match")

    return {
        "planned": [],
        "sending": [send],
        "created": [send, create],
        "failed": [send, fail],
        "unknown": [send, lose],
        "review": [send, lose, review],
    }


VOUCHER_STEPS = _voucher_steps()


def reach_voucher(ledger: Ledger, key: str, state: VoucherState) -> None:
    """Move a planned voucher to ``state`` by legal transitions."""
    for step in VOUCHER_STEPS[state]:
        step(ledger, key)
    assert ledger.voucher(key).state == state


def raw(path: Path) -> sqlite3.Connection:
    """A second, plain connection to the ledger file (to look at what is really stored)."""
    return sqlite3.connect(path)


def table_dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every ledger table, to compare before and after."""
    with raw(path) as conn:
        tables = ["meta", "runs", "vouchers", "jobs", "events"]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
