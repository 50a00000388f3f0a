"""How fast ``runner sandbox`` grants with and without ``--state FILE``.

The sandbox runs as ``python -m runner sandbox`` in a process of its own (as in a
rehearsal); this process sends ``grants`` signed receiveVoucherInfo calls over loopback,
``concurrency`` at a time, one per generated customer, to one voucher, and counts grants
per second. With a state file every grant is persisted before it is answered, and the
file is read back afterwards (it must hold every grant).

The client must not be what is measured: on a 2-core machine an httpx ``AsyncClient``
spends ~1.7 ms of CPU a request, more than the sandbox does, and caps the rate it can see.
The default client (``raw``) builds and signs every request before the clock starts and
speaks HTTP/1.1 over plain ``asyncio`` streams, one keep-alive connection per worker
(~0.05 ms a request); ``--client httpx`` is the earlier client, for comparison. Both
report the sandbox's own CPU per grant (``/proc/PID/stat``) and the client's.

``python -m bench.sandbox_state [--grants 10000] [--state | --memory] [--client raw|httpx]``
measures the sandbox in memory and with a state file side by side (or only one of them).
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Literal
from urllib.parse import urlsplit

import httpx

from runner.sandbox import DEFAULT_APPKEY, DEFAULT_OPENID
from runner.sandbox._state import StateStore
from runner.sandbox.testing import sign

__all__ = [
    "Client",
    "GrantFigures",
    "SandboxProcess",
    "measure",
    "sandbox_process",
    "signed_request",
]

Client = Literal["raw", "httpx"]

_BEIJING = timezone(timedelta(hours=8))
_LISTENING = re.compile(r"listening on (http://\S+)")
_VOUCHER = {
    "name": "bench",
    "startDate": "2099-03-01",
    "endDate": "2099-03-31",
    "money": "10",
    "payType": "UNLIMITED",
    "grantType": "HDFF",
    "eachCmNum": 1,
    "tradeRange": "1",
    "prodMode": "ALL",
}


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
def sandbox_process(
    customers: int,
    state: Path | None,
    *,
    extra: Sequence[str] = (),
    log: Path | None = None,
) -> Iterator[SandboxProcess]:
    """``runner sandbox`` with generated customers (and a state file, and *extra* options
    such as ``--rate``), until the block ends; stopped with SIGINT, killed if it hangs.

    Its output goes to a file (*log*, or a temporary one), never to a pipe nobody reads
    (a full pipe would stop it).
    """
    command = [sys.executable, "-m", "runner", "sandbox", "--port", "0"]
    command += ["--generate", str(customers), *extra]
    if state is not None:
        command += ["--state", str(state)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAIQIN_")}
    opened = log.open("w+", encoding="utf-8") if log is not None else None
    with opened or tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
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


def signed_request(base_url: str, operation: str, payload: dict[str, object]) -> tuple[str, bytes]:
    """The URL (signed now, with a fresh msg id) and body of one call as the vendor wants it."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    stamp = datetime.now(_BEIJING).strftime("%Y%m%d%H%M%S")
    digest = sign(body, DEFAULT_APPKEY, stamp)
    url = f"{base_url}/api/voucher/v1/{operation}/{DEFAULT_OPENID}/{stamp}/{digest}/"
    return url + uuid.uuid4().hex, body


async def _call(
    client: httpx.AsyncClient, base_url: str, op: str, payload: dict[str, object]
) -> str:
    url, body = signed_request(base_url, op, payload)
    response = await client.post(url, content=body)
    envelope = response.json()
    if envelope["return_code"] != "0":
        raise RuntimeError(f"{op} refused: {envelope}")
    return str(envelope.get("response_data") or "")


def _create_voucher(base_url: str, grants: int) -> str:
    with httpx.Client(timeout=60) as client:
        url, body = signed_request(base_url, "addVoucherInfo", {**_VOUCHER, "num": grants})
        envelope = client.post(url, content=body).json()
    if envelope["return_code"] != "0":
        raise RuntimeError(f"addVoucherInfo refused: {envelope}")
    return str(json.loads(envelope["response_data"])["voucherId"])


def _grant_payloads(voucher_id: str, grants: int) -> Iterator[dict[str, object]]:
    for n in range(1, grants + 1):
        yield {"voucherId": voucher_id, "cmCode": f"CUS{n:06d}"}


