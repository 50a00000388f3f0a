"""The plan's value types: what will be created and what will be granted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from runner.sheets import AudienceTable

__all__ = ["JOB_COLUMNS", "JOB_SCHEMA", "Plan", "PlannedVoucher"]

JOB_SCHEMA: Mapping[str, pl.DataType] = {
    "job_id": pl.String(),
    "voucher_key": pl.String(),
    "audience": pl.String(),
    "customer_key": pl.String(),
    "key_kind": pl.String(),
    "seq": pl.Int64(),
    "customer_name": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
}
JOB_COLUMNS: tuple[str, ...] = tuple(JOB_SCHEMA)


@dataclass(frozen=True)
class PlannedVoucher:
    """One voucher to create: its complete ``addVoucherInfo`` payload and its fingerprint.

    ``finished``: the campaign file says ``finished: true`` (stop it once created); not
    part of the payload, so not of the fingerprint, but of the plan hash.
    """

    key: str
    payload: dict[str, object]
    num: int
    each_cm_num: int
    fingerprint: str
    finished: bool = False


@dataclass(frozen=True)
class Plan:
    """Everything a run will do, computed without any network or state.

    ``jobs`` has one row per grant call (columns :data:`JOB_COLUMNS`), sorted by voucher
    (campaign order), customer key, key kind and seq.
    """

    campaign: str
    vouchers: tuple[PlannedVoucher, ...]
    jobs: pl.DataFrame
    audiences: Mapping[str, AudienceTable]
    plan_hash: str
    warnings: tuple[str, ...] = ()

    def voucher(self, key: str) -> PlannedVoucher:
        """The planned voucher with this local key (KeyError if there is none)."""
        for planned in self.vouchers:
            if planned.key == key:
                return planned
        raise KeyError(key)
