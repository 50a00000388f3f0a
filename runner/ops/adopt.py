"""``runner adopt``: take what already exists on the tenant into the ledger.

A ledger that was lost, deleted, or kept on another machine leaves vouchers and grants
on the tenant that this ledger never sent. ``run`` refuses to create them again (it
looks before it creates); ``adopt`` takes them in:

1. the tenant's vouchers are listed (every page) and each campaign voucher this ledger
   has not created is matched by name, dates, money and discount
   (:func:`runner.plan.voucher_identity`), or taken as the id a person chose with
   ``--voucher KEY=REMOTE_ID``; several matches without a choice stop with exit 3;
2. each adopted voucher's grants are settled from the remote instances per customer
   (two reads ``settle_s`` apart must agree, as in reconciliation): the planned jobs
   with the lowest sequence numbers become ``done`` for each instance the customer
   holds; the rest stay ``planned``.

Nothing is sent to the vendor but reads. Afterwards ``run`` sends only what is missing:
a complete campaign costs reads and no write. Like a run, an adoption records how it
ended in the ledger's ``runs`` table whatever stops it (:func:`runner.ops._recording.record_stop`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner import logs
from runner.campaign import Campaign
from runner.errors import (
    ConfirmationRequired,
    ExitCode,
    Problem,
    RemoteVoucherExists,
    UsageError,
)
from runner.execute import (
    RemoteVoucher,
    RunContext,
    by_customer,
    identity_matches,
    owned_ids,
    remote_vouchers,
    settle_customer,
    stable_counts,
)
from runner.ledger import JobRecord, JobRow, Ledger, Tenant, VoucherRow, campaign_dir
from runner.ops._recording import RunResult, finish, record_stop
from runner.ops._session import (
    RunOptions,
    credentials_for,
    open_ledger,
    run_context,
    tenant_of,
)
from runner.ops.run import run_summary
from runner.outputs.results import write_outputs
from runner.plan import Plan, check_against_ledger, fingerprint, load_plan
from runner.statedir import resolve_state_dir
from runner.summaries import Adopted, AdoptSummary

__all__ = ["AdoptOptions", "Adoption", "adopt_campaign", "parse_choices"]


@dataclass(frozen=True)
class Adoption:
    """One campaign voucher found on the tenant, and what taking it in settles."""

    voucher_key: str
    remote_id: str
    remote: RemoteVoucher = field(repr=False)
    grants_found: int = 0
    grants_to_send: int = 0
    extra_remote: int = 0  # instances beyond what the plan grants those customers

    def view(self) -> Adopted:
        """What ``runner adopt`` reports of it."""
        return Adopted(
            voucher_key=self.voucher_key,
            remote_id=self.remote_id,
            grants_found=self.grants_found,
            grants_to_send=self.grants_to_send,
            extra_remote=self.extra_remote,
        )


#: Shows what would be adopted and asks; True to go on.
ConfirmAdopt = Callable[[Sequence[Adoption]], bool]


@dataclass
class _Started:
    """The id of the adoption's run once it is recorded (None before: nothing to finish)."""

    run_id: str | None = None


@dataclass(frozen=True)
class AdoptOptions:
    """``runner adopt``'s options beyond the campaign file."""

    run: RunOptions = field(default_factory=RunOptions)
    choices: Mapping[str, str] = field(default_factory=dict)  # voucher key → remote id
    confirm: ConfirmAdopt | None = None


def parse_choices(values: Sequence[str]) -> dict[str, str]:
    """``KEY=REMOTE_ID`` arguments as a mapping; a malformed one is a UsageError."""
    choices: dict[str, str] = {}
    for value in values:
        key, sep, remote_id = value.partition("=")
        if not sep or not key.strip() or not remote_id.strip().isdigit():
            raise UsageError(
                f"--voucher {value!r} is not KEY=REMOTE_ID",
                hint="Write the campaign's voucher key, '=', and the remote voucher id "
                "(digits), e.g. --voucher ten-off=6856083179295188426.",
            )
        if key.strip() in choices:
            raise UsageError(f"--voucher names {key.strip()!r} twice", hint="Name each once.")
        choices[key.strip()] = remote_id.strip()
    return choices


