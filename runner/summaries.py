"""What each command returns: typed, versioned results, one JSON form for all readers.

Every command's use case (:mod:`runner.ops`) returns one of these models; the CLI prints
it as tables (:mod:`runner.outputs.console`) or, with ``--json``, as :func:`to_json`
gives it; the ledger's ``runs`` table stores the same JSON. Scheduled jobs, the drop
folder and dashboards parse that JSON: ``runner schema --output NAME`` prints its JSON
Schema (:func:`output_schema`). Every object carries ``kind`` and ``schema_version``;
a version changes only when a field is removed or changes meaning (fields may be
added within a version). Every field is always present: ``null`` when not applicable.

::

    CommandResult                  kind, schema_version
    ├── PlanPreview                runner plan --json (and preview.json)
    ├── LedgerSummary              the ledger's counts, per voucher and state
    │   ├── RunSummary             runner run / retry-failed / verify --json
    │   │   ├── AdoptSummary       runner adopt --json
    │   │   └── LifecycleSummary   runner finish / extend --json
    │   └── StatusReport           runner status --json
    ├── ReviewListing              runner review --json
    ├── ReviewRecorded             runner review --resolve ... --json
    ├── DropStatus                 a drop's status.json (runner watch)
    ├── ReportSummary              runner report --json (the redemption report's figures)
    └── ErrorReport                any command's error, on stderr, with --json
"""

from __future__ import annotations

import json
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "OUTPUTS",
    "SCHEMA_VERSION",
    "AdoptSummary",
    "Adopted",
    "BehindView",
    "ChangeOutcome",
    "ChangeOutcomeView",
    "ClosedView",
    "CommandResult",
    "DropStage",
    "DropStatus",
    "ErrorReport",
    "EventView",
    "LastRun",
    "LedgerChanges",
    "LedgerSummary",
    "LifecycleStepView",
    "LifecycleSummary",
    "LifecycleView",
    "Mismatch",
    "PendingChangeView",
    "PlanPreview",
    "PreviewGrants",
    "PreviewVoucher",
    "ProblemView",
    "Recovered",
    "ReportDay",
    "ReportSegment",
    "ReportSummary",
    "ReportVoucher",
    "RerunWould",
    "ReviewItemView",
    "ReviewListing",
    "ReviewRecorded",
    "RunSummary",
    "StageMove",
    "StatusReport",
    "StopCause",
    "TenantView",
    "UsageFigures",
    "VerifySummary",
    "VoucherConflictView",
    "VoucherCounts",
    "VoucherDrift",
    "output_schema",
    "to_json",
]

SCHEMA_VERSION: Final = 1

#: Counts per state, e.g. ``{"done": 52, "failed": 2}``; only states that occur.
StateCounts = dict[str, int]


class _Model(BaseModel):
    # every field is always written, so the serialization schema lists them all as required
    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_serialization_defaults_required=True
    )


class TenantView(_Model):
    """The tenant a ledger is bound to, as people may see it (the openid masked)."""

    base_url: str
    openid: str


class ProblemView(_Model):
    """One located problem: what is wrong, where (file, row, key, line, job) and what to do."""

    message: str
    where: dict[str, str | int] = Field(default_factory=dict)
    hint: str | None = None


class CommandResult(_Model):
    """The fields every command's result starts with."""

    kind: str
    schema_version: Literal[1] = SCHEMA_VERSION


# --- plan ---------------------------------------------------------------------------------


class PreviewVoucher(_Model):
    """One voucher as the preview shows it: settings, limits, grants and face value."""

    key: str
    name: str
    num: int
    eachCmNum: int  # noqa: N815 - the vendor's wire name, as the preview shows it
    money: str
    doorsill: str | None
    discount: dict[str, str | None]
    start_date: str
    end_date: str
    grant_type: str
    pay_type: str
    scope: str | dict[str, list[str]]
    products: dict[str, Any]
    grants: int
    customers: int
    face_value: str | None
    fingerprint: str


class PreviewGrants(_Model):
    """Grants in the plan: in all, per voucher, per audience."""

    total: int
    by_voucher: dict[str, int]
    by_audience: dict[str, int]


class VoucherConflictView(_Model):
    """A voucher the ledger sent that the campaign file has changed since."""

    voucher_key: str
    state: str


class LedgerChanges(_Model):
    """How the plan compares with what the ledger already holds."""

    already_done: int
    still_to_do: int
    new: int
    no_longer_planned: int
    done_not_in_plan: int
    voucher_conflicts: list[VoucherConflictView]


