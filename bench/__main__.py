"""Side-by-side benchmarks: each figure next to a baseline measured in the same run.

``python -m bench`` (``make bench``) prints one table and writes ``bench/results.json``
(machine, command, figures and baselines). These machines are shared and noisy: read the
ratios, not the absolute times. Nothing here is asserted by a test.

1. Plan expansion in memory: jobs per second for 1x and 10x audiences (linear?).
2. The ledger's write-ahead cost: a commit per transition against one for all.
3. ``runner plan`` end to end on generated CSVs (19-digit ids, Chinese names): 100k and
   1M customers, and 1M customers of whom 20 % get two vouchers (1.2M jobs, more than
   one Excel sheet holds); wall time and peak memory of the process, next to the floor
   (polars reading the same CSV and writing it as parquet, in a process of its own).
4. ``runner sandbox`` with ``--state FILE`` against the same sandbox in memory: grants per
   second and the sandbox's CPU per grant, 10,000 grants over loopback.
5. Client CPU per request of httpx with ``sniffio`` installed against the same process
   where ``import sniffio`` fails as a missing module does (what httpcore paid before).
6. Pacing (``bench.pacing``, in-process, a fake server enforcing a sliding one-second
   limit): the run's throttle at 50, 200 and 500 requests/s, and at 300/s against a server
   allowing 200/s (the limit unknown); accepted requests over the limit.
7. The grant phase's ledger marks (``sending`` awaited, outcome queued) for 2,000 jobs by
   32 workers: group commit in the writer thread against a commit per transition on the
   event loop; wall time and the event loop thread's CPU. And a WAL commit with
   ``synchronous=FULL`` against ``NORMAL`` (what the durability setting costs).
8. End to end (``bench.run_e2e``): ``runner run --yes`` through the CLI against ``runner
   sandbox --rate LIMIT --faults latency=50ms~20ms`` in another process, next to the
   fixed-schedule plain-httpx script ``bench.fixed_schedule`` against the same sandbox.

``--quick`` runs smaller sizes (100k customers, 2,000 grants) for a look in a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import polars as pl

from bench.generate import generate
from bench.run_e2e import measure as measure_e2e
from bench.sandbox_state import measure, sandbox_process
from runner import logs
from runner.campaign import load_campaign
from runner.ledger import JobRow, Ledger, LedgerWriter, VoucherRow
from runner.plan import build_plan
from runner.sheets import AudienceTable

_RESULTS = Path(__file__).with_name("results.json")

_CAMPAIGN = """\
campaign: bench
audiences:
  all:
    file: customers.csv
    key: cm_code
    columns: {cm_code: code, level: level, qty: qty}
vouchers:
  v:
    name: bench
    start_date: "2099-01-01"
    end_date: "2099-01-31"
    money: "1.00"
    grant_type: HDFF
    customers: specific
    products: {mode: ALL}
    total: 99999
    each_customer_limit: 3
grants:
  - {voucher: v, audience: all, where: "level IN ('A', 'B')", quantity: qty}
"""


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, its baseline from the same run, and their ratio."""

    measurement: str
    figure: str
    baseline: str
    ratio: str
    note: str = ""


def _timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_plan(directory: Path) -> list[Row]:
    """build_plan in memory for 3,000 and 30,000 customers: jobs per second."""
    (directory / "campaign.yaml").write_text(_CAMPAIGN, encoding="utf-8")
    (directory / "customers.csv").write_text("code,level,qty\n", encoding="utf-8")
    campaign = load_campaign(directory / "campaign.yaml")
    rng = random.Random(1)
    rates: dict[int, tuple[int, float]] = {}
    for n in (3_000, 30_000):
        frame = pl.DataFrame(
            {
                "code": [f"CUS{i:08d}" for i in range(n)],
                "level": [rng.choice("ABC") for _ in range(n)],
                "qty": [str(rng.choice((1, 1, 2))) for _ in range(n)],
            }
        ).with_columns(
            pl.col("code").alias("cm_code"),
            pl.int_range(2, n + 2).cast(pl.Int64).alias("_row"),
        )
        audience = AudienceTable(
            "all",
            directory / "customers.csv",
            None,
            "cm_code",
            frame,
            {"cm_code": "code", "level": "level", "qty": "qty"},
            "utf-8",
        )
        jobs = build_plan(campaign, {"all": audience}).jobs.height
        rates[n] = (jobs, _timed(partial(build_plan, campaign, {"all": audience})))
    (small_jobs, small), (big_jobs, big) = rates[3_000], rates[30_000]
    return [
        Row(
            "build_plan, 30k customers (10x)",
            f"{big * 1000:.1f} ms, {big_jobs / big:,.0f} jobs/s",
            f"3k: {small * 1000:.1f} ms, {small_jobs / small:,.0f} jobs/s",
            f"{big / small:.1f}x the time",
            "linear: about 10x",
        )
    ]


