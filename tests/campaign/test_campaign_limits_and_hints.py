"""Issue 12's campaign-file findings: quantity bounds, threshold below money, plain hints."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import VALID, at, line_containing, load_text, problems, replace

GRANT_QTY = "    quantity: qty"
V = "vouchers.ten-off"


def test_a_grant_quantity_above_99999_is_refused_at_its_key(tmp_path: Path) -> None:
    """10**32 vouchers each is refused at grants[0].quantity, naming the API's limit."""
    text = replace(VALID, GRANT_QTY, "    quantity: " + "9" * 32)
    problem = at(problems(tmp_path, text), "grants[0].quantity")
    assert problem.message.startswith("must be at most 99999, not 999")
    assert "eachCmNum is NUMERIC(5)" in problem.message
    assert problem.where.line == line_containing(text, "quantity: 999")
    assert "from 1 to 99999" in str(problem.hint)


def test_a_grant_quantity_of_99999_is_accepted(tmp_path: Path) -> None:
    """99999, the API's limit, is a valid grant quantity."""
    campaign = load_text(tmp_path, replace(VALID, GRANT_QTY, "    quantity: 99999"))
    assert campaign.grants[0].quantity == 99999


def test_a_number_of_thousands_of_digits_is_refused_not_crashed(tmp_path: Path) -> None:
    """5,000 digits (beyond what Python converts) are refused at the key, quoted short."""
    text = replace(VALID, GRANT_QTY, "    quantity: " + "9" * 5000)
    problem = at(problems(tmp_path, text), "grants[0].quantity")
    assert problem.message == "is a number of 5,000 digits, far too large"


@pytest.mark.parametrize("discount", ["{type: GDMZ}", None])
def test_a_threshold_below_the_face_value_is_refused(tmp_path: Path, discount: str | None) -> None:
    """满5减10 (GDMZ, written or by default) is refused at doorsill_amount, saying why."""
    text = replace(VALID, 'doorsill_amount: "100"', 'doorsill_amount: "5"')
    if discount is None:
        text = replace(text, "    discount: {type: GDMZ}\n", "")
    problem = at(problems(tmp_path, text), f"{V}.doorsill_amount")
    assert problem.message.startswith("doorsill_amount 5 is below the face value (money) 10.00")
    assert "满5减10" in problem.message
    assert "its own rule" in problem.message
    assert problem.where.line == line_containing(text, "doorsill_amount:")
    assert "at least 10.00" in str(problem.hint)


@pytest.mark.parametrize("threshold", ['"10.00"', '"10"', "0", '"100"'])
def test_a_threshold_at_or_above_the_face_value_or_none_is_accepted(
    tmp_path: Path, threshold: str
) -> None:
    """A threshold equal to money, above it, or 0 (no threshold) is accepted."""
    text = replace(VALID, 'doorsill_amount: "100"', f"doorsill_amount: {threshold}")
    assert load_text(tmp_path, text).vouchers["ten-off"].money == "10.00"


def test_a_ratio_voucher_may_have_a_threshold_below_money(tmp_path: Path) -> None:
    """The rule is for a fixed face value: a ZKBL voucher with threshold 5 is accepted."""
    text = replace(VALID, 'doorsill_amount: "100"', 'doorsill_amount: "5"')
    text = replace(text, "{type: GDMZ}", '{type: ZKBL, percent: "0.9"}')
    assert load_text(tmp_path, text).vouchers["ten-off"].doorsill_amount == "5"


def test_customers_given_as_a_number_names_specific(tmp_path: Path) -> None:
    """customers: 5 says what it can be: 'specific' or a scope, with an example of each."""
    text = replace(VALID, "    customers: specific", "    customers: 5")
    problem = at(problems(tmp_path, text), f"{V}.customers")
    assert problem.message == "must be 'specific' or a customer scope (a mapping) (got 5)"
    assert "customers: specific" in str(problem.hint)
    assert "{levels: [A, B]}" in str(problem.hint)


def test_a_repeated_voucher_key_is_not_also_missing_keys(tmp_path: Path) -> None:
    """Two ten-off vouchers: one duplicate-key problem, no "required key" for the copy read."""
    text = replace(VALID, "vouchers:\n", "vouchers:\n  ten-off:\n    name: 满减\n")
    first = line_containing(text, "name: 满减") - 1
    again = line_containing(text, "name: 满100减10") - 1
    found = problems(tmp_path, text)
    assert [p.message for p in found] == [
        f"duplicate key 'ten-off' (first at line {first}, again at line {again})"
    ]


def test_a_missing_key_outside_a_repeated_one_is_still_reported(tmp_path: Path) -> None:
    """Dropping money from a voucher that is not repeated still says it is missing."""
    text = replace(VALID, '    money: "10.00"\n', "")
    top = "campaign: spring-2027-east\n"
    text = replace(text, top, top + "campaign: x\n")
    messages = [p.message for p in problems(tmp_path, text)]
    assert "required key 'money' is missing" in messages


@pytest.mark.parametrize(
    ("old", "new", "path", "expected"),
    [
        ('money: "10.00"', "money: [10]", f"{V}.money", 'e.g. "10.00"'),
        ('money: "10.00"', "money: ¥10", f"{V}.money", "without a currency sign"),
        ('money: "10.00"', 'money: "10.005"', f"{V}.money", "at most 2 decimal places"),
        ('money: "10.00"', 'money: "-1"', f"{V}.money", "greater than 0"),
        ('doorsill_amount: "100"', 'doorsill_amount: "-1"', f"{V}.doorsill_amount", "at least 0"),
        ("{type: GDMZ}", '{type: ZKBL, percent: "85%"}', f"{V}.discount.percent", '"0.85"'),
        ("rate: 10", "rate: fast", "api.rate", "e.g. 5 or 2.5"),
        ("concurrency: 4", "concurrency: four", "api.concurrency", "e.g. 4"),
        (GRANT_QTY, "    quantity: 1.5", "grants[0].quantity", "e.g. quantity: 2"),
        ("start_date: 2027-03-01", "start_date: 2027/03/01", f"{V}.start_date", "yyyy-MM-dd"),
        ("end_date: 2027-03-31", "end_date: 2027-02-30", f"{V}.end_date", "calendar"),
        ("total: auto", "total: lots", f"{V}.total", "e.g. 500"),
        ("auto_receive: N", "auto_receive: NO", f"{V}.auto_receive", "Write one of Y, N"),
        ("products: {mode: ALL}", "products: ALL", f"{V}.products", "`key: value` lines"),
    ],
)
def test_a_value_of_the_wrong_kind_gets_a_hint_with_an_example(
    tmp_path: Path, old: str, new: str, path: str, expected: str
) -> None:
    """Every wrongly typed value's hint says what is expected, with an example."""
    problem = at(problems(tmp_path, replace(VALID, old, new)), path)
    assert expected in str(problem.hint), problem