class LifecycleStepView(_Model):
    """One change of a created voucher a run makes: ``extend``/``shorten`` its end date, or
    ``finish`` it; ``text`` as the preview says it (``extend ten-off: 2027-03-31 → …``)."""

    voucher_key: str
    action: Literal["extend", "shorten", "finish"]
    from_end_date: str | None
    to_end_date: str | None
    text: str


class BehindView(_Model):
    """A setting a command (``runner extend``/``finish``) gave a voucher that the campaign
    file does not say yet: never reverted, reported until the file says so."""

    voucher_key: str
    setting: Literal["end_date", "finished"]
    ledger_value: str
    message: str
    where: dict[str, str | int] = Field(default_factory=dict)


class ClosedView(_Model):
    """A voucher that takes no more grants (``finished`` since when, or ``expired`` on its
    end date), and how many of its planned grants are not sent for it."""

    voucher_key: str
    why: Literal["finished", "expired"]
    since: str
    grants_not_sent: int


class PendingChangeView(_Model):
    """A change whose outcome is not settled yet (a lost answer, a kill): the next run or
    command reads the voucher back before anything is sent again."""

    change_id: str
    voucher_key: str
    action: Literal["end_date", "finish"]
    end_date: str | None
    state: str
    last_error: str | None


class LifecycleView(_Model):
    """End dates and finishes: the changes a run would make, what the campaign file is
    behind on, the vouchers closed to grants, and the changes not settled yet."""

    changes: list[LifecycleStepView] = Field(default_factory=list)
    behind: list[BehindView] = Field(default_factory=list)
    closed: list[ClosedView] = Field(default_factory=list)
    pending: list[PendingChangeView] = Field(default_factory=list)


class PlanPreview(CommandResult):
    """``runner plan``: what a run would create and grant, and how long it would take."""

    kind: Literal["plan"] = "plan"
    campaign: str
    source: str | None
    plan_hash: str
    vouchers: list[PreviewVoucher]
    grants: PreviewGrants
    customers: int
    face_value: str
    unbounded_vouchers: list[str]
    budget: str | None
    calls: int
    rate: float
    estimated_seconds: float
    first_jobs: list[dict[str, Any]]
    warnings: list[str]
    ledger: LedgerChanges | None
    ledger_file: str | None
    tenant: TenantView | None
    lifecycle: LifecycleView = Field(default_factory=LifecycleView)


# --- run, verify, status, adopt -------------------------------------------------------------


class VoucherCounts(_Model):
    """One voucher in the ledger with its grants per state, its end date as the ledger
    knows it (after every done change) and whether it is finished."""

    key: str
    state: str
    remote_id: str | None
    active: bool
    jobs: StateCounts
    last_error: str | None
    end_date: str | None = None
    finished: bool = False


class Mismatch(_Model):
    """One customer of one voucher whose remote count differs from the ledger's."""

    voucher_key: str
    voucher_id: str
    customer_key: str
    key_kind: str
    remote: int
    ledger: int


class VoucherDrift(_Model):
    """A remote voucher setting that differs from the ledger (changed in the vendor's
    console, or by another tool): the end date, the finish, ``num`` or ``eachCmNum``, or
    the voucher missing from the tenant's list; ``hint`` says what to do."""

    voucher_key: str
    voucher_id: str
    setting: Literal["end_date", "finished", "num", "eachCmNum", "missing"]
    ledger: str
    remote: str
    hint: str


class VerifySummary(_Model):
    """Remote granted instances compared with the ledger's confirmed grants, and each
    remote voucher's settings with the ledger's (``drift``)."""

    ok: bool
    vouchers: int
    remote_instances: int
    ledger_grants: int
    mismatches: list[Mismatch]
    drift: list[VoucherDrift] = Field(default_factory=list)


#: How one change ended in a command: ``done`` (sent and confirmed, or settled by reading
#: the voucher back), ``already`` (the remote already showed it: nothing sent), ``refused``
#: (the server said no: ``runner retry-failed`` tries again), ``unknown``/``not_sent``
#: (a rerun settles it, then sends what is missing), ``review`` (a person looks),
#: ``stopped`` (interrupted before it was sent).
ChangeOutcome = Literal["done", "already", "refused", "unknown", "not_sent", "review", "stopped"]


class ChangeOutcomeView(_Model):
    """What one end-date move or finish came to in this command."""

    voucher_key: str
    change_id: str | None
    action: Literal["end_date", "finish"]
    from_end_date: str | None
    to_end_date: str | None
    outcome: ChangeOutcome
    message: str


class StopCause(_Model):
    """What stopped a run before it ended by itself: an error, or a crash (a bug) and where."""

    error: str
    message: str
    at: str | None = None


