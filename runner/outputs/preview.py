"""Showing a plan summary to people: a rich console preview and a Markdown file.

Both take the dict :func:`runner.plan.summarize` returns, so the terminal, the file and
``--json`` always tell the same story.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

__all__ = ["describe_discount", "describe_scope", "duration", "markdown", "print_preview"]

Summary = Mapping[str, object]

_VOUCHER_HEADERS = (
    "key",
    "name",
    "money",
    "threshold",
    "discount",
    "valid",
    "grant type",
    "customers",
    "num",
    "eachCmNum",
    "grants",
)
_JOB_HEADERS = ("job_id", "voucher_key", "audience", "customer_key", "seq", "customer_name")


def _map(value: object) -> Mapping[str, object]:
    return cast(Mapping[str, object], value) if isinstance(value, Mapping) else {}


def _rows(value: object) -> list[Mapping[str, object]]:
    return [_map(item) for item in value] if isinstance(value, list) else []


def _show(value: object) -> str:
    return "" if value is None else str(value)


def describe_discount(voucher: Mapping[str, object]) -> str:
    """GDMZ: "money off"; ZKBL: "pay ×percent, at most max_amount off"."""
    discount = _map(voucher.get("discount"))
    if discount.get("type") == "ZKBL":
        cap = discount.get("max_amount")
        text = f"ZKBL ×{discount.get('percent')}"
        return text + (f", at most {cap} off" if cap else ", no cap")
    return f"GDMZ {voucher.get('money')} off"


def describe_scope(voucher: Mapping[str, object]) -> str:
    """``specific customers`` or the scope's lists, e.g. ``levels: A, B; types: 陶瓷店``."""
    scope = voucher.get("scope")
    if not isinstance(scope, Mapping):
        return "specific customers (tradeRange 2)"
    parts = [
        f"{name}: {', '.join(str(v) for v in values)}"
        for name, values in scope.items()
        if isinstance(values, list)
    ]
    return "scope " + "; ".join(parts)


def duration(seconds: object) -> str:
    """``about 2 min 5 s`` for 125.0."""
    total = round(float(seconds)) if isinstance(seconds, int | float) else 0
    minutes, rest = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"about {hours} h {minutes} min"
    if minutes:
        return f"about {minutes} min {rest} s"
    return f"about {rest} s"


def _voucher_cells(voucher: Mapping[str, object]) -> list[str]:
    doorsill = voucher.get("doorsill")
    return [
        _show(voucher.get("key")),
        _show(voucher.get("name")),
        _show(voucher.get("money")),
        f"≥ {doorsill}" if doorsill else "none",
        describe_discount(voucher),
        f"{voucher.get('start_date')} → {voucher.get('end_date')}",
        _show(voucher.get("grant_type")),
        describe_scope(voucher),
        _show(voucher.get("num")),
        _show(voucher.get("eachCmNum")),
        _show(voucher.get("grants")),
    ]


def _facts(summary: Summary) -> list[tuple[str, str]]:
    grants = _map(summary.get("grants"))
    facts = [
        ("grants (calls)", _show(grants.get("total"))),
        ("customers", _show(summary.get("customers"))),
        ("face value", _show(summary.get("face_value"))),
    ]
    unbounded = summary.get("unbounded_vouchers")
    if isinstance(unbounded, list) and unbounded:
        facts.append(("unbounded (ZKBL, no max_amount)", ", ".join(map(str, unbounded))))
    if summary.get("budget") is not None:
        facts.append(("budget max_face_value", _show(summary.get("budget"))))
    rate = summary.get("rate")
    facts.append(
        (
            "estimated duration",
            f"{duration(summary.get('estimated_seconds'))} "
            f"({summary.get('calls')} calls at {rate}/s)",
        )
    )
    return facts


