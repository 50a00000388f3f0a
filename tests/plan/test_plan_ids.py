"""Job ids, voucher fingerprints and the plan hash."""

from __future__ import annotations

import hashlib
import re

from runner.plan import canonical_json, fingerprint, job_id, plan_hash

PAYLOAD: dict[str, object] = {
    "name": "满100减10",
    "startDate": "2027-03-01",
    "money": "10.00",
    "num": 54,
    "eachCmNum": 3,
    "cmCode": "CUS010001,CUS010004",
}


def test_job_id_is_24_hex_of_sha256_over_the_identity_fields() -> None:
    """A job id is the first 24 hex characters of sha256 over the unit-separated fields."""
    text = "\x1f".join(["spring", "ten-off", "cm_code", "CUS010043", "2"])
    expected = hashlib.sha256(text.encode()).hexdigest()[:24]
    assert job_id("spring", "ten-off", "cm_code", "CUS010043", 2) == expected
    assert re.fullmatch(r"[0-9a-f]{24}", expected)


def test_job_id_differs_per_field() -> None:
    """Changing any identity field (campaign, voucher, key kind, customer, seq) changes the id."""
    base = ("spring", "ten-off", "cm_code", "CUS010043", 1)
    variants = [
        ("autumn", *base[1:]),
        (base[0], "five-off", *base[2:]),
        (*base[:2], "cm_id", *base[3:]),
        (*base[:3], "CUS010044", base[4]),
        (*base[:4], 2),
    ]
    ids = {job_id(*base)} | {job_id(*v) for v in variants}  # type: ignore[arg-type]
    assert len(ids) == 6


def test_fingerprint_ignores_key_order_and_changes_with_any_value() -> None:
    """The fingerprint is over canonical JSON: key order is irrelevant, every value counts."""
    reordered = dict(reversed(list(PAYLOAD.items())))
    assert fingerprint(reordered) == fingerprint(PAYLOAD)
    for key, value in [("money", "10.01"), ("num", 55), ("cmCode", "CUS010001")]:
        assert fingerprint({**PAYLOAD, key: value}) != fingerprint(PAYLOAD)
    assert fingerprint({**PAYLOAD, "remark": "x"}) != fingerprint(PAYLOAD)


def test_fingerprint_is_sha256_of_compact_sorted_unescaped_json() -> None:
    """The canonical form sorts keys, has no spaces and keeps Chinese characters as they are."""
    text = canonical_json({"b": 1, "a": "满100减10"})
    assert text == '{"a":"满100减10","b":1}'
    assert fingerprint({"b": 1, "a": "满100减10"}) == hashlib.sha256(text.encode()).hexdigest()


def test_plan_hash_ignores_job_order_but_not_content() -> None:
    """The plan hash sorts the job ids; a changed voucher or job gives another hash."""
    prints = {"ten-off": "f" * 64}
    first = plan_hash(prints, ["b" * 24, "a" * 24])
    assert first == plan_hash(prints, ["a" * 24, "b" * 24])
    assert first != plan_hash(prints, ["a" * 24])
    assert first != plan_hash({"ten-off": "e" * 64}, ["a" * 24, "b" * 24])
    assert first != plan_hash({"other": "f" * 64}, ["a" * 24, "b" * 24])
