"""The strict YAML loader: YAML 1.1 surprises removed, duplicate keys, line map, syntax errors."""

from __future__ import annotations

from typing import Any

import pytest

from runner.campaign._yaml import MAX_NODES, StrictLoader, loader_class, parse_yaml
from runner.errors import SpecError

LOADERS = pytest.mark.parametrize("prefer_c", [True, False], ids=["libyaml", "pure"])


def value_of(scalar: str, *, prefer_c: bool = True) -> Any:
    return parse_yaml(f"v: {scalar}\n", file="t.yaml", prefer_c=prefer_c).data["v"]


@LOADERS
@pytest.mark.parametrize(
    "scalar",
    [
        "007100",
        "NO",
        "no",
        "yes",
        "Yes",
        "on",
        "off",
        "y",
        "True",
        "FALSE",
        "Null",
        "1:20",
        "0x10",
        "0o17",
        "0b101",
        "1e3",
        "1_000",
        ".inf",
        ".nan",
        "2027-03-01",
        "2027-03-01 10:00:00",
        "=",
        "<<",
    ],
)
def test_yaml_1_1_surprises_stay_strings(scalar: str, prefer_c: bool) -> None:
    """Values YAML 1.1 would turn into bools, octal/hex/sexagesimal numbers or dates stay text."""
    assert value_of(scalar, prefer_c=prefer_c) == scalar


@LOADERS
@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("0", 0),
        ("-12", -12),
        ("+3", 3),
        ("6856083179295188426", 6856083179295188426),
        ("10.5", 10.5),
        ("-0.25", -0.25),
        ("'007100'", "007100"),
        ('"true"', "true"),
    ],
)
def test_core_scalars_resolve(scalar: str, expected: object, prefer_c: bool) -> None:
    """Lowercase booleans, null/~/empty, decimal ints and plain decimals resolve; quoted is text."""
    got = value_of(scalar, prefer_c=prefer_c)
    assert got == expected
    assert type(got) is type(expected)


def test_big_ids_stay_exact() -> None:
    """A bare 19-digit id is an exact int (no float rounding), so str() gives it back unchanged."""
    assert str(value_of("6856083179295188427")) == "6856083179295188427"


def test_strict_loader_is_a_safe_loader() -> None:
    """The pure-Python loader subclasses yaml.SafeLoader, and libyaml is used when present."""
    import yaml

    assert issubclass(StrictLoader, yaml.SafeLoader)
    assert loader_class(prefer_c=False) is StrictLoader
    assert issubclass(
        loader_class(), yaml.SafeLoader if not yaml.__with_libyaml__ else yaml.CSafeLoader
    )


@LOADERS
def test_duplicate_key_names_both_lines(prefer_c: bool) -> None:
    """A repeated key is an issue at its key path naming the first and the second line."""
    text = "a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n"
    doc = parse_yaml(text, file="t.yaml", prefer_c=prefer_c)
    assert len(doc.issues) == 1
    issue = doc.issues[0]
    assert issue.yaml_path == "b.c"
    assert issue.line == 5
    assert "first at line 3, again at line 5" in issue.message
    assert doc.data["b"]["c"] == 1


@LOADERS
def test_line_map_covers_keys_and_list_items(prefer_c: bool) -> None:
    """Every key path, including list items and their keys, maps to its 1-based line."""
    text = (
        "campaign: x\nvouchers:\n  ten-off:\n    end_date: 2027-03-31\n"
        "grants:\n  - voucher: a\n    quantity: 2\n  - voucher: b\n"
    )
    lines = parse_yaml(text, file="t.yaml", prefer_c=prefer_c).lines
    assert lines["campaign"] == 1
    assert lines["vouchers.ten-off"] == 3
    assert lines["vouchers.ten-off.end_date"] == 4
    assert lines["grants[0]"] == 6
    assert lines["grants[0].quantity"] == 7
    assert lines["grants[1].voucher"] == 8


@LOADERS
def test_syntax_error_reports_line_and_column(prefer_c: bool) -> None:
    """Broken YAML is a SpecError whose location and message carry the line."""
    with pytest.raises(SpecError) as caught:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", file="t.yaml", prefer_c=prefer_c)
    err = caught.value
    assert err.where.file == "t.yaml"
    assert err.where.line is not None
    assert f"line {err.where.line}" in err.message
    assert "column" in err.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("- a\n- b\n", "must be a mapping"),
        ("just text\n", "must be a mapping"),
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("a: 1\n---\nb: 2\n", "invalid YAML"),
        ("a: !!binary aGVsbG8=\n", "tag"),
        ("? [a, b]\n: 1\n", "mapping key"),
        ("a: &x [1, *x]\n", "alias"),
    ],
)
def test_unreadable_documents_are_spec_errors(text: str, fragment: str) -> None:
    """Non-mapping, empty, multi-document, tagged, complex-key and recursive documents fail."""
    with pytest.raises(SpecError) as caught:
        parse_yaml(text, file="t.yaml")
    assert fragment in caught.value.message
    assert caught.value.where.file == "t.yaml"


def test_alias_bombs_are_refused() -> None:
    """Aliases expanding to more than MAX_NODES values stop reading instead of eating memory."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(SpecError) as caught:
        parse_yaml("\n".join(lines) + "\n", file="t.yaml")
    assert str(MAX_NODES) in caught.value.message
