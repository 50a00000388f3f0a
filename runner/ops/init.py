"""``runner init``: a new campaign folder that plans as soon as one customer is filled in.

:func:`scaffold` makes ``PARENT/NAME/`` with a commented campaign file ``NAME.yaml``
(every key explained; dates a week ahead, computed in Beijing time) and the customer
template (:mod:`runner.outputs.templates`) its audience reads with ``header_row: 2``.
It refuses a name that is not a valid campaign id and a folder that already holds files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pydantic import ValidationError

from runner.campaign import Campaign
from runner.clock import beijing_today
from runner.errors import Location, StateDirUnusable, UsageError
from runner.outputs.files import write_atomically
from runner.outputs.templates import (
    HEADER_ROW,
    KEY_COLUMN,
    QUANTITY_COLUMN,
    TEMPLATE_COLUMNS,
    TEMPLATE_FILE,
    TEMPLATE_SHEET,
    write_audience_template,
)

__all__ = ["FIRST_DAY_AFTER", "LAST_DAY_AFTER", "ScaffoldResult", "campaign_text", "scaffold"]

FIRST_DAY_AFTER = 7
"""The scaffold's start_date is this many days after the day it was made (Beijing time)."""
LAST_DAY_AFTER = 37
"""The scaffold's end_date is this many days after the day it was made (31 valid days)."""

AUDIENCE = "customers"
VOUCHER = "ten-off"
# Scalars the campaign loader would not read back as this text (booleans, null, integers).
_NOT_TEXT = re.compile(r"[-+]?[0-9]+|true|false|null")


@dataclass(frozen=True)
class ScaffoldResult:
    """What :func:`scaffold` made: the folder, the campaign file, the templates, the dates."""

    folder: Path
    campaign_file: Path
    templates: tuple[Path, ...]
    start_date: date
    end_date: date

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written: the campaign file, then the templates."""
        return (self.campaign_file, *self.templates)


def scaffold(name: str, parent: Path, *, today: date | None = None) -> ScaffoldResult:
    """Make ``parent/name/`` with ``name.yaml`` and the customer template; return the paths.

    ``name`` must be a valid campaign id (letters, digits, '-' and '_'); ``today`` (default:
    today in Beijing) dates the voucher from today + 7 to today + 37. A folder that exists
    and is not empty is refused (:class:`~runner.errors.UsageError`, exit 2) before anything
    is written; a folder or file that cannot be written is
    :class:`~runner.errors.StateDirUnusable` (exit 4).
    """
    _check_name(name)
    folder = parent / name
    _check_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateDirUnusable.from_os_error(exc, "the campaign folder", folder) from exc
    day = today if today is not None else beijing_today()
    start, end = day + timedelta(days=FIRST_DAY_AFTER), day + timedelta(days=LAST_DAY_AFTER)
    template = folder / TEMPLATE_FILE
    write_audience_template(template)
    campaign_file = folder / f"{name}.yaml"
    text = campaign_text(name, made=day, start=start, end=end)
    write_atomically(campaign_file, text.encode("utf-8"), what="the campaign file")
    return ScaffoldResult(folder, campaign_file, (template,), start, end)


def _check_name(name: str) -> None:
    """Refuse a name the campaign file would refuse as its ``campaign`` id, with its words."""
    try:
        Campaign.model_validate({"campaign": name, "vouchers": {}}, context={"issues": []})
    except ValidationError as exc:
        for error in exc.errors():
            if error["loc"] == ("campaign",):
                context = error.get("ctx") or {}
                raise UsageError(
                    f"{name!r} is not a valid campaign id",
                    hint=str(context.get("hint") or "")
                    or "Use letters, digits, '-' and '_' only, e.g. spring-2027.",
                ) from None


def _check_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise UsageError(
            f"{folder} already exists and is not a folder",
            where=Location(file=str(folder)),
            hint="Choose another name (or --dir); nothing was written.",
        )
    if folder.is_dir() and any(folder.iterdir()):
        raise UsageError(
            f"the folder {folder} already exists and is not empty",
            where=Location(file=str(folder)),
            hint="Choose another name (or --dir), or empty that folder; nothing was written.",
        )


def campaign_text(name: str, *, made: date, start: date, end: date) -> str:
    """The commented campaign file ``runner init`` writes (``made``: the day it was made)."""
    campaign_id = f'"{name}"' if _NOT_TEXT.fullmatch(name) else name
    key_header = next(c.header for c in TEMPLATE_COLUMNS if c.name == KEY_COLUMN)
    width = max(len(f"{c.name}: {c.header}") + 2 * len(c.header) for c in TEMPLATE_COLUMNS)
    columns = "\n".join(
        f"      {c.name}: {c.header}".ljust(6 + width - len(c.header)) + f"  # {c.note_en}"
        for c in TEMPLATE_COLUMNS
    )
    return _CAMPAIGN.format(
        name=name,
        campaign_id=campaign_id,
        made=made.isoformat(),
        start=start.isoformat(),
        end=end.isoformat(),
        first=FIRST_DAY_AFTER,
        days=(end - start).days + 1,
        file=TEMPLATE_FILE,
        sheet=TEMPLATE_SHEET,
        header_row=HEADER_ROW,
        first_row=HEADER_ROW + 1,
        audience=AUDIENCE,
        voucher=VOUCHER,
        key=KEY_COLUMN,
        key_header=key_header,
        columns=columns,
        qty=QUANTITY_COLUMN,
    )


_CAMPAIGN = """\
# Campaign {name}: made by `runner init` on {made}. Every key is explained below.
#
# What to do next:
#   1. Fill in {file} (sheet {sheet}, next to this file): one customer per row
#      from row {first_row} on. Row 1 explains the columns and row {header_row} holds the
#      headers: keep both.
#   2. Set the voucher below: its name, dates, amount and threshold.
#   3. runner plan {name}.yaml      preview: what will be created and granted; sends nothing
#   4. runner run  {name}.yaml      do it (asks first; --yes to skip asking)
#      runner status {name}.yaml    where a run stands
# (Run these from this folder, or give the path to this file.)
# Running again is always safe: what was done is skipped.
#
# Values are read literally: dates like {start} and codes like 007100 stay text.
# Amounts are written in quotes ("10.00") so that they are never rounded.
# Editor support: `runner schema > campaign.schema.json` writes the JSON Schema of this
# format; point your editor's YAML plugin at it for completion and checks while typing.

