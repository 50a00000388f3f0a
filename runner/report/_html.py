"""The report as one self-contained page, ``report.html``: it opens with no network.

Everything is in the file: the CSS inline, the charts as inline SVG (:mod:`._svg`), no
script, no web font (the system's Chinese fonts are named), no image to fetch; a
Content-Security-Policy forbids any load anyway. The page shows the headline figures,
the charts (redemption rate by voucher and by segment, redemptions per day, cumulative
discount) and the summary tables. A campaign without any usage says so plainly instead
of drawing empty charts. Every text from the campaign or the spreadsheets is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from html import escape

from runner.report._figures import DAY_COLUMNS, FIGURE_COLUMNS
from runner.report._svg import Bar, Point, bar_chart, column_chart, line_chart
from runner.report._tables import Column, column
from runner.summaries import ReportDay, ReportSegment, ReportSummary, UsageFigures

__all__ = ["NO_USAGE_ZH", "html_page"]

NO_USAGE_ZH = "还没有优惠券被使用"
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_CSS = """
:root { color-scheme: light; }
body { margin: 0; background: #f5f7fa; color: #1f2933;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB",
  "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; }
h3 { font-size: 14px; margin: 0 0 6px; color: #3e4c59; }
.meta { color: #616e7c; margin: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
  gap: 12px; margin-top: 18px; }
.card { background: #fff; border-radius: 8px; padding: 12px 14px;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.card .k { color: #616e7c; font-size: 12px; }
.card .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.notice { background: #fff8e1; border: 1px solid #f0c36d; border-radius: 8px;
  padding: 14px 16px; margin-top: 18px; font-size: 15px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr));
  gap: 14px; }
figure { background: #fff; margin: 0; padding: 12px 14px; border-radius: 8px;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); }
svg.chart { width: 100%; height: auto; display: block; }
svg .label, svg .value, svg .axis { font-size: 12px; fill: #3e4c59; }
svg .axis { fill: #7b8794; font-size: 11px; }
svg .track { fill: #eef2f7; }
svg .bar { fill: #3b82c4; }
svg .grid { stroke: #e4e7eb; stroke-width: 1; }
svg .line { fill: none; stroke: #d9822b; stroke-width: 2; }
svg .point { fill: #d9822b; }
.table-wrap { overflow-x: auto; background: #fff; border-radius: 8px;
  box-shadow: 0 1px 2px rgba(0,0,0,.08); margin-bottom: 14px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid #e4e7eb; white-space: nowrap; }
th { background: #e8eef7; text-align: left; font-weight: 600; font-size: 13px;
  vertical-align: bottom; line-height: 1.3; }
th .en { font-weight: 400; color: #52606d; font-size: 12px; }
td.n, th.n { text-align: right; }
tr:last-child td { border-bottom: none; }
footer { color: #7b8794; margin-top: 28px; font-size: 12px; }
"""


def _percent(rate: float | None) -> str:
    """A rate in percent with one decimal (a dash when there is none)."""
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _money(text: str) -> str:
    """Money text with thousands separators and two decimals."""
    return f"{Decimal(text):,.2f}"


def _ratio(value: float | None) -> str:
    """A ratio with two decimals (a dash when there is none)."""
    return "–" if value is None else f"{value:,.2f}"


def _shown(name: str, value: object) -> str:
    """A figure as people read it: rates in percent, money with separators."""
    kind = column(name).kind
    if kind == "rate":
        return _percent(value if isinstance(value, float) else None)
    if kind == "ratio":
        return _ratio(value if isinstance(value, float) else None)
    if kind == "money":
        return _money(str(value))
    if kind == "count" and isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def _card(name: str, figures: UsageFigures) -> str:
    """One headline figure: its name in both languages and its value."""
    head = column(name)
    value = _shown(name, getattr(figures, name))
    return (
        f'<div class="card"><div class="k">{escape(head.zh)} · {escape(head.en)}</div>'
        f'<div class="v" data-figure="{name}">{escape(value)}</div></div>'
    )


def _cards(totals: UsageFigures) -> str:
    """The headline figures of the whole campaign."""
    names = ("granted", "used", "redemption_rate", "order_count", "order_amount", "discount")
    cards = [_card(name, totals) for name in (*names, "amount_per_discount")]
    return f'<section class="cards">{"".join(cards)}</section>'


def _th(head: Column) -> str:
    """A header cell: Chinese above English; numbers' headers right-aligned."""
    cls = "" if head.kind in ("text", "id", "date") else ' class="n"'
    en = f'<span class="en">{escape(head.en)}</span>'
    return f"<th{cls}>{escape(head.zh)}<br>{en}</th>" if head.zh else f"<th{cls}>{en}</th>"


def _table(heads: Sequence[Column], rows: Sequence[Sequence[str]], name: str) -> str:
    """An HTML table with one header row; numbers right-aligned."""
    numeric = ["" if h.kind in ("text", "id", "date") else ' class="n"' for h in heads]
    body = "".join(
        "<tr>"
        + "".join(f"<td{n}>{escape(cell)}</td>" for cell, n in zip(row, numeric, strict=True))
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table data-table="{escape(name)}">'
        f"<thead><tr>{''.join(_th(h) for h in heads)}</tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


def _figure_row(label: str, figures: UsageFigures) -> list[str]:
    """A label and its figures as table cells."""
    return [label, *(_shown(name, getattr(figures, name)) for name in FIGURE_COLUMNS)]


def _figure_table(first: Column, rows: Sequence[tuple[str, UsageFigures]], name: str) -> str:
    """A table of figures, one row per label, headed by *first*."""
    heads = [first, *(column(f) for f in FIGURE_COLUMNS)]
    return _table(heads, [_figure_row(label, figs) for label, figs in rows], name)


def _voucher_label(summary: ReportSummary) -> list[tuple[str, UsageFigures]]:
    """Each voucher labelled by its key and name."""
    return [(f"{v.key} · {v.name}" if v.name else v.key, v) for v in summary.by_voucher]


def _segment_groups(summary: ReportSummary) -> dict[str, list[ReportSegment]]:
    """The segment rows per segment column, in the report's column order."""
    groups: dict[str, list[ReportSegment]] = {c: [] for c in summary.segment_columns}
    for row in summary.by_segment:
        groups.setdefault(row.column, []).append(row)
    return groups


def _rate_bars(rows: Sequence[tuple[str, UsageFigures]]) -> list[Bar]:
    """One bar per label: its redemption rate, with used/granted beside it."""
    return [
        Bar(
            label, f.redemption_rate or 0.0, f"{_percent(f.redemption_rate)} ({f.used}/{f.granted})"
        )
        for label, f in rows
    ]


def _segment_title(name: str, labels: Mapping[str, str]) -> str:
    """A segment column as people read it: its header in the file, then its name."""
    header = labels.get(name)
    return f"{header} {name}" if header and header != name else name


def _rate_charts(summary: ReportSummary, labels: Mapping[str, str]) -> list[str]:
    """Redemption rate by voucher, by audience and by each segment column."""
    charts = [
        _figure_block(
            "核销率（按优惠券）Redemption rate by voucher",
            bar_chart(
                "rate-by-voucher",
                "redemption rate by voucher",
                _rate_bars(_voucher_label(summary)),
                top=1.0,
            ),
        )
    ]
    audiences = [(a.value, a) for a in summary.by_audience]
    if len(audiences) > 1:
        chart = bar_chart(
            "rate-by-audience", "redemption rate by audience", _rate_bars(audiences), top=1.0
        )
        charts.append(_figure_block("核销率（按受众）Redemption rate by audience", chart))
    for name, rows in _segment_groups(summary).items():
        title = _segment_title(name, labels)
        chart = bar_chart(
            f"rate-by-{name}",
            f"redemption rate by {name}",
            _rate_bars([(r.value, r) for r in rows]),
            top=1.0,
        )
        charts.append(_figure_block(f"核销率（按{title}）Redemption rate by {name}", chart))
    return charts


_QUIET = {"used": 0, "order_count": 0, "order_amount": "0.00", "discount": "0.00"}


def _every_day(days: Sequence[ReportDay]) -> list[ReportDay]:
    """*days* with the days between them that saw no use (0 used, running totals kept)."""
    if not days:
        return []
    known = {d.date: d for d in days}
    first, last = date.fromisoformat(days[0].date), date.fromisoformat(days[-1].date)
    out: list[ReportDay] = []
    for n in range((last - first).days + 1):
        day = (first + timedelta(days=n)).isoformat()
        quiet = out[-1].model_copy(update={"date": day, **_QUIET}) if out else None
        out.append(known.get(day) or quiet or days[0])
    return out


def _day_charts(days: Sequence[ReportDay]) -> list[str]:
    """Redemptions per day (columns) and the cumulative discount (a line), every day from
    the first use to the last."""
    every = _every_day(days)
    used = [Point(d.date, float(d.used), f"{d.used:,} used") for d in every]
    total = [
        Point(d.date, float(Decimal(d.cumulative_discount)), _money(d.cumulative_discount))
        for d in every
    ]
    return [
        _figure_block(
            "每日核销 Redemptions per day",
            column_chart("used-per-day", "redemptions per day", used),
        ),
        _figure_block(
            "累计优惠金额 Cumulative discount",
            line_chart("cumulative-discount", "cumulative discount", total),
        ),
    ]


def _figure_block(title: str, svg: str) -> str:
    """A chart in its card, under its title."""
    return f"<figure><h3>{escape(title)}</h3>{svg}</figure>"


def _usage_section(summary: ReportSummary, labels: Mapping[str, str]) -> str:
    """The charts, or the plain statement that nothing was used yet."""
    if not summary.any_usage:
        return (
            f'<p class="notice" id="no-usage"><b>{NO_USAGE_ZH}</b> — {escape(summary.message)}.'
            f" {summary.totals.granted:,} granted · 已发放 {summary.totals.granted:,}</p>"
        )
    charts = _rate_charts(summary, labels) + _day_charts(summary.by_day)
    return f'<h2>图表 Charts</h2><section class="charts">{"".join(charts)}</section>'


def _tables(summary: ReportSummary, labels: Mapping[str, str]) -> str:
    """The summary tables: by voucher, audience, each segment column and day."""
    parts = [
        "<h2>按优惠券 By voucher</h2>",
        _figure_table(column("voucher_key"), _voucher_label(summary), "vouchers"),
        "<h2>按受众 By audience</h2>",
        _figure_table(
            column("audience"),
            [(a.value, a) for a in summary.by_audience],
            "audiences",
        ),
    ]
    for name, rows in _segment_groups(summary).items():
        title = _segment_title(name, labels)
        parts.append(f"<h2>按分组 By segment: {escape(title)}</h2>")
        head = column(name, labels)
        parts.append(_figure_table(head, [(r.value, r) for r in rows], f"by-{name}"))
    if summary.by_day:
        parts.append("<h2>按日使用 Used by day</h2>")
        parts.append(_day_table(summary.by_day))
    return "".join(parts)


def _day_table(days: Sequence[ReportDay]) -> str:
    """The table of days with use, and the running totals."""
    rows = [[_shown(f, getattr(d, f)) for f in DAY_COLUMNS] for d in days]
    return _table([column(f) for f in DAY_COLUMNS], rows, "days")


def _header(summary: ReportSummary) -> str:
    """The page's title line: the campaign, when, and what was used."""
    return (
        f"<header><h1>核销报告 Redemption report · {escape(summary.campaign)}</h1>"
        f'<p class="meta">生成于 generated {escape(summary.generated_at)} (北京时间 Beijing time)'
        f" · {escape(summary.message)}</p></header>"
    )


def html_page(summary: ReportSummary, labels: Mapping[str, str]) -> str:
    """The whole page; *labels*: a segment column's header text in its audience file."""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>核销报告 Redemption report · {escape(summary.campaign)}</title>"
        f"<style>{_CSS}</style></head><body><main>"
        f"{_header(summary)}{_cards(summary.totals)}{_usage_section(summary, labels)}"
        f"{_tables(summary, labels)}"
        "<footer>campaign-runner · runner report · 数据来自 queryVoucherUsedInfo</footer>"
        "</main></body></html>\n"
    )
