"""The chaos driver: campaigns run to the end while their runner, vendor and ledger are hit.

For each campaign (seed ``S``, ``S+1``, ...): a generated campaign of a few vouchers and
about ``--grants`` grants; a ``runner sandbox --state F`` in its own process with lost
responses (some answered late, past the client's timeout), 5xx, resets, a rate limit below
the campaign's rate (429 storms) and latency spikes switched on now and then; then rounds
of ``runner run --yes`` (JSON logs) in a child process, each possibly cut short by one
seeded disruption:

- ``kill``: SIGKILL the runner at a random moment (by time, or after the remote has gained
  a random number of grants);
- ``sandbox``: SIGKILL the sandbox while the runner works and start it again on the same
  port with the same state file (the runner carries on, or stops with exit 4 and is started
  again);
- ``delete``: SIGKILL the runner, delete the whole state directory and take the remote's
  vouchers and grants back in with ``runner adopt --yes`` before the next round;

until a round ends with exit 0. Exit 1 (grants failed for good) goes through
``runner retry-failed``; exit 3 (review) is counted and fails the campaign (the driver
does not guess what a person would decide). Then the invariant is checked against the
sandbox (:func:`tests.chaos.invariant.check_invariant`).

Run it: ``python -m tests.chaos.driver --seed 7 --grants 500 --kills 5`` prints one JSON
summary and exits 1 when any campaign broke the invariant or could not finish.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

import httpx

from runner.sandbox.testing import set_faults
from tests.chaos.campaign import write_chaos_campaign
from tests.chaos.invariant import Check, check_invariant
from tests.chaos.sandbox import SandboxProcess
from tests.execute.conftest import (
    REPO,
    granted,
    plan_of,
    runner_command,
    start_run,
    subprocess_env,
)

__all__ = ["ChaosConfig", "ChaosReport", "run_chaos"]

Disruption = Literal["kill", "sandbox", "delete"]


def fault_spec(latency: str, lost_delay_s: float) -> str:
    """Every fault on at once; ``latency`` is ``FIXED~JITTER`` (a spike: a larger one)."""
    return (
        "lost_response=0.04,http_5xx=0.03,reset=0.02,lost_response@addVoucherInfo=0.3,"
        f"latency={latency},lost_response_delay={lost_delay_s * 1000:g}ms"
    )


@dataclass(frozen=True)
class ChaosConfig:
    """What to run: how many campaigns, how big, and how much to disrupt each."""

    seed: int = 1
    campaigns: int = 1
    grants: int = 400
    vouchers: int = 2
    kills: int = 4  # SIGKILLs of the runner, besides those of a state-dir deletion
    sandbox_restarts: int = 1
    deletions: int = 1  # state dir deleted (after a SIGKILL), then `runner adopt`
    rate: float = 200.0  # the campaign's requests per second: every runner starts at it
    sandbox_rate: float = 40.0  # the sandbox's: below the campaign's and below the runner's
    # pace with these faults (about 45 a second), so a 429 storm at each start
    concurrency: int = 8
    timeout_s: float = 1.0  # the client's; spikes and late answers go past it
    spike_latency: str = "200ms~1300ms"
    base_latency: str = "1ms~15ms"
    max_rounds: int = 60
    run_timeout_s: float = 300.0


@dataclass
class CampaignReport:
    """What happened to one campaign."""

    seed: int
    grants: int = 0
    vouchers: int = 0
    finished: bool = False
    rounds: int = 0
    kills: int = 0
    sandbox_restarts: int = 0
    deletions: int = 0
    adopts: int = 0
    latency_spikes: int = 0
    client_timeouts: int = 0  # calls the runner gave up waiting for (spikes, late answers)
    retry_failed: int = 0
    reviews: int = 0
    exit_codes: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    invariant: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Finished, and the invariant held."""
        return self.finished and not self.problems


