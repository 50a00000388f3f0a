"""What every command that talks to the vendor or reads the ledger sets up the same way.

The options beyond the campaign file (:class:`RunOptions`), the credentials with their
precedence, the ledger opened with environment failures located (exit 4), the vendor
client and executor settings the campaign asks for, and the ledger's counts as the
typed :class:`~runner.summaries.LedgerSummary` every result starts from.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from runner.api import ENV_APPKEY_FILE, Credentials, VoucherClient, allowing_insecure_http
from runner.campaign import Campaign
from runner.errors import MissingCredentials, StateDirUnusable, UsageError
from runner.execute import HEADROOM, AdaptiveThrottle, ExecSettings, RateBudget, RunContext
from runner.ledger import LEDGER_FILE, Ledger, Tenant, campaign_dir
from runner.plan import LedgerView, Plan
from runner.summaries import LedgerSummary, TenantView, VoucherCounts

__all__ = [
    "Confirm",
    "RunOptions",
    "credentials_for",
    "exec_settings",
    "job_states",
    "ledger_summary",
    "open_ledger",
    "require_ledger",
    "run_context",
    "tenant_of",
    "tenant_view",
    "throttle_for",
    "vendor_client",
]

#: Shows the preview (with what the ledger says) and asks; returns True to launch.
Confirm = Callable[[Campaign, Plan, LedgerView], bool]


@dataclass(frozen=True)
class RunOptions:
    """How ``run``, ``retry-failed``, ``verify`` and ``adopt`` behave beyond the campaign."""

    state_dir: Path | None = None  # None: the campaign's state_dir, else state/ beside it
    yes: bool = False
    plan_hash: str | None = None
    confirm: Confirm | None = None
    env: Mapping[str, str] | None = None
    transport: httpx.AsyncBaseTransport | None = None
    settings: ExecSettings = field(default_factory=ExecSettings)
    bars: bool | None = None
    retry_failed: bool = False
    stop: threading.Event | None = None  # set from another thread: stop like SIGTERM
    #: Shared by the runs of one tenant side by side (one thread each): their requests
    #: together stay under one rate. None: the run paces itself alone.
    budget: RateBudget | None = None
    #: ``--insecure-http``: accept a plain http:// base URL to another machine. It is
    #: carried in ``env`` (WAIQIN_INSECURE_HTTP=1), where every credentials lookup reads it.
    insecure_http: bool = False

    def __post_init__(self) -> None:
        if self.insecure_http:
            object.__setattr__(self, "env", allowing_insecure_http(self.env))


def credentials_for(campaign: Campaign, env: Mapping[str, str] | None) -> Credentials:
    """The campaign's ``api`` settings, with WAIQIN_* variables filling the gaps.

    An ``api.appkey: ${VAR}`` whose variable is unset is read from WAIQIN_APPKEY_FILE when
    that is set.
    """
    unset = dict(campaign.unset_credentials)
    if "appkey" in unset and (os.environ if env is None else env).get(ENV_APPKEY_FILE):
        del unset["appkey"]
    if unset:
        names = sorted(set(unset.values()))
        raise MissingCredentials(
            f"the campaign's api credentials refer to unset environment variable(s): "
            f"{', '.join(names)}",
            where=campaign.location("api." + next(iter(unset))),
            hint="Set them (" + " ".join(f"export {n}=..." for n in names) + ") and run again.",
        )
    api = campaign.api
    base_url = api.base_url if "base_url" in api.model_fields_set else None
    return Credentials.resolve(openid=api.openid, appkey=api.appkey, base_url=base_url, env=env)


def tenant_of(creds: Credentials) -> Tenant:
    """The tenant these credentials reach."""
    return Tenant.of(creds.base_url, creds.openid)


def throttle_for(campaign: Campaign, budget: RateBudget | None = None) -> AdaptiveThrottle:
    """The pacer at the campaign's rate and concurrency, drawing on *budget* if given
    (whose rate is lowered to the campaign's, with the same headroom the pacer keeps, if
    that is lower)."""
    rate = float(campaign.api.rate)
    if budget is not None:
        budget.limit_to(rate * HEADROOM)
    return AdaptiveThrottle(rate, campaign.api.concurrency, budget=budget)


def vendor_client(
    campaign: Campaign, creds: Credentials, throttle: AdaptiveThrottle, options: RunOptions
) -> VoucherClient:
    """The vendor client with the campaign's timeout, retries and transient messages."""
    api = campaign.api
    return VoucherClient(
        creds,
        timeout_s=float(api.timeout_s),
        transient_messages=api.transient_messages,
        throttle=throttle,
        transport=options.transport,
        max_read_attempts=api.max_attempts,
    )


