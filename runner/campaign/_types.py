"""Scalar field types of the campaign file: text, keys, ids, dates, amounts and counts.

Each type is an ``Annotated`` alias with one plain validator (so a bad value gives one
plain-language error, never one per union member) and an explicit JSON Schema.
Amounts stay ``str`` (the wire format) after being checked as decimals; ids stay ``str``
even when the YAML wrote them as bare numbers (Python ints are exact, so nothing is lost).

Amount limits. The vendor's document gives ``doorsillAmount`` as NUMERIC(20,8): at most
12 digits before the decimal point. It is silent on ``money`` and ``maxDiscountsAmount``
(VARCHAR(32), a text field), so the same bound is taken for every amount:
:data:`MAX_AMOUNT` = 999,999,999,999.99 (below 10**12), at most 2 decimal places
(4 for a ratio). A larger amount is refused at plan time with that reason, never sent:
a face value of 10**22 is a typo, and the vendor's column could not hold it anyway.
Negative amounts, NaN, infinity and exponents (``1e3``) are refused as not plain
decimals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from runner.sheets import quoted, shorten

__all__ = [
    "AutoOrCount",
    "BaseUrl",
    "ColumnName",
    "DateText",
    "IdText",
    "Key",
    "ListText",
    "LongText",
    "Money",
    "Percent",
    "PositiveInt",
    "PositiveNumber",
    "Quantity",
    "SheetRef",
    "ShortText",
    "Text",
    "Threshold",
    "fail",
]

MAX_COUNT = 99_999  # num and eachCmNum are NUMERIC(5)
#: The largest amount accepted: doorsillAmount is NUMERIC(20,8), 12 digits before the point.
MAX_AMOUNT = Decimal("999999999999.99")
KEY_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
COLUMN_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_AMOUNT = re.compile(r"^[-+]?[0-9]+(?:\.[0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: The most characters of a value a message quotes.
_SHOWN = 40
#: Digits beyond this are no count anyone meant (and Python refuses to convert 4,300).
_MAX_DIGITS = 100


def fail(message: str, hint: str | None = None) -> PydanticCustomError:
    """A validation error whose message and hint reach the user exactly as written."""
    return PydanticCustomError("spec", "{message}", {"message": message, "hint": hint or ""})


def _describe(value: object) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return quoted(value, _SHOWN)
    return shorten(repr(value), _SHOWN)


# --- text ---------------------------------------------------------------------------------


def _text_validator(max_length: int | None, *, comma: bool = True) -> Callable[[Any], str]:
    def validate(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise fail(f"must be text, not {_describe(value)}")
        text = str(value).strip()
        if not text:
            raise fail("must not be empty")
        if max_length is not None and len(text) > max_length:
            raise fail(
                f"is too long: {len(text)} characters, at most {max_length} allowed",
                "Shorten it; the voucher API stores at most that many characters.",
            )
        if not comma and "," in text:
            raise fail(
                f"must not contain a comma: {quoted(text, _SHOWN)}",
                "List items are joined with commas for the API; give each one as its own item.",
            )
        return text

    return validate


def _text_schema(max_length: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "integer"], "minLength": 1}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


Text = Annotated[str, PlainValidator(_text_validator(None)), WithJsonSchema(_text_schema())]
ShortText = Annotated[str, PlainValidator(_text_validator(32)), WithJsonSchema(_text_schema(32))]
LongText = Annotated[str, PlainValidator(_text_validator(1000)), WithJsonSchema(_text_schema(1000))]
ListText = Annotated[
    str,
    PlainValidator(_text_validator(None, comma=False)),
    WithJsonSchema({"type": ["string", "integer"], "minLength": 1, "pattern": "^[^,]+$"}),
]


def _pattern_validator(pattern: str, what: str, example: str) -> Callable[[Any], str]:
    compiled = re.compile(pattern)
    base = _text_validator(None)

    def validate(value: Any) -> str:
        text = base(value)
        if compiled.fullmatch(text) is None:
            raise fail(f"{quoted(text, _SHOWN)} is not a valid {what}", f"Use {example}.")
        return text

    return validate


Key = Annotated[
    str,
    PlainValidator(
        _pattern_validator(
            KEY_PATTERN, "key", "letters, digits, '-' and '_' only (at most 64), e.g. spring-2027"
        )
    ),
    WithJsonSchema({"type": "string", "pattern": KEY_PATTERN}),
]
ColumnName = Annotated[
    str,
    PlainValidator(
        _pattern_validator(
            COLUMN_PATTERN,
            "column name",
            "a name made of letters, digits and '_' that does not start with a digit, e.g. qty",
        )
    ),
    WithJsonSchema({"type": "string", "pattern": COLUMN_PATTERN}),
]
IdText = Annotated[
    str,
    PlainValidator(
        _pattern_validator(r"^[0-9]{1,32}$", "id", "the numeric id, e.g. 6856083179295188426")
    ),
    WithJsonSchema({"type": ["string", "integer"], "pattern": "^[0-9]{1,32}$"}),
]


def _base_url(value: Any) -> str:
    text = _text_validator(None)(value)
    if not re.fullmatch(r"https?://[^\s/?#]+(?:/[^\s?#]*)?", text):
        raise fail(
            f"{text!r} is not an http(s) address",
            "Write the OpenAPI address from the admin console, e.g. https://openapi.waiqin365.com",
        )
    return text.rstrip("/")


BaseUrl = Annotated[
    str,
    PlainValidator(_base_url),
    WithJsonSchema({"type": "string", "pattern": "^https?://", "format": "uri"}),
]


# --- dates ----------------------------------------------------------------------------------


_DATE_HINT = (
    "Write the day as yyyy-MM-dd: a four-digit year, then the month and the day with two "
    "digits each, joined by '-', without a time, e.g. 2027-03-01."
)


def _date(value: Any) -> date:
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise fail(
                f"{value.strip()!r} is not a real date",
                "Check the month and the day: the day must exist on the calendar "
                "(February has 28 days, 29 in a leap year), e.g. 2027-02-28.",
            ) from None
    raise fail(
        f"must be a date written yyyy-MM-dd, e.g. 2027-03-01, not {_describe(value)}", _DATE_HINT
    )


DateText = Annotated[
    date,
    BeforeValidator(_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _DATE.pattern}),
]


# --- decimals -------------------------------------------------------------------------------


def _decimal_validator(
    *,
    places: int,
    minimum: Decimal,
    inclusive: bool,
    maximum: Decimal = MAX_AMOUNT,
    example: str = '"10.00"',
) -> Callable[[Any], str]:
    word = "at least" if inclusive else "greater than"
    hint = (
        f"Write a plain decimal number {word} {minimum} with at most {places} decimal places, "
        f"in quotes and without a currency sign or thousands separators, e.g. {example}."
    )

    def validate(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise fail(f"must be an amount such as {example}, not {_describe(value)}", hint)
        text = _amount_text(value)
        if _AMOUNT.fullmatch(text) is None:
            raise fail(
                f"{quoted(text, _SHOWN)} is not a plain decimal number such as {example}", hint
            )
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            raise fail(f"{quoted(text, _SHOWN)} is not a decimal number", hint) from None
        shown = shorten(text, _SHOWN)
        too_low = number < minimum if inclusive else number <= minimum
        if too_low:
            raise fail(f"must be {word} {minimum}, not {shown}", hint)
        if number > maximum:
            raise fail(f"must be at most {maximum}, not {shown}", _limit_hint(maximum))
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise fail(f"{shown} has more than {places} decimal places", hint)
        return format(number.copy_abs() if number.is_zero() else number, "f")

    return validate


def _amount_text(value: str | int | float) -> str:
    """The amount as written: a YAML float as its plain decimals (1e+23 → 100000...)."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return format(Decimal(repr(value)), "f")
    return str(value).strip()


