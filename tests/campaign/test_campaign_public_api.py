"""The public surface of ``runner.campaign``."""

from __future__ import annotations

import runner.campaign


def test_all_is_pinned() -> None:
    """``runner.campaign.__all__`` is exactly the documented public API, and every name exists."""
    assert sorted(runner.campaign.__all__) == sorted(
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
    for name in runner.campaign.__all__:
        assert getattr(runner.campaign, name) is not None
