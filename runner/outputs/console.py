"""Rendering run, status and review summaries for people (rich tables) or machines (JSON)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["ledger_line", "print_recorded", "print_review", "print_summary"]

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


def ledger_line(summary: Mapping[str, object]) -> str:
    """``ledger: PATH (tenant …)``: which ledger a command used, and whose it is."""
    tenant, path = summary.get("tenant"), str(summary.get("ledger_file"))
    if isinstance(tenant, Mapping):
        whose = f"tenant: openid {tenant.get('openid')} at {tenant.get('base_url')}"
    elif not Path(path).exists():
        whose = "none yet: the first run creates it"
    else:
        whose = "not bound to a tenant yet"
    return f"ledger: {path} ({whose})"


def print_summary(summary: Mapping[str, object], *, as_json: bool, hints: list[str]) -> None:
    """Print a summary as one JSON object, or as tables and hint lines."""
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, default=str))
        return
    console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)
    if summary.get("ledger_file"):
        console.print(escape(ledger_line(summary)))
    console.print(_voucher_table(summary))
    last = summary.get("last_run")
    if isinstance(last, Mapping):
        finished = last.get("finished_at")
        console.print(
            f"last run: {last.get('command')} {last.get('run_id')} started {last.get('started_at')}"
            + (
                f", finished {finished}, exit {last.get('exit_code')}"
                if finished
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


# --- review ------------------------------------------------------------------------------


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def _details(detail: Mapping[str, object]) -> str:
    return " ".join(f"{k}={v}" for k, v in detail.items() if k != "action" and v is not None)


def _event_line(event: Mapping[str, object]) -> str:
    detail = event.get("detail")
    details = detail if isinstance(detail, Mapping) else {}
    moved = f"{event.get('from') or '-'} → {event.get('to')}"
    parts = [str(event.get("at")), moved, str(details.get("action") or ""), _details(details)]
    return "    " + "  ".join(p for p in parts if p)


def _review_table(items: list[Mapping[str, object]], campaign: object) -> Table:
    table = Table(title=f"in review: campaign {campaign}")
    for name in ("kind", "id", "voucher", "customer", "attempts"):
        table.add_column(name, no_wrap=True)
    table.add_column("why")
    for item in items:
        customer = (
            f"{item.get('key_kind')}={item.get('customer_key')}"
            if item.get("customer_key")
            else "-"
        )
        table.add_row(
            str(item.get("kind")),
            escape(str(item.get("id"))),
            escape(str(item.get("voucher_key"))),
            escape(customer),
            str(item.get("attempts")),
            escape(str(item.get("reason") or "-")),
        )
    return table


def print_review(payload: Mapping[str, object], *, as_json: bool, hints: list[str]) -> None:
    """Print what is in review (one table, then each item's evidence and history)."""
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, default=str))
        return
    console = _console()
    if payload.get("ledger_file"):
        console.print(escape(f"ledger: {payload.get('ledger_file')}"))
    raw = payload.get("items")
    items = [i for i in raw if isinstance(i, Mapping)] if isinstance(raw, list) else []
    if not items:
        console.print(f"nothing is in review for campaign {escape(str(payload.get('campaign')))}")
        return
    console.print(_review_table(items, escape(str(payload.get("campaign")))))
    for item in items:
        head = f"{item.get('kind')} {item.get('id')}"
        if item.get("kind") == "job":
            name = f" ({item['customer_name']})" if item.get("customer_name") else ""
            head += (
                f"  voucher {item.get('voucher_key')}, "
                f"{item.get('key_kind')}={item.get('customer_key')}{name}"
            )
        if not item.get("active", True):
            head += "  (no longer planned)"
        console.print(head, markup=False, soft_wrap=True)
        evidence = item.get("evidence")
        for line in evidence if isinstance(evidence, list) else []:
            console.print(f"  evidence: {line}", markup=False, soft_wrap=True)
        if item.get("ledger_confirms") is not None:
            console.print(
                f"  the ledger now confirms {item['ledger_confirms']} grant(s) of this voucher "
                "to this customer",
                markup=False,
                soft_wrap=True,
            )
        console.print("  history:", markup=False, soft_wrap=True)
        events = item.get("events")
        for event in events if isinstance(events, list) else []:
            console.print(_event_line(event), markup=False, soft_wrap=True)
    for hint in hints:
        console.print(f"→ {hint}", markup=False, soft_wrap=True)


def print_recorded(payload: Mapping[str, object], *, as_json: bool) -> None:
    """Print the decisions a review recorded, one event each."""
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, default=str))
        return
    console = _console()
    raw = payload.get("recorded")
    for event in raw if isinstance(raw, list) else []:
        detail = event.get("detail") or {}
        console.print(
            f"recorded: {event.get('kind')} {event.get('id')} {event.get('from')} → "
            f"{event.get('to')} at {event.get('at')} by {detail.get('by') or 'unknown user'}: "
            f"{detail.get('note')}",
            markup=False,
            soft_wrap=True,
        )
