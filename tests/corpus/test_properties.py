"""Arbitrary text in spreadsheet cells and campaign values never crashes `runner plan`.

Hypothesis writes a small campaign whose CSV cells, or one of whose YAML values, hold
arbitrary text: control characters, any non-surrogate unicode, huge numbers, text that
looks like a formula, a date or a float id. `runner plan` (in-process, ``--json``) must
either accept it (exit 0) or refuse it with exit 2 and located problems, never a
traceback. The examples are derandomized (the same on every run) and few, to stay fast.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from runner.clock import beijing_today
from tests.builders import AUDIENCE_HEADER, campaign_yaml, write_campaign_file
from tests.corpus.test_corpus import MAX_MESSAGE, Outcome, run_cli

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Any character but surrogates (a file cannot hold a lone one): controls, NUL, BOM, RTL.
ANY_CHAR = st.characters(exclude_categories=["Cs"])
TRICKY = st.sampled_from(
    [
        '=HYPERLINK("http://x","x")',
        "=1+1",
        "+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "-1",
        "0",
        "007100",
        "6.85608E+18",
        "6856083179295188000.0",
        "99999999999999999999999999999999",
        "1e309",
        "NaN",
        "inf",
        "2027-03-01",
        "１２３",
        "\u3000",
        "\ufeffC1",
        "a\x00b",
        "\u202eC1",
        "",
        " ",
        '"',
        ",",
        "\r\n",
    ]
)
CELL = st.one_of(TRICKY, st.text(ANY_CHAR, max_size=40))
QUANTITIES = st.one_of(st.sampled_from(["1", "2", "0"]), CELL)


def _campaign_text(
    *, key: str = "cm_code", file: str = "customers.csv", voucher: dict[str, Any] | None = None
) -> str:
    start = beijing_today() + timedelta(days=30)
    fields: dict[str, Any] = {
        "name": "满100减10",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=30)).isoformat(),
        "money": "10.00",
        "grant_type": "HDFF",
        "customers": "specific",
        "products": {"mode": "ALL"},
    }
    fields.update(voucher or {})
    columns = {key: "客户ID" if key == "cm_id" else "客户编码", "cm_name": "客户名称"}
    columns.update({"level": "客户等级", "qty": "数量"})
    return campaign_yaml(
        "property-case",
        audiences={"east": {"file": file, "key": key, "columns": columns}},
        vouchers={"ten-off": fields},
        grants=[{"voucher": "ten-off", "audience": "east", "quantity": "qty"}],
    )


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(AUDIENCE_HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding, errors="replace")


GOOD_ROW = ["6856083179295188426", "C1", "上海佳和五金店", "A", "1"]


def plan(folder: Path, capsys: pytest.CaptureFixture[str]) -> Outcome:
    """`runner plan` on ``folder/campaign.yaml`` with its state inside ``folder``."""
    argv = ["plan", str(folder / "campaign.yaml"), "--state-dir", str(folder / "state"), "--json"]
    return run_cli(argv, capsys)


def assert_accepted_or_located(outcome: Outcome) -> None:
    """Exit 0 with a plan, or exit 2 with located problems; never a crash or a traceback."""
    assert outcome.code in (0, 2), outcome.error
    event(f"exit {outcome.code}")
    if outcome.code == 0:
        assert json.loads(outcome.out)["kind"] == "plan"
        return
    assert outcome.error is not None
    assert outcome.error["traceback"] is None
    assert outcome.error["problems"], outcome.error
    for problem in outcome.error["problems"]:
        assert problem["where"], problem
        assert len(problem["message"]) <= MAX_MESSAGE, len(problem["message"])


ROW = st.tuples(CELL, CELL, CELL, CELL, QUANTITIES).map(list)


def test_the_campaign_the_properties_start_from_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unchanged, the properties' campaign and row plan with exit 0 (so a refusal is caused
    by the arbitrary text, not by the starting point)."""
    write_campaign_file(tmp_path / "campaign.yaml", _campaign_text())
    (tmp_path / "customers.csv").write_bytes(_csv_bytes([GOOD_ROW], "utf-8"))
    outcome = plan(tmp_path, capsys)
    assert outcome.code == 0, outcome.error
    assert json.loads(outcome.out)["grants"]["total"] == 1


