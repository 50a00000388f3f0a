"""Strict YAML reading with line marks.

PyYAML follows YAML 1.1, where ``NO`` is a boolean, ``007100`` an octal number, ``1:20``
a sexagesimal number and ``2027-03-01`` a date. Customer codes and dates must not change
type behind the user's back, so this loader resolves plain scalars the YAML 1.2 core way,
narrowed further:

* ``true`` / ``false`` (lowercase only) are booleans;
* ``null``, ``~`` and an empty value are ``None``;
* decimal integers without leading zeros (``-12``, ``0``, ``6856083179295188426``) of at
  most 100 digits are ints (a longer one stays text, which the field then refuses as far
  too large: Python will not even convert 4,300 digits);
* plain decimal fractions (``10.5``, ``-0.25``) are floats;
* everything else, e.g. ``NO``, ``yes``, ``on``, ``007100``, ``1:20``, ``0x1F``, ``0o17``,
  ``1e3``, ``.inf`` and ``2027-03-01``, is a string.

Mapping keys are always strings (their source text). A key that appears twice is a
problem that names both lines. :func:`parse_yaml` also returns a map from every key path
(``vouchers.ten-off.end_date``, ``grants[0].quantity``) to its 1-based line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runner.campaign._issue import Issue, join_path
from runner.errors import Location, SpecError

__all__ = ["MAX_NODES", "StrictLoader", "YamlDocument", "loader_class", "parse_yaml"]

MAX_NODES = 200_000
"""Refuse documents whose aliases expand to more values than this (a "billion laughs")."""

_TAG = "tag:yaml.org,2002:"
_ALLOWED_SCALAR_TAGS = frozenset(
    f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null")
)
_ALLOWED_TAGS: dict[type[Node], str] = {MappingNode: f"{_TAG}map", SequenceNode: f"{_TAG}seq"}
_TAG_HINT = (
    "Remove the tag (the word starting with !): a campaign file holds plain text, numbers, "
    "lists and mappings, and nothing in it can construct objects."
)

_RESOLVERS: list[tuple[str, re.Pattern[str], list[str]]] = [
    (f"{_TAG}bool", re.compile(r"^(?:true|false)$"), list("tf")),
    (f"{_TAG}null", re.compile(r"^(?:~|null|)$"), ["~", "n", ""]),
    (f"{_TAG}int", re.compile(r"^[-+]?(?:0|[1-9][0-9]{0,99})$"), list("-+0123456789")),
    (f"{_TAG}float", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)\.[0-9]+$"), list("-+0123456789")),
]


def _strict_resolvers() -> dict[Any, Any]:
    table: dict[Any, Any] = {}
    for tag, regexp, firsts in _RESOLVERS:
        for first in firsts:
            table.setdefault(first or None, []).append((tag, regexp))
    return table


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader whose implicit typing is the narrow YAML 1.2 core set described above."""

    yaml_implicit_resolvers = _strict_resolvers()


_Loader = StrictLoader | yaml.CSafeLoader
_c_loader: type[yaml.CSafeLoader] | None = None

if getattr(yaml, "__with_libyaml__", False):  # pragma: no branch - libyaml ships in the wheels

    class _CStrictLoader(yaml.CSafeLoader):
        """The same resolution on libyaml's parser, which also records line marks."""

        yaml_implicit_resolvers = _strict_resolvers()

    _c_loader = _CStrictLoader


def loader_class(*, prefer_c: bool = True) -> type[_Loader]:
    """The libyaml-backed loader when it is available (it keeps marks), else the pure one."""
    if prefer_c and _c_loader is not None:
        return _c_loader
    return StrictLoader


@dataclass(frozen=True)
class YamlDocument:
    """A parsed campaign file: plain data, the key-path → line map and duplicate-key issues."""

    data: dict[str, Any]
    lines: dict[str, int]
    issues: list[Issue] = field(default_factory=list)


