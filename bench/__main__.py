"""Side-by-side benchmarks: report ratios measured in one run, never absolute promises.

1. Plan expansion: jobs per second for 1x and 10x audiences (does it scale linearly?).
2. The ledger's write-ahead cost: one commit per transition (what the grant loop does)
   against the same transitions batched in one transaction, both with synchronous=FULL.
   The grant loop runs at the API's rate (about 10/s), far below either figure.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from runner.campaign import load_campaign
from runner.ledger import JobRow, Ledger, VoucherRow
from runner.plan import build_plan
from runner.sheets import AudienceTable

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


def _timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_plan(directory: Path) -> None:
    (directory / "campaign.yaml").write_text(_CAMPAIGN, encoding="utf-8")
    (directory / "customers.csv").write_text("code,level,qty\n", encoding="utf-8")
    campaign = load_campaign(directory / "campaign.yaml")
    rng = random.Random(1)
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
        seconds = _timed(lambda a=audience: build_plan(campaign, {"all": a}))
        print(
            f"plan  {n:>6} customers → {jobs:>6} jobs: {seconds * 1000:8.1f} ms "
            f"({jobs / seconds:,.0f} jobs/s)"
        )


def bench_ledger(directory: Path, n: int = 500) -> None:
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
    print(f"ledger {n} x mark_sending, a commit each: {per * 1000:8.1f} ms ({n / per:,.0f}/s)")
    print(
        f"ledger {n} x mark_sending, one commit:    {batched * 1000:8.1f} ms "
        f"(ratio {per / batched:.1f}x)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bench_plan(Path(tmp))
        bench_ledger(Path(tmp))


if __name__ == "__main__":
    main()
