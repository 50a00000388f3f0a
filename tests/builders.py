"""Test campaigns, built one way: a campaign file assembled from its sections, and its audience.

Each test folder describes campaigns in its own terms -- the plan tests as short YAML text
they edit and find lines in, the exactly-once tests as data with absolute audience paths,
the campaign-file tests as one complete file -- and all of them build and write the file
here, so the layout of a test campaign (its sections and their order, how data is written
as YAML, the encoding) and of its customer CSV is decided once.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

#: The Chinese headers of a test audience CSV: customer id, code, name, level, quantity.
AUDIENCE_HEADER = ("客户ID", "客户编码", "客户名称", "客户等级", "数量")

#: A section of a campaign file: YAML text (its entries indented under the section, kept
#: exactly as written) or data, written as YAML.
Section = str | Mapping[str, Any] | Sequence[Mapping[str, Any]]


def campaign_yaml(
    name: str,
    *,
    audiences: Section,
    vouchers: Section,
    grants: Section,
    api: Mapping[str, Any] | None = None,
    top: str = "",
) -> str:
    """A campaign file's text: ``campaign``, ``api``, ``top`` (verbatim YAML), then the
    audiences, vouchers and grants sections."""
    text = _dump({"campaign": name})
    if api is not None:
        text += _section("api", api)
    text += top
    for key, value in (("audiences", audiences), ("vouchers", vouchers), ("grants", grants)):
        text += _section(key, value)
    return text


def write_campaign_file(path: Path, text: str) -> Path:
    """Write a campaign file as UTF-8 (its folder is made if need be); returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_audience_csv(
    path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = AUDIENCE_HEADER
) -> Path:
    """A UTF-8 CSV (no BOM, ``\\n`` line ends) with the header and rows, every value as text."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _section(key: str, value: Section) -> str:
    if isinstance(value, str):
        return f"{key}:\n{value}"
    return _dump({key: dict(value) if isinstance(value, Mapping) else list(value)})


def _dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
