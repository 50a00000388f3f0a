"""What an audience file is, found before a reader opens it: CSV, XLSX, or why neither.

* Only a regular file is opened. A named pipe (FIFO) would block ``open`` until some
  other program writes to it, forever in a scheduled job; a device, a socket or a folder
  is no spreadsheet either. :func:`file_kind` looks with ``stat`` (which never blocks)
  first.
* An Office file in the old compound format (magic ``D0 CF 11 E0 A1 B1 1A E1``) is
  either a password-protected workbook (Excel encrypts an .xlsx into a compound file
  holding an ``EncryptionInfo`` and an ``EncryptedPackage`` stream, whatever its suffix)
  or a legacy Excel 97-2003 ``.xls`` workbook (a ``Workbook`` stream). The compound
  file's directory is read (:func:`compound_streams`) to tell them apart, so each gets
  its own message and hint.
"""

from __future__ import annotations

import difflib
import os
import stat
import struct
from pathlib import Path
from typing import BinaryIO

from runner.errors import Location, Problem
from runner.sheets.suffixes import CSV_SUFFIXES, XLS_SUFFIXES, XLSX_SUFFIXES

__all__ = ["OLE_MAGIC", "ZIP_MAGIC", "compound_streams", "file_kind"]

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_PATH_HINT = "Check the audience's `file` (relative to the campaign file), and run again."
_NOT_FILE_HINT = (
    "Point the audience's `file` at a spreadsheet saved on disk (an .xlsx workbook or a "
    ".csv file), and run again."
)
_XLS_HINT = "Open it in Excel and save it as 'Excel Workbook (*.xlsx)', and run again."
_ENCRYPTED_HINT = (
    "Open it in Excel, remove the password (File → Info → Protect Workbook → Encrypt with "
    "Password, clear the password), save it, and run again."
)
_TYPE_HINT = "Use a .xlsx workbook or a .csv file (UTF-8 or GB18030), and run again."

_NOT_REGULAR = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def file_kind(path: Path) -> tuple[str, Problem | None]:
    """``"csv"`` or ``"xlsx"`` (by suffix, or by content), or a problem saying why the file
    will not do. Never opens anything but a regular file."""
    where = Location(file=str(path))
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        hint = _did_you_mean(path) + _PATH_HINT
        return "", Problem(f"cannot read the file: {_reason(exc)}", where, hint)
    except OSError as exc:
        return "", Problem(f"cannot read the file: {_reason(exc)}", where, _PATH_HINT)
    what = next((name for test, name in _NOT_REGULAR if test(mode)), None)
    if what is not None or not stat.S_ISREG(mode):
        shown = what or "not a regular file"
        return "", Problem(
            f"the audience file is {shown}, not a spreadsheet", where, _NOT_FILE_HINT
        )
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(OLE_MAGIC))
            streams = compound_streams(handle) if magic == OLE_MAGIC else None
    except OSError as exc:
        return "", Problem(f"cannot read the file: {_reason(exc)}", where, _PATH_HINT)
    if streams is not None:
        return "", _compound(streams, where)
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES or (suffix not in CSV_SUFFIXES and magic[:4] == ZIP_MAGIC):
        return "xlsx", None
    if suffix in CSV_SUFFIXES:
        return "csv", None
    if suffix in XLS_SUFFIXES:
        return "", Problem("the file is an old Excel 97-2003 workbook (.xls)", where, _XLS_HINT)
    return "", Problem(f"unsupported file type {suffix or '(none)'!r}", where, _TYPE_HINT)


#: The most entries of a folder looked at for a "did you mean".
_MAX_LISTED = 10_000


def _did_you_mean(path: Path) -> str:
    """ "Did you mean 'x'? " naming the file next to a missing one whose name differs only in
    letter case (file names are case-sensitive here, unlike on Windows and macOS), or else
    one that looks alike; "" when there is none."""
    try:
        with os.scandir(path.parent) as entries:
            names = [entry.name for _, entry in zip(range(_MAX_LISTED), entries, strict=False)]
    except OSError:
        return ""
    wanted = path.name.casefold()
    same = [name for name in names if name.casefold() == wanted]
    if same:
        return (
            f"Did you mean {same[0]!r}? File names are case-sensitive here: write the name "
            "exactly as the folder shows it. "
        )
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.8)
    return f"Did you mean {close[0]!r}? " if close else ""


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _compound(streams: set[str], where: Location) -> Problem:
    if "encryptioninfo" in streams:
        return Problem(
            "the workbook is password-protected (encrypted): it cannot be read without "
            "the password",
            where,
            _ENCRYPTED_HINT,
        )
    if streams & {"workbook", "book"}:
        return Problem("the file is an old Excel 97-2003 workbook (.xls)", where, _XLS_HINT)
    return Problem(
        "the file is an Office document in the old compound format, but not a workbook",
        where,
        _TYPE_HINT,
    )


# --- the compound file's directory ------------------------------------------------------

_END_OF_CHAIN = 0xFFFFFFFE
_DIR_ENTRY = 128
_MAX_SECTORS = 1 << 16  # a directory far longer than any workbook's: the file is damaged


def compound_streams(handle: BinaryIO) -> set[str]:
    """The names (lower case) of the entries in a compound file's directory.

    Reads the header, the FAT sectors it lists (the first 109, which cover a directory in
    any file up to several MB; a directory sector beyond them ends the walk) and the
    directory chain. A damaged file gives the names found before the damage.
    """
    handle.seek(0)
    header = handle.read(512)
    if len(header) < 512:
        return set()
    size = 1 << struct.unpack_from("<H", header, 0x1E)[0]
    if size not in (512, 4096):
        return set()
    first_dir = struct.unpack_from("<I", header, 0x30)[0]
    fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < _END_OF_CHAIN]
    fat: list[int] = []
    for sector in fat_sectors:
        fat += struct.unpack(f"<{size // 4}I", _sector(handle, sector, size))
    names: set[str] = set()
    sector, seen = first_dir, 0
    while sector < _END_OF_CHAIN and seen < _MAX_SECTORS:
        data = _sector(handle, sector, size)
        names |= _entry_names(data)
        sector = fat[sector] if sector < len(fat) else _END_OF_CHAIN
        seen += 1
    return names


def _sector(handle: BinaryIO, number: int, size: int) -> bytes:
    handle.seek((number + 1) * size)
    data = handle.read(size)
    return data.ljust(size, b"\x00")


def _entry_names(data: bytes) -> set[str]:
    names: set[str] = set()
    for offset in range(0, len(data) - _DIR_ENTRY + 1, _DIR_ENTRY):
        length = struct.unpack_from("<H", data, offset + 64)[0]
        kind = data[offset + 66]
        if kind in (1, 2, 5) and 2 <= length <= 64:
            raw = data[offset : offset + length - 2]
            names.add(raw.decode("utf-16-le", errors="replace").lower())
    return names
