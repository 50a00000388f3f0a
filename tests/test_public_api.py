"""Each package's public surface holds: ``__all__`` is real and documented, privates private."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.public_api import (
    missing_names,
    packages,
    packages_with_all,
    private_imports,
    private_names,
    undocumented,
)

#: Layering violations that exist today: (importing module, private module of another
#: package). Each should go (the package exporting what is needed, or the code moving into
#: it); a new pair fails the layering test, and a pair that is fixed must be struck off.
KNOWN_PRIVATE_IMPORTS: frozenset[tuple[str, str]] = frozenset()

#: The packages that declare a public API today; losing ``__all__`` would silently drop a
#: package from the checks below.
DECLARED = {
    "runner.api",
    "runner.campaign",
    "runner.execute",
    "runner.ledger",
    "runner.plan",
    "runner.sandbox",
    "runner.sheets",
}


def test_the_packages_with_a_public_api_still_declare_it() -> None:
    """Every package known to declare ``__all__`` still does, so the checks below cover it."""
    assert set(packages_with_all()) >= DECLARED


@pytest.mark.parametrize("package", packages_with_all())
def test_every_name_in_all_exists(package: str) -> None:
    """Every name in the package's ``__all__`` can be imported from the package."""
    assert missing_names(package) == []


@pytest.mark.parametrize("package", packages_with_all())
def test_nothing_private_is_listed_as_public(package: str) -> None:
    """No name in the package's ``__all__`` starts with an underscore."""
    assert private_names(package) == []


@pytest.mark.parametrize("package", packages_with_all())
def test_public_classes_and_functions_have_docstrings(package: str) -> None:
    """Every class and function in the package's ``__all__`` has a docstring of its own."""
    assert undocumented(package) == []


@pytest.mark.parametrize("package", packages())
def test_no_module_outside_a_package_imports_its_private_modules(package: str) -> None:
    """Modules of ``runner`` outside the package import only its public ``__init__``."""
    found = private_imports(package)
    new = [str(one) for one in found if (one.importer, one.private) not in KNOWN_PRIVATE_IMPORTS]
    assert new == [], "import the package's public names instead"


def test_every_known_layering_exception_still_exists() -> None:
    """Each pair in KNOWN_PRIVATE_IMPORTS is still found; a fixed one is struck off the list."""
    found = {(one.importer, one.private) for name in packages() for one in private_imports(name)}
    assert KNOWN_PRIVATE_IMPORTS - found == set()


def _write(root: Path, relative: str, text: str = "") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_layering_check_finds_every_form_of_private_import(tmp_path: Path) -> None:
    """Absolute, relative, ``from P import _x`` and function-level imports from outside P are
    found; imports within P, of P's public names, and of private names (not modules) are not."""
    root = tmp_path / "app"
    _write(root, "__init__.py")
    _write(root, "p/__init__.py", "from app.p._x import thing\n__all__ = ['thing']\n")
    _write(root, "p/_x.py", "from ._y import other\nthing = 1\n")
    _write(root, "p/_y.py", "other = 2\n")
    _write(root, "p/sub/__init__.py", "from .._y import other\n")
    _write(root, "q/__init__.py")
    _write(root, "q/absolute.py", "from app.p._x import thing\n")
    _write(root, "q/relative.py", "from ..p._y import other\n")
    _write(root, "q/submodule.py", "from app.p import _x, thing\n")
    _write(root, "q/plain.py", "import app.p._y.inner as deep\n")
    _write(root, "q/late.py", "def f():\n    from app.p import _y\n    return _y\n")
    _write(root, "q/public.py", "from app.p import thing\nfrom app.q.absolute import _name\n")
    _write(root, "top.py", "from app.p._x import thing\n")

    found = {(one.importer, one.private, one.line) for one in private_imports("app.p", root)}

    assert found == {
        ("app.q.absolute", "app.p._x", 1),
        ("app.q.relative", "app.p._y", 1),
        ("app.q.submodule", "app.p._x", 1),
        ("app.q.plain", "app.p._y", 1),
        ("app.q.late", "app.p._y", 2),
        ("app.top", "app.p._x", 1),
    }
    assert packages(root) == ["app.p", "app.p.sub", "app.q"]
    assert packages_with_all(root) == ["app.p"]


SAMPLE = '''\
"""A package with one of each mistake."""
import dataclasses
from typing import NamedTuple

__all__ = ["Documented", "Bare", "Data", "Pair", "f", "g", "VALUE", "_hidden", "ghost"]


class Documented:
    """Says what it is."""


class Bare(Documented):
    pass


@dataclasses.dataclass
class Data:
    x: int


class Pair(NamedTuple):
    a: int
    b: int


def f():
    """Says what it does."""


def g():
    pass


VALUE = 1
_hidden = 2
'''


def test_the_surface_checks_find_each_mistake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing name, a private name, and classes or functions without their own docstring
    (inherited or generated by dataclass and NamedTuple) are each reported."""
    _write(tmp_path, "public_api_sample/__init__.py", SAMPLE)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert missing_names("public_api_sample") == ["ghost"]
        assert private_names("public_api_sample") == ["_hidden"]
        assert undocumented("public_api_sample") == ["Bare", "Data", "Pair", "g"]
    finally:
        sys.modules.pop("public_api_sample", None)