async def _grant_httpx(
    base_url: str, voucher_id: str, grants: int, concurrency: int
) -> tuple[float, float]:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        queue = _grant_payloads(voucher_id, grants)

        async def worker() -> None:
            for payload in queue:
                await _call(client, base_url, "receiveVoucherInfo", payload)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, float("nan")  # the slowest answer: not timed


def _raw_requests(base_url: str, voucher_id: str, grants: int) -> list[bytes]:
    """Every grant as the bytes of one signed HTTP/1.1 request, built before timing."""
    host = urlsplit(base_url).netloc
    raw: list[bytes] = []
    for payload in _grant_payloads(voucher_id, grants):
        url, body = signed_request("", "receiveVoucherInfo", payload)
        head = (
            f"POST {url} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        raw.append(head.encode("ascii") + body)
    return raw


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> float:
    """Send one request on a keep-alive connection, check its answer granted; seconds taken."""
    start = time.perf_counter()
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    if length is None:
        raise RuntimeError(f"an answer without Content-Length: {head!r}")
    body = await reader.readexactly(int(length.group(1)))
    if not head.startswith(b"HTTP/1.1 200") or json.loads(body)["return_code"] != "0":
        raise RuntimeError(f"receiveVoucherInfo refused: {head!r} {body!r}")
    return time.perf_counter() - start


async def _grant_raw(
    base_url: str, voucher_id: str, grants: int, concurrency: int
) -> tuple[float, float]:
    parts = urlsplit(base_url)
    queue = iter(_raw_requests(base_url, voucher_id, grants))
    slowest = 0.0

    async def worker() -> None:
        nonlocal slowest
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            for raw in queue:
                slowest = max(slowest, await _exchange(reader, writer, raw))
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, slowest


@dataclass(frozen=True)
class GrantFigures:
    """One configuration's figures: grants per second, the sandbox's CPU per grant, the
    benchmark client's, and the slowest answer (a stall of the sandbox shows here)."""

    grants_per_second: float
    server_cpu_ms: float
    client_cpu_ms: float = 0.0
    slowest_ms: float = float("nan")


def _held(state_file: Path) -> int:
    """How many grants a sandbox restarted on *state_file* would know."""
    store = StateStore(state_file, seed=0)
    try:
        return sum(store.granted(voucher.id) for voucher in store.vouchers())
    finally:
        store.close()


def measure(
    grants: int, *, state: bool, concurrency: int = 16, client: Client = "raw"
) -> GrantFigures:
    """Grant to a fresh sandbox, with a state file or in memory only; with a state file,
    check afterwards that it holds every grant."""
    grant = _grant_raw if client == "raw" else _grant_httpx
    with tempfile.TemporaryDirectory() as tmp:
        state_file = Path(tmp) / "state.json" if state else None
        with sandbox_process(grants, state_file) as sandbox:
            voucher_id = _create_voucher(sandbox.base_url, grants)
            cpu, mine = sandbox.cpu_seconds(), time.process_time()
            seconds, slowest = asyncio.run(grant(sandbox.base_url, voucher_id, grants, concurrency))
            cpu, mine = sandbox.cpu_seconds() - cpu, time.process_time() - mine
        if state_file is not None:
            held = _held(state_file)
            if held != grants:
                raise RuntimeError(f"the state file holds {held} grants, not {grants}")
    return GrantFigures(grants / seconds, cpu / grants * 1000, mine / grants * 1000, slowest * 1000)


def _line(label: str, figures: GrantFigures) -> str:
    return (
        f"{label:<16} {figures.grants_per_second:>7,.0f} grants/s   sandbox CPU "
        f"{figures.server_cpu_ms:.3f} ms a grant   client CPU {figures.client_cpu_ms:.3f} ms"
        f"   slowest answer {figures.slowest_ms:,.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--state", action="store_true", help="only with a state file")
    only.add_argument("--memory", action="store_true", help="only in memory")
    args = parser.parse_args()
    states = [True] if args.state else [False] if args.memory else [False, True]
    print(f"{args.grants:,} grants, {args.concurrency} at a time, {args.client} client")
    for state in states:
        label = "--state FILE" if state else "in memory"
        figures = measure(
            args.grants, state=state, concurrency=args.concurrency, client=args.client
        )
        print(_line(label, figures), flush=True)


if __name__ == "__main__":
    main()