def parse_yaml(text: str, *, file: str, prefer_c: bool = True) -> YamlDocument:
    """Parse one YAML document whose top level must be a mapping.

    Raises :class:`SpecError` (with the line) for syntax errors, several documents,
    an empty file, a non-mapping top level, unsupported tags or recursive aliases.
    Duplicate keys do not stop reading: they come back as issues.
    """
    loader = loader_class(prefer_c=prefer_c)(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise SpecError(
                "the campaign file is empty",
                where=Location(file=file),
                hint="Start from the README example; `runner schema` describes every key.",
            )
        if not isinstance(root, MappingNode):
            raise SpecError(
                "the top level of a campaign file must be a mapping (campaign:, vouchers:, ...)",
                where=Location(file=file, line=root.start_mark.line + 1),
                hint="Write one `key: value` per line at the top level, starting with `campaign:`.",
            )
        builder = _Builder(loader, file)
        data = builder.mapping(root, "")
        return YamlDocument(data=data, lines=builder.lines, issues=builder.issues)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None
    except yaml.YAMLError as exc:
        raise SpecError(
            f"cannot read the YAML: {exc}",
            where=Location(file=file),
            hint="Save the file as plain UTF-8 text without control characters.",
        ) from None
    finally:
        loader.dispose()


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or exc.context or "invalid YAML"
    if mark is None:
        return SpecError(f"invalid YAML: {what}", where=Location(file=file))
    return SpecError(
        f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {what}",
        where=Location(file=file, line=mark.line + 1),
        hint="Check indentation and quoting there (values with ': ' or ' #' need quotes).",
    )


class _Builder:
    """Turns composed nodes into plain Python values while recording key-path lines."""

    def __init__(self, loader: _Loader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.lines: dict[str, int] = {}
        self.issues: list[Issue] = []
        self._active: set[int] = set()
        self._count = 0

    def value(self, node: Node, path: str) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        self._check_tag(node)
        self._count += 1
        if self._count > MAX_NODES:
            raise self._error(node, f"the document expands to more than {MAX_NODES} values")
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if id(node) in self._active:
            raise self._error(node, "an alias refers to a value that contains it")
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
            if isinstance(node, SequenceNode):
                return [self.value(item, join_path(path, i)) for i, item in enumerate(node.value)]
            raise self._error(node, f"unsupported YAML node {type(node).__name__}")
        finally:
            self._active.discard(id(node))

    def mapping(self, node: MappingNode, path: str) -> dict[str, Any]:
        self.lines.setdefault(path, node.start_mark.line + 1)
        self._check_tag(node)
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self._error(
                    key_node, "a mapping key must be a plain word, not a list or mapping"
                )
            self._check_tag(key_node)
            key = str(key_node.value)
            child = join_path(path, key)
            line = key_node.start_mark.line + 1
            if key in first_line:
                self.issues.append(self._duplicate(child, key, first_line[key], line))
                continue
            first_line[key] = line
            self.lines[child] = line
            out[key] = self.value(value_node, child)
        return out

    def scalar(self, node: ScalarNode) -> Any:
        return self.loader.construct_object(node, deep=True)

    def _check_tag(self, node: Node) -> None:
        """Refuse any tag but the plain ones (``!!python/object``, ``!!binary``, ``!custom``)."""
        allowed = node.tag in _ALLOWED_SCALAR_TAGS
        if not isinstance(node, ScalarNode):
            allowed = node.tag == _ALLOWED_TAGS.get(type(node))
        if allowed:
            return
        shown = "!!" + node.tag.removeprefix(_TAG) if node.tag.startswith(_TAG) else node.tag
        line = node.start_mark.line + 1
        raise SpecError(
            f"YAML tags such as !!python/... are not allowed: found {shown!r} (line {line})",
            where=Location(file=self.file, line=line),
            hint=_TAG_HINT,
        )

    def _duplicate(self, path: str, key: str, first: int, again: int) -> Issue:
        return Issue(
            yaml_path=path,
            message=f"duplicate key '{key}' (first at line {first}, again at line {again})",
            hint="Keep only one of them: YAML silently keeps just one value.",
            line=again,
        )

    def _error(self, node: Node, message: str) -> SpecError:
        line = node.start_mark.line + 1
        return SpecError(
            f"{message} (line {line})",
            where=Location(file=self.file, line=line),
            hint="Write plain values: text, numbers, lists and mappings.",
        )
