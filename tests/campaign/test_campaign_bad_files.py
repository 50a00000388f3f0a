"""Every ``campaigns/bad/*.yaml`` marked ``# phase: spec`` fails with its expected message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner.campaign import load_campaign
from runner.errors import InputError

from .helpers import ENV, TODAY

BAD = Path(__file__).resolve().parents[2] / "campaigns" / "bad"
HEADER = re.compile(r"# expect: (?P<expect>.+)\n# phase: (?P<phase>\w+)\n")


def spec_files() -> list[tuple[Path, str]]:
    """(file, expected substring) for each bad file whose header says phase spec."""
    found = []
    for path in sorted(BAD.glob("*.yaml")):
        header = HEADER.match(path.read_text(encoding="utf-8"))
        if header is not None and header["phase"] == "spec":
            found.append((path, header["expect"].strip()))
    return found


FILES = spec_files()


def test_bad_files_exist() -> None:
    """The spec-level bad examples are present and numbered 10..49."""
    assert len(FILES) >= 30
    for path, _ in FILES:
        assert 10 <= int(path.name[:2]) <= 49, path.name


@pytest.mark.parametrize(("path", "expect"), FILES, ids=[p.stem for p, _ in FILES])
def test_bad_file_fails_with_expected_message_and_line(path: Path, expect: str) -> None:
    """Loading fails with a problem that contains the expected text and names file and line."""
    with pytest.raises(InputError) as caught:
        load_campaign(path, env=ENV, today=TODAY)
    assert expect in str(caught.value)
    matching = [p for p in caught.value.problems() if expect in p.message]
    assert matching, [str(p) for p in caught.value.problems()]
    assert matching[0].where.line is not None
    assert matching[0].where.file == str(path)
