"""Log lines never carry secrets, wherever the secret hides, with an explicit redactor."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from runner import logs
from runner.redaction import Redactor

SECRET = "s3cr3t-appkey"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    logs.configure("json", level="debug", stream=out, redactor=Redactor.of(SECRET))
    yield out
    logs.reset()


def test_secret_is_scrubbed_in_nested_values(stream: io.StringIO) -> None:
    """The redactor's secret inside dicts and lists is replaced before rendering."""
    structlog.get_logger().info("x", detail={"inner": [f"a {SECRET} b"]}, appkey="dropped")
    line = json.loads(stream.getvalue())
    assert SECRET not in stream.getvalue()
    assert line["detail"] == {"inner": ["a *** b"]}
    assert "appkey" not in line


def test_secret_is_scrubbed_in_tracebacks(stream: io.StringIO) -> None:
    """An exception message that quotes the secret is scrubbed in the logged traceback."""
    try:
        raise RuntimeError(f"bad key {SECRET}")
    except RuntimeError:
        structlog.get_logger().exception("failed")
    assert SECRET not in stream.getvalue()
    assert "bad key ***" in json.loads(stream.getvalue())["exception"]


def test_secret_is_scrubbed_in_other_objects(stream: io.StringIO) -> None:
    """An object whose text holds the secret, such as a path, is logged as redacted text."""
    structlog.get_logger().info("x", path=Path("/exports") / SECRET, other=Path("/plain"))
    line = json.loads(stream.getvalue())
    assert SECRET not in stream.getvalue()
    assert line["path"] == "/exports/***"
    assert line["other"] == "/plain"


def test_openid_is_masked(stream: io.StringIO) -> None:
    """The openid field shows only its ends."""
    structlog.get_logger().info("x", openid="abcdef123456")
    assert json.loads(stream.getvalue())["openid"] == "ab***56"


def test_use_redactor_binds_the_credentials_after_configure() -> None:
    """use_redactor swaps in a new redactor, keeping the format, and drops the previous one."""
    out = io.StringIO()
    logs.configure("json", stream=out, redactor=Redactor.of("first-secret"))
    logs.use_redactor(Redactor.of("second-secret"))
    structlog.get_logger().info("x", detail="first-secret second-secret")
    logs.reset()
    assert json.loads(out.getvalue())["detail"] == "first-secret ***"


def test_use_redactor_without_configure_still_redacts(capsys: pytest.CaptureFixture[str]) -> None:
    """Under structlog's defaults, use_redactor adds the redaction before the renderer."""
    logs.reset()
    logs.use_redactor(Redactor.of(SECRET))
    structlog.get_logger().info("x", detail=f"k={SECRET}")
    logs.reset()
    printed = capsys.readouterr().out
    assert "k=***" in printed
    assert SECRET not in printed


def test_logging_keeps_no_secret_of_its_own() -> None:
    """Configured without a redactor, logging redacts nothing that was never given to it."""
    out = io.StringIO()
    logs.configure("json", stream=out, redactor=Redactor.of("other-secret"))
    logs.configure("json", stream=out)
    structlog.get_logger().info("x", detail="other-secret")
    logs.reset()
    assert json.loads(out.getvalue())["detail"] == "other-secret"
