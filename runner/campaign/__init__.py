"""The campaign file: strict YAML with line marks, the validated model, its JSON Schema.

``load_campaign(path)`` returns a :class:`Campaign` or raises one error that lists every
problem with its file, key path and line (see :mod:`runner.campaign._load`).
"""

from __future__ import annotations

from runner.campaign._load import load_campaign
from runner.campaign._model import (
    ApiSettings,
    AudienceSpec,
    Budget,
    Campaign,
    Customers,
    CustomerScope,
    Discount,
    DiscountFixed,
    DiscountRatio,
    Grant,
    Products,
    ProductsAll,
    ProductsByBrand,
    ProductsByCode,
    ProductsByType,
    Voucher,
)
from runner.campaign._notify import NOTIFY_EVENTS, NotifyEvent, NotifyFormat, NotifyTarget
from runner.campaign._schema import json_schema
from runner.campaign._yaml import YamlDocument, parse_yaml

__all__ = [
    "NOTIFY_EVENTS",
    "ApiSettings",
    "AudienceSpec",
    "Budget",
    "Campaign",
    "CustomerScope",
    "Customers",
    "Discount",
    "DiscountFixed",
    "DiscountRatio",
    "Grant",
    "NotifyEvent",
    "NotifyFormat",
    "NotifyTarget",
    "Products",
    "ProductsAll",
    "ProductsByBrand",
    "ProductsByCode",
    "ProductsByType",
    "Voucher",
    "YamlDocument",
    "json_schema",
    "load_campaign",
    "parse_yaml",
]
