"""Every campaign rule checkable without spreadsheets: the message, the key path and the line."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from runner.errors import InvalidInput

from .helpers import VALID, at, line_containing, load_text, problems, replace

SCOPED_VOUCHER = """\
  extra:
    name: 额外
    start_date: 2027-03-01
    end_date: 2027-03-31
    money: "5"
    grant_type: HDFF
    customers: {levels: [A]}
    products: {mode: ALL}
grants:
"""


class Case(NamedTuple):
    old: str
    new: str
    path: str
    fragment: str
    marker: str  # text on the line the problem must be reported at


V = "vouchers.ten-off"
CASES = {
    "campaign-id": Case(
        "campaign: spring-2027-east",
        "campaign: spring 2027",
        "campaign",
        "is not a valid key",
        "campaign:",
    ),
    "real-date": Case(
        "start_date: 2027-03-01",
        "start_date: 2027-02-30",
        f"{V}.start_date",
        "is not a real date",
        "start_date:",
    ),
    "date-format": Case(
        "end_date: 2027-03-31", "end_date: 31/03/2027", f"{V}.end_date", "yyyy-MM-dd", "end_date:"
    ),
    "start-after-end": Case(
        "start_date: 2027-03-01",
        "start_date: 2027-04-01",
        f"{V}.end_date",
        "is before start_date 2027-04-01",
        "end_date:",
    ),
    "end-in-past": Case(
        "start_date: 2027-03-01\n    end_date: 2027-03-31",
        "start_date: 2027-01-01\n    end_date: 2027-01-10",
        f"{V}.end_date",
        "is in the past (today is 2027-01-15",
        "end_date:",
    ),
    "money-zero": Case(
        'money: "10.00"', 'money: "0"', f"{V}.money", "must be greater than 0", "money:"
    ),
    "money-places": Case(
        'money: "10.00"', "money: 10.005", f"{V}.money", "more than 2 decimal places", "money:"
    ),
    "money-text": Case(
        'money: "10.00"', "money: ten", f"{V}.money", "is not a plain decimal number", "money:"
    ),
    "doorsill-negative": Case(
        'doorsill_amount: "100"',
        'doorsill_amount: "-1"',
        f"{V}.doorsill_amount",
        "must be at least 0",
        "doorsill_amount:",
    ),
    "percent-range": Case(
        "discount: {type: GDMZ}",
        'discount: {type: ZKBL, percent: "1.5"}',
        f"{V}.discount.percent",
        "must be at most 1",
        "discount:",
    ),
    "percent-places": Case(
        "discount: {type: GDMZ}",
        'discount: {type: ZKBL, percent: "0.12345"}',
        f"{V}.discount.percent",
        "more than 4 decimal places",
        "discount:",
    ),
    "percent-missing": Case(
        "discount: {type: GDMZ}",
        "discount: {type: ZKBL}",
        f"{V}.discount.percent",
        "required key 'percent' is missing",
        "discount:",
    ),
    "max-amount": Case(
        "discount: {type: GDMZ}",
        'discount: {type: ZKBL, percent: "0.8", max_amount: "-5"}',
        f"{V}.discount.max_amount",
        "greater than 0",
        "discount:",
    ),
    "discount-type": Case(
        "discount: {type: GDMZ}",
        "discount: {type: FOO}",
        f"{V}.discount",
        "type' must be one of 'GDMZ', 'ZKBL'",
        "discount:",
    ),
    "discount-no-type": Case(
        "discount: {type: GDMZ}",
        'discount: {percent: "0.5"}',
        f"{V}.discount",
        "needs a 'type' key",
        "discount:",
    ),
    "discount-gdmz-extra": Case(
        "discount: {type: GDMZ}",
        'discount: {type: GDMZ, percent: "0.5"}',
        f"{V}.discount.percent",
        "unknown key 'percent'",
        "discount:",
    ),
    "name-long": Case(
        "name: 满100减10",
        "name: " + "券" * 33,
        f"{V}.name",
        "33 characters, at most 32",
        "name: 券",
    ),
    "name-bool": Case(
        "name: 满100减10",
        "name: true",
        f"{V}.name",
        "must be text, not the boolean true",
        "name: true",
    ),
    "remark-long": Case(
        "remark: 使用说明", "remark: " + "x" * 1001, f"{V}.remark", "at most 1000", "remark:"
    ),
    "comment-long": Case(
        "comment: 备注", "comment: " + "y" * 1001, f"{V}.comment", "at most 1000", "comment:"
    ),
    "business-long": Case(
        "business_from_name: 春季活动",
        "business_from_name: " + "z" * 33,
        f"{V}.business_from_name",
        "at most 32",
        "business_from_name:",
    ),
    "pay-type": Case(
        "pay_type: UNLIMITED",
        "pay_type: CASH",
        f"{V}.pay_type",
        "must be one of 'UNLIMITED' or 'ONLINE'",
        "pay_type:",
    ),
    "grant-type": Case(
        "grant_type: HDFF",
        "grant_type: HDF",
        f"{V}.grant_type",
        "(did you mean 'HDFF'?)",
        "grant_type:",
    ),
    "auto-receive": Case(
        "auto_receive: N",
        "auto_receive: yes",
        f"{V}.auto_receive",
        "must be one of 'Y' or 'N' (got 'yes')",
        "auto_receive:",
    ),
    "products-empty": Case(
        "products: {mode: ALL}",
        "products: {mode: PRODUCT}",
        f"{V}.products",
        "need exactly one non-empty list: codes or ids",
        "products:",
    ),
    "products-both": Case(
        "products: {mode: ALL}",
        'products: {mode: BRAND, names: [a], ids: ["1"]}',
        f"{V}.products",
        "names or ids",
        "products:",
    ),
    "products-all-list": Case(
        "products: {mode: ALL}",
        "products: {mode: ALL, codes: [a]}",
        f"{V}.products.codes",
        "unknown key 'codes'",
        "products:",
    ),
    "products-mode": Case(
        "products: {mode: ALL}",
        "products: {mode: SOME}",
        f"{V}.products",
        "'mode' must be one of",
        "products:",
    ),
    "product-id": Case(
        "products: {mode: ALL}",
        "products: {mode: PRODUCT, ids: [abc]}",
        f"{V}.products.ids[0]",
        "'abc' is not a valid id",
        "products:",
    ),
    "product-comma": Case(
        "products: {mode: ALL}",
        'products: {mode: PRODUCT, codes: ["a,b"]}',
        f"{V}.products.codes[0]",
        "must not contain a comma",
        "products:",
    ),
    "zdlq-specific": Case(
        "grant_type: HDFF",
        "grant_type: ZDLQ",
        f"{V}.customers",
        "needs a customer scope, not 'specific'",
        "customers:",
    ),
    "zdlq-empty-scope": Case(
        "grant_type: HDFF\n    customers: specific",
        "grant_type: ZDLQ\n    customers: {}",
        f"{V}.customers",
        "non-empty customer scope",
        "customers:",
    ),
    "scope-names-and-ids": Case(
        "customers: specific",
        'customers: {levels: [A], level_ids: ["1"]}',
        f"{V}.customers",
        "either levels or level_ids",
        "customers:",
    ),
    "customers-typo": Case(
        "customers: specific",
        "customers: specfic",
        f"{V}.customers",
        "must be one of 'specific'",
        "customers:",
    ),
    "scope-typo": Case(
        "customers: specific",
        "customers: {levls: [A]}",
        f"{V}.customers.levls",
        "did you mean 'levels'?",
        "customers:",
    ),
    "each-limit": Case(
        "each_customer_limit: auto",
        "each_customer_limit: 0",
        f"{V}.each_customer_limit",
        "'auto' or a whole number from 1 to 99999",
        "each_customer_limit:",
    ),
    "total-max": Case(
        "total: auto",
        "total: 100000",
        f"{V}.total",
        "'auto' or a whole number from 1 to 99999",
        "total:",
    ),
    "each-over-total": Case(
        "each_customer_limit: auto\n    total: auto",
        "each_customer_limit: 5\n    total: 2",
        f"{V}.total",
        "total 2 is smaller than each_customer_limit 5",
        "total:",
    ),
    "quantity-zero": Case(
        "quantity: qty", "quantity: 0", "grants[0].quantity", "must be at least 1", "quantity:"
    ),
    "quantity-unmapped": Case(
        "quantity: qty",
        "quantity: amount",
        "grants[0].quantity",
        "quantity column 'amount' is not mapped in audience 'east'",
        "quantity:",
    ),
    "grant-voucher": Case(
        "  - voucher: ten-off",
        "  - voucher: ten-of",
        "grants[0].voucher",
        "unknown voucher 'ten-of' (did you mean 'ten-off'?)",
        "- voucher:",
    ),
    "grant-audience": Case(
        "    audience: east",
        "    audience: west",
        "grants[0].audience",
        "unknown audience 'west'",
        "audience: west",
    ),
    "where-empty": Case(
        "where: \"level IN ('A', 'B')\"",
        'where: ""',
        "grants[0].where",
        "must not be empty",
        "where:",
    ),
    "specific-ungranted": Case(
        "grants:\n",
        SCOPED_VOUCHER.replace("{levels: [A]}", "specific  # extra"),
        "vouchers.extra.customers",
        "is for specific customers, but no grant names it",
        "# extra",
    ),
    "auto-ungranted": Case(
        "grants:\n",
        SCOPED_VOUCHER,
        "vouchers.extra.total",
        "has no grants, so total and each_customer_limit cannot be 'auto'",
        "  extra:",
    ),
    "key-unmapped": Case(
        "key: cm_code",
        "key: cm_id",
        "audiences.east.columns",
        "the key column 'cm_id' is not mapped",
        "columns:",
    ),
    "key-choice": Case(
        "key: cm_code",
        "key: code",
        "audiences.east.key",
        "must be one of 'cm_id', 'cm_code' or 'cm_source_code'",
        "key: code",
    ),
    "sheet-on-csv": Case(
        "file: ../samples/customers_east.xlsx",
        "file: ../samples/customers_north.csv",
        "audiences.east.sheet",
        "sheet applies only to XLSX files",
        "sheet:",
    ),
    "encoding-on-xlsx": Case(
        "    sheet: 客户",
        "    encoding: gb18030",
        "audiences.east.encoding",
        "encoding applies only to CSV files",
        "encoding:",
    ),
    "file-suffix": Case(
        "file: ../samples/customers_east.xlsx",
        "file: customers.txt",
        "audiences.east.file",
        "is not a spreadsheet file",
        "file:",
    ),
    "column-name": Case(
        "level: 客户等级",
        "2level: 客户等级",
        "audiences.east.columns.2level",
        "is not a valid column name",
        "columns:",
    ),
    "sheet-index": Case(
        "sheet: 客户", "sheet: -1", "audiences.east.sheet", "a sheet index counts from 0", "sheet:"
    ),
    "rate": Case("rate: 10", "rate: 0", "api.rate", "must be greater than 0", "rate:"),
    "concurrency": Case(
        "concurrency: 4", "concurrency: 0", "api.concurrency", "must be at least 1", "concurrency:"
    ),
    "timeout": Case(
        "timeout_s: 15", "timeout_s: -1", "api.timeout_s", "must be greater than 0", "timeout_s:"
    ),
    "attempts": Case(
        "max_attempts: 6",
        "max_attempts: 2.5",
        "api.max_attempts",
        "must be a whole number",
        "max_attempts:",
    ),
    "base-url": Case(
        "  rate: 10",
        "  base_url: ftp://example.com\n  rate: 10",
        "api.base_url",
        "is not an http(s) address",
        "base_url:",
    ),
    "transient-list": Case(
        'transient_messages: ["系统繁忙"]',
        "transient_messages: 系统繁忙",
        "api.transient_messages",
        "must be a list",
        "transient_messages:",
    ),
    "budget": Case(
        'max_face_value: "50000.00"',
        'max_face_value: "0"',
        "budget.max_face_value",
        "must be greater than 0",
        "max_face_value:",
    ),
    "top-level-typo": Case(
        "grants:\n",
        "grnts: []\ngrants:\n",
        "grnts",
        "unknown key 'grnts' (did you mean 'grants'?)",
        "grnts:",
    ),
    "missing-key": Case(
        "    grant_type: HDFF\n",
        "",
        f"{V}.grant_type",
        "required key 'grant_type' is missing",
        "  ten-off:",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rule_reports_message_path_and_line(tmp_path: Path, case: Case) -> None:
    """Each broken rule gives a problem at its key path, on the right line, with a plain message."""
    text = replace(VALID, case.old, case.new)
    problem = at(problems(tmp_path, text), case.path)
    assert case.fragment in problem.message
    assert problem.where.line == line_containing(text, case.marker)
    assert problem.where.file is not None
    assert problem.where.file.endswith("campaign.yaml")


def test_unknown_key_hint_lists_the_allowed_keys(tmp_path: Path) -> None:
    """A typo's hint lists the keys allowed at that place (here: a voucher's keys)."""
    text = replace(VALID, "total: auto", "totl: auto")
    problem = at(problems(tmp_path, text), "vouchers.ten-off.totl")
    assert problem.message == "unknown key 'totl' (did you mean 'total'?)"
    assert problem.hint is not None
    assert "each_customer_limit, total, remark" in problem.hint


def test_unknown_voucher_hint_lists_known_keys(tmp_path: Path) -> None:
    """A grant naming a missing voucher lists the vouchers that exist."""
    text = replace(VALID, "  - voucher: ten-off", "  - voucher: nothing-like-it")
    problem = at(problems(tmp_path, text), "grants[0].voucher")
    assert "did you mean" not in problem.message
    assert problem.hint == "Use one of the keys under vouchers: ten-off."


def test_three_mistakes_give_three_problems_in_one_raise(tmp_path: Path) -> None:
    """Independent mistakes in different sections are all reported by one InvalidInput."""
    text = replace(VALID, "rate: 10", "rate: -3")
    text = replace(text, 'money: "10.00"', 'money: "0.001"')
    text = replace(text, "quantity: qty", "quantity: nope")
    with pytest.raises(InvalidInput) as caught:
        load_text(tmp_path, text)
    found = caught.value.problems()
    assert [p.where.yaml_path for p in found] == [
        "api.rate",
        "vouchers.ten-off.money",
        "grants[0].quantity",
    ]
    assert caught.value.exit_code == 2
    assert "3 problem(s)" in caught.value.message


def test_duplicate_keys_are_reported_with_other_problems(tmp_path: Path) -> None:
    """A duplicate key is a problem naming both lines, reported together with model problems."""
    text = replace(VALID, "    total: auto\n", '    total: auto\n    money: "20.00"\n')
    text = replace(text, "rate: 10", "rate: 0")
    found = problems(tmp_path, text)
    dup = at(found, "vouchers.ten-off.money")
    first, again = line_containing(text, 'money: "10.00"'), line_containing(text, 'money: "20.00"')
    assert dup.message == f"duplicate key 'money' (first at line {first}, again at line {again})"
    assert dup.where.line == again
    assert at(found, "api.rate").where.line == line_containing(text, "rate:")


def test_empty_vouchers_is_a_problem(tmp_path: Path) -> None:
    """A campaign without vouchers is refused at the vouchers key."""
    start, end = VALID.index("vouchers:"), VALID.index("grants:")
    text = VALID[:start] + "vouchers: {}\n" + VALID[end:]
    problem = at(problems(tmp_path, text), "vouchers")
    assert problem.message == "must not be empty"
    assert problem.where.line == line_containing(text, "vouchers:")


def test_invalid_voucher_key_is_reported_at_the_key(tmp_path: Path) -> None:
    """A voucher key with spaces is reported at that key's path and line."""
    text = VALID.replace("ten-off", "ten off")
    problem = at(problems(tmp_path, text), "vouchers.ten off")
    assert "'ten off' is not a valid key" in problem.message
    assert problem.where.line == line_containing(text, "  ten off:")
