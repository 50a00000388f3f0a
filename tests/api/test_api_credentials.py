"""Credentials: read from the environment, never shown, missing ones named."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

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


FULL_ENV = {
    "WAIQIN_OPENID": "env-openid",
    "WAIQIN_APPKEY": "env-appkey",
    "WAIQIN_BASE_URL": "https://env.example",
}


@pytest.mark.parametrize(
    ("given", "env", "expected"),
    [
        pytest.param({}, FULL_ENV, ("env-openid", "env-appkey", "https://env.example"), id="env"),
        pytest.param(
            {"openid": OPENID, "appkey": APPKEY, "base_url": "https://given.example/"},
            FULL_ENV,
            (OPENID, APPKEY, "https://given.example"),
            id="given-beats-env",
        ),
        pytest.param(
            {"openid": OPENID},
            FULL_ENV,
            (OPENID, "env-appkey", "https://env.example"),
            id="env-fills-the-gaps",
        ),
        pytest.param(
            {"openid": OPENID, "appkey": APPKEY},
            {},
            (OPENID, APPKEY, DEFAULT_BASE_URL),
            id="default-base-url-last",
        ),
        pytest.param(
            {"openid": " ", "appkey": "", "base_url": "  "},
            FULL_ENV,
            ("env-openid", "env-appkey", "https://env.example"),
            id="blank-is-not-given",
        ),
        pytest.param(
            {"openid": f" {OPENID} ", "appkey": SecretStr(f"{APPKEY}\n")},
            {"WAIQIN_BASE_URL": "   "},
            (OPENID, APPKEY, DEFAULT_BASE_URL),
            id="secret-str-and-blanks-trimmed",
        ),
    ],
)
def test_resolve_precedence(
    given: dict[str, Any], env: dict[str, str], expected: tuple[str, str, str]
) -> None:
    """A given value beats its WAIQIN_* variable, which beats the default base URL."""
    creds = Credentials.resolve(env=env, **given)
    assert (creds.openid, creds.appkey, creds.base_url) == expected


def test_resolve_names_only_what_is_still_missing() -> None:
    """An openid given by the caller is not reported; the missing appkey variable is."""
    with pytest.raises(MissingCredentials) as info:
        Credentials.resolve(openid=OPENID, env={"WAIQIN_BASE_URL": "https://env.example"})
    assert "WAIQIN_APPKEY" in info.value.message
    assert "WAIQIN_OPENID" not in info.value.message


def test_resolve_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without env, os.environ fills what the caller left out."""
    monkeypatch.setenv("WAIQIN_APPKEY", "process-appkey")
    monkeypatch.setenv("WAIQIN_BASE_URL", "https://process.example")
    creds = Credentials.resolve(openid=OPENID)
    assert (creds.appkey, creds.base_url) == ("process-appkey", "https://process.example")


def test_from_env_is_resolve_without_given_values() -> None:
    """from_env with a base_url equals resolve with that base_url and nothing else given."""
    via_env = Credentials.from_env(FULL_ENV, base_url="http://127.0.0.1:9")
    via_resolve = Credentials.resolve(base_url="http://127.0.0.1:9", env=FULL_ENV)
    assert (via_env, via_env.appkey, via_env.base_url) == (
        via_resolve,
        via_resolve.appkey,
        via_resolve.base_url,
    )


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
