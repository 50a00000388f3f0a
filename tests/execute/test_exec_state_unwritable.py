"""A state dir that cannot be written stops the run with exit 4 before any unrecorded request.

Three ways to make it so, each real, none patched: a file size limit on the ``runner run``
child (``RLIMIT_FSIZE``, SIGXFSZ ignored: a write past it fails with EFBIG, as on a full
disk; works everywhere), a small tmpfs as the state dir and a read-only bind mount of it
(both in a user and mount namespace of the child's own, ``unshare -rm``: skipped where the
system does not allow one). After each: exit 4 with ``StateDirUnusable`` naming the state
dir, every grant the sandbox received was marked ``sending`` in the ledger first, and a
rerun on a writable disk ends with exactly the plan on the remote.
"""

from __future__ import annotations

import errno
import json
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from runner.errors import StateDirUnusable
from runner.ledger import Ledger, campaign_dir
from runner.ledger._oserrors import state_dir_error
from runner.plan import Plan
from runner.sandbox.testing import inspect

from .conftest import (
    CAMPAIGN,
    REPO,
    assert_exactly_planned,
    audience,
    grant_calls,
    plan_of,
    registry,
    runner_command,
    sandbox,
    subprocess_env,
    voucher,
    write_audience,
    write_campaign,
)

#: A ledger of this campaign (399 jobs) is about 300 kB and its WAL grows from there: with
#: this limit the ledger is made and synced, and the grant phase stops after some grants.
FILE_SIZE_LIMIT = 800_000
#: The tmpfs: room for the ledger, its WAL and some grants, not for the whole campaign.
TMPFS_SIZE = "900k"


def _campaign(tmp_path: Path) -> Path:
    shops = write_audience(tmp_path / "shops.csv", registry().slice(0, 200))
    return write_campaign(
        tmp_path / "campaign.yaml",
        audiences={"shops": audience(shops)},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        rate=100,
    )


def _run(
    campaign: Path,
    state: Path,
    base_url: str,
    *,
    wrap: Sequence[str] = (),
    before: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``runner run --yes`` in a child (``wrap`` goes before the command), output piped:
    a pipe, unlike a log file, knows no file size limit."""
    command = [*wrap, *runner_command("run", str(campaign), "--yes", "--state-dir", str(state))]
    return subprocess.run(
        command,
        env=subprocess_env(base_url),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=REPO,
        preexec_fn=before,
        timeout=120,
        check=False,
    )


def _file_size_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


@cache
def _namespaces() -> bool:
    """True when a user and mount namespace of our own can be made here."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    return probe.returncode == 0


needs_namespaces = pytest.mark.skipif(
    not _namespaces(), reason="no user and mount namespaces here (unshare -rm)"
)


def _in_namespace(script: str) -> list[str]:
    """Run ``script`` (sh) in a new user and mount namespace; the command follows as "$@"."""
    return ["unshare", "-rm", "sh", "-c", script, "sh"]


def _error(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The run's JSON error report (its last ``"kind": "error"`` line, on stderr)."""
    lines = [line for line in done.stderr.splitlines() if '"kind": "error"' in line]
    assert lines, (done.returncode, done.stdout[-3000:], done.stderr[-3000:])
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def _assert_stopped_on_the_state_dir(
    done: subprocess.CompletedProcess[str], state: Path, reason: str
) -> None:
    """Exit 4, ``StateDirUnusable`` for ``reason``, naming the campaign's state folder."""
    assert done.returncode == 4, (done.stdout[-3000:], done.stderr[-3000:])
    report = _error(done)
    assert report["error"] == "StateDirUnusable", report
    (problem,) = report["problems"]
    named = f"{problem['message']} {problem['where'].get('file', '')}"
    assert str(campaign_dir(state, CAMPAIGN)) in named, report
    assert reason in problem["message"], report
    assert "rerun" in problem["hint"], report
    assert "Traceback" not in done.stderr


def _assert_every_request_was_marked(base_url: str, state: Path) -> int:
    """Every grant the sandbox received (and holds) was marked ``sending`` in the ledger
    before it left: per customer and in all. Returns how many grants the remote holds."""
    with Ledger.open(state, CAMPAIGN, read_only=True) as ledger:
        jobs = ledger.jobs(active=None)
    assert grant_calls(base_url) <= sum(job.attempts for job in jobs)
    ids = dict(zip(registry()["code"], registry()["id"], strict=True))
    marked = Counter(ids[j.customer_key] for j in jobs if j.attempts > 0)
    held: Counter[str] = Counter()
    for per_customer in inspect(base_url)["grants"].values():
        held.update({cm_id: h["count"] for cm_id, h in per_customer.items()})
    assert held - marked == Counter(), "a grant left without its sending mark"
    return held.total()


def _rerun_completes(campaign: Path, state: Path, base_url: str, plan: Plan) -> None:
    again = _run(campaign, state, base_url)
    assert again.returncode == 0, again.stderr[-3000:]
    assert_exactly_planned(base_url, plan, state)


# --- the mapping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only"),
        (OSError(errno.EFBIG, "File too large"), "size limit"),
        (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "read-only"),
        (sqlite3.OperationalError("disk I/O error"), "I/O error"),
    ],
)
def test_full_disk_read_only_and_size_limit_errors_name_the_state_dir(
    tmp_path: Path, error: BaseException, words: str
) -> None:
    """OS and SQLite errors of an unwritable disk become StateDirUnusable naming the folder."""
    path = tmp_path / "state" / CAMPAIGN / "ledger.sqlite"
    found = state_dir_error(error, path)
    assert isinstance(found, StateDirUnusable)
    assert found.exit_code == 4
    assert str(path.parent) in found.message
    assert words in found.message
    assert found.where.file == str(path)
    assert found.hint is not None
    assert "rerun" in found.hint


