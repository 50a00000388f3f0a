"""Notices reach a real local webhook in each format, are retried, and never leak a secret."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina

from runner import logs
from runner.campaign import NotifyTarget
from runner.notify import Delivery, Notice, redact_url, send_notice
from runner.redaction import Redactor
from tests.campaign.helpers import ENV, VALID, load_text

ROBOT_KEY = "9f8e7d6c-robot-key-5b4a"
APPKEY = "k3y-S3cr3t-value"


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """A local HTTP server that records every POST and answers from a script."""

    port: int
    answers: list[tuple[int, Any]] = field(default_factory=lambda: [(200, {"errcode": 0})])
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook", query: str = "") -> str:
        """The receiver's address for ``path`` (and ``query``)."""
        return f"http://127.0.0.1:{self.port}{path}" + (f"?{query}" if query else "")

    def next_answer(self, request: Received) -> tuple[int, Any]:
        """Record ``request``; the next scripted answer (the last one repeats)."""
        with self.lock:
            self.received.append(request)
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            request = Received(self.path, dict(self.headers.items()), json.loads(raw))
            status, answer = receiver.next_answer(request)
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            data = json.dumps(answer).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up waiting (the timeout test)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads what was received, not the server's log."""

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Receiver(port=server.server_address[1])
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _no_sleep() -> Iterator[None]:
    """Retries do not sleep (but keep their attempt counts)."""
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    logs.configure("json", level="debug", stream=out)
    yield out
    logs.reset()


def notice(**changes: Any) -> Notice:
    """A "done" notice of the spring campaign, with ``changes``."""
    fields: dict[str, Any] = {
        "event": "done",
        "campaign": "spring-2027-east",
        "drop": "spring",
        "stage": "done",
        "message": "spring-2027-east: done, 54 grants confirmed, "
        "results in done/spring/results.xlsx",
        "counts": {"done": 54, "failed": 0},
        "files": ["done/spring/results.xlsx"],
        "plan_hash": "3f9a0c1d2e4b",
        "at": "2027-03-01T10:15:00+08:00",
    }
    return Notice(**{**fields, **changes})


def target(url: str, fmt: str = "json", events: list[str] | None = None) -> NotifyTarget:
    """A validated target, as the campaign file would give it."""
    data: dict[str, Any] = {"url": url, "format": fmt}
    if events is not None:
        data["events"] = events
    return NotifyTarget.model_validate(data)


# --- formats --------------------------------------------------------------------------------


def test_json_body_is_the_notice(receiver: Receiver) -> None:
    """The json format POSTs the notice's fields, kind and schema version, as UTF-8 JSON."""
    sent = notice()
    deliveries = send_notice(sent, [target(receiver.url())])
    assert deliveries == [Delivery(receiver.url(), ok=True, status=200, error=None)]
    [request] = receiver.received
    assert request.path == "/hook"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.body == {"kind": "notice", "schema_version": 1, **sent.model_dump(mode="json")}


def test_notice_time_defaults_to_beijing_now() -> None:
    """A notice without ``at`` is stamped with the current time at UTC+08:00."""
    stamped = Notice(event="failed", campaign=None, drop="x", stage="run", message="m")
    assert stamped.at.endswith("+08:00")
    assert stamped.counts == {}
    assert stamped.files == []


def test_wecom_body_is_a_markdown_message(receiver: Receiver) -> None:
    """The wecom format sends markdown content in Chinese and English with the facts."""
    send_notice(notice(), [target(receiver.url(), "wecom")])
    body = receiver.received[0].body
    assert body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"content"}
    content = body["markdown"]["content"]
    assert content.startswith("**spring-2027-east 已完成 / done**\n")
    assert "54 grants confirmed" in content
    assert "任务 jobs: done 54 · failed 0" in content
    assert "`done/spring/results.xlsx`" in content
    assert "`3f9a0c1d2e4b`" in content


def test_dingtalk_body_has_title_and_text(receiver: Receiver) -> None:
    """The dingtalk format sends a markdown title and text, lines split by blank lines."""
    sent = notice(event="needs-review", campaign=None, drop="autumn")
    send_notice(sent, [target(receiver.url(), "dingtalk")])
    markdown = receiver.received[0].body["markdown"]
    assert receiver.received[0].body["msgtype"] == "markdown"
    assert markdown["title"] == "autumn 待人工复核 / needs review"
    assert markdown["text"].startswith("### (活动文件无法读取 / campaign file unreadable)")
    assert "\n\n> 投放 drop: `autumn`" in markdown["text"]