def adopt_campaign(campaign_path: Path, options: AdoptOptions) -> RunResult:
    """Find the campaign's vouchers on the tenant and take them, with their grants, in."""
    started = time.monotonic()
    campaign, plan = load_plan(campaign_path, env=options.run.env)
    with logs.scope(campaign=campaign.campaign):
        with logs.phase("plan", since=started) as counts:
            counts.update(vouchers=len(plan.vouchers), grants=plan.jobs.height)
        return _adopt_campaign(campaign, plan, options)


def _adopt_campaign(campaign: Campaign, plan: Plan, options: AdoptOptions) -> RunResult:
    run = options.run
    _check_keys(campaign, options.choices)
    state_dir = resolve_state_dir(campaign, run.state_dir)
    creds = credentials_for(campaign, run.env)
    logs.use_redactor(creds.redactor)
    tenant = tenant_of(creds)
    directory = campaign_dir(state_dir, campaign.campaign)
    with open_ledger(
        state_dir, campaign.campaign, command="adopt", redactor=creds.redactor
    ) as ledger:
        ledger.check_tenant(tenant)
        rows = check_against_ledger(ledger, campaign, plan).rows
        ctx = run_context(campaign, creds, ledger, run)

        def write_files() -> None:
            with logs.phase("results") as counts:
                jobs, vouchers = ledger.jobs(active=None), ledger.vouchers(active=None)
                counts.update(jobs=len(jobs), vouchers=len(vouchers))
                write_outputs(directory, jobs, vouchers, plan.audiences)

        started = _Started()
        files_tried = False
        try:
            summary = asyncio.run(_adopt(ctx, options, plan, rows, tenant, started))
            if started.run_id is not None:
                logs.bind(run_id=started.run_id)  # bound in the loop; here too, for the end
            files_tried = True
            write_files()
            if started.run_id is not None:
                finish(ledger, started.run_id, ExitCode.OK, summary)
        except BaseException as exc:
            if started.run_id is not None:
                logs.bind(run_id=started.run_id)  # the error report names the run
                record_stop(
                    ledger,
                    started.run_id,
                    exc,
                    summarize=lambda: run_summary(ledger, kind="adopt"),
                    write_files=None if files_tried else write_files,
                )
            raise
    return RunResult(ExitCode.OK, summary)


async def _adopt(
    ctx: RunContext,
    options: AdoptOptions,
    plan: Plan,
    rows: tuple[list[VoucherRow], Sequence[JobRow]],
    tenant: Tenant,
    started: _Started,
) -> AdoptSummary:
    """Find, confirm, then write: the voucher adoptions and the grants they settle.

    The run is recorded (``started.run_id``) once confirmed; the caller finishes it.
    """
    vouchers, jobs = rows
    ledger = ctx.ledger
    async with ctx.client:
        with logs.phase("lookup") as counts:
            found = await _find(ctx, vouchers, options.choices)
            counts.update(vouchers=len(vouchers), found=len(found))
        _confirm(options, found)
        ledger.bind_tenant(tenant)
        ledger.sync_plan(plan.plan_hash, vouchers, jobs)
        started.run_id = ledger.start_run("adopt", plan.plan_hash)
        logs.bind(run_id=started.run_id)  # in this loop's context, until it ends
        with logs.phase("adopt") as counts:
            by_key = {v.voucher_key: v for v in vouchers}
            adopted = [await _adopt_one(ctx, item, by_key[item.voucher_key]) for item in found]
            await _settle_created(ctx, {a.voucher_key for a in adopted})
            counts.update(
                vouchers=len(adopted),
                grants_found=sum(a.grants_found for a in adopted),
                grants_to_send=sum(a.grants_to_send for a in adopted),
            )
    return _summary(ledger, adopted, vouchers, ctx)


