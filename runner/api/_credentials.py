"""The tenant's API grant: openid (who), appkey (the signing secret) and base URL (where).

No repr, str or error message ever shows the appkey. :attr:`Credentials.redactor` is the
one :class:`~runner.redaction.Redactor` of the appkey, built once, to give to logging
(:func:`runner.logs.use_redactor`) and to the ledger (``Ledger.open(..., redactor=...)``);
nothing is registered globally.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from runner import logs
from runner.errors import EnvironmentProblem, MissingCredentials
from runner.redaction import Redactor

__all__ = ["DEFAULT_BASE_URL", "ENV_APPKEY", "ENV_BASE_URL", "ENV_OPENID", "Credentials"]

DEFAULT_BASE_URL = "https://openapi.waiqin365.com"
ENV_OPENID = "WAIQIN_OPENID"
ENV_APPKEY = "WAIQIN_APPKEY"
ENV_BASE_URL = "WAIQIN_BASE_URL"

_SET_HINT = (
    "Copy the openid and appkey of an OpenAPI grant from the 勤策 admin console and run "
    f"`export {ENV_OPENID}=... {ENV_APPKEY}=...` before this command "
    f"(tenants on their own cloud also set {ENV_BASE_URL})."
)


@dataclass(frozen=True, repr=False)
class Credentials:
    """One OpenAPI grant. ``repr`` masks the openid and never shows the appkey."""

    openid: str
    appkey: str = field(compare=False)
    base_url: str = DEFAULT_BASE_URL

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", _check_base_url(self.base_url, self.redactor))

    @cached_property
    def redactor(self) -> Redactor:
        """The redactor of the appkey, for logging and the ledger (built once)."""
        return Redactor.of(self.appkey)

    def __repr__(self) -> str:
        openid = logs.mask(self.openid)
        base_url = self.redactor.text(self.base_url)
        return f"Credentials(openid={openid!r}, appkey=***, base_url={base_url!r})"

    __str__ = __repr__

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, base_url: str | None = None
    ) -> Credentials:
        """Read WAIQIN_OPENID, WAIQIN_APPKEY and WAIQIN_BASE_URL; *base_url* wins if given."""
        source = os.environ if env is None else env
        openid = source.get(ENV_OPENID, "").strip()
        appkey = source.get(ENV_APPKEY, "").strip()
        missing = [
            name for name, value in ((ENV_OPENID, openid), (ENV_APPKEY, appkey)) if not value
        ]
        if missing:
            names = " and ".join(missing)
            noun, verb = ("variable", "is") if len(missing) == 1 else ("variables", "are")
            raise MissingCredentials(
                f"environment {noun} {names} {verb} not set (or empty)", hint=_SET_HINT
            )
        url = base_url or source.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL
        return cls(openid=openid, appkey=appkey, base_url=url)


def _check_base_url(url: str, redactor: Redactor) -> str:
    """The base URL without a trailing slash; only http(s) with a host is accepted.

    The refusal shows the URL with the appkey (should it hold it) replaced by ``***``.
    """
    cleaned = url.strip().rstrip("/")
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        shown = redactor.text(cleaned)
        raise EnvironmentProblem(
            f"the OpenAPI base URL {shown!r} is not an http(s) address",
            hint=f"Set {ENV_BASE_URL} (or --base-url) to e.g. {DEFAULT_BASE_URL}",
        )
    return cleaned
