"""Stable identities: job ids, voucher fingerprints and the plan hash.

A job id depends only on what the grant *is* (campaign, voucher key, customer and the
sequence number of that customer's grant), never on the audience or the spreadsheet row
it came from, so sorting or moving customers between audiences keeps every id stable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

__all__ = [
    "canonical_json",
    "fingerprint",
    "job_id",
    "job_ids",
    "plan_hash",
    "voucher_identity",
]

JOB_ID_LENGTH = 24
_SEP = "\x1f"


def job_id(campaign: str, voucher_key: str, key_kind: str, customer_key: str, seq: int) -> str:
    """The first 24 hex characters of sha256 over the job's identity fields."""
    text = _SEP.join([campaign, voucher_key, key_kind, customer_key, str(seq)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:JOB_ID_LENGTH]


def job_ids(
    campaign: str,
    voucher_keys: Iterable[str],
    key_kinds: Iterable[str],
    customer_keys: Iterable[str],
    seqs: Iterable[int],
) -> list[str]:
    """Job ids for parallel columns (one per row), in the same order."""
    return [
        job_id(campaign, voucher, kind, customer, seq)
        for voucher, kind, customer, seq in zip(
            voucher_keys, key_kinds, customer_keys, seqs, strict=True
        )
    ]


def canonical_json(value: object) -> str:
    """JSON with sorted keys, no spaces and real (not escaped) non-ASCII characters."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(payload: Mapping[str, object]) -> str:
    """sha256 hex of the canonical JSON of a voucher's wire payload."""
    return hashlib.sha256(canonical_json(dict(payload)).encode("utf-8")).hexdigest()


def plan_hash(fingerprints: Mapping[str, str], job_id_list: Iterable[str]) -> str:
    """sha256 over the voucher fingerprints (by key) and the sorted job ids."""
    digest = hashlib.sha256()
    digest.update(canonical_json(sorted(fingerprints.items())).encode("utf-8"))
    for one in sorted(job_id_list):
        digest.update(b"\n")
        digest.update(one.encode("ascii"))
    return digest.hexdigest()


def _amount(value: object) -> str | None:
    if value is None or value == "":
        return None
    try:
        return str(Decimal(str(value)).normalize())
    except InvalidOperation:
        return str(value)


def voucher_identity(fields: Mapping[str, object]) -> tuple[str | None, ...]:
    """What makes two vouchers the same campaign voucher: name, dates, money, discount.

    Works on our ``addVoucherInfo`` payload and on a ``getVoucherInfos`` item alike (both
    use the wire names). ``num``, ``eachCmNum`` and the customer list are left out on
    purpose: a plan that grew since the voucher was created must still find it.
    """
    return (
        str(fields.get("name")),
        str(fields.get("startDate")),
        str(fields.get("endDate")),
        _amount(fields.get("money")),
        str(fields.get("discountsType") or "GDMZ"),
        _amount(fields.get("discountsPercent")),
        _amount(fields.get("maxDiscountsAmount")),
    )
