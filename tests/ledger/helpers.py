"""Helpers for the ledger tests: small plans, reaching a state, reading the file raw."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from runner.ledger import JobRow, JobState, Ledger, VoucherRow, VoucherState

CAMPAIGN = "spring-2025"
BIG_ID = "6856083179295188426"  # 19 digits, beyond 2**53
VOUCHER = "ten-off"
V1_DDL = Path(__file__).with_name("schema_v1.sql")


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


LIMIT_MSG = "超出单客户限领数量"


def reach_refused_unknown(ledger: Ledger, job_id: str) -> None:
    """Move a planned job to ``unknown`` by a limit refusal (``refused`` set)."""
    ledger.mark_sending(job_id, f"msg-{job_id}")
    ledger.mark_unknown_refused(job_id, return_code="1", return_msg=LIMIT_MSG)
    job = ledger.job(job_id)
    assert (job.state, job.refused) == ("unknown", True)


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


#: The jobs of a schema version 1 ledger: state, ``last_error``, and whether version 2
#: reads the job as refused (only an unknown or failed job with the old prefix is).
V1_JOBS: dict[str, tuple[JobState, str | None, bool]] = {
    "limit": ("unknown", "refused: return_code=1 return_msg=超出单客户限领数量", True),
    "lost": ("unknown", "receiveVoucherInfo: outcome unknown (ReadTimeout: timed out)", False),
    "said-no": ("failed", "refused: return_code=1 return_msg=客户不存在", True),
    "given-up": ("failed", "marked failed in review: the shop closed", False),
    "retried": ("planned", "refused: return_code=1 return_msg=客户不存在", False),
    "adopted": ("done", "refused: return_code=1 return_msg=超出单客户限领数量", False),
    "fresh": ("planned", None, False),
}
_V1_AT = "2025-03-01T10:00:00.000+08:00"


def write_v1_ledger(path: Path, campaign: str = CAMPAIGN) -> None:
    """A schema version 1 ledger file as that runner left it: WAL, closed, checkpointed.

    Its voucher is created (remote id :data:`BIG_ID`); its jobs are :data:`V1_JOBS`, each
    for customer ``c-<job id>``, with one event each.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(V1_DDL.read_text(encoding="utf-8"))
        conn.execute("INSERT INTO meta (key, value) VALUES ('campaign', ?)", (campaign,))
        conn.execute(
            "INSERT INTO vouchers (voucher_key, fingerprint, fields, state, remote_id, updated_at)"
            " VALUES (?, 'fp-1', '{}', 'created', ?, ?)",
            (VOUCHER, BIG_ID, _V1_AT),
        )
        for job_id, (state, last_error, _) in V1_JOBS.items():
            conn.execute(
                "INSERT INTO jobs (job_id, voucher_key, audience, customer_key, key_kind, seq,"
                " state, last_error, updated_at) VALUES (?, ?, 'vip', ?, 'cm_id', 1, ?, ?, ?)",
                (job_id, VOUCHER, f"c-{job_id}", state, last_error, _V1_AT),
            )
            conn.execute(
                "INSERT INTO events (at, entity_kind, entity_id, to_state, detail)"
                " VALUES (?, 'job', ?, ?, '{}')",
                (_V1_AT, job_id, state),
            )
        conn.execute("PRAGMA user_version = 1")
    finally:
        conn.close()


#: Version 2's ``jobs.refused`` column as that runner added it (kept verbatim).
_V2_REFUSED_COLUMN = (
    "refused INTEGER NOT NULL DEFAULT 0 "
    "CHECK (refused IN (0, 1) AND (refused = 0 OR state IN ('failed', 'unknown')))"
)


def write_v2_ledger(path: Path, campaign: str = CAMPAIGN) -> None:
    """A schema version 2 ledger file as that runner left it (a version 1 file it upgraded:
    :data:`V1_JOBS` with their refused flags), closed and checkpointed."""
    write_v1_ledger(path, campaign)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"ALTER TABLE jobs ADD COLUMN {_V2_REFUSED_COLUMN}")
        for job_id, (_, _, refused) in V1_JOBS.items():
            conn.execute("UPDATE jobs SET refused = ? WHERE job_id = ?", (int(refused), job_id))
        conn.execute("PRAGMA user_version = 2")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