def bench_ledger(directory: Path, n: int = 500) -> list[Row]:
    """mark_sending one commit each against one transaction (synchronous=FULL both)."""
    jobs = [JobRow(f"j{i:06d}", "v", "all", f"C{i}", "cm_code", 1) for i in range(n)]
    voucher = VoucherRow("v", "f", {"name": "bench"})
    results: dict[str, float] = {}
    for mode in ("per-transition", "batched"):
        with Ledger.open(directory / mode, "bench") as ledger:
            ledger.sync_plan("h", [voucher], jobs)
            start = time.perf_counter()
            if mode == "per-transition":
                for job in jobs:
                    ledger.mark_sending(job.job_id, "m" + job.job_id)
            else:
                ledger.mark_sending_many([(j.job_id, "m" + j.job_id) for j in jobs])
            results[mode] = time.perf_counter() - start
    per, batched = results["per-transition"], results["batched"]
    return [
        Row(
            f"ledger: {n} mark_sending, a commit each",
            f"{per * 1000:.0f} ms ({n / per:,.0f}/s)",
            f"one commit: {batched * 1000:.1f} ms",
            f"{per / batched:.1f}x slower",
            "fsync-bound",
        )
    ]


def _marks_per_transition(ledger: Ledger, jobs: Sequence[JobRow], workers: int) -> None:
    async def worker(queue: list[JobRow]) -> None:
        while queue:
            job = queue.pop()
            ledger.mark_sending(job.job_id, "m" + job.job_id)
            await asyncio.sleep(0)  # the request would go out here
            ledger.mark_done(job.job_id)

    async def run() -> None:
        queue = list(jobs)
        await asyncio.gather(*(worker(queue) for _ in range(workers)))

    asyncio.run(run())


def _marks_group_commit(ledger: Ledger, jobs: Sequence[JobRow], workers: int) -> None:
    async def worker(writer: LedgerWriter, queue: list[JobRow]) -> None:
        while queue:
            job = queue.pop()
            await writer.sending(job.job_id, "m" + job.job_id)
            await asyncio.sleep(0)  # the request would go out here
            writer.done(job.job_id)

    async def run() -> None:
        queue = list(jobs)
        with LedgerWriter(ledger) as writer:
            await asyncio.gather(*(worker(writer, queue) for _ in range(workers)))

    asyncio.run(run())


def bench_group_commit(directory: Path, n: int = 2_000, workers: int = 32) -> list[Row]:
    """sending + done for n jobs by 32 workers: the writer thread against the loop."""
    jobs = [JobRow(f"j{i:06d}", "v", "all", f"C{i}", "cm_code", 1) for i in range(n)]
    voucher = VoucherRow("v", "f", {"name": "bench"})
    figures: dict[str, tuple[float, float, float]] = {}
    for mode, marks in (("loop", _marks_per_transition), ("writer", _marks_group_commit)):
        with Ledger.open(directory / f"marks-{mode}", "bench") as ledger:
            ledger.sync_plan("h", [voucher], jobs)
            wall, loop_cpu, cpu = time.perf_counter(), time.thread_time(), time.process_time()
            marks(ledger, jobs, workers)
            figures[mode] = (
                time.perf_counter() - wall,
                time.thread_time() - loop_cpu,
                time.process_time() - cpu,
            )
    (loop_wall, loop_cpu, loop_all), (writer_wall, writer_cpu, writer_all) = (
        figures["loop"],
        figures["writer"],
    )
    rows = [
        Row(
            f"ledger: {n:,} grants' marks (sending + done), {workers} workers, group commit",
            f"{writer_wall * 1000:,.0f} ms; CPU a grant: loop thread {writer_cpu * 1e6 / n:,.0f}"
            f" µs, process {writer_all * 1e6 / n:,.0f} µs",
            f"a commit each on the loop: {loop_wall * 1000:,.0f} ms; loop thread "
            f"{loop_cpu * 1e6 / n:,.0f} µs, process {loop_all * 1e6 / n:,.0f} µs",
            f"{loop_wall / writer_wall:.1f}x faster, {loop_cpu / max(writer_cpu, 1e-9):.1f}x "
            "less loop CPU",
            "synchronous=FULL both",
        )
    ]
    return rows + _bench_synchronous(directory)


