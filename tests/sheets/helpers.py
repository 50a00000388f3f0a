"""Helpers for the sheets tests: write small CSV and XLSX files in a temporary folder."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
import xlsxwriter

from runner.errors import InvalidInput, Problem

Cell = str | int | float | None

BIG_ID = "6856083179295188426"  # 19 digits, beyond 2**53


def write_xlsx(
    path: Path,
    sheets: Mapping[str, Sequence[Sequence[Cell]]],
    *,
    first_row: int = 0,
    first_col: int = 0,
) -> Path:
    """Write one sheet per entry: str cells as TEXT, int/float cells as NUMBERS, None left empty."""
    workbook = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                at = (first_row + r, first_col + c)
                if isinstance(value, str):
                    sheet.write_string(*at, value)
                elif value is not None:
                    sheet.write_number(*at, value)
    workbook.close()
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` exactly (no newline translation) in ``encoding``."""
    path.write_bytes(text.encode(encoding))
    return path


def problems_of(excinfo: pytest.ExceptionInfo[InvalidInput]) -> list[Problem]:
    """The problems an InvalidInput carries."""
    return excinfo.value.problems()


def only(problems: list[Problem], needle: str) -> list[Problem]:
    """The problems whose message contains ``needle``."""
    return [p for p in problems if needle in p.message]


_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def write_compound_file(path: Path, streams: Sequence[str]) -> Path:
    """A minimal valid compound (OLE) file whose directory holds these empty streams (at
    most 3): ``EncryptionInfo`` + ``EncryptedPackage`` is how Excel saves a workbook with a
    password, ``Workbook`` an Excel 97-2003 .xls."""
    assert len(streams) <= 3
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, _END, 0, _END, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([_FREE] * 108))
    fat = struct.pack("<128I", _FAT, _END, *([_FREE] * 126))
    entries = [("Root Entry", 5)] + [(name, 2) for name in streams]
    directory = bytearray(512)
    for index, (name, kind) in enumerate(entries):
        offset = index * 128
        encoded = (name + "\0").encode("utf-16-le")
        directory[offset : offset + len(encoded)] = encoded
        struct.pack_into("<HBB", directory, offset + 64, len(encoded), kind, 1)
        right = index + 1 if 1 <= index < len(entries) - 1 else _FREE
        child = 1 if index == 0 and len(entries) > 1 else _FREE
        struct.pack_into("<III", directory, offset + 68, _FREE, right, child)
        struct.pack_into("<II", directory, offset + 116, _END, 0)
    for index in range(len(entries), 4):
        struct.pack_into("<III", directory, index * 128 + 68, _FREE, _FREE, _FREE)
    path.write_bytes(bytes(header) + fat + bytes(directory))
    return path


def rewrite_part(path: Path, part: str, edit: Callable[[str], str]) -> Path:
    """Rewrite one XML part of an XLSX in place (e.g. drop a formula's cached value)."""
    with zipfile.ZipFile(path) as source:
        items = [(item, source.read(item.filename)) for item in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item, data in items:
            if item.filename == part:
                data = edit(data.decode("utf-8")).encode("utf-8")
            target.writestr(item, data)
    return path
