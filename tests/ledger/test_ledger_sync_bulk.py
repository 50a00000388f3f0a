"""A sync inserts column-wise (issue 11): the same rows, events and indexes as row by row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest

from runner.errors import LedgerError
from runner.ledger import JobFrame, JobRow, Ledger

from .helpers import VOUCHER, job_row, raw, reach_job, table_dump, voucher_row

NEW = {"change": "new in the plan"}


def plan(*job_ids: str) -> list[JobRow]:
    return [job_row(job_id, customer_key=f"c-{job_id}") for job_id in job_ids]


def _events(ledger: Ledger) -> list[tuple[object, ...]]:
    return [
        (e.entity_kind, e.entity_id, e.from_state, e.to_state, dict(e.detail))
        for e in ledger.events()
        if e.entity_kind != "run"
    ]


def _indexes(path: Path) -> list[tuple[str, str]]:
    with raw(path) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " ORDER BY name"
        )
        return [(str(name), str(sql)) for name, sql in rows]


def test_a_first_sync_writes_one_row_and_one_planned_event_per_job_in_plan_order(
    ledger: Ledger,
) -> None:
    """Jobs land in plan order as planned, each with its own 'new in the plan' event after
    the voucher's, all carrying the plan hash and one timestamp."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j3", "j1", "j2"))
    rows = [
        (j.job_id, j.voucher_key, j.audience, j.customer_key, j.key_kind, j.seq, j.customer_name)
        for j in ledger.jobs()
    ]
    assert rows == [
        ("j3", VOUCHER, "vip", "c-j3", "cm_id", 1, "张三"),
        ("j1", VOUCHER, "vip", "c-j1", "cm_id", 1, "张三"),
        ("j2", VOUCHER, "vip", "c-j2", "cm_id", 1, "张三"),
    ]
    assert {(j.state, j.active, j.attempts, j.refused) for j in ledger.jobs()} == {
        ("planned", True, 0, False)
    }
    tagged = {**NEW, "plan_hash": "hash-1"}
    assert _events(ledger) == [
        ("voucher", VOUCHER, None, "planned", tagged),
        ("job", "j3", None, "planned", tagged),
        ("job", "j1", None, "planned", tagged),
        ("job", "j2", None, "planned", tagged),
    ]
    assert len({e.at for e in ledger.events()}) == 1


def test_a_later_sync_writes_new_then_returning_then_leaving_events(ledger: Ledger) -> None:
    """New jobs' events come before those of jobs back in the plan and of jobs leaving it,
    and review still finds each job's history by its id."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2"))
    ledger.sync_plan("hash-2", [voucher_row()], plan("j1"))
    before = len(_events(ledger))
    ledger.sync_plan("hash-3", [voucher_row()], plan("j2", "j4"))
    assert [e[1:4] for e in _events(ledger)[before:]] == [
        ("j4", None, "planned"),
        ("j2", "planned", "planned"),
        ("j1", "planned", "planned"),
    ]
    assert [e.detail["change"] for e in ledger.events("j2")] == [
        "new in the plan",
        "no longer planned",
        "back in the plan",
    ]


def test_a_first_sync_rebuilds_exactly_the_indexes_of_a_new_ledger(
    ledger: Ledger, tmp_path: Path
) -> None:
    """The indexes dropped for the bulk insert come back with the same definitions."""
    with Ledger.open(tmp_path / "other", "fresh", command="test") as fresh:
        expected = _indexes(fresh.path)
    ledger.sync_plan("hash-1", [voucher_row()], plan(*(f"j{i}" for i in range(50))))
    assert _indexes(ledger.path) == expected
    with raw(ledger.path) as conn:
        used = conn.execute(
            "EXPLAIN QUERY PLAN SELECT job_id FROM jobs WHERE voucher_key = ? AND state = ?",
            (VOUCHER, "planned"),
        ).fetchall()
    assert "jobs_voucher_state" in str(used)


def test_a_job_frame_syncs_exactly_like_job_rows(state_dir: Path, tmp_path: Path) -> None:
    """The plan's frame and the same jobs as JobRow objects write the same rows."""
    jobs = plan("j1", "j2", "j3")
    frame = pl.DataFrame(
        [
            (j.job_id, j.voucher_key, j.audience, j.customer_key, j.key_kind, j.seq, None)
            for j in jobs
        ],
        schema=["job_id", "voucher_key", "audience", "customer_key", "key_kind", "seq", "name"],
        orient="row",
    ).with_columns(pl.lit("张三").alias("customer_name"))
    with Ledger.open(state_dir, "a", command="test") as one:
        one.sync_plan("hash-1", [voucher_row()], jobs)
        rows_one = table_dump(one.path)["jobs"]
    with Ledger.open(tmp_path / "b", "a", command="test") as two:
        report = two.sync_plan("hash-1", [voucher_row()], JobFrame(frame))
        rows_two = table_dump(two.path)["jobs"]
    assert report.new == ("j1", "j2", "j3")
    stamp = slice(0, 17)  # every column but updated_at and refused
    assert [r[stamp] for r in rows_one] == [r[stamp] for r in rows_two]
    assert list(JobFrame(frame)) == jobs


