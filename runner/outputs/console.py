"""Command results on the terminal: rich tables for people, one JSON object for machines.

Every function takes a typed result (:mod:`runner.summaries`); with ``as_json`` it prints
:func:`~runner.summaries.to_json` of it and nothing else, so a scheduler can parse stdout.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from runner.outputs.hints import ledger_line
from runner.summaries import (
    CommandResult,
    EventView,
    LedgerSummary,
    ReviewItemView,
    ReviewListing,
    ReviewRecorded,
    StatusReport,
    VerifySummary,
    to_json,
)

__all__ = ["print_json", "print_recorded", "print_review", "print_summary"]

_STATES = ("done", "planned", "sending", "unknown", "failed", "review")


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def print_json(result: CommandResult) -> None:
    """The result as one line of JSON on stdout."""
    print(to_json(result))


def _voucher_table(summary: LedgerSummary) -> Table:
    """Vouchers with their end date (as the ledger knows it) and grants per state; only
    states that occur get a column."""
    vouchers = summary.vouchers
    states = [s for s in _STATES if s == "done" or any(v.jobs.get(s) for v in vouchers)]
    table = Table(title=f"campaign {summary.campaign}")
    for name in ("voucher", "state", "remote id", "ends"):
        table.add_column(name, no_wrap=True)
    for name in states:
        table.add_column(name, justify="right")
    for v in vouchers:
        table.add_row(
            v.key + ("" if v.active else " (no longer planned)"),
            v.state + (", finished" if v.finished else ""),
            v.remote_id or "-",
            v.end_date or "-",
            *(str(v.jobs.get(s, 0)) for s in states),
        )
    return table


def _verify_lines(verify: VerifySummary) -> list[str]:
    if not verify.vouchers:
        return ["verify: no voucher was created yet, nothing to compare"]
    state = "[green]remote equals ledger[/]" if verify.ok else "[red]DIFFERENCES[/]"
    lines = [
        f"verify: {state} — {verify.remote_instances} remote instance(s), "
        f"{verify.ledger_grants} confirmed grant(s)"
    ]
    lines += [
        f"  {m.voucher_key} {m.key_kind}={m.customer_key}: remote {m.remote} vs ledger {m.ledger}"
        for m in verify.mismatches
    ]
    lines += [
        f"  {d.voucher_key} {d.setting}: remote {escape(d.remote)} vs ledger {escape(d.ledger)}"
        for d in verify.drift
    ]
    return lines


def _last_run_line(summary: StatusReport) -> str | None:
    last = summary.last_run
    if last is None:
        return None
    started = f"last run: {last.command} {last.run_id} started {last.started_at}"
    if last.finished_at:
        return started + f", finished {last.finished_at}, exit {last.exit_code}"
    return started + ", did not finish (crash or kill: the next run settles it)"


def print_summary(summary: LedgerSummary, *, as_json: bool, hints: list[str]) -> None:
    """Print a run, status or adopt result as JSON, or as tables and hint lines."""
    if as_json:
        print_json(summary)
        return
    console = _console()
    if summary.ledger_file:
        console.print(escape(ledger_line(summary)))
    console.print(_voucher_table(summary))
    last = _last_run_line(summary) if isinstance(summary, StatusReport) else None
    if last is not None:
        console.print(escape(last))
    verify = getattr(summary, "verify", None)
    if isinstance(verify, VerifySummary):
        for line in _verify_lines(verify):
            console.print(line)
    for hint in hints:
        console.print(f"→ {hint}", markup=False, soft_wrap=True)


# --- review ------------------------------------------------------------------------------


def _details(detail: dict[str, object]) -> str:
    return " ".join(f"{k}={v}" for k, v in detail.items() if k != "action" and v is not None)


def _event_line(event: EventView) -> str:
    moved = f"{event.from_ or '-'} → {event.to}"
    action = str(event.detail.get("action") or "")
    parts = [event.at, moved, action, _details(event.detail)]
    return "    " + "  ".join(p for p in parts if p)


def _review_table(items: list[ReviewItemView], campaign: str) -> Table:
    table = Table(title=f"in review: campaign {escape(campaign)}")
    for name in ("kind", "id", "voucher", "customer", "attempts"):
        table.add_column(name, no_wrap=True)
    table.add_column("why")
    for item in items:
        customer = f"{item.key_kind}={item.customer_key}" if item.customer_key else "-"
        table.add_row(
            item.kind,
            escape(item.id),
            escape(item.voucher_key),
            escape(customer),
            str(item.attempts),
            escape(item.reason or "-"),
        )
    return table


def _item_lines(item: ReviewItemView) -> list[str]:
    head = f"{item.kind} {item.id}"
    if item.kind == "job":
        name = f" ({item.customer_name})" if item.customer_name else ""
        head += f"  voucher {item.voucher_key}, {item.key_kind}={item.customer_key}{name}"
    if not item.active:
        head += "  (no longer planned)"
    lines = [head, *(f"  evidence: {line}" for line in item.evidence)]
    if item.ledger_confirms is not None:
        lines.append(
            f"  the ledger now confirms {item.ledger_confirms} grant(s) of this voucher "
            "to this customer"
        )
    return [*lines, "  history:", *(_event_line(e) for e in item.events)]


def print_review(listing: ReviewListing, *, as_json: bool, hints: list[str]) -> None:
    """Print what is in review (one table, then each item's evidence and history)."""
    if as_json:
        print_json(listing)
        return
    console = _console()
    console.print(escape(f"ledger: {listing.ledger_file}"))
    if not listing.items:
        console.print(f"nothing is in review for campaign {escape(listing.campaign)}")
        return
    console.print(_review_table(listing.items, listing.campaign))
    lines = [line for item in listing.items for line in _item_lines(item)]
    for line in [*lines, *(f"→ {hint}" for hint in hints)]:
        console.print(line, markup=False, soft_wrap=True)


def print_recorded(recorded: ReviewRecorded, *, as_json: bool) -> None:
    """Print the decisions a review recorded, one event each."""
    if as_json:
        print_json(recorded)
        return
    console = _console()
    for event in recorded.recorded:
        by = event.detail.get("by") or "unknown user"
        console.print(
            f"recorded: {event.kind} {event.id} {event.from_} → {event.to} at {event.at} "
            f"by {by}: {event.detail.get('note')}",
            markup=False,
            soft_wrap=True,
        )
