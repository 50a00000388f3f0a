"""Signing: the vendor's test vector, Beijing timestamps and message ids."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from runner.api import beijing_timestamp, new_msg_id, sign

VECTOR_BODY = '{"org_id":"ORG001","org_name":"南京掌控网络","org_parent_id":"","org_sequence":001}'
VECTOR_APPKEY = "BFCO0PAgIUgd50c0l6"
VECTOR_TS = "20150806142836"
VECTOR_DIGEST = "74267bf0cae0998a719879ec9b3c7780"


def test_vendor_vector() -> None:
    """The vendor's published body/appkey/timestamp give the published digest."""
    assert sign(VECTOR_BODY, VECTOR_APPKEY, VECTOR_TS) == VECTOR_DIGEST


def test_gbk_bytes_give_another_digest() -> None:
    """Hashing the GBK bytes instead of UTF-8 does not reproduce the vector (UTF-8 matters)."""
    gbk = f"{VECTOR_BODY}|{VECTOR_APPKEY}|{VECTOR_TS}".encode("gbk")
    assert hashlib.md5(gbk).hexdigest() != VECTOR_DIGEST


def test_separator_is_part_of_the_signature() -> None:
    """Concatenating without "|" gives another digest, so the separator is really used."""
    plain = f"{VECTOR_BODY}{VECTOR_APPKEY}{VECTOR_TS}".encode()
    assert hashlib.md5(plain).hexdigest() != VECTOR_DIGEST
    assert sign(VECTOR_BODY + " ", VECTOR_APPKEY, VECTOR_TS) != VECTOR_DIGEST


def test_digest_is_lowercase_hex() -> None:
    """The digest is 32 lowercase hex characters."""
    assert re.fullmatch(r"[0-9a-f]{32}", sign("{}", "k", "20240101000000"))


def test_timestamp_is_beijing_time() -> None:
    """A UTC instant is rendered as yyyyMMddHHmmss eight hours later."""
    assert beijing_timestamp(datetime(2015, 8, 6, 6, 28, 36, tzinfo=UTC)) == VECTOR_TS


def test_timestamp_converts_other_zones_and_crosses_midnight() -> None:
    """Any aware datetime is converted to UTC+8, including across the date line."""
    new_york = timezone(timedelta(hours=-5))
    assert beijing_timestamp(datetime(2023, 12, 31, 15, 0, 0, tzinfo=new_york)) == "20240101040000"


def test_naive_datetime_is_refused() -> None:
    """A naive datetime is ambiguous and raises ValueError instead of guessing a zone."""
    with pytest.raises(ValueError, match="aware"):
        beijing_timestamp(datetime(2024, 1, 1, 12, 0, 0))


def test_timestamp_defaults_to_now() -> None:
    """Without an argument the timestamp is the current Beijing time, 14 digits."""
    stamp = beijing_timestamp()
    assert re.fullmatch(r"\d{14}", stamp)
    parsed = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=timezone(timedelta(hours=8)))
    assert abs((parsed - datetime.now(UTC)).total_seconds()) < 3600


def test_msg_ids_are_fresh_uuid_hex() -> None:
    """Every msg_id is 32 hex characters and never repeats."""
    ids = {new_msg_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
