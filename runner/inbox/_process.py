"""One pass over the inbox: check new drops, take approvals, run what is approved.

A pass looks at every stage folder once:

1. lone campaign YAMLs in the inbox are wrapped into a folder with the sheets they name;
2. each new drop whose files stopped changing is checked (``runner plan`` into the
   inbox's state directory): valid → ``awaiting-approval/`` with ``preview.md`` and
   ``plan.xlsx`` (or straight to ``running/`` with ``--approval auto``); invalid →
   ``rejected/`` with every problem; the same files as a drop already approved → rejected
   as a duplicate;
3. a drop awaiting approval that was edited is checked again and any ``APPROVED`` file
   is discarded; one with a valid ``APPROVED`` moves to ``running/``;
4. a failed or needs-review drop with a ``RETRY`` file moves back to ``running/``;
5. every drop in ``running/`` is run (``runner run --yes --plan-hash`` of its approved
   plan) in a worker thread, then moves to ``done/``, ``failed/`` or ``needs-review/``;
   an environment problem (API unreachable, lock held) leaves it in ``running/`` for the
   next pass.

One drop's problem never stops the others: each step is caught and recorded in that
drop's STATUS.md. Runs of campaigns for the same tenant share one rate budget.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx
import structlog

from runner.campaign import NotifyTarget, load_campaign
from runner.errors import ExitCode, RunnerError, SpecError
from runner.execute import ExecSettings, RateBudget
from runner.inbox._announce import announce
from runner.inbox._approval import Approval, read_approval
from runner.inbox._drop import Drop, move, update
from runner.inbox._layout import Inbox
from runner.inbox._scan import (
    RETRY_FILE,
    DropFiles,
    SettleWatch,
    campaign_files,
    content_hash,
    drop_files,
)
from runner.inbox._status import read_status
from runner.inbox._wrap import wrap_lone_campaigns
from runner.ops import RunOptions, credentials_for, tenant_of
from runner.ops.plan import preview_campaign
from runner.ops.run import run_campaign
from runner.outputs.files import write_atomically
from runner.outputs.preview import PREVIEW_FILE, XLSX_FILE
from runner.summaries import DropStage, PlanPreview, ProblemView

__all__ = ["PassReport", "Processor", "WatchOptions"]

log = structlog.get_logger(__name__)

#: Result files copied from the ledger's folder into a drop after its run.
RESULT_FILES: Final = ("results.csv", "results.xlsx", "failures.csv", "unprocessed.csv")
#: How urgent each outcome of a pass is for a scheduler (the pass exits with the worst).
_URGENCY: Final = {
    ExitCode.OK: 0,
    ExitCode.INVALID: 1,
    ExitCode.FAILED: 2,
    ExitCode.REVIEW: 3,
    ExitCode.ENVIRONMENT: 4,
    ExitCode.INTERRUPTED: 5,
}
_AFTER_RUN: Final[dict[ExitCode, DropStage]] = {
    ExitCode.OK: "done",
    ExitCode.FAILED: "failed",
    ExitCode.REVIEW: "needs-review",
    ExitCode.INVALID: "rejected",
}


@dataclass(frozen=True)
class WatchOptions:
    """How the watcher treats drops beyond the inbox itself."""

    approval: str = "manual"  # "auto": valid drops run at once
    settle_s: float = 5.0  # a drop's files must be unchanged this long before it is read
    parallel: int = 4  # drops run at the same time (different campaigns)
    env: Mapping[str, str] | None = None
    transport: httpx.AsyncBaseTransport | None = None
    settings: ExecSettings = field(default_factory=ExecSettings)
    notify: tuple[NotifyTarget, ...] = ()  # told about every drop, besides its own notify:
    notify_transport: httpx.BaseTransport | None = None


@dataclass
class PassReport:
    """What a pass (and the runs it started) did: each drop's new stage, and the exit code."""

    moves: list[tuple[str, DropStage]] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, drop: str, stage: DropStage, code: ExitCode) -> None:
        """Note a drop's new stage and the exit code it stands for."""
        with self._lock:
            self.moves.append((drop, stage))
            if _URGENCY[code] > _URGENCY[self.exit_code]:
                self.exit_code = code


