"""Helpers for the campaign-file tests: a valid text, writing it, loading it, its problems."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pytest

from runner.campaign import Campaign, load_campaign
from runner.errors import InvalidInput, Problem
from tests.builders import write_campaign_file

TODAY = date(2027, 1, 15)
ENV = {"WAIQIN_OPENID": "open-123456", "WAIQIN_APPKEY": "k3y-S3cr3t-value"}

VALID = """\
campaign: spring-2027-east
api:
  openid: ${WAIQIN_OPENID}
  appkey: ${WAIQIN_APPKEY}
  rate: 10
  concurrency: 4
  timeout_s: 15
  max_attempts: 6
  transient_messages: ["系统繁忙"]
budget:
  max_face_value: "50000.00"
audiences:
  east:
    file: ../samples/customers_east.xlsx
    sheet: 客户
    key: cm_code
    columns: {cm_code: 客户编码, cm_name: 客户名称, level: 客户等级, qty: 数量}
vouchers:
  ten-off:
    name: 满100减10
    start_date: 2027-03-01
    end_date: 2027-03-31
    money: "10.00"
    doorsill_amount: "100"
    discount: {type: GDMZ}
    pay_type: UNLIMITED
    grant_type: HDFF
    customers: specific
    products: {mode: ALL}
    each_customer_limit: auto
    total: auto
    remark: 使用说明
    comment: 备注
    business_from_name: 春季活动
    auto_receive: N
grants:
  - voucher: ten-off
    audience: east
    where: "level IN ('A', 'B')"
    quantity: qty
"""


def write(tmp_path: Path, text: str, name: str = "campaign.yaml") -> Path:
    """Write ``text`` as a UTF-8 campaign file in a ``campaigns`` sub-folder."""
    return write_campaign_file(tmp_path / "campaigns" / name, text)


def load_text(
    tmp_path: Path, text: str, *, env: Mapping[str, str] | None = None, today: date = TODAY
) -> Campaign:
    """Write and load a campaign file with the test environment and a fixed today."""
    return load_campaign(write(tmp_path, text), env=ENV if env is None else env, today=today)


def replace(text: str, old: str, new: str) -> str:
    """``text`` with exactly one occurrence of ``old`` replaced (fails loudly otherwise)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_containing(text: str, fragment: str) -> int:
    """The 1-based number of the only line that contains ``fragment``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(found) == 1, f"{fragment!r} is on lines {found}"
    return found[0]


def problems(tmp_path: Path, text: str, *, env: Mapping[str, str] | None = None) -> list[Problem]:
    """The problems that loading ``text`` reports (it must fail with InvalidInput)."""
    with pytest.raises(InvalidInput) as caught:
        load_text(tmp_path, text, env=env)
    return caught.value.problems()


def at(found: list[Problem], yaml_path: str) -> Problem:
    """The one problem reported at ``yaml_path``."""
    matching = [p for p in found if p.where.yaml_path == yaml_path]
    assert len(matching) == 1, f"at {yaml_path}: {[str(p) for p in found]}"
    return matching[0]
