"""Helpers for tests and rehearsals: a sandbox in a ``with`` block, inspection, signed posts.

``signed_post`` signs on its own (it does not use ``runner.api``), so a test of the
sandbox never depends on the client, and a test of the client can compare with it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from ._clock import ManualClock
from ._config import DEFAULT_APPKEY, DEFAULT_OPENID, SandboxConfig
from ._server import SandboxServer

__all__ = [
    "ManualClock",
    "inspect",
    "mark",
    "running_sandbox",
    "set_faults",
    "sign",
    "signed_post",
]

_BEIJING = timezone(timedelta(hours=8))


@contextmanager
def running_sandbox(**config: Any) -> Iterator[SandboxServer]:
    """A started sandbox for the ``with`` block (keyword arguments: ``SandboxConfig``)."""
    server = SandboxServer(SandboxConfig(**config))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def inspect(base_url: str) -> dict[str, Any]:
    """``GET /sandbox/inspect``: vouchers, grants, instances, counters, customers, faults."""
    response = httpx.get(f"{base_url}/sandbox/inspect", timeout=10)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def mark(
    base_url: str,
    voucher_id: str,
    *,
    used: int = 0,
    expired: int = 0,
    order_amount: str | None = None,
    at: str | None = None,
) -> dict[str, Any]:
    """``POST /sandbox/mark``: mark the oldest unused instances used (each by an order of
    *order_amount* created *at*, ``yyyy-MM-dd HH:mm:ss``) or expired."""
    payload: dict[str, object] = {"voucherId": voucher_id, "used": used, "expired": expired}
    if order_amount is not None:
        payload["orderAmount"] = order_amount
    if at is not None:
        payload["at"] = at
    response = httpx.post(f"{base_url}/sandbox/mark", json=payload, timeout=10)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def set_faults(base_url: str, spec: str, *, seed: int | None = None) -> str:
    """``POST /sandbox/faults``: replace the fault config; returns it normalised."""
    response = httpx.post(
        f"{base_url}/sandbox/faults", json={"spec": spec, "seed": seed}, timeout=10
    )
    response.raise_for_status()
    return str(response.json()["faults"])


def sign(body: bytes, appkey: str, timestamp: str) -> str:
    """``md5_hex(body|appkey|timestamp)``, computed here independently of ``runner.api``."""
    return hashlib.md5(body + b"|" + appkey.encode() + b"|" + timestamp.encode()).hexdigest()


def signed_post(
    base_url: str,
    operation: str,
    payload: Mapping[str, Any] | str | bytes,
    openid: str = DEFAULT_OPENID,
    appkey: str = DEFAULT_APPKEY,
    *,
    timestamp: str | None = None,
    msg_id: str | None = None,
    digest: str | None = None,
    client: httpx.Client | None = None,
    timeout: float = 10.0,
) -> httpx.Response:
    """POST one signed vendor call; ``digest``/``timestamp`` override for refusal tests.

    ``payload`` may be a mapping (serialised once, compactly, UTF-8) or the exact body.
    """
    if isinstance(payload, bytes):
        body = payload
    elif isinstance(payload, str):
        body = payload.encode("utf-8")
    else:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    stamp = timestamp or datetime.now(_BEIJING).strftime("%Y%m%d%H%M%S")
    signature = digest or sign(body, appkey, stamp)
    message = msg_id or uuid.uuid4().hex
    url = f"{base_url}/api/voucher/v1/{operation}/{openid}/{stamp}/{signature}/{message}"
    headers = {"Content-Type": "application/json;charset=utf-8"}
    if client is not None:
        return client.post(url, content=body, headers=headers, timeout=timeout)
    return httpx.post(url, content=body, headers=headers, timeout=timeout)
