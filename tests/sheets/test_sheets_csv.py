"""Reading CSV audiences: encodings, trimming, row numbers, and the problems reported."""

from __future__ import annotations

import codecs
from pathlib import Path

import polars as pl
import pytest

from runner.errors import InvalidInput
from runner.sheets import DAMAGED_ID_HINT, ROW, read_audience

from .helpers import BIG_ID, only, problems_of, write_csv

COLS = {"cm_id": "客户ID", "cm_code": "客户编码", "qty": "数量"}
CODE_COLS = {"cm_code": "客户编码", "qty": "数量"}
TEXT = f"客户ID,客户编码,数量\n{BIG_ID},007100,3\n6856083179295188427,CUS010043,1\n"


def read(path: Path, **kw: object) -> pl.DataFrame:
    return read_audience("a", path, key="cm_code", columns=CODE_COLS, **kw).frame  # type: ignore[arg-type]


def test_utf8_is_detected_and_values_stay_text(tmp_path: Path) -> None:
    """Plain UTF-8 is read as utf-8; 19-digit ids and leading zeros survive as strings."""
    aud = read_audience("a", write_csv(tmp_path / "a.csv", TEXT), key="cm_code", columns=COLS)
    assert aud.encoding == "utf-8"
    assert aud.sheet is None
    assert aud.frame["cm_id"].to_list() == [BIG_ID, "6856083179295188427"]
    assert aud.frame["cm_code"].to_list() == ["007100", "CUS010043"]
    assert all(dtype == pl.String for name, dtype in aud.frame.schema.items() if name != ROW)
    assert aud.frame.schema[ROW] == pl.Int64


def test_original_and_mapped_columns_are_both_present(tmp_path: Path) -> None:
    """The frame keeps the header-named columns and adds one column per mapped name."""
    aud = read_audience("a", write_csv(tmp_path / "a.csv", TEXT), key="cm_code", columns=COLS)
    assert aud.frame.columns == ["客户ID", "客户编码", "数量", ROW, "cm_id", "cm_code", "qty"]
    assert dict(aud.columns) == COLS


def test_utf8_bom_is_stripped_from_the_first_header(tmp_path: Path) -> None:
    """A UTF-8 BOM is removed, so the first header still matches; encoding says utf-8-sig."""
    path = tmp_path / "a.csv"
    path.write_bytes(codecs.BOM_UTF8 + TEXT.encode())
    aud = read_audience("a", path, key="cm_id", columns=COLS)
    assert aud.encoding == "utf-8-sig"
    assert aud.frame.columns[0] == "客户ID"
    assert aud.frame["cm_id"][0] == BIG_ID


def test_explicit_utf8_also_strips_a_bom(tmp_path: Path) -> None:
    """encoding='utf-8' honours the file and still drops its BOM."""
    path = tmp_path / "a.csv"
    path.write_bytes(codecs.BOM_UTF8 + TEXT.encode())
    frame = read(path, encoding="utf-8")
    assert frame.columns[0] == "客户ID"


