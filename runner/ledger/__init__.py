"""The SQLite ledger: what was planned, sent and settled, so every effect happens once.

One file per campaign, ``<state_dir>/<campaign>/ledger.sqlite`` (WAL, ``synchronous=FULL``),
guarded by a :class:`CampaignLock`. Tables: ``runs``, ``vouchers``, ``jobs``, ``changes``
(end-date moves and finishes of created vouchers: their history), ``events``
(append-only: one row per transition) and ``meta`` (campaign id, last plan hash).
:meth:`Ledger.lifecycles` derives each voucher's current end date and finish from its
changes (:class:`VoucherLifecycle`).

Typical use by the executor::

    with Ledger.open(state_dir, campaign, command="run") as ledger:   # lock + crash recovery
        report = ledger.sync_plan(plan_hash, voucher_rows, job_rows)
        if not report.ok: ...                     # refuse: "use a new voucher key"
        run_id = ledger.start_run("run", plan_hash)
        for job in ledger.jobs(state="planned"):
            ledger.mark_sending(job.job_id, msg_id)   # committed BEFORE the request leaves
            ...                                       # send
            ledger.mark_done(job.job_id)              # or mark_failed / _unknown / _not_sent
        ledger.finish_run(run_id, exit_code, summary)

The grant phase batches its job marks instead (:class:`LedgerWriter`, group commit in a
thread of its own): ``await writer.sending(job_id, msg_id)`` returns once the commit
holding the mark is done; outcomes are queued and committed in batches.

See :mod:`runner.ledger._states` for the state machine.
"""

from __future__ import annotations

from runner.ledger._job_frame import JobFrame
from runner.ledger._lock import CampaignLock
from runner.ledger._planned import PlannedGrant
from runner.ledger._records import (
    ChangeRecord,
    ChangeRow,
    EventRecord,
    JobRecord,
    JobRow,
    Recovered,
    RunRecord,
    SyncReport,
    VoucherConflict,
    VoucherLifecycle,
    VoucherRecord,
    VoucherRow,
)
from runner.ledger._schema import SCHEMA_VERSION
from runner.ledger._states import (
    ChangeAction,
    ChangeOrigin,
    ChangeState,
    EntityKind,
    JobState,
    KeyKind,
    VoucherState,
)
from runner.ledger._store import LEDGER_FILE, Ledger, campaign_dir
from runner.ledger._tenant import Tenant, normalise_base_url
from runner.ledger._writer import LedgerWriter

__all__ = [
    "LEDGER_FILE",
    "SCHEMA_VERSION",
    "CampaignLock",
    "ChangeAction",
    "ChangeOrigin",
    "ChangeRecord",
    "ChangeRow",
    "ChangeState",
    "EntityKind",
    "EventRecord",
    "JobFrame",
    "JobRecord",
    "JobRow",
    "JobState",
    "KeyKind",
    "Ledger",
    "LedgerWriter",
    "PlannedGrant",
    "Recovered",
    "RunRecord",
    "SyncReport",
    "Tenant",
    "VoucherConflict",
    "VoucherLifecycle",
    "VoucherRecord",
    "VoucherRow",
    "VoucherState",
    "campaign_dir",
    "normalise_base_url",
]