def exec_settings(campaign: Campaign, options: RunOptions) -> ExecSettings:
    """The executor's settings: the options' defaults with the campaign's api settings."""
    settings, timeout_s = options.settings, float(campaign.api.timeout_s)
    # a request the vendor applies after our timeout must be visible before we look
    settle_s = campaign.api.settle_s or max(settings.settle_s, timeout_s)
    return dataclasses.replace(
        settings,
        max_attempts=campaign.api.max_attempts,
        settle_s=float(settle_s),
        drain_s=min(settings.drain_s, timeout_s + 5),
    )


@contextmanager
def _state_dir_errors(directory: Path) -> Iterator[None]:
    """An OSError opening the ledger folder becomes :class:`StateDirUnusable`."""
    try:
        yield
    except OSError as exc:
        raise StateDirUnusable.from_os_error(
            exc, "the state directory", exc.filename or directory
        ) from exc


def open_ledger(state_dir: Path, campaign: str, **how: Any) -> Ledger:
    """:meth:`Ledger.open` (*how*: its keyword arguments), with a folder that cannot be
    made or written (read-only, a file in the way, disk full) reported as
    :class:`StateDirUnusable` (exit 4)."""
    with _state_dir_errors(campaign_dir(state_dir, campaign)):
        return Ledger.open(state_dir, campaign, **how)


def job_states(ledger: Ledger, *, active: bool | None = True) -> dict[str, int]:
    """How many jobs are in each state, over all vouchers."""
    totals: dict[str, int] = {}
    for per_voucher in ledger.counts(active=active).values():
        for state, n in per_voucher.items():
            totals[state] = totals.get(state, 0) + n
    return totals


def tenant_view(tenant: Tenant | None) -> TenantView | None:
    """The tenant as people may see it (openid masked)."""
    return None if tenant is None else TenantView(**tenant.as_dict())


def _last_errors(ledger: Ledger, most: int = 3) -> list[str]:
    """The distinct last errors of work not done, most recent first (for the summary)."""
    undone = ledger.jobs(("planned", "unknown", "failed", "review"))
    errors = [v.last_error for v in ledger.vouchers() if v.state != "created"]
    errors += [j.last_error for j in sorted(undone, key=lambda j: j.updated_at, reverse=True)]
    return list(dict.fromkeys(e for e in errors if e))[:most]


def ledger_summary(ledger: Ledger) -> LedgerSummary:
    """Counts per voucher and state, with the remote ids, end dates, finishes and the last
    errors."""
    counts = ledger.counts(active=None)
    lives = ledger.lifecycles()
    return LedgerSummary(
        campaign=ledger.campaign,
        ledger_file=str(ledger.path),
        tenant=tenant_view(ledger.tenant()),
        vouchers=[
            VoucherCounts(
                key=v.voucher_key,
                state=v.state,
                remote_id=v.remote_id,
                active=v.active,
                jobs=dict(counts.get(v.voucher_key, {})),
                last_error=v.last_error if v.state != "created" else None,
                end_date=lives[v.voucher_key].end_date,
                finished=lives[v.voucher_key].finished,
            )
            for v in ledger.vouchers(active=None)
        ],
        jobs=job_states(ledger, active=None),
        no_longer_planned=job_states(ledger, active=False),
        last_errors=_last_errors(ledger),
    )


def require_ledger(state_dir: Path, campaign: str, doing: str) -> None:
    """A campaign without a ledger in *state_dir* never ran there: nothing to do (exit 2)."""
    if not (campaign_dir(state_dir, campaign) / LEDGER_FILE).exists():
        raise UsageError(
            f"campaign {campaign!r} never ran in {state_dir}: nothing to {doing}",
            hint="Run it first (`runner run`), or pass the --state-dir it ran with.",
        )


def run_context(
    campaign: Campaign, creds: Credentials, ledger: Ledger, options: RunOptions
) -> RunContext:
    """What a command's calls share: the ledger, the paced client, the settings, the stop."""
    throttle = throttle_for(campaign, options.budget)
    client = vendor_client(campaign, creds, throttle, options)
    ctx = RunContext(ledger, client, throttle, exec_settings(campaign, options))
    ctx.stop_request = options.stop
    ctx.locate = campaign.location
    return ctx
