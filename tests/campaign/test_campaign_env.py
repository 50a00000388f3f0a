"""``${VAR}`` interpolation, the literal-appkey refusal and WAIQIN_* defaults for the api block."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import logs
from runner.campaign._env import fill_api_gaps, interpolate

from .helpers import ENV, VALID, at, line_containing, load_text, problems, replace

LITERAL = "Zq9-literal-appkey-77"


@pytest.fixture(autouse=True)
def _forget_secrets() -> None:
    logs.reset()


def test_whole_and_embedded_references_are_replaced() -> None:
    """A value that is a reference, or contains one, gets the variable's text; others are kept."""
    data = {"a": "${X}", "b": ["pre-${X}-${Y}"], "c": {"d": 5, "e": "no ref"}}
    out, issues = interpolate(data, {"X": "1", "Y": "two"})
    assert issues == []
    assert out == {"a": "1", "b": ["pre-1-two"], "c": {"d": 5, "e": "no ref"}}
    assert data["a"] == "${X}"


def test_unset_variable_is_an_issue_at_its_path() -> None:
    """An unset variable is reported once per value, at the key path that refers to it."""
    _, issues = interpolate({"g": [{"where": "${NOPE} ${NOPE}"}]}, {})
    assert [(i.yaml_path, i.message) for i in issues] == [
        ("g[0].where", "environment variable NOPE is not set")
    ]


def test_unset_variable_reported_with_line(tmp_path: Path) -> None:
    """Loading reports an unset variable with its key path and line, once."""
    text = replace(VALID, "remark: 使用说明", "remark: ${VOUCHER_REMARK}")
    found = problems(tmp_path, text, env=ENV)
    problem = at(found, "vouchers.ten-off.remark")
    assert problem.message == "environment variable VOUCHER_REMARK is not set"
    assert problem.where.line == line_containing(text, "remark:")
    assert len(found) == 1


def test_unset_credentials_do_not_stop_planning(tmp_path: Path) -> None:
    """Unset credential variables load fine (planning needs none) and are named for later."""
    campaign = load_text(tmp_path, VALID, env={})
    assert campaign.api.openid is None
    assert campaign.api.appkey is None
    assert campaign.unset_credentials == {"openid": "WAIQIN_OPENID", "appkey": "WAIQIN_APPKEY"}


def test_literal_appkey_is_refused_without_repeating_it(tmp_path: Path) -> None:
    """A literal appkey is a problem at api.appkey whose text, hint and JSON never contain it."""
    text = replace(VALID, "appkey: ${WAIQIN_APPKEY}", f"appkey: {LITERAL}")
    found = problems(tmp_path, text)
    problem = at(found, "api.appkey")
    assert "a literal appkey is not allowed in the campaign file" in problem.message
    assert "${WAIQIN_APPKEY}" in problem.message
    assert problem.where.line == line_containing(text, "appkey:")
    for shown in (str(problem), repr(problem), str(problem.as_dict()), str(found)):
        assert LITERAL not in shown


@pytest.mark.parametrize("value", ["pre-${WAIQIN_APPKEY}", "12345678", "[a, b]"])
def test_appkey_must_be_a_bare_reference(tmp_path: Path, value: str) -> None:
    """Anything but exactly ``${VAR}`` (embedded reference, number, list) is a literal appkey."""
    text = replace(VALID, "appkey: ${WAIQIN_APPKEY}", f"appkey: {value}")
    problem = at(problems(tmp_path, text), "api.appkey")
    assert "literal appkey" in problem.message


def test_appkey_reference_is_secret(tmp_path: Path) -> None:
    """A referenced appkey is loaded as a secret: usable, but absent from repr and JSON dumps."""
    campaign = load_text(tmp_path, VALID)
    appkey = campaign.api.appkey
    assert appkey is not None
    assert appkey.get_secret_value() == ENV["WAIQIN_APPKEY"]
    assert ENV["WAIQIN_APPKEY"] not in repr(campaign)
    assert ENV["WAIQIN_APPKEY"] not in campaign.model_dump_json()
    assert campaign.api.openid == ENV["WAIQIN_OPENID"]


def test_loading_registers_no_secret(tmp_path: Path) -> None:
    """Loading leaves no secret in global state: redaction takes an explicit redactor."""
    load_text(tmp_path, VALID)
    assert not hasattr(logs, "register_secret")
    event = logs.Redact()(None, "info", {"event": f"signed with {ENV['WAIQIN_APPKEY']}"})
    assert ENV["WAIQIN_APPKEY"] in event["event"]


def test_env_fills_api_gaps_but_the_file_wins() -> None:
    """WAIQIN_* fill absent or null api keys; values the file gives are kept."""
    env = {"WAIQIN_BASE_URL": "https://x.qince.com", "WAIQIN_OPENID": "o", "WAIQIN_APPKEY": "k"}
    assert fill_api_gaps({}, env)["api"] == {
        "base_url": "https://x.qince.com",
        "openid": "o",
        "appkey": "k",
    }
    filled = fill_api_gaps({"api": {"openid": "mine", "appkey": None}}, env)["api"]
    assert filled["openid"] == "mine"
    assert filled["appkey"] == "k"
    assert fill_api_gaps({"x": 1}, {}) == {"x": 1}


def test_api_block_is_optional(tmp_path: Path) -> None:
    """Without an api block, the environment gives base URL and credentials; the rest defaults."""
    start, end = VALID.index("api:"), VALID.index("budget:")
    text = VALID[:start] + VALID[end:]
    env = {**ENV, "WAIQIN_BASE_URL": "https://tenant.qince.com/"}
    api = load_text(tmp_path, text, env=env).api
    assert api.base_url == "https://tenant.qince.com"
    assert api.openid == ENV["WAIQIN_OPENID"]
    assert api.rate == 5.0
    assert api.concurrency == 4


def test_interpolated_numbers_are_accepted(tmp_path: Path) -> None:
    """``rate: ${RATE}`` gives a number from the variable's text."""
    text = replace(VALID, "rate: 10", "rate: ${RATE}")
    assert load_text(tmp_path, text, env={**ENV, "RATE": "2.5"}).api.rate == 2.5
