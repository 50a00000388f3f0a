"""The exception tree of campaign-runner, and the exit codes the CLI ends with.

Every error the tool raises on purpose is a :class:`RunnerError`. Each class carries
the :class:`ExitCode` the CLI turns it into, *where* the problem is (a :class:`Location`)
and a *hint* that says what to do next. The CLI (``runner.cli.main``) is the one place
that turns them into a message and an exit code.

::

    ExitCode
      OK           0    everything done (and verified)
      FAILED       1    some work failed for good; or the runner crashed (a bug)
      INVALID      2    invalid input or usage; nothing was sent
      REVIEW       3    an outcome a person must settle
      ENVIRONMENT  4    the world around the tool: credentials, lock, network, disk
      INTERRUPTED  130  stopped by SIGINT / SIGTERM after recording everything

    RunnerError                       FAILED       some work failed
    ├── InputError                    INVALID      invalid input or usage; nothing was sent
    │   ├── SpecError                              the campaign YAML (key path, line)
    │   ├── SheetError                             a spreadsheet (file, sheet, row, column)
    │   ├── InvalidInput                           several Problems found in one pass
    │   └── UsageError                             a command used the wrong way
    │       ├── ConfirmationRequired               no terminal and no --yes
    │       └── PlanChanged                        --plan-hash no longer matches
    ├── ReviewNeeded                  REVIEW       an outcome no machine can settle
    │   └── RemoteVoucherExists                    the tenant already holds this voucher
    ├── EnvironmentProblem            ENVIRONMENT  the world around the tool
    │   ├── MissingCredentials                     a WAIQIN_* variable is not set
    │   ├── LockHeld                               another runner owns the campaign
    │   ├── ApiUnreachable                         retries exhausted without an answer
    │   ├── LedgerError                            the ledger is damaged, empty or not ours
    │   ├── TenantMismatch                         the ledger belongs to another tenant
    │   └── StateDirUnusable                       a file or folder of the state directory
    │                                              cannot be written (permissions, full
    │                                              disk, a result file open in Excel)
    └── ApiError                      FAILED       one call to the vendor API went wrong
        ├── NotSent                                certainly did not reach the server
        ├── PushedBack                             429 / 503 + Retry-After / "too frequent"
        ├── OutcomeUnknown                         may or may not have been applied
        └── Refused                                return_code != "0"; verbatim code and msg
            └── CredentialsRejected   ENVIRONMENT  signature, openid or timestamp refused

Not in the tree: a stop by SIGINT / SIGTERM ends with ``INTERRUPTED`` (the run records
everything first); any other exception is a bug: the run is recorded as a crash
(``FAILED``, the exception type in its summary) and the CLI shows the traceback.
Programming mistakes inside the tool raise plain ``ValueError`` / ``TypeError``.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import ClassVar

__all__ = [
    "ApiError",
    "ApiUnreachable",
    "ConfirmationRequired",
    "CredentialsRejected",
    "EnvironmentProblem",
    "ExitCode",
    "InputError",
    "InvalidInput",
    "LedgerError",
    "Location",
    "LockHeld",
    "MissingCredentials",
    "NotSent",
    "OutcomeUnknown",
    "PlanChanged",
    "Problem",
    "PushedBack",
    "Refused",
    "RemoteVoucherExists",
    "ReviewNeeded",
    "RunnerError",
    "SheetError",
    "SpecError",
    "StateDirUnusable",
    "TenantMismatch",
    "UsageError",
]


class ExitCode(IntEnum):
    """The process exit codes of ``runner`` (see the module docstring); never renumbered."""

    OK = 0
    FAILED = 1
    INVALID = 2
    REVIEW = 3
    ENVIRONMENT = 4
    INTERRUPTED = 130


@dataclass(frozen=True)
class Location:
    """Where bad input is: any subset of file, sheet, row, column, YAML path and line, job."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    yaml_path: str | None = None
    line: int | None = None
    job_id: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.yaml_path is not None:
            parts.append(f"key {self.yaml_path}")
        if self.job_id is not None:
            parts.append(f"job {self.job_id}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, str | int]:
        """The set fields only, for JSON output."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, found while collecting every problem in one pass."""

    message: str
    where: Location = field(default_factory=Location)
    hint: str | None = None

    def __str__(self) -> str:
        where = str(self.where)
        text = f"{where}: {self.message}" if where else self.message
        return f"{text}\n    → {self.hint}" if self.hint else text

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"message": self.message, "where": self.where.as_dict()}
        if self.hint:
            out["hint"] = self.hint
        return out


class RunnerError(Exception):
    """Root of every error campaign-runner raises on purpose."""

    exit_code: ClassVar[ExitCode] = ExitCode.FAILED
    default_hint: ClassVar[str | None] = None

    def __init__(
        self, message: str, *, where: Location | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.where = where or Location()
        self.hint = hint if hint is not None else self.default_hint

    def problems(self) -> list[Problem]:
        """The error as a list of problems (one, unless the error collects several)."""
        return [Problem(self.message, self.where, self.hint)]

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems())


# --- invalid input (ExitCode.INVALID) ----------------------------------------------------


class InputError(RunnerError):
    """Invalid input or usage; nothing was sent and nothing recorded was changed."""

    exit_code = ExitCode.INVALID


class SpecError(InputError):
    """The campaign YAML is malformed or invalid."""


class SheetError(InputError):
    """A customer spreadsheet cannot be used as it is."""


class InvalidInput(InputError):
    """Several problems found in one pass, shown together."""

    def __init__(self, problems: list[Problem], *, source: str | None = None) -> None:
        self._problems = list(problems)
        head = f"{len(self._problems)} problem(s)" + (f" in {source}" if source else "")
        super().__init__(head)

    def problems(self) -> list[Problem]:
        return list(self._problems)


