"""`runner demo` at a small size: the story ends with the remote equal to the plan."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from runner.demo import DemoSettings, run_demo


def test_small_demo_ends_with_remote_equal_to_plan(tmp_path: Path) -> None:
    """Two runs against a faulty sandbox leave exactly the planned grants (exit 0)."""
    settings = DemoSettings(directory=tmp_path / "demo", customers=300, audience=40, seed=3)
    assert run_demo(settings, bars=False) == 0
    results = pl.read_csv(
        tmp_path / "demo" / "state" / "demo-spring" / "results.csv", infer_schema=False
    )
    assert results.height > 0
    assert set(results["state"].to_list()) == {"done"}
