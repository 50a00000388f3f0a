"""The plan preview a campaign manager approves: on the terminal and as files.

Everything here takes the one :class:`~runner.summaries.PlanPreview`, so the terminal,
``preview.md``, ``preview.json`` and ``runner plan --json`` always tell the same story.
:func:`write_preview` writes ``plan.parquet`` and ``plan.csv`` (every job), ``plan.xlsx``
(ids as text cells), ``preview.md``, ``preview.json`` and a copy of it named by the plan
hash, which ``runner run --plan-hash`` reads back (:func:`read_preview`) to say what
changed.

``plan.xlsx`` holds at most :data:`XLSX_JOB_ROWS` jobs (Excel itself stops at 1,048,576
rows a sheet, and a workbook that size takes minutes to write and to open). A larger
plan's workbook opens on a sheet ``note`` saying how many jobs there are, which ones the
``jobs`` sheet shows (the first ones, in plan order) and where all of them are, with the
jobs per voucher; ``preview.md`` and the terminal say it too.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pydantic
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from runner.outputs.cells import excel_safe_frame
from runner.outputs.files import make_directory, write_atomically
from runner.outputs.xlsx import EXCEL_MAX_ROWS, Sheet, xlsx_bytes
from runner.plan import Plan
from runner.summaries import PlanPreview, PreviewVoucher, to_json

__all__ = [
    "CSV_FILE",
    "PARQUET_FILE",
    "PREVIEW_FILE",
    "SUMMARY_FILE",
    "XLSX_FILE",
    "XLSX_JOB_ROWS",
    "approved_summary_file",
    "describe_discount",
    "describe_scope",
    "duration",
    "markdown",
    "print_preview",
    "read_preview",
    "write_preview",
    "xlsx_note",
]

PARQUET_FILE = "plan.parquet"
CSV_FILE = "plan.csv"
XLSX_FILE = "plan.xlsx"
#: The most jobs plan.xlsx shows; a larger plan's jobs are all in plan.csv/plan.parquet.
XLSX_JOB_ROWS = 100_000
PREVIEW_FILE = "preview.md"
SUMMARY_FILE = "preview.json"

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


def _show(value: object) -> str:
    return "" if value is None else str(value)


def describe_discount(voucher: PreviewVoucher) -> str:
    """GDMZ: "money off"; ZKBL: "pay ×percent, at most max_amount off"."""
    discount = voucher.discount
    if discount.get("type") == "ZKBL":
        cap = discount.get("max_amount")
        text = f"ZKBL ×{discount.get('percent')}"
        return text + (f", at most {cap} off" if cap else ", no cap")
    return f"GDMZ {voucher.money} off"


def describe_scope(voucher: PreviewVoucher) -> str:
    """``specific customers`` or the scope's lists, e.g. ``levels: A, B; types: 陶瓷店``."""
    scope = voucher.scope
    if isinstance(scope, str):
        return "specific customers (tradeRange 2)"
    return "scope " + "; ".join(f"{name}: {', '.join(values)}" for name, values in scope.items())


def duration(seconds: float) -> str:
    """``about 2 min 5 s`` for 125.0."""
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"about {hours} h {minutes} min"
    if minutes:
        return f"about {minutes} min {rest} s"
    return f"about {rest} s"


def _voucher_cells(voucher: PreviewVoucher) -> list[str]:
    return [
        voucher.key,
        voucher.name,
        voucher.money,
        f"≥ {voucher.doorsill}" if voucher.doorsill else "none",
        describe_discount(voucher),
        f"{voucher.start_date} → {voucher.end_date}",
        voucher.grant_type,
        describe_scope(voucher),
        str(voucher.num),
        str(voucher.eachCmNum),
        str(voucher.grants),
    ]


def _grant_rows(preview: PlanPreview) -> list[tuple[str, str, int]]:
    grants = preview.grants
    return [("voucher", name, n) for name, n in grants.by_voucher.items()] + [
        ("audience", name, n) for name, n in grants.by_audience.items()
    ]


def _facts(preview: PlanPreview, xlsx_rows: int = XLSX_JOB_ROWS) -> list[tuple[str, str]]:
    facts = [
        ("grants (calls)", str(preview.grants.total)),
        ("customers", str(preview.customers)),
        ("face value", preview.face_value),
    ]
    if preview.unbounded_vouchers:
        facts.append(("unbounded (ZKBL, no max_amount)", ", ".join(preview.unbounded_vouchers)))
    if preview.budget is not None:
        facts.append(("budget max_face_value", preview.budget))
    facts.append(
        (
            "estimated duration",
            f"{duration(preview.estimated_seconds)} ({preview.calls} calls at {preview.rate}/s)",
        )
    )
    note = xlsx_note(preview.grants.total, xlsx_rows)
    if note is not None:
        facts.append(("plan.xlsx", note))
    return facts