@SETTINGS
@given(rows=st.lists(ROW, min_size=1, max_size=4), encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_arbitrary_csv_rows_are_accepted_or_refused_with_a_location(
    rows: list[list[str]], encoding: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows of any text in a UTF-8 or GB18030 CSV give a plan or located problems."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_campaign_file(folder / "campaign.yaml", _campaign_text(key="cm_id"))
        (folder / "customers.csv").write_bytes(_csv_bytes(rows, encoding))
        assert_accepted_or_located(plan(folder, capsys))


@SETTINGS
@given(
    column=st.integers(min_value=0, max_value=len(AUDIENCE_HEADER) - 1),
    cell=CELL,
    key=st.sampled_from(["cm_id", "cm_code"]),
)
def test_one_arbitrary_cell_among_good_rows_is_accepted_or_refused_with_a_location(
    column: int, cell: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One cell of any text in an otherwise good CSV gives a plan (its files written) or
    problems located at that cell's file."""
    rows = [list(GOOD_ROW), ["6856083179295188427", "C2", "南京宏发建材店", "B", "2"]]
    rows[1][column] = cell
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_campaign_file(folder / "campaign.yaml", _campaign_text(key=key))
        (folder / "customers.csv").write_bytes(_csv_bytes(rows, "utf-8"))
        assert_accepted_or_located(plan(folder, capsys))


@SETTINGS
@given(text=st.text(ANY_CHAR, max_size=200))
def test_arbitrary_bytes_of_text_as_a_csv_are_accepted_or_refused(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A customers.csv holding any text at all (not even CSV) never crashes plan."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_campaign_file(folder / "campaign.yaml", _campaign_text())
        (folder / "customers.csv").write_text(text, encoding="utf-8")
        assert_accepted_or_located(plan(folder, capsys))


VOUCHER_FIELDS = ["name", "start_date", "end_date", "money", "doorsill_amount", "remark"]
SCALAR = st.one_of(
    TRICKY,
    st.text(ANY_CHAR, max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@SETTINGS
@given(field=st.sampled_from(VOUCHER_FIELDS), value=SCALAR)
def test_arbitrary_quoted_yaml_values_are_accepted_or_refused_with_a_location(
    field: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Any text as a voucher's value (a quoted YAML string) gives a plan or located problems."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        text = _campaign_text(voucher={field: value})
        write_campaign_file(folder / "campaign.yaml", text)
        (folder / "customers.csv").write_bytes(_csv_bytes([GOOD_ROW], "utf-8"))
        assert_accepted_or_located(plan(folder, capsys))


RAW_KEYS = ["name", "money", "quantity", "campaign", "key", "file"]


@SETTINGS
@given(key=st.sampled_from(RAW_KEYS), value=st.one_of(TRICKY, st.text(ANY_CHAR, max_size=40)))
def test_arbitrary_raw_yaml_text_is_accepted_or_refused_with_a_location(
    key: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Any text pasted unquoted after a key (even breaking the YAML) never crashes plan."""
    lines = _campaign_text().splitlines(keepends=True)
    for n, line in enumerate(lines):
        if line.strip().startswith(f"{key}:"):
            indent = line[: len(line) - len(line.lstrip())]
            lines[n] = f"{indent}{key}: {value}\n"
            break
    else:
        raise AssertionError(f"{key} not in the campaign")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "campaign.yaml").write_bytes("".join(lines).encode("utf-8", errors="replace"))
        (folder / "customers.csv").write_bytes(_csv_bytes([GOOD_ROW], "utf-8"))
        assert_accepted_or_located(plan(folder, capsys))