class Recovered(_Model):
    """Rows a crashed run left ``sending`` that this run settled."""

    vouchers: int
    jobs: int


class LedgerSummary(CommandResult):
    """What the ledger holds for a campaign: vouchers and grants per state."""

    kind: str = "ledger"
    campaign: str
    ledger_file: str | None
    tenant: TenantView | None
    vouchers: list[VoucherCounts]
    jobs: StateCounts
    no_longer_planned: StateCounts
    last_errors: list[str]

    def ledger_fields(self) -> dict[str, Any]:
        """The ledger's fields of this summary, to build a command's result from."""
        skip = ("kind", "schema_version")
        return {
            name: getattr(self, name) for name in LedgerSummary.model_fields if name not in skip
        }


class RunSummary(LedgerSummary):
    """``run``, ``retry-failed`` and ``verify``: the ledger after the command, and what it did."""

    kind: Literal["run", "retry-failed", "verify", "adopt", "finish", "extend"] = "run"
    calls: dict[str, int] | None = None
    interrupted: bool | None = None
    verify: VerifySummary | None = None
    #: The end-date moves and finishes this command made or settled.
    changes: list[ChangeOutcomeView] | None = None
    #: Vouchers closed to grants (finished, expired) whose planned grants were not sent.
    not_sent: list[ClosedView] | None = None
    pushbacks: int | None = None
    final_rate: float | None = None
    recovered_after_crash: Recovered | None = None
    stopped_by: StopCause | None = None
    crash: StopCause | None = None


class Adopted(_Model):
    """One campaign voucher found on the tenant and taken into the ledger."""

    voucher_key: str
    remote_id: str
    grants_found: int
    grants_to_send: int
    extra_remote: int


class AdoptSummary(RunSummary):
    """``runner adopt``: the vouchers taken in, and those the tenant does not hold."""

    kind: Literal["adopt"] = "adopt"
    adopted: list[Adopted]
    not_found: list[str]


class LifecycleSummary(RunSummary):
    """``runner finish`` / ``runner extend``: each voucher's change (``changes``), and what
    the campaign file is behind on afterwards."""

    kind: Literal["finish", "extend"] = "finish"
    behind: list[BehindView] = Field(default_factory=list)


class LastRun(_Model):
    """The last command that wrote to the ledger and how it ended (None: did not finish)."""

    run_id: str
    command: str
    started_at: str
    finished_at: str | None
    exit_code: int | None


class RerunWould(_Model):
    """What ``runner run`` would do now (and what only ``retry-failed`` would)."""

    grant: int
    already_done: int
    new_jobs: int
    failed_for_retry_failed: int
    review: int
    no_longer_planned: int
    voucher_conflicts: list[str]


class StatusReport(LedgerSummary):
    """``runner status``: the ledger, its last run, and what a rerun would do or refuse."""

    kind: Literal["status"] = "status"
    last_run: LastRun | None
    rerun_would: RerunWould
    run_refuses: list[ProblemView]
    #: End dates and finishes as the ledger knows them; what a rerun would change.
    lifecycle: LifecycleView = Field(default_factory=LifecycleView)
    #: Always false: status reads the ledger alone (``runner verify`` reads the remote).
    remote_checked: bool = False


# --- review ---------------------------------------------------------------------------------


