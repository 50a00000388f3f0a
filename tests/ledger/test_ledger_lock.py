"""One runner per campaign: the OS-level CampaignLock, across processes and within one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.errors import LedgerError, LockHeld
from runner.ledger import CampaignLock, Ledger

from .helpers import CAMPAIGN, seed

HOLDER = textwrap.dedent(
    """
    import pathlib, sys
    from runner.ledger import CampaignLock
    lock = CampaignLock(pathlib.Path(sys.argv[1]), command="holder-command")
    lock.acquire()
    print("held", flush=True)
    sys.stdin.read()
    """
)


@pytest.fixture
def holder(state_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """A child process that holds the campaign lock until killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state_dir / CAMPAIGN)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_lock_held_by_another_process_names_it(
    state_dir: Path, holder: subprocess.Popen[str]
) -> None:
    """LockHeld names the holder's pid and command, the lock file, and says what to do."""
    with pytest.raises(LockHeld) as caught:
        CampaignLock(state_dir / CAMPAIGN).acquire()
    message = str(caught.value)
    assert f"pid {holder.pid}" in message
    assert "holder-command" in message
    assert caught.value.where.file == str(state_dir / CAMPAIGN / "lock")
    assert caught.value.hint is not None
    assert caught.value.exit_code == 4


def test_ledger_open_refuses_while_another_process_runs(
    state_dir: Path, holder: subprocess.Popen[str]
) -> None:
    """A writable open raises LockHeld; a read-only open takes no lock, and of a ledger
    that does not exist yet it says so instead of creating one."""
    with pytest.raises(LockHeld, match="holder-command"):
        Ledger.open(state_dir, CAMPAIGN)
    with pytest.raises(LedgerError, match="no ledger here yet"):
        Ledger.open(state_dir, CAMPAIGN, read_only=True)
    assert not (state_dir / CAMPAIGN / "ledger.sqlite").exists()


def test_lock_is_free_once_the_holder_is_killed(
    state_dir: Path, holder: subprocess.Popen[str]
) -> None:
    """SIGKILL of the holder frees the lock with no cleanup: the next acquire succeeds and
    names itself in place of the dead holder."""
    info = state_dir / CAMPAIGN / "lock.info"
    lock = CampaignLock(state_dir / CAMPAIGN, command="next")
    with pytest.raises(LockHeld):
        lock.acquire()
    holder.kill()
    holder.wait()
    assert "holder-command" in info.read_text("utf-8")  # nobody cleaned up after it
    lock.acquire()
    assert lock.held
    assert "next" in info.read_text("utf-8")
    assert "holder-command" not in info.read_text("utf-8")
    lock.release()
    assert not info.exists()
    with CampaignLock(state_dir / CAMPAIGN) as again:
        assert again.held


def test_a_lock_whose_holder_has_not_said_who_it_is_still_refuses(state_dir: Path) -> None:
    """The info file only explains: without it (or unreadable) the lock still excludes."""
    with CampaignLock(state_dir / CAMPAIGN, command="first"):
        (state_dir / CAMPAIGN / "lock.info").write_text("{not json", "utf-8")
        with pytest.raises(LockHeld, match="has not said who it is"):
            CampaignLock(state_dir / CAMPAIGN).acquire()
        (state_dir / CAMPAIGN / "lock.info").unlink()
        with pytest.raises(LockHeld, match="has not said who it is"):
            CampaignLock(state_dir / CAMPAIGN).acquire()


def test_the_lock_module_needs_no_posix_only_module() -> None:
    """With ``fcntl`` unimportable (as on Windows) the runner's modules still import."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["fcntl"] = None  # import fcntl now raises ImportError
        import runner.cli, runner.ledger._lock, runner.plan
        print("imported")
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported"


def test_two_locks_in_one_process_exclude_each_other(state_dir: Path) -> None:
    """A second CampaignLock on the same directory is refused until the first is released."""
    first = CampaignLock(state_dir / CAMPAIGN, command="first")
    with first, pytest.raises(LockHeld, match="'first'"):
        CampaignLock(state_dir / CAMPAIGN).acquire()
    assert not first.held
    with CampaignLock(state_dir / CAMPAIGN) as second:
        assert second.held


def test_open_ledger_holds_the_lock_until_closed(state_dir: Path) -> None:
    """A writable ledger keeps the campaign locked while open and frees it on close."""
    with Ledger.open(state_dir, CAMPAIGN, command="run"), pytest.raises(LockHeld, match="'run'"):
        Ledger.open(state_dir, CAMPAIGN)
    with Ledger.open(state_dir, CAMPAIGN) as again:
        assert not again.read_only


def test_ledger_can_use_a_lock_the_caller_holds(state_dir: Path) -> None:
    """Given the caller's held lock, the ledger opens and leaves the lock held on close."""
    with CampaignLock(state_dir / CAMPAIGN, command="run") as lock:
        with Ledger.open(state_dir, CAMPAIGN, lock=lock) as ledger:
            seed(ledger, "j1")
        assert lock.held
        with pytest.raises(LockHeld):
            CampaignLock(state_dir / CAMPAIGN).acquire()


def test_ledger_refuses_a_lock_that_is_not_held(state_dir: Path) -> None:
    """Passing a lock that is not held is a programming error, raised at once."""
    with pytest.raises(ValueError, match="must be held"):
        Ledger.open(state_dir, CAMPAIGN, lock=CampaignLock(state_dir / CAMPAIGN))
