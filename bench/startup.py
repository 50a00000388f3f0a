"""How long ``runner run`` takes before its first grant request, step by step.

``python -m bench.startup CAMPAIGN.yaml STATE_DIR [--all-done] [--files]`` runs the steps
``runner run`` makes before the grant phase sends anything (plan, ledger open, the plan
against the ledger, sync, the counts and the first page of planned grants), printing the
seconds since start and the peak RSS after each; nothing is sent. ``--all-done`` then
marks every job done (straight in SQLite: a stand-in for a finished campaign, so a
second invocation times a rerun); ``--files`` writes the result files as a run's end
does. Used for issue 11's goal 5 (a 1M-grant run's start-up, a 200k rerun).
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import time
from pathlib import Path

_START = time.perf_counter()


def _mark(what: str) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{time.perf_counter() - _START:7.2f} s  {peak:7,.0f} MB  {what}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("campaign", type=Path)
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("--all-done", action="store_true")
    parser.add_argument("--files", action="store_true")
    args = parser.parse_args()

    from runner.ledger import Ledger
    from runner.ops.run import _sync
    from runner.outputs.results import write_outputs
    from runner.plan import check_against_ledger, load_plan

    _mark("imports")
    campaign, plan = load_plan(args.campaign, past_end_ok=True)
    _mark(f"load_plan: {plan.jobs.height:,} jobs")
    with Ledger.open(args.state_dir, campaign.campaign, command="run") as ledger:
        _mark("ledger open")
        judgement = check_against_ledger(ledger, campaign, plan)
        _mark("check_against_ledger")
        run_id = ledger.start_run("run", plan.plan_hash)
        _sync(ledger, plan, judgement)
        _mark("sync")
        ledger.counts()
        page = ledger.planned_grants()
        _mark(f"counts, first page of planned grants ({len(page):,}): a request could leave")
        if args.all_done:
            with sqlite3.connect(ledger.path) as conn:
                conn.execute("UPDATE jobs SET state = 'done'")
            _mark("every job marked done")
        if args.files:
            jobs, vouchers = ledger.jobs(active=None), ledger.vouchers(active=None)
            _mark(f"jobs(active=None): {len(jobs):,}")
            write_outputs(ledger.path.parent, jobs, vouchers, plan.audiences)
            _mark("result files written")
        ledger.finish_run(run_id, 0, {})


if __name__ == "__main__":
    main()
