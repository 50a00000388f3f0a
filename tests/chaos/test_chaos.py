"""The chaos test: a campaign runs to the end through SIGKILLs, a sandbox restart and a lost
state dir, with every fault on, and the remote holds exactly the plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chaos.driver import ChaosConfig, run_chaos

#: Fits CI: 30-40 s on the 2-core dev machine, about 50 s while it is busy with other work
#: (`make soak` runs the large version).
CONFIG = ChaosConfig(
    seed=20261201, grants=300, vouchers=2, kills=2, sandbox_restarts=1, deletions=1
)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_chaos_campaign_ends_with_exactly_the_plan_on_the_remote(tmp_path: Path) -> None:
    """Seeded SIGKILLs of the runner, a SIGKILL and restart of the sandbox and a deleted
    state dir taken back by `runner adopt`, under lost responses, 5xx, resets, 429s and
    latency spikes: the campaign finishes, with no voucher or grant extra or missing and
    results.csv equal to the remote."""
    report = run_chaos(CONFIG, tmp_path)
    (campaign,) = report.campaigns
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))  # shown on failure
    assert campaign.problems == [], (campaign, tmp_path)
    assert campaign.finished
    assert campaign.invariant["duplicates"] == 0
    assert campaign.invariant["lost"] == 0
    assert campaign.invariant["extra_vouchers"] == 0
    assert campaign.invariant["results_mismatches"] == 0
    assert campaign.invariant["remote_grants"] == campaign.grants == CONFIG.grants
    # the disruptions really happened (each deletion is a kill too), and the faults
    assert campaign.kills == CONFIG.kills + CONFIG.deletions
    assert campaign.sandbox_restarts == CONFIG.sandbox_restarts
    assert campaign.deletions == CONFIG.deletions
    assert campaign.adopts >= campaign.deletions
    assert campaign.rounds > CONFIG.kills + CONFIG.deletions
    for kind in ("lost_response", "http_5xx", "reset", "rate_limited"):
        assert campaign.faults.get(kind, 0) > 0, (kind, campaign.faults)
    assert campaign.latency_spikes > 0
