"""Plans beyond what a workbook shows: plan.xlsx says so, plan.parquet and plan.csv hold all.

Also the fast paths of planning at scale against their plain definitions: job ids and the
plan hash computed for a whole column at once equal the one-at-a-time functions.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import fastexcel
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.generate import generate
from runner.ops.plan import preview_campaign, summarize
from runner.outputs.preview import write_preview
from runner.plan import job_id, load_plan, plan_hash
from runner.plan._ids import job_ids
from tests.plan.helpers import ID_A, TODAY, campaign_text, write_campaign


def _jobs_sheet(path: Path) -> pl.DataFrame:
    return pl.read_excel(path, sheet_name="jobs")


def _note(path: Path) -> str:
    return "\n".join(pl.read_excel(path, sheet_name="note")["note"].drop_nulls().to_list())


def test_a_plan_beyond_the_workbook_shows_the_first_jobs_and_says_where_all_are(
    tmp_path: Path,
) -> None:
    """plan.xlsx opens on a note (how many jobs, which are shown, where all are); its jobs
    sheet has the first jobs; plan.parquet and plan.csv hold every job, ids as text."""
    campaign, plan = load_plan(write_campaign(tmp_path, campaign_text(key="cm_id")), today=TODAY)
    assert plan.jobs.height == 6
    preview = summarize(campaign, plan, rate=10)
    directory = write_preview(tmp_path / "state", plan, preview, xlsx_rows=4)
    workbook = directory / "plan.xlsx"
    assert fastexcel.read_excel(workbook).sheet_names == ["note", "jobs", "vouchers"]
    shown = _jobs_sheet(workbook)
    assert shown["job_id"].to_list() == plan.jobs["job_id"].to_list()[:4]
    assert shown["customer_key"].dtype == pl.String
    note = _note(workbook)
    assert "This plan has 6 jobs" in note
    assert "shows the first 4" in note
    assert f"plan.csv and plan.parquet, in the folder {directory}" in note
    assert "ten-off: 6 jobs to 3 customers" in note
    assert pl.read_parquet(directory / "plan.parquet").equals(plan.jobs)
    raw = (directory / "plan.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    every = pl.read_csv(directory / "plan.csv", infer_schema=False)
    assert every["job_id"].to_list() == plan.jobs["job_id"].to_list()
    assert ID_A in every["customer_key"].to_list()
    text = (directory / "preview.md").read_text(encoding="utf-8")
    assert "- plan.xlsx: shows the first 4 of 6 jobs" in text


def test_a_plan_within_the_workbook_has_every_job_and_no_note(tmp_path: Path) -> None:
    """Up to the limit plan.xlsx holds every job (no note sheet), and says nothing of one."""
    campaign, plan = load_plan(write_campaign(tmp_path, campaign_text()), today=TODAY)
    directory = write_preview(tmp_path / "state", plan, summarize(campaign, plan, rate=10))
    workbook = directory / "plan.xlsx"
    assert fastexcel.read_excel(workbook).sheet_names == ["jobs", "vouchers"]
    assert _jobs_sheet(workbook)["job_id"].to_list() == plan.jobs["job_id"].to_list()
    assert pl.read_csv(directory / "plan.csv", infer_schema=False).height == 6
    assert "plan.xlsx:" not in (directory / "preview.md").read_text(encoding="utf-8")


def test_runner_plan_of_more_jobs_than_the_workbook_shows(tmp_path: Path) -> None:
    """The generated benchmark campaign (100,001 customers with 19-digit ids and Chinese
    names, 13% of them getting 2) plans with the default limit: no traceback, plan.xlsx
    shows 100,000 jobs after its note, plan.parquet holds all 113,000-odd."""
    path = generate(tmp_path / "in", 100_001, double=0.13)
    result = preview_campaign(path, tmp_path / "state")
    total = result.preview.grants.total
    assert total > 110_000
    workbook = result.directory / "plan.xlsx"
    assert fastexcel.read_excel(workbook).sheet_names == ["note", "jobs", "vouchers"]
    assert _jobs_sheet(workbook).height == 100_000
    assert f"This plan has {total:,} jobs" in _note(workbook)
    jobs = pl.read_parquet(result.directory / "plan.parquet")
    assert jobs.height == total
    assert jobs["customer_key"].str.starts_with("CUS").all()
    customers = pl.read_csv(tmp_path / "in" / "customers.csv", infer_schema=False)
    assert customers["客户ID"].str.len_chars().unique().to_list() == [19]


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["v", "ten-off", "券"]),
            st.sampled_from(["cm_id", "cm_code"]),
            st.text(min_size=1, max_size=12),
            st.integers(min_value=1, max_value=99_999),
        ),
        max_size=30,
    )
)
def test_job_ids_of_a_column_are_job_id_of_each_row(
    rows: list[tuple[str, str, str, int]],
) -> None:
    """The column-wise job ids equal the documented per-job function, row by row."""
    ids = job_ids(
        "camp",
        pl.Series([row[0] for row in rows], dtype=pl.String),
        pl.Series([row[1] for row in rows], dtype=pl.String),
        pl.Series([row[2] for row in rows], dtype=pl.String),
        pl.Series([row[3] for row in rows], dtype=pl.Int64),
    )
    assert ids.to_list() == [job_id("camp", *row) for row in rows]


@settings(max_examples=30, deadline=None)
@given(ids=st.lists(st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)))
def test_plan_hash_is_the_sorted_ids_after_the_fingerprints(ids: list[str]) -> None:
    """plan_hash (one update of the ids sorted and joined by polars) equals the definition:
    sha256 of the fingerprints' canonical JSON, then "\\n" + id for each id in sorted order."""
    prints = {"ten-off": "f" * 64}
    reference = hashlib.sha256(b'[["ten-off","' + b"f" * 64 + b'"]]')
    for one in sorted(ids):
        reference.update(b"\n" + one.encode("ascii"))
    assert plan_hash(prints, ids) == reference.hexdigest()
    assert plan_hash(prints, pl.Series(ids, dtype=pl.String)) == reference.hexdigest()
