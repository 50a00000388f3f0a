"""Helpers for the plan tests: small campaigns and audiences written in a temporary folder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from runner.clock import beijing_today
from runner.errors import Location
from runner.sheets import ROW, AudienceTable, KeyKind
from tests.builders import AUDIENCE_HEADER, campaign_yaml, write_audience_csv, write_campaign_file

TODAY = date(2026, 11, 28)  # what load_plan is told; the vouchers' dates are after it
START, END = "2027-03-01", "2027-03-31"
ID_A = "6856083179295188426"  # 19 digits, beyond 2**53
ID_B = "8833956197749704288"
ID_C = "9139133117350330302"
ID_D = "7087421684223516948"

# id, code, name, level, qty
ROWS: tuple[tuple[str, str, str, str, str], ...] = (
    (ID_A, "CUS010043", "南京天成建材店", "A", "2"),
    (ID_B, "CUS010001", "上海佳和卫浴店", "B", "1"),
    (ID_C, "CUS010002", "苏州宏发灯饰店", "C", "3"),
    (ID_D, "CUS010003", "宁波佳和建材店", "A", "0"),
)


def write_csv(
    path: Path, rows: Sequence[Sequence[str]] = ROWS, header: Sequence[str] = AUDIENCE_HEADER
) -> Path:
    """A UTF-8 CSV with the given header and rows (every value written as text)."""
    return write_audience_csv(path, rows, header)


AUDIENCE = """  east:
    file: customers.csv
    key: {key}
    columns: {{cm_id: 客户ID, cm_code: 客户编码, cm_name: 客户名称, level: 客户等级, qty: 数量}}
"""

VOUCHER = """  {key}:
    name: 满100减10
    start_date: {start}
    end_date: {end}
    money: "10.00"
    grant_type: HDFF
    customers: {customers}
    products: {{mode: ALL}}
"""


def voucher(
    key: str = "ten-off",
    customers: str = "specific",
    *,
    start: str = START,
    end: str = END,
    **extra: str,
) -> str:
    """One voucher block; ``extra`` adds keys verbatim (values are YAML text)."""
    text = VOUCHER.format(key=key, customers=customers, start=start, end=end)
    return text + "".join(f"    {name}: {value}\n" for name, value in extra.items())


def dates_from_today() -> dict[str, str]:
    """Voucher dates valid on any day the tests run (today in Beijing, plus 30 days).

    For `runner plan` through the CLI, which always checks against the real today.
    """
    today = beijing_today()
    return {"start": today.isoformat(), "end": (today + timedelta(days=30)).isoformat()}


def grant(
    voucher_key: str = "ten-off",
    audience: str = "east",
    *,
    where: str | None = None,
    quantity: str = "qty",
) -> str:
    """One grants entry."""
    text = f"  - voucher: {voucher_key}\n    audience: {audience}\n"
    if where is not None:
        text += f'    where: "{where}"\n'
    return text + f"    quantity: {quantity}\n"


def campaign_text(
    *,
    vouchers: str | None = None,
    grants: str | None = None,
    audiences: str | None = None,
    key: str = "cm_code",
    top: str = "",
) -> str:
    """A whole campaign file; defaults: one specific voucher granted qty to the east CSV."""
    return campaign_yaml(
        "test-plan",
        top=top,
        audiences=audiences if audiences is not None else AUDIENCE.format(key=key),
        vouchers=vouchers if vouchers is not None else voucher(),
        grants=grants if grants is not None else grant(),
    )


def write_campaign(folder: Path, text: str, rows: Sequence[Sequence[str]] = ROWS) -> Path:
    """campaign.yaml plus customers.csv (the default audience file) in ``folder``."""
    write_csv(folder / "customers.csv", rows)
    return write_campaign_file(folder / "campaign.yaml", text)


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line of a file that contains ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def audience(
    columns: Mapping[str, Sequence[str | None]],
    *,
    name: str = "east",
    key: KeyKind = "cm_code",
    path: str = "east.csv",
) -> AudienceTable:
    """An in-memory audience: mapped columns (our names) with the given values, rows 2..n+1."""
    frame = pl.DataFrame(
        {ours: list(values) for ours, values in columns.items()},
        schema=dict.fromkeys(columns, pl.String()),
    )
    frame = frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(ROW))
    mapping = {ours: f"header {ours}" for ours in columns}
    return AudienceTable(name, Path(path), None, key, frame, mapping, None)


def locate(yaml_path: str) -> Location:
    """A stand-in for Campaign.location: file c.yaml, line 7."""
    return Location(file="c.yaml", yaml_path=yaml_path, line=7)
