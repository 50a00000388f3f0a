"""Expansion: where filters, quantities, seq numbering and job ids on in-memory audiences."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.plan._expand import GrantLine, combine, explode_jobs, select_line
from runner.plan._model import JOB_COLUMNS
from runner.sheets import AudienceTable
from tests.plan.helpers import audience, locate

EAST = audience(
    {
        "cm_code": ["C1", "C2", "C3", "C4"],
        "level": ["A", "B", None, "A"],
        "qty": ["2", "1", "3", "0"],
    }
)


def _line(
    aud: AudienceTable = EAST,
    *,
    where: str | None = None,
    quantity: int | str = 1,
    index: int = 0,
    voucher: str = "v",
    order: int = 0,
) -> GrantLine:
    return GrantLine(index, voucher, order, aud, where, quantity)


def _jobs(*lines: GrantLine) -> pl.DataFrame:
    frames = []
    for line in lines:
        rows, problems = select_line(line, locate)
        assert problems == []
        frames.append(rows)
    return explode_jobs("camp", combine(frames))


def test_where_keeps_matching_rows_and_drops_nulls() -> None:
    """`level IN ('A')` keeps the A rows; a row whose level is empty never matches."""
    rows, problems = select_line(_line(where="level IN ('A', 'C')"), locate)
    assert problems == []
    assert rows.get_column("customer_key").to_list() == ["C1", "C4"]
    assert rows.get_column("source_row").to_list() == [2, 5]


def test_where_with_cast_compares_numbers() -> None:
    """Columns are text; CAST(qty AS INTEGER) > 1 compares them as numbers."""
    rows, _ = select_line(_line(where="CAST(qty AS INTEGER) > 1"), locate)
    assert rows.get_column("customer_key").to_list() == ["C1", "C3"]


def test_where_unknown_column_lists_the_mapped_names_at_the_grant_line() -> None:
    """A where naming an unmapped column is a problem at grants[i].where listing the columns."""
    _, problems = select_line(_line(where="region = '华东'", index=3), locate)
    assert len(problems) == 1
    problem = problems[0]
    assert "refers to region" in problem.message
    assert "cm_code, level, qty" in problem.message
    assert problem.where.yaml_path == "grants[3].where"
    assert problem.where.line == 7
    assert problem.hint is not None


def test_where_unquoted_text_value_is_reported_as_an_unknown_column() -> None:
    """`level = A` refers to a column A: the problem names it so the user adds quotes."""
    _, problems = select_line(_line(where="level = A"), locate)
    assert "refers to A" in problems[0].message


def test_where_row_number_column_is_not_usable() -> None:
    """The internal _row column is not one of the mapped names, so where cannot use it."""
    _, problems = select_line(_line(where="_row = 2"), locate)
    assert "refers to _row" in problems[0].message


def test_where_syntax_error_is_a_located_problem() -> None:
    """An unbalanced parenthesis is reported as an invalid SQL condition at the grant's where."""
    _, problems = select_line(_line(where="level IN ('A'"), locate)
    assert "is not a valid SQL condition" in problems[0].message
    assert problems[0].where.yaml_path == "grants[0].where"


def test_where_type_mismatch_is_a_located_problem() -> None:
    """Comparing a text column with a number cannot be evaluated: a problem, not a crash."""
    _, problems = select_line(_line(where="qty > 1"), locate)
    assert "cannot be evaluated" in problems[0].message


def test_quantity_column_gives_each_customer_its_count_and_zero_means_none() -> None:
    """quantity: qty grants 2, 1 and 3 copies; the row with 0 gets no job."""
    jobs = _jobs(_line(quantity="qty"))
    counts = dict(jobs.group_by("customer_key").len().iter_rows())
    assert counts == {"C1": 2, "C2": 1, "C3": 3}


def test_bad_quantity_cells_are_problems_with_row_and_column() -> None:
    """Negative and decimal quantities of the selected rows are reported by row and header."""
    aud = audience({"cm_code": ["C1", "C2", "C3"], "qty": ["1", "-2", "1.5"]})
    _, problems = select_line(_line(aud, quantity="qty"), locate)
    assert [(p.where.row, p.where.column) for p in problems] == [
        (3, "header qty"),
        (4, "header qty"),
    ]
    assert "negative" in problems[0].message


def test_bad_quantity_in_rows_the_where_drops_is_not_reported() -> None:
    """Only the rows a grant selects need a valid quantity."""
    aud = audience({"cm_code": ["C1", "C2"], "level": ["A", "B"], "qty": ["1", "x"]})
    rows, problems = select_line(_line(aud, where="level = 'A'", quantity="qty"), locate)
    assert problems == []
    assert rows.height == 1


def test_absurd_quantity_is_reported_not_expanded() -> None:
    """A quantity too large for a 64-bit integer is a located problem."""
    aud = audience({"cm_code": ["C1"], "qty": ["9" * 30]})
    _, problems = select_line(_line(aud, quantity="qty"), locate)
    assert len(problems) == 1
    assert problems[0].where.row == 2
    assert "is too large: one customer can hold at most 99999" in problems[0].message


