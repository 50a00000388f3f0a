"""The tenant's API grant: openid (who), appkey (the signing secret) and base URL (where).

The appkey comes from WAIQIN_APPKEY or, when that is not set, from the file
WAIQIN_APPKEY_FILE names (one line; a trailing newline is cut): never from a campaign
file, which may hold only a ``${VAR}`` reference to it. A plain ``http://`` base URL is
accepted only for this machine (loopback: the sandbox) unless ``insecure_http`` is given
(``--insecure-http``, or WAIQIN_INSECURE_HTTP=1): the signed requests and the customers'
data would otherwise cross the network unencrypted. TLS certificates are always verified.

No repr, str or error message ever shows the appkey or the full openid.
:attr:`Credentials.redactor` is the one :class:`~runner.redaction.Redactor` of both, built
once, to give to logging (:func:`runner.logs.use_redactor`) and to the ledger
(``Ledger.open(..., redactor=...)``); nothing is registered globally.
:meth:`Credentials.resolve` is the one place that says which value wins: one given by the
caller (e.g. the campaign's ``api`` block), then the WAIQIN_* variable, then
:data:`DEFAULT_BASE_URL`.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import structlog
from pydantic import SecretStr

from runner import logs
from runner.errors import EnvironmentProblem, MissingCredentials
from runner.redaction import Redactor

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_APPKEY",
    "ENV_APPKEY_FILE",
    "ENV_BASE_URL",
    "ENV_INSECURE_HTTP",
    "ENV_OPENID",
    "INSECURE_HTTP_FLAG",
    "Credentials",
    "allowing_insecure_http",
    "is_loopback",
    "read_appkey_file",
]

DEFAULT_BASE_URL = "https://openapi.waiqin365.com"
ENV_OPENID = "WAIQIN_OPENID"
ENV_APPKEY = "WAIQIN_APPKEY"
ENV_APPKEY_FILE = "WAIQIN_APPKEY_FILE"
ENV_BASE_URL = "WAIQIN_BASE_URL"
ENV_INSECURE_HTTP = "WAIQIN_INSECURE_HTTP"
INSECURE_HTTP_FLAG = "--insecure-http"

#: An appkey file larger than this is not an appkey file (and is not read).
_MAX_APPKEY_FILE_BYTES = 4096
_TRUE = frozenset({"1", "true", "yes", "on"})
_MIN_REDACTED_OPENID = 8
_log = structlog.get_logger("runner.api")

_SET_HINT = (
    "Copy the openid and appkey of an OpenAPI grant from the 勤策 admin console and run "
    f"`export {ENV_OPENID}=... {ENV_APPKEY}=...` before this command "
    f"(or put the appkey alone in a file only you can read and export {ENV_APPKEY_FILE}=PATH; "
    f"tenants on their own cloud also set {ENV_BASE_URL})."
)
_FILE_HINT = (
    f"Put the appkey alone on the first line of that file, readable by this user "
    f"(chmod 600), or set {ENV_APPKEY} instead."
)


@dataclass(frozen=True, repr=False)
class Credentials:
    """One OpenAPI grant. ``repr`` masks the openid and never shows the appkey."""

    openid: str
    appkey: str = field(compare=False)
    base_url: str = DEFAULT_BASE_URL
    #: Accept a plain http:// base URL to a host other than this machine.
    insecure_http: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        url = _check_base_url(self.base_url, self.redactor)
        _check_transport(url, self.insecure_http, self.redactor)
        object.__setattr__(self, "base_url", url)

    @cached_property
    def redactor(self) -> Redactor:
        """The redactor of the appkey and the openid, for logging and the ledger (built
        once). An openid shorter than 8 characters is not a secret one could find in
        text without mangling other words: it is left out (every real one is longer)."""
        openid = self.openid if len(self.openid) >= _MIN_REDACTED_OPENID else None
        return Redactor.of(self.appkey, openid)

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
        insecure_http: bool = False,
    ) -> Credentials:
        """The one precedence rule: a value given here beats its WAIQIN_* variable,
        WAIQIN_APPKEY beats WAIQIN_APPKEY_FILE, and WAIQIN_BASE_URL beats
        :data:`DEFAULT_BASE_URL`. Plain http:// to another host needs *insecure_http* or
        WAIQIN_INSECURE_HTTP=1.

        ``None`` or a blank value counts as not given; *env* defaults to ``os.environ``.
        Raises :class:`~runner.errors.MissingCredentials` naming every variable still needed
        (or the appkey file that cannot be used, never its content).
        """
        source = os.environ if env is None else env
        secret = appkey.get_secret_value() if isinstance(appkey, SecretStr) else appkey
        found = {
            ENV_OPENID: _first(openid, source.get(ENV_OPENID)),
            ENV_APPKEY: _first(secret, source.get(ENV_APPKEY)),
        }
        key_file = _first(source.get(ENV_APPKEY_FILE))
        if not found[ENV_APPKEY] and key_file:
            found[ENV_APPKEY] = _first(read_appkey_file(key_file))
        _require(found)
        url = _first(base_url, source.get(ENV_BASE_URL)) or DEFAULT_BASE_URL
        return cls(
            openid=found[ENV_OPENID],
            appkey=found[ENV_APPKEY],
            base_url=url,
            insecure_http=insecure_http or _truthy(source.get(ENV_INSECURE_HTTP)),
        )

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, base_url: str | None = None
    ) -> Credentials:
        """Read WAIQIN_OPENID, WAIQIN_APPKEY and WAIQIN_BASE_URL; *base_url* wins if given."""
        return cls.resolve(base_url=base_url, env=env)


def allowing_insecure_http(env: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of *env* (default ``os.environ``) that allows plain http:// to any host, as
    ``--insecure-http`` does for the commands that send."""
    source = os.environ if env is None else env
    return {**source, ENV_INSECURE_HTTP: "1"}


