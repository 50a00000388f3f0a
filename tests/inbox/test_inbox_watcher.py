"""A real `runner watch` process on a temporary inbox: slow copies, approvals, kills."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from runner.inbox import Inbox
from runner.sandbox import SandboxServer
from runner.sandbox.testing import inspect, set_faults
from tests.execute.conftest import REPO, runner_command, subprocess_env, wait_until

from .conftest import age, grants_by_customer, make_drop, registry_ids, status_of


@contextmanager
def watcher(
    inbox: Inbox, base_url: str, log: Path, *extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`runner watch INBOX` in a child process (settle 1 s), stopped at the end."""
    command = runner_command("watch", str(inbox.root), "--settle", "1", *extra)
    with log.open("ab") as out:
        child = subprocess.Popen(
            command,
            env=subprocess_env(base_url),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _tail(log: Path) -> str:
    return log.read_text("utf-8", errors="replace")[-3000:]


def test_a_slow_copy_is_taken_only_once_complete_then_approved_to_done(
    inbox: Inbox, server: SandboxServer, tmp_path: Path
) -> None:
    """A file growing in steps is not read early; after APPROVED the drop ends in done."""
    source = make_drop(tmp_path, "source", customers=6)
    csv = (source / "customers.csv").read_bytes()
    target = inbox.root / "spring"
    target.mkdir()
    (target / "campaign.yaml").write_bytes((source / "campaign.yaml").read_bytes())
    log = tmp_path / "watch.log"
    with watcher(inbox, server.base_url, log) as child:
        with (target / "customers.csv").open("wb") as out:
            for start in range(0, len(csv), max(1, len(csv) // 5)):
                out.write(csv[start : start + max(1, len(csv) // 5)])
                out.flush()
                time.sleep(0.4)  # each step comes sooner than the 1 s settle time
                assert target.is_dir(), "taken while still copying"
                assert not (target / "status.json").exists(), "read while still copying"
        awaiting = inbox.folder("awaiting-approval") / "spring"
        wait_until(lambda: (awaiting / "status.json").exists(), timeout=30)
        assert status_of(awaiting).stage == "awaiting-approval", _tail(log)
        (awaiting / "APPROVED").touch()
        done = inbox.folder("done") / "spring"
        wait_until(lambda: (done / "results.xlsx").exists() or child.poll() is not None)
        assert child.poll() is None, _tail(log)
    assert status_of(done).jobs == {"done": 6}
    assert grants_by_customer(inspect(server.base_url)) == dict.fromkeys(registry_ids(0, 6), 1)


def test_killing_the_watcher_mid_run_then_restarting_grants_exactly_once(
    inbox: Inbox, server: SandboxServer, tmp_path: Path
) -> None:
    """SIGKILL during a run leaves the drop in running/; a new watcher finishes it, no
    customer granted twice."""
    make_drop(inbox.root, "spring", customers=40, rate=20, concurrency=2)
    set_faults(server.base_url, "latency=30ms")
    log = tmp_path / "watch.log"
    with watcher(inbox, server.base_url, log, "--approval", "auto") as first:
        wait_until(lambda: sum(grants_by_customer(inspect(server.base_url)).values()) >= 5)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    held = sum(grants_by_customer(inspect(server.base_url)).values())
    assert 0 < held < 40, "the kill was meant to land mid-run"
    assert (inbox.folder("running") / "spring").is_dir()
    with watcher(inbox, server.base_url, log, "--once", "--approval", "auto") as again:
        assert again.wait(timeout=120) == 0, _tail(log)
    assert status_of(inbox.folder("done") / "spring").jobs == {"done": 40}
    assert grants_by_customer(inspect(server.base_url)) == dict.fromkeys(registry_ids(0, 40), 1)


def test_sigterm_stops_a_run_in_flight_and_the_next_pass_finishes_it(
    inbox: Inbox, server: SandboxServer, tmp_path: Path
) -> None:
    """SIGTERM mid-run: the run stops and is recorded (exit 130, drop still in running/);
    the next pass finishes the drop with every customer granted once."""
    make_drop(inbox.root, "spring", customers=40, rate=20, concurrency=2)
    set_faults(server.base_url, "latency=30ms")
    log = tmp_path / "watch.log"
    with watcher(inbox, server.base_url, log, "--approval", "auto") as first:
        wait_until(lambda: sum(grants_by_customer(inspect(server.base_url)).values()) >= 5)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 130, _tail(log)
    stopped = status_of(inbox.folder("running") / "spring")
    assert stopped.exit_code == 130
    assert sum(grants_by_customer(inspect(server.base_url)).values()) < 40
    with watcher(inbox, server.base_url, log, "--once", "--approval", "auto") as again:
        assert again.wait(timeout=120) == 0, _tail(log)
    assert grants_by_customer(inspect(server.base_url)) == dict.fromkeys(registry_ids(0, 40), 1)


def test_once_exits_with_the_most_urgent_outcome(
    inbox: Inbox, server: SandboxServer, tmp_path: Path
) -> None:
    """`watch --once` with a broken drop exits 2 and leaves the reason in STATUS.md."""
    folder = make_drop(inbox.root, "broken", settled=False)
    (folder / "campaign.yaml").write_text("campaign: [\n", encoding="utf-8")
    age(folder)
    log = tmp_path / "watch.log"
    with watcher(inbox, server.base_url, log, "--once") as child:
        assert child.wait(timeout=60) == 2, _tail(log)
    assert "rejected" in (inbox.folder("rejected") / "broken" / "STATUS.md").read_text("utf-8")


def test_a_second_watcher_exits_4_and_the_first_left_templates(
    inbox: Inbox, server: SandboxServer, tmp_path: Path
) -> None:
    """While one watcher holds the inbox another exits 4; the first put the templates there."""
    log = tmp_path / "watch.log"
    with watcher(inbox, server.base_url, log):
        wait_until(lambda: (inbox.state_dir / ".watch").is_dir())
        time.sleep(0.5)
        second = subprocess.run(
            runner_command("watch", str(inbox.root), "--once"),
            env=subprocess_env(server.base_url),
            capture_output=True,
            cwd=REPO,
            timeout=60,
        )
    assert second.returncode == 4, second.stderr.decode()[-2000:]
    assert (inbox.root / "templates" / "customers.xlsx").is_file()


pytestmark = pytest.mark.slow
