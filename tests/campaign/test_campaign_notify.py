"""The ``notify:`` key: webhook targets, their defaults, their located errors, their schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner.campaign import NOTIFY_EVENTS, NotifyTarget, json_schema

from .helpers import ENV, VALID, at, line_containing, load_text, problems

KEY = "0d5e-robot-key-7f31"
HOOK = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"
NOTIFY_ENV = {**ENV, "WECOM_KEY": KEY, "DING_HOOK": "https://oapi.dingtalk.com/robot/send?a=b"}


def with_notify(block: str) -> str:
    """The valid campaign with a ``notify:`` block appended (``block`` indented by 2)."""
    return VALID + "notify:\n" + block


def test_notify_is_optional_and_empty_by_default(tmp_path: Path) -> None:
    """A campaign without notify loads with no targets."""
    assert load_text(tmp_path, VALID).notify == []


def test_targets_load_with_defaults_and_interpolated_urls(tmp_path: Path) -> None:
    """format defaults to json and events to all five; ${VAR} fills the url, whole or embedded."""
    text = with_notify(
        "  - url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY}\n"
        "    format: wecom\n"
        "    events: [done, failed]\n"
        "  - url: ${DING_HOOK}\n"
        "    format: dingtalk\n"
        "  - url: http://hooks.example.com/runner\n"
    )
    campaign = load_text(tmp_path, text, env=NOTIFY_ENV)
    wecom, ding, plain = campaign.notify
    assert wecom == NotifyTarget(url=HOOK, format="wecom", events=["done", "failed"])
    assert ding.url == "https://oapi.dingtalk.com/robot/send?a=b"
    assert ding.events == list(NOTIFY_EVENTS)
    assert plain.format == "json"
    assert plain.wants("rejected")
    assert not wecom.wants("rejected")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        (f"ftp://qyapi.weixin.qq.com/send?key={KEY}", "must start with http:// or https://"),
        (f"qyapi.weixin.qq.com/send?key={KEY}", "must start with http:// or https://"),
        (f"https:///send?key={KEY}", "has no host name"),
        (f"'https://qyapi.weixin.qq.com/send?key={KEY} x'", "must not contain blanks"),
        (f"'https://qyapi.weixin.qq.com:99999/send?key={KEY}'", "is not a valid address"),
    ],
)
def test_bad_url_is_located_and_never_quoted(tmp_path: Path, url: str, fragment: str) -> None:
    """A url that is not http(s) with a host is a problem at its key and line, without the key."""
    text = with_notify(f"  - url: {url}\n")
    found = problems(tmp_path, text)
    problem = at(found, "notify[0].url")
    assert fragment in problem.message
    assert problem.where.line == line_containing(text, "- url:")
    assert KEY not in str(found)


def test_unknown_key_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    """A misspelt key in a target is an unknown key at its path, with the allowed keys."""
    text = with_notify("  - url: https://example.com/hook\n    event: [done]\n")
    problem = at(problems(tmp_path, text), "notify[0].event")
    assert problem.message == "unknown key 'event' (did you mean 'events'?)"
    assert problem.hint == "Allowed keys here: url, format, events."
    assert problem.where.line == line_containing(text, "event: [done]")


def test_unknown_event_and_format_are_refused(tmp_path: Path) -> None:
    """An event or a format outside the choices is reported at its own key path."""
    text = with_notify(
        "  - url: https://example.com/hook\n    format: slack\n    events: [done, finished]\n"
    )
    found = problems(tmp_path, text)
    assert "must be one of 'json', 'wecom' or 'dingtalk'" in at(found, "notify[0].format").message
    event = at(found, "notify[0].events[1]")
    assert "'awaiting-approval'" in event.message
    assert "(got 'finished')" in event.message


def test_empty_events_and_missing_url_are_refused(tmp_path: Path) -> None:
    """A target must name a url, and an events list, when given, must not be empty."""
    text = with_notify("  - url: https://example.com/hook\n    events: []\n  - format: json\n")
    found = problems(tmp_path, text)
    assert at(found, "notify[0].events").message == "must not be empty"
    assert at(found, "notify[1].url").message == "required key 'url' is missing"


def test_unset_variable_in_url_is_reported_once(tmp_path: Path) -> None:
    """An unset ${VAR} in a url is one problem at that url, not also an address error."""
    text = with_notify("  - url: ${NOT_SET_HOOK}\n")
    found = problems(tmp_path, text, env=ENV)
    assert [p.message for p in found] == ["environment variable NOT_SET_HOOK is not set"]
    assert found[0].where.yaml_path == "notify[0].url"


def test_notify_must_be_a_list_of_mappings(tmp_path: Path) -> None:
    """notify given as a single mapping is refused with a plain message."""
    text = VALID + "notify: {url: https://example.com/hook}\n"
    assert at(problems(tmp_path, text), "notify").message.startswith("must be a list")


def test_schema_describes_notify_targets() -> None:
    """The JSON Schema lists notify as an array of closed NotifyTarget objects."""
    schema = json_schema()
    notify = schema["properties"]["notify"]
    assert notify["type"] == "array"
    assert notify["items"] == {"$ref": "#/$defs/NotifyTarget"}
    target = schema["$defs"]["NotifyTarget"]
    assert target["additionalProperties"] is False
    assert target["required"] == ["url"]
    assert target["properties"]["format"]["enum"] == ["json", "wecom", "dingtalk"]
    assert target["properties"]["events"]["items"]["enum"] == list(NOTIFY_EVENTS)
    assert target["properties"]["events"]["minItems"] == 1


def test_schema_url_pattern_admits_references() -> None:
    """The url's schema pattern admits an http(s) address or a ${VAR} reference, not ftp."""
    pattern = json_schema()["$defs"]["NotifyTarget"]["properties"]["url"]["pattern"]
    assert re.match(pattern, "${WECOM_WEBHOOK}")
    assert re.match(pattern, HOOK)
    assert not re.match(pattern, "ftp://example.com")
