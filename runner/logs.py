"""Logging through structlog: console on a terminal, JSON lines otherwise.

Secrets never reach a log line: the ``redact`` processor drops the appkey and digest,
masks the openid, and scrubs any registered secret value wherever it appears.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog

__all__ = [
    "LogFormat",
    "configure",
    "mask",
    "redact",
    "register_secret",
    "reset",
    "scrub",
    "use_json",
]

LogFormat = Literal["auto", "console", "json"]

_DROP_KEYS = frozenset({"appkey", "digest", "WAIQIN_APPKEY"})
_MASK_KEYS = frozenset({"openid", "WAIQIN_OPENID"})
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that it is scrubbed from every later log line."""
    if value:
        _secrets.add(value)


def mask(value: str) -> str:
    """Show only the first and last two characters of an identifier, e.g. an openid."""
    if len(value) <= 6:
        return "***"
    return f"{value[:2]}***{value[-2:]}"


def scrub(value: Any) -> Any:
    """Replace every registered secret in a value, looking inside dicts, lists and tuples."""
    if isinstance(value, str):
        for secret in _secrets:
            if secret in value:
                value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub(v) for v in value)
    return value


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: drop the appkey and digest, mask the openid, scrub secrets."""
    for key in list(event_dict):
        if key in _DROP_KEYS:
            del event_dict[key]
        elif key in _MASK_KEYS and isinstance(event_dict[key], str):
            event_dict[key] = mask(event_dict[key])
        else:
            event_dict[key] = scrub(event_dict[key])
    return event_dict


def _json_dumps(obj: Any, **kw: Any) -> str:
    kw.pop("default", None)
    return json.dumps(obj, ensure_ascii=False, default=str, **kw)


def use_json(fmt: LogFormat) -> bool:
    """JSON lines when asked, or automatically when stdout is not a terminal."""
    if fmt == "auto":
        return not sys.stdout.isatty()
    return fmt == "json"


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of writing (tests swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure(
    fmt: LogFormat = "auto", *, level: str = "info", stream: TextIO | None = None
) -> None:
    """Configure structlog for the CLI; tests call it again (or ``reset``) freely."""
    out: Any = stream if stream is not None else _CurrentStderr()
    renderer: Any
    if use_json(fmt):
        renderer = structlog.processors.JSONRenderer(serializer=_json_dumps)
    else:
        # plain tracebacks: rich's would show local variables, such as a signing key
        renderer = structlog.dev.ConsoleRenderer(
            colors=out.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,  # tracebacks become text that redact scrubs
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def reset() -> None:
    """Forget registered secrets and restore structlog's defaults (for tests)."""
    _secrets.clear()
    structlog.reset_defaults()