def _ledger_lines(summary: Summary) -> list[str]:
    ledger = summary.get("ledger")
    if not isinstance(ledger, Mapping):
        return ["The campaign never ran: every job is still to do."]
    lines = [
        f"already done: {ledger.get('already_done')}",
        f"still to do: {ledger.get('still_to_do')}",
        f"no longer planned: {ledger.get('no_longer_planned')}",
    ]
    done_gone = ledger.get("done_not_in_plan")
    if done_gone:
        lines.append(f"done but no longer planned (kept, never revoked): {done_gone}")
    for conflict in _rows(ledger.get("voucher_conflicts")):
        lines.append(
            f"CONFLICT: voucher {conflict.get('voucher_key')!r} changed after it was sent "
            f"(state {conflict.get('state')}): use a new voucher key"
        )
    return lines


# --- rich ---------------------------------------------------------------------------------


def _table(title: str, headers: tuple[str, ...] | list[str]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for header in headers:
        table.add_column(header)
    return table


def _renderables(summary: Summary) -> list[RenderableType]:
    head = Text(f"Campaign {summary.get('campaign')}", style="bold")
    head.append(f"   plan hash {summary.get('plan_hash')}", style="dim")
    vouchers: list[RenderableType] = []
    for voucher in _rows(summary.get("vouchers")):
        table = _table(f"Voucher {voucher.get('key')}", ["setting", "value"])
        for name, value in zip(_VOUCHER_HEADERS[1:], _voucher_cells(voucher)[1:], strict=True):
            table.add_row(name, value)
        vouchers.append(table)
    grants = _map(summary.get("grants"))
    counts = _table("Grants", ["by", "name", "grants"])
    for kind in ("voucher", "audience"):
        for name, count in _map(grants.get(f"by_{kind}")).items():
            counts.add_row(kind, name, _show(count))
    counts.add_row("total", "", _show(grants.get("total")), style="bold")
    facts = _table("Totals", ["what", "value"])
    for name, value in _facts(summary):
        facts.add_row(name, value)
    jobs = _table("First jobs", _JOB_HEADERS)
    for job in _rows(summary.get("first_jobs")):
        jobs.add_row(*(_show(job.get(h)) for h in _JOB_HEADERS))
    parts: list[RenderableType] = [head, *vouchers, counts, facts, jobs]
    parts.append(Text("Ledger: " + "; ".join(_ledger_lines(summary))))
    warnings = summary.get("warnings")
    if isinstance(warnings, list):
        parts += [Text(f"warning: {warning}", style="yellow") for warning in warnings]
    return parts


def print_preview(summary: Summary, console: Console | None = None) -> None:
    """Print the preview as rich tables (on stdout unless another console is given)."""
    (console or Console()).print(Group(*_renderables(summary)))


# --- markdown -------------------------------------------------------------------------------


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _md_table(headers: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown(summary: Summary) -> str:
    """The preview as a Markdown document for the campaign manager."""
    grants = _map(summary.get("grants"))
    lines = [
        f"# Campaign plan: {summary.get('campaign')}",
        "",
        f"- campaign file: `{summary.get('source')}`",
        f"- plan hash: `{summary.get('plan_hash')}`",
        "",
        "## Vouchers",
        "",
        *_md_table(_VOUCHER_HEADERS, [_voucher_cells(v) for v in _rows(summary.get("vouchers"))]),
        "",
        "## Grants",
        "",
        *_md_table(
            ["by", "name", "grants"],
            [
                [kind, str(name), _show(count)]
                for kind in ("voucher", "audience")
                for name, count in _map(grants.get(f"by_{kind}")).items()
            ]
            + [["**total**", "", f"**{grants.get('total')}**"]],
        ),
        "",
        "## Totals",
        "",
        *[f"- {name}: {value}" for name, value in _facts(summary)],
        "",
        "## First jobs",
        "",
        *_md_table(
            _JOB_HEADERS,
            [[_show(job.get(h)) for h in _JOB_HEADERS] for job in _rows(summary.get("first_jobs"))],
        ),
        "",
        "## Ledger",
        "",
        *[f"- {line}" for line in _ledger_lines(summary)],
    ]
    warnings = summary.get("warnings")
    if isinstance(warnings, list) and warnings:
        lines += ["", "## Warnings", "", *[f"- {w}" for w in warnings]]
    return "\n".join(lines) + "\n"