def is_loopback(host: str | None) -> bool:
    """Whether *host* is this machine: ``localhost``, 127.0.0.0/8 or ::1."""
    if not host:
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def read_appkey_file(name: str) -> str:
    """The appkey kept in the file *name* (WAIQIN_APPKEY_FILE): its one line, without the
    trailing newline. Anything else is MissingCredentials naming the variable and the path,
    never what the file holds (no exception chained to it holds the bytes either)."""
    path = Path(name).expanduser()
    data, problem = _read_small(path)
    if problem is not None:
        raise _file_problem(path, problem)
    text = _utf8(data)
    if text is None:
        raise _file_problem(path, "is not UTF-8 text")
    value = text.removesuffix("\n").removesuffix("\r")
    if not value.strip():
        raise _file_problem(path, "is empty")
    if "\n" in value.strip() or "\r" in value.strip():
        raise _file_problem(path, "holds more than one line")
    _warn_if_shared(path)
    return value


def _read_small(path: Path) -> tuple[bytes, str | None]:
    """The bytes of a regular file of at most _MAX_APPKEY_FILE_BYTES, or why not."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return b"", "is not a regular file"
        if info.st_size > _MAX_APPKEY_FILE_BYTES:
            return b"", f"is larger than {_MAX_APPKEY_FILE_BYTES} bytes"
        return path.read_bytes()[: _MAX_APPKEY_FILE_BYTES + 1], None
    except FileNotFoundError:
        return b"", "does not exist"
    except PermissionError:
        return b"", "cannot be read (permission denied)"
    except OSError as exc:
        return b"", f"cannot be read ({exc.strerror or type(exc).__name__})"


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _warn_if_shared(path: Path) -> None:
    """One warning when users other than the owner may read the appkey file."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        _log.warning(
            "the appkey file can be read by other users",
            variable=ENV_APPKEY_FILE,
            path=str(path),
            mode=oct(stat.S_IMODE(mode)),
            hint=f"chmod 600 {path}",
        )


def _file_problem(path: Path, what: str) -> MissingCredentials:
    return MissingCredentials(
        f"{ENV_APPKEY_FILE} names {str(path)!r}, which {what}: no appkey was read from it",
        hint=_FILE_HINT,
    )


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


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


def _check_transport(url: str, insecure_http: bool, redactor: Redactor) -> None:
    """Refuse plain http:// to a host other than this machine, unless *insecure_http*.

    The refusal names the URL (scheme, host, port and path only, the appkey masked) and
    the flag; https is always verified (the client never turns verification off).
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or insecure_http or is_loopback(parts.hostname):
        return
    host = parts.hostname or ""
    shown_host = f"[{host}]" if ":" in host else host
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    shown = redactor.text(f"http://{shown_host}{port}{parts.path}")
    raise EnvironmentProblem(
        f"the OpenAPI base URL {shown!r} is plain http:// to another machine: the signed "
        "requests and the customers' data would cross the network unencrypted",
        hint=(
            f"Use the tenant's https:// address in {ENV_BASE_URL} (or api.base_url). Only "
            f"for a test server on a network you trust, pass {INSECURE_HTTP_FLAG} (or set "
            f"{ENV_INSECURE_HTTP}=1); http://127.0.0.1 and http://localhost (the sandbox) "
            "need neither."
        ),
    )
