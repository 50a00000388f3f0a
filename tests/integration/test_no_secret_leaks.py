"""No secret leaks, end to end: a distinctive appkey and openid, and every request digest,
appear in no output, log line, ledger byte, result, report, drop status or exception text.

Every command runs as the CLI runs it (``runner.cli.main``, JSON log lines at debug level,
stdout and stderr captured), against a sandbox behind a recording proxy that knows every
digest that was sent. After each scenario every file under ``tmp_path`` is read as raw
bytes: the ledger's SQLite file with its WAL, plan, results and report files, the drop
folder's status.json and STATUS.md.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from runner.cli import main
from runner.errors import RunnerError
from runner.ledger import campaign_dir
from runner.ops import RunOptions
from runner.ops.run import run_campaign
from runner.sandbox.testing import running_sandbox
from tests.execute.conftest import (
    CAMPAIGN,
    FAST,
    REGISTRY,
    REPO,
    audience,
    registry,
    voucher,
    wait_until,
    write_audience,
    write_campaign,
)
from tests.inbox.conftest import make_drop

from .proxy import Proxy, Rewrite, proxy_to

APPKEY = "LeakCanaryAppkey-7Qz3Xw9Lp5Rt"
OPENID = "LeakCanaryOpenid-Hk2Vn8Mb4Jd6"
WRONG_APPKEY = "the-sandbox-expects-another-key"


def env_for(base_url: str) -> dict[str, str]:
    return {"SANDBOX_URL": base_url, "WAIQIN_OPENID": OPENID, "WAIQIN_APPKEY": APPKEY}


@contextmanager
def vendor(*, appkey: str = APPKEY, faults: str = "", **config: object) -> Iterator[Proxy]:
    """A sandbox (expecting *appkey*) behind a recording proxy; yields the proxy."""
    with (
        running_sandbox(
            customers_file=REGISTRY, openid=OPENID, appkey=appkey, faults=faults, **config
        ) as server,
        proxy_to(server.base_url) as proxy,
    ):
        yield proxy


class Seen:
    """Everything a person or a program could read: command output and exception texts."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))

    def json_lines(self) -> list[dict[str, object]]:
        lines = []
        for _, text in self.texts:
            for line in text.splitlines():
                if line.startswith("{"):
                    lines.append(json.loads(line))
        return lines


