"""load_plan / build_plan: payloads, cross-checks with their locations, determinism."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from runner.campaign import load_campaign
from runner.errors import InvalidInput, Problem
from runner.plan import Plan, build_plan, load_plan
from runner.plan._build import read_audiences
from tests.plan.helpers import (
    ID_A,
    ID_B,
    ID_C,
    ROWS,
    TODAY,
    campaign_text,
    grant,
    line_of,
    voucher,
    write_campaign,
    write_csv,
)


def _plan(path: Path) -> Plan:
    return load_plan(path, env={}, today=TODAY)[1]


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        load_plan(path, env={}, today=TODAY)
    return caught.value.problems()


def test_specific_voucher_payload_lists_codes_sorted_once(tmp_path: Path) -> None:
    """A specific voucher's cmCode is its customers' codes, sorted and deduplicated."""
    grants = grant(quantity="qty") + grant(where="level = 'A'", quantity="1")
    plan = _plan(write_campaign(tmp_path, campaign_text(grants=grants)))
    (planned,) = plan.vouchers
    assert planned.payload["cmCode"] == "CUS010001,CUS010002,CUS010003,CUS010043"
    assert "cmId" not in planned.payload
    assert planned.payload["tradeRange"] == "2"
    # qty 2+1+3+0 plus one more for each A-level customer (CUS010043, CUS010003)
    assert (planned.num, planned.each_cm_num) == (8, 3)
    assert planned.payload["num"] == 8
    assert isinstance(planned.payload["eachCmNum"], int)


def test_specific_voucher_keyed_by_cm_id_lists_ids_as_text(tmp_path: Path) -> None:
    """Keyed by cm_id, the payload carries cmId with the exact 19-digit ids."""
    plan = _plan(write_campaign(tmp_path, campaign_text(key="cm_id")))
    payload = plan.vouchers[0].payload
    assert payload["cmId"] == ",".join(sorted([ID_A, ID_B, ID_C]))
    assert plan.jobs.get_column("customer_key").unique().sort().to_list() == sorted(
        [ID_A, ID_B, ID_C]
    )


def test_source_code_audience_lists_customers_by_its_code_column(tmp_path: Path) -> None:
    """Keyed by cm_source_code with a mapped cm_code column, that column makes the cmCode list."""
    write_csv(
        tmp_path / "src.csv",
        [("ERP1", "CUS2"), ("ERP2", "CUS1")],
        header=("来源编码", "客户编码"),
    )
    audiences = (
        "  src:\n    file: src.csv\n    key: cm_source_code\n"
        "    columns: {cm_source_code: 来源编码, cm_code: 客户编码}\n"
    )
    text = campaign_text(audiences=audiences, grants=grant(audience="src", quantity="1"))
    plan = _plan(write_campaign(tmp_path, text))
    assert plan.vouchers[0].payload["cmCode"] == "CUS1,CUS2"
    assert set(plan.jobs.get_column("key_kind").to_list()) == {"cm_source_code"}
    assert plan.jobs.get_column("customer_key").to_list() == ["ERP1", "ERP2"]


def test_missing_list_value_is_reported_with_row_and_column(tmp_path: Path) -> None:
    """A selected customer without the code a specific voucher lists is a located problem."""
    write_csv(tmp_path / "src.csv", [("ERP1", "CUS1"), ("ERP2", "")], header=("来源", "编码"))
    audiences = (
        "  src:\n    file: src.csv\n    key: cm_source_code\n"
        "    columns: {cm_source_code: 来源, cm_code: 编码}\n"
    )
    text = campaign_text(audiences=audiences, grants=grant(audience="src", quantity="1"))
    (problem,) = _problems(write_campaign(tmp_path, text))
    assert "no cm_code for this customer" in problem.message
    assert (problem.where.row, problem.where.column) == (3, "编码")
    assert str(problem.where.file).endswith("src.csv")


def test_scope_zkbl_voucher_payload(tmp_path: Path) -> None:
    """A ZKBL scope voucher sends tradeRange 1, the scope names, ratio fields and no cm list."""
    vouchers = voucher(
        customers="{levels: [A, B], types: [陶瓷店]}",
        discount='{type: ZKBL, percent: "0.85", max_amount: "30"}',
        each_customer_limit="1",
    )
    text = campaign_text(vouchers=vouchers, grants=grant(where="level = 'A'", quantity="1"))
    payload = _plan(write_campaign(tmp_path, text)).vouchers[0].payload
    assert payload["tradeRange"] == "1"
    assert payload["cmLevelName"] == "A,B"
    assert payload["cmTypeName"] == "陶瓷店"
    assert payload["discountsType"] == "ZKBL"
    assert payload["discountsPercent"] == "0.85"
    assert payload["maxDiscountsAmount"] == "30"
    assert payload["num"] == 2
    assert not {"cmCode", "cmId"} & set(payload)


def test_fingerprint_follows_the_payload(tmp_path: Path) -> None:
    """Changing a voucher setting or its grants changes the fingerprint; reloading does not."""
    path = write_campaign(tmp_path, campaign_text())
    first = _plan(path).vouchers[0].fingerprint
    assert _plan(path).vouchers[0].fingerprint == first
    path.write_text(campaign_text().replace('"10.00"', '"12.00"'), encoding="utf-8")
    assert _plan(path).vouchers[0].fingerprint != first
    path.write_text(campaign_text(grants=grant(quantity="1")), encoding="utf-8")
    assert _plan(path).vouchers[0].fingerprint != first


def test_shuffled_rows_give_the_same_plan(tmp_path: Path) -> None:
    """The same customers in another row order give the same job ids, order and plan hash."""
    first = _plan(write_campaign(tmp_path, campaign_text()))
    rows = list(ROWS)
    random.Random(7).shuffle(rows)
    other = tmp_path / "other"
    other.mkdir()
    second = _plan(write_campaign(other, campaign_text(), rows=rows))
    assert first.plan_hash == second.plan_hash
    assert first.jobs.get_column("job_id").to_list() == second.jobs.get_column("job_id").to_list()
    assert (
        first.jobs.get_column("source_row").to_list()
        != second.jobs.get_column("source_row").to_list()
    )


def test_each_customer_limit_too_small_is_located(tmp_path: Path) -> None:
    """each_customer_limit below a customer's quantity names the key path and its line."""
    path = write_campaign(tmp_path, campaign_text(vouchers=voucher(each_customer_limit="2")))
    (problem,) = _problems(path)
    assert "each_customer_limit is 2, but the plan grants 3 to customer 'CUS010002'" in (
        problem.message
    )
    assert problem.where.yaml_path == "vouchers.ten-off.each_customer_limit"
    assert problem.where.line == line_of(path, "each_customer_limit")


