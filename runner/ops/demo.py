"""``runner demo``: the whole story against an in-process sandbox, in about a minute.

1. A sandbox with a few thousand generated customers, faults on (lost responses, 5xx,
   latency) and a rate limit lower than the campaign's, which the campaign is not told.
2. A campaign file and an audience spreadsheet written into the demo folder; the voucher
   is valid from today (Beijing) for 60 days, so the demo works on any day.
3. ``plan``: the preview a campaign manager approves.
4. ``run``: create, grant with progress, reconcile lost responses, verify.
5. A second ``run``: it makes no grant call.
6. A table showing the remote state equals the plan, customer by customer.

Every demo starts a new sandbox (on a new port, with nothing in it), so it also starts
from a new state: the campaign's folder under ``<demo dir>/state/`` is removed first,
else its ledger would name vouchers of a sandbox that no longer exists. Nothing else in
the demo folder is touched; running the demo any number of times in a row works.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from runner.clock import beijing_today
from runner.errors import ExitCode
from runner.execute import ExecSettings
from runner.ledger import CampaignLock
from runner.ops._recording import RunResult
from runner.ops._session import RunOptions
from runner.ops.plan import summarize
from runner.ops.run import run_campaign
from runner.outputs.preview import print_preview, write_preview
from runner.plan import Plan, load_plan
from runner.sandbox import DEFAULT_APPKEY, DEFAULT_OPENID, Customer, generate_customers
from runner.sandbox.testing import inspect, running_sandbox

__all__ = ["DemoSettings", "run_demo"]

#: The demo campaign's id: the one folder under ``<demo dir>/state/`` the demo removes.
CAMPAIGN_ID = "demo-spring"
#: How long the demo voucher is valid, from today in Beijing.
VALID_DAYS = 60

_CAMPAIGN = """\
# A demo campaign written by `runner demo`: one voucher for specific customers, valid
# from the day the demo ran (Beijing) for {days} days.
campaign: {campaign}
api:
  base_url: ${{DEMO_SANDBOX_URL}}
  rate: {rate}              # the sandbox allows less and pushes back: the run adapts
  concurrency: 4
  timeout_s: 2
  max_attempts: 6
audiences:
  stores:
    file: customers.csv
    encoding: auto
    key: cm_code
    columns: {{cm_id: 客户ID, cm_code: 客户编码, cm_name: 客户名称, level: 客户等级, qty: 数量}}
vouchers:
  ten-off:
    name: 春季满100减10
    start_date: "{start}"
    end_date: "{end}"
    money: "10.00"
    doorsill_amount: "100"
    grant_type: HDFF
    customers: specific
    products: {{mode: ALL}}
    remark: 春季活动演示
grants:
  - voucher: ten-off
    audience: stores
    where: "level IN ('A', 'B')"
    quantity: qty
