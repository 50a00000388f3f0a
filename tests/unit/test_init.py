"""``runner init``: a campaign folder whose file plans as soon as one customer is filled in."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import pytest

from runner.campaign import load_campaign
from runner.cli import main
from runner.errors import UsageError
from runner.ops.init import FIRST_DAY_AFTER, LAST_DAY_AFTER, scaffold
from runner.outputs.templates import (
    HEADER_ROW,
    README_SHEET,
    TEMPLATE_COLUMNS,
    TEMPLATE_FILE,
    TEMPLATE_SHEET,
    write_templates,
)

BIG_ID = "6856083179295188426"  # 19 digits: Excel would show 6.85608E+18 if it were a number
TODAY = date(2027, 1, 15)
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_SHEET = "xl/worksheets/sheet1.xml"  # the first sheet (客户): asserted in the layout test


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(["--log-format", "console", *argv])
    assert isinstance(exc.value.code, int)
    return exc.value.code


def _init(tmp_path: Path, name: str = "demo") -> Path:
    """``runner init NAME --dir tmp_path``; the campaign file it made."""
    assert _exit_code(["init", name, "--dir", str(tmp_path)]) == 0
    return tmp_path / name / f"{name}.yaml"


def fill(workbook: Path, rows: Sequence[tuple[str, int]]) -> None:
    """Add (code, quantity) rows below the template's header the way Excel stores them: the
    code as a text cell (the column is formatted as Text), the quantity as a number."""
    with zipfile.ZipFile(workbook) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    first = HEADER_ROW + 1
    added = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{code}</t></is></c>'
        f'<c r="D{r}"><v>{qty}</v></c></row>'
        for r, (code, qty) in enumerate(rows, start=first)
    )
    xml = parts[_SHEET].decode("utf-8").replace("</sheetData>", added + "</sheetData>")
    last = first + len(rows) - 1
    parts[_SHEET] = re.sub(
        r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:D{last}"/>', xml
    ).encode()
    with zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)


def _plan_json(
    campaign: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, object]:
    capsys.readouterr()
    code = _exit_code(["plan", str(campaign), "--json", "--state-dir", str(tmp_path / "state")])
    out, err = capsys.readouterr()
    assert code == 0, err
    found: dict[str, object] = json.loads(out)
    return found


def test_scaffold_writes_the_campaign_file_and_the_template(tmp_path: Path) -> None:
    """scaffold makes NAME/NAME.yaml and the template, and dates the voucher today+7..+37."""
    result = scaffold("spring-2027", tmp_path, today=TODAY)
    assert result.folder == tmp_path / "spring-2027"
    assert result.campaign_file == result.folder / "spring-2027.yaml"
    assert result.templates == (result.folder / TEMPLATE_FILE,)
    assert all(path.is_file() for path in result.paths)
    assert (result.start_date, result.end_date) == (date(2027, 1, 22), date(2027, 2, 21))
    assert (FIRST_DAY_AFTER, LAST_DAY_AFTER) == (7, 37)
    campaign = load_campaign(result.campaign_file, env={}, today=TODAY)
    assert campaign.id == "spring-2027"
    voucher = campaign.vouchers["ten-off"]
    assert (voucher.start_date, voucher.end_date) == (result.start_date, result.end_date)
    audience = campaign.audiences["customers"]
    assert (audience.path, audience.sheet, audience.header_row) == (
        result.templates[0],
        TEMPLATE_SHEET,
        HEADER_ROW,
    )
    assert audience.columns == {c.name: c.header for c in TEMPLATE_COLUMNS}


def test_every_key_of_the_campaign_file_is_explained(tmp_path: Path) -> None:
    """Each line setting a value has a comment at its end or on the line above it."""
    text = scaffold("demo", tmp_path, today=TODAY).campaign_file.read_text(encoding="utf-8")
    lines = text.splitlines()
    unexplained = [
        line
        for above, line in zip(["#", *lines], lines, strict=False)
        if re.match(r"\s*(- )?[a-z_]+: \S", line)
        and "#" not in line
        and not above.lstrip().startswith("#")
    ]
    assert unexplained == []
    assert f"made by `runner init` on {TODAY}" in text
    assert re.search(r"^    header_row: 2 ", text, re.MULTILINE)


def test_untouched_scaffold_plan_says_the_audience_has_no_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """runner plan before any customer is filled in exits 2 naming the template and its rows."""
    campaign = _init(tmp_path)
    capsys.readouterr()
    code = _exit_code(["plan", str(campaign), "--state-dir", str(tmp_path / "state")])
    err = capsys.readouterr().err
    assert code == 2
    assert "audience 'customers' has no customer rows" in err
    assert f"{tmp_path / 'demo' / TEMPLATE_FILE}, sheet '{TEMPLATE_SHEET}', row 2" in err
    assert "from row 3" in err
    assert "Traceback" not in err


def test_filled_template_plans_as_generated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With two customers filled in, runner plan exits 0 with their quantities as jobs."""
    campaign = _init(tmp_path)
    fill(tmp_path / "demo" / TEMPLATE_FILE, [(BIG_ID, 2), ("007100", 1)])
    preview = _plan_json(campaign, tmp_path, capsys)
    assert preview["campaign"] == "demo"
    assert preview["grants"] == {
        "total": 3,
        "by_voucher": {"ten-off": 3},
        "by_audience": {"customers": 3},
    }
    jobs = preview["first_jobs"]
    assert isinstance(jobs, list)
    assert {job["customer_key"] for job in jobs} == {BIG_ID, "007100"}
    assert {job["source_row"] for job in jobs} == {3, 4}


