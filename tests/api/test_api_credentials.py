"""Credentials: read from the environment, never shown, missing ones named."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from runner import logs
from runner.api import DEFAULT_BASE_URL, Credentials
from runner.errors import EnvironmentProblem, MissingCredentials

from .fakevendor import APPKEY, OPENID


def test_from_env_reads_the_three_variables() -> None:
    """WAIQIN_OPENID, WAIQIN_APPKEY and WAIQIN_BASE_URL fill the credentials."""
    env = {
        "WAIQIN_OPENID": OPENID,
        "WAIQIN_APPKEY": APPKEY,
        "WAIQIN_BASE_URL": "https://x.qince.com/",
    }
    creds = Credentials.from_env(env)
    assert (creds.openid, creds.appkey) == (OPENID, APPKEY)
    assert creds.base_url == "https://x.qince.com"


def test_default_base_url_and_override() -> None:
    """Without WAIQIN_BASE_URL the public host is used; the base_url argument wins over both."""
    env = {"WAIQIN_OPENID": OPENID, "WAIQIN_APPKEY": APPKEY}
    assert Credentials.from_env(env).base_url == DEFAULT_BASE_URL
    env["WAIQIN_BASE_URL"] = "https://env.example"
    assert Credentials.from_env(env, base_url="http://127.0.0.1:8080").base_url == (
        "http://127.0.0.1:8080"
    )


def test_from_env_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no mapping given, os.environ is read."""
    monkeypatch.setenv("WAIQIN_OPENID", "from-process-env")
    monkeypatch.setenv("WAIQIN_APPKEY", APPKEY)
    monkeypatch.delenv("WAIQIN_BASE_URL", raising=False)
    assert Credentials.from_env().openid == "from-process-env"


def test_missing_appkey_is_named() -> None:
    """A missing WAIQIN_APPKEY raises MissingCredentials (exit 4) naming it with a hint."""
    with pytest.raises(MissingCredentials) as info:
        Credentials.from_env({"WAIQIN_OPENID": OPENID})
    assert "WAIQIN_APPKEY" in info.value.message
    assert "WAIQIN_OPENID" not in info.value.message
    assert info.value.exit_code == 4
    assert info.value.hint is not None
    assert "export" in info.value.hint


def test_missing_both_and_empty_values_are_named() -> None:
    """Empty or blank values count as missing, and every missing variable is named."""
    with pytest.raises(MissingCredentials) as info:
        Credentials.from_env({"WAIQIN_OPENID": "  ", "WAIQIN_APPKEY": ""})
    assert "WAIQIN_OPENID" in info.value.message
    assert "WAIQIN_APPKEY" in info.value.message


def test_bad_base_url_is_an_environment_problem() -> None:
    """A base URL that is not http(s) is refused with a hint naming WAIQIN_BASE_URL."""
    with pytest.raises(EnvironmentProblem) as info:
        Credentials(openid=OPENID, appkey=APPKEY, base_url="openapi.waiqin365.com")
    assert info.value.hint is not None
    assert "WAIQIN_BASE_URL" in info.value.hint


def test_repr_masks_openid_and_hides_appkey() -> None:
    """repr and str show a masked openid and never the appkey."""
    creds = Credentials(openid=OPENID, appkey=APPKEY)
    for text in (repr(creds), str(creds), repr([creds])):
        assert APPKEY not in text
        assert OPENID not in text
        assert logs.mask(OPENID) in text


def test_appkey_redactor_scrubs_log_lines() -> None:
    """Logging given the credentials' redactor scrubs the appkey from any rendered line."""
    logs.reset()
    creds = Credentials(openid=OPENID, appkey=APPKEY)
    out = io.StringIO()
    logs.configure("json", stream=out, redactor=creds.redactor)
    structlog.get_logger().info("oops", detail=f"key is {APPKEY}")
    line = json.loads(out.getvalue())
    assert APPKEY not in out.getvalue()
    assert line["detail"] == "key is ***"
