"""Schema version 2 files: upgraded to 3 by a writable open, read untouched read-only."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from runner.errors import LedgerError
from runner.ledger import LEDGER_FILE, SCHEMA_VERSION, ChangeRow, Ledger

from .helpers import CAMPAIGN, VOUCHER, raw, table_dump, write_v2_ledger

_OLD_NS = 1_000_000_000_000_000_000


@pytest.fixture
def v2_path(state_dir: Path) -> Path:
    path = state_dir / CAMPAIGN / LEDGER_FILE
    write_v2_ledger(path)
    os.utime(path, ns=(_OLD_NS, _OLD_NS))
    return path


def _version(path: Path) -> int:
    with raw(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _tables(path: Path) -> set[str]:
    with raw(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def test_a_writable_open_upgrades_v2_keeping_every_row(state_dir: Path, v2_path: Path) -> None:
    """Opened writable, a v2 file becomes v3 with a changes table; every old table keeps its
    rows, the event log its sequence numbers."""
    before = table_dump(v2_path)
    with Ledger.open(state_dir, CAMPAIGN):
        pass
    assert _version(v2_path) == SCHEMA_VERSION == 3
    assert "changes" in _tables(v2_path)
    assert "events_v3" not in _tables(v2_path)
    assert table_dump(v2_path) == before


def test_the_upgraded_event_log_stays_append_only_and_takes_changes(
    state_dir: Path, v2_path: Path
) -> None:
    """After the upgrade the triggers still refuse UPDATE and DELETE, a change's events are
    accepted, and new events continue the old sequence."""
    with raw(v2_path) as conn:
        (last,) = conn.execute("SELECT MAX(seq) FROM events").fetchone()
    with Ledger.open(state_dir, CAMPAIGN) as ledger:
        change_id = ledger.plan_change(ChangeRow(VOUCHER, "finish", None, "2025-03-31", "command"))
        seqs = [e.seq for e in ledger.events(change_id)]
    assert seqs
    assert min(seqs) > last
    with raw(v2_path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE events SET detail = '{}'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM events")


def test_a_read_only_open_of_v2_changes_no_byte_and_has_no_changes(
    state_dir: Path, v2_path: Path
) -> None:
    """Read-only, a v2 file keeps its bytes, mtime and version; it reads as a ledger without
    changes (each voucher's end date is its create payload's)."""
    content = v2_path.read_bytes()
    with Ledger.open(state_dir, CAMPAIGN, read_only=True) as reader:
        assert reader.changes() == []
        life = reader.lifecycle(VOUCHER)
        jobs = reader.jobs(active=None)
    assert (life.finished, life.history) == (False, ())
    assert jobs
    assert v2_path.read_bytes() == content
    assert v2_path.stat().st_mtime_ns == _OLD_NS
    assert _version(v2_path) == 2


def test_a_failed_upgrade_leaves_the_v2_file_as_it_was(state_dir: Path, v2_path: Path) -> None:
    """When a step of the upgrade fails, the open is refused and the file is still v2 with
    its event log and old CHECK: the upgrade is one transaction."""
    with raw(v2_path) as conn:
        conn.execute("CREATE TABLE events_v3 (x INTEGER)")  # in the way of the rebuild
    conn.close()
    before = table_dump(v2_path)
    with pytest.raises(LedgerError, match="events_v3"):
        Ledger.open(state_dir, CAMPAIGN)
    assert _version(v2_path) == 2
    assert "changes" not in _tables(v2_path)
    assert table_dump(v2_path) == before
