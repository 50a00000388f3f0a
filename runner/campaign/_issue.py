"""A problem found in the campaign file before its file name and line are attached.

The YAML reader, the ``${VAR}`` interpolation, the model and the cross-reference checks
all report :class:`Issue` values keyed by a YAML key path (``vouchers.ten-off.money``,
``grants[0].quantity``); :mod:`runner.campaign._load` turns them into
:class:`runner.errors.Problem` with the file and the 1-based line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Issue", "join_path", "line_of"]


@dataclass(frozen=True)
class Issue:
    """One problem at a YAML key path; ``line`` overrides the line-map lookup when set."""

    yaml_path: str
    message: str
    hint: str | None = None
    line: int | None = None


def join_path(parent: str, child: str | int) -> str:
    """``a.b`` + ``c`` → ``a.b.c``; ``grants`` + ``0`` → ``grants[0]``; the root is ``""``."""
    if isinstance(child, int):
        return f"{parent}[{child}]"
    return f"{parent}.{child}" if parent else child


def line_of(lines: Mapping[str, int], yaml_path: str) -> int | None:
    """The line of ``yaml_path``, or of its nearest enclosing key path that has one."""
    path = yaml_path
    while path not in lines and path:
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return lines.get(path)
