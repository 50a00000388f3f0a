"""Envelope decoding: return codes as text, response_data decoded twice, ids kept exact."""

from __future__ import annotations

import json

import pytest

from runner.api import decode_envelope
from runner.api._envelope import NotAnEnvelope

BIG_ID = "6856083179295188426"  # beyond 2**53: a float would change its last digits


def body(**fields: object) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode()


@pytest.mark.parametrize("code", ["0", 0, " 0"])
def test_return_code_zero_as_text_or_int_is_ok(code: object) -> None:
    """return_code "0", 0 and " 0" all mean success and are kept as the text "0"."""
    env = decode_envelope(body(return_code=code, return_msg=None, response_data=None))
    assert env.ok
    assert env.return_code == "0"


def test_nonzero_codes_are_text() -> None:
    """An int return_code like 40001 becomes the text "40001" and is not ok."""
    env = decode_envelope(body(return_code=40001, return_msg="签名错误", response_data=None))
    assert (env.return_code, env.return_msg, env.ok) == ("40001", "签名错误", False)


def test_response_data_string_is_decoded_a_second_time() -> None:
    """A JSON document inside the response_data string is decoded."""
    inner = json.dumps({"voucherId": BIG_ID})
    env = decode_envelope(body(return_code="0", response_data=inner))
    assert env.response_data == {"voucherId": BIG_ID}


def test_response_data_null_and_empty_string_are_none() -> None:
    """A null or empty response_data decodes to None."""
    assert decode_envelope(body(return_code="0", response_data=None)).response_data is None
    assert decode_envelope(body(return_code="0", response_data="")).response_data is None


def test_response_data_already_an_object_is_kept() -> None:
    """A response_data that is already JSON (not a string) is used as it is."""
    env = decode_envelope(body(return_code="0", response_data=[{"id": BIG_ID, "code": "C1"}]))
    assert env.response_data == [{"id": BIG_ID, "code": "C1"}]


def test_response_data_plain_text_is_kept_verbatim() -> None:
    """A response_data string that is not JSON stays the original text."""
    env = decode_envelope(body(return_code="0", response_data="领取成功"))
    assert env.response_data == "领取成功"


def test_bare_19_digit_ids_stay_exact_strings_inside_the_string() -> None:
    """Bare JSON numbers inside the response_data string arrive as their exact digits."""
    inner = f'[{{"id":{BIG_ID},"num":2,"money":111.00}}]'
    env = decode_envelope(body(return_code="0", response_data=inner))
    assert env.response_data == [{"id": BIG_ID, "num": "2", "money": "111.00"}]


def test_bare_19_digit_ids_stay_exact_strings_in_an_object() -> None:
    """Bare JSON numbers in an inline response_data also stay exact text."""
    text = f'{{"return_code":0,"msg_id":"m","response_data":{{"voucherId":{BIG_ID}}}}}'
    env = decode_envelope(text.encode())
    assert env.response_data == {"voucherId": BIG_ID}
    assert env.msg_id == "m"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"<html><body>502 Bad Gateway</body></html>", "not JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8 text"),
        (b"[1, 2]", "no return_code"),
        (b'{"code": 0}', "no return_code"),
        (b'{"return_code": null}', "return_code is null"),
    ],
)
def test_non_envelope_bodies_are_rejected(content: bytes, reason: str) -> None:
    """Bodies that are not the envelope raise NotAnEnvelope with the reason."""
    with pytest.raises(NotAnEnvelope, match=reason):
        decode_envelope(content)
