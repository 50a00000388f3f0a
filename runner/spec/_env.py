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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runner.spec._issue import Issue, join_path

__all__ = ["APPKEY_PATH", "ENV_DEFAULTS", "fill_api_gaps", "interpolate", "unset_credentials"]

APPKEY_PATH = "api.appkey"
CREDENTIAL_PATHS = frozenset({"api.openid", APPKEY_PATH})
ENV_DEFAULTS: dict[str, str] = {
    "base_url": "WAIQIN_BASE_URL",
    "openid": "WAIQIN_OPENID",
    "appkey": "WAIQIN_APPKEY",
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
