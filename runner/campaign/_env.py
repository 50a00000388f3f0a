"""``${VAR}`` interpolation, the appkey rule, and WAIQIN_* defaults for the ``api`` block.

* Any string value may refer to environment variables, as the whole value
  (``openid: ${WAIQIN_OPENID}``) or embedded (``remark: "see ${WIKI}/voucher"``).
  An unset variable is an issue at that key path, except under ``api.openid`` and
  ``api.appkey``: credentials are needed to send, not to plan, so those are left unset
  and reported by :func:`unset_credentials` for the commands that call the API.
* ``api.appkey`` is the signing secret: only a bare ``${VAR}`` reference is accepted. A
  literal value is refused without ever repeating it, and is dropped from the data.
* Where the file is silent (key absent or null), ``WAIQIN_BASE_URL``, ``WAIQIN_OPENID``
  and ``WAIQIN_APPKEY`` fill ``api.base_url``, ``api.openid`` and ``api.appkey``.
* The appkey appears nowhere else: :func:`appkey_leaks` refuses any other value that,
  after interpolation, contains the appkey's value (or refers to its variable), as a
  voucher's name or remark would be sent to the vendor and written to the ledger and the
  plan files. Its messages name the key, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from runner.api import ENV_APPKEY, ENV_APPKEY_FILE, ENV_BASE_URL, ENV_OPENID, read_appkey_file
from runner.campaign._issue import Issue, join_path
from runner.errors import MissingCredentials

__all__ = [
    "APPKEY_PATH",
    "ENV_DEFAULTS",
    "appkey_leaks",
    "appkey_values",
    "fill_api_gaps",
    "interpolate",
    "unset_credentials",
]

APPKEY_PATH = "api.appkey"
CREDENTIAL_PATHS = frozenset({"api.openid", APPKEY_PATH})
ENV_DEFAULTS: dict[str, str] = {
    "base_url": ENV_BASE_URL,
    "openid": ENV_OPENID,
    "appkey": ENV_APPKEY,
}

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LITERAL_APPKEY = (
    "a literal appkey is not allowed in the campaign file; "
    "write ${WAIQIN_APPKEY} and set the variable"
)


def interpolate(data: dict[str, Any], env: Mapping[str, str]) -> tuple[dict[str, Any], list[Issue]]:
    """A copy of ``data`` with ``${VAR}`` references replaced, and the issues found."""
    issues: list[Issue] = []
    out = {key: _walk(value, key, env, issues) for key, value in data.items()}
    return out, issues


def fill_api_gaps(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """A copy of ``data`` whose absent or null api keys are taken from WAIQIN_* variables."""
    api = data.get("api", {})
    if api is None:
        api = {}
    if not isinstance(api, dict):
        return data
    filled = dict(api)
    for key, variable in ENV_DEFAULTS.items():
        if filled.get(key) is None and env.get(variable):
            filled[key] = env[variable]
    if not filled and "api" not in data:
        return data
    return {**data, "api": filled}


def unset_credentials(data: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """``{"openid"|"appkey": VAR}`` for credential references whose variable is unset."""
    api = data.get("api")
    if not isinstance(api, Mapping):
        return {}
    unset: dict[str, str] = {}
    for key in ("openid", "appkey"):
        value = api.get(key)
        names = _REF.findall(value) if isinstance(value, str) else []
        missing = [name for name in names if name not in env]
        if missing:
            unset[key] = missing[0]
    return unset


def _walk(value: Any, path: str, env: Mapping[str, str], issues: list[Issue]) -> Any:
    if path == APPKEY_PATH:
        return _appkey(value, env, issues)
    if isinstance(value, dict):
        return {k: _walk(v, join_path(path, k), env, issues) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, join_path(path, i), env, issues) for i, v in enumerate(value)]
    if isinstance(value, str):
        return _substitute(value, path, env, issues)
    return value


def _substitute(text: str, path: str, env: Mapping[str, str], issues: list[Issue]) -> str | None:
    missing = [name for name in _REF.findall(text) if name not in env]
    if missing and path in CREDENTIAL_PATHS:
        return None  # see unset_credentials: needed to send, not to plan
    for name in dict.fromkeys(missing):
        issues.append(
            Issue(
                path,
                f"environment variable {name} is not set",
                hint=f"Set {name} in the environment (export {name}=...) before running.",
            )
        )
    if missing:
        return text
    return _REF.sub(lambda m: env[m.group(1)], text)


def _appkey(value: Any, env: Mapping[str, str], issues: list[Issue]) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or _REF.fullmatch(value) is None:
        issues.append(
            Issue(
                APPKEY_PATH,
                _LITERAL_APPKEY,
                hint="Remove the value from the file; if the file was shared, rotate the appkey.",
            )
        )
        return None
    return _substitute(value, APPKEY_PATH, env, issues)


def appkey_values(data: Mapping[str, Any], env: Mapping[str, str]) -> frozenset[str]:
    """The appkey's value(s): ``api.appkey`` as interpolated and filled, and WAIQIN_APPKEY.

    Surrounding blanks are cut, as the credentials cut them; empty values are left out.
    """
    api = data.get("api")
    resolved = api.get("appkey") if isinstance(api, Mapping) else None
    values = (resolved if isinstance(resolved, str) else "", env.get(ENV_APPKEY, ""))
    return frozenset(v.strip() for v in (*values, _appkey_in_file(env)) if v.strip())


def _appkey_in_file(env: Mapping[str, str]) -> str:
    """The appkey WAIQIN_APPKEY_FILE holds, if it names a usable file ("" otherwise: only
    a command that sends needs it, and says why it cannot be used)."""
    name = env.get(ENV_APPKEY_FILE, "").strip()
    if not name or env.get(ENV_APPKEY, "").strip():
        return ""
    try:
        return read_appkey_file(name)
    except MissingCredentials:
        return ""


def appkey_leaks(
    raw: Mapping[str, Any], data: Mapping[str, Any], env: Mapping[str, str]
) -> list[Issue]:
    """One issue per value other than ``api.appkey`` that holds the appkey.

    ``raw`` is the file as written: a value referring to the appkey's variable (the one
    ``api.appkey`` names, and WAIQIN_APPKEY) is refused even while it is unset. ``data`` is
    the interpolated, filled data: a value containing the appkey's value is refused however
    it got there. The messages name the key and never show the value.
    """
    names = {ENV_APPKEY}
    api = raw.get("api")
    written = api.get("appkey") if isinstance(api, Mapping) else None
    if isinstance(written, str) and (ref := _REF.fullmatch(written)) is not None:
        names.add(ref.group(1))
    found: dict[str, Issue] = {}
    for path, text in _strings(raw, ""):
        used = [name for name in _REF.findall(text) if name in names]
        if used and not _under_appkey(path):
            found[path] = _leak(path, f"refers to ${{{used[0]}}}, the appkey's variable")
    secrets = appkey_values(data, env)
    for path, text in _strings(data, ""):
        if not _under_appkey(path) and path not in found and any(s in text for s in secrets):
            found[path] = _leak(path, "contains the appkey's value")
    return list(found.values())


def _under_appkey(path: str) -> bool:
    return path == APPKEY_PATH or path.startswith((APPKEY_PATH + ".", APPKEY_PATH + "["))


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string value under ``value`` with its key path (mapping keys are not values)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, join_path(path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, join_path(path, index))
    elif isinstance(value, str):
        yield path, value


def _leak(path: str, what: str) -> Issue:
    key = path.rsplit(".", 1)[-1]
    return Issue(
        path,
        f"{key!r} {what}: the signing secret may appear only as api.appkey",
        hint=(
            "Take it out of this value: it would be sent to the vendor and written to the "
            "ledger and the plan files. If the appkey was ever written in a shared file, "
            "rotate it."
        ),
    )
