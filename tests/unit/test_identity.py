"""Identity units: the tenant binding, where state lives, a voucher's identity, the room
warning, and reconciliation that waits for two agreeing reads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from runner.api import Credentials, VoucherClient
from runner.campaign import Campaign, load_campaign
from runner.errors import TenantMismatch
from runner.execute import AdaptiveThrottle, ExecSettings, RunContext
from runner.execute._reconcile import reconcile_jobs
from runner.ledger import JobRow, Ledger, Tenant, VoucherRow, normalise_base_url
from runner.plan import load_plan, voucher_identity
from runner.statedir import resolve_state_dir
from tests.plan.helpers import TODAY, campaign_text, voucher, write_campaign

OPENID = "tenant-openid-0042"
APPKEY = "unit-SECRET-appkey"
VOUCHER_ID = "6856083179295188426"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://OpenAPI.waiqin365.com:443/", "https://openapi.waiqin365.com"),
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787"),
        ("http://Host:80/base/", "http://host/base"),
    ],
)
def test_base_urls_are_normalised(url: str, expected: str) -> None:
    """Scheme and host lower case, default port and trailing slash dropped."""
    assert normalise_base_url(url) == expected


def test_a_ledger_is_bound_to_its_first_tenant_and_refuses_another(tmp_path: Path) -> None:
    """The first bind sticks; the same tenant passes; another raises naming both masked."""
    first = Tenant.of("https://openapi.waiqin365.com/", OPENID)
    with Ledger.open(tmp_path, "c1") as ledger:
        assert ledger.tenant() is None
        assert ledger.bind_tenant(first) is True
        assert ledger.bind_tenant(Tenant.of("HTTPS://openapi.waiqin365.com", OPENID)) is False
        other = Tenant.of("https://openapi.waiqin365.com", "another-openid-99")
        with pytest.raises(TenantMismatch) as caught:
            ledger.check_tenant(other)
    assert "te***42" in caught.value.message
    assert "an***99" in caught.value.message
    with Ledger.open(tmp_path, "c1", read_only=True) as reader:
        assert reader.tenant() == first
    assert OPENID.encode() not in (tmp_path / "c1" / "ledger.sqlite").read_bytes()


def _campaign(tmp_path: Path, top: str = "") -> Campaign:
    (tmp_path / "c").mkdir(exist_ok=True)
    path = write_campaign(tmp_path / "c", campaign_text(top=top))
    return load_campaign(path, env={}, today=TODAY)


def test_state_dir_defaults_to_the_campaign_folder_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without options the state dir is state/ beside the campaign file, from any cwd."""
    campaign = _campaign(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert resolve_state_dir(campaign, None) == (tmp_path / "c" / "state").resolve()
    assert resolve_state_dir(campaign, Path("x")) == (elsewhere / "x").resolve()


def test_state_dir_key_is_relative_to_the_campaign_file(tmp_path: Path) -> None:
    """``state_dir:`` in the campaign is resolved against the campaign file's folder."""
    campaign = _campaign(tmp_path, "state_dir: ../ledgers\n")
    assert resolve_state_dir(campaign, None) == (tmp_path / "ledgers").resolve()


def test_voucher_identity_ignores_limits_and_customers_but_not_money() -> None:
    """num, eachCmNum and customer lists do not change identity; money is compared as a
    number; a changed date does."""
    ours = {"name": "券", "startDate": "2027-01-01", "endDate": "2027-02-01", "money": "10"}
    remote = ours | {"money": "10.00", "num": 5, "eachCmNum": 2, "cmId": "1,2"}
    assert voucher_identity({**ours, "num": 9}) == voucher_identity(remote)
    assert voucher_identity(ours) != voucher_identity(ours | {"endDate": "2027-03-01"})
    assert voucher_identity(ours) != voucher_identity(ours | {"discountsType": "ZKBL"})


def test_plan_warns_when_limits_leave_room_above_the_plan(tmp_path: Path) -> None:
    """An explicit total above the planned grants is named in the plan's warnings."""
    text = campaign_text(vouchers=voucher(total="50"))
    path = write_campaign(tmp_path, text)
    _campaign_model, plan = load_plan(path, env={}, today=TODAY)
    assert any("leaves room above the plan" in w and "total 50" in w for w in plan.warnings)


class _LateVendor:
    """queryVoucherUsedInfo answers 0 instances on the first read and 1 afterwards: a
    grant the vendor applied late."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        items: list[dict[str, str]] = []
        if body.get("voucherStatus") == "0":
            self.reads += 1
            if self.reads > 1:
                items = [{"id": "1", "cm_id": "c1", "voucher_id": VOUCHER_ID, "use_status": "0"}]
        data = json.dumps(items)
        envelope = {"return_code": "0", "return_msg": "ok", "msg_id": "m", "response_data": data}
        return httpx.Response(200, json=envelope)


def test_a_late_grant_is_adopted_not_resent_because_two_reads_must_agree(
    tmp_path: Path,
) -> None:
    """An unknown grant that appears on the second read is adopted; one read alone would
    have declared it absent and sent it twice."""
    vendor = _LateVendor()
    creds = Credentials(openid=OPENID, appkey=APPKEY, base_url="https://vendor.example")
    fields: dict[str, object] = {"name": "券", "num": 1, "eachCmNum": 1}
    with Ledger.open(tmp_path, "c1") as ledger:
        ledger.sync_plan(
            "h",
            [VoucherRow("v", "fp", fields)],
            [JobRow("j1", "v", "a", "c1", "cm_id", 1, None)],
        )
        ledger.mark_voucher_sending("v", "m1")
        ledger.mark_voucher_created("v", remote_id=VOUCHER_ID)
        ledger.mark_sending("j1", "m2")
        ledger.mark_unknown("j1", error="read timeout")
        client = VoucherClient(creds, transport=httpx.MockTransport(vendor))
        settings = ExecSettings(settle_s=0.01)
        ctx = RunContext(ledger, client, AdaptiveThrottle(100.0, 2), settings)

        async def go() -> int:
            async with client:
                return await reconcile_jobs(ctx, {"v": VOUCHER_ID})

        assert asyncio.run(go()) == 1
        assert ledger.job("j1").state == "done"
    assert vendor.reads == 3
