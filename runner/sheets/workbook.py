"""What an XLSX workbook says about itself: its sheets (and which are hidden), the part
that holds each sheet's cells, and which cell styles show a number as a date.

calamine (through fastexcel) reads values; it does not say that a sheet is hidden or that
a number is shown as a date. Both matter: Excel opens a workbook on its first *visible*
sheet, so that is the one a campaign manager checked; and an id cell that Excel shows as
a date holds a day count (``46447``), not the id that was typed. This module reads
``xl/workbook.xml``, its relationships and ``xl/styles.xml`` with the standard library.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree

__all__ = [
    "SheetEntry",
    "XlsxLayoutError",
    "date_styles",
    "is_date_format",
    "list_sheets",
    "sheet_part",
]

_RELS_TYPE_DOCUMENT = "/officeDocument"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_STRICT_REL_ID = "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"

#: Built-in number formats that show a date or a time: 14-22 and 45-47 everywhere, and
#: 27-36 and 50-58, the date formats of the Chinese, Japanese and Korean versions.
_BUILTIN_DATES = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
# what a format code shows literally: "quoted text", \x, _x (a space as wide as x), *x
# (x repeated), and [sections] such as [Red] or [$-804] (but not [h], [mm], [ss])
_LITERALS = re.compile(r'"[^"]*"|\\.|[_*].|\[(?![hms]+\])[^\]]*\]', re.IGNORECASE)
_DATE_TOKENS = re.compile(r"[ymdhs]", re.IGNORECASE)


class XlsxLayoutError(ValueError):
    """The workbook's XML is not laid out as the Office Open XML standard says."""


@dataclass(frozen=True)
class SheetEntry:
    """One sheet as ``workbook.xml`` lists it: its name and whether Excel shows its tab."""

    name: str
    visible: bool
    rel_id: str | None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(element: ElementTree.Element, name: str) -> Iterator[ElementTree.Element]:
    return (child for child in element if _local(child.tag) == name)


def _workbook_part(archive: zipfile.ZipFile) -> str:
    return _target(archive, "_rels/.rels", _RELS_TYPE_DOCUMENT, by="type")


def list_sheets(archive: zipfile.ZipFile) -> list[SheetEntry]:
    """The workbook's sheets in tab order; ``state="hidden"``/``"veryHidden"`` are hidden."""
    root = ElementTree.fromstring(archive.read(_workbook_part(archive)))
    return [
        SheetEntry(
            sheet.get("name", ""),
            sheet.get("state", "visible") == "visible",
            sheet.get(_REL_ID) or sheet.get(_STRICT_REL_ID),
        )
        for sheets in _children(root, "sheets")
        for sheet in _children(sheets, "sheet")
    ]


def sheet_part(archive: zipfile.ZipFile, sheet_name: str) -> str:
    """The zip member that holds the sheet's cells, found through the relationship parts."""
    workbook = _workbook_part(archive)
    found = [s.rel_id for s in list_sheets(archive) if s.name == sheet_name]
    if not found or found[0] is None:
        raise XlsxLayoutError(f"sheet {sheet_name!r} is not listed in {workbook}")
    folder, name = posixpath.split(workbook)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    return _target(archive, rels, found[0], by="id", base=folder)


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


def is_date_format(code: str) -> bool:
    """True when an Excel number format code shows a date or a time (yyyy-mm-dd, h:mm)."""
    return bool(_DATE_TOKENS.search(_LITERALS.sub("", code)))


def date_styles(archive: zipfile.ZipFile) -> frozenset[int]:
    """The cell style indexes (a cell's ``s``) whose number format shows a date or time."""
    try:
        styles = archive.read("xl/styles.xml")
    except KeyError:
        return frozenset()
    root = ElementTree.fromstring(styles)
    custom: dict[int, str] = {}
    for formats in _children(root, "numFmts"):
        for fmt in _children(formats, "numFmt"):
            custom[int(fmt.get("numFmtId", "-1"))] = fmt.get("formatCode", "")
    found: set[int] = set()
    for xfs in _children(root, "cellXfs"):
        for index, xf in enumerate(_children(xfs, "xf")):
            number = int(xf.get("numFmtId", "0"))
            code = custom.get(number)
            if is_date_format(code) if code is not None else number in _BUILTIN_DATES:
                found.add(index)
    return frozenset(found)