def test_a_quantity_cell_above_99999_is_refused_at_its_cell() -> None:
    """100000 in a cell is more than one customer can hold of a voucher: refused at its row."""
    aud = audience({"cm_code": ["C1", "C2"], "qty": ["99999", "100000"]})
    _, problems = select_line(_line(aud, quantity="qty"), locate)
    (problem,) = problems
    assert (problem.where.row, problem.where.column) == (3, "header qty")
    assert problem.message.startswith("the quantity '100000' is too large")


def test_quantity_cells_whose_sum_would_overflow_are_refused() -> None:
    """Two cells of 9e18 (each fits 64 bits, their sum does not) are refused, not summed."""
    aud = audience({"cm_code": ["C1", "C2"], "qty": ["9000000000000000000"] * 2})
    _, problems = select_line(_line(aud, quantity="qty"), locate)
    assert [p.where.row for p in problems] == [2, 3]


def test_same_customer_on_two_lines_adds_up_and_seq_continues() -> None:
    """Two lines reaching C1 for one voucher give C1 seq 1..3; the earlier line's copies first."""
    other = audience({"cm_code": ["C1"]}, name="extra", path="extra.csv")
    jobs = _jobs(_line(quantity="qty", index=0), _line(other, quantity=1, index=1))
    c1 = jobs.filter(pl.col("customer_key") == "C1")
    assert c1.get_column("seq").to_list() == [1, 2, 3]
    assert c1.get_column("audience").to_list() == ["east", "east", "extra"]


def test_jobs_have_the_documented_columns_and_types() -> None:
    """Jobs carry String ids and keys, Int64 seq and row, sorted by voucher order then customer."""
    jobs = _jobs(_line(voucher="b", order=1), _line(voucher="a", order=0, index=1))
    assert tuple(jobs.columns) == JOB_COLUMNS
    assert jobs.schema["customer_key"] == pl.String
    assert jobs.schema["job_id"] == pl.String
    assert jobs.schema["seq"] == pl.Int64
    assert jobs.get_column("voucher_key").to_list()[:4] == ["a"] * 4
    assert jobs.get_column("customer_name").null_count() == jobs.height


def test_customer_name_comes_from_the_cm_name_column() -> None:
    """A mapped cm_name fills customer_name."""
    aud = audience({"cm_code": ["C1"], "cm_name": ["上海佳和卫浴店"]})
    assert _jobs(_line(aud)).get_column("customer_name").to_list() == ["上海佳和卫浴店"]


def test_job_ids_do_not_depend_on_the_audience_or_row() -> None:
    """Moving a customer to another audience (other file and row) keeps its job ids."""
    first = _jobs(_line(audience({"cm_code": ["C9", "C1"]})))
    moved = _jobs(_line(audience({"cm_code": ["C1", "C9"]}, name="west", path="west.csv")))
    assert first.get_column("job_id").to_list() == moved.get_column("job_id").to_list()
    assert first.get_column("source_row").to_list() != moved.get_column("source_row").to_list()


_codes = st.lists(
    st.text(alphabet="ABC0123456789", min_size=1, max_size=6), min_size=0, max_size=25, unique=True
)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    codes=_codes,
)
def test_properties_of_expansion(data: st.DataObject, codes: list[str]) -> None:
    """Grants = sum of quantities over filtered customers; seq is 1..n each; ids are unique."""
    qtys = data.draw(st.lists(st.integers(0, 4), min_size=len(codes), max_size=len(codes)))
    levels = data.draw(
        st.lists(st.sampled_from(["A", "B", None]), min_size=len(codes), max_size=len(codes))
    )
    aud = audience({"cm_code": codes, "level": levels, "qty": [str(q) for q in qtys]})
    jobs = _jobs(_line(aud, where="level = 'A'", quantity="qty"))
    expected = sum(q for q, lv in zip(qtys, levels, strict=True) if lv == "A")
    assert jobs.height == expected
    assert jobs.get_column("job_id").n_unique() == jobs.height
    per_customer = jobs.group_by("customer_key").agg(pl.col("seq"), pl.len().alias("n"))
    for _, seqs, n in per_customer.iter_rows():
        assert seqs == list(range(1, n + 1))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), codes=_codes)
def test_row_order_never_changes_ids_or_order(data: st.DataObject, codes: list[str]) -> None:
    """Any permutation of the audience rows gives the same jobs in the same order."""
    qtys = data.draw(st.lists(st.integers(0, 3), min_size=len(codes), max_size=len(codes)))
    shuffled = data.draw(st.permutations(list(zip(codes, qtys, strict=True))))
    first = _jobs(
        _line(audience({"cm_code": codes, "qty": [str(q) for q in qtys]}), quantity="qty")
    )
    again = audience({"cm_code": [c for c, _ in shuffled], "qty": [str(q) for _, q in shuffled]})
    second = _jobs(_line(again, quantity="qty"))
    columns = ["job_id", "customer_key", "seq"]
    assert first.select(columns).equals(second.select(columns))