def _check_keys(campaign: Campaign, choices: Mapping[str, str]) -> None:
    unknown = sorted(set(choices) - set(campaign.vouchers))
    if unknown:
        raise UsageError(
            f"--voucher names {', '.join(map(repr, unknown))}, not a voucher of this campaign",
            hint=f"Use one of the campaign's voucher keys: {', '.join(campaign.vouchers)}.",
        )


async def _find(
    ctx: RunContext, vouchers: Sequence[VoucherRow], choices: Mapping[str, str]
) -> list[Adoption]:
    """The remote voucher of each campaign voucher the ledger has not created yet."""
    remote = await remote_vouchers(ctx)
    held = {v.voucher_key: v for v in ctx.ledger.vouchers(active=None)}
    found: list[Adoption] = []
    ambiguous: list[Problem] = []
    for row in vouchers:
        old = held.get(row.voucher_key)
        if old is not None and old.state != "planned":
            _check_chosen_held(row.voucher_key, old.remote_id, choices)
            continue
        others = owned_ids(ctx, row.voucher_key)
        matches = identity_matches(row.fields, remote, owned=others)
        chosen = choices.get(row.voucher_key)
        if chosen is not None:
            matches = [_chosen(ctx, row.voucher_key, chosen, matches, remote, others)]
        if len(matches) == 1:
            found.append(Adoption(row.voucher_key, str(matches[0]["id"]), matches[0]))
        elif matches:
            ambiguous.append(_several(ctx, row.voucher_key, matches))
    if ambiguous:
        raise RemoteVoucherExists(ambiguous)
    return found


def _check_chosen_held(key: str, remote_id: str | None, choices: Mapping[str, str]) -> None:
    chosen = choices.get(key)
    if chosen is not None and chosen != remote_id:
        raise UsageError(
            f"voucher {key!r} is already in the ledger as remote voucher {remote_id}, not {chosen}",
            hint="Leave --voucher out for it: it was taken in already.",
        )


def _chosen(
    ctx: RunContext,
    key: str,
    remote_id: str,
    matches: Sequence[RemoteVoucher],
    remote: Sequence[RemoteVoucher],
    others: set[str],
) -> RemoteVoucher:
    """The remote voucher a person chose, if it is one of the matches."""
    for item in matches:
        if str(item.get("id")) == remote_id:
            return item
    exists = any(str(item.get("id")) == remote_id for item in remote)
    why = (
        "it belongs to another voucher key of this ledger"
        if remote_id in others
        else "it is finished, or its name, dates, money or discount differ from the campaign's"
        if exists
        else "the tenant has no such voucher"
    )
    raise UsageError(
        f"--voucher {key}={remote_id}: cannot adopt it: {why}",
        where=ctx.locate(f"vouchers.{key}"),
        hint="Choose one of the ids `runner run` or `runner adopt` listed for this voucher.",
    )


def _several(ctx: RunContext, key: str, matches: Sequence[RemoteVoucher]) -> Problem:
    ids = ", ".join(str(m.get("id")) for m in matches)
    return Problem(
        f"voucher {key!r}: {len(matches)} remote vouchers match (same name, dates, money and "
        f"discount): {ids}",
        ctx.locate(f"vouchers.{key}"),
        f"Choose one with --voucher {key}=REMOTE_ID; nothing was adopted.",
    )


def _confirm(options: AdoptOptions, found: Sequence[Adoption]) -> None:
    if options.run.yes or not found:
        return
    if options.confirm is None:
        raise ConfirmationRequired("no terminal to ask for confirmation, and no --yes")
    if not options.confirm(found):
        raise ConfirmationRequired("adoption not confirmed; nothing was written")