def test_gb18030_with_characters_outside_gbk_is_detected(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are decoded as GB18030, including 4-byte characters like 𠮷."""
    text = "客户编码,客户名称\nCUS1,𠮷祥建材\nCUS2,佛山陶瓷\n"
    path = write_csv(tmp_path / "a.csv", text, "gb18030")
    aud = read_audience("a", path, key="cm_code", columns={"cm_code": "客户编码", "n": "客户名称"})
    assert aud.encoding == "gb18030"
    assert aud.frame["n"].to_list() == ["𠮷祥建材", "佛山陶瓷"]


def test_explicit_gb18030_is_honoured(tmp_path: Path) -> None:
    """encoding='gb18030' decodes a GBK file without guessing."""
    path = write_csv(tmp_path / "a.csv", "客户编码\n五金店\n", "gbk")
    aud = read_audience(
        "a", path, key="cm_code", columns={"cm_code": "客户编码"}, encoding="gb18030"
    )
    assert aud.encoding == "gb18030"
    assert aud.frame["cm_code"].to_list() == ["五金店"]


def test_explicit_utf8_on_gbk_bytes_names_the_line(tmp_path: Path) -> None:
    """A GBK file read as utf-8 is refused with the line of the bad byte and a hint."""
    path = write_csv(tmp_path / "a.csv", "客户编码\nCUS1\n陶瓷\n", "gbk")
    with pytest.raises(InvalidInput) as excinfo:
        read(path, encoding="utf-8")
    (problem,) = problems_of(excinfo)
    assert problem.where.file == str(path)
    assert problem.where.row == 1
    assert problem.hint is not None
    assert "gb18030" in problem.hint


def test_utf16_file_is_refused_with_a_save_as_hint(tmp_path: Path) -> None:
    """Excel's 'Unicode Text' (UTF-16) gets a problem telling how to save as CSV UTF-8."""
    path = tmp_path / "a.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "客户编码\n".encode("utf-16-le"))
    with pytest.raises(InvalidInput) as excinfo:
        read(path)
    (problem,) = problems_of(excinfo)
    assert "UTF-16" in problem.message
    assert problem.hint is not None
    assert "CSV UTF-8" in problem.hint


def test_cells_are_trimmed_including_full_width_and_nbsp(tmp_path: Path) -> None:
    """ASCII spaces, tabs, U+3000 and U+00A0 are trimmed both ends; inner spaces remain."""
    text = "客户编码,名称\n\u3000CUS1\u00a0, \t佛山 陶瓷\u3000\nCUS2,\u3000\u3000\n"
    aud = read_audience(
        "a", write_csv(tmp_path / "a.csv", text), key="cm_code", columns={"cm_code": "客户编码"}
    )
    assert aud.frame["cm_code"].to_list() == ["CUS1", "CUS2"]
    assert aud.frame["名称"].to_list() == ["佛山 陶瓷", None]


def test_headers_match_after_trimming(tmp_path: Path) -> None:
    """A header padded with spaces still matches; the column keeps its text as in the file."""
    text = " 客户编码\u3000,数量\nCUS1,2\n"
    aud = read_audience(
        "a", write_csv(tmp_path / "a.csv", text), key="cm_code", columns={"cm_code": "客户编码"}
    )
    assert aud.columns["cm_code"] == " 客户编码\u3000"
    assert aud.frame["cm_code"].to_list() == ["CUS1"]


def test_blank_rows_are_skipped_and_rows_are_line_numbers(tmp_path: Path) -> None:
    """Empty lines and lines of empty cells are dropped; _row is the CSV line number."""
    text = "客户编码,数量\nCUS1,1\n\n,\n \u3000, \nCUS2,2\r\n"
    frame = read(write_csv(tmp_path / "a.csv", text))
    assert frame["cm_code"].to_list() == ["CUS1", "CUS2"]
    assert frame[ROW].to_list() == [2, 6]


def test_rows_after_a_multiline_cell_are_the_lines_they_start_on(tmp_path: Path) -> None:
    """_row of a record after a two-line quoted cell is the line it starts on, not record + 1."""
    text = '客户编码,备注\nCUS1,"two\nlines"\nCUS2,x\n'
    aud = read_audience(
        "a", write_csv(tmp_path / "a.csv", text), key="cm_code", columns={"cm_code": "客户编码"}
    )
    assert aud.frame[ROW].to_list() == [2, 4]
    assert aud.frame["备注"][0] == "two\nlines"


def test_quoted_newlines_keep_line_numbers_right(tmp_path: Path) -> None:
    """A quoted cell spanning lines does not shift the row numbers of later records."""
    text = '客户编码,备注\nCUS1,"two\nlines"\nCUS1,x\n'
    path = write_csv(tmp_path / "a.csv", text)
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns={"cm_code": "客户编码"})
    (problem,) = problems_of(excinfo)
    assert "rows 2, 4" in problem.message
    assert problem.where.row == 4


