"""Checks of a package's public surface that can fail for a real reason.

A package of ``runner`` declares its public API in ``__all__`` and keeps everything else in
private modules (``runner/<package>/_<name>.py``). These helpers find what breaks that:
a name in ``__all__`` that does not exist, a private name listed as public, a public
class or function without a docstring, and a module outside a package importing one of
its private modules. The ``runner`` sources are read with :mod:`ast`, not imported, so a
layering check also sees imports inside functions and in modules nothing imports.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import runner

RUNNER_DIR = Path(runner.__file__).resolve().parent


def module_name(path: Path, root: Path = RUNNER_DIR) -> str:
    """The dotted name of a source file under ``root`` (``__init__.py`` names its package)."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources(root: Path = RUNNER_DIR) -> list[Path]:
    """Every Python file under ``root`` (the ``runner`` package unless told), sorted."""
    return sorted(root.rglob("*.py"))


def packages(root: Path = RUNNER_DIR) -> list[str]:
    """Every package below ``root``: the folders holding Python files."""
    folders = {path.parent for path in sources(root)} - {root}
    return sorted(module_name(folder / "__init__.py", root) for folder in folders)


def packages_with_all(root: Path = RUNNER_DIR) -> list[str]:
    """The packages whose ``__init__.py`` assigns ``__all__`` (found without importing)."""
    found = []
    for name in packages(root):
        init = root.parent.joinpath(*name.split("."), "__init__.py")
        if init.is_file() and "__all__" in _assigned_names(ast.parse(init.read_text("utf-8"))):
            found.append(name)
    return found


def _assigned_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names |= {target.id for target in targets if isinstance(target, ast.Name)}
    return names


def _public_all(package: str) -> tuple[ModuleType, list[str]]:
    module = importlib.import_module(package)
    exported = module.__dict__.get("__all__")
    assert isinstance(exported, (list, tuple)), f"{package}.__all__ is not a list"
    assert all(isinstance(name, str) for name in exported), f"{package}.__all__: not all str"
    return module, list(exported)


def missing_names(package: str) -> list[str]:
    """Names in ``package.__all__`` that ``from package import name`` would not find."""
    module, exported = _public_all(package)
    return [name for name in exported if not hasattr(module, name)]


def private_names(package: str) -> list[str]:
    """Names in ``package.__all__`` that start with an underscore."""
    return [name for name in _public_all(package)[1] if name.startswith("_")]


def undocumented(package: str) -> list[str]:
    """Public classes and functions in ``package.__all__`` without a docstring of their own.

    Constants and type aliases are not checked: Python gives a value no docstring. A class
    must say something itself: an inherited docstring, or the signature that
    ``dataclass`` and ``NamedTuple`` write when the class has none, does not count.
    """
    module, exported = _public_all(package)
    return [
        name
        for name in exported
        if hasattr(module, name) and not _has_own_docstring(name, getattr(module, name))
    ]


def _has_own_docstring(name: str, obj: object) -> bool:
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")
        generated = (dataclasses.is_dataclass(obj) or _is_named_tuple(obj)) and bool(
            doc and doc.startswith(f"{obj.__name__}(")
        )
        return bool(doc and doc.strip()) and not generated
    if inspect.isroutine(obj):
        return bool(obj.__doc__ and obj.__doc__.strip())
    return True


def _is_named_tuple(cls: type) -> bool:
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


@dataclasses.dataclass(frozen=True)
class PrivateImport:
    """A module importing ``private``, a private module of a package it is not part of."""

    importer: str
    private: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.private}"


def private_imports(package: str, root: Path = RUNNER_DIR) -> list[PrivateImport]:
    """Imports of ``package``'s private modules by modules under ``root`` outside ``package``."""
    return [found for found in _all_private_imports(root) if _owner(found.private) == package]


def _all_private_imports(root: Path) -> Iterator[PrivateImport]:
    for path in sources(root):
        importer = module_name(path, root)
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
            for imported in _imported_modules(node, importer, is_package, root):
                private = _private_prefix(imported, root.name)
                if private is None:
                    continue
                owner = _owner(private)
                if importer != owner and not importer.startswith(f"{owner}."):
                    yield PrivateImport(importer, private, node.lineno)


def _imported_modules(node: ast.AST, importer: str, is_package: bool, root: Path) -> list[str]:
    """The modules an import statement loads (``from P import _x`` loads ``P._x``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parts = importer.split(".") if is_package else importer.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    named = [f"{base}.{alias.name}" for alias in node.names]
    return [base, *(name for name in named if _is_module(name, root))]


def _is_module(dotted: str, root: Path) -> bool:
    if dotted.split(".")[0] != root.name:
        return False
    path = root.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or path.is_dir()


def _private_prefix(dotted: str, top: str) -> str | None:
    """``top.P._x`` for ``top.P._x.y``; None when no part of the name is private."""
    parts = dotted.split(".")
    if parts[0] != top:
        return None
    for index, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[: index + 1])
    return None


def _owner(private: str) -> str:
    """The package whose private module ``private`` is."""
    return private.rsplit(".", 1)[0]
