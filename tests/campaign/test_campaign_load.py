"""Loading a valid campaign: the model, its source, paths, lines; unreadable files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from runner.campaign import Campaign, CustomerScope, DiscountFixed, ProductsAll, load_campaign
from runner.campaign._model import beijing_today
from runner.errors import SpecError

from .helpers import ENV, TODAY, VALID, line_containing, load_text, replace, write


def test_valid_campaign_loads_every_field(tmp_path: Path) -> None:
    """The README example loads with typed values: dates, text amounts, enums, the grant."""
    campaign = load_text(tmp_path, VALID)
    assert campaign.id == "spring-2027-east"
    assert campaign.api.rate == 10.0
    assert campaign.api.transient_messages == ["系统繁忙"]
    assert campaign.budget is not None
    assert campaign.budget.max_face_value == "50000.00"
    voucher = campaign.vouchers["ten-off"]
    assert voucher.key == "ten-off"
    assert voucher.start_date == date(2027, 3, 1)
    assert voucher.money == "10.00"
    assert voucher.doorsill_amount == "100"
    assert isinstance(voucher.discount, DiscountFixed)
    assert isinstance(voucher.products, ProductsAll)
    assert voucher.customers == "specific"
    assert voucher.each_customer_limit == "auto"
    grant = campaign.grants[0]
    assert (grant.voucher, grant.audience, grant.quantity) == ("ten-off", "east", "qty")
    assert campaign.grants_for("ten-off") == [(0, grant)]


def test_source_base_dir_and_audience_path(tmp_path: Path) -> None:
    """The campaign knows its file; audience files resolve relative to the campaign's folder."""
    path = write(tmp_path, VALID)
    campaign = load_campaign(path, env=ENV, today=TODAY)
    assert campaign.source == path
    assert campaign.base_dir == path.resolve().parent
    audience = campaign.audiences["east"]
    assert audience.name == "east"
    assert audience.kind == "xlsx"
    assert audience.path == (tmp_path / "samples" / "customers_east.xlsx").resolve()
    assert audience.sheet == "客户"
    assert audience.columns["qty"] == "数量"


def test_location_and_line_of_for_later_checks(tmp_path: Path) -> None:
    """``campaign.location`` names file, key path and line; a missing path uses its parent's."""
    campaign = load_text(tmp_path, VALID)
    where = campaign.location("grants[0].where")
    assert where.line == line_containing(VALID, "where:")
    assert where.yaml_path == "grants[0].where"
    assert where.file is not None
    assert where.file.endswith("campaign.yaml")
    assert campaign.line_of("vouchers.ten-off.no_such_key") == line_containing(VALID, "ten-off:")


def test_ids_and_codes_stay_strings(tmp_path: Path) -> None:
    """Bare numeric ids and leading-zero codes in lists come out as the exact text."""
    text = replace(VALID, "customers: specific", "customers: {type_ids: [6856083179295188426]}")
    text = replace(text, "products: {mode: ALL}", "products: {mode: PRODUCT, codes: [007100, 42]}")
    voucher = load_text(tmp_path, text).vouchers["ten-off"]
    assert isinstance(voucher.customers, CustomerScope)
    assert voucher.customers.type_ids == ["6856083179295188426"]
    assert voucher.products.model_dump()["codes"] == ["007100", "42"]


def test_quantity_number_and_defaults(tmp_path: Path) -> None:
    """A numeric quantity is an int; omitted optional voucher keys take their defaults."""
    text = replace(VALID, "quantity: qty", "quantity: 2")
    for line in (
        "    pay_type: UNLIMITED\n",
        "    discount: {type: GDMZ}\n",
        "    auto_receive: N\n",
    ):
        text = replace(text, line, "")
    campaign = load_text(tmp_path, text)
    voucher = campaign.vouchers["ten-off"]
    assert campaign.grants[0].quantity == 2
    assert voucher.pay_type == "UNLIMITED"
    assert isinstance(voucher.discount, DiscountFixed)
    assert voucher.auto_receive is None


def test_end_date_today_is_allowed(tmp_path: Path) -> None:
    """A voucher ending today is still valid."""
    campaign = load_text(tmp_path, VALID, today=date(2027, 3, 31))
    assert campaign.vouchers["ten-off"].end_date == date(2027, 3, 31)


def test_beijing_today_is_a_date() -> None:
    """The default 'today' is a calendar date (UTC+8)."""
    assert isinstance(beijing_today(), date)


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    """A campaign path that does not exist is a SpecError naming the file, with a hint."""
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as caught:
        load_campaign(missing, env=ENV)
    assert caught.value.message == "campaign file not found"
    assert caught.value.where.file == str(missing)
    assert caught.value.hint


def test_directory_is_a_spec_error(tmp_path: Path) -> None:
    """A directory given as the campaign file is a SpecError, not a crash."""
    with pytest.raises(SpecError) as caught:
        load_campaign(tmp_path, env=ENV)
    assert "cannot read the campaign file" in caught.value.message


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    """A GB18030-saved file is refused as not UTF-8, at the line of the first bad byte."""
    path = tmp_path / "gbk.yaml"
    path.write_bytes("campaign: x\nvouchers:\n  a:\n    name: 满减\n".encode("gb18030"))
    with pytest.raises(SpecError) as caught:
        load_campaign(path, env=ENV)
    assert "not UTF-8" in caught.value.message
    assert caught.value.where.line == 4


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    """A UTF-8 file with a byte-order mark (as Windows Notepad saves it) loads."""
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode("utf-8"))
    campaign: Campaign = load_campaign(path, env=ENV, today=TODAY)
    assert campaign.id == "spring-2027-east"


def test_syntax_error_through_load(tmp_path: Path) -> None:
    """A YAML syntax error while loading is a SpecError naming the campaign file and the line."""
    text = replace(VALID, "    quantity: qty", "    quantity: [qty")
    with pytest.raises(SpecError) as caught:
        load_text(tmp_path, text)
    assert caught.value.where.file is not None
    assert caught.value.where.file.endswith("campaign.yaml")
    assert caught.value.where.line is not None
