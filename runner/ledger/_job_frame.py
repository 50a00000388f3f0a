"""A plan's jobs as one polars frame that also reads as a sequence of :class:`JobRow`.

A 1,000,000-job plan as ``JobRow`` objects costs seconds to build and hundreds of MB; the
ledger compares and inserts them column-wise (:mod:`runner.ledger._sync`), so the plan
hands them over as a frame. :class:`JobFrame` is still a ``Sequence[JobRow]`` (rows built
on demand) for the callers that walk a plan's jobs one by one (``adopt``, tests).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import cast, overload

import polars as pl

from runner.ledger._records import JobRow
from runner.ledger._states import KEY_KINDS, KeyKind

__all__ = ["JOB_COLUMNS", "JobFrame", "job_frame"]

#: The plan's columns of a job, in :class:`JobRow` order.
JOB_COLUMNS: dict[str, type[pl.DataType]] = {
    "job_id": pl.String,
    "voucher_key": pl.String,
    "audience": pl.String,
    "customer_key": pl.String,
    "key_kind": pl.String,
    "seq": pl.Int64,
    "customer_name": pl.String,
}


class JobFrame(Sequence[JobRow]):
    """The plan's jobs, in plan order: :attr:`frame` holds :data:`JOB_COLUMNS`."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame.select([pl.col(name).cast(dtype) for name, dtype in JOB_COLUMNS.items()])
        _check(self.frame)

    def __len__(self) -> int:
        return self.frame.height

    @overload
    def __getitem__(self, index: int) -> JobRow: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[JobRow]: ...

    def __getitem__(self, index: int | slice) -> JobRow | Sequence[JobRow]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return _job_row(self.frame.row(index))

    def __iter__(self) -> Iterator[JobRow]:
        for row in self.frame.iter_rows(buffer_size=50_000):
            yield _job_row(row)

    def __repr__(self) -> str:
        return f"JobFrame({len(self):,} jobs)"


def _job_row(row: tuple[object, ...]) -> JobRow:
    job_id, voucher, audience, customer, kind, seq, name = row
    return JobRow(
        cast(str, job_id),
        cast(str, voucher),
        cast(str, audience),
        cast(str, customer),
        cast(KeyKind, kind),
        cast(int, seq),
        cast("str | None", name),
    )


def _check(frame: pl.DataFrame) -> None:
    """What :class:`JobRow` refuses, column-wise: a key kind outside :data:`KEY_KINDS`
    (the ledger's bulk insert relies on it, see :mod:`runner.ledger._sync_store`)."""
    kinds = set(frame.get_column("key_kind").unique().to_list())
    if not kinds <= KEY_KINDS:
        raise ValueError(f"JobRow.key_kind must be one of {sorted(KEY_KINDS)}")


def job_frame(jobs: Sequence[JobRow]) -> pl.DataFrame:
    """The jobs as a frame of :data:`JOB_COLUMNS` (no copy when they already are one)."""
    if isinstance(jobs, JobFrame):
        return jobs.frame
    rows = [
        (j.job_id, j.voucher_key, j.audience, j.customer_key, j.key_kind, j.seq, j.customer_name)
        for j in jobs
    ]
    return pl.DataFrame(rows, schema=JOB_COLUMNS, orient="row")
