"""Result files straight from the ledger's job table, and not rewritten when nothing changed."""

from __future__ import annotations

from pathlib import Path

from runner.ledger import JobRow, Ledger, VoucherRow
from runner.outputs.results import (
    JOB_TABLE_COLUMNS,
    STAMP_FILE,
    results_frame,
    write_ledger_outputs,
)
from runner.sheets import AudienceTable, read_audience

BIG_ID = "6856083179295188426"


def _audience(tmp_path: Path) -> AudienceTable:
    csv = tmp_path / "stores.csv"
    csv.write_text("客户编码,客户名称\nCUS1,甲店\nCUS2,乙店\nCUS3,丙店\n", encoding="utf-8-sig")
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
    ledger.sync_plan("h2", [VoucherRow("v", "f", {"name": "券"})], jobs[:2])
    return ledger


def test_results_from_the_job_table_equal_results_from_records(tmp_path: Path) -> None:
    """The frame built from the ledger's job table equals the one built from JobRecords."""
    with _ledger(tmp_path) as ledger:
        vouchers = ledger.vouchers(active=None)
        table = ledger.job_table(active=None, columns=JOB_TABLE_COLUMNS)
        from_table = results_frame(table, vouchers)
        from_records = results_frame(ledger.jobs(active=None), vouchers)
    assert from_table.equals(from_records)
    assert from_table.get_column("planned").to_list() == ["yes", "yes", "no longer"]
    assert from_table.get_column("voucher_id").to_list() == [BIG_ID] * 3
    assert from_table.get_column("last_error").to_list()[0] is None  # done: no error shown


def test_unchanged_ledger_rewrites_no_result_file(tmp_path: Path) -> None:
    """A second write from an unchanged ledger reads and writes nothing; a change rewrites."""
    out = tmp_path / "out"
    audiences = {"stores": _audience(tmp_path)}
    with _ledger(tmp_path) as ledger:
        files, written = write_ledger_outputs(out, ledger, audiences)
        assert written == 3
        before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
        run_id = ledger.start_run("run", "h2")
        ledger.finish_run(run_id, 0, {})  # a rerun's own start and end change no result
        again, written = write_ledger_outputs(out, ledger, audiences)
        assert written is None
        assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
        assert again == files
        ledger.retry_failed("j2")
        _, written = write_ledger_outputs(out, ledger, audiences)
    assert written == 3
    assert "j2,v," in files.unprocessed_csv.read_text(encoding="utf-8-sig")
    assert (out / STAMP_FILE).is_file()


def test_a_missing_result_file_is_written_again(tmp_path: Path) -> None:
    """A result file deleted since the last write is written again, though nothing changed."""
    out = tmp_path / "out"
    with _ledger(tmp_path) as ledger:
        files, _ = write_ledger_outputs(out, ledger, {})
        files.results_xlsx.unlink()
        _, written = write_ledger_outputs(out, ledger, {})
    assert written == 3
    assert files.results_xlsx.is_file()


def test_other_audiences_rewrite_the_result_files(tmp_path: Path) -> None:
    """failures.csv shows the audience's rows: another audience means new files."""
    out = tmp_path / "out"
    with _ledger(tmp_path) as ledger:
        write_ledger_outputs(out, ledger, {})
        _, written = write_ledger_outputs(out, ledger, {"stores": _audience(tmp_path)})
    assert written == 3
    assert "乙店" in (out / "failures.csv").read_text(encoding="utf-8-sig")
