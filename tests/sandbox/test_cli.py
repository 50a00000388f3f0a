"""``runner sandbox``: serves in the foreground, never prints the appkey, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from runner.cli import main
from runner.sandbox import (
    DEFAULT_APPKEY,
    DEFAULT_OPENID,
    SandboxConfig,
    SandboxServer,
    generate_customers,
)
from runner.sandbox._serve import _banner
from runner.sandbox.testing import signed_post

from .conftest import voucher_payload


def test_sandbox_command_serves_until_interrupted(tmp_path: Path) -> None:
    """The command serves signed calls with the env credentials and exits 0 on SIGINT."""
    secret = "Env-Appkey-9f3b"
    env = {**os.environ, "WAIQIN_OPENID": "tenant-openid", "WAIQIN_APPKEY": secret}
    state = tmp_path / "state.json"
    command = [sys.executable, "-m", "runner", "--log-format", "json", "sandbox", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--generate", "3", "--state", str(state)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", first)
        assert match, first
        response = signed_post(match.group(1), "getVoucherInfos", {}, "tenant-openid", secret)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert response.json()["return_code"] == "0"
    assert process.returncode == 0
    assert secret not in first + out + err
    assert "notice" not in out


def test_default_credentials_are_announced_without_the_appkey() -> None:
    """Without WAIQIN_* the banner names the default openid but never the default appkey."""
    lines = "\n".join(_banner(SandboxServer(SandboxConfig(generate=1)), None, None))
    assert DEFAULT_OPENID in lines
    assert "WAIQIN_APPKEY is not set" in lines
    assert DEFAULT_APPKEY not in lines


def test_customers_and_generate_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    """Conflicting --customers and --generate are a usage error (exit 2) naming both."""
    with pytest.raises(SystemExit) as caught:
        main(["sandbox", "--port", "0", "--customers", "c.csv", "--generate", "3"])
    assert caught.value.code == 2
    assert "--customers and --generate" in capsys.readouterr().err


def test_ignore_paging_flag_reaches_the_sandbox() -> None:
    """``runner sandbox --ignore-paging`` answers every customer to page 3 of length 1."""
    customers = generate_customers(3, 0)
    command = [sys.executable, "-m", "runner", "--log-format", "json", "sandbox", "--port", "0"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAIQIN_")}
    process = subprocess.Popen(
        [*command, "--generate", "3", "--ignore-paging"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = re.search(r"listening on (http://\S+)", process.stdout.readline())
        assert match
        base_url = match.group(1)
        banner = [process.stdout.readline() for _ in range(5)]  # customers .. paging
        payload = voucher_payload(cmId=",".join(c.id for c in customers))
        payload.update(startDate="2099-01-01", endDate="2099-01-31")
        created = signed_post(base_url, "addVoucherInfo", payload).json()
        voucher_id = json.loads(created["response_data"])["voucherId"]
        body = {"voucher_id": voucher_id, "page_number": 3, "page_length": 1}
        listed = signed_post(base_url, "getCmInfos", body).json()
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert [c["id"] for c in json.loads(listed["response_data"])] == [c.id for c in customers]
    assert any("paging: ignored" in line for line in banner), banner