def _remote_fields(row: VoucherRow, remote: RemoteVoucher) -> dict[str, object]:
    """The plan's payload with the limits and customer list the remote voucher has."""
    fields = dict(row.fields)
    for name in ("num", "eachCmNum"):
        if remote.get(name) is not None:
            fields[name] = int(str(remote[name]))
    customers = remote.get("cmInfos")
    if isinstance(customers, list) and customers:
        for name, part in (("cmId", "id"), ("cmCode", "code")):
            if name in fields:
                fields[name] = ",".join(str(c.get(part)) for c in customers if c.get(part))
    return fields


def _never_sent(ctx: RunContext, voucher_key: str) -> list[JobRecord]:
    return [j for j in ctx.ledger.jobs("planned", voucher_key) if j.attempts == 0]


def _held(
    jobs: Sequence[JobRecord], counts: Mapping[str, Counter[str]], confirmed: Mapping[str, int]
) -> tuple[list[str], int]:
    """The planned jobs the remote already holds (by reconciliation's rule, lowest sequence
    first), and how many remote instances go beyond every job planned for their customer."""
    held: list[str] = []
    extra = 0
    for (kind, customer), mine in by_customer(jobs).items():
        remote, done = counts.get(kind, Counter())[customer], confirmed.get(customer, 0)
        decisions = settle_customer([j.job_id for j in mine], remote=remote, confirmed=done)
        held += [d.job_id for d in decisions if d.outcome == "adopt"]
        extra += max(0, remote - done - len(mine))
    return held, extra


async def _adopt_one(ctx: RunContext, item: Adoption, row: VoucherRow) -> Adoption:
    counts = await _stable(ctx, item.remote_id)
    jobs = _never_sent(ctx, item.voucher_key)
    held, extra = _held(jobs, counts, {})
    fields = _remote_fields(row, item.remote)
    ctx.ledger.adopt_remote_voucher(
        item.voucher_key,
        remote_id=item.remote_id,
        fields=fields,
        fingerprint=fingerprint(fields),
        job_ids=held,
        detail={"reason": "found on the tenant by runner adopt"},
    )
    return Adoption(
        item.voucher_key, item.remote_id, item.remote, len(held), len(jobs) - len(held), extra
    )


async def _settle_created(ctx: RunContext, skip: set[str]) -> None:
    for record in ctx.ledger.vouchers():
        if record.state != "created" or record.remote_id is None or record.voucher_key in skip:
            continue
        jobs = _never_sent(ctx, record.voucher_key)
        if not jobs:
            continue
        counts = await _stable(ctx, record.remote_id)
        held, _extra = _held(jobs, counts, ctx.ledger.confirmed_grants(record.voucher_key))
        if held:
            ctx.ledger.adopt_remote_grants(
                held, detail={"reason": f"held by remote voucher {record.remote_id}"}
            )


async def _stable(ctx: RunContext, remote_id: str) -> Mapping[str, Counter[str]]:
    counts = await stable_counts(ctx, [remote_id])
    if counts is None:
        raise RemoteVoucherExists(
            [
                Problem(
                    f"the grants of remote voucher {remote_id} kept changing while they were "
                    "read: nothing was adopted for it",
                    hint="Another process is granting it right now. Stop it, then run "
                    "`runner adopt` again.",
                )
            ]
        )
    return counts[remote_id]


def _summary(
    ledger: Ledger, adopted: Sequence[Adoption], vouchers: Sequence[VoucherRow], ctx: RunContext
) -> AdoptSummary:
    taken = {a.voucher_key for a in adopted}
    return AdoptSummary(
        **run_summary(ledger).ledger_fields(),
        calls=dict(ctx.calls),
        adopted=[a.view() for a in adopted],
        not_found=[
            v.voucher_key
            for v in vouchers
            if v.voucher_key not in taken and ledger.voucher(v.voucher_key).state == "planned"
        ],
    )
