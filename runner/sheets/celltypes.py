"""What the cell values of an XLSX sheet really are, read from the workbook's XML.

calamine (through fastexcel) renders every cell as text, but it cannot say whether a cell
was stored as text or as a number, nor on which Excel row its range starts. Both matter:
an id that Excel stored as a number has already lost digits, and problems must name rows
as Excel shows them. This module walks the sheet's XML once (standard library only) and
returns, for the columns asked about, the raw value of every numeric cell, plus the first
and last row that hold a value.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

__all__ = ["SheetCells", "XlsxLayoutError", "column_index", "scan_sheet"]

_RELS_TYPE_DOCUMENT = "/officeDocument"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_STRICT_REL_ID = "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_NUMERIC_TYPES = frozenset({None, "n"})


class XlsxLayoutError(ValueError):
    """The workbook's XML is not laid out as the Office Open XML standard says."""


@dataclass(frozen=True)
class SheetCells:
    """Rows holding values (1-based, as Excel shows them) and the numeric cells found.

    ``numbers`` maps a 0-based absolute column (A = 0) to ``{excel_row: raw value}``.
    """

    first_row: int | None
    last_row: int | None
    numbers: dict[int, dict[int, str]] = field(default_factory=dict)


def column_index(letters: str) -> int:
    """0-based index of an Excel column name: A → 0, Z → 25, AA → 26."""
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - ord("A") + 1)
    return index - 1


def scan_sheet(path: Path, sheet_name: str, columns: set[int]) -> SheetCells:
    """Scan the sheet named ``sheet_name`` for value rows and numeric cells in ``columns``."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, sheet_name)
            with archive.open(part) as stream:
                return _scan(stream, columns)
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError) as exc:
        raise XlsxLayoutError(str(exc)) from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(element: ElementTree.Element, name: str) -> Iterator[ElementTree.Element]:
    return (child for child in element if _local(child.tag) == name)


def _sheet_part(archive: zipfile.ZipFile, sheet_name: str) -> str:
    """The zip member that holds the sheet's cells, found through the relationship parts."""
    workbook = _target(archive, "_rels/.rels", _RELS_TYPE_DOCUMENT, by="type")
    root = ElementTree.fromstring(archive.read(workbook))
    rel_id = None
    for sheets in _children(root, "sheets"):
        for sheet in _children(sheets, "sheet"):
            if sheet.get("name") == sheet_name:
                rel_id = sheet.get(_REL_ID) or sheet.get(_STRICT_REL_ID)
    if rel_id is None:
        raise XlsxLayoutError(f"sheet {sheet_name!r} is not listed in {workbook}")
    folder, name = posixpath.split(workbook)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    return _target(archive, rels, rel_id, by="id", base=folder)


def _target(archive: zipfile.ZipFile, rels: str, wanted: str, *, by: str, base: str = "") -> str:
    """The target of the relationship in ``rels`` whose Id is, or whose Type ends with, wanted."""
    root = ElementTree.fromstring(archive.read(rels))
    for rel in _children(root, "Relationship"):
        matches = rel.get("Id") == wanted if by == "id" else rel.get("Type", "").endswith(wanted)
        if matches:
            target = rel.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join(base, target))
    raise XlsxLayoutError(f"no relationship {wanted!r} in {rels}")


def _scan(stream: IO[bytes], columns: set[int]) -> SheetCells:
    first: int | None = None
    last: int | None = None
    numbers: dict[int, dict[int, str]] = {}
    row, col = 0, -1
    for event, element in ElementTree.iterparse(stream, events=("start", "end")):
        name = _local(element.tag)
        if event == "start" and name == "row":
            row = int(element.get("r") or row + 1)
            col = -1
        elif event == "end" and name == "c":
            col = _cell_column(element.get("r"), col)
            value = _value(element)
            if value is None:
                continue
            first = row if first is None else first
            last = row
            if col in columns and element.get("t") in _NUMERIC_TYPES:
                numbers.setdefault(col, {})[row] = value
        elif event == "end" and name == "row":
            element.clear()
    return SheetCells(first, last, numbers)


def _cell_column(ref: str | None, previous: int) -> int:
    """The 0-based column of a cell: from its reference ("B3"), else the next one."""
    if ref:
        match = _CELL_REF.fullmatch(ref)
        if match:
            return column_index(match.group(1))
    return previous + 1


def _value(cell: ElementTree.Element) -> str | None:
    """The stored value of a cell (``<v>`` or inline string), None for a cell without one."""
    for child in cell:
        name = _local(child.tag)
        if name == "v":
            return child.text or ""
        if name == "is":
            return "".join(t.text or "" for t in child.iter() if _local(t.tag) == "t")
    return None
