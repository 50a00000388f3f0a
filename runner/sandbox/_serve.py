"""``runner sandbox``: serve one sandbox in the foreground until Ctrl-C."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from runner import logs
from runner.errors import ExitCode, UsageError
from runner.redaction import Redactor

from ._config import DEFAULT_APPKEY, DEFAULT_OPENID, SandboxConfig
from ._ratelimit import RateMode
from ._server import SandboxServer

__all__ = ["serve"]

_PAGING = {
    False: "at most 1,000 items per page",
    True: "ignored: every listing answers all its items at once",
}


def serve(
    *,
    host: str,
    port: int,
    openid: str | None,
    appkey: str | None,
    rate: float | None,
    rate_mode: RateMode,
    faults: str,
    customers: str | None,
    generate: int | None,
    state: str | None,
    seed: int,
    timestamp_window: float | None,
    echo: Callable[[str], None],
    ignore_paging: bool = False,
) -> ExitCode:
    """Start the server, say where it listens (never the appkey), wait for Ctrl-C, stop."""
    if customers is not None and generate is not None:
        raise UsageError(
            "--customers and --generate exclude each other", hint="pass only one of them"
        )
    if appkey:
        logs.use_redactor(Redactor.of(appkey))
    config = SandboxConfig(
        openid=openid or DEFAULT_OPENID,
        appkey=appkey or DEFAULT_APPKEY,
        host=host,
        port=port,
        rate=rate,
        rate_mode=rate_mode,
        faults=faults,
        customers_file=Path(customers) if customers else None,
        generate=50 if generate is None else generate,
        state_file=Path(state) if state else None,
        seed=seed,
        timestamp_window=timestamp_window,
        ignore_paging=ignore_paging,
    )
    server = SandboxServer(config)
    server.start()
    try:
        for line in _banner(server, openid, appkey):
            echo(line)
        server.wait()
    except KeyboardInterrupt:
        echo("stopping the sandbox")
    finally:
        server.stop()
    return ExitCode.OK


def _banner(server: SandboxServer, openid: str | None, appkey: str | None) -> list[str]:
    config = server.config
    count = len(server.sandbox.context.customers)
    lines = [
        f"sandbox listening on {server.base_url}  (Ctrl-C to stop)",
        f"  customers: {count} ({config.customers_file or f'generated, seed {config.seed}'})",
        f"  state: {config.state_file or 'in memory only'}",
        f"  rate: {config.rate or 'unlimited'}"
        + (f" per second, pushback as {config.rate_mode}" if config.rate else ""),
        f"  faults: {server.sandbox.faults.config.describe() or 'none'}",
        f"  paging: {_PAGING[config.ignore_paging]}",
        f"  inspect: {server.base_url}/sandbox/inspect",
    ]
    if openid is None:
        lines.append(f"notice: WAIQIN_OPENID is not set; expecting openid {DEFAULT_OPENID!r}")
    if appkey is None:
        lines.append(
            "notice: WAIQIN_APPKEY is not set; the sandbox expects its built-in default appkey "
            "(see runner.sandbox.DEFAULT_APPKEY)"
        )
    lines.append(f"  point the runner at it: WAIQIN_BASE_URL={server.base_url}")
    return lines
