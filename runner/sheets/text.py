"""Text helpers shared by the CSV and XLSX readers: decoding, trimming, id patterns, quoting.

Trimming removes ASCII whitespace, the full-width space U+3000 and the no-break space
U+00A0 from both ends of a cell; a cell that is empty after trimming is null.

A message quotes the input through :func:`quoted` (or :func:`shorten`): at most
:data:`MAX_QUOTED` characters of it, then how many more there are. A cell or a header can
be megabytes long (a damaged file, a file that is no spreadsheet), and a message that
copies it whole is as useless as it is heavy.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

import polars as pl

__all__ = [
    "BOM",
    "MAX_QUOTED",
    "WHITESPACE",
    "DecodeFailure",
    "Decoded",
    "Encoding",
    "damaged_expr",
    "decode",
    "looks_damaged",
    "quoted",
    "shorten",
    "trim",
    "trim_expr",
]

Encoding = Literal["auto", "utf-8", "gb18030"]

BOM = "\ufeff"
#: The most characters of one input value that a message quotes.
MAX_QUOTED = 80
WHITESPACE = " \t\n\r\x0b\x0c\u3000\u00a0"

# 6.85608E+18, 6.85608e18, -1E-3: a number in scientific notation.
_SCIENTIFIC_TEXT = r"[+-]?\d+(?:\.\d*)?[eE][+-]?\d+"
_SCIENTIFIC = re.compile(_SCIENTIFIC_TEXT)
# 6856083179295188000.0: an integer that went through a float.
_FLOAT_INTEGER_TEXT = r"[+-]?\d+\.0+"
_FLOAT_INTEGER = re.compile(_FLOAT_INTEGER_TEXT)


def shorten(text: str, limit: int = MAX_QUOTED) -> str:
    """``text``, or its first ``limit`` characters and ``… (N more characters)``."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def quoted(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` quoted as Python shows it (``'C0001'``), at most ``limit`` characters of it:
    a longer text shows as ``'first characters…' (N more characters)``."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit] + '…'!r} ({len(text) - limit:,} more characters)"


def trim(value: str | None) -> str | None:
    """Strip whitespace (incl. U+3000 and U+00A0) from both ends; empty becomes None."""
    if value is None:
        return None
    value = value.strip(WHITESPACE)
    return value or None


def trim_expr(column: str) -> pl.Expr:
    """The polars form of :func:`trim` for one String column."""
    stripped = pl.col(column).str.strip_chars(WHITESPACE)
    return pl.when(stripped == "").then(None).otherwise(stripped).alias(column)


def looks_damaged(value: str) -> bool:
    """True for an id written as a float: scientific notation, or an integer with ".0"."""
    return bool(_SCIENTIFIC.fullmatch(value) or _FLOAT_INTEGER.fullmatch(value))


def damaged_expr(column: str) -> pl.Expr:
    """The polars form of :func:`looks_damaged` for one String column (null stays null)."""
    return pl.col(column).str.contains(f"^(?:{_SCIENTIFIC_TEXT})$|^(?:{_FLOAT_INTEGER_TEXT})$")


@dataclass(frozen=True)
class Decoded:
    """CSV text after decoding, with the encoding that was used."""

    text: str
    encoding: str


class DecodeFailure(ValueError):
    """The bytes are not valid in the encoding that was asked for (or any we try)."""

    def __init__(self, message: str, hint: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.line = line


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode(data: bytes, encoding: Encoding) -> Decoded:
    """Decode CSV bytes: auto = UTF-8 (with or without BOM), else GB18030.

    Raises :class:`DecodeFailure` naming the line of the first undecodable byte.
    """
    if data.startswith(_UTF16_BOMS):
        raise DecodeFailure(
            "the file is UTF-16 (Excel's 'Unicode Text'), not a CSV this tool reads",
            "In Excel use Save As → 'CSV UTF-8 (Comma delimited)' and run again.",
        )
    if encoding == "gb18030":
        return Decoded(_strict(data, "gb18030").removeprefix(BOM), "gb18030")
    if data.startswith(codecs.BOM_UTF8):
        return Decoded(_strict(data[len(codecs.BOM_UTF8) :], "utf-8"), "utf-8-sig")
    if encoding == "utf-8":
        return Decoded(_strict(data, "utf-8"), "utf-8")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        as_utf8 = exc.start
    try:
        return Decoded(data.decode("gb18030").removeprefix(BOM), "gb18030")
    except UnicodeDecodeError as exc:
        as_gb = exc.start
    # The encoding the file was written in reads further before it fails: a UTF-8 file
    # with one bad byte fails as GB18030 at its first Chinese character, and the other
    # way round. The line of the farther failure is where the bad byte is.
    codec, start = ("UTF-8", as_utf8) if as_utf8 >= as_gb else ("GB18030/GBK", as_gb)
    line = data.count(b"\n", 0, start) + 1
    raise DecodeFailure(
        f"the file is neither UTF-8 nor GB18030/GBK text: it reads as {codec} up to line "
        f"{line}, where byte 0x{data[start]:02X} cannot be decoded",
        "Fix or delete that line (or save the file again as 'CSV UTF-8 (Comma delimited)'), "
        "and run again.",
        line=line,
    )


def _strict(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        other = "gb18030" if codec == "utf-8" else "utf-8"
        raise DecodeFailure(
            f"the file is not valid {codec.upper()} (undecodable byte at offset {exc.start})",
            f"Set `encoding: {other}` (or `auto`) for this audience, or save the file "
            f"as {codec.upper()}, and run again.",
            line=data.count(b"\n", 0, exc.start) + 1,
        ) from None
