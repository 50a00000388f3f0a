"""Schema version 1 files: upgraded (to the current version) by a writable open, read
untouched by a read-only one."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from runner.errors import LedgerError
from runner.ledger import LEDGER_FILE, SCHEMA_VERSION, Ledger

from .helpers import CAMPAIGN, V1_JOBS, raw, table_dump, write_v1_ledger

#: A time long past, so that any write to the file would show in its mtime.
_OLD_NS = 1_000_000_000_000_000_000


@pytest.fixture
def v1_path(state_dir: Path) -> Path:
    path = state_dir / CAMPAIGN / LEDGER_FILE
    write_v1_ledger(path)
    os.utime(path, ns=(_OLD_NS, _OLD_NS))
    return path


def _columns(path: Path) -> list[tuple[object, ...]]:
    with raw(path) as conn:
        return conn.execute("PRAGMA table_info(jobs)").fetchall()


def _version(path: Path) -> int:
    with raw(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _expected_refused() -> dict[str, bool]:
    return {job_id: refused for job_id, (_, _, refused) in V1_JOBS.items()}


def test_a_writable_open_upgrades_a_v1_file_filling_refused_from_the_old_prefix(
    state_dir: Path, v1_path: Path
) -> None:
    """Opened writable, a v1 file becomes current (v3) and each job's refused column says
    what the old ``refused: `` prefix said, for an unknown or failed job only."""
    with Ledger.open(state_dir, CAMPAIGN):
        pass
    assert _version(v1_path) == SCHEMA_VERSION == 3
    with raw(v1_path) as conn:
        stored = dict(conn.execute("SELECT job_id, refused FROM jobs").fetchall())
    assert stored == {job_id: int(refused) for job_id, refused in _expected_refused().items()}


def test_the_upgrade_only_adds_the_column(state_dir: Path, v1_path: Path) -> None:
    """Every table holds the same rows after the upgrade, jobs with one more value, and
    last_error keeps its text, prefix included."""
    before = table_dump(v1_path)
    with Ledger.open(state_dir, CAMPAIGN):
        pass
    after = table_dump(v1_path)
    assert [row[:-1] for row in after.pop("jobs")] == before.pop("jobs")
    assert after == before


def test_an_upgraded_file_has_the_jobs_columns_of_a_new_one(
    tmp_path: Path, state_dir: Path, v1_path: Path
) -> None:
    """The upgraded jobs table has exactly the columns, types and defaults of a new ledger's."""
    with Ledger.open(state_dir, CAMPAIGN):
        pass
    with Ledger.open(tmp_path / "new", CAMPAIGN) as fresh:
        new_path = fresh.path
    assert _columns(v1_path) == _columns(new_path)
    assert _columns(v1_path)[-1][1:5] == ("refused", "INTEGER", 1, "0")


def test_upgraded_jobs_read_back_refused_as_typed(state_dir: Path, v1_path: Path) -> None:
    """After the upgrade JobRecord.refused holds the flag, and last_error the old words."""
    with Ledger.open(state_dir, CAMPAIGN) as ledger:
        jobs = {job.job_id: job for job in ledger.jobs(active=None)}
    assert {job_id: job.refused for job_id, job in jobs.items()} == _expected_refused()
    assert {job_id: job.last_error for job_id, job in jobs.items()} == {
        job_id: last_error for job_id, (_, last_error, _) in V1_JOBS.items()
    }


def test_a_read_only_open_of_a_v1_file_changes_no_byte_and_reads_refused(
    state_dir: Path, v1_path: Path
) -> None:
    """Listing a v1 file read-only leaves its bytes, mtime and version as they were, and
    still tells which jobs a refusal left unknown or failed."""
    content, mtime = v1_path.read_bytes(), v1_path.stat().st_mtime_ns
    with Ledger.open(state_dir, CAMPAIGN, read_only=True) as reader:
        refused = {job.job_id: job.refused for job in reader.jobs(active=None)}
        counts = reader.counts(active=None)
    assert refused == _expected_refused()
    assert counts["ten-off"]["unknown"] == 2
    assert v1_path.read_bytes() == content
    assert v1_path.stat().st_mtime_ns == mtime == _OLD_NS
    assert _version(v1_path) == 1


def test_a_failed_upgrade_leaves_the_v1_file_as_it_was(state_dir: Path, v1_path: Path) -> None:
    """When filling the column fails, the open is refused and the file keeps version 1
    without the column: the upgrade is one transaction."""
    with raw(v1_path) as conn:
        conn.execute(
            "CREATE TRIGGER jobs_frozen BEFORE UPDATE ON jobs"
            " BEGIN SELECT RAISE(ABORT, 'jobs are frozen'); END"
        )
    conn.close()
    with pytest.raises(LedgerError, match="jobs are frozen"):
        Ledger.open(state_dir, CAMPAIGN)
    assert _version(v1_path) == 1
    assert "refused" not in [column[1] for column in _columns(v1_path)]


@pytest.mark.parametrize("read_only", [False, True])
def test_a_newer_schema_is_refused_untouched(
    state_dir: Path, v1_path: Path, read_only: bool
) -> None:
    """A file of a version this runner does not know is refused, read-only or not, and
    keeps its bytes."""
    with raw(v1_path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    content = v1_path.read_bytes()
    with pytest.raises(LedgerError, match=f"schema version {SCHEMA_VERSION + 1}"):
        Ledger.open(state_dir, CAMPAIGN, read_only=read_only)
    assert v1_path.read_bytes() == content


@pytest.mark.parametrize("content", [b"", b"not a ledger at all" * 50])
@pytest.mark.parametrize("read_only", [False, True])
def test_an_empty_or_foreign_file_is_refused_untouched(
    state_dir: Path, content: bytes, read_only: bool
) -> None:
    """A 0-byte or non-SQLite ledger file is refused, read-only or not, and left as it was."""
    path = state_dir / CAMPAIGN / LEDGER_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(LedgerError, match="nothing was sent"):
        Ledger.open(state_dir, CAMPAIGN, read_only=read_only)
    assert path.read_bytes() == content


def test_an_upgraded_file_refuses_refused_outside_unknown_and_failed(
    state_dir: Path, v1_path: Path
) -> None:
    """The upgraded column carries the new file's CHECK: a planned job cannot be refused."""
    with Ledger.open(state_dir, CAMPAIGN):
        pass
    with raw(v1_path) as conn, pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE jobs SET refused = 1 WHERE job_id = 'fresh'")
