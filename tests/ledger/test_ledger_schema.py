"""The ledger file: location, WAL, schema version, campaign check, text ids, indexes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner.errors import LedgerError
from runner.ledger import LEDGER_FILE, SCHEMA_VERSION, JobRow, Ledger, VoucherRow, campaign_dir

from .helpers import BIG_ID, CAMPAIGN, VOUCHER, job_row, raw, seed, voucher_row


def test_ledger_lives_in_the_campaign_state_directory(state_dir: Path) -> None:
    """Opening creates <state_dir>/<campaign>/ledger.sqlite, directories included."""
    with Ledger.open(state_dir, CAMPAIGN) as ledger:
        assert ledger.path == state_dir / CAMPAIGN / LEDGER_FILE
    assert (state_dir / CAMPAIGN / LEDGER_FILE).is_file()


def test_wal_mode_and_schema_version(ledger: Ledger) -> None:
    """The file is in WAL mode and carries the schema version in user_version."""
    with raw(ledger.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_ids_are_stored_as_text(ledger: Ledger) -> None:
    """19-digit ids come back equal as str, and SQLite's typeof says 'text'."""
    job = JobRow(BIG_ID + "-1", VOUCHER, "vip", BIG_ID, "cm_id", 1, "张三")
    ledger.sync_plan("hash-1", [voucher_row()], [job])
    ledger.mark_voucher_sending(VOUCHER, "m-v")
    ledger.mark_voucher_created(VOUCHER, remote_id=BIG_ID)
    stored = ledger.job(BIG_ID + "-1")
    assert stored.customer_key == BIG_ID
    assert isinstance(stored.customer_key, str)
    assert ledger.voucher(VOUCHER).remote_id == BIG_ID
    with raw(ledger.path) as conn:
        kinds = conn.execute("SELECT typeof(customer_key), typeof(job_id) FROM jobs").fetchone()
        remote = conn.execute("SELECT typeof(remote_id) FROM vouchers").fetchone()
    assert kinds == ("text", "text")
    assert remote == ("text",)


def test_rows_refuse_numeric_ids() -> None:
    """A job whose customer key is an int is refused before reaching the ledger."""
    with pytest.raises(TypeError, match="customer_key"):
        JobRow("j1", VOUCHER, "vip", int(BIG_ID), "cm_id", 1)  # type: ignore[arg-type]


def test_wrong_campaign_is_refused(state_dir: Path) -> None:
    """A ledger file written for another campaign raises LedgerError naming both and the file."""
    with Ledger.open(state_dir, "campaign-a") as ledger:
        seed(ledger, "j1")
    (state_dir / "campaign-b").mkdir()
    shutil.copy(state_dir / "campaign-a" / LEDGER_FILE, state_dir / "campaign-b" / LEDGER_FILE)
    with pytest.raises(LedgerError) as caught:
        Ledger.open(state_dir, "campaign-b")
    assert "'campaign-a'" in str(caught.value)
    assert "'campaign-b'" in str(caught.value)
    assert caught.value.where.file == str(state_dir / "campaign-b" / LEDGER_FILE)
    assert caught.value.hint is not None


def test_refusing_a_ledger_releases_the_lock(state_dir: Path) -> None:
    """After a refused open the campaign lock is free again."""
    with Ledger.open(state_dir, "campaign-a"):
        pass
    (state_dir / "campaign-b").mkdir()
    shutil.copy(state_dir / "campaign-a" / LEDGER_FILE, state_dir / "campaign-b" / LEDGER_FILE)
    with pytest.raises(LedgerError):
        Ledger.open(state_dir, "campaign-b")
    with pytest.raises(LedgerError):
        Ledger.open(state_dir, "campaign-b")  # a LockHeld here would mean the lock leaked


def test_newer_schema_is_refused(state_dir: Path) -> None:
    """A ledger with a schema version from the future raises LedgerError with a hint."""
    with Ledger.open(state_dir, CAMPAIGN) as ledger:
        path = ledger.path
    with raw(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(LedgerError, match="schema version") as caught:
        Ledger.open(state_dir, CAMPAIGN)
    assert caught.value.where.file == str(path)


def test_a_file_that_is_not_a_database_is_refused(state_dir: Path) -> None:
    """Garbage in place of the ledger raises LedgerError naming the file."""
    (state_dir / CAMPAIGN).mkdir(parents=True)
    path = state_dir / CAMPAIGN / LEDGER_FILE
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LedgerError) as caught:
        Ledger.open(state_dir, CAMPAIGN)
    assert caught.value.where.file == str(path)


@pytest.mark.parametrize("campaign", ["", ".", "..", "a/b", "a\\b"])
def test_campaign_ids_that_are_not_directory_names_are_refused(
    state_dir: Path, campaign: str
) -> None:
    """A campaign id that would escape the state directory is a programming error."""
    with pytest.raises(ValueError, match="campaign id"):
        campaign_dir(state_dir, campaign)


def test_read_only_ledger_refuses_writes(state_dir: Path) -> None:
    """Every write on a read-only ledger raises LedgerError and changes nothing."""
    with Ledger.open(state_dir, CAMPAIGN) as writer:
        seed(writer, "j1")
    with Ledger.open(state_dir, CAMPAIGN, read_only=True) as reader:
        with pytest.raises(LedgerError, match="read-only"):
            reader.mark_sending("j1", "m-1")
        with pytest.raises(LedgerError, match="read-only"):
            reader.start_run("run", "hash-1")
        assert reader.job("j1").state == "planned"


def test_voucher_fields_round_trip(ledger: Ledger) -> None:
    """The voucher's payload comes back equal, Chinese text included."""
    seed(ledger)
    assert ledger.voucher(VOUCHER).fields == dict(voucher_row().fields)


def test_voucher_fields_refuse_secret_keys() -> None:
    """A voucher payload carrying an appkey is refused before it can be stored."""
    with pytest.raises(ValueError, match="appkey"):
        VoucherRow(VOUCHER, "fp", {"name": "x", "appkey": "k"})


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        ("SELECT * FROM jobs WHERE state = 'planned'", "jobs_state"),
        ("SELECT * FROM jobs WHERE voucher_key = 'v' AND state = 'done'", "jobs_voucher_state"),
        (
            "SELECT * FROM jobs WHERE voucher_key = 'v' AND customer_key = 'c'",
            "jobs_voucher_customer",
        ),
    ],
)
def test_hot_queries_use_an_index(ledger: Ledger, sql: str, index: str) -> None:
    """The executor's frequent lookups are answered from an index, not a table scan."""
    seed(ledger, *[f"j{i}" for i in range(50)])
    with raw(ledger.path) as conn:
        plan = " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert index in plan


def test_sync_of_many_jobs_round_trips(ledger: Ledger) -> None:
    """Twenty thousand jobs sync in one go and count back exactly."""
    jobs = [job_row(f"j{i}", customer_key=f"{10**18 + i}") for i in range(20_000)]
    report = ledger.sync_plan("hash-1", [voucher_row()], jobs)
    assert len(report.new) == 20_000
    assert ledger.counts() == {VOUCHER: {"planned": 20_000}}
