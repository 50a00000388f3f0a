"""Result files written from the ledger: ids as text, failures as a reusable audience."""

from __future__ import annotations

from pathlib import Path

import fastexcel
import polars as pl
import pytest

from runner.errors import ExitCode, StateDirUnusable
from runner.ledger import JobRow, Ledger, VoucherRow
from runner.outputs.results import write_outputs
from runner.sheets import AudienceTable, read_audience

BIG_ID = "6856083179295188426"


def _audience(tmp_path: Path) -> AudienceTable:
    csv = tmp_path / "stores.csv"
    csv.write_text(
        "客户编码,客户名称,备注\nCUS1,甲店,x\nCUS2,乙店,y\nCUS3,丙店,z\n", encoding="utf-8-sig"
    )
    columns = {"cm_code": "客户编码", "cm_name": "客户名称"}
    return read_audience("stores", csv, key="cm_code", columns=columns)


def _ledger(tmp_path: Path) -> Ledger:
    ledger = Ledger.open(tmp_path / "state", "c1")
    jobs = [JobRow(f"j{i}", "v", "stores", f"CUS{i}", "cm_code", 1, f"店{i}") for i in (1, 2, 3)]
    ledger.sync_plan("h", [VoucherRow("v", "f", {"name": "券"})], jobs)
    ledger.mark_voucher_sending("v", "m0")
    ledger.mark_voucher_created("v", remote_id=BIG_ID)
    ledger.mark_sending("j1", "m1")
    ledger.mark_done("j1")
    ledger.mark_sending("j2", "m2")
    ledger.mark_failed("j2", return_code="1", return_msg="客户不存在")
    return ledger


def test_results_keep_ids_as_text_and_every_job(tmp_path: Path) -> None:
    """results.csv has a BOM, one row per job, and the 19-digit voucher id intact."""
    with _ledger(tmp_path) as ledger:
        files = write_outputs(tmp_path / "out", ledger.jobs(active=None), ledger.vouchers(), {})
    raw = files.results_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pl.read_csv(files.results_csv, infer_schema=False)
    assert table.height == 3
    assert set(table["voucher_id"].to_list()) == {BIG_ID}
    assert dict(zip(table["job_id"], table["state"], strict=True)) == {
        "j1": "done",
        "j2": "failed",
        "j3": "planned",
    }
    xlsx = pl.read_excel(files.results_xlsx)
    assert xlsx["voucher_id"].dtype == pl.String
    assert set(xlsx["voucher_id"].to_list()) == {BIG_ID}


def test_failures_are_the_audience_rows_plus_the_error(tmp_path: Path) -> None:
    """failures.csv holds the audience's own columns for failed customers, and the error."""
    audience = _audience(tmp_path)
    with _ledger(tmp_path) as ledger:
        files = write_outputs(
            tmp_path / "out", ledger.jobs(active=None), ledger.vouchers(), {"stores": audience}
        )
    failures = pl.read_csv(files.failures_csv, infer_schema=False)
    assert failures["客户编码"].to_list() == ["CUS2"]
    assert failures["备注"].to_list() == ["y"]
    assert "客户不存在" in failures["error"][0]


def test_unprocessed_lists_jobs_not_settled(tmp_path: Path) -> None:
    """unprocessed.csv holds the planned job and nothing settled."""
    with _ledger(tmp_path) as ledger:
        files = write_outputs(tmp_path / "out", ledger.jobs(active=None), ledger.vouchers(), {})
    unprocessed = pl.read_csv(files.unprocessed_csv, infer_schema=False)
    assert unprocessed["job_id"].to_list() == ["j3"]


def test_a_result_file_that_cannot_be_written_is_located_and_leaves_no_temp(
    tmp_path: Path,
) -> None:
    """results.xlsx blocked by a folder raises StateDirUnusable at that path; no *.tmp stays."""
    out = tmp_path / "out"
    (out / "results.xlsx").mkdir(parents=True)
    with _ledger(tmp_path) as ledger, pytest.raises(StateDirUnusable) as caught:
        write_outputs(out, ledger.jobs(active=None), ledger.vouchers(), {})
    assert caught.value.exit_code == ExitCode.ENVIRONMENT
    assert caught.value.where.file == str(out / "results.xlsx")
    assert "cannot write the result file" in caught.value.message
    assert sorted(p.name for p in out.iterdir()) == ["results.csv", "results.xlsx"]
    assert (out / "results.xlsx").is_dir()


