"""Rendering run and status summaries for people (rich tables) or machines (JSON)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping

from rich.console import Console
from rich.table import Table

__all__ = ["print_summary"]

_STATES = ("done", "planned", "sending", "unknown", "failed", "review")


def _voucher_table(summary: Mapping[str, object]) -> Table:
    """Vouchers with their grants per state; only states that occur get a column."""
    raw = summary.get("vouchers")
    vouchers = raw if isinstance(raw, list) else []
    states = [s for s in _STATES if s == "done" or any(v.get("jobs", {}).get(s) for v in vouchers)]
    table = Table(title=f"campaign {summary.get('campaign')}")
    for name in ("voucher", "state", "remote id"):
        table.add_column(name, no_wrap=True)
    for name in states:
        table.add_column(name, justify="right")
    for v in vouchers:
        jobs = v.get("jobs", {})
        table.add_row(
            str(v["key"]) + ("" if v.get("active", True) else " (no longer planned)"),
            str(v["state"]),
            str(v.get("remote_id") or "-"),
            *(str(jobs.get(s, 0)) for s in states),
        )
    return table


def print_summary(summary: Mapping[str, object], *, as_json: bool, hints: list[str]) -> None:
    """Print a summary as one JSON object, or as tables and hint lines."""
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, default=str))
        return
    console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)
    console.print(_voucher_table(summary))
    last = summary.get("last_run")
    if isinstance(last, Mapping):
        console.print(
            f"last run: {last.get('command')} {last.get('run_id')} started {last.get('started_at')}"
            + (
                f", exit {last.get('exit_code')}"
                if last.get("finished_at")
                else ", did not finish (crash or kill: the next run settles it)"
            )
        )
    verify = summary.get("verify")
    if isinstance(verify, Mapping):
        mismatches = verify.get("mismatches") or []
        state = "[green]remote equals ledger[/]" if verify.get("ok") else "[red]DIFFERENCES[/]"
        if not verify.get("vouchers"):
            console.print("verify: no voucher was created yet, nothing to compare")
        else:
            console.print(
                f"verify: {state} — {verify.get('remote_instances')} remote instance(s), "
                f"{verify.get('ledger_grants')} confirmed grant(s)"
            )
        for m in mismatches if isinstance(mismatches, list) else []:
            console.print(
                f"  {m['voucher_key']} {m['key_kind']}={m['customer_key']}: "
                f"remote {m['remote']} vs ledger {m['ledger']}"
            )
    for hint in hints:
        console.print(f"→ {hint}")
