"""A CSV without quotes is read without the csv-module pass: the same table, the same problems.

Each example is written twice to the same path: as generated (no quote anywhere, so every
line is one record and the fast path reads it), and with its key header quoted, which
makes the reader walk the records with the ``csv`` module as before. Both reads must agree
on everything: the frame, the rows, the header row and every problem with its location.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.errors import InvalidInput
from runner.sheets import read_audience

_CELL = st.text(alphabet="AB7 0\u3000\u00a0客户.eE+-", max_size=6)
_COLUMNS = {"cm_code": "客户编码", "qty": "数量"}


def _read(path: Path) -> tuple[str, object]:
    try:
        table = read_audience(
            "east", path, key="cm_code", columns=_COLUMNS, yaml_path="audiences.east"
        )
    except InvalidInput as err:
        return "problems", [(p.message, p.where, p.hint) for p in err.problems()]
    return "table", (table.frame.to_dicts(), table.header_row, table.encoding)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    notes=st.lists(st.sampled_from(["", ",,", "note,,", " \u3000"]), max_size=2),
    rows=st.lists(
        st.one_of(
            st.just([]),  # a blank line
            st.lists(_CELL, min_size=1, max_size=4),  # short, full or with extra cells
        ),
        max_size=12,
    ),
    newline=st.sampled_from(["\n", "\r\n"]),
    final_newline=st.booleans(),
)
def test_the_fast_path_reads_what_the_csv_module_reads(
    tmp_path: Path, notes: list[str], rows: list[list[str]], newline: str, final_newline: bool
) -> None:
    """Blank lines, notes above the header, short and ragged rows, damaged-looking ids,
    repeated and missing keys, CRLF: the plain reading equals the csv-module reading."""
    lines = [*notes, "客户编码,客户名称,数量", *(",".join(row) for row in rows)]
    text = newline.join(lines) + (newline if final_newline else "")
    path = tmp_path / "customers.csv"
    path.write_text(text, encoding="utf-8")
    fast = _read(path)
    path.write_text(text.replace("客户编码", '"客户编码"', 1), encoding="utf-8")
    assert _read(path) == fast


def test_a_ragged_line_is_reported_on_its_line_by_the_fast_path(tmp_path: Path) -> None:
    """Cells beyond the header are found among all lines at once, with the right line."""
    path = tmp_path / "customers.csv"
    path.write_text("note\n\n客户编码,数量\nC1,1\n\nC2,1,,lost\nC3,1,\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_audience("east", path, key="cm_code", columns=_COLUMNS, header_row=2)
    (problem,) = caught.value.problems()
    assert problem.where.row == 6
    assert "(first: 'lost')" in problem.message


def test_a_large_plain_file_keeps_line_numbers(tmp_path: Path) -> None:
    """Many rows, blank lines between them: each row keeps the line it is on."""
    body = "".join(f"C{n:06d},1\n" + ("\n" if n % 1000 == 0 else "") for n in range(20_000))
    path = tmp_path / "customers.csv"
    path.write_text("客户编码,数量\n" + body, encoding="utf-8")
    table = read_audience("east", path, key="cm_code", columns=_COLUMNS)
    rows = dict(zip(table.frame["cm_code"], table.frame["_row"], strict=True))
    assert table.frame.height == 20_000
    assert rows["C000000"] == 2
    assert rows["C001001"] == 2 + 1001 + 2  # blank lines after C000000 and C001000
    assert table.frame.select(pl.col("_row").is_sorted()).item()