# The campaign id: letters, digits, '-' and '_'. It names the state folder
# (state/{name}/ next to this file) where the ledger remembers what was done. Never
# reuse it for a different campaign.
campaign: {campaign_id}

# How to reach the voucher API. Everything here is optional: the environment variables
# WAIQIN_BASE_URL, WAIQIN_OPENID and WAIQIN_APPKEY fill what is left out. `runner plan`
# needs none of them; `runner run` does. The appkey is a secret: only a reference such as
# ${{WAIQIN_APPKEY}} is accepted here, never its value.
api:
  rate: 5             # requests per second over all calls; the runner slows down by itself
  concurrency: 4      # requests in flight at the same time
  timeout_s: 15       # seconds to wait for one answer
  transient_messages: ["系统繁忙"]   # refusals worth trying again later
  # base_url: https://openapi.waiqin365.com   # your tenant's OpenAPI address (admin console)
  # openid: ${{WAIQIN_OPENID}}
  # appkey: ${{WAIQIN_APPKEY}}

# A guard checked by `runner plan`: the plan is refused if money × planned grants would
# exceed this amount. Set it to what this campaign may cost at most.
budget:
  max_face_value: "10000.00"   # the most this campaign may cost: money × grants

# Where the ledger and the result files go, relative to this file (default: state).
# state_dir: state

# The customer spreadsheet. `columns` maps our names (left) to the header text in the
# file (right). `key` names the column that identifies the customer to the API:
# cm_code ({key_header}), cm_id (客户ID) or cm_source_code.
audiences:
  {audience}:
    file: {file}      # in this file's folder: an .xlsx workbook, or a CSV saved by Excel
    sheet: {sheet}                # the sheet's name (or 0 for the first sheet)
    header_row: {header_row}             # the row of the headers; rows above it (notes) are skipped
    key: {key}              # the column that identifies the customer (see above)
    columns:
{columns}
    # encoding: auto          # CSV only: auto | utf-8 | gb18030
    # formulas: cached        # XLSX only: use the values formulas last showed in Excel
    #                         # (default: a formula cell in a mapped column is refused)

# The vouchers to create. The key ({voucher}) is this voucher's identity for the runner:
# once the voucher was created, changing its settings is refused (give new settings a
# new key instead), except end_date (a new date is applied by the next run) and
# finished: true (stops it; cannot be undone).
vouchers:
  {voucher}:
    name: 满100减10                # at most 32 characters; customers see it
    # Replace the dates with your campaign's: `runner init` set them {first} days after it
    # ran, for {days} days (Beijing time). An end_date in the past is refused.
    start_date: {start}         # first valid day (yyyy-MM-dd)
    end_date: {end}           # last valid day
    money: "10.00"                 # face value
    doorsill_amount: "100"         # minimum order amount; leave out for no threshold
    discount: {{type: GDMZ}}         # GDMZ = a fixed amount (money) off; or
                                   # {{type: ZKBL, percent: "0.85", max_amount: "50"}}
    pay_type: UNLIMITED            # UNLIMITED or ONLINE (online payment only)
    grant_type: HDFF               # HDFF = granted by this campaign (ZDLQ: customers claim it)
    customers: specific            # only the customers the grants below name
    products: {{mode: ALL}}          # every product; or {{mode: PRODUCT, codes: [...]}},
                                   # {{mode: BRAND, names: [...]}}, {{mode: TYPE, names: [...]}}
    each_customer_limit: auto      # auto = the most one customer gets in this plan
    total: auto                    # auto = exactly the number of planned grants
    remark: 单笔订单满100元可用      # usage notes customers see (at most 1000 characters)
    # comment: 内部备注             # internal comment
    # business_from_name: 春季促销  # business source name (at most 32 characters)
    # auto_receive: N              # Y: customers receive it automatically
    # finished: true               # stop the created voucher: it takes no more grants

# Who gets which voucher: every customer row of the audience, `quantity` vouchers each
# (a number, or a column name such as {qty}). `where` keeps only some rows: an SQL
# condition over the column names above, text values in quotes.
grants:
  - voucher: {voucher}          # a key under vouchers
    audience: {audience}      # a key under audiences
    quantity: {qty}             # vouchers per customer: a number, or a column name
    # where: "level IN ('A', 'B')"
"""
