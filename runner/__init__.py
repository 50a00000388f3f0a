"""campaign-runner: declarative voucher campaigns for the 勤策/外勤365 voucher OpenAPI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("campaign-runner")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
