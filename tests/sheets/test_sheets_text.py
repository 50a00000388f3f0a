"""Unit checks of the small helpers: trimming, damaged-id patterns, decoding, column letters."""

from __future__ import annotations

import codecs

import pytest

from runner.sheets.celltypes import column_index
from runner.sheets.text import DecodeFailure, decode, looks_damaged, trim


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" a ", "a"),
        ("\u3000客户\u3000", "客户"),
        ("\u00a0x\t\r\n", "x"),
        ("a b", "a b"),
        ("\u3000 \u00a0", None),
        ("", None),
        (None, None),
    ],
)
def test_trim(raw: str | None, expected: str | None) -> None:
    """trim strips ASCII, full-width and no-break spaces at both ends; empty becomes None."""
    assert trim(raw) == expected


@pytest.mark.parametrize(
    ("value", "damaged"),
    [
        ("6.85608E+18", True),
        ("6.85608e18", True),
        ("6E18", True),
        ("6856083179295188000.0", True),
        ("123.00", True),
        ("6856083179295188426", False),
        ("CUS010043", False),
        ("007100", False),
        ("E18", False),
        ("1.5", False),
    ],
)
def test_looks_damaged(value: str, damaged: bool) -> None:
    """Scientific notation and integers with a ".0" tail are damaged ids; plain ids are not."""
    assert looks_damaged(value) is damaged


def test_decode_prefers_utf8_then_gb18030() -> None:
    """auto picks utf-8 for valid UTF-8 and gb18030 otherwise."""
    assert decode("客户".encode(), "auto").encoding == "utf-8"
    assert decode("客户".encode("gb18030"), "auto").encoding == "gb18030"
    assert decode(codecs.BOM_UTF8 + b"x", "auto").text == "x"


def test_decode_of_undecodable_bytes_names_the_line() -> None:
    """Bytes valid in neither encoding raise DecodeFailure with the 1-based line."""
    with pytest.raises(DecodeFailure) as excinfo:
        decode(b"a\nb\n\x81\x20\n", "auto")
    assert excinfo.value.line == 3


@pytest.mark.parametrize(("letters", "index"), [("A", 0), ("Z", 25), ("AA", 26), ("XFD", 16383)])
def test_column_index(letters: str, index: int) -> None:
    """Excel column letters map to 0-based indexes."""
    assert column_index(letters) == index
