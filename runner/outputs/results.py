"""Result files a campaign manager opens in Excel, written from the ledger.

Into ``<state-dir>/<campaign>/``:

- ``results.csv`` (UTF-8 with BOM) and ``results.xlsx``: every job with customer key and
  name, voucher key, remote voucher id, whether the campaign still plans it (a grant made
  and later dropped from the campaign is kept, never revoked: ``planned`` = "no longer"),
  state, attempts, last error, time (``updated_at``: Beijing time, ISO 8601 with
  ``+08:00``, as the ledger stores it); ids as text;
- ``failures.csv``: the audience's own columns plus the error, for every job that failed
  for good or needs review: fix it and use it as an audience again;
- ``unprocessed.csv``: jobs not settled yet (planned, unknown), e.g. after an interrupt.

``results.xlsx`` shows at most :data:`XLSX_ROWS` grants a sheet (Excel stops at 1,048,576
rows, and a workbook that size takes minutes to write and to open); ``results.csv``
always holds every grant. A larger campaign's workbook opens on a sheet ``note`` (how
many grants, in which state, which ones are shown and where all of them are), then
``results`` (the first grants, in ledger order) and ``not done`` (grants in any state but
done: what a person has to look at).

:func:`write_ledger_outputs` writes them from a ledger, reading its jobs straight into a
polars frame, and not at all when nothing they show changed since they were last written
(a stamp file ``.results.stamp`` beside them names the ledger's last change, the
audiences and the format): a rerun of a finished campaign rewrites nothing.

Every file is replaced atomically (:func:`runner.outputs.files.write_atomically`): a
reader sees the old file or the new one, never half of one. A folder that cannot be made
or a file that cannot be written (read-only, disk full, ``results.xlsx`` open in Excel)
is a :class:`~runner.errors.StateDirUnusable` naming the path (exit 4).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from runner import __version__
from runner.ledger import JobRecord, Ledger, VoucherRecord
from runner.outputs.cells import excel_safe_frame
from runner.outputs.files import make_directory, write_atomically
from runner.outputs.xlsx import EXCEL_MAX_ROWS, Sheet, xlsx_bytes
from runner.sheets import ROW, AudienceTable

__all__ = [
    "JOB_TABLE_COLUMNS",
    "XLSX_ROWS",
    "OutputFiles",
    "failures_frame",
    "results_frame",
    "write_ledger_outputs",
    "write_outputs",
]

#: Beside the result files: what they were written from (see :func:`write_ledger_outputs`).
STAMP_FILE = ".results.stamp"

#: The most grants a sheet of results.xlsx shows; results.csv holds every one.
XLSX_ROWS = 100_000

_RESULT_SCHEMA: dict[str, type[pl.DataType]] = {
    "job_id": pl.String,
    "voucher_key": pl.String,
    "voucher_id": pl.String,
    "audience": pl.String,
    "key_kind": pl.String,
    "customer_key": pl.String,
    "customer_name": pl.String,
    "seq": pl.Int64,
    "planned": pl.String,
    "state": pl.String,
    "attempts": pl.Int64,
    "last_error": pl.String,
    "updated_at": pl.String,
}
_FAILED = ("failed", "review")
_UNPROCESSED = ("planned", "sending", "unknown")


@dataclass(frozen=True)
class OutputFiles:
    """Where the files went."""

    results_csv: Path
    results_xlsx: Path
    failures_csv: Path
    unprocessed_csv: Path


#: The columns of :meth:`Ledger.job_table <runner.ledger.Ledger.job_table>` the results need.
JOB_TABLE_COLUMNS = (
    "job_id",
    "voucher_key",
    "audience",
    "key_kind",
    "customer_key",
    "customer_name",
    "seq",
    "active",
    "state",
    "attempts",
    "last_error",
    "updated_at",
)


def results_frame(
    jobs: Sequence[JobRecord] | pl.DataFrame, vouchers: Sequence[VoucherRecord]
) -> pl.DataFrame:
    """One row per job, ids as text; ``jobs`` as records or as the ledger's job table
    (:data:`JOB_TABLE_COLUMNS`, read column-wise: no object per job)."""
    if not isinstance(jobs, pl.DataFrame):
        jobs = _record_table(jobs)
    remote = pl.DataFrame(
        [(v.voucher_key, v.remote_id) for v in vouchers],
        schema={"voucher_key": pl.String, "voucher_id": pl.String},
        orient="row",
    ).unique("voucher_key", keep="first", maintain_order=True)
    joined = jobs.join(remote, on="voucher_key", how="left", maintain_order="left")
    derived = {
        "planned": pl.when(pl.col("active") == 1)
        .then(pl.lit("yes"))
        .otherwise(pl.lit("no longer")),
        "last_error": pl.when(pl.col("state") != "done").then(pl.col("last_error")),
    }
    return joined.select(
        [
            derived.get(name, pl.col(name)).cast(dtype).alias(name)
            for name, dtype in _RESULT_SCHEMA.items()
        ]
    )


def _record_table(jobs: Sequence[JobRecord]) -> pl.DataFrame:
    rows = [
        (
            j.job_id,
            j.voucher_key,
            j.audience,
            j.key_kind,
            j.customer_key,
            j.customer_name,
            j.seq,
            int(j.active),
            j.state,
            j.attempts,
            j.last_error,
            j.updated_at,
        )
        for j in jobs
    ]
    schema = {name: _RESULT_SCHEMA.get(name, pl.Int64) for name in JOB_TABLE_COLUMNS}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    """CSV with a UTF-8 BOM, so Excel shows Chinese text and keeps ids as typed text."""
    buffer = io.BytesIO()
    excel_safe_frame(frame).write_csv(buffer, include_bom=True)
    return buffer.getvalue()


def _xlsx_bytes(frame: pl.DataFrame, directory: Path, xlsx_rows: int) -> bytes:
    """Every result when they fit in ``xlsx_rows``; else a note, the first results and
    the ones not done (ids as text cells, see :mod:`runner.outputs.xlsx`)."""
    shown = max(0, min(xlsx_rows, EXCEL_MAX_ROWS - 1))
    if frame.height <= shown:
        return xlsx_bytes([Sheet("results", frame)])
    open_ = frame.filter(pl.col("state") != "done")
    sheets = [
        Sheet("note", _note(frame, open_.height, shown, directory), filter=False),
        Sheet("results", frame.head(shown)),
    ]
    if open_.height:
        sheets.append(Sheet("not done", open_.head(shown)))
    return xlsx_bytes(sheets)


def _note(results: pl.DataFrame, open_: int, shown: int, directory: Path) -> pl.DataFrame:
    """What the ``note`` sheet of a cut results.xlsx says, one line a row."""
    states = results.group_by("state").agg(pl.len().alias("n")).sort("state")
    lines = [
        f"This campaign has {results.height:,} grants. The sheet 'results' shows the first "
        f"{shown:,} of them (in the ledger's order); the others are not in this workbook.",
        f"Every grant is in results.csv, in the folder {directory}. Excel shows at most "
        f"{EXCEL_MAX_ROWS:,} rows a sheet, and turns long ids in a CSV into numbers when it "
        "opens one: import results.csv with Data > From Text/CSV and set the id columns "
        "(job_id, voucher_id, customer_key) to Text.",
    ]
    if open_:
        listed = "all of them" if open_ <= shown else f"the first {shown:,}"
        lines.append(
            f"{open_:,} grants are not done: the sheet 'not done' lists {listed}. Failed "
            "customers are in failures.csv; grants not settled yet in unprocessed.csv."
        )
    else:
        lines.append("Every grant is done.")
    lines += ["", "Grants by state:", *(f"{state}: {n:,}" for state, n in states.iter_rows())]
    return pl.DataFrame({"note": lines}, schema={"note": pl.String})


def _original_columns(audience: AudienceTable) -> list[str]:
    headers = set(audience.columns.values())
    return [
        c
        for c in audience.frame.columns
        if c != ROW and (c not in audience.columns or c in headers)
    ]


def failures_frame(results: pl.DataFrame, audiences: Mapping[str, AudienceTable]) -> pl.DataFrame:
    """Failed jobs as rows of their audience (original columns) plus the error."""
    failed = results.filter(pl.col("state").is_in(_FAILED))
    parts: list[pl.DataFrame] = []
    for name, audience in sorted(audiences.items()):
        mine = failed.filter(pl.col("audience") == name)
        if mine.is_empty():
            continue
        key = audience.key
        errors = mine.group_by("customer_key", maintain_order=True).agg(
            pl.col("voucher_key").unique(maintain_order=True).str.join(", ").alias("voucher"),
            pl.col("last_error").drop_nulls().first().alias("error"),
            pl.len().alias("failed_grants"),
        )
        rows = audience.frame.join(errors, left_on=key, right_on="customer_key", how="inner")
        keep = [*_original_columns(audience), "voucher", "failed_grants", "error"]
        parts.append(rows.sort(ROW).select(keep).with_columns(pl.lit(name).alias("audience")))
    if not parts:
        return pl.DataFrame(schema={"audience": pl.String, "error": pl.String})
    return pl.concat(parts, how="diagonal_relaxed")


def write_outputs(
    directory: Path,
    jobs: Sequence[JobRecord] | pl.DataFrame,
    vouchers: Sequence[VoucherRecord],
    audiences: Mapping[str, AudienceTable],
    *,
    xlsx_rows: int = XLSX_ROWS,
) -> OutputFiles:
    """Write every result file into *directory* (atomically, one by one); results.xlsx
    shows at most ``xlsx_rows`` grants a sheet (see the module's docstring). ``jobs``:
    records, or (faster at scale) ``ledger.job_table(active=None,
    columns=JOB_TABLE_COLUMNS)``.

    Raises :class:`StateDirUnusable` naming the folder or file that cannot be written.
    """
    make_directory(directory)
    results = results_frame(jobs, vouchers)
    files = _files(directory)
    write_atomically(files.results_csv, _csv_bytes(results))
    write_atomically(files.results_xlsx, _xlsx_bytes(results, directory, xlsx_rows))
    write_atomically(files.failures_csv, _csv_bytes(failures_frame(results, audiences)))
    unprocessed = results.filter(pl.col("state").is_in(_UNPROCESSED))
    write_atomically(files.unprocessed_csv, _csv_bytes(unprocessed))
    return files


def write_ledger_outputs(
    directory: Path,
    ledger: Ledger,
    audiences: Mapping[str, AudienceTable],
    *,
    xlsx_rows: int = XLSX_ROWS,
) -> tuple[OutputFiles, int | None]:
    """:func:`write_outputs` from *ledger*: returns the files and how many jobs were
    written, ``None`` when the files already show this ledger and these audiences (every
    file there and the stamp naming the ledger's last change): nothing is read or
    written then. The stamp is written last, so a write cut short is done again."""
    stamp = _stamp(ledger, audiences, directory, xlsx_rows)
    files = _files(directory)
    present = [files.results_csv, files.results_xlsx, files.failures_csv, files.unprocessed_csv]
    if _read_stamp(directory) == stamp and all(path.is_file() for path in present):
        return files, None
    jobs = ledger.job_table(active=None, columns=JOB_TABLE_COLUMNS)
    write_outputs(directory, jobs, ledger.vouchers(active=None), audiences, xlsx_rows=xlsx_rows)
    write_atomically(directory / STAMP_FILE, stamp.encode(), what="the result files' stamp")
    return files, jobs.height


def _stamp(
    ledger: Ledger, audiences: Mapping[str, AudienceTable], directory: Path, xlsx_rows: int
) -> str:
    """What the result files depend on: the ledger's last change (every job or voucher
    write appends an event), the audiences (failures.csv shows their rows), the folder
    (named in results.xlsx), the row limit and the code that formats them."""
    shown = {
        name: [list(a.frame.columns), a.frame.height, int(a.frame.hash_rows(seed=0).sum())]
        for name, a in sorted(audiences.items())
    }
    return json.dumps(
        {
            "ledger": str(ledger.path),
            "last_change": ledger.last_change(),
            "audiences": shown,
            "directory": str(directory),
            "xlsx_rows": xlsx_rows,
            "runner": __version__,
            "polars": pl.__version__,
        },
        sort_keys=True,
    )


def _read_stamp(directory: Path) -> str | None:
    try:
        return (directory / STAMP_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _files(directory: Path) -> OutputFiles:
    return OutputFiles(
        directory / "results.csv",
        directory / "results.xlsx",
        directory / "failures.csv",
        directory / "unprocessed.csv",
    )
