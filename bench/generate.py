"""Large, realistic inputs for the benchmarks: a customer CSV and a campaign granting it.

``python -m bench.generate DIR --customers 1000000`` writes ``DIR/customers.csv`` (UTF-8:
19-digit customer ids, 9-character codes, Chinese shop names, a level, a batch and a
quantity) and ``DIR/campaign.yaml``: one voucher per batch (``where: "batch = 'NN'"``),
with as many batches as keep every voucher under the API's 99,999 grants. ``--double``
is the share of customers whose quantity is 2 (0.2 turns 1M customers into ~1.2M
grants, beyond what one Excel sheet holds).

Everything is computed by polars from a seeded generator: 1M rows take a few seconds.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import polars as pl

__all__ = ["write_campaign", "write_customers"]

_PER_VOUCHER = 90_000  # grants per voucher aimed at; the API's cap is 99,999
_CITIES = ("上海", "苏州", "杭州", "南京", "宁波", "合肥", "无锡", "常州", "温州", "嘉兴")
_NAMES = ("佳和", "宏发", "天成", "鑫源", "恒达", "盛世", "金鼎", "华美", "永兴", "福临")
_KINDS = ("建材店", "卫浴店", "灯饰店", "陶瓷店", "五金店", "家居馆")


def write_customers(path: Path, customers: int, *, double: float = 0.0, seed: int = 7) -> int:
    """Write the customer CSV; returns the number of batches (vouchers) it needs."""
    grants = customers * (1 + double)
    batches = max(1, math.ceil(grants / _PER_VOUCHER))

    def draw(salt: int, modulo: int) -> pl.Expr:
        # seeded pseudo-random integers in [0, modulo), the same on every run
        return (pl.col("i").hash(seed * 1_000 + salt) % modulo).cast(pl.Int64)

    frame = (
        pl.DataFrame({"i": pl.int_range(0, customers, eager=True)})
        .with_columns(
            # 19-digit ids beyond 2**53 (a float would lose them), unique by construction
            (
                6_000_000_000_000_000_000
                + pl.col("i").cast(pl.UInt64) * 2_999_999_999_999
                + draw(1, 1_000).cast(pl.UInt64)
            ).alias("客户ID"),
            draw(2, len(_CITIES)).alias("city"),
            draw(3, len(_NAMES)).alias("name"),
            draw(4, len(_KINDS)).alias("kind"),
            draw(5, 3).alias("level"),
            (draw(6, 1_000_000) < int(double * 1_000_000)).alias("two"),
        )
        .select(
            pl.col("客户ID").cast(pl.String),
            pl.format("CUS{}", pl.col("i").cast(pl.String).str.zfill(7)).alias("客户编码"),
            pl.concat_str(
                pl.col("city").replace_strict(list(range(len(_CITIES))), list(_CITIES)),
                pl.col("name").replace_strict(list(range(len(_NAMES))), list(_NAMES)),
                pl.col("kind").replace_strict(list(range(len(_KINDS))), list(_KINDS)),
                pl.col("i").cast(pl.String),
                pl.lit("号"),
            ).alias("客户名称"),
            pl.col("level").replace_strict([0, 1, 2], ["A", "B", "C"]).alias("客户等级"),
            (pl.col("i") % batches).cast(pl.String).str.zfill(2).alias("批次"),
            pl.when(pl.col("two")).then(pl.lit("2")).otherwise(pl.lit("1")).alias("数量"),
        )
    )
    frame.write_csv(path)
    return batches


def write_campaign(path: Path, csv_name: str, batches: int, *, rate: int = 200) -> None:
    """A campaign with one specific-customer voucher per batch of the CSV."""
    vouchers = "".join(
        f"""  v{b:02d}:
    name: 满100减10第{b:02d}批
    start_date: "2099-03-01"
    end_date: "2099-03-31"
    money: "10.00"
    doorsill_amount: "100"
    grant_type: HDFF
    customers: specific
    products: {{mode: ALL}}
"""
        for b in range(batches)
    )
    grants = "".join(
        f"""  - {{voucher: v{b:02d}, audience: all, where: "batch = '{b:02d}'", quantity: qty}}\n"""
        for b in range(batches)
    )
    path.write_text(
        f"""campaign: bench-large
api: {{rate: {rate}, concurrency: 32}}
audiences:
  all:
    file: {csv_name}
    key: cm_code
    columns: {{cm_id: 客户ID, cm_code: 客户编码, cm_name: 客户名称,
              level: 客户等级, batch: 批次, qty: 数量}}
vouchers:
{vouchers}grants:
{grants}""",
        encoding="utf-8",
    )


def generate(directory: Path, customers: int, *, double: float = 0.0) -> Path:
    """Write ``customers.csv`` and ``campaign.yaml`` into *directory*; returns the YAML."""
    directory.mkdir(parents=True, exist_ok=True)
    batches = write_customers(directory / "customers.csv", customers, double=double)
    campaign = directory / "campaign.yaml"
    write_campaign(campaign, "customers.csv", batches)
    return campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--double", type=float, default=0.0)
    args = parser.parse_args()
    print(generate(args.directory, args.customers, double=args.double))


if __name__ == "__main__":
    main()
