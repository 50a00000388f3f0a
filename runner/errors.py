"""The exception tree of campaign-runner.

Every error the tool raises on purpose is a :class:`RunnerError`. Each class carries
the exit code the CLI turns it into, *where* the problem is (a :class:`Location`) and
a *hint* that says what to do next. The CLI (``runner.cli``) is the one place that
turns them into a message and an exit code.

::

    RunnerError                       exit 1  some work failed
    ├── InputError                    exit 2  invalid input or usage; nothing was sent
    │   ├── SpecError                         the campaign YAML (key path, line)
    │   ├── SheetError                        a spreadsheet (file, sheet, row, column)
    │   ├── PlanError                         cross-checks between campaign and sheets
    │   ├── InvalidInput                      several Problems found in one pass
    │   └── UsageError                        a command used the wrong way
    │       ├── ConfirmationRequired          no terminal and no --yes
    │       └── PlanChanged                   --plan-hash no longer matches
    ├── ReviewNeeded                  exit 3  an outcome no machine can settle
    │   └── RemoteVoucherExists               the tenant already holds this voucher: adopt it
    ├── EnvironmentProblem            exit 4  the world around the tool
    │   ├── MissingCredentials                a WAIQIN_* variable is not set
    │   ├── LockHeld                          another runner owns the campaign
    │   ├── ApiUnreachable                    retries exhausted without an answer
    │   ├── LedgerError                       the ledger is damaged, empty or not ours
    │   └── TenantMismatch                    the ledger belongs to another tenant
    ├── ApiError                      exit 1  one call to the vendor API went wrong
    │   ├── NotSent      (Transient)          certainly did not reach the server
    │   ├── PushedBack   (Transient)          429 / 503 + Retry-After / "too frequent"
    │   ├── OutcomeUnknown                    may or may not have been applied
    │   └── Refused                           return_code != "0"; verbatim code and msg
    │       └── CredentialsRejected   exit 4  signature, openid or timestamp refused
    └── Interrupted                   exit 130 SIGINT / SIGTERM; says how to resume

``Transient`` is a mixin: an error that is safe to retry after waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

__all__ = [
    "ApiError",
    "ApiUnreachable",
    "ConfirmationRequired",
    "CredentialsRejected",
    "EnvironmentProblem",
    "InputError",
    "Interrupted",
    "InvalidInput",
    "LedgerError",
    "Location",
    "LockHeld",
    "MissingCredentials",
    "NotSent",
    "OutcomeUnknown",
    "PlanChanged",
    "PlanError",
    "Problem",
    "PushedBack",
    "Refused",
    "RemoteVoucherExists",
    "ReviewNeeded",
    "RunnerError",
    "SheetError",
    "SpecError",
    "TenantMismatch",
    "Transient",
    "UsageError",
]


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

    exit_code: ClassVar[int] = 1
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


class Transient:
    """Mixin: the same call is safe to try again after waiting."""

    retry_after: float | None = None


# --- invalid input (exit 2) -------------------------------------------------------------


class InputError(RunnerError):
    """Invalid input or usage; nothing was sent and nothing recorded was changed."""

    exit_code = 2


class SpecError(InputError):
    """The campaign YAML is malformed or invalid."""


class SheetError(InputError):
    """A customer spreadsheet cannot be used as it is."""


class PlanError(InputError):
    """The campaign and its spreadsheets disagree, or break a vendor rule."""


class InvalidInput(InputError):
    """Several problems found in one pass, shown together."""

    def __init__(self, problems: list[Problem], *, source: str | None = None) -> None:
        self._problems = list(problems)
        head = f"{len(self._problems)} problem(s)" + (f" in {source}" if source else "")
        super().__init__(head)

    def problems(self) -> list[Problem]:
        return list(self._problems)


class UsageError(InputError):
    """A command was used the wrong way."""


class ConfirmationRequired(UsageError):
    """No terminal to ask on, and no --yes."""

    default_hint = "Review `runner plan` first, then rerun with --yes to launch unattended."


class PlanChanged(UsageError):
    """The campaign no longer matches the preview that was approved (--plan-hash)."""

    default_hint = "Run `runner plan` again, review it, and pass the new hash."


# --- needs a person (exit 3) ------------------------------------------------------------


class ReviewNeeded(RunnerError):
    """An outcome that cannot be settled automatically; a person must decide."""

    exit_code = 3


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


# --- environment (exit 4) ---------------------------------------------------------------


class EnvironmentProblem(RunnerError):
    """Something around the tool is wrong: credentials, a lock, the network."""

    exit_code = 4


class MissingCredentials(EnvironmentProblem):
    """A WAIQIN_* environment variable is not set."""


class LockHeld(EnvironmentProblem):
    """Another runner is working on the same campaign state directory."""

    default_hint = "Wait for the other run to finish (`runner status` shows progress)."


class ApiUnreachable(EnvironmentProblem):
    """The API gave no usable answer even after every retry."""

    default_hint = "Check WAIQIN_BASE_URL and the network, then rerun: it resumes where it stopped."


# --- one API call (exit 1 unless caught) --------------------------------------------------


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


class NotSent(Transient, ApiError):
    """The request certainly did not reach the server (connect error, DNS): safe to retry."""


class PushedBack(Transient, ApiError):
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

    exit_code = 4
    default_hint = (
        "Check WAIQIN_OPENID, WAIQIN_APPKEY and WAIQIN_BASE_URL (the tenant's own address), "
        "and the machine's clock; then rerun: it resumes where it stopped."
    )


# --- ledger and interruption -------------------------------------------------------------


class LedgerError(EnvironmentProblem):
    """The ledger cannot be used (damaged, empty, not a ledger, or another campaign's)."""


class TenantMismatch(EnvironmentProblem):
    """The ledger records what was sent to another tenant (base URL or openid)."""

    default_hint = (
        "A ledger belongs to the tenant it first sent to. For a rehearsal against the "
        "sandbox (or another tenant) pass another --state-dir."
    )


class Interrupted(RunnerError):
    """The run was stopped by SIGINT or SIGTERM after recording everything."""

    exit_code = 130
