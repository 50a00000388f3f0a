"""Log lines never carry secrets, wherever the secret hides."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from runner import logs


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    logs.configure("json", level="debug", stream=out)
    logs.register_secret("s3cr3t-appkey")
    yield out
    logs.reset()


def test_secret_is_scrubbed_in_nested_values(stream: io.StringIO) -> None:
    """A registered secret inside dicts and lists is replaced before rendering."""
    structlog.get_logger().info("x", detail={"inner": ["a s3cr3t-appkey b"]}, appkey="dropped")
    line = json.loads(stream.getvalue())
    assert "s3cr3t-appkey" not in stream.getvalue()
    assert line["detail"] == {"inner": ["a *** b"]}
    assert "appkey" not in line


def test_secret_is_scrubbed_in_tracebacks(stream: io.StringIO) -> None:
    """An exception message that quotes the secret is scrubbed in the logged traceback."""
    try:
        raise RuntimeError("bad key s3cr3t-appkey")
    except RuntimeError:
        structlog.get_logger().exception("failed")
    assert "s3cr3t-appkey" not in stream.getvalue()
    assert "bad key ***" in json.loads(stream.getvalue())["exception"]


def test_openid_is_masked(stream: io.StringIO) -> None:
    """The openid field shows only its ends."""
    structlog.get_logger().info("x", openid="abcdef123456")
    assert json.loads(stream.getvalue())["openid"] == "ab***56"
