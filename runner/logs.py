"""Logging through structlog: console on a terminal, JSON lines otherwise.

Secrets never reach a log line: the :class:`Redact` processor drops the appkey and digest
fields, masks the openid, and replaces the secrets of one explicit
:class:`~runner.redaction.Redactor` wherever they appear. That redactor is given, never
collected as a side effect: :func:`configure` takes it, and :func:`use_redactor` binds it
once the credentials are known (the CLI configures logging before it reads them).
Nothing is registered as a side effect: campaign loading, credentials and the API client
keep no global list of secrets.

Every line of a command that works on a campaign says which one: :func:`scope` binds
``campaign`` (and, once the run is recorded, ``run_id``) in structlog's context-local
context for a block, and :func:`phase` binds ``phase`` and ends with one ``phase finished``
line (its counts and ``duration_ms``). Both restore the context on the way out, so the
next command, or the next campaign a long-running process handles, never inherits stale
ids. The context is per thread and copied into an event loop by ``asyncio.run``; an
exception that leaves a scope remembers the context it left (:func:`context_of`), for
the error report printed after the scope closed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, Literal, TextIO

import structlog

from runner.redaction import NO_SECRETS, Redactor

__all__ = [
    "LogFormat",
    "Redact",
    "bind",
    "configure",
    "context_of",
    "current",
    "current_redactor",
    "mask",
    "phase",
    "reset",
    "scope",
    "timestamp",
    "use_json",
    "use_redactor",
]

LogFormat = Literal["auto", "console", "json"]

_DROP_KEYS = frozenset({"appkey", "digest", "WAIQIN_APPKEY"})
_MASK_KEYS = frozenset({"openid", "WAIQIN_OPENID"})
_PLAIN = (str, int, float, bool, type(None), dict, list, tuple)
#: Every line's ``timestamp`` (ISO 8601 in UTC, ``Z``); error reports use the same.
_TIMESTAMPER = structlog.processors.TimeStamper(fmt="iso", utc=True)
#: The attribute an exception leaving a :func:`scope` keeps its log context in.
_CONTEXT_ATTR = "_runner_log_context"

log = structlog.get_logger(__name__)


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
            _TIMESTAMPER,
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


def current_redactor() -> Redactor:
    """The redactor log lines go through now (see :func:`use_redactor`), for output that
    does not pass through logging but must not show the secrets either (the CLI's error
    and crash reports)."""
    for processor in structlog.get_config()["processors"]:
        if isinstance(processor, Redact):
            return processor.redactor
    return NO_SECRETS


def reset() -> None:
    """Restore structlog's defaults, forgetting the redactor in use (for tests)."""
    structlog.reset_defaults()


# --- context: which campaign, run and phase a line belongs to -----------------------------


def timestamp() -> str:
    """Now, formatted as the ``timestamp`` of every log line."""
    return str(_TIMESTAMPER(None, "", {})["timestamp"])


def current() -> dict[str, Any]:
    """The fields bound for this thread (or task) now, e.g. ``campaign`` and ``run_id``."""
    return structlog.contextvars.get_contextvars()


def bind(**fields: Any) -> None:
    """Add *fields* to every later line of the enclosing :func:`scope` (e.g. ``run_id``
    once the run is recorded); the scope drops them when it ends."""
    structlog.contextvars.bind_contextvars(**fields)


@contextlib.contextmanager
def scope(**fields: Any) -> Iterator[None]:
    """Bind *fields* to every line logged in the block, then restore the context exactly.

    Whatever was bound inside (:func:`bind`) goes too. An exception leaving the block
    keeps the context it left from (the innermost scope's, see :func:`context_of`).
    """
    saved = structlog.contextvars.get_contextvars()
    structlog.contextvars.bind_contextvars(**fields)
    try:
        yield
    except BaseException as exc:
        if not hasattr(exc, _CONTEXT_ATTR):
            with contextlib.suppress(AttributeError, TypeError):
                setattr(exc, _CONTEXT_ATTR, structlog.contextvars.get_contextvars())
        raise
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**saved)


def context_of(exc: BaseException) -> dict[str, Any]:
    """The log context *exc* was raised in: what is bound now, updated with what was
    bound in the innermost :func:`scope` it left."""
    left: Mapping[str, Any] = getattr(exc, _CONTEXT_ATTR, None) or {}
    return {**current(), **left}


@contextlib.contextmanager
def phase(name: str, *, since: float | None = None) -> Iterator[dict[str, Any]]:
    """Bind ``phase=name`` for the block and end it with one ``phase finished`` line.

    Yields a dict the block fills with its counts; the closing line carries them and
    ``duration_ms`` (from *since*, a ``time.monotonic()`` reading, for a phase whose work
    began before its campaign was known). A phase an exception (or a cancellation) ends
    logs ``phase stopped`` with the exception's type instead, and the exception goes on.
    """
    counts: dict[str, Any] = {}
    started = time.monotonic() if since is None else since
    with scope(phase=name):
        try:
            yield counts
        except BaseException as exc:
            log.warning(
                "phase stopped",
                phase=name,
                by=type(exc).__name__,
                duration_ms=_elapsed_ms(started),
                **counts,
            )
            raise
        log.info("phase finished", phase=name, duration_ms=_elapsed_ms(started), **counts)


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