def test_template_layout_notes_then_chinese_headers_then_readme(tmp_path: Path) -> None:
    """Row 1 has a note for every column, row 2 the Chinese headers; a README sheet follows."""
    (path,) = write_templates(tmp_path)
    reader = fastexcel.read_excel(str(path))
    assert reader.sheet_names == [TEMPLATE_SHEET, README_SHEET]
    rows = reader.load_sheet(TEMPLATE_SHEET, header_row=None, dtypes="string").to_polars().rows()
    assert len(rows) == HEADER_ROW
    notes, headers = rows
    assert list(headers) == [c.header for c in TEMPLATE_COLUMNS]
    assert all(note and "\n" in note for note in notes)
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode("utf-8")
        sheet = archive.read(_SHEET).decode("utf-8")
    assert workbook.index(f'name="{TEMPLATE_SHEET}"') < workbook.index(f'name="{README_SHEET}"')
    assert 'ySplit="2"' in sheet
    assert 'topLeftCell="A3"' in sheet
    assert "promptTitle=" in sheet  # the key column's input message


def _column_formats(path: Path) -> dict[str, str]:
    """Each column's number format code (by header), from the sheet's <col> styles."""
    with zipfile.ZipFile(path) as archive:
        styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
        sheet = ElementTree.fromstring(archive.read(_SHEET))
    codes = {"0": "General", "1": "0", "49": "@"}
    for fmt in styles.iter(f"{_MAIN}numFmt"):
        codes[fmt.get("numFmtId", "")] = fmt.get("formatCode", "")
    xfs = list(next(styles.iter(f"{_MAIN}cellXfs")))
    formats: dict[str, str] = {}
    for col in sheet.iter(f"{_MAIN}col"):
        xf = xfs[int(col.get("style", "0"))]
        code = codes[xf.get("numFmtId", "0")]
        for index in range(int(col.get("min", "1")), int(col.get("max", "1")) + 1):
            formats[TEMPLATE_COLUMNS[index - 1].header] = code
    return formats


def test_key_and_text_columns_are_formatted_as_text(tmp_path: Path) -> None:
    """The whole 客户编码 column (and the other text columns) is Text; 数量 is a number."""
    (path,) = write_templates(tmp_path)
    assert _column_formats(path) == {"客户编码": "@", "客户名称": "@", "客户等级": "@", "数量": "0"}


def test_write_templates_never_replaces_an_existing_template(tmp_path: Path) -> None:
    """A second call writes nothing and leaves a user's edited template as it is."""
    folder = tmp_path / "inbox" / "templates"
    assert write_templates(folder) == [folder / TEMPLATE_FILE]
    (folder / TEMPLATE_FILE).write_bytes(b"edited by a person")
    assert write_templates(folder) == []
    assert (folder / TEMPLATE_FILE).read_bytes() == b"edited by a person"


def test_existing_folder_with_files_is_refused_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """init into a non-empty NAME/ exits 2 naming it, and writes nothing there."""
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    code = _exit_code(["init", "demo", "--dir", str(tmp_path)])
    assert code == 2
    assert str(folder) in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_existing_empty_folder_is_used(tmp_path: Path) -> None:
    """An empty NAME/ (made beforehand, e.g. in Explorer) is filled in."""
    (tmp_path / "demo").mkdir()
    result = scaffold("demo", tmp_path, today=TODAY)
    assert result.campaign_file.is_file()


@pytest.mark.parametrize("name", ["spring 2027", "../escape", "春季", ""])
def test_a_name_that_is_no_campaign_id_is_refused(tmp_path: Path, name: str) -> None:
    """A name the campaign file would refuse is a usage error, and nothing is made."""
    with pytest.raises(UsageError) as caught:
        scaffold(name, tmp_path / "parent", today=TODAY)
    assert caught.value.exit_code == 2
    assert caught.value.hint
    assert not (tmp_path / "parent").exists()


@pytest.mark.parametrize("name", ["2027", "true", "null", "007"])
def test_a_name_yaml_would_read_as_no_text_is_kept_as_the_id(tmp_path: Path, name: str) -> None:
    """Names such as 2027 or true are written so that the campaign id reads back unchanged."""
    result = scaffold(name, tmp_path, today=TODAY)
    assert load_campaign(result.campaign_file, env={}, today=TODAY).id == name


def test_init_prints_the_paths_and_what_to_do_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """runner init lists the files it wrote and the fill-then-plan step with the command."""
    campaign = _init(tmp_path, "east")
    out = capsys.readouterr().out
    assert str(campaign) in out
    assert str(tmp_path / "east" / TEMPLATE_FILE) in out
    assert "next: fill" in out
    assert f"runner plan {campaign}" in out
