"""Planning refuses audience files outside the campaign's folder and reads what Excel shows."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import xlsxwriter

from runner.errors import InvalidInput, Problem
from runner.plan import load_plan

from .helpers import AUDIENCE, ROWS, TODAY, campaign_text, line_of, write_campaign, write_csv


def _audience_at(file: str) -> str:
    """The helpers' east audience, reading ``file``."""
    return AUDIENCE.format(key="cm_code").replace("customers.csv", file)


def _refused(path: Path) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        load_plan(path, today=TODAY)
    return caught.value.problems()


def _campaign_reading(folder: Path, file: str, *, top: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = campaign_text(audiences=_audience_at(file), top=top)
    return write_campaign(folder, text)


@pytest.mark.parametrize("file", ["../outside.csv", "../../outside.csv", "sub/../../outside.csv"])
def test_a_relative_path_leaving_the_folder_is_refused(tmp_path: Path, file: str) -> None:
    """`..` that climbs out of the campaign's folder is refused at the key and its line,
    even when the file exists."""
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    write_csv(tmp_path / "a" / "outside.csv")
    write_csv(tmp_path / "outside.csv")
    path = _campaign_reading(folder, file)
    (problem,) = _refused(path)
    assert "is outside the campaign's folder" in problem.message
    assert "must be inside the campaign file's folder" in problem.message
    assert (problem.where.yaml_path, problem.where.line) == (
        "audiences.east.file",
        line_of(path, "file:"),
    )
    assert problem.hint is not None
    assert "audience_root" in problem.hint


def test_an_absolute_path_outside_is_refused_and_inside_is_read(tmp_path: Path) -> None:
    """An absolute path elsewhere is refused; one that lands inside the folder is fine."""
    outside = write_csv(tmp_path / "outside.csv")
    path = _campaign_reading(tmp_path / "c", str(outside))
    assert "is outside the campaign's folder" in _refused(path)[0].message
    inside = _campaign_reading(tmp_path / "c", str(tmp_path / "c" / "customers.csv"))
    _campaign, plan = load_plan(inside, today=TODAY)
    assert plan.jobs.height == 6


def test_a_symlink_pointing_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    """A symlink inside the folder whose target is outside is refused, naming the target."""
    target = write_csv(tmp_path / "outside.csv")
    folder = tmp_path / "c"
    path = _campaign_reading(folder, "linked.csv")
    (folder / "linked.csv").symlink_to(target)
    (problem,) = _refused(path)
    assert f"(it resolves to {target})" in problem.message


def test_a_symlink_inside_the_folder_is_read(tmp_path: Path) -> None:
    """A symlink to a file inside the folder is followed."""
    folder = tmp_path / "c"
    path = _campaign_reading(folder, "linked.csv")
    (folder / "linked.csv").symlink_to(folder / "customers.csv")
    assert load_plan(path, today=TODAY)[1].jobs.height == 6


def test_audience_root_widens_the_folder_on_purpose(tmp_path: Path) -> None:
    """With `audience_root: ..` a spreadsheet next to the campaign's folder is read."""
    write_csv(tmp_path / "shared.csv")
    path = _campaign_reading(tmp_path / "c", "../shared.csv", top="audience_root: ..\n")
    assert load_plan(path, today=TODAY)[1].jobs.height == 6
    beyond = _campaign_reading(tmp_path / "c", "../../x.csv", top="audience_root: ..\n")
    assert "must be inside audience_root" in _refused(beyond)[0].message


def test_a_missing_file_is_located_at_its_key_and_line(tmp_path: Path) -> None:
    """A missing audience file names the campaign key and line as well as the file."""
    path = _campaign_reading(tmp_path, "customer.csv")
    (problem,) = _refused(path)
    assert "No such file or directory" in problem.message
    assert Path(problem.where.file or "").name == "customer.csv"
    assert (problem.where.yaml_path, problem.where.line) == (
        "audiences.east.file",
        line_of(path, "file:"),
    )


def test_a_fifo_audience_is_refused_at_plan_time_without_blocking(tmp_path: Path) -> None:
    """load_plan refuses a named pipe as the audience file at once."""
    path = _campaign_reading(tmp_path, "pipe.csv")
    os.mkfifo(tmp_path / "pipe.csv")
    found: list[list[Problem]] = []
    thread = threading.Thread(target=lambda: found.append(_refused(path)), daemon=True)
    thread.start()
    thread.join(timeout=10)
    if thread.is_alive():
        with (tmp_path / "pipe.csv").open("w"):
            pass
    assert found, "load_plan blocked on the FIFO"
    (problem,) = found[0]
    assert "named pipe (FIFO)" in problem.message
    assert problem.where.yaml_path == "audiences.east.file"


def _workbook_with_hidden_first_sheet(path: Path) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    header = ["客户ID", "客户编码", "客户名称", "客户等级", "数量"]
    hidden = workbook.add_worksheet("旧名单")
    hidden.write_row(0, 0, header)
    hidden.write_row(1, 0, ["1", "HIDDEN", "藏", "A", "5"])
    hidden.hide()
    sheet = workbook.add_worksheet("客户")
    sheet.write_row(0, 0, header)
    for row, values in enumerate(ROWS, start=1):
        sheet.write_row(row, 0, list(values))
    sheet.activate()
    workbook.close()
    return path


def test_a_hidden_first_sheet_is_skipped_and_the_plan_says_which_sheet_it_read(
    tmp_path: Path,
) -> None:
    """The plan grants from the first visible sheet and its notes name it and the hidden one."""
    _workbook_with_hidden_first_sheet(tmp_path / "customers.xlsx")
    path = _campaign_reading(tmp_path, "customers.xlsx")
    _campaign, plan = load_plan(path, today=TODAY)
    assert "HIDDEN" not in plan.jobs.get_column("customer_key").to_list()
    assert plan.jobs.height == 6
    notes = [w for w in plan.warnings if "first visible sheet" in w]
    assert notes == [
        "audience 'east': read sheet '客户' of customers.xlsx, the first visible sheet "
        "(hidden sheet(s) '旧名单' skipped); set `sheet` to read another"
    ]


def test_formulas_cached_is_passed_to_the_reader(tmp_path: Path) -> None:
    """A quantity formula is refused by default and read with `formulas: cached`."""
    workbook = xlsxwriter.Workbook(str(tmp_path / "customers.xlsx"))
    sheet = workbook.add_worksheet("客户")
    sheet.write_row(0, 0, ["客户ID", "客户编码", "客户名称", "客户等级", "数量"])
    sheet.write_row(1, 0, ["1", "C1", "名", "A"])
    sheet.write_formula(1, 4, "=1+1", None, 2)
    workbook.close()
    path = _campaign_reading(tmp_path, "customers.xlsx")
    (problem,) = _refused(path)
    assert problem.message.startswith("cell E2 is a formula")
    cached = _audience_at("customers.xlsx") + "    formulas: cached\n"
    write_campaign(tmp_path, campaign_text(audiences=cached))
    assert load_plan(path, today=TODAY)[1].jobs.height == 2