def _limit_hint(maximum: Decimal) -> str:
    if maximum == MAX_AMOUNT:
        return (
            "Check the amount for a typo. The vendor stores amounts with at most 12 digits "
            f"before the decimal point (doorsillAmount is NUMERIC(20,8)); {maximum} is the "
            "most this tool sends."
        )
    return f"Check the value for a typo: it is at most {maximum}."


def _decimal_schema(places: int) -> dict[str, Any]:
    pattern = rf"^[0-9]{{1,12}}(\.[0-9]{{1,{places}}})?$"
    return {"type": ["string", "number"], "pattern": pattern}


Money = Annotated[
    str,
    PlainValidator(_decimal_validator(places=2, minimum=Decimal(0), inclusive=False)),
    WithJsonSchema(_decimal_schema(2)),
]
Threshold = Annotated[
    str,
    PlainValidator(
        _decimal_validator(places=2, minimum=Decimal(0), inclusive=True, example='"100.00"')
    ),
    WithJsonSchema(_decimal_schema(2)),
]
Percent = Annotated[
    str,
    PlainValidator(
        _decimal_validator(
            places=4,
            minimum=Decimal(0),
            inclusive=False,
            maximum=Decimal(1),
            example='"0.85" (the customer pays 85%)',
        )
    ),
    WithJsonSchema(_decimal_schema(4)),
]


