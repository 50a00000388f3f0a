"""The tenant's API grant: openid (who), appkey (the signing secret) and base URL (where).

No repr, str or error message ever shows the appkey. :attr:`Credentials.redactor` is the
one :class:`~runner.redaction.Redactor` of the appkey, built once, to give to logging
(:func:`runner.logs.use_redactor`) and to the ledger (``Ledger.open(..., redactor=...)``);
nothing is registered globally. :meth:`Credentials.resolve` is the one place that says
which value wins: one given by the caller (e.g. the campaign's ``api`` block), then the
WAIQIN_* variable, then :data:`DEFAULT_BASE_URL`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from pydantic import SecretStr

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
    def resolve(
        cls,
        *,
        openid: str | None = None,
        appkey: SecretStr | str | None = None,
        base_url: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Credentials:
        """The one precedence rule: a value given here beats its WAIQIN_* variable, and
        WAIQIN_BASE_URL beats :data:`DEFAULT_BASE_URL`.

        ``None`` or a blank value counts as not given; *env* defaults to ``os.environ``.
        Raises :class:`~runner.errors.MissingCredentials` naming every variable still needed.
        """
        source = os.environ if env is None else env
        secret = appkey.get_secret_value() if isinstance(appkey, SecretStr) else appkey
        found = {
            ENV_OPENID: _first(openid, source.get(ENV_OPENID)),
            ENV_APPKEY: _first(secret, source.get(ENV_APPKEY)),
        }
        _require(found)
        url = _first(base_url, source.get(ENV_BASE_URL)) or DEFAULT_BASE_URL
        return cls(openid=found[ENV_OPENID], appkey=found[ENV_APPKEY], base_url=url)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, base_url: str | None = None
    ) -> Credentials:
        """Read WAIQIN_OPENID, WAIQIN_APPKEY and WAIQIN_BASE_URL; *base_url* wins if given."""
        return cls.resolve(base_url=base_url, env=env)


def _first(*values: str | None) -> str:
    """The first value that is not blank, stripped; ``""`` when there is none."""
    return next((value.strip() for value in values if value and value.strip()), "")


def _require(found: Mapping[str, str]) -> None:
    """Raise MissingCredentials naming every variable whose value is still empty."""
    missing = [name for name, value in found.items() if not value]
    if missing:
        names = " and ".join(missing)
        noun, verb = ("variable", "is") if len(missing) == 1 else ("variables", "are")
        raise MissingCredentials(
            f"environment {noun} {names} {verb} not set (or empty)", hint=_SET_HINT
        )


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
