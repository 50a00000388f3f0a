"""How fast ``runner sandbox`` grants with and without ``--state FILE``.

The sandbox runs as ``python -m runner sandbox`` in a process of its own (as in a
rehearsal); this process sends ``grants`` signed receiveVoucherInfo calls over loopback,
``concurrency`` at a time, one per generated customer, to one voucher, and counts grants
per second. With a state file every grant is persisted before it is answered.

``python -m bench.sandbox_state [--grants 10000] [--state]`` measures one configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO

import httpx

from runner.sandbox import DEFAULT_APPKEY, DEFAULT_OPENID
from runner.sandbox.testing import sign

__all__ = ["GrantFigures", "SandboxProcess", "measure", "sandbox_process"]

_BEIJING = timezone(timedelta(hours=8))
_LISTENING = re.compile(r"listening on (http://\S+)")


@dataclass
class SandboxProcess:
    """A running ``runner sandbox``: its URL and its process id (for its CPU time)."""

    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the sandbox process has used so far (Linux)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def sandbox_process(customers: int, state: Path | None) -> Iterator[SandboxProcess]:
    """``runner sandbox`` with generated customers (and a state file), until the block ends.

    Its output goes to a file, never to a pipe nobody reads (a full pipe would stop it).
    """
    command = [sys.executable, "-m", "runner", "sandbox", "--port", "0"]
    command += ["--generate", str(customers)]
    if state is not None:
        command += ["--state", str(state)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAIQIN_")}
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.DEVNULL)
        try:
            yield SandboxProcess(_wait_for_banner(child, out), child.pid)
        finally:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _wait_for_banner(child: subprocess.Popen[bytes], out: IO[str]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        out.seek(0)
        found = _LISTENING.search(out.read())
        if found is not None:
            return found.group(1)
        time.sleep(0.05)
    raise RuntimeError("the sandbox did not start")


def _request(base_url: str, operation: str, payload: dict[str, object]) -> tuple[str, bytes]:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    stamp = datetime.now(_BEIJING).strftime("%Y%m%d%H%M%S")
    digest = sign(body, DEFAULT_APPKEY, stamp)
    url = f"{base_url}/api/voucher/v1/{operation}/{DEFAULT_OPENID}/{stamp}/{digest}/"
    return url + uuid.uuid4().hex, body


async def _call(
    client: httpx.AsyncClient, base_url: str, op: str, payload: dict[str, object]
) -> str:
    url, body = _request(base_url, op, payload)
    response = await client.post(url, content=body)
    envelope = response.json()
    if envelope["return_code"] != "0":
        raise RuntimeError(f"{op} refused: {envelope}")
    return str(envelope.get("response_data") or "")


async def _grant_all(base_url: str, grants: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        created = await _call(
            client,
            base_url,
            "addVoucherInfo",
            {
                "name": "bench",
                "startDate": "2099-03-01",
                "endDate": "2099-03-31",
                "money": "10",
                "payType": "UNLIMITED",
                "grantType": "HDFF",
                "num": grants,
                "eachCmNum": 1,
                "tradeRange": "1",
                "prodMode": "ALL",
            },
        )
        voucher_id = json.loads(created)["voucherId"]
        queue = iter(range(1, grants + 1))

        async def worker() -> None:
            for n in queue:
                payload = {"voucherId": voucher_id, "cmCode": f"CUS{n:06d}"}
                await _call(client, base_url, "receiveVoucherInfo", payload)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


@dataclass(frozen=True)
class GrantFigures:
    """One configuration's figures: grants per second, and the sandbox's CPU per grant."""

    grants_per_second: float
    server_cpu_ms: float


def measure(grants: int, *, state: bool, concurrency: int = 16) -> GrantFigures:
    """Grant to a fresh sandbox, with a state file or in memory only; with a state file,
    check afterwards that it holds every grant."""
    with tempfile.TemporaryDirectory() as tmp:
        state_file = Path(tmp) / "state.json" if state else None
        with sandbox_process(grants, state_file) as sandbox:
            cpu = sandbox.cpu_seconds()
            seconds = asyncio.run(_grant_all(sandbox.base_url, grants, concurrency))
            cpu = sandbox.cpu_seconds() - cpu
        if state_file is not None:  # stopped: compacted into one JSON document
            held = len(json.loads(state_file.read_text("utf-8"))["instances"])
            if held != grants:
                raise RuntimeError(f"the state file holds {held} grants, not {grants}")
    return GrantFigures(grants / seconds, cpu / grants * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--state", action="store_true")
    args = parser.parse_args()
    figures = measure(args.grants, state=args.state)
    print(
        f"{args.grants} grants, state file {'yes' if args.state else 'no'}: "
        f"{figures.grants_per_second:,.0f} grants/s, sandbox CPU "
        f"{figures.server_cpu_ms:.2f} ms a grant"
    )


if __name__ == "__main__":
    main()