def test_long_markdown_is_cut_to_what_robots_accept(receiver: Receiver) -> None:
    """Markdown over 4000 bytes is cut, and the cut is marked."""
    files = [f"done/spring/附件-{n:04d}.xlsx" for n in range(400)]
    send_notice(notice(files=files), [target(receiver.url(), "wecom")])
    content = receiver.received[0].body["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4000
    assert content.endswith("…")


# --- which targets --------------------------------------------------------------------------


def test_only_targets_that_want_the_event_are_sent_to(receiver: Receiver) -> None:
    """A target whose events leave out the notice's event gets no request and no Delivery."""
    targets = [
        target(receiver.url("/all")),
        target(receiver.url("/failures"), events=["failed", "needs-review"]),
        target(receiver.url("/done"), "wecom", events=["done"]),
    ]
    deliveries = send_notice(notice(), targets)
    assert [r.path for r in receiver.received] == ["/all", "/done"]
    assert [d.url_redacted for d in deliveries] == [receiver.url("/all"), receiver.url("/done")]
    assert all(d.ok for d in deliveries)


def test_no_wanted_target_sends_nothing(receiver: Receiver) -> None:
    """With no target for the event, nothing is sent and the list is empty."""
    assert send_notice(notice(), [target(receiver.url(), events=["failed"])]) == []
    assert send_notice(notice(), []) == []
    assert receiver.received == []


# --- retries and failures -------------------------------------------------------------------


def test_server_errors_are_retried_until_delivered(receiver: Receiver) -> None:
    """500, 500, then 200: three requests, one successful delivery."""
    receiver.answers = [(500, {}), (500, {}), (200, {})]
    [delivery] = send_notice(notice(), [target(receiver.url())])
    assert delivery == Delivery(receiver.url(), ok=True, status=200, error=None)
    assert len(receiver.received) == 3


def test_retries_give_up_quietly_after_the_attempts(receiver: Receiver) -> None:
    """A receiver that keeps answering 429 gets ``attempts`` requests, then ok=False."""
    receiver.answers = [(429, {})]
    [delivery] = send_notice(notice(), [target(receiver.url())], attempts=2)
    assert delivery == Delivery(receiver.url(), ok=False, status=429, error="HTTP 429")
    assert len(receiver.received) == 2


def test_client_errors_are_not_retried(receiver: Receiver) -> None:
    """A 404 is a failed delivery after one request."""
    receiver.answers = [(404, {})]
    [delivery] = send_notice(notice(), [target(receiver.url())])
    assert (delivery.ok, delivery.status, delivery.error) == (False, 404, "HTTP 404")
    assert len(receiver.received) == 1


def test_robot_errcode_is_a_failure_without_retry(receiver: Receiver) -> None:
    """HTTP 200 with a non-zero errcode fails the delivery, once, with the robot's message."""
    receiver.answers = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    [delivery] = send_notice(notice(), [target(receiver.url(), "wecom")])
    assert delivery == Delivery(
        receiver.url(), ok=False, status=200, error="errcode 93000: invalid webhook url"
    )
    assert len(receiver.received) == 1


def test_robot_answer_without_errcode_is_a_failure(receiver: Receiver) -> None:
    """A robot format whose answer carries no errcode (e.g. a proxy page) is not delivered."""
    receiver.answers = [(200, {"ok": True})]
    [delivery] = send_notice(notice(), [target(receiver.url(), "dingtalk")])
    assert delivery.ok is False
    assert delivery.error == "the robot's answer has no errcode"


def test_robot_frequency_limit_is_retried(receiver: Receiver) -> None:
    """A "send too fast" errcode is retried, and the next errcode 0 delivers."""
    receiver.answers = [
        (200, {"errcode": 410100, "errmsg": "send too fast, exceed 20 times per minute"}),
        (200, {"errcode": 0, "errmsg": "ok"}),
    ]
    [delivery] = send_notice(notice(), [target(receiver.url(), "dingtalk")])
    assert delivery.ok is True
    assert len(receiver.received) == 2


def test_slow_receiver_times_out_and_is_retried(receiver: Receiver) -> None:
    """An answer slower than timeout_s counts as a failed attempt, retried, then given up."""
    receiver.delay_s = 0.5
    [delivery] = send_notice(notice(), [target(receiver.url())], timeout_s=0.1, attempts=2)
    assert (delivery.ok, delivery.status) == (False, None)
    assert delivery.error is not None
    assert "timeout" in delivery.error
    assert len(receiver.received) == 2


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A port held by a socket that never listens: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def test_dead_url_fails_without_raising_or_logging_the_key(
    dead_port: int, log_lines: io.StringIO
) -> None:
    """Nothing listening: ok=False after every attempt, and no log line shows the query."""
    url = f"http://u:{ROBOT_KEY}@127.0.0.1:{dead_port}/cgi-bin/webhook/send?key={ROBOT_KEY}"
    [delivery] = send_notice(notice(), [target(url, "wecom")])
    assert delivery.ok is False
    assert delivery.status is None
    assert delivery.error is not None
    assert delivery.error.startswith("ConnectError")
    assert "Connection refused" in delivery.error  # a short user name "u" is left alone
    assert delivery.url_redacted == f"http://***@127.0.0.1:{dead_port}/cgi-bin/webhook/send?***"
    printed = log_lines.getvalue()
    assert ROBOT_KEY not in printed
    assert "?key" not in printed
    warning = [json.loads(line) for line in printed.splitlines() if "not delivered" in line]
    assert [(w["url"], w["notice_event"], w["level"]) for w in warning] == [
        (delivery.url_redacted, "done", "warning")
    ]


def test_a_failing_transport_never_raises() -> None:
    """An unexpected error below the client is reported as a failed delivery, not raised."""

    class Broken(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            raise RuntimeError(f"exploded while sending to {request.url}")

    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={ROBOT_KEY}"
    [delivery] = send_notice(notice(), [target(url, "wecom")], transport=Broken())
    assert delivery.ok is False
    assert delivery.error == "RuntimeError: exploded while sending to ***"


# --- secrets --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "wecom", "dingtalk"])
def test_appkey_is_never_sent(receiver: Receiver, fmt: str) -> None:
    """The redactor's secret in a notice's text reaches the receiver as ``***``."""
    leaky = notice(message=f"refused: appkey {APPKEY} rejected", files=[f"/tmp/{APPKEY}/x"])
    send_notice(leaky, [target(receiver.url(), fmt)], redactor=Redactor.of(APPKEY))
    sent = json.dumps(receiver.received[0].body, ensure_ascii=False)
    assert APPKEY not in sent
    assert "refused: appkey *** rejected" in sent


def test_interpolated_url_key_never_reaches_the_logs(
    tmp_path: Path, receiver: Receiver, log_lines: io.StringIO
) -> None:
    """A ${VAR} key in a campaign's url is sent to the receiver but logged only as ``***``."""
    text = VALID + (
        "notify:\n"
        f"  - url: http://127.0.0.1:{receiver.port}/cgi-bin/webhook/send?key=${{WECOM_KEY}}\n"
        "    format: wecom\n"
    )
    campaign = load_text(tmp_path, text, env={**ENV, "WECOM_KEY": ROBOT_KEY})
    receiver.answers = [(200, {"errcode": 0}), (200, {"errcode": 40008, "errmsg": "bad"})]
    first = send_notice(notice(), campaign.notify)
    second = send_notice(notice(event="failed"), campaign.notify)
    assert receiver.received[0].path == f"/cgi-bin/webhook/send?key={ROBOT_KEY}"
    assert [d.ok for d in first + second] == [True, False]
    printed = log_lines.getvalue()
    assert "notice delivered" in printed
    assert "notice not delivered" in printed
    assert ROBOT_KEY not in printed
    assert ROBOT_KEY not in repr(first + second)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?***",
        ),
        ("https://user:pw@example.com:8443/hook", "https://***@example.com:8443/hook"),
        ("https://example.com/hook#frag", "https://example.com/hook?***"),
        (
            "https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            "https://open.feishu.cn/open-apis/bot/v2/hook/***",
        ),
        ("http://[::1]:9000/h?x=1", "http://[::1]:9000/h?***"),
        ("not a url", "***"),
        ("http://[::1/h", "***"),
    ],
)
def test_redact_url_hides_userinfo_query_and_tokens(url: str, shown: str) -> None:
    """Userinfo, query, fragment and token-like path segments are hidden; the host is kept."""
    assert redact_url(url) == shown