def xlsx_note(jobs: int, xlsx_rows: int = XLSX_JOB_ROWS) -> str | None:
    """What plan.xlsx leaves out when the plan has more jobs than it shows; else None."""
    shown = _xlsx_rows(xlsx_rows)
    if jobs <= shown:
        return None
    return (
        f"shows the first {shown:,} of {jobs:,} jobs (sheet 'note' says why); "
        f"every job is in {CSV_FILE} and {PARQUET_FILE}"
    )


def _xlsx_rows(asked: int) -> int:
    return max(0, min(asked, EXCEL_MAX_ROWS - 1))


def _ledger_lines(preview: PlanPreview) -> list[str]:
    ledger = preview.ledger
    if ledger is None:
        return ["The campaign never ran: every job is still to do."]
    lines = [
        f"already done: {ledger.already_done}",
        f"still to do: {ledger.still_to_do}",
        f"no longer planned: {ledger.no_longer_planned}",
    ]
    if ledger.done_not_in_plan:
        lines.append(f"done but no longer planned (kept, never revoked): {ledger.done_not_in_plan}")
    lines += [
        f"CONFLICT: voucher {c.voucher_key!r} changed after it was sent "
        f"(state {c.state}): use a new voucher key"
        for c in ledger.voucher_conflicts
    ]
    return lines


def _lifecycle_lines(preview: PlanPreview) -> list[str]:
    """End-date moves and finishes the run makes, and what the campaign file is behind on."""
    life = preview.lifecycle
    lines = [f"CHANGE: {step.text}" for step in life.changes]
    lines += [f"BEHIND: {b.message}" for b in life.behind]
    lines += [
        f"{c.voucher_key} takes no more grants ({c.why}, {c.since}): "
        f"{c.grants_not_sent} grant(s) not sent"
        for c in life.closed
    ]
    lines += [f"UNSETTLED: change {p.change_id} is {p.state}" for p in life.pending]
    return lines


def _job_cells(job: dict[str, object]) -> list[str]:
    return [_show(job.get(h)) for h in _JOB_HEADERS]


# --- rich ---------------------------------------------------------------------------------


