"""The report's tables as every format shows them: which columns, their headers in Chinese
and English, and what kind of value each holds (text, id, count, money, rate, day).

The XLSX, HTML and CSV writers all take their tables from :func:`report_tables`, so the
three formats always agree on what a table holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import polars as pl

from runner.report._figures import DAY_COLUMNS, FIGURE_COLUMNS, ReportFigures

__all__ = ["Column", "Kind", "Table", "column", "report_tables"]

#: How a value is shown: ``id`` is text that must never become a number.
Kind = Literal["text", "id", "count", "money", "rate", "ratio", "date"]


@dataclass(frozen=True)
class Column:
    """One column: its field name (CSV header), Chinese and English header, kind."""

    name: str
    zh: str
    en: str
    kind: Kind

    @property
    def header(self) -> str:
        """The header people read: Chinese, then English."""
        return " ".join(part for part in (self.zh, self.en) if part)


@dataclass(frozen=True)
class Table:
    """One table of the report: file/sheet name, titles, columns and rows."""

    slug: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    frame: pl.DataFrame

    @property
    def title(self) -> str:
        """The title people read: Chinese, then English."""
        return f"{self.zh} {self.en}"


_COLUMNS: dict[str, tuple[str, str, Kind]] = {
    "voucher_key": ("优惠券", "voucher", "text"),
    "voucher_id": ("优惠券ID", "voucher id", "id"),
    "voucher_name": ("名称", "name", "text"),
    "audience": ("受众", "audience", "text"),
    "segment": ("分组列", "segment", "text"),
    "value": ("分组值", "value", "text"),
    "granted": ("已发放", "granted", "count"),
    "used": ("已使用", "used", "count"),
    "unused": ("未使用", "unused", "count"),
    "expired": ("已过期", "expired", "count"),
    "redemption_rate": ("核销率", "redemption rate", "rate"),
    "order_count": ("订单数", "orders", "count"),
    "order_amount": ("订单金额", "order amount", "money"),
    "discount": ("优惠金额", "discount given", "money"),
    "amount_per_discount": ("订单额/优惠额", "order amount / discount", "ratio"),
    "date": ("日期", "date", "date"),
    "cumulative_used": ("累计使用", "cumulative used", "count"),
    "cumulative_discount": ("累计优惠", "cumulative discount", "money"),
    "instance_id": ("券实例ID", "instance id", "id"),
    "key_kind": ("客户键类型", "key kind", "text"),
    "customer_key": ("客户键", "customer key", "id"),
    "cm_id": ("客户ID", "customer id", "id"),
    "cm_code": ("客户编码", "customer code", "id"),
    "customer_name": ("客户名称", "customer name", "text"),
    "status": ("状态", "status", "text"),
    "distribute_time": ("发放时间", "granted at", "text"),
    "order_id": ("订单ID", "order id", "id"),
    "order_no": ("订单号", "order no", "id"),
    "order_time": ("下单时间", "ordered at", "text"),
    "used_date": ("使用日期", "used on", "date"),
}


def column(name: str, labels: Mapping[str, str] | None = None) -> Column:
    """The column *name*; a segment column is headed by its header text in the audience."""
    if name in _COLUMNS:
        zh, en, kind = _COLUMNS[name]
        return Column(name, zh, en, kind)
    header = (labels or {}).get(name, name)
    return Column(name, header if header != name else "", name, "text")


def _table(slug: str, zh: str, en: str, frame: pl.DataFrame, labels: Mapping[str, str]) -> Table:
    """A table whose columns are the frame's, headed as :func:`column` says."""
    columns = tuple(column(name, labels) for name in frame.columns)
    return Table(slug, zh, en, columns, frame)


def report_tables(figures: ReportFigures, labels: Mapping[str, str]) -> list[Table]:
    """The report's tables in order: totals, vouchers, audiences, segments, days, instances.

    *labels*: a segment column's header text in its audience file (e.g. level → 客户等级).
    """
    return [
        _table("totals", "合计", "totals", figures.totals.select(FIGURE_COLUMNS), labels),
        _table("vouchers", "按优惠券", "by voucher", figures.vouchers, labels),
        _table("audiences", "按受众", "by audience", figures.audiences, labels),
        _table("segments", "按分组", "by segment", figures.segments, labels),
        _table("days", "按日使用", "used by day", figures.days.select(DAY_COLUMNS), labels),
        _table("instances", "券实例明细", "instances", figures.instances, labels),
    ]