class UsageError(InputError):
    """A command was used the wrong way (bad arguments or option values a person gave).

    Never for a mistake only a bug can make: code calling code wrongly raises
    ``ValueError`` or ``TypeError``.
    """


class ConfirmationRequired(UsageError):
    """No terminal to ask on, and no --yes."""

    default_hint = "Review `runner plan` first, then rerun with --yes to launch unattended."


class PlanChanged(UsageError):
    """The campaign no longer matches the preview that was approved (--plan-hash)."""

    default_hint = "Run `runner plan` again, review it, and pass the new hash."


# --- needs a person (ExitCode.REVIEW) ----------------------------------------------------


class ReviewNeeded(RunnerError):
    """An outcome that cannot be settled automatically; a person must decide."""

    exit_code = ExitCode.REVIEW


class RemoteVoucherExists(ReviewNeeded):
    """A voucher this ledger never sent already exists on the tenant: nothing was created.

    Another state directory, another machine or a lost ledger made it. Creating it again
    would grant every customer twice, so the run stops for a person to adopt it. Carries
    one :class:`Problem` per campaign voucher found remotely.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self._problems = list(problems)
        super().__init__(
            f"{len(self._problems)} campaign voucher(s) already exist on the tenant, but not "
            "in this ledger: nothing was created"
        )

    def problems(self) -> list[Problem]:
        return list(self._problems)


# --- environment (ExitCode.ENVIRONMENT) --------------------------------------------------


class EnvironmentProblem(RunnerError):
    """Something around the tool is wrong: credentials, a lock, the network, the disk."""

    exit_code = ExitCode.ENVIRONMENT


class MissingCredentials(EnvironmentProblem):
    """A WAIQIN_* environment variable is not set."""


class LockHeld(EnvironmentProblem):
    """Another runner is working on the same campaign state directory."""

    default_hint = "Wait for the other run to finish (`runner status` shows progress)."


class ApiUnreachable(EnvironmentProblem):
    """The API gave no usable answer even after every retry."""

    default_hint = "Check WAIQIN_BASE_URL and the network, then rerun: it resumes where it stopped."


# --- one API call (ExitCode.FAILED unless caught) ----------------------------------------


class ApiError(RunnerError):
    """One call to the vendor API went wrong. Never carries the appkey or the digest."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        msg_id: str | None = None,
        status_code: int | None = None,
        where: Location | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, where=where, hint=hint)
        self.operation = operation
        self.msg_id = msg_id
        self.status_code = status_code


class NotSent(ApiError):
    """The request certainly did not reach the server (connect error, DNS): safe to retry."""


class PushedBack(ApiError):
    """The server asked us to slow down (429, 503 + Retry-After, "too frequent")."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        retry_after: float | None = None,
        msg_id: str | None = None,
        status_code: int | None = None,
        return_code: str | None = None,
        return_msg: str | None = None,
    ) -> None:
        super().__init__(message, operation=operation, msg_id=msg_id, status_code=status_code)
        self.retry_after = retry_after
        self.return_code = return_code
        self.return_msg = return_msg


class OutcomeUnknown(ApiError):
    """The request may have been applied (timeout after sending, reset, 5xx, garbage body).

    Never resend a create or a grant blindly after this: reconcile first.
    """


class Refused(ApiError):
    """The server answered with ``return_code`` other than "0"; both kept verbatim."""

    def __init__(
        self,
        *,
        operation: str,
        return_code: str,
        return_msg: str | None,
        msg_id: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(
            f"{operation} refused: return_code={return_code} return_msg={return_msg!r}",
            operation=operation,
            msg_id=msg_id,
            status_code=status_code,
        )
        self.return_code = return_code
        self.return_msg = return_msg


class CredentialsRejected(Refused):
    """The server refused the request's credentials (signature, openid, timestamp).

    Nothing was applied, and no other request will fare better: the run stops and the
    request is recorded as not sent, to be made again once the credentials are fixed.
    """

    exit_code = ExitCode.ENVIRONMENT
    default_hint = (
        "Check WAIQIN_OPENID, WAIQIN_APPKEY and WAIQIN_BASE_URL (the tenant's own address), "
        "and the machine's clock; then rerun: it resumes where it stopped."
    )


# --- ledger and state directory ----------------------------------------------------------


class LedgerError(EnvironmentProblem):
    """The ledger cannot be used (damaged, empty, not a ledger, or another campaign's)."""


class TenantMismatch(EnvironmentProblem):
    """The ledger records what was sent to another tenant (base URL or openid)."""

    default_hint = (
        "A ledger belongs to the tenant it first sent to. For a rehearsal against the "
        "sandbox (or another tenant) pass another --state-dir."
    )


#: Plain words for the reasons a write fails most often.
_OS_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


class StateDirUnusable(EnvironmentProblem):
    """A file or folder of the state directory cannot be created or written.

    A read-only folder, a full disk, a path that is a file where a folder is expected, or a
    result file another program holds open (Excel locks ``results.xlsx``). What the
    ledger recorded before stays recorded: a rerun resumes where this one stopped.
    """

    default_hint = (
        "Check that the folder is writable and the disk has free space, and close the file "
        "if another program (e.g. Excel) has it open; then rerun: it resumes where it "
        "stopped, and what is recorded stays recorded."
    )

    @classmethod
    def from_os_error(cls, exc: OSError, what: str, path: Path | str) -> StateDirUnusable:
        """The error for *exc*, raised while writing *what* (e.g. "the result file") at *path*."""
        reason = _OS_REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
        return cls(f"cannot write {what}: {reason}", where=Location(file=str(path)))
