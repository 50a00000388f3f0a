"""The Redactor: every occurrence of its own secrets, and only those, becomes ***."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from runner.redaction import NO_SECRETS, Redactor


class Pair(NamedTuple):
    left: str
    right: str


def test_nested_values_are_redacted() -> None:
    """Strings inside dicts (keys and values), lists, tuples and named tuples are redacted."""
    redactor = Redactor.of("s3cr3t")
    value = {
        "a": ["x s3cr3t y", ("s3cr3ts3cr3t", 5)],
        "k-s3cr3t": {"deep": [Pair("s3cr3t", "ok")]},
        "n": None,
    }
    assert redactor.redact(value) == {
        "a": ["x *** y", ("******", 5)],
        "k-***": {"deep": [Pair("***", "ok")]},
        "n": None,
    }
    assert isinstance(redactor.redact(value)["k-***"]["deep"][0], Pair)
    assert value["a"] == ["x s3cr3t y", ("s3cr3ts3cr3t", 5)]  # the input is left unchanged


def test_longer_secret_is_replaced_whole() -> None:
    """When one secret contains another, the longer one is replaced as a whole."""
    redactor = Redactor.of("key", "appkey-key")
    assert redactor.text("[appkey-key] [key]") == "[***] [***]"


def test_two_redactors_do_not_share_secrets() -> None:
    """Each redactor knows only the secrets it was built from; including makes a new one."""
    first, second = Redactor.of("alpha-secret"), Redactor.of("beta-secret")
    both = first.including("beta-secret")
    text = "alpha-secret beta-secret"
    assert first.text(text) == "*** beta-secret"
    assert second.text(text) == "alpha-secret ***"
    assert both.text(text) == "*** ***"
    assert first.secrets == frozenset({"alpha-secret"})


def test_repr_never_shows_a_secret() -> None:
    """repr and str of a redactor give only how many secrets it holds."""
    redactor = Redactor.of("hidden-value-1", None, "")
    assert "hidden-value-1" not in f"{redactor!r} {redactor} {[redactor]}"
    assert repr(redactor) == "Redactor(1 secret(s))"


def test_no_secrets_changes_nothing() -> None:
    """The empty redactor gives values back as they are."""
    value = {"a": ["***", "text"]}
    assert NO_SECRETS.redact(value) is value
    assert NO_SECRETS.text("anything") == "anything"


def test_empty_secret_is_refused() -> None:
    """An empty string would match everywhere, so a redactor refuses it."""
    with pytest.raises(ValueError, match="non-empty"):
        Redactor(frozenset({""}))