def test_a_job_frame_refuses_an_unknown_key_kind() -> None:
    """A frame whose key kind the ledger's CHECK would refuse is refused before any insert."""
    frame = pl.DataFrame(
        {
            "job_id": ["j1"],
            "voucher_key": [VOUCHER],
            "audience": ["vip"],
            "customer_key": ["c1"],
            "key_kind": ["phone"],
            "seq": [1],
            "customer_name": [None],
        }
    )
    with pytest.raises(ValueError, match="key_kind"):
        JobFrame(frame)


def test_a_sync_leaves_foreign_keys_and_checks_enforced(ledger: Ledger) -> None:
    """After a sync the connection enforces foreign keys and CHECKs again."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1"))
    conn = ledger._conn
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA ignore_check_constraints").fetchone()[0] == 0
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO jobs (job_id, voucher_key, audience, customer_key, key_kind, seq,"
            " state, updated_at) VALUES ('x', 'no-such-voucher', 'a', 'c', 'cm_id', 1,"
            " 'planned', 'now')"
        )


def test_the_same_plan_hash_reports_the_ledgers_states_without_changes(ledger: Ledger) -> None:
    """Syncing the plan hash the ledger follows counts its jobs' states and changes nothing."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2", "j3"))
    reach_job(ledger, "j1", "done")
    before = table_dump(ledger.path)
    report = ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2", "j3"))
    assert (report.new, report.returning, report.no_longer_planned) == ((), (), ())
    assert report.plan_states == {"done": 1, "planned": 2}
    assert table_dump(ledger.path) == before


def test_the_same_plan_hash_still_refuses_a_job_listed_twice(ledger: Ledger) -> None:
    """The shortcut for a known plan hash still checks the plan itself."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2"))
    with pytest.raises(LedgerError, match="j1 twice"):
        ledger.diff_plan("hash-1", [voucher_row()], plan("j1", "j1"))


def test_a_job_that_changed_meaning_is_refused_at_the_first_such_job(ledger: Ledger) -> None:
    """The column-wise comparison names the first job (in plan order) whose meaning changed."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2"))
    moved = [job_row("j1", customer_key="c-j1"), job_row("j2", customer_key="other", seq=2)]
    moved.insert(0, job_row("j0", customer_key="c-j0"))
    with pytest.raises(LedgerError, match="job j2 means") as caught:
        ledger.sync_plan("hash-2", [voucher_row()], moved)
    assert caught.value.where.job_id == "j2"


def test_job_table_holds_what_jobs_returns(ledger: Ledger) -> None:
    """job_table reads the same jobs, states and flags as jobs(), in the same order."""
    ledger.sync_plan("hash-1", [voucher_row()], plan("j1", "j2", "j3"))
    reach_job(ledger, "j2", "failed")
    ledger.sync_plan("hash-2", [voucher_row()], plan("j1", "j2"))
    table = ledger.job_table(active=None)
    records = ledger.jobs(active=None)
    assert table.get_column("job_id").to_list() == [j.job_id for j in records]
    assert table.get_column("state").to_list() == [j.state for j in records]
    assert table.get_column("active").to_list() == [int(j.active) for j in records]
    assert table.get_column("last_error").to_list() == [j.last_error for j in records]
    done = ledger.job_table("failed", VOUCHER, active=True, columns=("job_id",))
    assert done.to_dict(as_series=False) == {"job_id": ["j2"]}
