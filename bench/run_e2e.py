"""End to end: ``runner run --yes`` through the real CLI against ``runner sandbox`` with a
rate limit, next to a fixed-schedule plain-httpx script (``bench.fixed_schedule``).

For each limit, one sandbox process (``--rate LIMIT``, ``--faults latency=50ms~20ms``,
``2 x grants`` generated customers) serves, one after the other:

1. ``python -m runner --log-format json run campaign.yaml --yes`` in its own process: a
   generated campaign (one voucher, customers ``CUS000001``…, one grant each), the
   campaign's rate the limit, 32 at a time. Its grant phase's ``phase finished`` line
   gives the phase's seconds, its accepted grants and its CPU (``time.process_time()``,
   every thread); ``os.wait4`` gives the whole process's CPU and peak memory.
2. the baseline script, in its own process, on the other half of the customers.

``python -m bench.run_e2e [--limits 50,200,500] [--grants 3000] [--before DIR]`` prints the
figures. ``--before DIR`` (a checkout of older code, e.g. ``git worktree add DIR REV``) also
runs ``runner run`` from DIR (its directory first on ``PYTHONPATH``, the same venv) against
the same sandbox, before the current code, on customers of its own: before and after side
by side in one invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.sandbox_state import sandbox_process
from runner.ledger import Ledger
from runner.sandbox import DEFAULT_APPKEY, DEFAULT_OPENID

__all__ = ["E2EFigures", "measure"]

_REPO = Path(__file__).resolve().parent.parent
LATENCY = "50ms~20ms"
CONCURRENCY = 32

_CAMPAIGN = """\
campaign: bench-e2e
api:
  base_url: ${{SANDBOX_URL}}
  openid: ${{WAIQIN_OPENID}}
  appkey: ${{WAIQIN_APPKEY}}
  rate: {rate}
  concurrency: {concurrency}
audiences:
  all:
    file: customers.csv
    key: cm_code
    columns: {{cm_code: code, qty: qty}}
vouchers:
  v:
    name: 端到端 {tag}
    start_date: "2099-03-01"
    end_date: "2099-03-31"
    money: "10.00"
    grant_type: HDFF
    customers: specific
    products: {{mode: ALL}}
grants:
  - {{voucher: v, audience: all, quantity: qty}}
"""


@dataclass(frozen=True)
class Side:
    """One side of a measurement: accepted grants over the grant phase, and CPU."""

    accepted: int
    seconds: float
    cpu_ms_per_grant: float
    pushbacks: int
    note: str = ""

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class E2EFigures:
    """The runner and the baseline at one limit."""

    limit: float
    grants: int
    runner: Side
    baseline: Side
    runner_total_cpu_ms_per_grant: float
    runner_wall_s: float
    runner_rss_mb: float
    exit_code: int
    before: Side | None = None
    before_total_cpu_ms_per_grant: float | None = None


@contextmanager
def _sandbox(customers: int, limit: float, folder: Path) -> Iterator[str]:
    extra = ["--rate", str(limit), "--faults", f"latency={LATENCY}"]
    with sandbox_process(customers, None, extra=extra, log=folder / "sandbox.log") as sandbox:
        yield sandbox.base_url


def _wait4(
    command: Sequence[str], env: dict[str, str], log: Path, cwd: Path = _REPO
) -> tuple[int, float, float, float]:
    """Run; exit code, wall seconds, CPU seconds (user + sys) and peak RSS (MB) of the child."""
    start = time.perf_counter()
    with log.open("wb") as out:
        child = subprocess.Popen(
            list(command), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd
        )
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    return (
        os.waitstatus_to_exitcode(status),
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
    )


def _grant_phase(log: Path) -> dict[str, Any]:
    """The grant phase's closing line of a JSON log (the last one, if there were rounds)."""
    found: dict[str, Any] = {}
    for line in log.read_text("utf-8", errors="replace").splitlines():
        if '"phase finished"' in line and '"grant"' in line:
            with_counts = json.loads(line)
            if with_counts.get("phase") == "grant" and not found:
                found = with_counts
    return found


