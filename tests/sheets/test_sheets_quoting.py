"""Messages quote at most a little of the input; a file that is no spreadsheet is refused fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runner.errors import InvalidInput, Problem
from runner.sheets import MAX_QUOTED, check_quantity, quoted, read_audience, shorten
from runner.sheets.csvfile import MAX_HEADER_CHARS

from .helpers import problems_of, write_csv

COLS = {"cm_code": "客户编码", "qty": "数量"}


def _problems(path: Path) -> list[Problem]:
    """The problems reading ``path`` (keyed by cm_code, COLS mapped) raises; it must raise."""
    with pytest.raises(InvalidInput) as excinfo:
        read_audience("a", path, key="cm_code", columns=COLS)
    return problems_of(excinfo)


def test_short_text_is_quoted_whole() -> None:
    """Text up to the limit is shown as Python quotes it, unchanged."""
    assert quoted("C0001") == "'C0001'"
    assert shorten("x" * MAX_QUOTED) == "x" * MAX_QUOTED


def test_long_text_is_cut_and_says_how_much_is_left() -> None:
    """Beyond the limit, the first characters and the count of the others are shown."""
    text = "ab" * 1000
    assert shorten(text, 10) == "ababababab… (1,990 more characters)"
    assert quoted(text, 4) == "'abab…' (1,996 more characters)"


def test_a_huge_header_line_is_refused_before_parsing(tmp_path: Path) -> None:
    """A CSV of 5 MB of NUL bytes is one problem at line 1, fast, quoting none of it."""
    path = tmp_path / "a.csv"
    path.write_bytes(b"\0" * 5_000_000)
    started = time.monotonic()
    (problem,) = _problems(path)
    assert time.monotonic() - started < 5
    assert problem.where.row == 1
    assert "5,000,000 characters long and starts with NUL bytes" in problem.message
    assert "\\x00" not in problem.message
    assert problem.hint is not None


def test_a_long_header_of_text_is_refused_with_its_start_quoted(tmp_path: Path) -> None:
    """A header line beyond the limit made of text shows its first 20 characters only."""
    path = write_csv(tmp_path / "a.csv", "x" * (MAX_HEADER_CHARS + 1) + "\nC1\n")
    (problem,) = _problems(path)
    assert f"'{'x' * 20}…' ({MAX_HEADER_CHARS - 19:,} more characters)" in problem.message
    assert len(problem.message) < 300


def test_a_header_at_the_limit_is_read(tmp_path: Path) -> None:
    """A header line of exactly the limit is parsed (and its missing columns reported)."""
    path = write_csv(tmp_path / "a.csv", "客户编码," + "y" * (MAX_HEADER_CHARS - 5) + "\nC1,1\n")
    (problem,) = _problems(path)
    listed = "no column '数量' (for qty); the headers are: '客户编码', 'yyy"
    assert problem.message.startswith(listed)
    assert "(99,915 more characters)" in problem.message


def test_the_headers_listed_are_capped(tmp_path: Path) -> None:
    """A missing column lists at most 20 of the file's headers, then how many more."""
    header = ",".join(["客户编码", *(f"列{n}" for n in range(30))])
    (problem,) = _problems(write_csv(tmp_path / "a.csv", header + "\n" + "C1" + "," * 30 + "\n"))
    assert "'列18' and 11 more" in problem.message
    assert "'列19'" not in problem.message


def test_a_long_bad_quantity_cell_is_quoted_short(tmp_path: Path) -> None:
    """A quantity cell of 10,000 letters is quoted by its first 80, not whole."""
    path = write_csv(tmp_path / "a.csv", "客户编码,数量\nC1," + "q" * 10_000 + "\n")
    table = read_audience("a", path, key="cm_code", columns=COLS)
    (problem,) = check_quantity(table, "qty")
    assert "(9,920 more characters)" in problem.message
    assert len(problem.message) < 200
