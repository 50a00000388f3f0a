"""How a command that writes to the ledger records its end, whatever ends it.

A run ends by itself with the exit code its ledger states give; Ctrl-C records
``INTERRUPTED``; a :class:`~runner.errors.RunnerError` its own code; any other exception
(a bug) ``FAILED`` with ``crash`` in the summary, after which the exception goes on to
the CLI. Writing the result files or the run row never hides the exception that
stopped the run.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from runner import logs
from runner.errors import ExitCode, RunnerError
from runner.ledger import Ledger
from runner.summaries import CommandResult, RunSummary, StopCause

__all__ = ["RunResult", "ended_by", "finish", "record_stop"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RunResult:
    """The exit code and what to print about the run."""

    exit_code: ExitCode
    summary: RunSummary


def ended_by(exc: BaseException) -> tuple[ExitCode, dict[str, object]]:
    """The exit code a run stopped by *exc* records, and the summary fields that say why.

    Ctrl-C is an interruption; a :class:`RunnerError` ends with its own code; anything
    else is a bug: a crash, recorded as ``FAILED`` with the exception's type and place.
    """
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED, {"interrupted": True}
    if isinstance(exc, RunnerError):
        cause = StopCause(error=type(exc).__name__, message=exc.message)
        return exc.exit_code, {"stopped_by": cause}
    frames = traceback.extract_tb(exc.__traceback__)
    at = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None
    return ExitCode.FAILED, {"crash": StopCause(error=type(exc).__name__, message=str(exc), at=at)}


def finish(ledger: Ledger, run_id: str, code: ExitCode, summary: CommandResult) -> None:
    """Record the end of a run with its exit code and its summary as JSON."""
    ledger.finish_run(run_id, code, summary.model_dump(mode="json", by_alias=True))


def record_stop(
    ledger: Ledger,
    run_id: str,
    exc: BaseException,
    *,
    summarize: Callable[[], RunSummary],
    write_files: Callable[[], object] | None = None,
) -> ExitCode:
    """Record the end of a run that *exc* stopped; never raises, the caller re-raises *exc*.

    Writes the result files first (when *write_files* is given), then finishes the run
    row with :func:`ended_by`'s code. A failure in either is logged, never raised, so
    it cannot hide *exc*; the ledger keeps every transition already recorded.
    """
    with logs.scope(run_id=run_id):
        return _record_stop(ledger, run_id, exc, summarize=summarize, write_files=write_files)


def _record_stop(
    ledger: Ledger,
    run_id: str,
    exc: BaseException,
    *,
    summarize: Callable[[], RunSummary],
    write_files: Callable[[], object] | None,
) -> ExitCode:
    code, ended = ended_by(exc)
    if write_files is not None:
        try:
            write_files()
        except Exception as err:
            log.error("could not write the result files", error=str(err), run_id=run_id)
    try:
        summary = summarize()
    except Exception as err:
        log.error("could not summarize the run", error=repr(err), run_id=run_id)
        summary = _bare(ledger)
    try:
        finish(ledger, run_id, code, summary.model_copy(update=ended))
    except Exception as err:
        log.error("could not record the end of the run", error=str(err), run_id=run_id)
    log.warning("run stopped", exit_code=int(code), run_id=run_id, by=type(exc).__name__)
    return code


def _bare(ledger: Ledger) -> RunSummary:
    """A summary naming only the campaign, when the ledger could not be summarized."""
    return RunSummary(
        campaign=ledger.campaign,
        ledger_file=str(ledger.path),
        tenant=None,
        vouchers=[],
        jobs={},
        no_longer_planned={},
        last_errors=[],
    )
