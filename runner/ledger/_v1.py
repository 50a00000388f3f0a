"""The one place that still reads a schema version 1 ledger's refusal marker.

Version 1 had no ``jobs.refused`` column: a job that a refusal left in ``unknown`` (or
``failed``) was told apart by its ``last_error`` text starting with
:data:`V1_REFUSED_PREFIX`. :func:`v1_refused` turns that text into the flag, under the
rule version 2 keeps (only a job in one of
:data:`~runner.ledger._states.REFUSABLE_STATES` can be refused: a version 1 job that
moved on, e.g. retried or adopted, kept its old text but is no longer refused). A
read-only open of a version 1 file, which must never write it, reads every job through
it; a writable open fills the new column with it once, when it upgrades the file.
"""

from __future__ import annotations

from runner.ledger._states import REFUSABLE_STATES

__all__ = ["V1_REFUSED_PREFIX", "v1_refused"]

V1_REFUSED_PREFIX = "refused: "


def v1_refused(state: str | None, last_error: str | None) -> bool:
    """Whether a version 1 job row was left in its state by a refusal."""
    in_refusable = state in REFUSABLE_STATES
    return in_refusable and (last_error or "").startswith(V1_REFUSED_PREFIX)
