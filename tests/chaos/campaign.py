"""A generated chaos campaign: a few vouchers, one audience each, about N grants in all.

The customers come from the sandbox's registry (``samples/sandbox_customers.csv``); which
ones, and how many grants each gets, is drawn from a seeded generator. Voucher dates run
from today (Beijing) for a year, so a campaign is valid on any day.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from runner.clock import beijing_today
from tests.execute.conftest import audience, registry, voucher, write_audience, write_campaign

__all__ = ["MAX_QUANTITY", "write_chaos_campaign"]

#: The most grants one customer gets of one voucher.
MAX_QUANTITY = 12


def _quantities(rng: random.Random, total: int, customers: int) -> list[int]:
    """``customers`` quantities of at least 1 and at most MAX_QUANTITY adding up to ``total``."""
    quantities = [1] * customers
    for _ in range(total - customers):
        open_slots = [i for i, q in enumerate(quantities) if q < MAX_QUANTITY]
        quantities[rng.choice(open_slots)] += 1
    return quantities


def _split(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal shares."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def write_chaos_campaign(
    folder: Path, *, seed: int, grants: int, vouchers: int, **api: Any
) -> Path:
    """Write ``folder/campaign.yaml`` and its audiences; ``api`` overrides the api settings."""
    rng = random.Random(f"campaign:{seed}")
    people = registry()
    if not 1 <= vouchers <= grants or grants > vouchers * people.height * MAX_QUANTITY:
        raise ValueError(f"{grants} grants over {vouchers} voucher(s) cannot be generated")
    today = beijing_today()
    dates = {"start_date": today.isoformat(), "end_date": (today + timedelta(days=365)).isoformat()}
    audiences: dict[str, dict[str, Any]] = {}
    planned: dict[str, dict[str, Any]] = {}
    rules: list[dict[str, Any]] = []
    for n, share in enumerate(_split(grants, vouchers)):
        count = min(people.height, max(1, share // 2 + rng.randint(0, max(0, share // 2))))
        count = max(count, -(-share // MAX_QUANTITY))
        rows = sorted(rng.sample(range(people.height), count))
        csv = write_audience(
            folder / f"audience-{n}.csv", people[rows], _quantities(rng, share, count)
        )
        key = "cm_id" if n % 2 else "cm_code"
        audiences[f"a{n}"] = audience(csv, key=key)
        money = f"{5 + n}.00"
        planned[f"v{n}"] = voucher(f"混沌{seed}-{n} 满100减{5 + n}", money=money, **dates)
        rules.append({"voucher": f"v{n}", "audience": f"a{n}", "quantity": "qty"})
    return write_campaign(
        folder / "campaign.yaml",
        audiences=audiences,
        vouchers=planned,
        grants=rules,
        name=f"chaos-{seed}",
        **api,
    )
