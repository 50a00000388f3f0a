"""The appkey's value is refused anywhere in a campaign but api.appkey, and never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import InvalidInput, Problem

from .helpers import ENV, VALID, at, line_containing, load_text, problems, replace

APPKEY = ENV["WAIQIN_APPKEY"]


def shown(found: list[Problem]) -> str:
    """Every text a person or a JSON reader could see of the problems."""
    return "\n".join(f"{p}\n{p!r}\n{p.as_dict()}" for p in found)


@pytest.mark.parametrize(
    ("old", "new", "path", "key"),
    [
        ("remark: 使用说明", "remark: ${WAIQIN_APPKEY}", "vouchers.ten-off.remark", "remark"),
        ("name: 满100减10", 'name: "满减 ${WAIQIN_APPKEY}"', "vouchers.ten-off.name", "name"),
        ("comment: 备注", "comment: x${WAIQIN_APPKEY}x", "vouchers.ten-off.comment", "comment"),
        (
            "business_from_name: 春季活动",
            f"business_from_name: {APPKEY}",
            "vouchers.ten-off.business_from_name",
            "business_from_name",
        ),
        (
            'where: "level',
            "where: \"cm_code = '${WAIQIN_APPKEY}' OR level",
            "grants[0].where",
            "where",
        ),
        ("file: ../samples/", "file: ../${WAIQIN_APPKEY}/", "audiences.east.file", "file"),
        (
            'transient_messages: ["系统繁忙"]',
            'transient_messages: ["${WAIQIN_APPKEY}"]',
            "api.transient_messages[0]",
            "transient_messages[0]",
        ),
    ],
)
def test_appkey_in_a_value_is_refused_at_its_key_without_echo(
    tmp_path: Path, old: str, new: str, path: str, key: str
) -> None:
    """A value holding the appkey (by reference or literally) is one problem at its key path."""
    text = replace(VALID, old, new)
    found = problems(tmp_path, text)
    problem = at(found, path)
    assert problem.where.line == line_containing(text, new)
    assert repr(key) in problem.message
    assert "appkey" in problem.message
    assert APPKEY not in shown(found)
    assert len(found) == 1, shown(found)


def test_literal_copy_of_the_appkey_says_it_contains_the_value(tmp_path: Path) -> None:
    """A value that holds the appkey's text without a reference is named as containing it."""
    text = replace(VALID, "remark: 使用说明", f"remark: 密钥{APPKEY}")
    problem = at(problems(tmp_path, text), "vouchers.ten-off.remark")
    assert "'remark' contains the appkey's value" in problem.message
    assert APPKEY not in str(problem)


def test_appkey_from_its_own_variable_is_refused_elsewhere(tmp_path: Path) -> None:
    """With api.appkey: ${MY_KEY}, a value that uses ${MY_KEY} or its text is refused."""
    text = replace(VALID, "appkey: ${WAIQIN_APPKEY}", "appkey: ${MY_KEY}")
    text = replace(text, "remark: 使用说明", "remark: ${MY_KEY}")
    text = replace(text, "comment: 备注", "comment: ${NOTE}")
    env = {"WAIQIN_OPENID": "o-1", "MY_KEY": "my-own-signing-key", "NOTE": "my-own-signing-key"}
    found = problems(tmp_path, text, env=env)
    assert "${MY_KEY}" in at(found, "vouchers.ten-off.remark").message
    assert "contains the appkey's value" in at(found, "vouchers.ten-off.comment").message
    assert "my-own-signing-key" not in shown(found)


def test_reference_to_the_appkey_is_refused_while_unset(tmp_path: Path) -> None:
    """Planning without credentials still refuses ${WAIQIN_APPKEY} outside api.appkey."""
    text = replace(VALID, "remark: 使用说明", "remark: ${WAIQIN_APPKEY}")
    found = problems(tmp_path, text, env={})
    problem = at(found, "vouchers.ten-off.remark")
    assert "${WAIQIN_APPKEY}" in problem.message
    assert "not set" not in shown(found)


def test_base_url_from_the_environment_holding_the_appkey_is_refused(tmp_path: Path) -> None:
    """A WAIQIN_BASE_URL built from the appkey is refused at api.base_url without echo."""
    env = {**ENV, "WAIQIN_BASE_URL": f"https://{APPKEY}.example.com"}
    found = problems(tmp_path, VALID, env=env)
    problem = at(found, "api.base_url")
    assert "contains the appkey's value" in problem.message
    assert APPKEY not in shown(found)


def test_other_problems_are_still_listed_and_none_echoes_the_appkey(tmp_path: Path) -> None:
    """A grant naming the appkey is one problem (not also "unknown voucher '…'"), listed
    with the other problems, and no text shows the value."""
    text = replace(VALID, "  - voucher: ten-off", "  - voucher: ${WAIQIN_APPKEY}")
    with pytest.raises(InvalidInput) as caught:
        load_text(tmp_path, text)
    found = caught.value.problems()
    assert "'voucher' refers to ${WAIQIN_APPKEY}" in at(found, "grants[0].voucher").message
    assert "no grant names it" in at(found, "vouchers.ten-off.customers").message
    assert APPKEY not in shown(found)
    assert APPKEY not in str(caught.value)


def test_a_campaign_without_the_appkey_elsewhere_loads(tmp_path: Path) -> None:
    """The valid campaign, whose only appkey is api.appkey, still loads with it."""
    campaign = load_text(tmp_path, VALID)
    assert campaign.api.appkey is not None
    assert campaign.api.appkey.get_secret_value() == APPKEY