def test_other_errors_are_not_taken_for_an_unwritable_state_dir(tmp_path: Path) -> None:
    """A damaged file, a constraint or a missing file is left to its caller (None)."""
    path = tmp_path / "ledger.sqlite"
    for error in (
        sqlite3.DatabaseError("database disk image is malformed"),
        sqlite3.IntegrityError("UNIQUE constraint failed: jobs.job_id"),
        OSError(errno.ENOENT, "No such file or directory"),
        ValueError("not an OS error"),
    ):
        assert state_dir_error(error, path) is None, error


def test_creating_a_ledger_past_a_file_size_limit_is_state_dir_unusable(tmp_path: Path) -> None:
    """Opening a new ledger where no file may grow past 4 kB raises StateDirUnusable naming
    the folder, never a "damaged ledger" or a traceback."""
    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from runner.errors import StateDirUnusable\n"
        "from runner.ledger import Ledger\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        "    Ledger.open(Path(sys.argv[1]), 'size-limit').close()\n"
        "except StateDirUnusable as exc:\n"
        "    print(exc.message)\n"
        "    sys.exit(4)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert done.returncode == 4, done.stderr[-2000:]
    assert str(tmp_path / "size-limit") in done.stdout


# --- a run on an unwritable state dir -------------------------------------------------------


@pytest.mark.slow
def test_a_file_size_limit_mid_run_stops_with_exit_4_and_no_unrecorded_request(
    tmp_path: Path,
) -> None:
    """Past a file size limit (EFBIG, as on a full disk) the run stops with exit 4 naming the
    state dir, after some grants; the sandbox received no grant the ledger did not mark
    first, and a rerun without the limit grants exactly the plan."""
    campaign, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=31) as server:
        plan = plan_of(campaign, server.base_url)
        done = _run(campaign, state, server.base_url, before=_file_size_limit)
        _assert_stopped_on_the_state_dir(done, state, "I/O error")
        held = _assert_every_request_was_marked(server.base_url, state)
        assert 0 < held < plan.jobs.height, "the limit was not reached in the grant phase"
        _rerun_completes(campaign, state, server.base_url, plan)


@pytest.mark.slow
@needs_namespaces
def test_a_full_tmpfs_mid_run_stops_with_exit_4_and_no_unrecorded_request(
    tmp_path: Path,
) -> None:
    """On a small tmpfs that fills up (ENOSPC) the run stops with exit 4 naming the state
    dir; the sandbox received no grant the ledger did not mark first, and the ledger, moved
    to a disk with room, resumes to exactly the plan."""
    campaign, state, kept = _campaign(tmp_path), tmp_path / "state", tmp_path / "kept"
    state.mkdir()
    kept.mkdir()
    script = (
        f'mount -t tmpfs -o size={TMPFS_SIZE} tmpfs "{state}" || exit 99; "$@"; code=$?; '
        f'cp -a "{state}/." "{kept}/"; exit $code'
    )
    with sandbox(seed=32) as server:
        plan = plan_of(campaign, server.base_url)
        done = _run(campaign, state, server.base_url, wrap=_in_namespace(script))
        assert done.returncode != 99, done.stderr
        _assert_stopped_on_the_state_dir(done, state, "the disk is full")
        held = _assert_every_request_was_marked(server.base_url, kept)
        assert held < plan.jobs.height
        _rerun_completes(campaign, kept, server.base_url, plan)


@pytest.mark.slow
@needs_namespaces
def test_a_read_only_state_dir_stops_with_exit_4_before_any_request(tmp_path: Path) -> None:
    """A state dir remounted read-only (EROFS) after a partial run: the rerun stops with
    exit 4 naming the state dir and sends nothing at all; writable again, it completes."""
    campaign, state = _campaign(tmp_path), tmp_path / "state"
    with sandbox(seed=33) as server:
        plan = plan_of(campaign, server.base_url)
        first = _run(campaign, state, server.base_url, before=_file_size_limit)
        assert first.returncode == 4, first.stderr[-3000:]
        before = inspect(server.base_url)["counters"]
        script = f'mount --bind "{state}" "{state}" && mount -o remount,bind,ro "{state}" && "$@"'
        done = _run(campaign, state, server.base_url, wrap=_in_namespace(script))
        _assert_stopped_on_the_state_dir(done, state, "read-only")
        assert inspect(server.base_url)["counters"] == before, "a request was sent"
        _assert_every_request_was_marked(server.base_url, state)
        _rerun_completes(campaign, state, server.base_url, plan)