def test_scientific_notation_ids_are_damaged(tmp_path: Path) -> None:
    """6.85608E+18 / 6.85608e18 in an id column is one problem naming rows, column and hint."""
    text = "客户ID,客户编码\n6.85608E+18,CUS1\n6.85608e18,CUS2\n6856083179295188000.0,CUS3\n"
    path = write_csv(tmp_path / "a.csv", text)
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_id", columns=COLS | {"qty": "客户编码"})
    (problem,) = problems_of(excinfo)
    assert problem.where.column == "客户ID"
    assert problem.where.row == 2
    assert problem.where.file == str(path)
    assert "rows 2, 3, 4" in problem.message
    assert problem.hint == DAMAGED_ID_HINT


def test_missing_header_lists_existing_headers_and_suggests(tmp_path: Path) -> None:
    """A mapped header absent from the file names the headers that exist and a close match."""
    text = "客户 ID,客户编码\n1,CUS1\n"
    path = write_csv(tmp_path / "a.csv", text)
    with pytest.raises(InvalidInput) as excinfo:
        read_audience(
            "a", path, key="cm_code", columns={"cm_code": "客户编码", "cm_id": "客户ID"},
            yaml_path="audiences.a",
        )  # fmt: skip
    (problem,) = problems_of(excinfo)
    assert "'客户 ID', '客户编码'" in problem.message
    assert problem.where.yaml_path == "audiences.a.columns.cm_id"
    assert problem.where.row == 1
    assert problem.hint is not None
    assert "Did you mean '客户 ID'" in problem.hint


def test_missing_key_values_are_reported_per_row(tmp_path: Path) -> None:
    """Each row without a key value is its own problem with row and column."""
    text = "客户编码,数量\nCUS1,1\n,2\n\u3000,3\n"
    with pytest.raises(InvalidInput) as excinfo:
        read(write_csv(tmp_path / "a.csv", text))
    problems = problems_of(excinfo)
    assert [(p.where.row, p.where.column) for p in problems] == [(3, "客户编码"), (4, "客户编码")]


def test_duplicate_customers_name_both_rows(tmp_path: Path) -> None:
    """The same key value twice (after trimming) is reported with both rows."""
    text = "客户编码,数量\nCUS1,1\nCUS2,1\n CUS1 ,2\n"
    with pytest.raises(InvalidInput) as excinfo:
        read(write_csv(tmp_path / "a.csv", text))
    (problem,) = problems_of(excinfo)
    assert "'CUS1'" in problem.message
    assert "rows 2, 4" in problem.message
    assert problem.where.row == 4


def test_every_problem_is_collected_in_one_raise(tmp_path: Path) -> None:
    """A missing header, a damaged id, a missing key and a duplicate come out together."""
    text = "客户ID,客户编码\n6.8E+18,CUS1\n1,\n2,CUS1\n"
    path = write_csv(tmp_path / "a.csv", text)
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    problems = problems_of(excinfo)
    assert len(only(problems, "no column '数量'")) == 1
    assert len(only(problems, "damaged")) == 1
    assert len(only(problems, "no cm_code")) == 1
    assert len(only(problems, "appears 2 times")) == 1
    assert excinfo.value.exit_code == 2
    assert str(path) in excinfo.value.message


def test_extra_cells_beyond_the_header_are_reported(tmp_path: Path) -> None:
    """Non-empty cells past the last header column are a problem; empty extra cells are not."""
    text = "客户编码,数量\nCUS1,1,,\nCUS2,2,oops\n"
    with pytest.raises(InvalidInput) as excinfo:
        read(write_csv(tmp_path / "a.csv", text))
    (problem,) = problems_of(excinfo)
    assert problem.where.row == 3
    assert "'oops'" in problem.message


