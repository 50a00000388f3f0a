"""Which tenant a ledger belongs to: the API's base URL and a fingerprint of the openid.

A ledger records what was sent to one tenant. Used against another (a sandbox
rehearsal's ledger pointed at the real tenant, a colleague's openid), it would say
"already done" for work the other tenant never saw, or send grants for vouchers that do
not exist there. So the first command that sends binds the ledger to its tenant, and
every command that calls the API checks it before the first request.

The openid is never stored: only a SHA-256 fingerprint (to compare) and the masked
form (to show). The base URL is normalised so that ``HTTPS://Host:443/`` and
``https://host`` are one tenant.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from runner import logs
from runner.errors import Location, TenantMismatch

__all__ = ["Tenant", "bind_tenant", "normalise_base_url", "read_tenant"]

_KEYS = ("tenant_base_url", "tenant_openid_sha256", "tenant_openid_masked")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_base_url(url: str) -> str:
    """Scheme and host in lower case, no default port, no trailing slash."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True)
class Tenant:
    """One tenant's identity as a ledger keeps it; never holds the openid itself."""

    base_url: str
    openid_sha256: str
    openid_masked: str

    @classmethod
    def of(cls, base_url: str, openid: str) -> Tenant:
        """The tenant behind a base URL and an openid."""
        digest = hashlib.sha256(openid.encode("utf-8")).hexdigest()
        return cls(normalise_base_url(base_url), digest, logs.mask(openid))

    def __str__(self) -> str:
        return f"openid {self.openid_masked} at {self.base_url}"

    def same_as(self, other: Tenant) -> bool:
        """True for the same base URL and openid."""
        return (self.base_url, self.openid_sha256) == (other.base_url, other.openid_sha256)

    def as_dict(self) -> dict[str, str]:
        """What people and JSON output see: the base URL and the masked openid."""
        return {"base_url": self.base_url, "openid": self.openid_masked}


def read_tenant(conn: sqlite3.Connection) -> Tenant | None:
    """The tenant the ledger is bound to, or None before its first send."""
    placeholders = ", ".join("?" for _ in _KEYS)
    rows = conn.execute(
        f"SELECT key, value FROM meta WHERE key IN ({placeholders})", _KEYS
    ).fetchall()
    values = {str(key): str(value) for key, value in rows}
    if not all(key in values for key in _KEYS):
        return None
    return Tenant(*(values[key] for key in _KEYS))


def bind_tenant(conn: sqlite3.Connection, path: Path, tenant: Tenant, *, write: bool) -> bool:
    """Check *tenant* against the one bound; bind it when none is and *write* is True.

    Returns True when this call bound it. Raises :class:`TenantMismatch` naming both
    tenants (masked) when the ledger belongs to another. Call inside a write transaction
    when *write* is True.
    """
    bound = read_tenant(conn)
    if bound is not None:
        if not bound.same_as(tenant):
            raise TenantMismatch(
                f"this ledger belongs to {bound}, not to {tenant}: nothing was sent",
                where=Location(file=str(path)),
            )
        return False
    if not write:
        return False
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        list(
            zip(_KEYS, (tenant.base_url, tenant.openid_sha256, tenant.openid_masked), strict=True)
        ),
    )
    return True
