"""Rebuild the sample spreadsheets deterministically (same bytes on every run).

Writes, into the folder given (default: this script's folder):

- ``customers_east.xlsx``: sheet ``客户``, Chinese headers, 40 customers; the 19-digit
  ids are TEXT cells, the quantities numbers.
- ``customers_north.csv``: GB18030 CSV with the same headers, 30 customers, some values
  padded with full-width spaces, one blank row, and a name outside GBK (𠮷).
- ``sandbox_customers.csv``: UTF-8 registry for the sandbox (``id, code, source_code,
  name, level, type, dept, label, district``) holding every sample customer plus 200 more.

Usage: ``python samples/make_samples.py [OUT_DIR]``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

SEED = 20240601
HEADERS = [
    "客户ID",
    "客户编码",
    "客户名称",
    "客户等级",
    "客户类型",
    "部门",
    "标签",
    "销售区域",
    "数量",
]
REGISTRY_COLUMNS = [
    "id",
    "code",
    "source_code",
    "name",
    "level",
    "type",
    "dept",
    "label",
    "district",
]
EAST_COUNT, NORTH_COUNT, EXTRA_COUNT = 40, 30, 200
CREATED = dt.datetime(2024, 6, 1, 9, 0, 0)

_TYPES = ["陶瓷店", "五金店", "建材店", "卫浴店", "灯饰店"]
_LABELS = ["重点客户", "新客户", "普通客户", "战略客户"]
_WORDS = [
    "顺达",
    "兴隆",
    "恒源",
    "金盛",
    "宏发",
    "永安",
    "鑫旺",
    "华美",
    "天成",
    "佳和",
    "嘉禾",
    "福瑞",
]
_REGIONS = {
    "east": (["上海", "杭州", "南京", "苏州", "宁波"], ["华东一部", "华东二部"]),
    "north": (["北京", "天津", "石家庄", "济南", "太原"], ["华北一部", "华北二部"]),
    "south": (["广州", "佛山", "深圳", "东莞", "厦门"], ["华南一部", "华南二部"]),
}


@dataclass(frozen=True)
class Customer:
    """One customer as the vendor's system knows it, plus a quantity for the samples."""

    id: str
    code: str
    source_code: str
    name: str
    level: str
    type: str
    dept: str
    label: str
    district: str
    qty: int

    def sheet_row(self) -> list[str]:
        return [self.id, self.code, self.name, self.level, self.type, self.dept, self.label,
                self.district, str(self.qty)]  # fmt: skip

    def registry_row(self) -> list[str]:
        return [self.id, self.code, self.source_code, self.name, self.level, self.type,
                self.dept, self.label, self.district]  # fmt: skip


def make_customers(rng: random.Random, region: str, count: int, first: int) -> list[Customer]:
    """``count`` customers of one region, codes numbered from ``first``."""
    cities, depts = _REGIONS[region]
    out: list[Customer] = []
    for n in range(first, first + count):
        city, kind = rng.choice(cities), rng.choice(_TYPES)
        out.append(
            Customer(
                id=str(rng.randrange(6_800_000_000_000_000_000, 9_200_000_000_000_000_000)),
                code=f"CUS{n:06d}",
                source_code=f"ERP{rng.randrange(10_000_000, 99_999_999)}",
                name=f"{city}{rng.choice(_WORDS)}{kind}{n % 100:02d}",
                level=rng.choice("ABC"),
                type=kind,
                dept=rng.choice(depts),
                label=rng.choice(_LABELS),
                district=city,
                qty=rng.randint(1, 3),
            )
        )
    return out


def write_east(path: Path, customers: list[Customer]) -> None:
    """The XLSX sample: ids and codes as text cells, quantity as numbers."""
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": CREATED, "author": "campaign-runner samples"})
    sheet = workbook.add_worksheet("客户")
    bold, text = workbook.add_format({"bold": True}), workbook.add_format({"num_format": "@"})
    for col, header in enumerate(HEADERS):
        sheet.write_string(0, col, header, bold)
    for row, customer in enumerate(customers, start=1):
        cells = customer.sheet_row()
        for col, value in enumerate(cells[:-1]):
            sheet.write_string(row, col, value, text)
        sheet.write_number(row, len(cells) - 1, customer.qty)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, len(HEADERS) - 1, 12)
    workbook.close()


def write_north(path: Path, customers: list[Customer]) -> None:
    """The GB18030 CSV sample: full-width padding here and there, one blank row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for index, customer in enumerate(customers):
        cells = customer.sheet_row()
        if index % 4 == 1:
            cells[2] = f"\u3000{cells[2]}\u3000"
        if index % 5 == 2:
            cells[1] = f" {cells[1]}\u3000"
        writer.writerow(cells)
        if index == len(customers) // 2:
            writer.writerow([""] * len(HEADERS))
    path.write_bytes(buffer.getvalue().encode("gb18030"))


def write_registry(path: Path, customers: list[Customer]) -> None:
    """The sandbox's customer registry: UTF-8, ids as text, sorted by code."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REGISTRY_COLUMNS)
    for customer in sorted(customers, key=lambda c: c.code):
        writer.writerow(customer.registry_row())
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def build(out: Path) -> list[Path]:
    """Write the three sample files into ``out`` and return their paths."""
    rng = random.Random(SEED)
    east = make_customers(rng, "east", EAST_COUNT, 10001)
    north = make_customers(rng, "north", NORTH_COUNT, 10001 + EAST_COUNT)
    north[7] = _rename(north[7], "北京𠮷祥建材店07")
    extra = make_customers(rng, "south", EXTRA_COUNT, 10001 + EAST_COUNT + NORTH_COUNT)
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        out / "customers_east.xlsx",
        out / "customers_north.csv",
        out / "sandbox_customers.csv",
    ]
    write_east(paths[0], east)
    write_north(paths[1], north)
    write_registry(paths[2], east + north + extra)
    return paths


def _rename(customer: Customer, name: str) -> Customer:
    fields = {**customer.__dict__, "name": name}
    return Customer(**fields)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for written in build(target):
        print(written)