def test_unclosed_quote_is_reported(tmp_path: Path) -> None:
    """A quote opened and never closed is a problem near the line where it starts."""
    text = '客户编码,数量\nCUS1,1\n"CUS2,2\nCUS3,3\n'
    with pytest.raises(InvalidInput) as excinfo:
        read(write_csv(tmp_path / "a.csv", text))
    (problem,) = problems_of(excinfo)
    assert "quote" in problem.message
    assert problem.where.row == 3


def test_empty_file_is_reported(tmp_path: Path) -> None:
    """A file with no header row is a problem that says so."""
    with pytest.raises(InvalidInput) as excinfo:
        read(write_csv(tmp_path / "a.csv", ""))
    assert "empty" in problems_of(excinfo)[0].message


def test_header_only_file_gives_an_empty_audience(tmp_path: Path) -> None:
    """A header without customers is valid and yields zero rows."""
    frame = read(write_csv(tmp_path / "a.csv", "客户ID,客户编码,数量\n"))
    assert frame.height == 0
    assert "cm_code" in frame.columns


def test_sheet_on_a_csv_is_a_settings_problem(tmp_path: Path) -> None:
    """Asking for a sheet of a CSV names the campaign key to remove."""
    path = write_csv(tmp_path / "a.csv", TEXT)
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS, sheet="客户", yaml_path="audiences.a")
    assert problems_of(excinfo)[0].where.yaml_path == "audiences.a.sheet"


def test_unmapped_key_is_a_settings_problem(tmp_path: Path) -> None:
    """A key that is not among the mapped columns is reported at <yaml_path>.key."""
    path = write_csv(tmp_path / "a.csv", TEXT)
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_source_code", columns=COLS, yaml_path="audiences.a")
    (problem,) = problems_of(excinfo)
    assert problem.where.yaml_path == "audiences.a.key"
    assert "cm_source_code" in problem.message


def test_missing_file_is_reported_with_its_path(tmp_path: Path) -> None:
    """A path that does not exist is a problem naming the file."""
    path = tmp_path / "nope.csv"
    with pytest.raises(InvalidInput) as excinfo:
        read(path)
    (problem,) = problems_of(excinfo)
    assert problem.where.file == str(path)
    assert "cannot read" in problem.message


def test_old_xls_files_are_refused_with_a_hint(tmp_path: Path) -> None:
    """An .xls workbook is refused with advice to save it as .xlsx."""
    path = tmp_path / "a.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    with pytest.raises(InvalidInput) as excinfo:
        read(path)
    (problem,) = problems_of(excinfo)
    assert problem.hint is not None
    assert ".xlsx" in problem.hint


def test_empty_and_repeated_headers_get_unique_names(tmp_path: Path) -> None:
    """An empty header becomes column_N and a repeated one NAME_duplicated_K; _row is kept."""
    text = "客户编码,,备注,备注,_row\nCUS1,a,b,c,d\n"
    aud = read_audience(
        "a", write_csv(tmp_path / "a.csv", text), key="cm_code", columns={"cm_code": "客户编码"}
    )
    assert aud.frame.columns[:5] == [
        "客户编码",
        "column_2",
        "备注",
        "备注_duplicated_0",
        "_row_duplicated_0",
    ]
    assert aud.frame[ROW].to_list() == [2]


def test_a_header_repeated_after_trimming_is_ambiguous(tmp_path: Path) -> None:
    """Two columns whose headers trim to the mapped text make the mapping ambiguous."""
    text = "客户编码,客户编码 \nCUS1,CUS2\n"
    with pytest.raises(InvalidInput) as excinfo:
        read_audience(
            "a", write_csv(tmp_path / "a.csv", text), key="cm_code", columns={"cm_code": "客户编码"}
        )
    (problem,) = problems_of(excinfo)
    assert "2 columns" in problem.message
