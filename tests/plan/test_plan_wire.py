"""Every planned addVoucherInfo payload fits the API's request model, or the plan stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.api import AddVoucherRequest
from runner.campaign import Campaign, load_campaign
from runner.errors import ExitCode, InvalidInput
from runner.plan import build_plan, load_plan
from runner.plan._build import read_audiences
from runner.plan._checks import wire_problems
from tests.plan.helpers import TODAY, campaign_text, grant, line_of, voucher, write_campaign

WIRE_NAMES = frozenset(field.alias for field in AddVoucherRequest.model_fields.values())

SCOPED = """  {key}:
    name: 全场券
    start_date: 2027-03-01
    end_date: 2027-03-31
    money: "20.00"
    grant_type: HDFF
    customers: {customers}
    products: {products}
    discount: {discount}
"""


def _scoped(key: str, customers: str, products: str, discount: str = "{type: GDMZ}") -> str:
    return SCOPED.format(key=key, customers=customers, products=products, discount=discount)


def _every_field_campaign(folder: Path) -> Path:
    """A campaign whose vouchers together use every optional addVoucherInfo field."""
    vouchers = (
        voucher(
            doorsill_amount='"100"',
            pay_type="ONLINE",
            remark="使用说明",
            comment="备注",
            business_from_name="春季活动",
            auto_receive="Y",
        )
        + _scoped(
            "ratio",
            "{levels: [A], type_ids: [1], depts: [华东], label_ids: [2], districts: [北区]}",
            "{mode: BRAND, ids: [7]}",
            '{type: ZKBL, percent: "0.85", max_amount: "30"}',
        )
        + _scoped("by-type", "{level_ids: [3], types: [陶瓷店]}", "{mode: TYPE, names: [饼干]}")
        + _scoped(
            "by-code",
            "{dept_ids: [4], labels: [会员], district_ids: [5]}",
            "{mode: PRODUCT, codes: [P1]}",
        )
    )
    grants = "".join(grant(key, quantity="1") for key in ("ten-off", "ratio", "by-type", "by-code"))
    return write_campaign(folder, campaign_text(vouchers=vouchers, grants=grants))


def _campaign(folder: Path) -> tuple[Path, Campaign]:
    path = write_campaign(folder, campaign_text())
    return path, load_campaign(path, env={}, today=TODAY)


def test_built_payloads_use_only_wire_names_the_model_knows(tmp_path: Path) -> None:
    """Each payload validates by wire names alone and is exactly what the model would send."""
    _, plan = load_plan(_every_field_campaign(tmp_path), env={}, today=TODAY)
    used: set[str] = set()
    for planned in plan.vouchers:
        assert set(planned.payload) <= WIRE_NAMES
        request = AddVoucherRequest.model_validate(planned.payload, by_name=False)
        assert request.to_wire() == planned.payload
        used |= set(planned.payload)
    assert WIRE_NAMES - used <= {"cmId", "prodId", "prodBrandName", "prodTypeId"}


def test_unknown_wire_name_is_located_at_the_voucher(tmp_path: Path) -> None:
    """A field the request model does not know is a problem at the voucher's key and line."""
    path, campaign = _campaign(tmp_path)
    payload = {"name": "x", "startDate": "2027-03-01", "endDate": "2027-03-31", "moneyy": "1"}
    (problem,) = wire_problems("ten-off", payload, campaign.location)
    assert "'moneyy'" in problem.message
    assert problem.where.yaml_path == "vouchers.ten-off"
    assert problem.where.line == line_of(path, "ten-off:")


def test_snake_case_name_is_not_a_wire_name(tmp_path: Path) -> None:
    """start_date (the Python name) instead of startDate is refused, not silently accepted."""
    _, campaign = _campaign(tmp_path)
    payload = {"name": "x", "start_date": "2027-03-01", "endDate": "2027-03-31"}
    messages = [p.message for p in wire_problems("ten-off", payload, campaign.location)]
    assert any("'start_date'" in m for m in messages)
    assert any("'startDate'" in m for m in messages)


def test_value_the_model_would_change_is_a_problem(tmp_path: Path) -> None:
    """A number where the wire wants text would be sent differently from what was planned."""
    _, campaign = _campaign(tmp_path)
    payload = {"name": "x", "startDate": "2027-03-01", "endDate": "2027-03-31", "money": 10}
    (problem,) = wire_problems("ten-off", payload, campaign.location)
    assert "'money'" in problem.message
    assert "'10'" in problem.message


def test_refused_payload_stops_the_plan_with_exit_2(tmp_path: Path) -> None:
    """build_plan raises InvalidInput (exit 2) when a voucher's payload does not validate."""
    path, campaign = _campaign(tmp_path)
    audiences, _ = read_audiences(campaign)
    bad = campaign.vouchers["ten-off"].model_copy(update={"remark": ["not", "text"]})
    broken = campaign.model_copy(update={"vouchers": {"ten-off": bad}})
    with pytest.raises(InvalidInput) as caught:
        build_plan(broken, audiences)
    assert caught.value.exit_code == ExitCode.INVALID
    (problem,) = caught.value.problems()
    assert "'remark'" in problem.message
    assert problem.where.line == line_of(path, "ten-off:")