def test_total_too_small_is_located(tmp_path: Path) -> None:
    """total below the planned grants names vouchers.<key>.total and its line."""
    path = write_campaign(tmp_path, campaign_text(vouchers=voucher(total="5")))
    (problem,) = _problems(path)
    assert problem.message == "total is 5, but the plan grants 6 vouchers"
    assert problem.where.yaml_path == "vouchers.ten-off.total"
    assert problem.where.line == line_of(path, "total: 5")


def test_more_than_99999_grants_is_refused_without_expanding(tmp_path: Path) -> None:
    """num is NUMERIC(5): a plan over 99999 grants for one voucher is a problem at total."""
    text = campaign_text(
        vouchers=voucher(each_customer_limit="99999"), grants=grant(quantity="50000")
    )
    (problem,) = _problems(write_campaign(tmp_path, text))
    assert "grants 200000 vouchers; the API allows at most 99999" in problem.message
    assert problem.where.yaml_path == "vouchers.ten-off.total"
    assert "over at least 3 vouchers" in str(problem.hint)  # 200000 / 99999, rounded up


def test_auto_each_limit_over_99999_is_refused(tmp_path: Path) -> None:
    """eachCmNum is NUMERIC(5): one customer getting more than 99999 in all is a problem."""
    one = grant(where="cm_code = 'CUS010001'", quantity="50000")
    text = campaign_text(grants=one + one)
    problems = _problems(write_campaign(tmp_path, text))
    messages = [p.message for p in problems]
    assert "customer 'CUS010001' gets 100000 vouchers; the API allows at most 99999" in messages
    (each,) = [p for p in problems if p.where.yaml_path == "vouchers.ten-off.each_customer_limit"]
    assert "split the quantity over 2 vouchers" in str(each.hint)


def test_budget_guard_uses_decimal_face_value(tmp_path: Path) -> None:
    """money × grants above budget.max_face_value is a problem at budget.max_face_value."""
    path = write_campaign(tmp_path, campaign_text(top='budget:\n  max_face_value: "59.99"\n'))
    (problem,) = _problems(path)
    assert "face value 60.00 exceeds budget.max_face_value 59.99" in problem.message
    assert problem.where.yaml_path == "budget.max_face_value"
    assert problem.where.line == line_of(path, "max_face_value")


def test_budget_guard_passes_at_the_limit(tmp_path: Path) -> None:
    """A face value exactly at the budget is allowed."""
    path = write_campaign(tmp_path, campaign_text(top='budget:\n  max_face_value: "60.00"\n'))
    assert _plan(path).jobs.height == 6


def test_budget_counts_zkbl_max_amount_and_notes_unbounded(tmp_path: Path) -> None:
    """ZKBL counts max_amount per grant; without max_amount it is skipped with a warning."""
    capped = voucher("capped", discount='{type: ZKBL, percent: "0.9", max_amount: "5"}')
    open_ended = voucher("open", discount='{type: ZKBL, percent: "0.9"}')
    grants = grant("capped") + grant("open")
    top = 'budget:\n  max_face_value: "30.00"\n'
    text = campaign_text(vouchers=capped + open_ended, grants=grants, top=top)
    plan = _plan(write_campaign(tmp_path, text))
    assert any("'open'" in w and "unbounded" in w for w in plan.warnings)
    tight = text.replace('"30.00"', '"29.99"')
    (problem,) = _problems(write_campaign(tmp_path, tight))
    assert "face value 30.00 exceeds" in problem.message