class EventView(_Model):
    """One event of the ledger's append-only log."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        json_schema_serialization_defaults_required=True,
    )

    at: str
    kind: str
    id: str
    from_: str | None = Field(alias="from")
    to: str
    run_id: str | None
    detail: dict[str, Any]


class ReviewItemView(_Model):
    """One job or voucher in review, with what a person needs to decide on it.

    ``evidence``: what the run recorded about the attempt that ended in review (each
    ``error``/``reason`` text since it was last sent, e.g. "remote holds 1 instance(s)
    but the ledger confirms 2", and the extra details of the move into review).
    ``ledger_confirms``: for a job, the grants of its voucher the ledger now holds as
    done for the same customer.
    """

    kind: Literal["job", "voucher"]
    id: str
    voucher_key: str
    customer_key: str | None
    key_kind: str | None
    customer_name: str | None
    reason: str | None
    attempts: int
    active: bool
    ledger_confirms: int | None
    evidence: tuple[str, ...]
    events: tuple[EventView, ...]


class ReviewListing(CommandResult):
    """``runner review``: what is in review."""

    kind: Literal["review"] = "review"
    campaign: str
    ledger_file: str
    in_review: int
    items: list[ReviewItemView]


class ReviewRecorded(CommandResult):
    """``runner review --resolve``: the decisions recorded, one event each."""

    kind: Literal["review-recorded"] = "review-recorded"
    campaign: str
    recorded: list[EventView]


# --- the drop folder --------------------------------------------------------------------------

#: Where a drop is in its life; each is also the name of its folder under the inbox
#: (``incoming``: the inbox itself).
DropStage = Literal[
    "incoming", "awaiting-approval", "rejected", "running", "done", "failed", "needs-review"
]


class StageMove(_Model):
    """One step of a drop's life: the stage it entered, when, and why."""

    stage: DropStage
    at: str
    note: str | None = None


class DropStatus(CommandResult):
    """A drop's ``status.json``: its stage, what was checked and run, and what to do next."""

    kind: Literal["drop"] = "drop"
    drop: str
    stage: DropStage
    campaign: str | None
    campaign_file: str | None
    content_hash: str | None
    plan_hash: str | None
    approval: Literal["manual", "auto"]
    approved_by: str | None
    approved_at: str | None
    retry_failed: bool
    exit_code: int | None
    jobs: StateCounts
    problems: list[ProblemView]
    message: str
    message_zh: str
    files: list[str]
    history: list[StageMove]
    updated_at: str


# --- the redemption report ------------------------------------------------------------------


class UsageFigures(_Model):
    """The figures of one group of granted instances (a voucher, an audience, a segment
    value, the campaign); money as text with two decimals.

    ``redemption_rate`` = used / granted; ``order_count``: distinct order ids of the used
    instances; ``order_amount``: the sum over those orders; ``discount``: the sum of the
    used instances' ``voucher_amount``; ``amount_per_discount`` = order_amount / discount.
    Ratios have 4 decimals and are null when their divisor is 0.
    """

    granted: int
    used: int
    unused: int
    expired: int
    redemption_rate: float | None
    order_count: int
    order_amount: str
    discount: str
    amount_per_discount: float | None


class ReportVoucher(UsageFigures):
    """One voucher's figures, with its key, remote id and name."""

    key: str
    remote_id: str | None
    name: str | None


class ReportSegment(UsageFigures):
    """The figures of one value of one segment column (``audience`` for the audiences)."""

    column: str
    value: str


class ReportDay(_Model):
    """Instances used on one Beijing day, and the running totals up to that day."""

    date: str
    used: int
    order_count: int
    order_amount: str
    discount: str
    cumulative_used: int
    cumulative_discount: str


class ReportSummary(CommandResult):
    """``runner report``: redemption figures of the campaign's vouchers, and its files.

    ``any_usage`` is false until an instance was used (``message`` then says so);
    ``segment_columns`` are the audience columns ``by_segment`` is cut by.
    """

    kind: Literal["report"] = "report"
    campaign: str
    ledger_file: str
    tenant: TenantView | None
    generated_at: str
    any_usage: bool
    message: str
    totals: UsageFigures
    by_voucher: list[ReportVoucher]
    by_audience: list[ReportSegment]
    segment_columns: list[str]
    by_segment: list[ReportSegment]
    by_day: list[ReportDay]
    out_dir: str
    files: list[str]


# --- errors ---------------------------------------------------------------------------------


class ErrorReport(CommandResult):
    """Any command's error with ``--json`` or ``--log-format json``, printed on stderr.

    Like every log line it carries ``timestamp`` (ISO 8601, UTC), ``level`` and, when the
    error happened while a campaign (and its run) was known, ``campaign`` and ``run_id``.
    """

    kind: Literal["error"] = "error"
    timestamp: str | None = None
    level: Literal["error"] = "error"
    campaign: str | None = None
    run_id: str | None = None
    error: str
    exit_code: int
    message: str
    problems: list[ProblemView] = Field(default_factory=list)
    hint: str | None = None
    traceback: str | None = None


#: ``runner schema --output NAME``: the result models by name.
OUTPUTS: dict[str, type[CommandResult]] = {
    "plan": PlanPreview,
    "run": RunSummary,
    "status": StatusReport,
    "adopt": AdoptSummary,
    "finish": LifecycleSummary,
    "extend": LifecycleSummary,
    "review": ReviewListing,
    "review-recorded": ReviewRecorded,
    "drop": DropStatus,
    "report": ReportSummary,
    "error": ErrorReport,
}


def to_json(result: BaseModel, *, indent: int | None = None) -> str:
    """The one JSON form of a result: field names as documented, non-ASCII kept."""
    data = result.model_dump(mode="json", by_alias=True)
    return json.dumps(data, ensure_ascii=False, indent=indent)


def output_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one command's ``--json`` output (see :data:`OUTPUTS`)."""
    model = OUTPUTS[name]
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    schema["$id"] = f"urn:campaign-runner:output:{name}:v{SCHEMA_VERSION}"
    return schema
