"""The XLSX writer of large tables: what Excel (and calamine) read back is what was written."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

import fastexcel
import polars as pl
import pytest

from runner.outputs.xlsx import (
    CELL_MAX_CHARS,
    EXCEL_MAX_ROWS,
    Sheet,
    column_letter,
    xlsx_bytes,
)

BIG_ID = "6856083179295188426"


def _read(data: bytes, sheet: str) -> pl.DataFrame:
    return pl.read_excel(io.BytesIO(data), sheet_name=sheet)


def test_values_come_back_as_written_ids_as_text() -> None:
    """Ids stay text (19 digits, leading zeros), numbers stay numbers, nulls stay empty, and
    text XML or Excel would misread (&, <, control characters, _x0041_, =1+1) is exact."""
    frame = pl.DataFrame(
        {
            "id": [BIG_ID, None, "007100"],
            "name": ["甲&<b>店", "a\x01b\x1fc", "_x0041_"],
            "n": [1, None, 3],
            "text": ["=1+1", " lead", "trail "],
        }
    )
    data = xlsx_bytes([Sheet("results", frame)])
    back = _read(data, "results")
    assert back["id"].dtype == pl.String
    assert back.to_dicts() == frame.to_dicts()


def test_every_part_is_well_formed_xml_and_the_first_sheet_opens() -> None:
    """Each file in the zip parses as XML; the workbook lists the sheets in order, the
    first selected, and a filter's range is named as Excel names it."""
    sheets = [
        Sheet("note", pl.DataFrame({"note": ["a"]}), filter=False),
        Sheet("it's", pl.DataFrame({"a": ["x", "y"], "b": [1, 2]})),
    ]
    data = xlsx_bytes(sheets)
    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in archive.namelist():
        ET.fromstring(archive.read(name))
    workbook = archive.read("xl/workbook.xml").decode()
    assert "'it''s'!$A$1:$B$3" in workbook
    assert 'tabSelected="1"' in archive.read("xl/worksheets/sheet1.xml").decode()
    assert '<autoFilter ref="A1:B3"/>' in archive.read("xl/worksheets/sheet2.xml").decode()
    assert fastexcel.read_excel(data).sheet_names == ["note", "it's"]


def test_many_rows_in_several_chunks_keep_their_order() -> None:
    """A table longer than one chunk comes back whole and in order."""
    frame = pl.DataFrame({"n": pl.int_range(0, 120_001, eager=True)}).with_columns(
        pl.col("n").cast(pl.String).alias("text")
    )
    back = _read(xlsx_bytes([Sheet("big", frame)]), "big")
    assert back.height == frame.height
    assert back["text"].to_list()[-3:] == ["119998", "119999", "120000"]
    assert back["n"].to_list()[:3] == [0, 1, 2]


def test_text_beyond_a_cell_is_cut_with_a_note() -> None:
    """Excel refuses a cell over 32,767 characters: the text is cut there, saying so."""
    long = ",".join(f"CUS{n:06d}" for n in range(5_000))  # 49,999 characters
    back = _read(xlsx_bytes([Sheet("v", pl.DataFrame({"cmCode": [long, "short"]}))]), "v")
    cut = back["cmCode"][0]
    assert len(cut) == CELL_MAX_CHARS
    assert cut.startswith(long[:30_000])
    assert cut.endswith("32,767 characters)")
    assert back["cmCode"][1] == "short"


def test_a_sheet_beyond_excels_rows_is_refused_before_anything_is_written() -> None:
    """A table of more rows than Excel shows is a programming error, never a broken file."""
    frame = pl.DataFrame({"n": pl.int_range(0, EXCEL_MAX_ROWS, eager=True)})
    with pytest.raises(ValueError, match="at most 1,048,575"):
        Sheet("jobs", frame)
    Sheet("jobs", frame.head(EXCEL_MAX_ROWS - 1))


@pytest.mark.parametrize("name", ["", "a" * 32, "a/b", "x[1]", "what?"])
def test_names_excel_refuses_are_refused(name: str) -> None:
    """Sheet names follow Excel's rules: 1 to 31 characters, none of []:*?/\\."""
    with pytest.raises(ValueError, match="cannot name"):
        Sheet(name, pl.DataFrame({"a": [1]}))


def test_sheet_names_must_differ_ignoring_case() -> None:
    """Excel treats Jobs and jobs as the same sheet."""
    frame = pl.DataFrame({"a": [1]})
    with pytest.raises(ValueError, match="differ"):
        xlsx_bytes([Sheet("jobs", frame), Sheet("Jobs", frame)])


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letters(index: int, letters: str) -> None:
    """Column names as Excel writes them."""
    assert column_letter(index) == letters
