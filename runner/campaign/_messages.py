"""Plain-language messages for pydantic validation errors, at YAML key paths.

A pydantic ``loc`` mixes data keys with union tags (``discount → ZKBL → percent``); the
key path keeps only the parts that exist in the data, plus the name of a missing key.
Unknown keys get a "did you mean" from the keys allowed at that place.
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Tag
from pydantic_core import ErrorDetails

from runner.campaign._env import APPKEY_PATH
from runner.campaign._issue import Issue, join_path
from runner.sheets import quoted, shorten

__all__ = ["allowed_keys", "to_issue", "yaml_path"]

Loc = tuple[int | str, ...]
#: The most characters of a value a message quotes.
_SHOWN = 40


def to_issue(error: ErrorDetails, data: Any, root: type[BaseModel]) -> Issue:
    """One pydantic error as an :class:`Issue` with a key path, a message and a hint."""
    loc = tuple(error["loc"])
    path = yaml_path(loc, data, keep_missing=error["type"] == "missing")
    message, hint = _describe(error, loc, path, root)
    return Issue(path, message, hint)


def yaml_path(loc: Loc, data: Any, *, keep_missing: bool = False) -> str:
    """The dotted key path of ``loc`` in ``data``, without union tags."""
    path = ""
    node = data
    for index, part in enumerate(loc):
        if _has(node, part):
            path, node = join_path(path, part), node[part]
        elif keep_missing and index == len(loc) - 1 and isinstance(part, str):
            path = join_path(path, part)
    return path


def _has(node: Any, part: int | str) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def allowed_keys(root: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed in the mapping at ``loc`` (a pydantic loc, tags included)."""
    current: Any = root
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``| None`` until something else is left."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
            continue
        if _is_union(tp):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _step(tp: Any, part: int | str) -> Any:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(str(part))
        return None if field is None else field.annotation
    origin = get_origin(tp)
    if origin is dict:
        return get_args(tp)[1]
    if origin is list:
        return get_args(tp)[0]
    if _is_union(tp):
        return next((m for m in get_args(tp) if _tag_of(m) == part), None)
    return None


def _tag_of(member: Any) -> str | None:
    """The union tag pydantic puts in ``loc`` for a member: a Tag, or a Literal mode/type."""
    if get_origin(member) is Annotated:
        for meta in get_args(member)[1:]:
            if isinstance(meta, Tag):
                return meta.tag
        member = get_args(member)[0]
    if isinstance(member, type) and issubclass(member, BaseModel):
        for name in ("mode", "type"):
            field = member.model_fields.get(name)
            if field is not None and get_origin(field.annotation) is Literal:
                return str(get_args(field.annotation)[0])
    return None


def _shown(value: Any, path: str) -> str:
    if path.startswith(APPKEY_PATH):
        return ""
    if value is None:
        return " (it is empty)"
    if isinstance(value, dict):
        return " (got a mapping)"
    if isinstance(value, list):
        return " (got a list)"
    if isinstance(value, bool):
        return f" (got {str(value).lower()})"
    text = quoted(value, _SHOWN) if isinstance(value, str) else shorten(repr(value), _SHOWN)
    return f" (got {text})"


def _guess(word: str, choices: list[str]) -> str:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{found[0]}'?)" if found else ""


def _describe(
    error: ErrorDetails, loc: Loc, path: str, root: type[BaseModel]
) -> tuple[str, str | None]:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    if kind == "spec":
        shown = _shown(value, path) if ctx.get("show_input") else ""
        return str(ctx["message"]) + shown, (str(ctx["hint"]) or None)
    if kind == "missing":
        name = str(loc[-1])
        return f"required key '{name}' is missing", f"Add `{name}:` here (`runner schema`)."
    if kind == "extra_forbidden":
        name, allowed = str(loc[-1]), allowed_keys(root, loc[:-1])
        hint = "Allowed keys here: " + ", ".join(allowed) + "." if allowed else None
        return f"unknown key '{name}'{_guess(name, allowed)}", hint
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ", ").split(",")]
        guess = _guess(value, choices) if isinstance(value, str) else ""
        hint = None
        if len(choices) > 1:
            listed = ", ".join(choices)
            hint = (
                f"Write one of {listed}, exactly as shown (`runner schema` says what each means)."
            )
        return f"must be one of {expected}{_shown(value, path)}{guess}", hint
    if kind == "union_tag_invalid":
        disc, tags = str(ctx.get("discriminator", "")), str(ctx.get("expected_tags", ""))
        tag = quoted(str(ctx.get("tag")), _SHOWN)
        hint = "`runner schema` says what each one means and which keys go with it."
        return f"{disc} must be one of {tags} (got {tag})", hint
    if kind == "union_tag_not_found":
        disc = str(ctx.get("discriminator", "")).strip("'")
        return f"needs a '{disc}' key", f"e.g. {{{disc}: ...}}; `runner schema` lists the choices."
    return _describe_type(kind, ctx, value, path, str(error["msg"]))


_MAPPING = (
    "must be a mapping (key: value lines)",
    "Write `key: value` lines indented under this key, or {key: value, ...} on one line "
    "(`runner schema` lists the keys).",
)
_WHOLE = ("must be a whole number", "Write a whole number without quotes or decimals, e.g. 4.")
_NUMBER = ("must be a number", "Write a number without quotes or a unit, e.g. 5 or 2.5.")
_TYPE_WORDS: dict[str, tuple[str, str]] = {
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
    "list_type": (
        "must be a list (- item lines, or [a, b])",
        "Write one `- item` line per item, indented under this key, or [a, b] on one line.",
    ),
    "string_type": ("must be text", 'Write it as text; quotes keep it text, e.g. "007100".'),
    "int_type": _WHOLE,
    "int_parsing": _WHOLE,
    "int_from_float": _WHOLE,
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "bool_type": (
        "must be true or false",
        "Write true or false, in lower case and without quotes.",
    ),
}


def _describe_type(
    kind: str, ctx: dict[str, Any], value: Any, path: str, fallback: str
) -> tuple[str, str | None]:
    if kind in _TYPE_WORDS:
        message, hint = _TYPE_WORDS[kind]
        return message + _shown(value, path), hint
    if kind == "too_short":
        if ctx.get("min_length") == 1:
            return "must not be empty", "Give at least one item, or leave the key out."
        return f"must have at least {ctx.get('min_length')} items", None
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items", None
    return fallback, None
