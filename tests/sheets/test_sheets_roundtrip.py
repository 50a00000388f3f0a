"""Property: any cells written by a CSV writer read back trimmed, on the lines they start on."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.sheets import ROW, read_audience
from runner.sheets.text import trim

CELL = st.text(alphabet='ab客户 \u3000\u00a0\t,"\n1E.', max_size=8)


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.tuples(CELL, CELL), min_size=1, max_size=6))
def test_csv_cells_round_trip(cells: list[tuple[str, str]]) -> None:
    """Values come back trimmed and _row is the line each record starts on."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["客户编码", "甲", "乙"])
    line, expected_rows = 2, []
    for index, (left, right) in enumerate(cells):
        expected_rows.append(line)
        before = buffer.tell()
        writer.writerow([f"K{index}", left, right])
        line += buffer.getvalue()[before:].count("\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        aud = read_audience("p", path, key="cm_code", columns={"cm_code": "客户编码"})
    assert aud.frame[ROW].to_list() == expected_rows
    assert aud.frame["甲"].to_list() == [trim(left) for left, _ in cells]
    assert aud.frame["乙"].to_list() == [trim(right) for _, right in cells]