# --- counts ---------------------------------------------------------------------------------


def _int_value(value: Any) -> int | None:
    """An int from an int or a string of digits (``${VAR}`` values are text); else None.

    Text of more than :data:`_MAX_DIGITS` digits is refused as far too large (Python
    would not even convert 4,300 of them).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[-+]?[0-9]+", value.strip()):
        digits = len(value.strip().lstrip("+-"))
        if digits > _MAX_DIGITS:
            raise fail(
                f"is a number of {digits:,} digits, far too large", "Check the value for a typo."
            )
        return int(value.strip())
    return None


_POSITIVE_INT_HINT = "Write a whole number of 1 or more, without quotes or decimals, e.g. 4."
_POSITIVE_NUMBER_HINT = "Write a number greater than 0, without quotes or a unit, e.g. 5 or 2.5."


def _positive_int(value: Any) -> int:
    number = _int_value(value)
    if number is None:
        raise fail(f"must be a whole number, not {_describe(value)}", _POSITIVE_INT_HINT)
    if number < 1:
        raise fail(f"must be at least 1, not {_number(number)}", _POSITIVE_INT_HINT)
    return number


def _positive_number(value: Any) -> float:
    number: float | None = _int_value(value)
    if number is None and isinstance(value, float):
        number = value
    if number is None and isinstance(value, str) and _AMOUNT.fullmatch(value.strip()):
        number = float(value)
    if number is None:
        raise fail(f"must be a number, not {_describe(value)}", _POSITIVE_NUMBER_HINT)
    if number <= 0:
        raise fail(f"must be greater than 0, not {number:g}", _POSITIVE_NUMBER_HINT)
    return float(number)


def _auto_or_count(value: Any) -> Literal["auto"] | int:
    if value == "auto":
        return "auto"
    number = _int_value(value)
    if number is None or not 1 <= number <= MAX_COUNT:
        raise fail(
            f"must be 'auto' or a whole number from 1 to {MAX_COUNT}, not {_describe(value)}",
            "Leave it out (auto: what the plan needs, the safest choice), or write a whole "
            f"number from 1 to {MAX_COUNT} (num and eachCmNum are NUMERIC(5)), e.g. 500.",
        )
    return number


_QUANTITY_HINT = (
    f"Write how many vouchers each customer gets, a whole number from 1 to {MAX_COUNT} "
    "(e.g. quantity: 2), or the name of a mapped column that holds each customer's "
    "number (e.g. quantity: qty)."
)


def _quantity(value: Any) -> int | str:
    number = _int_value(value)
    if number is not None:
        if number < 1:
            raise fail(
                f"must be at least 1, not {_number(number)}", "Leave rows without a grant out."
            )
        if number > MAX_COUNT:
            # eachCmNum, NUMERIC(5), caps how many of one voucher a customer can hold
            raise fail(
                f"must be at most {MAX_COUNT}, not {_number(number)}: one customer can hold at "
                f"most {MAX_COUNT} of a voucher (the API's eachCmNum is NUMERIC(5))",
                _QUANTITY_HINT,
            )
        return number
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise fail(f"must be a whole number or a column name, not {_describe(value)}", _QUANTITY_HINT)


def _number(number: int) -> str:
    """An int as a message shows it: at most :data:`_SHOWN` characters of it."""
    return shorten(str(number), _SHOWN)


def _sheet(value: Any) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise fail(f"a sheet index counts from 0, not {value}")
        return value
    return _text_validator(None)(value)


PositiveInt = Annotated[
    int, PlainValidator(_positive_int), WithJsonSchema({"type": "integer", "minimum": 1})
]
PositiveNumber = Annotated[
    float,
    PlainValidator(_positive_number),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0}),
]
AutoOrCount = Annotated[
    Literal["auto"] | int,
    PlainValidator(_auto_or_count),
    WithJsonSchema(
        {"anyOf": [{"const": "auto"}, {"type": "integer", "minimum": 1, "maximum": MAX_COUNT}]}
    ),
]
Quantity = Annotated[
    int | str,
    PlainValidator(_quantity),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
                {"type": "string", "minLength": 1},
            ]
        }
    ),
]
SheetRef = Annotated[
    str | int,
    PlainValidator(_sheet),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "minLength": 1}, {"type": "integer", "minimum": 0}]}
    ),
]
