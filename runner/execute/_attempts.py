"""One write (create or grant), attempted under the write-ahead rule.

Each attempt is recorded as ``sending`` and committed before the request leaves
(``mark_sending`` returns once it is committed, or returns an awaitable that does: the
grant phase's group commit, :class:`~runner.ledger.LedgerWriter`).
NotSent and PushedBack are retried with stamina's backoff and jitter (a PushedBack's
Retry-After is the least wait); any other outcome ends the loop and is returned for
the caller to record. Nothing here ever resends after an unknown outcome. A
CredentialsRejected is recorded as not sent and raised: it stops the run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import stamina

from runner.api import new_msg_id, retry_wait
from runner.errors import CredentialsRejected, NotSent, OutcomeUnknown, PushedBack, Refused
from runner.execute._context import RunContext

__all__ = ["AttemptResult", "attempt_write"]

Settled = Literal["ok", "unknown", "refused", "not_sent", "stopped"]


@dataclass(frozen=True)
class AttemptResult:
    """How a write ended, with the value or the error that ended it."""

    outcome: Settled
    value: object = None
    error: NotSent | PushedBack | OutcomeUnknown | Refused | None = None


class _Stopped(Exception):
    """The run is stopping: no new attempt starts."""


async def attempt_write(
    ctx: RunContext,
    *,
    mark_sending: Callable[[str], Awaitable[None] | None],
    mark_not_sent: Callable[[str], None],
    send: Callable[[str], Awaitable[object]],
) -> AttemptResult:
    """Attempt one write until it is answered, unknown, refused or retries run out."""
    settings = ctx.settings
    try:
        async for attempt in stamina.retry_context(
            on=lambda exc: retry_wait(exc, idempotent=False),
            attempts=settings.max_attempts,
            timeout=None,
            wait_initial=settings.wait_initial_s,
            wait_max=settings.wait_max_s,
        ):
            with attempt:
                if ctx.stopping:
                    raise _Stopped
                msg_id = new_msg_id()
                marked = mark_sending(msg_id)
                if marked is not None:
                    await marked  # the commit holding the mark returned: now it may leave
                try:
                    value = await send(msg_id)
                except (NotSent, PushedBack, CredentialsRejected) as err:
                    mark_not_sent(err.message)  # nothing was applied: send it again later
                    raise
                return AttemptResult("ok", value)
    except _Stopped:
        return AttemptResult("stopped")
    except CredentialsRejected:
        raise  # no other request will fare better: the run stops
    except (NotSent, PushedBack) as err:
        return AttemptResult("not_sent", error=err)
    except OutcomeUnknown as err:
        return AttemptResult("unknown", error=err)
    except Refused as err:
        return AttemptResult("refused", error=err)
    raise AssertionError("stamina.retry_context ended without an attempt")  # pragma: no cover
