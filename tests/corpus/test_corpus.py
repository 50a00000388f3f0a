"""The corpus of bad inputs: each case folder is planned, and a refused one run, through the CLI.

Every folder of ``tests/corpus/`` with an ``expect.yaml`` is one case (README.md in this
folder describes the format). The case is copied to a temporary folder (placeholders such
as ``{{today+30}}`` substituted, generated files written), then ``runner plan`` runs on it
in-process through :func:`runner.cli.main` with ``--json``: its exit code, the error's
message and every ``where`` field expected must match one located problem of the JSON
error. A refused case is also run (``runner run --yes``) against an in-process sandbox,
which must exit with the same code and receive no request at all.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.cli import main
from runner.clock import beijing_today
from runner.sandbox import SandboxServer
from runner.sandbox.testing import inspect, running_sandbox

CORPUS = Path(__file__).resolve().parent
WHERE_FIELDS = frozenset({"file", "sheet", "row", "column", "yaml_path", "line", "job_id"})
EXPECT_KEYS = frozenset(
    {"why", "exit", "message", "hint", "where", "read_as", "generate", "known_bug", "slow"}
)
#: No message may quote more of the input than this many characters.
MAX_MESSAGE = 2_000
READ_AS_KEYS = frozenset({"grants", "customers", "rows", "vouchers", "preview_contains"})
_PLACEHOLDER = re.compile(rb"\{\{today(?:([+-])(\d+))?\}\}")
_SUBSTITUTED = (".yaml", ".yml")


@dataclass(frozen=True)
class Outcome:
    """What one CLI command did: its exit code, stdout, and the JSON error on stderr if any."""

    code: int
    out: str
    error: dict[str, Any] | None


def case_folders() -> list[Path]:
    """Every case folder of the corpus, in name order."""
    return sorted(p for p in CORPUS.iterdir() if (p / "expect.yaml").is_file())


def _param(folder: Path) -> Any:
    expect = yaml.safe_load((folder / "expect.yaml").read_text(encoding="utf-8"))
    marks: list[pytest.MarkDecorator] = []
    if expect.get("known_bug"):
        marks.append(pytest.mark.xfail(reason=str(expect["known_bug"]), strict=True))
    if expect.get("slow"):
        marks.append(pytest.mark.slow)
    return pytest.param(folder, id=folder.name, marks=marks)


CASES = [_param(folder) for folder in case_folders()]


def substitute(data: bytes) -> bytes:
    """``data`` with ``{{today}}``, ``{{today+N}}`` and ``{{today-N}}`` as Beijing dates
    (bytes, so that a file in any encoding keeps its other bytes)."""

    def date_of(match: re.Match[bytes]) -> bytes:
        sign, days = match.group(1), int(match.group(2) or 0)
        day = beijing_today() + timedelta(days=-days if sign == b"-" else days)
        return day.isoformat().encode("ascii")

    return _PLACEHOLDER.sub(date_of, data)


def generate(folder: Path, spec: Mapping[str, Any]) -> None:
    """Write one generated file: ``text`` repeated ``repeat`` times; or a header, ``rows``
    rows from the ``row`` template (``{n}`` counts from 1), then the ``tail`` lines. In
    ``encoding`` (default UTF-8)."""
    encoding = spec.get("encoding", "utf-8")
    if "repeat" in spec:
        (folder / spec["file"]).write_bytes(str(spec["text"]).encode(encoding) * spec["repeat"])
        return
    buffer = io.StringIO()
    buffer.write(spec["header"] + "\n")
    template = str(spec["row"])
    for n in range(1, int(spec["rows"]) + 1):
        buffer.write(template.format(n=n) + "\n")
    for line in spec.get("tail", []):
        buffer.write(str(line) + "\n")
    (folder / spec["file"]).write_bytes(buffer.getvalue().encode(encoding))


def prepare(case: Path, into: Path) -> tuple[Path, dict[str, Any]]:
    """Copy ``case`` into ``into``: YAML placeholders substituted, ``*.gz`` unpacked,
    generated files written. Returns the campaign file and the case's expectations."""
    into.mkdir(parents=True)
    for source in case.iterdir():
        if source.is_dir() or source.name == "__pycache__":
            continue
        if source.suffix in _SUBSTITUTED:
            (into / source.name).write_bytes(substitute(source.read_bytes()))
        elif source.suffix == ".gz":
            (into / source.stem).write_bytes(gzip.decompress(source.read_bytes()))
        else:
            shutil.copyfile(source, into / source.name)
    expect = yaml.safe_load((into / "expect.yaml").read_text(encoding="utf-8"))
    assert isinstance(expect, dict), f"{case.name}/expect.yaml is not a mapping"
    unknown = set(expect) - EXPECT_KEYS
    assert not unknown, f"{case.name}/expect.yaml: unknown keys {sorted(unknown)}"
    for spec in expect.get("generate", []):
        generate(into, spec)
    return into / "campaign.yaml", expect


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Outcome:
    """``runner --log-format json ARGV`` in-process: exit code, stdout, the JSON error."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["--log-format", "json", "--log-level", "error", *argv])
    captured = capsys.readouterr()
    assert isinstance(exited.value.code, int)
    return Outcome(exited.value.code, captured.out, _error_of(captured.err))


def _error_of(err: str) -> dict[str, Any] | None:
    """The ``kind: error`` object among the JSON lines of stderr, if there is one."""
    for line in reversed(err.strip().splitlines()):
        try:
            payload = json.loads(line)
        except ValueError:
            continue
        if isinstance(payload, dict) and payload.get("kind") == "error":
            return payload
    return None


def matching_problem(error: Mapping[str, Any], expect: Mapping[str, Any]) -> dict[str, Any]:
    """The first problem of ``error`` whose message holds the expected text and whose
    location has every expected field (a file compared by its name); fails otherwise."""
    where = dict(expect.get("where") or {})
    unknown = set(where) - WHERE_FIELDS
    assert not unknown, f"unknown where fields {sorted(unknown)}"
    problems = error["problems"] or [{"message": error["message"], "where": {}, "hint": None}]
    for problem in problems:
        if expect["message"] in problem["message"] and _located(problem["where"], where):
            return dict(problem)
    shown = "\n".join(f"  {p['message']!r} at {p['where']}" for p in problems)
    raise AssertionError(
        f"no problem with {expect['message']!r} at {where}; the problems were:\n{shown}"
    )


def _located(actual: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    for name, value in wanted.items():
        found = actual.get(name)
        if name == "file" and found is not None:
            found = Path(str(found)).name
        if found != value:
            return False
    return True


def check_read_as(state: Path, plan: Mapping[str, Any], read_as: Mapping[str, Any]) -> None:
    """An accepted case's plan holds what ``read_as`` says: the grants, the customer keys,
    their source rows, fields of its vouchers, and text of the preview."""
    unknown = set(read_as) - READ_AS_KEYS
    assert not unknown, f"unknown read_as keys {sorted(unknown)}"
    folder = state / str(plan["campaign"])
    with (folder / "plan.csv").open(encoding="utf-8-sig", newline="") as handle:
        jobs = list(csv.DictReader(handle))
    if "grants" in read_as:
        assert plan["grants"]["total"] == read_as["grants"]
    if "customers" in read_as:
        assert sorted({job["customer_key"] for job in jobs}) == sorted(read_as["customers"])
    if "rows" in read_as:
        assert sorted({int(job["source_row"]) for job in jobs}) == sorted(read_as["rows"])
    vouchers = {voucher["key"]: voucher for voucher in plan["vouchers"]}
    for key, fields in (read_as.get("vouchers") or {}).items():
        shown = {name: vouchers[key].get(name) for name in fields}
        assert shown == fields, f"voucher {key}: {shown} != {fields}"
    wanted = read_as.get("preview_contains", [])
    preview = (folder / "preview.md").read_text(encoding="utf-8")
    for text in [wanted] if isinstance(wanted, str) else wanted:
        assert text in preview, f"{text!r} not in preview.md"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """One sandbox for the module: refused cases must never reach it."""
    with running_sandbox(generate=20, seed=12) as server:
        yield server


def test_the_corpus_holds_enough_cases() -> None:
    """The corpus has at least 60 cases of its own (d-*), each named NN-short-name."""
    own = [p.name for p in case_folders() if p.name.startswith("d-")]
    assert len(own) >= 60, own
    assert all(re.fullmatch(r"d-\d{2}-[a-z0-9-]+", name) for name in own), own


@pytest.mark.parametrize("case", CASES)
def test_case(
    case: Path,
    tmp_path: Path,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`runner plan` ends as expect.yaml says; a refused case sends nothing on `runner run`."""
    campaign, expect = prepare(case, tmp_path / case.name)
    state = tmp_path / "state"
    planned = run_cli(["plan", str(campaign), "--state-dir", str(state), "--json"], capsys)
    assert planned.code == expect["exit"], planned.error
    if expect["exit"] == 0:
        check_read_as(state, json.loads(planned.out), expect.get("read_as") or {})
        return
    assert planned.error is not None, "no JSON error on stderr"
    assert planned.error["exit_code"] == expect["exit"]
    assert planned.error["traceback"] is None, planned.error["traceback"]
    longest = max((len(p["message"]) for p in planned.error["problems"]), default=0)
    assert longest <= MAX_MESSAGE, f"a message of {longest} characters quotes too much input"
    problem = matching_problem(planned.error, expect)
    if "hint" in expect:
        assert expect["hint"] in (problem["hint"] or ""), problem
    assert_nothing_sent(campaign, tmp_path / "run-state", sandbox, monkeypatch, capsys, expect)


def assert_nothing_sent(
    campaign: Path,
    state: Path,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    expect: Mapping[str, Any],
) -> None:
    """`runner run --yes` on a refused case exits as plan did and no request arrives."""
    base_url = sandbox.base_url
    before = _received(inspect(base_url))
    monkeypatch.setenv("WAIQIN_BASE_URL", base_url)
    monkeypatch.setenv("WAIQIN_OPENID", sandbox.config.openid)
    monkeypatch.setenv("WAIQIN_APPKEY", sandbox.config.appkey)
    ran = run_cli(["run", str(campaign), "--yes", "--state-dir", str(state), "--json"], capsys)
    assert ran.code == expect["exit"], ran.error
    after = inspect(base_url)
    assert _received(after) == before, "a refused campaign reached the sandbox"
    assert after["vouchers"] == []


def _received(state: Mapping[str, Any]) -> int:
    counters: Mapping[str, Mapping[str, int]] = state["counters"]
    return sum(row.get("received", 0) for row in counters.values())
