"""TLS stays verified, and plain http:// is only for this machine unless --insecure-http."""

from __future__ import annotations

import ast
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runner.api import (
    ENV_INSECURE_HTTP,
    Credentials,
    VoucherClient,
    allowing_insecure_http,
    is_loopback,
)
from runner.cli import main
from runner.errors import ApiUnreachable, EnvironmentProblem, ExitCode

from .fakevendor import APPKEY, OPENID, FakeVendor

RUNNER = Path(__file__).resolve().parents[2] / "runner"
ENV = {"WAIQIN_OPENID": OPENID, "WAIQIN_APPKEY": APPKEY}


def test_no_http_client_in_the_tool_turns_verification_off() -> None:
    """No call anywhere in runner/ passes ``verify=`` (httpx verifies by default)."""
    offenders = []
    for path in RUNNER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and any(k.arg == "verify" for k in node.keywords):
                offenders.append(f"{path.relative_to(RUNNER.parent)}:{node.lineno}")
    assert offenders == []


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no authority signed (made with openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def tls_server(cert: Path, key: Path) -> Iterator[tuple[str, list[str]]]:
    """An https server on 127.0.0.1 that records each path it is asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


async def test_a_certificate_no_authority_signed_is_refused(
    self_signed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real client refuses a self-signed certificate: no request reaches the server."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with tls_server(*self_signed) as (url, asked):
        creds = Credentials(openid=OPENID, appkey=APPKEY, base_url=url)
        async with VoucherClient(creds, max_read_attempts=1) as client:
            with pytest.raises(ApiUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get_voucher_infos()
    assert asked == []


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "[::1]"],
)
def test_plain_http_to_this_machine_is_accepted(host: str) -> None:
    """http:// to loopback (the sandbox) needs no flag."""
    creds = Credentials.resolve(env={**ENV, "WAIQIN_BASE_URL": f"http://{host}:8787/"})
    assert creds.base_url == f"http://{host}:8787"


@pytest.mark.parametrize(
    "url",
    [
        "http://openapi.waiqin365.com",
        "http://10.0.0.5:8080/gateway",
        "http://[2001:db8::1]/",
        "http://127.0.0.1.example.com",
        "http://0.0.0.0:8787",
    ],
)
def test_plain_http_to_another_machine_is_refused_naming_url_and_flag(url: str) -> None:
    """http:// to any other host is an EnvironmentProblem naming the URL and --insecure-http."""
    with pytest.raises(EnvironmentProblem) as info:
        Credentials.resolve(env={**ENV, "WAIQIN_BASE_URL": url})
    err = info.value
    assert err.exit_code == ExitCode.ENVIRONMENT
    assert url.rstrip("/") in err.message
    assert "--insecure-http" in (err.hint or "")
    assert APPKEY not in f"{err} {err.hint} {err!r}"


def test_the_refusal_shows_no_user_info_query_or_appkey() -> None:
    """A URL with a password, a query or the appkey in its path is shown without them."""
    url = f"http://user:pa55word@vendor.example:81/{APPKEY}/x?token=t0ken"
    with pytest.raises(EnvironmentProblem) as info:
        Credentials.resolve(env={**ENV, "WAIQIN_BASE_URL": url})
    shown = f"{info.value} {info.value!r}"
    assert "http://vendor.example:81/***/x" in shown
    for secret in ("pa55word", "t0ken", APPKEY):
        assert secret not in shown


@pytest.mark.parametrize("how", ["argument", "variable", "allowing"])
def test_insecure_http_accepts_another_machine(how: str) -> None:
    """insecure_http=True, WAIQIN_INSECURE_HTTP=1 or allowing_insecure_http() let it pass."""
    env = {**ENV, "WAIQIN_BASE_URL": "http://10.0.0.5:8080"}
    if how == "argument":
        creds = Credentials.resolve(env=env, insecure_http=True)
    elif how == "variable":
        creds = Credentials.resolve(env={**env, ENV_INSECURE_HTTP: "1"})
    else:
        creds = Credentials.resolve(env=allowing_insecure_http(env))
    assert creds.base_url == "http://10.0.0.5:8080"


def test_https_needs_no_flag_and_a_false_variable_allows_nothing() -> None:
    """https is always accepted; WAIQIN_INSECURE_HTTP=0 does not allow http."""
    assert Credentials.resolve(env={**ENV, "WAIQIN_BASE_URL": "https://10.0.0.5"}).base_url
    with pytest.raises(EnvironmentProblem):
        Credentials.resolve(
            env={**ENV, "WAIQIN_BASE_URL": "http://10.0.0.5", ENV_INSECURE_HTTP: "0"}
        )


def test_loopback_is_exactly_this_machine() -> None:
    """127.0.0.0/8, ::1 and localhost are loopback; nothing else is."""
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.255.0.1", "::1", "localhost"))
    assert all(is_loopback(h) for h in ("::ffff:127.0.0.1", "localhost."))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "evil.com", "", None))
    assert not is_loopback("localhost.evil.com")
    assert not is_loopback("api.localhost")  # a resolver may send it anywhere


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["--log-format", "console", *argv])
    out, err = capsys.readouterr()
    assert isinstance(info.value.code, int)
    return info.value.code, out, err


def test_runner_api_refuses_plain_http_and_names_the_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``runner api`` to http://10.0.0.5 exits 4 before sending, naming URL and flag."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(ENV_INSECURE_HTTP, raising=False)
    argv = ["api", "getCmInfos", '{"voucher_id":"1"}', "--base-url", "http://10.0.0.5:9"]
    code, _, err = _cli(argv, capsys)
    assert code == 4
    assert "http://10.0.0.5:9" in err
    assert "--insecure-http" in err


@pytest.mark.parametrize(
    "command",
    ["run", "retry-failed", "verify", "report", "adopt", "finish", "extend", "watch", "api"],
)
def test_every_command_that_sends_takes_the_flag(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each sending command documents --insecure-http in its help."""
    code, out, _ = _cli([command, "--help"], capsys)
    assert code == 0
    assert "--insecure-http" in out


async def test_the_flag_reaches_the_client(vendor: FakeVendor) -> None:
    """Credentials built with insecure_http for another machine's http:// address send."""
    creds = Credentials(
        openid=OPENID, appkey=APPKEY, base_url="http://10.0.0.5:8080", insecure_http=True
    )
    async with VoucherClient(creds, transport=vendor.transport()) as client:
        await client.finish_voucher("1")
    assert len(vendor.seen) == 1
