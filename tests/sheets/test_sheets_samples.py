"""The committed samples read cleanly, match the sandbox registry, and rebuild byte for byte."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

from runner.sheets import AudienceTable, check_quantity, read_audience

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
COLUMNS = {
    "cm_id": "客户ID",
    "cm_code": "客户编码",
    "name": "客户名称",
    "level": "客户等级",
    "type": "客户类型",
    "qty": "数量",
}
FILES = ["customers_east.xlsx", "customers_north.csv", "sandbox_customers.csv"]


def load(name: str) -> AudienceTable:
    return read_audience(name, SAMPLES / name, key="cm_id", columns=COLUMNS)


def registry() -> pl.DataFrame:
    return pl.read_csv(SAMPLES / "sandbox_customers.csv", infer_schema=False)


def make_samples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_samples", module)
    spec.loader.exec_module(module)
    return module


def test_east_sample_reads_forty_text_ids() -> None:
    """customers_east.xlsx: sheet 客户, 40 customers, 19-digit ids as text, valid quantities."""
    east = load("customers_east.xlsx")
    assert east.sheet == "客户"
    assert east.frame.height == 40
    assert all(len(i) == 19 and i.isdigit() for i in east.frame["cm_id"])
    assert set(east.frame["level"]) <= {"A", "B", "C"}
    assert check_quantity(east, "qty") == []


def test_north_sample_is_gb18030_trimmed_without_its_blank_row() -> None:
    """customers_north.csv: GB18030, 30 customers, full-width padding trimmed, 𠮷 intact."""
    north = load("customers_north.csv")
    assert north.encoding == "gb18030"
    assert north.frame.height == 30
    raw = (SAMPLES / "customers_north.csv").read_bytes().decode("gb18030")
    assert "\u3000" in raw
    assert not any("\u3000" in n or n != n.strip() for n in north.frame["name"])
    assert any("𠮷" in n for n in north.frame["name"])
    assert check_quantity(north, "qty") == []


@pytest.mark.parametrize("name", ["customers_east.xlsx", "customers_north.csv"])
def test_every_sample_customer_is_in_the_sandbox_registry(name: str) -> None:
    """Each sample customer's id, code and name are a row of sandbox_customers.csv."""
    sample = load(name).frame.select(id="cm_id", code="cm_code", name="name")
    joined = sample.join(registry(), on=["id", "code", "name"], how="anti")
    assert joined.height == 0


def test_registry_has_unique_text_ids_and_extra_customers() -> None:
    """The registry has the documented columns, unique 19-digit ids and 200 more customers."""
    reg = registry()
    assert reg.columns == [
        "id", "code", "source_code", "name", "level", "type", "dept", "label", "district",
    ]  # fmt: skip
    assert reg.height == 40 + 30 + 200
    assert reg["id"].n_unique() == reg.height
    assert reg["code"].n_unique() == reg.height
    assert all(len(i) == 19 for i in reg["id"])


def test_generator_rebuilds_the_committed_files(tmp_path: Path) -> None:
    """make_samples.build writes the same bytes as the committed samples (deterministic)."""
    make_samples().build(tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name
