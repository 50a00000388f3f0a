"""How long ``runner run`` takes before its first grant request, step by step.

``python -m bench.startup CAMPAIGN.yaml STATE_DIR [--all-done] [--files]`` runs the steps
``runner run`` makes before the grant phase sends anything (plan, ledger open, the plan
against the ledger, sync, the counts and the first page of planned grants), printing the
seconds since start and the peak RSS after each; nothing is sent. ``--all-done`` then
marks every job done (straight in SQLite: a stand-in for a finished campaign, so a
second invocation times a rerun; its vouchers become created, with a made-up remote id,
as a finished campaign's are, so the rerun checks their room as a real one does);
``--files`` writes the result files as a run's end does. Used for issue 11's goal 5 (a
1M-grant run's start-up, a 200k rerun). With ``PYTHONPATH=<an export of an older commit>``
and this file run by its path, it times that commit's code (the result files then come
from ``Ledger.jobs`` when ``runner.outputs.results`` has no ``write_ledger_outputs``).
The last line counts the rows the ledger holds (jobs, events, runs): a rerun adds only
its own run's two events.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import time
from pathlib import Path
from typing import Any

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

    import runner
    from runner.ledger import Ledger
    from runner.ops.run import _sync
    from runner.plan import check_against_ledger, load_plan

    _mark(f"imports ({Path(runner.__file__).parent})")
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
                conn.execute(
                    "UPDATE vouchers SET state = 'created',"
                    " remote_id = '9' || printf('%018d', rowid)"
                )
            _mark("every job done, every voucher created")
        if args.files:
            _files(ledger, plan.audiences)
        ledger.finish_run(run_id, 0, {})
    _mark(f"rows: {_rows(ledger.path)}")


def _files(ledger: Any, audiences: Any) -> None:
    from runner.outputs import results

    if hasattr(results, "write_ledger_outputs"):  # the rows straight into polars
        _files, written = results.write_ledger_outputs(ledger.path.parent, ledger, audiences)
        shown = "unchanged: not written" if written is None else f"{written:,} jobs"
        _mark(f"result files ({shown})")
        return
    jobs = ledger.jobs(active=None)
    _mark(f"jobs(active=None): {len(jobs):,}")
    results.write_outputs(ledger.path.parent, jobs, ledger.vouchers(active=None), audiences)
    _mark("result files written")


def _rows(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        counts = [
            f"{table} {conn.execute(f'SELECT COUNT(*) FROM {table}').fetchone()[0]:,}"
            for table in ("jobs", "events", "runs")
        ]
    return ", ".join(counts)


if __name__ == "__main__":
    main()
