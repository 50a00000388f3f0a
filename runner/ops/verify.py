"""``runner verify``: remote granted instances compared with the ledger, read-only."""

from __future__ import annotations

import asyncio
from pathlib import Path

from runner import logs
from runner.campaign import Campaign
from runner.errors import ExitCode
from runner.execute import RunOutcome
from runner.execute import verify as verify_remote
from runner.ops._recording import RunResult
from runner.ops._session import (
    RunOptions,
    credentials_for,
    open_ledger,
    require_ledger,
    run_context,
    tenant_of,
)
from runner.ops.run import run_summary
from runner.plan import load_plan
from runner.statedir import resolve_state_dir

__all__ = ["verify_campaign"]


def verify_campaign(campaign_path: Path, options: RunOptions) -> RunResult:
    """The verify step alone: exit 0 when remote equals ledger, 3 on any difference."""
    campaign, _plan = load_plan(campaign_path, env=options.env, past_end_ok=True)
    with logs.scope(campaign=campaign.campaign):
        return _verify_campaign(campaign, options)


def _verify_campaign(campaign: Campaign, options: RunOptions) -> RunResult:
    state_dir = resolve_state_dir(campaign, options.state_dir)
    require_ledger(state_dir, campaign.campaign, "verify")
    creds = credentials_for(campaign, options.env)
    logs.use_redactor(creds.redactor)
    with open_ledger(
        state_dir, campaign.campaign, read_only=True, redactor=creds.redactor
    ) as ledger:
        ledger.check_tenant(tenant_of(creds))
        ids = {v.voucher_key: v.remote_id for v in ledger.vouchers(active=None) if v.remote_id}
        ctx = run_context(campaign, creds, ledger, options)
        client = ctx.client

        async def go() -> RunOutcome:
            async with client:
                report = await verify_remote(ctx, ids)
            return RunOutcome(ids, report, False, dict(ctx.calls))

        outcome = asyncio.run(go())
        summary = run_summary(ledger, outcome, kind="verify")
    code = ExitCode.OK if outcome.verify is not None and outcome.verify.ok else ExitCode.REVIEW
    return RunResult(code, summary)