def _table(title: str, headers: tuple[str, ...] | list[str]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for header in headers:
        table.add_column(header)
    return table


def _renderables(preview: PlanPreview) -> list[RenderableType]:
    head = Text(f"Campaign {preview.campaign}", style="bold")
    head.append(f"   plan hash {preview.plan_hash}", style="dim")
    vouchers: list[RenderableType] = []
    for voucher in preview.vouchers:
        table = _table(f"Voucher {voucher.key}", ["setting", "value"])
        for name, value in zip(_VOUCHER_HEADERS[1:], _voucher_cells(voucher)[1:], strict=True):
            table.add_row(name, value)
        vouchers.append(table)
    counts = _table("Grants", ["by", "name", "grants"])
    for kind, name, count in _grant_rows(preview):
        counts.add_row(kind, name, str(count))
    counts.add_row("total", "", str(preview.grants.total), style="bold")
    facts = _table("Totals", ["what", "value"])
    for name, value in _facts(preview):
        facts.add_row(name, value)
    jobs = _table("First jobs", _JOB_HEADERS)
    for job in preview.first_jobs:
        jobs.add_row(*_job_cells(job))
    parts: list[RenderableType] = [head, *vouchers, counts, facts, jobs]
    parts.append(Text("Ledger: " + "; ".join(_ledger_lines(preview))))
    parts += [Text(line, style="bold") for line in _lifecycle_lines(preview)]
    parts += [Text(f"warning: {warning}", style="yellow") for warning in preview.warnings]
    return parts


def print_preview(preview: PlanPreview, console: Console | None = None) -> None:
    """Print the preview as rich tables (on stdout unless another console is given)."""
    (console or Console()).print(Group(*_renderables(preview)))


# --- markdown -------------------------------------------------------------------------------


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _md_table(headers: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown(preview: PlanPreview, *, xlsx_rows: int = XLSX_JOB_ROWS) -> str:
    """The preview as a Markdown document for the campaign manager (``xlsx_rows``: the
    most jobs plan.xlsx shows, see :func:`write_preview`)."""
    grant_rows = [[kind, name, str(n)] for kind, name, n in _grant_rows(preview)]
    lines = [
        f"# Campaign plan: {preview.campaign}",
        "",
        f"- campaign file: `{preview.source}`",
        f"- plan hash: `{preview.plan_hash}`",
        "",
        "## Vouchers",
        "",
        *_md_table(_VOUCHER_HEADERS, [_voucher_cells(v) for v in preview.vouchers]),
        "",
        "## Grants",
        "",
        *_md_table(
            ["by", "name", "grants"],
            [*grant_rows, ["**total**", "", f"**{preview.grants.total}**"]],
        ),
        "",
        "## Totals",
        "",
        *[f"- {name}: {value}" for name, value in _facts(preview, xlsx_rows)],
        "",
        "## First jobs",
        "",
        *_md_table(_JOB_HEADERS, [_job_cells(job) for job in preview.first_jobs]),
        "",
        "## Ledger",
        "",
        *[f"- {line}" for line in _ledger_lines(preview)],
    ]
    if _lifecycle_lines(preview):
        lines += [
            "",
            "## End dates and finishes",
            "",
            *[f"- {line}" for line in _lifecycle_lines(preview)],
        ]
    if preview.warnings:
        lines += ["", "## Warnings", "", *[f"- {w}" for w in preview.warnings]]
    return "\n".join(lines) + "\n"


# --- files ----------------------------------------------------------------------------------


def approved_summary_file(plan_hash: str) -> str:
    """The file name of the preview summary kept for one plan hash."""
    return f"preview-{plan_hash[:12]}.json"


def write_preview(
    state_dir: Path, plan: Plan, preview: PlanPreview, *, xlsx_rows: int = XLSX_JOB_ROWS
) -> Path:
    """Write plan.parquet, plan.csv, plan.xlsx, preview.md, preview.json (and a copy named
    by the plan hash) into ``<state_dir>/<campaign>/``; returns that folder.

    plan.xlsx shows at most ``xlsx_rows`` jobs (see the module's docstring). Each file is
    replaced atomically; a folder or file that cannot be written raises
    :class:`~runner.errors.StateDirUnusable` naming it.
    """
    directory = state_dir / plan.campaign
    make_directory(directory)
    parquet = io.BytesIO()
    plan.jobs.write_parquet(parquet)
    text = io.BytesIO()
    excel_safe_frame(plan.jobs).write_csv(text, include_bom=True)
    files = {
        PARQUET_FILE: parquet.getvalue(),
        CSV_FILE: text.getvalue(),
        XLSX_FILE: _xlsx_bytes(plan, directory, xlsx_rows),
        PREVIEW_FILE: markdown(preview, xlsx_rows=xlsx_rows).encode("utf-8"),
        SUMMARY_FILE: (to_json(preview, indent=2) + "\n").encode("utf-8"),
    }
    del parquet, text
    # one copy per plan hash, so `run --plan-hash` can name what changed even after
    # later previews overwrote preview.json
    files[approved_summary_file(plan.plan_hash)] = files[SUMMARY_FILE]
    for name, data in files.items():
        write_atomically(directory / name, data, what="the preview file")
    return directory


def read_preview(path: Path) -> PlanPreview | None:
    """A preview written by :func:`write_preview`; None when missing or unreadable."""
    try:
        return PlanPreview.model_validate_json(path.read_bytes())
    except (OSError, pydantic.ValidationError):
        return None


def _vouchers_frame(plan: Plan) -> pl.DataFrame:
    """One row per voucher: key, fingerprint and every payload field, all as text."""
    fields: list[str] = []
    for planned in plan.vouchers:
        fields += [name for name in planned.payload if name not in fields]
    rows = [
        {
            "voucher_key": planned.key,
            "fingerprint": planned.fingerprint,
            **{name: _text(planned.payload.get(name)) for name in fields},
        }
        for planned in plan.vouchers
    ]
    schema = dict.fromkeys(["voucher_key", "fingerprint", *fields], pl.String())
    return pl.DataFrame(rows, schema=schema)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _xlsx_bytes(plan: Plan, directory: Path, xlsx_rows: int) -> bytes:
    """Jobs and vouchers sheets (every id a text cell), after a ``note`` sheet when the
    plan has more jobs than the workbook shows."""
    jobs = plan.jobs
    shown = _xlsx_rows(xlsx_rows)
    sheets = [Sheet("jobs", jobs.head(shown)), Sheet("vouchers", _vouchers_frame(plan))]
    if jobs.height > shown:
        sheets.insert(0, Sheet("note", _note_frame(jobs, shown, directory), filter=False))
    return xlsx_bytes(sheets)


def _note_frame(jobs: pl.DataFrame, shown: int, directory: Path) -> pl.DataFrame:
    """What the ``note`` sheet of a cut plan.xlsx says, one line a row."""
    per_voucher = jobs.group_by("voucher_key", maintain_order=True).agg(
        pl.len().alias("jobs"), pl.col("customer_key").n_unique().alias("customers")
    )
    lines = [
        f"This plan has {jobs.height:,} jobs (grant calls). The sheet 'jobs' shows the first "
        f"{shown:,} of them, in plan order (voucher, customer, seq); jobs {shown + 1:,} to "
        f"{jobs.height:,} are not in this workbook.",
        f"Every job is in {CSV_FILE} and {PARQUET_FILE}, in the folder {directory}.",
        f"Excel shows at most {EXCEL_MAX_ROWS:,} rows a sheet, and turns long ids in a CSV "
        "into numbers when it opens one: import plan.csv with Data > From Text/CSV and set "
        "the id columns (job_id, customer_key) to Text, or read plan.parquet with a script.",
        "",
        "Jobs per voucher:",
        *(
            f"{key}: {count:,} jobs to {customers:,} customers"
            for key, count, customers in per_voucher.iter_rows()
        ),
    ]
    return pl.DataFrame({"note": lines}, schema={"note": pl.String})
