"""The JSON Schema of the campaign file, and ``runner schema``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runner.campaign import json_schema
from runner.cli import main

TOP_LEVEL = {
    "campaign",
    "api",
    "budget",
    "audience_root",
    "audiences",
    "vouchers",
    "grants",
    "state_dir",
    "notify",
}


def walk(node: Any) -> list[dict[str, Any]]:
    """Every mapping inside a JSON value."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += walk(value)
    elif isinstance(node, list):
        for value in node:
            found += walk(value)
    return found


def test_schema_top_level_structure() -> None:
    """The schema is draft 2020-12, lists the top-level keys, requires two, forbids others."""
    schema = json_schema()
    assert next(iter(schema)) == "$schema"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert set(schema["properties"]) == TOP_LEVEL
    assert set(schema["required"]) == {"campaign", "vouchers"}
    assert schema["additionalProperties"] is False


def test_every_object_forbids_unknown_keys() -> None:
    """Every model definition sets additionalProperties: false, like the loader."""
    defs = json_schema()["$defs"]
    assert {"Voucher", "AudienceSpec", "Grant", "ApiSettings", "CustomerScope"} <= set(defs)
    for name, definition in defs.items():
        assert definition["additionalProperties"] is False, name


def test_every_property_has_a_description() -> None:
    """Each key of each object has a description for editor tooltips."""
    schema = json_schema()
    objects = [schema, *schema["$defs"].values()]
    for obj in objects:
        for key, prop in obj["properties"].items():
            assert prop.get("description"), f"{obj.get('title')}.{key}"


def test_every_reference_resolves() -> None:
    """Every $ref points at a definition that exists."""
    schema = json_schema()
    refs = [n["$ref"] for n in walk(schema) if "$ref" in n]
    assert refs
    for ref in refs:
        assert ref.startswith("#/$defs/")
        assert ref.removeprefix("#/$defs/") in schema["$defs"]


def test_schema_encodes_key_rules() -> None:
    """Dates, amounts, the appkey reference and enums are visible to editors."""
    defs = json_schema()["$defs"]
    voucher = defs["Voucher"]["properties"]
    assert voucher["end_date"]["format"] == "date"
    assert "pattern" in voucher["money"]
    assert voucher["pay_type"]["enum"] == ["UNLIMITED", "ONLINE"]
    appkey = defs["ApiSettings"]["properties"]["appkey"]
    assert any(p.get("pattern", "").startswith("^\\$\\{") for p in walk(appkey))


def test_runner_schema_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """``runner schema`` prints valid, unescaped JSON equal to json_schema() and exits 0."""
    with pytest.raises(SystemExit) as exited:
        main(["schema"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert json.loads(out) == json_schema()
    assert "陶瓷店" in out
