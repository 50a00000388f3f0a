"""Logging through structlog: console on a terminal, JSON lines otherwise.

Secrets never reach a log line: the :class:`Redact` processor drops the appkey and digest
fields, masks the openid, and replaces the secrets of one explicit
:class:`~runner.redaction.Redactor` wherever they appear. That redactor is given, never
collected as a side effect: :func:`configure` takes it, and :func:`use_redactor` binds it
once the credentials are known (the CLI configures logging before it reads them).
Nothing is registered as a side effect: campaign loading, credentials and the API client
keep no global list of secrets.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog

from runner.redaction import NO_SECRETS, Redactor

__all__ = [
    "LogFormat",
    "Redact",
    "configure",
    "mask",
    "reset",
    "use_json",
    "use_redactor",
]

LogFormat = Literal["auto", "console", "json"]

_DROP_KEYS = frozenset({"appkey", "digest", "WAIQIN_APPKEY"})
_MASK_KEYS = frozenset({"openid", "WAIQIN_OPENID"})
_PLAIN = (str, int, float, bool, type(None), dict, list, tuple)


def mask(value: str) -> str:
    """Show only the first and last two characters of an identifier, e.g. an openid."""
    if len(value) <= 6:
        return "***"
    return f"{value[:2]}***{value[-2:]}"


class Redact:
    """A structlog processor: drop the appkey and digest, mask the openid, redact secrets.

    ``redactor`` None: no secret is known yet (see :func:`use_redactor`).
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor if redactor is not None else NO_SECRETS

    def __repr__(self) -> str:
        return f"Redact({self.redactor!r})"

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        redactor = self.redactor
        for key in list(event_dict):
            if key in _DROP_KEYS:
                del event_dict[key]
            elif key in _MASK_KEYS and isinstance(event_dict[key], str):
                event_dict[key] = mask(event_dict[key])
            else:
                event_dict[key] = _redacted(event_dict[key], redactor)
        return event_dict


def _redacted(value: Any, redactor: Redactor) -> Any:
    """The value redacted; an object whose text holds a secret becomes its redacted text."""
    if isinstance(value, _PLAIN) or not redactor.secrets:
        return redactor.redact(value)
    try:
        shown = (repr(value), str(value))
    except Exception:  # an object that cannot show itself shows no secret either
        return value
    if any(redactor.contains_secret(text) for text in shown):
        return redactor.text(shown[1])
    return value


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
    fmt: LogFormat = "auto",
    *,
    level: str = "info",
    stream: TextIO | None = None,
    redactor: Redactor | None = None,
) -> None:
    """Configure structlog for the CLI; tests call it again (or ``reset``) freely.

    ``redactor``: the secrets no line may show (None: none known until
    :func:`use_redactor` binds them).
    """
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
            Redact(redactor),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def use_redactor(redactor: Redactor) -> None:
    """Redact ``redactor``'s secrets (only those) from every later log line.

    Call it once the credentials are known; the rest of the logging set-up is kept. Under
    structlog's defaults (never configured) the redaction goes before the renderer.
    """
    processors = list(structlog.get_config()["processors"])
    swapped = [Redact(redactor) if isinstance(p, Redact) else p for p in processors]
    if not any(isinstance(p, Redact) for p in processors):
        swapped.insert(max(len(swapped) - 1, 0), Redact(redactor))
    structlog.configure(processors=swapped)


def reset() -> None:
    """Restore structlog's defaults, forgetting the redactor in use (for tests)."""
    structlog.reset_defaults()
