"""The public surface of ``runner.spec``."""

from __future__ import annotations

import runner.spec


def test_all_is_pinned() -> None:
    """``runner.spec.__all__`` is exactly the documented public API, and every name exists."""
    assert sorted(runner.spec.__all__) == sorted(
        [
            "ApiSettings",
            "Audience",
            "Budget",
            "Campaign",
            "CustomerScope",
            "Customers",
            "Discount",
            "DiscountFixed",
            "DiscountRatio",
            "Grant",
            "Products",
            "ProductsAll",
            "ProductsByBrand",
            "ProductsByCode",
            "ProductsByType",
            "Voucher",
            "json_schema",
            "load_campaign",
        ]
    )
    for name in runner.spec.__all__:
        assert getattr(runner.spec, name) is not None
