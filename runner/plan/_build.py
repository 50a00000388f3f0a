"""Building the plan: campaign + audiences → vouchers with payloads, jobs, plan hash.

:func:`build_plan` is pure (no IO); :func:`load_plan` reads the campaign and every
audience and reports every problem found (spreadsheets and cross-checks) in one raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from runner.campaign import Campaign, Voucher, load_campaign
from runner.errors import InputError, InvalidInput, Problem
from runner.plan._checks import (
    MAX_COUNT,
    VoucherCounts,
    budget_check,
    customer_list,
    limits,
    one_key_kind,
    voucher_counts,
    wire_problems,
)
from runner.plan._expand import GrantLine, combine, explode_jobs, select_line
from runner.plan._files import audience_file_problems, locate_file_problems
from runner.plan._ids import fingerprint, plan_hash
from runner.plan._model import Plan, PlannedVoucher
from runner.sheets import AudienceTable, check_not_empty, read_audience

__all__ = ["build_plan", "load_plan", "read_audiences"]


def build_plan(campaign: Campaign, audiences: Mapping[str, AudienceTable]) -> Plan:
    """The plan for a campaign whose audiences were read; raises InvalidInput on problems."""
    plan, problems = _assemble(campaign, audiences, failed=frozenset())
    if problems or plan is None:
        raise InvalidInput(problems, source=_source(campaign))
    return plan


def load_plan(
    campaign_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    today: date | None = None,
    past_end_ok: bool = False,
) -> tuple[Campaign, Plan]:
    """Load the campaign, read every audience and build the plan (``past_end_ok``: see
    :func:`runner.campaign.load_campaign`).

    A campaign file with problems stops here (its errors first); otherwise spreadsheet
    problems of every audience and the plan's cross-check problems are raised together.
    """
    campaign = load_campaign(campaign_path, env=env, today=today, past_end_ok=past_end_ok)
    audiences, problems = read_audiences(campaign)
    failed = frozenset(campaign.audiences) - frozenset(audiences)
    plan, found = _assemble(campaign, audiences, failed=failed)
    problems += found
    if problems or plan is None:
        raise InvalidInput(problems, source=_source(campaign))
    return campaign, plan


def read_audiences(campaign: Campaign) -> tuple[dict[str, AudienceTable], list[Problem]]:
    """Every audience that reads cleanly and has customer rows, and the problems of those
    that do not."""
    audiences: dict[str, AudienceTable] = {}
    problems: list[Problem] = []
    for name, spec in campaign.audiences.items():
        outside = audience_file_problems(campaign, name, spec)
        if outside:
            problems += outside
            continue
        try:
            table = read_audience(
                name,
                spec.path,
                key=spec.key,
                columns=spec.columns,
                sheet=spec.sheet,
                encoding=spec.encoding,
                yaml_path=f"audiences.{name}",
                header_row=spec.header_row,
                formulas=spec.formulas,
            )
        except InputError as err:
            problems += locate_file_problems(err.problems(), campaign, name, spec)
            continue
        empty = check_not_empty(table)
        problems += empty
        if not empty:
            audiences[name] = table
    return audiences, problems


def _source(campaign: Campaign) -> str | None:
    return str(campaign.source) if campaign.source is not None else None


@dataclass
class _Work:
    """What assembling a plan collects on the way."""

    lines: list[pl.DataFrame] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    incomplete: set[str] = field(default_factory=set)


def _assemble(
    campaign: Campaign, audiences: Mapping[str, AudienceTable], *, failed: frozenset[str]
) -> tuple[Plan | None, list[Problem]]:
    """Expand, check and hash; vouchers whose audiences failed are not cross-checked."""
    work = _Work()
    work.warnings += [
        f"audience {name!r} is read and checked, but no grant uses it" for name in _unused(campaign)
    ]
    work.warnings += [_sheet_note(table) for table in audiences.values() if table.skipped_sheets]
    _select(campaign, audiences, failed, work)
    rows = combine(work.lines)
    counts = voucher_counts(rows)
    huge = any(one.grants > MAX_COUNT for one in counts.values())
    # The limits below refuse a huge plan: do not expand it into millions of jobs first.
    jobs = explode_jobs(campaign.id, rows.clear() if huge else rows)
    vouchers: list[PlannedVoucher] = []
    for key, voucher in campaign.vouchers.items():
        if key not in work.incomplete:
            planned = _voucher(voucher, counts.get(key, VoucherCounts()), rows, campaign, work)
            vouchers.append(planned)
    if not work.incomplete:
        grants = {key: one.grants for key, one in counts.items()}
        budget_problems, notes = budget_check(campaign, grants, campaign.location)
        work.problems += budget_problems
        work.warnings += notes
    if work.problems:
        return None, work.problems
    digest = plan_hash(_hashed(vouchers), jobs.get_column("job_id"))
    plan = Plan(campaign.id, tuple(vouchers), jobs, dict(audiences), digest, tuple(work.warnings))
    return plan, []


def _select(
    campaign: Campaign, audiences: Mapping[str, AudienceTable], failed: frozenset[str], work: _Work
) -> None:
    """Run every grant line; lines of audiences that failed to read make vouchers incomplete."""
    order = {key: index for index, key in enumerate(campaign.vouchers)}
    for index, grant in enumerate(campaign.grants):
        audience = audiences.get(grant.audience)
        if audience is None:
            work.incomplete.add(grant.voucher)
            if grant.audience not in failed:
                work.problems.append(_unread(grant.audience, campaign, index))
            continue
        line = GrantLine(
            index, grant.voucher, order[grant.voucher], audience, grant.where, grant.quantity
        )
        rows, problems = select_line(line, campaign.location)
        if problems:
            work.problems += problems
            work.incomplete.add(grant.voucher)
        else:
            work.lines.append(rows)


def _unread(name: str, campaign: Campaign, index: int) -> Problem:
    return Problem(
        f"audience {name!r} was not read",
        campaign.location(f"grants[{index}].audience"),
        "Pass every audience of the campaign to build_plan (see load_plan).",
    )


def _voucher(
    voucher: Voucher,
    counts: VoucherCounts,
    rows: pl.DataFrame,
    campaign: Campaign,
    work: _Work,
) -> PlannedVoucher:
    """The voucher's complete addVoucherInfo payload, checked against its planned grants
    and against the API's request model."""
    resolved = limits(voucher, counts, campaign.location)
    work.problems += resolved.problems
    work.warnings += resolved.warnings
    payload: dict[str, object] = dict(voucher.wire_fields())
    payload["num"] = resolved.num
    payload["eachCmNum"] = resolved.each_cm_num
    work.problems += one_key_kind(voucher, rows, campaign.location)
    if voucher.customers == "specific" and counts.grants:
        own = rows.filter(pl.col("voucher_key") == voucher.key)
        listed = customer_list(voucher, own, campaign.location)
        work.problems += listed.problems
        payload.update(listed.fields)
    work.problems += wire_problems(voucher.key, payload, campaign.location)
    return PlannedVoucher(
        voucher.key,
        payload,
        resolved.num,
        resolved.each_cm_num,
        fingerprint(payload),
        finished=voucher.finished,
    )


def _hashed(vouchers: list[PlannedVoucher]) -> dict[str, str]:
    """What the plan hash covers of each voucher: its fingerprint, and ``finished: true``
    (so ``--plan-hash`` refuses a voucher finished after the approval)."""
    return {v.key: v.fingerprint + (":finished" if v.finished else "") for v in vouchers}


def _sheet_note(table: AudienceTable) -> str:
    """What the preview says when hidden sheets were passed over to read an audience."""
    hidden = ", ".join(repr(name) for name in table.skipped_sheets)
    return (
        f"audience {table.name!r}: read sheet {table.sheet!r} of {table.path.name}, the first "
        f"visible sheet (hidden sheet(s) {hidden} skipped); set `sheet` to read another"
    )


def _unused(campaign: Campaign) -> list[str]:
    used = {grant.audience for grant in campaign.grants}
    return [name for name in campaign.audiences if name not in used]
