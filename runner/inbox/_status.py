"""A drop's ``status.json`` (for machines) and ``STATUS.md`` (for people, 中文 and English).

Both are written into the drop folder, atomically, before the folder moves to its next
stage; ``status.json`` follows ``runner schema --output drop``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pydantic

from runner.outputs.files import write_atomically
from runner.summaries import DropStage, DropStatus, to_json

__all__ = ["STATUS_JSON", "STATUS_MD", "read_status", "render_markdown", "write_status"]

STATUS_JSON: Final = "status.json"
STATUS_MD: Final = "STATUS.md"

_STAGE_ZH: Final[dict[DropStage, str]] = {
    "incoming": "已收到",
    "awaiting-approval": "等待审批",
    "rejected": "已拒绝(文件有误)",
    "running": "正在执行",
    "done": "已完成",
    "failed": "部分失败",
    "needs-review": "需要人工核对",
}


def read_status(folder: Path) -> DropStatus | None:
    """The drop's recorded status; None when there is none or it cannot be read."""
    try:
        return DropStatus.model_validate_json((folder / STATUS_JSON).read_bytes())
    except (OSError, pydantic.ValidationError):
        return None


def render_markdown(status: DropStatus) -> str:
    """STATUS.md: the stage, what to do next, the problems and counts, in 中文 and English."""
    lines = [
        f"# {status.drop}: {_STAGE_ZH[status.stage]} / {status.stage}",
        "",
        f"- 说明: {status.message_zh}",
        f"- What next: {status.message}",
    ]
    if status.campaign:
        lines.append(f"- 活动 campaign: `{status.campaign}` ({status.campaign_file})")
    if status.plan_hash:
        lines.append(f"- 计划哈希 plan hash: `{status.plan_hash}`")
    if status.approved_by:
        lines.append(f"- 审批 approved by: {status.approved_by} at {status.approved_at}")
    if status.jobs:
        counts = ", ".join(f"{state} {n}" for state, n in sorted(status.jobs.items()))
        lines.append(f"- 发放 grants: {counts}")
    if status.problems:
        lines += ["", "## 问题 Problems", ""]
        for problem in status.problems:
            where = ", ".join(f"{k} {v}" for k, v in problem.where.items())
            hint = f" → {problem.hint}" if problem.hint else ""
            lines.append(f"- {where + ': ' if where else ''}{problem.message}{hint}")
    if status.files:
        lines += ["", "## 文件 Files", "", *(f"- {name}" for name in status.files)]
    lines += ["", "## 经过 History", ""]
    lines += [f"- {m.at} {m.stage}{': ' + m.note if m.note else ''}" for m in status.history]
    return "\n".join(lines) + "\n"


def write_status(folder: Path, status: DropStatus) -> None:
    """Write status.json and STATUS.md into *folder* (each replaced whole)."""
    write_atomically(folder / STATUS_JSON, (to_json(status, indent=2) + "\n").encode("utf-8"))
    write_atomically(folder / STATUS_MD, render_markdown(status).encode("utf-8"))
