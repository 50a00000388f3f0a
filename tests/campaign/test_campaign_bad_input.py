"""Campaign-file input an adversary tries: object tags, absurd amounts, pipes (issue 12)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from runner.campaign import load_campaign
from runner.errors import SpecError

from .helpers import ENV, VALID, at, line_containing, load_text, problems, replace, write


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        (
            '  transient_messages: ["系统繁忙"]',
            '  transient_messages: !!python/object/apply:os.system ["echo hi"]',
            "!!python/object/apply:os.system",
        ),
        ("budget:\n", "budget: !!python/object:builtins.dict\n", "!!python/object:builtins.dict"),
        ("    comment: 备注", "    comment: !!python/name:os.system", "!!python/name:os.system"),
        ("    comment: 备注", "    !!python/str comment: 备注", "!!python/str"),
        ("    comment: 备注", "    comment: !custom 备注", "!custom"),
        ("    comment: 备注", "    comment: !!binary aGVsbG8=", "!!binary"),
    ],
    ids=["sequence", "mapping", "scalar", "key", "local-tag", "binary"],
)
def test_yaml_tags_are_refused_with_their_line(
    tmp_path: Path, old: str, new: str, shown: str
) -> None:
    """Any tag but the plain ones is refused as a tag, at its line, never read as data."""
    text = replace(VALID, old, new)
    with pytest.raises(SpecError) as caught:
        load_text(tmp_path, text)
    error = caught.value
    assert error.message.startswith("YAML tags such as !!python/... are not allowed")
    assert repr(shown) in error.message
    assert error.where.line == line_containing(text, new.strip().splitlines()[0])
    assert error.hint is not None
    assert "Remove the tag" in error.hint


def test_a_plain_str_tag_is_still_allowed(tmp_path: Path) -> None:
    """`!!str 007100` is plain YAML for text and keeps being accepted."""
    text = replace(VALID, "    comment: 备注", "    comment: !!str 007100")
    assert load_text(tmp_path, text).vouchers["ten-off"].comment == "007100"


@pytest.mark.parametrize(
    ("value", "expect"),
    [
        ('"99999999999999999999999"', "must be at most 999999999999.99"),
        ("99999999999999999999999", "must be at most 999999999999.99"),
        ("99999999999999999999999.0", "must be at most 999999999999.99"),
        ('"1000000000000.00"', "must be at most 999999999999.99"),
        ('"-10.00"', "must be greater than 0"),
        ("-10", "must be greater than 0"),
        ('"NaN"', "is not a plain decimal number"),
        (".nan", "is not a plain decimal number"),
        (".inf", "is not a plain decimal number"),
        ('"1e3"', "is not a plain decimal number"),
        ('"10.001"', "has more than 2 decimal places"),
    ],
)
def test_absurd_amounts_are_refused_at_their_line(tmp_path: Path, value: str, expect: str) -> None:
    """Huge, negative, NaN/inf, exponent and over-precise amounts are refused for money."""
    text = replace(VALID, '    money: "10.00"', f"    money: {value}")
    problem = at(problems(tmp_path, text), "vouchers.ten-off.money")
    assert expect in problem.message
    assert problem.where.line == line_containing(text, f"    money: {value}")


def test_the_amount_limit_names_the_vendor_field(tmp_path: Path) -> None:
    """The hint of a too-large amount says where the bound comes from."""
    text = replace(VALID, '    doorsill_amount: "100"', '    doorsill_amount: "1000000000000"')
    problem = at(problems(tmp_path, text), "vouchers.ten-off.doorsill_amount")
    assert problem.hint is not None
    assert "NUMERIC(20,8)" in problem.hint


def test_the_largest_amount_is_accepted(tmp_path: Path) -> None:
    """999999999999.99 is accepted as money and as a threshold."""
    text = replace(VALID, '    money: "10.00"', '    money: "999999999999.99"')
    text = replace(text, '    doorsill_amount: "100"', '    doorsill_amount: "999999999999.99"')
    text = replace(text, '  max_face_value: "50000.00"', '  max_face_value: "999999999999.99"')
    voucher = load_text(tmp_path, text).vouchers["ten-off"]
    assert (voucher.money, voucher.doorsill_amount) == ("999999999999.99", "999999999999.99")


def test_formulas_cached_is_an_xlsx_setting(tmp_path: Path) -> None:
    """`formulas: cached` is accepted for an XLSX audience and refused for a CSV one."""
    text = replace(VALID, "    key: cm_code\n", "    key: cm_code\n    formulas: cached\n")
    assert load_text(tmp_path, text).audiences["east"].formulas == "cached"
    csv = replace(text, "customers_east.xlsx", "customers_north.csv").replace(
        "    sheet: 客户\n", ""
    )
    problem = at(problems(tmp_path, csv), "audiences.east.formulas")
    assert "only to XLSX" in problem.message


def test_unknown_formulas_value_is_refused(tmp_path: Path) -> None:
    """`formulas: compute` is not one of refuse or cached."""
    text = replace(VALID, "    key: cm_code\n", "    key: cm_code\n    formulas: compute\n")
    assert at(problems(tmp_path, text), "audiences.east.formulas")


def test_audience_root_is_read(tmp_path: Path) -> None:
    """`audience_root: ..` widens the folder audience files must be in to the parent."""
    text = replace(VALID, "audiences:\n", "audience_root: ..\naudiences:\n")
    campaign = load_text(tmp_path, text)
    assert campaign.audience_folder == tmp_path.resolve()


def test_a_fifo_as_the_campaign_file_is_refused_without_blocking(tmp_path: Path) -> None:
    """A named pipe given as the campaign file is refused at once."""
    fifo = write(tmp_path, "x").parent / "pipe.yaml"
    os.mkfifo(fifo)
    found: list[str] = []

    def load() -> None:
        with pytest.raises(SpecError) as caught:
            load_campaign(fifo, env=ENV)
        found.append(caught.value.message)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=10)
    if thread.is_alive():
        with fifo.open("w"):
            pass
    assert found
    assert "not a file" in found[0]