def _runner_side(
    base_url: str, limit: float, grants: int, folder: Path, code_dir: Path = _REPO, first: int = 1
) -> tuple[Side, float, float, float, int]:
    folder.mkdir(parents=True, exist_ok=True)
    numbers = range(first, first + grants)
    csv = "code,qty\n" + "".join(f"CUS{n:06d},1\n" for n in numbers)
    (folder / "customers.csv").write_text(csv, encoding="utf-8")
    # a voucher name of its own: the sandbox holds the other side's voucher too
    tag = "before" if code_dir != _REPO else "after"
    text = _CAMPAIGN.format(rate=limit, concurrency=CONCURRENCY, tag=tag)
    (folder / "campaign.yaml").write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAIQIN_")}
    env |= {
        "SANDBOX_URL": base_url,
        "WAIQIN_OPENID": DEFAULT_OPENID,
        "WAIQIN_APPKEY": DEFAULT_APPKEY,
    }
    if code_dir != _REPO:
        env["PYTHONPATH"] = os.pathsep.join([str(code_dir), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "runner", "--log-format", "json", "run"]
    command += [str(folder / "campaign.yaml"), "--yes", "--state-dir", str(folder / "state")]
    code, wall, cpu, rss = _wait4(command, env, folder / "run.log", code_dir)
    phase = _grant_phase(folder / "run.log")
    seconds = phase.get("duration_ms", 0) / 1000
    done = int(phase.get("done", 0))
    cpu_ms = float(phase.get("cpu_ms", 0))
    with Ledger.open(folder / "state", "bench-e2e", read_only=True) as ledger:
        run = ledger.last_run()
    summary: dict[str, Any] = dict(run.summary or {}) if run is not None else {}
    pushbacks = int(summary.get("pushbacks", 0))
    side = Side(
        done, seconds, cpu_ms / max(done, 1), pushbacks, f"{phase.get('commits', '?')} commits"
    )
    return side, cpu * 1000 / max(grants, 1), wall, rss, code


def _baseline_side(base_url: str, limit: float, grants: int, folder: Path) -> Side:
    command = [sys.executable, "-m", "bench.fixed_schedule", base_url, "--rate", str(limit)]
    command += ["--grants", str(grants), "--first", str(grants + 1)]
    code, _wall, _cpu, _rss = _wait4(command, dict(os.environ), folder / "baseline.log")
    if code != 0:
        raise RuntimeError((folder / "baseline.log").read_text("utf-8")[-2000:])
    figures = json.loads((folder / "baseline.log").read_text("utf-8").strip().splitlines()[-1])
    accepted = int(figures["accepted"])
    return Side(
        accepted,
        figures["seconds"],
        figures["cpu_s"] * 1000 / max(accepted, 1),
        int(figures["pushbacks"]),
    )


def measure(
    limit: float, grants: int, directory: Path, before_dir: Path | None = None
) -> E2EFigures:
    """The runner and the baseline against one sandbox limited to ``limit`` requests/s
    (and the runner from *before_dir* first, if given, on customers 2 x grants + 1 ...)."""
    folder = directory / f"e2e-{limit:g}"
    folder.mkdir(parents=True, exist_ok=True)
    before: tuple[Side, float, float, float, int] | None = None
    with _sandbox(3 * grants, limit, folder) as base_url:
        if before_dir is not None:
            before = _runner_side(
                base_url, limit, grants, folder / "before", before_dir, 2 * grants + 1
            )
            time.sleep(1.0)  # the sandbox's one-second window empties
        runner, total_cpu, wall, rss, code = _runner_side(base_url, limit, grants, folder)
        time.sleep(1.0)
        baseline = _baseline_side(base_url, limit, grants, folder)
    return E2EFigures(
        limit,
        grants,
        runner,
        baseline,
        total_cpu,
        wall,
        rss,
        code,
        before[0] if before else None,
        before[1] if before else None,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", default="50,200,500")
    parser.add_argument("--grants", type=int, default=3000)
    parser.add_argument("--before", type=Path, default=None, help="a checkout of older code")
    args = parser.parse_args(argv)
    before_dir = args.before.resolve() if args.before is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        for limit in (float(x) for x in args.limits.split(",")):
            grants = min(args.grants, int(limit * 30))
            figures = measure(limit, grants, Path(tmp), before_dir)
            print(json.dumps(figures, default=lambda o: o.__dict__))


if __name__ == "__main__":
    main()