def _confine(campaign_path: Path, folder: Path, env: Mapping[str, str] | None) -> None:
    """Refuse a dropped campaign whose ``audience_root`` reaches outside its drop.

    A drop is untrusted: it may read only the files dropped with it. ``audience_root``
    widens the campaign's folder on purpose for campaigns kept in a repository; in a drop
    it may only name a folder inside the drop. A campaign that does not load is left to
    the preview, which reports it with every other problem.
    """
    try:
        campaign = load_campaign(campaign_path, env=env, past_end_ok=True)
    except RunnerError:
        return
    root, inside = campaign.audience_folder, folder.resolve()
    if campaign.audience_root is None or root.is_relative_to(inside):
        return
    raise SpecError(
        f"audience_root {campaign.audience_root!r} reaches outside the drop folder: a dropped "
        "campaign may only read the spreadsheets dropped with it",
        where=campaign.location("audience_root"),
        hint="Remove audience_root and put the spreadsheets in the drop folder next to the "
        "campaign file.",
    )


def _problems(err: RunnerError) -> list[ProblemView]:
    return [ProblemView.model_validate(p.as_dict()) for p in err.problems()]


def _stage_code(stage: DropStage) -> ExitCode:
    codes: dict[DropStage, ExitCode] = {
        "rejected": ExitCode.INVALID,
        "failed": ExitCode.FAILED,
        "needs-review": ExitCode.REVIEW,
    }
    return codes.get(stage, ExitCode.OK)