def _bench_synchronous(directory: Path, n: int = 300) -> list[Row]:
    """One small commit n times in WAL mode, synchronous FULL against NORMAL."""
    seconds: dict[str, float] = {}
    for mode in ("FULL", "NORMAL"):
        conn = sqlite3.connect(directory / f"sync-{mode}.sqlite", isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {mode}")
        conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        start = time.perf_counter()
        for i in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (v) VALUES (?)", (f"value {i}",))
            conn.execute("COMMIT")
        seconds[mode] = time.perf_counter() - start
        conn.close()
    full, normal = seconds["FULL"], seconds["NORMAL"]
    return [
        Row(
            f"SQLite WAL commit, synchronous=FULL ({n} commits)",
            f"{full * 1e6 / n:,.0f} µs a commit",
            f"NORMAL: {normal * 1e6 / n:,.0f} µs a commit",
            f"{full / normal:.1f}x",
            "FULL fsyncs the WAL at every commit",
        )
    ]


def bench_e2e(directory: Path, limits: Sequence[int], grants: int) -> list[Row]:
    """``runner run`` against a rate-limited sandbox, next to the fixed-schedule script."""
    rows: list[Row] = []
    for limit in limits:
        n = min(grants, limit * 30)
        got = measure_e2e(float(limit), n, directory)
        run, base = got.runner, got.baseline
        rows.append(
            Row(
                f"runner run, limit {limit}/s, {n:,} grants (50±20 ms, 32 at a time)",
                f"{run.rate:,.1f} accepted/s = {run.rate / limit:.3f} of the limit, "
                f"{run.pushbacks} pushbacks; grant phase CPU {run.cpu_ms_per_grant:.2f} ms a "
                f"grant (whole process {got.runner_total_cpu_ms_per_grant:.2f} ms, "
                f"{got.runner_rss_mb:,.0f} MB, exit {got.exit_code})",
                f"fixed-schedule httpx script: {base.rate:,.1f}/s = {base.rate / limit:.3f}, "
                f"{base.pushbacks} refused, CPU {base.cpu_ms_per_grant:.2f} ms a grant",
                f"{run.rate / max(base.rate, 1e-9):.2f}x the rate, "
                f"{run.cpu_ms_per_grant / max(base.cpu_ms_per_grant, 1e-9):.2f}x the CPU",
                f"{run.note} for {2 * run.accepted:,} marks",
            )
        )
    return rows


@dataclass(frozen=True)
class _Process:
    seconds: float
    max_rss_mb: float
    code: int


def _run(command: Sequence[str], cwd: Path) -> _Process:
    """Run a command; its wall time and its own peak resident memory (wait4's rusage)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        list(command), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return _Process(seconds, usage.ru_maxrss / 1024, child.returncode)


_FLOOR = (
    "import sys, polars as pl; "
    "pl.read_csv(sys.argv[1], infer_schema=False).write_parquet(sys.argv[2])"
)


def bench_plan_cli(directory: Path, sizes: Sequence[tuple[int, float]]) -> list[Row]:
    """``runner plan`` on generated campaigns, next to reading the CSV into parquet."""
    rows: list[Row] = []
    for customers, double in sizes:
        folder = directory / f"plan-{customers}-{double}"
        campaign = generate(folder, customers, double=double)
        floor = _run([sys.executable, "-c", _FLOOR, "customers.csv", "floor.parquet"], folder)
        command = [sys.executable, "-m", "runner", "plan", str(campaign), "--json"]
        plan = _run([*command, "--state-dir", str(folder / "state")], folder)
        jobs = pl.scan_parquet(folder / "state" / "bench-large" / "plan.parquet").select(pl.len())
        count = jobs.collect().item() if plan.code == 0 else 0
        rows.append(
            Row(
                f"runner plan, {customers:,} customers → {count:,} jobs",
                f"{plan.seconds:.1f} s, {plan.max_rss_mb:,.0f} MB (exit {plan.code})",
                f"CSV → parquet: {floor.seconds:.1f} s, {floor.max_rss_mb:,.0f} MB",
                f"{plan.seconds / floor.seconds:.1f}x time, "
                f"{plan.max_rss_mb / floor.max_rss_mb:.1f}x memory",
                f"{count / plan.seconds:,.0f} jobs/s",
            )
        )
    return rows


def bench_sandbox(grants: int) -> list[Row]:
    """A sandbox with a state file against one in memory, the same grants."""
    memory = measure(grants, state=False)
    state = measure(grants, state=True)
    return [
        Row(
            f"runner sandbox --state, {grants:,} grants",
            f"{state.grants_per_second:,.0f} grants/s, "
            f"sandbox CPU {state.server_cpu_ms:.2f} ms a grant",
            f"in memory: {memory.grants_per_second:,.0f} grants/s, "
            f"{memory.server_cpu_ms:.2f} ms a grant",
            f"{state.grants_per_second / memory.grants_per_second:.2f}x the rate",
            f"sandbox alone could do {1000 / state.server_cpu_ms:,.0f} grants/s",
        )
    ]


def _client_cpu(base_url: str, requests: int, hide: bool) -> float:
    command = [sys.executable, "-m", "bench.client_cpu", base_url, "--requests", str(requests)]
    done = subprocess.run(
        [*command, *(["--hide-sniffio"] if hide else [])],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    return float(done.stdout.strip())


def bench_sniffio(requests: int, rounds: int = 3) -> list[Row]:
    """httpx client CPU per request, sniffio importable or failing, alternating rounds."""
    found: list[float] = []
    missing: list[float] = []
    with sandbox_process(10, None) as sandbox:
        for _ in range(rounds):
            found.append(_client_cpu(sandbox.base_url, requests, hide=False))
            missing.append(_client_cpu(sandbox.base_url, requests, hide=True))
    with_, without = statistics.median(found), statistics.median(missing)
    return [
        Row(
            "httpx client CPU a request, sniffio installed",
            f"{with_:,.0f} µs",
            f"import sniffio failing: {without:,.0f} µs",
            f"{with_ / without:.2f}x the CPU",
            f"median of {rounds} rounds of {requests:,} requests",
        )
    ]


def bench_pacing(limits: Sequence[int], seconds: float) -> list[Row]:
    """The throttle against a fake server's sliding one-second limit (see bench.pacing)."""
    try:
        from bench.pacing import run_one
    except ImportError as exc:  # the module belongs to the pacing work; report, go on
        return [Row("pacing", "not measured", "", "", f"bench.pacing: {exc}")]
    rows: list[Row] = []
    for limit, asked in [*((one, float(one)) for one in limits), (200, 300.0)]:
        n = int(limit * seconds * (2.5 if asked > limit else 1))
        result = run_one("throttle", limit, asked, n)
        what = f"asks {asked:.0f}/s, server allows {limit}/s" if asked > limit else f"{limit}/s"
        rows.append(
            Row(
                f"pacing (throttle), {what}",
                f"{result.accepted / result.seconds:,.1f} accepted/s, at most "
                f"{result.max_in_1s} in a second, {result.pushbacks} pushbacks",
                f"the limit: {limit}/s",
                f"{result.ratio:.3f} of the limit",
                f"client CPU {result.cpu_ms_per_request:.2f} ms a request",
            )
        )
    return rows


def _table(rows: Sequence[Row]) -> str:
    headers = ("measurement", "figure", "baseline (same run)", "ratio", "note")
    cells = [headers, *[(r.measurement, r.figure, r.baseline, r.ratio, r.note) for r in rows]]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "---|" * len(headers))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, about a minute")
    parser.add_argument("--no-save", action="store_true", help="do not write results.json")
    args = parser.parse_args(argv)
    logs.configure("console", level="error")  # the throttle's pushback warnings are counted
    started = time.perf_counter()
    sizes = [(100_000, 0.0)]
    grants, requests, limits, seconds = 2_000, 1_000, [200], 4.0
    e2e_grants = 1_000
    if not args.quick:
        sizes += [(1_000_000, 0.0), (1_000_000, 0.2)]
        grants, requests, limits, seconds = 10_000, 3_000, [50, 200, 500], 8.0
        e2e_grants = 3_000
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        steps: list[tuple[str, Callable[[], list[Row]]]] = [
            ("plan", lambda: bench_plan(Path(tmp))),
            ("ledger", lambda: bench_ledger(Path(tmp))),
            ("plan-cli", lambda: bench_plan_cli(Path(tmp), sizes)),
            ("sandbox", lambda: bench_sandbox(grants)),
            ("sniffio", lambda: bench_sniffio(requests)),
            ("pacing", lambda: bench_pacing(limits, seconds)),
            ("group-commit", lambda: bench_group_commit(Path(tmp))),
            ("e2e", lambda: bench_e2e(Path(tmp), limits, e2e_grants)),
        ]
        for name, step in steps:
            print(f"... {name}", file=sys.stderr, flush=True)
            rows += step()
    table = _table(rows)
    print(table)
    if not args.no_save:
        results = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": "python -m bench" + (" --quick" if args.quick else ""),
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "polars": pl.__version__,
                "load_average": os.getloadavg(),
            },
            "seconds": round(time.perf_counter() - started, 1),
            "rows": [asdict(row) for row in rows],
        }
        _RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