def cli(
    seen: Seen, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> int:
    """``runner --log-format json --log-level debug ARGS`` in this process; its exit code."""
    with pytest.raises(SystemExit) as info:
        main(["--log-format", "json", "--log-level", "debug", *args])
    out, err = capsys.readouterr()
    seen.add(f"stdout of {args[0]}", out)
    seen.add(f"stderr of {args[0]}", err)
    code = info.value.code
    assert isinstance(code, int)
    return code


def use_env(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    for name in ("WAIQIN_BASE_URL", "WAIQIN_APPKEY_FILE", "WAIQIN_INSECURE_HTTP"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env_for(base_url).items():
        monkeypatch.setenv(name, value)


def exception_text(err: BaseException) -> str:
    """str, repr, attributes and the formatted chain of an exception."""
    parts = [str(err), repr(err), repr(vars(err)), "".join(traceback.format_exception(err))]
    for linked in (err.__cause__, err.__context__):
        if linked is not None:
            parts.append(exception_text(linked))
    return "\n".join(parts)


def needles(proxy: Proxy) -> dict[str, str]:
    found = {"appkey": APPKEY, "openid": OPENID}
    found |= {f"digest {d}": d for d in proxy.digests()}
    return found


def assert_no_leak(root: Path, seen: Seen, proxy: Proxy) -> int:
    """No needle in any text seen nor any file under *root*; the number of files read."""
    secrets = needles(proxy)
    assert len(secrets) > 2, "no request reached the vendor: nothing was tested"
    leaks = [
        f"{name} in {where}"
        for where, text in seen.texts
        for name, secret in secrets.items()
        if secret in text
    ]
    files = [p for p in root.rglob("*") if p.is_file() and p.suffix != ".pyc"]
    for path in files:
        data = path.read_bytes()
        leaks += [f"{name} in {path}" for name, s in secrets.items() if s.encode() in data]
    assert not leaks, leaks
    return len(files)


def small_campaign(folder: Path, customers: int = 12, **api: Any) -> Path:
    rows = registry().slice(0, customers)
    write_audience(folder / "aud.csv", rows)
    return write_campaign(
        folder / "campaign.yaml",
        audiences={"shops": audience(folder / "aud.csv")},
        vouchers={"ten-off": voucher("满100减10")},
        grants=[{"voucher": "ten-off", "audience": "shops", "quantity": "qty"}],
        **api,
    )


def test_a_full_campaign_leaks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """plan, run, status, verify and report, at debug level, leave no secret anywhere."""
    campaign = small_campaign(tmp_path)
    state = str(tmp_path / "state")
    seen = Seen()
    with vendor(faults="lost_response@receiveVoucherInfo=0.2", seed=3) as proxy:
        use_env(monkeypatch, proxy.base_url)
        steps = [
            ("plan", str(campaign), "--state-dir", state),
            ("run", str(campaign), "--state-dir", state, "--yes"),
            ("status", str(campaign), "--state-dir", state),
            ("status", str(campaign), "--state-dir", state, "--json"),
            ("verify", str(campaign), "--state-dir", state, "--json"),
            ("report", str(campaign), "--state-dir", state),
        ]
        codes = [cli(seen, monkeypatch, capsys, *step) for step in steps]
    assert codes == [0] * len(steps), seen.texts[-1]
    assert any(line.get("event") == "api.call" for line in seen.json_lines())
    assert (campaign_dir(tmp_path / "state", CAMPAIGN) / "report").is_dir()
    assert assert_no_leak(tmp_path, seen, proxy) > 10


def test_the_drop_folder_watcher_leaks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``runner watch --once --approval auto`` runs a drop, with the appkey read from
    WAIQIN_APPKEY_FILE: no secret in the inbox's folders (drops, ledgers) or the output."""
    inbox = tmp_path / "inbox"
    key_file = tmp_path / "appkey"  # the appkey from its file this time
    key_file.write_text(f"{APPKEY}\n", "utf-8")
    key_file.chmod(0o600)
    seen = Seen()
    with vendor() as proxy:
        use_env(monkeypatch, proxy.base_url)
        monkeypatch.delenv("WAIQIN_APPKEY")
        monkeypatch.setenv("WAIQIN_APPKEY_FILE", str(key_file))
        make_drop(inbox, "spring", customers=6, campaign="leak-drop")
        code = cli(seen, monkeypatch, capsys, "watch", str(inbox), "--once", "--approval", "auto")
    assert code == 0, seen.texts
    done = list((inbox / "done").iterdir())
    assert len(done) == 1
    assert (done[0] / "STATUS.md").is_file()
    assert (done[0] / "status.json").is_file()
    assert_no_leak(inbox, seen, proxy)


def test_refused_credentials_leak_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A vendor refusing our signature: exit 4, and neither the output, the exception nor
    the ledger shows the appkey, the openid or a digest."""
    campaign = small_campaign(tmp_path)
    seen = Seen()
    with vendor(appkey=WRONG_APPKEY) as proxy:
        use_env(monkeypatch, proxy.base_url)
        code = cli(seen, monkeypatch, capsys, "run", str(campaign), "--yes")
        with pytest.raises(RunnerError) as info:
            run_campaign(campaign, _options(tmp_path / "again", proxy.base_url))
    assert code == 4
    assert "签名错误" in "".join(text for _, text in seen.texts)
    seen.add("exception", exception_text(info.value))
    assert_no_leak(tmp_path, seen, proxy)


def _echo(status: int) -> Rewrite:
    """A gateway's error page with *status* that quotes the openid and appkey first."""

    def rewrite(operation: str, _status: int, _body: bytes) -> tuple[int, str, bytes]:
        page = f"openid={OPENID} key={APPKEY} <h1>{status} Bad Gateway</h1><p>{operation}</p>"
        return status, "text/html", page.encode()

    return rewrite


def _options(state_dir: Path, base_url: str) -> RunOptions:
    return RunOptions(
        yes=True, state_dir=state_dir, env=env_for(base_url), settings=FAST, bars=False
    )


@pytest.mark.parametrize("status", [502, 404, 200])
def test_a_failing_server_leaks_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    status: int,
) -> None:
    """Every answer an error page quoting the openid and appkey (5xx, 4xx, or 200 from a
    gateway): the run stops (exit 4) and no output, exception or file repeats them."""
    campaign = small_campaign(tmp_path, max_attempts=2)
    seen = Seen()
    with vendor() as proxy:
        proxy.rewrite = _echo(status)
        use_env(monkeypatch, proxy.base_url)
        code = cli(seen, monkeypatch, capsys, "run", str(campaign), "--yes")
        with pytest.raises(RunnerError) as info:
            run_campaign(campaign, _options(tmp_path / "again", proxy.base_url))
    assert code == 4
    seen.add("exception", exception_text(info.value))
    assert_no_leak(tmp_path, seen, proxy)


def _child_env(base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAIQIN_")}
    return env | env_for(base_url) | {"PYTHONUNBUFFERED": "1"}


def _sending_or_done(state: Path) -> bool:
    wal = campaign_dir(state, CAMPAIGN)
    return any(p.name.endswith("-wal") and p.stat().st_size > 0 for p in wal.glob("*"))


def test_a_run_killed_mid_way_leaks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run killed with SIGKILL mid-grant leaves its WAL behind: neither it, the ledger,
    the child's output nor the rerun that completes the campaign shows a secret."""
    campaign = small_campaign(tmp_path, customers=30)
    state = tmp_path / "state"
    seen = Seen()
    with vendor(faults="latency@receiveVoucherInfo=150ms") as proxy:
        command = [sys.executable, "-m", "runner", "--log-format", "json", "--log-level"]
        command += ["debug", "run", str(campaign), "--yes", "--state-dir", str(state)]
        child = subprocess.Popen(
            command,
            env=_child_env(proxy.base_url),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
        )
        try:
            wait_until(lambda: len(proxy.seen) >= 5 and _sending_or_done(state), timeout=60)
            time.sleep(0.3)
        finally:
            child.send_signal(signal.SIGKILL)
            out, err = child.communicate(timeout=30)
        seen.add("killed child stdout", out.decode("utf-8", "replace"))
        seen.add("killed child stderr", err.decode("utf-8", "replace"))
        assert child.returncode == -signal.SIGKILL
        assert_no_leak(tmp_path, seen, proxy)  # the WAL as the kill left it
        use_env(monkeypatch, proxy.base_url)
        code = cli(
            seen, monkeypatch, capsys, "run", str(campaign), "--yes", "--state-dir", str(state)
        )
    assert code == 0, seen.texts[-1]
    assert_no_leak(tmp_path, seen, proxy)