"""


@dataclass(frozen=True)
class DemoSettings:
    """Sizes and faults of the demo."""

    directory: Path = Path("demo-output")
    customers: int = 3000
    audience: int = 300
    campaign_rate: float = 40.0
    sandbox_rate: float = 20.0
    faults: str = "lost_response=0.04,http_5xx=0.03,latency=3ms~3ms"
    seed: int = 7


def _write_audience(path: Path, customers: list[Customer], rng: random.Random) -> None:
    """The audience as Excel would save it: UTF-8 with BOM, Chinese headers, ids as text."""
    frame = pl.DataFrame(
        {
            "客户ID": [c.id for c in customers],
            "客户编码": [c.code for c in customers],
            "客户名称": [c.name for c in customers],
            "客户等级": [c.level for c in customers],
            "客户类型": [c.type for c in customers],
            "数量": [str(rng.choice((1, 1, 2))) for _ in customers],
        }
    )
    frame.write_csv(path, include_bom=True)


def campaign_text(rate: float, today: date) -> str:
    """The demo campaign file, its voucher valid from *today* for :data:`VALID_DAYS` days."""
    end = today + timedelta(days=VALID_DAYS)
    return _CAMPAIGN.format(campaign=CAMPAIGN_ID, rate=rate, start=today, end=end, days=VALID_DAYS)


def _fresh_state(state_dir: Path) -> Path | None:
    """Remove the demo campaign's own state folder (and nothing else); the removed path.

    Taken under the campaign lock, so a demo still running in the same folder is never
    pulled from under its feet (that raises LockHeld, exit 4). A symbolic link is
    unlinked, never followed.
    """
    folder = state_dir / CAMPAIGN_ID
    if folder.is_symlink():
        folder.unlink()
        return folder
    if not folder.is_dir():
        return None
    with CampaignLock(folder, command="demo"):
        shutil.rmtree(folder)
    return folder


def _prepare(settings: DemoSettings) -> tuple[Path, list[Customer]]:
    rng = random.Random(settings.seed)
    registry = list(generate_customers(settings.customers, seed=settings.seed))
    chosen = sorted(rng.sample(registry, settings.audience), key=lambda c: c.code)
    settings.directory.mkdir(parents=True, exist_ok=True)
    _write_audience(settings.directory / "customers.csv", chosen, rng)
    campaign = settings.directory / "campaign.yaml"
    text = campaign_text(settings.campaign_rate, beijing_today())
    campaign.write_text(text, encoding="utf-8")
    return campaign, registry


def _remote_vs_plan(plan: Plan, base_url: str, registry: list[Customer]) -> tuple[Table, bool]:
    data = inspect(base_url)
    by_code = {c.id: c.code for c in registry}
    remote: Counter[str] = Counter()
    for per_customer in data["grants"].values():
        for cm_id, grant in per_customer.items():
            remote[by_code.get(cm_id, cm_id)] += int(grant["count"])
    planned = Counter(plan.jobs["customer_key"].to_list())
    table = Table(title="remote state vs plan")
    for name in ("", "planned", "remote (sandbox)"):
        table.add_column(name, justify="right")
    table.add_row("vouchers", str(len(plan.vouchers)), str(len(data["vouchers"])))
    table.add_row("grants", str(sum(planned.values())), str(sum(remote.values())))
    table.add_row("customers", str(len(planned)), str(len(remote)))
    same = sum(1 for code, n in planned.items() if remote.get(code) == n)
    table.add_row("customers exactly as planned", str(len(planned)), str(same))
    return table, planned == remote and len(data["vouchers"]) == len(plan.vouchers)


def run_demo(settings: DemoSettings, *, bars: bool | None = None) -> ExitCode:
    """Run the demo; OK when the remote state equals the plan after two runs, else FAILED."""
    console = Console()
    state_dir = settings.directory / "state"
    removed = _fresh_state(state_dir)
    if removed is not None:
        console.print(
            f"fresh start: removed {removed} (the previous demo's ledger, which named "
            "vouchers of a sandbox that no longer exists)"
        )
    campaign_path, registry = _prepare(settings)
    config = {
        "customers": tuple(registry),
        "rate": settings.sandbox_rate,
        "faults": settings.faults,
        "seed": settings.seed,
    }
    with running_sandbox(**config) as server:
        env = {
            "DEMO_SANDBOX_URL": server.base_url,
            "WAIQIN_OPENID": DEFAULT_OPENID,
            "WAIQIN_APPKEY": DEFAULT_APPKEY,
        }
        console.rule(f"[bold]1. plan[/] {campaign_path}")
        campaign, plan = load_plan(campaign_path, env=env)
        summary = summarize(campaign, plan, rate=float(campaign.api.rate))
        write_preview(state_dir, plan, summary)
        print_preview(summary, console)
        options = RunOptions(
            state_dir=state_dir,
            yes=True,
            env=env,
            settings=ExecSettings(wait_initial_s=0.2, wait_max_s=5.0, settle_s=0.5),
            bars=bars,
        )
        console.rule(f"[bold]2. run[/] sandbox {server.base_url}: {settings.faults}")
        first = run_campaign(campaign_path, options)
        _print_run(console, first)
        console.rule("[bold]3. run again[/] (nothing left to do: no grant call)")
        second = run_campaign(campaign_path, options)
        _print_run(console, second)
        table, equal = _remote_vs_plan(plan, server.base_url, registry)
    console.rule("[bold]4. remote state equals the plan?")
    console.print(table)
    grant_calls = (second.summary.calls or {}).get("receiveVoucherInfo", 0)
    ok = (
        equal
        and first.exit_code == ExitCode.OK
        and second.exit_code == ExitCode.OK
        and grant_calls == 0
    )
    console.print(
        f"results: {state_dir / campaign.campaign / 'results.csv'} — "
        + ("[green]exactly the plan, exactly once[/]" if ok else "[red]MISMATCH[/]")
    )
    return ExitCode.OK if ok else ExitCode.FAILED


def _print_run(console: Console, result: RunResult) -> None:
    summary, verify = result.summary, result.summary.verify
    checked = (
        "not run"
        if verify is None
        else f"{'ok' if verify.ok else 'DIFFERENCES'}, {verify.remote_instances} remote "
        f"instance(s), {verify.ledger_grants} confirmed grant(s)"
    )
    console.print(
        f"exit {int(result.exit_code)}; calls {summary.calls or {}}; pushbacks "
        f"{summary.pushbacks}; final rate {summary.final_rate}/s; verify {checked}"
    )