class Processor:
    """Runs passes over one inbox; keeps the runs in flight and the content hashes seen."""

    def __init__(self, inbox: Inbox, options: WatchOptions) -> None:
        self.inbox = inbox
        self.options = options
        self.report = PassReport()
        self._pool = ThreadPoolExecutor(max(1, options.parallel), thread_name_prefix="drop")
        self._running: dict[str, Future[None]] = {}  # drop folder name → its run
        self._campaigns: set[str] = set()  # campaign ids with a run in flight
        self._lock = threading.Lock()
        self._hashes: dict[tuple[Path, tuple[object, ...]], str] = {}
        self.settle = SettleWatch(options.settle_s)
        self._budgets: dict[tuple[str, str], RateBudget] = {}  # one per tenant
        #: Set to stop: no new run starts, runs in flight stop like on SIGTERM (their
        #: drops stay in running/ and the next start resumes them).
        self.stop = threading.Event()

    # --- the pass ------------------------------------------------------------------------

    def run_pass(self) -> None:
        """Look at every stage folder once; start the runs that are due.

        ``self.settle.pending`` then says whether a drop was seen still settling (a
        later pass, ``settle_s`` on, takes it).
        """
        self.settle.pending = False
        self.inbox.ensure()
        for step in (self._wrap, self._incoming, self._awaiting, self._retries, self._runs):
            with self._guard(step.__name__):
                step()

    def wait(self) -> None:
        """Wait until every run started so far has ended."""
        while True:
            with self._lock:
                futures = list(self._running.values())
            if not futures:
                return
            for future in futures:
                future.result()

    def close(self) -> None:
        """Stop taking runs; wait for those in flight."""
        self.wait()
        self._pool.shutdown(wait=True)

    @contextlib.contextmanager
    def _guard(self, what: str, drop: Path | None = None) -> Iterator[None]:
        """A failure of one step or drop is logged and recorded; the pass goes on."""
        try:
            yield
        except RunnerError as err:
            log.error("drop step stopped", step=what, drop=drop and drop.name, error=err.message)
            self.report.record(drop.name if drop else what, "incoming", err.exit_code)
        except Exception as exc:  # a bug: the other drops still get their turn
            log.exception("drop step crashed", step=what, drop=drop and drop.name)
            self.report.record(drop.name if drop else what, "incoming", ExitCode.FAILED)
            del exc

    def _drops(self, stage: DropStage) -> list[Path]:
        folder = self.inbox.folder(stage)
        if not folder.is_dir():
            return []
        reserved = self.inbox.reserved if stage == "incoming" else frozenset()
        return sorted(
            p
            for p in folder.iterdir()
            if p.is_dir() and p.name not in reserved and not p.name.startswith(".")
        )

    def _settled(self, folder: Path) -> tuple[DropFiles, str] | None:
        """The drop's files and content hash, once they stopped changing; else None."""
        files = drop_files(folder)
        if not files.files or not self.settle.settled(folder, files.fingerprint):
            return None
        key = (folder, files.fingerprint)
        digest = self._hashes.get(key) or content_hash(files)
        if drop_files(folder) != files:  # changed while it was read
            return None
        self._hashes[key] = digest
        return files, digest

    def _move(
        self, drop: Drop, stage: DropStage, note: str | None = None, **changes: object
    ) -> Drop:
        """:func:`move`, keeping what was seen of the folder under its new name."""
        moved = move(self.inbox, drop, stage, note, **changes)
        self.settle.moved(drop.folder, moved.folder)
        return moved

    # --- 1. lone YAMLs -------------------------------------------------------------------

    def _wrap(self) -> None:
        wrap_lone_campaigns(self.inbox, self.settle)

    # --- 2. new drops --------------------------------------------------------------------

    def _incoming(self) -> None:
        for folder in self._drops("incoming"):
            with self._guard("check", folder):
                settled = self._settled(folder)
                if settled is not None:
                    self._check(Drop.load(folder, "incoming", self.options.approval), *settled)

    def _duplicate_of(self, digest: str, folder: Path) -> str | None:
        """Where a drop with the same content was approved or run, if anywhere."""
        for stage in ("awaiting-approval", "running", "done"):
            for other in self._drops(stage):
                status = read_status(other)
                if other != folder and status is not None and status.content_hash == digest:
                    return f"{stage}/{other.name}"
        return None

    def _check(self, drop: Drop, files: DropFiles, digest: str, note: str = "checked") -> None:
        """Validate a new (or edited) drop and move it on: awaiting, running or rejected."""
        duplicate = self._duplicate_of(digest, drop.folder)
        if duplicate is not None and drop.stage == "incoming":
            self._reject(
                drop,
                [],
                f"The same files are already in {duplicate}: not run twice. To change the "
                "campaign, drop the edited files.",
                f"相同的文件已在 {duplicate} 中,不会重复执行。如需修改,请放入修改后的文件。",
                content_hash=digest,
            )
            return
        yamls = campaign_files(files)
        if len(yamls) != 1:
            found = ", ".join(p.name for p in yamls) or "none"
            self._reject(
                drop,
                [
                    ProblemView(
                        message=f"a drop holds exactly one campaign YAML file (found: {found})",
                        hint="Put one campaign .yaml file and its spreadsheets in the folder.",
                    )
                ],
                "The drop needs exactly one campaign YAML file.",
                "文件夹中必须正好有一个活动 YAML 文件。",
                content_hash=digest,
            )
            return
        self._preview(drop, yamls[0].name, digest, note)

    def _preview(self, drop: Drop, campaign_file: str, digest: str, note: str) -> None:
        try:
            _confine(drop.folder / campaign_file, drop.folder, self.options.env)
            result = preview_campaign(
                drop.folder / campaign_file, self.inbox.state_dir, env=self.options.env
            )
        except RunnerError as err:
            if err.exit_code != ExitCode.INVALID:
                raise
            self._reject(
                drop,
                _problems(err),
                f"The campaign cannot run: {err.message}. Fix the problems listed below and "
                "drop the corrected files again.",
                "活动文件或表格有误,无法执行:请按下方列出的问题修改后重新放入。",
                content_hash=digest,
                campaign_file=campaign_file,
            )
            return
        for name in (PREVIEW_FILE, XLSX_FILE):
            write_atomically(drop.folder / name, (result.directory / name).read_bytes())
        self._checked(drop, result.preview, campaign_file, digest, note)

    def _checked(
        self, drop: Drop, preview: PlanPreview, campaign_file: str, digest: str, note: str
    ) -> None:
        facts = dict(
            campaign=preview.campaign,
            campaign_file=campaign_file,
            content_hash=digest,
            plan_hash=preview.plan_hash,
            problems=[],
            files=[PREVIEW_FILE, XLSX_FILE],
            approved_by=None,
            approved_at=None,
            retry_failed=False,
        )
        summary = (
            f"{preview.grants.total} grant(s) to {preview.customers} customer(s), face value "
            f"{preview.face_value}"
        )
        if self.options.approval == "auto":
            approved = Approval("auto (--approval auto)", preview.plan_hash)
            self._start(drop, approved, summary, facts)
            return
        moved = self._move(
            drop,
            "awaiting-approval",
            f"{note}: {summary}",
            message=f"Checked: {summary}. Read preview.md and plan.xlsx; to launch, create an "
            "empty file named APPROVED in this folder (or run `runner approve` on it).",
            message_zh=f"检查通过:{summary}。请查看 preview.md 和 plan.xlsx;确认无误后,在本"
            "文件夹中新建一个名为 APPROVED 的空文件即可开始执行。",
            **facts,
        )
        self._announce(moved, ExitCode.OK)

    def _reject(
        self,
        drop: Drop,
        problems: Sequence[ProblemView],
        message: str,
        message_zh: str,
        **facts: object,
    ) -> None:
        moved = self._move(
            drop,
            "rejected",
            message,
            problems=list(problems),
            message=message,
            message_zh=message_zh,
            **facts,
        )
        self._announce(moved, ExitCode.INVALID)

    # --- 3. approvals --------------------------------------------------------------------

    def _awaiting(self) -> None:
        for folder in self._drops("awaiting-approval"):
            with self._guard("approval", folder):
                self._approval(Drop.load(folder, "awaiting-approval", self.options.approval))

    def _approval(self, drop: Drop) -> None:
        settled = self._settled(drop.folder)
        if settled is None:
            return
        files, digest = settled
        if digest != drop.status.content_hash:  # edited after its preview
            discarded = read_approval(drop.folder) is not None
            (drop.folder / "APPROVED").unlink(missing_ok=True)
            note = "edited after its preview: checked again"
            if discarded:
                note += "; the approval was for the previous version and was discarded"
            log.info("drop edited after preview", drop=drop.name, approval_discarded=discarded)
            self._check(drop, files, digest, note)
            return
        approval = read_approval(drop.folder)
        if approval is None:
            return
        if approval.plan_hash not in (None, drop.status.plan_hash):
            (drop.folder / "APPROVED").unlink()
            update(
                drop,
                message="The APPROVED file names another plan than the one previewed here: "
                "it was discarded. Check preview.md and approve again.",
                message_zh="APPROVED 文件对应的计划与本次预览不一致,已作废。请重新查看并审批。",
            )
            return
        facts = dict(problems=[], retry_failed=False)
        self._start(drop, approval, "approved", facts)

    def _start(
        self, drop: Drop, approval: Approval, summary: str, facts: Mapping[str, object]
    ) -> None:
        changes = {
            **facts,
            "approved_by": approval.by,
            "approved_at": approval.at,
            "message": f"Approved by {approval.by} ({summary}); running. Results appear here "
            "when it ends.",
            "message_zh": f"已由 {approval.by} 审批,正在执行;完成后结果会放在这里。",
        }
        moved = self._move(drop, "running", f"approved by {approval.by}", **changes)
        (moved.folder / "APPROVED").unlink(missing_ok=True)

    # --- 4. retries ----------------------------------------------------------------------

    def _retries(self) -> None:
        for stage in ("failed", "needs-review"):
            for folder in self._drops(stage):
                if (folder / RETRY_FILE).exists():
                    with self._guard("retry", folder):
                        drop = Drop.load(folder, stage, self.options.approval)
                        moved = self._move(
                            drop,
                            "running",
                            "RETRY requested",
                            retry_failed=stage == "failed",
                            message="Running again (RETRY).",
                            message_zh="按 RETRY 要求重新执行。",
                        )
                        (moved.folder / RETRY_FILE).unlink(missing_ok=True)

    # --- 5. runs -------------------------------------------------------------------------

    def _runs(self) -> None:
        for folder in self._drops("running"):
            if self.stop.is_set():
                return
            drop = Drop.load(folder, "running", self.options.approval)
            campaign = drop.status.campaign or drop.name
            with self._lock:
                if folder.name in self._running or campaign in self._campaigns:
                    continue  # in flight, or its campaign is (one run per ledger at a time)
                self._campaigns.add(campaign)
                self._running[folder.name] = self._pool.submit(self._run_drop, drop)

    def _run_drop(self, drop: Drop) -> None:
        campaign = drop.status.campaign or drop.name
        try:
            with (
                structlog.contextvars.bound_contextvars(drop=drop.name),
                self._guard("run", drop.folder),
            ):
                self._run_and_move(drop)
        finally:
            with self._lock:
                self._running.pop(drop.folder.name, None)
                self._campaigns.discard(campaign)

    def _budget(self, campaign_path: Path) -> RateBudget:
        """The rate budget of the tenant the campaign reaches, shared by its runs."""
        campaign = load_campaign(campaign_path, env=self.options.env, past_end_ok=True)
        tenant = tenant_of(credentials_for(campaign, self.options.env))
        key = (tenant.base_url, tenant.openid_sha256)
        with self._lock:
            budget = self._budgets.get(key)
            if budget is None:
                budget = self._budgets[key] = RateBudget(float(campaign.api.rate))
        return budget

    def _run_and_move(self, drop: Drop) -> None:
        status = drop.status
        if status.campaign_file is None:
            raise ValueError(f"drop {drop.name} is running without a campaign file")
        try:
            budget = self._budget(drop.folder / status.campaign_file)
        except RunnerError as err:
            self._after_run(drop, err.exit_code, {}, _problems(err), err.message)
            return
        options = RunOptions(
            budget=budget,
            stop=self.stop,
            state_dir=self.inbox.state_dir,
            yes=True,
            plan_hash=status.plan_hash,
            env=self.options.env,
            transport=self.options.transport,
            settings=self.options.settings,
            bars=False,
            retry_failed=status.retry_failed,
        )
        try:
            result = run_campaign(drop.folder / status.campaign_file, options)
        except RunnerError as err:
            self._after_run(drop, err.exit_code, {}, _problems(err), err.message)
            return
        summary = result.summary
        self._after_run(drop, result.exit_code, summary.jobs, [], "; ".join(summary.last_errors))

    def _after_run(
        self,
        drop: Drop,
        code: ExitCode,
        jobs: Mapping[str, int],
        problems: list[ProblemView],
        error: str,
    ) -> None:
        copied = self._copy_results(drop)
        facts: dict[str, object] = dict(
            exit_code=int(code), jobs=dict(jobs), problems=problems, files=copied
        )
        stage = _AFTER_RUN.get(code)
        if stage is None:  # environment or interrupted: stays for the next pass
            update(
                drop,
                message=f"Stopped ({error or 'see the log'}); the watcher tries again on its "
                "next pass. Nothing is sent twice.",
                message_zh="执行中断(环境问题),下次检查时会自动继续,不会重复发放。",
                **facts,
            )
            self.report.record(drop.name, "running", code)
            return
        texts = _RESULT_TEXT[stage]
        moved = self._move(drop, stage, f"exit {int(code)}", **texts, **facts)
        self._announce(moved, code)

    def _copy_results(self, drop: Drop) -> list[str]:
        source = self.inbox.state_dir / (drop.status.campaign or "")
        copied: list[str] = []
        for name in RESULT_FILES:
            if (source / name).is_file():
                shutil.copyfile(source / name, drop.folder / name)
                copied.append(name)
        return copied

    def _announce(self, drop: Drop, code: ExitCode) -> None:
        self.report.record(
            drop.name, drop.stage, code if code != ExitCode.OK else _stage_code(drop.stage)
        )
        try:
            announce(drop, self.options)
        except Exception:  # a notification never stops a drop
            log.exception("could not announce the drop", drop=drop.name)


_RESULT_TEXT: Final[dict[DropStage, dict[str, str]]] = {
    "done": {
        "message": "Done: every grant is confirmed. Results: results.xlsx (and results.csv).",
        "message_zh": "已完成:所有发放均已确认。结果见 results.xlsx(及 results.csv)。",
    },
    "failed": {
        "message": "Some grants failed for good: see failures.csv. Fix the cause, then create "
        "a file named RETRY in this folder to try them again.",
        "message_zh": "部分发放失败:见 failures.csv。排除原因后,在本文件夹中新建名为 RETRY 的"
        "文件即可重试。",
    },
    "needs-review": {
        "message": "Some outcomes need a person: see `runner review` for this campaign (with "
        "--state-dir set to the inbox's state folder); then create a file named RETRY here.",
        "message_zh": "部分结果需要人工核对:请用 `runner review` 处理,然后在本文件夹中"
        "新建 RETRY 文件。",
    },
    "rejected": {
        "message": "The approved plan can no longer run as it was approved (see problems): "
        "drop the corrected files again.",
        "message_zh": "已审批的计划无法按原样执行(见问题列表),请修改后重新放入。",
    },
}