@dataclass
class ChaosReport:
    """Every campaign's report and the totals."""

    config: ChaosConfig
    campaigns: list[CampaignReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every campaign finished with the invariant holding."""
        return all(c.ok for c in self.campaigns)

    def totals(self) -> dict[str, object]:
        """Sums over the campaigns (faults by kind, duplicates and lost grants included)."""
        out: Counter[str] = Counter()
        faults: Counter[str] = Counter()
        for c in self.campaigns:
            out.update(
                campaigns=1,
                grants=c.grants,
                kills=c.kills,
                sandbox_restarts=c.sandbox_restarts,
                deletions=c.deletions,
                adopts=c.adopts,
                latency_spikes=c.latency_spikes,
                client_timeouts=c.client_timeouts,
                runner_starts=c.rounds,
                retry_failed=c.retry_failed,
                reviews=c.reviews,
                duplicates=_int(c.invariant.get("duplicates")),
                grants_lost=_int(c.invariant.get("lost")),
                extra_vouchers=_int(c.invariant.get("extra_vouchers")),
                results_mismatches=_int(c.invariant.get("results_mismatches")),
            )
            faults.update(c.faults)
        return {
            **{k: out[k] for k in sorted(out)},
            "faults_injected": sum(faults.values()),
            "faults": dict(sorted(faults.items())),
            "ok": self.ok,
        }

    def as_dict(self) -> dict[str, object]:
        """The JSON summary."""
        return {
            "config": asdict(self.config),
            "campaigns": [{**asdict(c), "ok": c.ok} for c in self.campaigns],
            "totals": self.totals(),
        }


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


# --- the pieces of a round ------------------------------------------------------------------


class Spikes:
    """Now and then, for well under a second, a latency spike (some past the timeout)."""

    def __init__(self, sandbox: SandboxProcess, rng: random.Random, config: ChaosConfig) -> None:
        self.count = 0
        self._sandbox, self._rng, self._config = sandbox, rng, config
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chaos-spikes", daemon=True)

    def _set(self, latency: str) -> bool:
        url = self._sandbox.base_url
        if url is None:
            return False
        try:
            set_faults(url, fault_spec(latency, self._config.timeout_s * 1.5))
        except httpx.HTTPError:  # the sandbox is down for a restart: no spike this time
            return False
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self._rng.uniform(1.5, 4.0)):
            if self._set(self._config.spike_latency):
                self.count += 1
                self._stop.wait(self._rng.uniform(0.3, 1.0))
                self._set(self._config.base_latency)

    def __enter__(self) -> Spikes:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._set(self._config.base_latency)


def _remote_grants(base_url: str) -> int | None:
    try:
        return granted(base_url)
    except httpx.HTTPError:
        return None


def _wait_for(condition: Callable[[], bool], seconds: float, every: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(every)


def _sigkill(child: subprocess.Popen[bytes]) -> bool:
    """SIGKILL the child if it still runs; True when it did."""
    if child.poll() is not None:
        return False
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    return True


@dataclass
class _Campaign:
    """One campaign's files, processes and counts while it runs."""

    config: ChaosConfig
    seed: int
    folder: Path
    rng: random.Random
    sandbox: SandboxProcess
    campaign: Path
    report: CampaignReport

    @property
    def state(self) -> Path:
        return self.folder / "state"

    @property
    def log(self) -> Path:
        return self.folder / "run.log"

    def note(self, text: str) -> None:
        """One line of the driver's own log (``chaos.log``): what it did, and when."""
        with (self.folder / "chaos.log").open("a", encoding="utf-8") as out:
            out.write(f"{time.strftime('%H:%M:%S')} {text}\n")

    @property
    def url(self) -> str:
        assert self.sandbox.base_url is not None
        return self.sandbox.base_url

    def cli(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """One ``runner`` command on this campaign and state dir, logged to run.log."""
        command = runner_command(*args, str(self.campaign), "--state-dir", str(self.state))
        with self.log.open("ab") as out:
            return subprocess.run(
                command,
                env=subprocess_env(self.url),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                timeout=self.config.run_timeout_s,
                check=False,
            )

    def wait_moment(self, child: subprocess.Popen[bytes], pending: int) -> None:
        """Wait for a random moment of this run: by time, or by the remote's progress (a
        share of the grants still to make, so that ``pending`` disruptions all fit)."""
        if self.rng.random() < 0.3:  # anywhere: start-up, planning, creating, granting
            seconds = self.rng.uniform(0.5, 3.0)
            self.note(f"waiting {seconds:.2f} s")
            _wait_for(lambda: child.poll() is not None, seconds)
            return
        before = _remote_grants(self.url) or 0
        share = (self.report.grants - before) // (pending + 1)
        target = before + self.rng.randint(1, max(1, share))
        self.note(f"waiting for {target} remote grants (now {before})")

        def reached() -> bool:
            now = _remote_grants(self.url)
            return child.poll() is not None or (now is not None and now >= target)

        _wait_for(reached, 60.0, every=0.2)  # inspect lists every grant: not too often
        _wait_for(lambda: child.poll() is not None, self.rng.uniform(0.0, 0.5))

    def disrupt(self, child: subprocess.Popen[bytes], what: Disruption) -> bool:
        """Do ``what`` to a running round; False when the runner had ended already."""
        if child.poll() is not None:
            self.note(f"{what}: the runner had ended (exit {child.returncode})")
            return False
        self.note(f"{what} (remote grants: {_remote_grants(self.url)})")
        if what == "sandbox":
            self.sandbox.kill()
            time.sleep(self.rng.uniform(0.1, 1.0))
            self.sandbox.start()
            self.report.sandbox_restarts += 1
            return True
        if not _sigkill(child):
            return False
        self.report.kills += 1
        if what == "delete":
            # As a person would: not within a second of the kill (a create held up past the
            # timeout by a spike could otherwise land after adopt looked, and nothing that
            # knew of it survives the deletion).
            time.sleep(2 * self.config.timeout_s)
            shutil.rmtree(self.state)
            self.report.deletions += 1
            self.adopt()
        return True

    def adopt(self, tries: int = 3) -> None:
        """``runner adopt --yes``: the state dir is gone; take the remote's work back in
        (again after an exit 4, as a person would: the API was unreachable)."""
        for _ in range(tries):
            done = self.cli("adopt", "--yes", "--json")
            self.report.adopts += 1
            self._exit(f"adopt:{done.returncode}")
            self.note(f"runner adopt ended with exit {done.returncode}")
            if done.returncode != 4:
                break
        if done.returncode != 0:
            self.report.problems.append(f"runner adopt ended with exit {done.returncode}")

    def _exit(self, key: str) -> None:
        self.report.exit_codes[key] = self.report.exit_codes.get(key, 0) + 1

    def round(self, pending: list[Disruption]) -> int | None:
        """One ``runner run``, disrupted by the next pending disruptions (a sandbox restart
        lets it go on to the next one); its exit code, or None when it was killed."""
        self.report.rounds += 1
        self.note(f"round {self.report.rounds}: runner run")
        child = start_run(self.campaign, self.state, self.url, self.log)
        try:
            while pending:
                self.wait_moment(child, len(pending))
                if not self.disrupt(child, pending[0]):
                    break  # it ended by itself first
                if pending.pop(0) != "sandbox":
                    return None
            code = child.wait(timeout=self.config.run_timeout_s)
        finally:
            _sigkill(child)
        self._exit(f"run:{code}")
        self.note(f"the runner ended with exit {code}")
        return code

    def settle(self, code: int) -> bool:
        """After a round that ended by itself: True when the campaign is done."""
        if code == 0:
            return True
        if code == 1:  # grants failed for good: a person would retry them
            self.report.retry_failed += 1
            self._exit(f"retry-failed:{self.cli('retry-failed', '--yes').returncode}")
        elif code == 3:
            self.report.reviews += 1
            review = self.cli("review", "--json")
            self.report.problems.append(
                f"exit 3 (review; `runner review` exit {review.returncode}): see {self.log}"
            )
            raise _Unsettled
        elif code not in (4, 130):
            self.report.problems.append(f"runner run ended with exit {code}: see {self.log}")
            raise _Unsettled
        return False


class _Unsettled(Exception):
    """The campaign cannot be brought to an end by rerunning."""


def _timeouts(log: Path, timeout_s: float) -> int:
    """The runner's ``api.call`` lines that waited the whole timeout (no answer in time)."""
    count = 0
    for line in log.read_text("utf-8", errors="replace").splitlines():
        if '"api.call"' not in line:
            continue
        with contextlib.suppress(json.JSONDecodeError):  # a line cut short by a SIGKILL
            elapsed = json.loads(line).get("elapsed_ms")
            count += isinstance(elapsed, float | int) and elapsed >= timeout_s * 1000
    return count


def _disruptions(config: ChaosConfig, rng: random.Random) -> list[Disruption]:
    counts: dict[Disruption, int] = {
        "kill": config.kills,
        "sandbox": config.sandbox_restarts,
        "delete": config.deletions,
    }
    plan = [what for what, count in counts.items() for _ in range(count)]
    rng.shuffle(plan)
    return plan


def _drive(work: _Campaign) -> None:
    """Rounds until a run ends with exit 0 (disruptions first, then undisturbed runs)."""
    config, report = work.config, work.report
    pending = _disruptions(config, work.rng)
    while report.rounds < config.max_rounds:
        code = work.round(pending)
        if code is not None and work.settle(code):
            if pending:
                report.problems.append(f"finished before {pending} could happen")
            report.finished = True
            return
    report.problems.append(f"not finished after {config.max_rounds} rounds")


def run_one(config: ChaosConfig, seed: int, folder: Path) -> CampaignReport:
    """One campaign, from its generation to its invariant check."""
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"chaos:{seed}")
    api = {
        "rate": config.rate,
        "concurrency": config.concurrency,
        "timeout_s": config.timeout_s,
        "settle_s": config.timeout_s,
    }
    campaign = write_chaos_campaign(
        folder, seed=seed, grants=config.grants, vouchers=config.vouchers, **api
    )
    faults = fault_spec(config.base_latency, config.timeout_s * 1.5)
    sandbox = SandboxProcess(folder, seed=seed, rate=config.sandbox_rate, faults=faults)
    report = CampaignReport(seed=seed)
    try:
        url = sandbox.start()
        plan = plan_of(campaign, url)
        report.grants, report.vouchers = plan.jobs.height, len(plan.vouchers)
        work = _Campaign(config, seed, folder, rng, sandbox, campaign, report)
        spikes = Spikes(sandbox, random.Random(f"spikes:{seed}"), config)
        with spikes, contextlib.suppress(_Unsettled):
            _drive(work)
        report.latency_spikes = spikes.count
        report.client_timeouts = _timeouts(work.log, config.timeout_s)
        check: Check = check_invariant(work.url, plan, work.state)
        report.invariant = {k: v for k, v in asdict(check).items() if k != "problems"}
        report.problems += check.problems
    finally:
        sandbox.stop()
        report.faults = dict(sorted(sandbox.fault_counts().items()))
        report.seconds = round(time.monotonic() - started, 1)
    return report


def run_chaos(config: ChaosConfig, workdir: Path) -> ChaosReport:
    """Every campaign of ``config``, each in ``workdir/seed-N``."""
    report = ChaosReport(config)
    for n in range(config.campaigns):
        seed = config.seed + n
        report.campaigns.append(run_one(config, seed, workdir / f"seed-{seed}"))
    return report


# --- command line ---------------------------------------------------------------------------


def _arguments(argv: list[str] | None) -> tuple[ChaosConfig, Path | None]:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.driver", description=__doc__)
    defaults = ChaosConfig()
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--campaigns", type=int, default=defaults.campaigns)
    parser.add_argument("--grants", type=int, default=defaults.grants)
    parser.add_argument("--vouchers", type=int, default=defaults.vouchers)
    parser.add_argument("--kills", type=int, default=defaults.kills)
    parser.add_argument("--sandbox-restarts", type=int, default=defaults.sandbox_restarts)
    parser.add_argument("--deletions", type=int, default=defaults.deletions)
    parser.add_argument("--rate", type=float, default=defaults.rate)
    parser.add_argument("--sandbox-rate", type=float, default=defaults.sandbox_rate)
    parser.add_argument("--workdir", type=Path, help="keep every file here (default: a temp dir)")
    args = parser.parse_args(argv)
    config = replace(
        defaults,
        seed=args.seed,
        campaigns=args.campaigns,
        grants=args.grants,
        vouchers=args.vouchers,
        kills=args.kills,
        sandbox_restarts=args.sandbox_restarts,
        deletions=args.deletions,
        rate=args.rate,
        sandbox_rate=args.sandbox_rate,
    )
    return config, args.workdir


@contextlib.contextmanager
def _workdir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    folder = Path(tempfile.mkdtemp(prefix="chaos-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run the campaigns, print the JSON summary; 0 when every invariant held."""
    config, given = _arguments(argv)
    started = time.monotonic()
    with _workdir(given) as workdir:
        report = run_chaos(config, workdir)
        summary = report.as_dict() | {"seconds": round(time.monotonic() - started, 1)}
        if not report.ok:
            summary["kept"] = str(workdir)
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