def test_specific_voucher_whose_grants_select_nobody(tmp_path: Path) -> None:
    """A specific voucher with grants that select no row is a problem at its customers key."""
    path = write_campaign(tmp_path, campaign_text(grants=grant(where="level = 'Z'")))
    (problem,) = _problems(path)
    assert "grants select nobody" in problem.message
    assert problem.where.yaml_path == "vouchers.ten-off.customers"
    assert problem.where.line == line_of(path, "customers: specific")


def test_scope_voucher_without_grants_and_auto_total(tmp_path: Path) -> None:
    """A scope voucher whose grants select nobody cannot have total: auto."""
    vouchers = voucher(customers="{levels: [A]}", each_customer_limit="1")
    text = campaign_text(vouchers=vouchers, grants=grant(where="level = 'Z'"))
    (problem,) = _problems(write_campaign(tmp_path, text))
    assert problem.message.startswith("total: auto needs grants")
    assert problem.where.yaml_path == "vouchers.ten-off.total"


def test_scope_voucher_without_grants_but_fixed_limits_is_a_warning(tmp_path: Path) -> None:
    """With total and each_customer_limit given, an ungranted HDFF scope voucher only warns."""
    vouchers = voucher(customers="{levels: [A]}", each_customer_limit="1", total="100")
    text = campaign_text(vouchers=vouchers, grants=grant(where="level = 'Z'"))
    plan = _plan(write_campaign(tmp_path, text))
    assert plan.jobs.height == 0
    assert plan.vouchers[0].num == 100
    assert any("no planned grants" in w for w in plan.warnings)


def test_unused_audience_is_a_warning(tmp_path: Path) -> None:
    """An audience no grant uses is still read and checked, and the plan says so."""
    extra = (
        "  spare:\n    file: customers.csv\n    key: cm_code\n    columns: {cm_code: 客户编码}\n"
    )
    text = campaign_text(
        audiences=campaign_text().split("audiences:\n")[1].split("vouchers:")[0] + extra
    )
    plan = _plan(write_campaign(tmp_path, text))
    assert any("'spare'" in w for w in plan.warnings)


def test_problems_of_every_audience_and_the_plan_come_together(tmp_path: Path) -> None:
    """Sheet problems of two audiences and a where problem are raised in one InvalidInput."""
    write_csv(tmp_path / "dup.csv", [("1", "C1"), ("2", "C1")], header=("客户ID", "客户编码"))
    write_csv(tmp_path / "nohead.csv", [("C1",)], header=("编码",))
    audiences = campaign_text().split("audiences:\n")[1].split("vouchers:")[0] + (
        "  dup:\n    file: dup.csv\n    key: cm_code\n    columns: {cm_code: 客户编码}\n"
        "  nohead:\n    file: nohead.csv\n    key: cm_code\n    columns: {cm_code: 客户编码}\n"
    )
    grants = grant(where="region = 'x'") + grant(audience="dup", quantity="1")
    grants += grant(audience="nohead", quantity="1")
    problems = _problems(
        write_campaign(tmp_path, campaign_text(audiences=audiences, grants=grants))
    )
    messages = " | ".join(p.message for p in problems)
    assert len(problems) == 3, messages
    assert "appears 2 times" in messages
    assert "no column '客户编码'" in messages
    assert "refers to region" in messages


def test_campaign_problems_stop_before_any_spreadsheet_is_read(tmp_path: Path) -> None:
    """An invalid campaign file reports only its own problems, even if a sheet is missing."""
    path = tmp_path / "campaign.yaml"
    path.write_text(campaign_text(vouchers=voucher(money='"0"')), encoding="utf-8")
    problems = _problems(path)  # customers.csv does not exist
    assert all(p.where.file == str(path) for p in problems)
    assert any(p.where.yaml_path == "vouchers.ten-off.money" for p in problems)


def test_build_plan_is_pure_and_matches_load_plan(tmp_path: Path) -> None:
    """build_plan on a loaded campaign and its audiences gives load_plan's plan."""
    path = write_campaign(tmp_path, campaign_text())
    campaign = load_campaign(path, env={}, today=TODAY)
    audiences, problems = read_audiences(campaign)
    assert problems == []
    assert build_plan(campaign, audiences).plan_hash == _plan(path).plan_hash


def test_build_plan_raises_for_plan_problems(tmp_path: Path) -> None:
    """build_plan raises one InvalidInput naming the campaign file."""
    path = write_campaign(tmp_path, campaign_text(vouchers=voucher(total="1")))
    campaign = load_campaign(path, env={}, today=TODAY)
    audiences, _ = read_audiences(campaign)
    with pytest.raises(InvalidInput) as caught:
        build_plan(campaign, audiences)
    assert caught.value.message == f"1 problem(s) in {path}"
    assert caught.value.problems()[0].where.yaml_path == "vouchers.ten-off.total"
