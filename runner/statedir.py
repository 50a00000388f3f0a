"""Where a campaign's state lives: never the current directory, unless asked.

The ledger is what stands between a rerun and a duplicate, so every command must find
the same one whatever folder it runs from (cron runs in ``$HOME``). The rule, first
match wins:

1. ``--state-dir DIR`` on the command line (relative to the current directory, as any
   command-line path);
2. ``state_dir:`` in the campaign file (relative to the campaign file);
3. ``state/`` next to the campaign file.

The campaign's own folder is ``<state dir>/<campaign id>/``. Paths are made absolute so
that what a command prints is where it really wrote.
"""

from __future__ import annotations

from pathlib import Path

from runner.campaign import Campaign

__all__ = ["DEFAULT_STATE_DIR", "resolve_state_dir"]

DEFAULT_STATE_DIR = "state"


def resolve_state_dir(campaign: Campaign, option: Path | None) -> Path:
    """The absolute state directory for *campaign* (see the module docstring)."""
    if option is not None:
        return option.expanduser().resolve()
    configured = Path(campaign.state_dir).expanduser() if campaign.state_dir else None
    if configured is not None and configured.is_absolute():
        return configured.resolve()
    return (campaign.base_dir / (configured or DEFAULT_STATE_DIR)).resolve()
