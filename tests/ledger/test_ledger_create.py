"""A new ledger file appears whole or not at all, whenever the process dies."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from runner.ledger import LEDGER_FILE, Ledger, campaign_dir
from runner.ledger._schema import SCHEMA_VERSION

CAMPAIGN = "create-test"
REPO = Path(__file__).resolve().parents[2]


def test_a_new_ledger_is_complete_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    """Opening a new ledger writes the schema and the campaign, and nothing else remains."""
    with Ledger.open(tmp_path, CAMPAIGN):
        pass
    folder = campaign_dir(tmp_path, CAMPAIGN)
    with sqlite3.connect(folder / LEDGER_FILE) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert not [p.name for p in folder.iterdir() if ".new" in p.name]


def test_leftovers_of_a_killed_creation_do_not_block_the_next(tmp_path: Path) -> None:
    """An empty temporary file (and its WAL) left by a kill is removed; the ledger opens."""
    folder = campaign_dir(tmp_path, CAMPAIGN)
    folder.mkdir(parents=True)
    for name in (f".{LEDGER_FILE}.dead0001.new", f".{LEDGER_FILE}.dead0001.new-wal"):
        (folder / name).write_bytes(b"")
    with Ledger.open(tmp_path, CAMPAIGN) as ledger:
        assert ledger.jobs() == []
    assert sorted(p.name for p in folder.iterdir() if ".new" in p.name) == []


def test_sigkill_during_creation_never_leaves_a_ledger_that_is_refused(tmp_path: Path) -> None:
    """A child creating ledger after ledger is killed at random moments; every ledger.sqlite
    it left opens, so no later run is refused for an empty or partial file."""
    script = (
        "import sys; from pathlib import Path; from runner.ledger import Ledger\n"
        "root = Path(sys.argv[1])\n"
        "for i in range(100000):\n"
        "    Ledger.open(root / str(i), 'create-test').close()\n"
    )
    rng = random.Random(5)
    for round_no in range(12):
        root = tmp_path / f"round{round_no}"
        child = subprocess.Popen([sys.executable, "-c", script, str(root)], cwd=REPO)
        deadline = time.monotonic() + 60
        while not any(root.glob(f"*/{CAMPAIGN}/{LEDGER_FILE}")):  # imported, creating
            assert child.poll() is None, "the child ended before it was killed"
            assert time.monotonic() < deadline, "the child created no ledger in 60 s"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        made = sorted(root.glob(f"*/{CAMPAIGN}/{LEDGER_FILE}"))
        assert made, "the child was killed before it created any ledger"
        for path in made:
            state_dir = path.parent.parent
            with Ledger.open(state_dir, CAMPAIGN, read_only=True) as ledger:
                assert ledger.jobs() == []