def test_a_state_dir_that_cannot_be_made_is_located(tmp_path: Path) -> None:
    """A file where the campaign folder should be raises StateDirUnusable naming the path."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    with _ledger(tmp_path) as ledger, pytest.raises(StateDirUnusable) as caught:
        write_outputs(blocker / "c1", ledger.jobs(active=None), ledger.vouchers(), {})
    assert caught.value.where.file == str(blocker / "c1")
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_rewriting_replaces_each_file_whole_and_leaves_no_temp(tmp_path: Path) -> None:
    """A second write replaces the result files (new content) and leaves no temporary file."""
    out = tmp_path / "out"
    with _ledger(tmp_path) as ledger:
        write_outputs(out, ledger.jobs(active=None), ledger.vouchers(), {})
        ledger.mark_sending("j3", "m3")
        ledger.mark_done("j3")
        files = write_outputs(out, ledger.jobs(active=None), ledger.vouchers(), {})
    unprocessed = pl.read_csv(files.unprocessed_csv, infer_schema=False)
    assert unprocessed.height == 0
    assert not [p.name for p in out.iterdir() if "tmp" in p.name]


def test_results_beyond_the_workbook_show_a_note_and_what_is_not_done(tmp_path: Path) -> None:
    """Past xlsx_rows, results.xlsx opens on a note (how many, by state, where all are),
    shows the first results and lists the grants not done; results.csv holds every one."""
    out = tmp_path / "out"
    with _ledger(tmp_path) as ledger:
        files = write_outputs(out, ledger.jobs(active=None), ledger.vouchers(), {}, xlsx_rows=2)
    assert fastexcel.read_excel(files.results_xlsx).sheet_names == ["note", "results", "not done"]
    note = "\n".join(pl.read_excel(files.results_xlsx, sheet_name="note")["note"].drop_nulls())
    assert "This campaign has 3 grants" in note
    assert f"Every grant is in results.csv, in the folder {out}" in note
    assert "2 grants are not done: the sheet 'not done' lists all of them" in note
    assert "failed: 1" in note
    shown = pl.read_excel(files.results_xlsx, sheet_name="results")
    assert shown["job_id"].to_list() == ["j1", "j2"]
    assert shown["voucher_id"].to_list() == [BIG_ID, BIG_ID]
    open_ = pl.read_excel(files.results_xlsx, sheet_name="not done")
    assert open_["job_id"].to_list() == ["j2", "j3"]
    assert pl.read_csv(files.results_csv, infer_schema=False).height == 3


def test_results_within_the_workbook_are_one_sheet(tmp_path: Path) -> None:
    """Up to the limit results.xlsx is the one sheet of every result, as before."""
    with _ledger(tmp_path) as ledger:
        files = write_outputs(tmp_path / "out", ledger.jobs(active=None), ledger.vouchers(), {})
    assert fastexcel.read_excel(files.results_xlsx).sheet_names == ["results"]


def test_formula_looking_cells_are_neutralised_in_results_csv(tmp_path: Path) -> None:
    """A customer name that starts with = reaches results.csv with a leading apostrophe."""
    with Ledger.open(tmp_path / "state", "c1") as ledger:
        job = JobRow("j1", "v", "stores", "CUS1", "cm_code", 1, '=HYPERLINK("http://x","y")')
        ledger.sync_plan("h", [VoucherRow("v", "f", {"name": "券"})], [job])
        files = write_outputs(tmp_path / "out", ledger.jobs(active=None), ledger.vouchers(), {})
    table = pl.read_csv(files.results_csv, infer_schema=False)
    assert table["customer_name"].to_list() == ['\'=HYPERLINK("http://x","y")']
