"""Secret values replaced by ``***``: one :class:`Redactor`, built from the credentials.

Nothing is registered globally. Whoever knows the secrets builds a redactor once
(``Credentials.redactor`` does it for the appkey) and hands that object to what must
never show them: logging (:func:`runner.logs.configure` / :func:`runner.logs.use_redactor`)
and the ledger (``Ledger.open(..., redactor=...)``). Two redactors never see each
other's secrets, and a redactor's ``repr`` never shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MASK", "NO_SECRETS", "Redactor"]

MASK = "***"


@dataclass(frozen=True, repr=False)
class Redactor:
    """Replaces every occurrence of its secrets, in text and inside dicts, lists and tuples."""

    secrets: frozenset[str] = field(default_factory=frozenset)
    _ordered: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if any(not isinstance(s, str) or not s for s in self.secrets):
            raise ValueError("a secret must be a non-empty str")
        # longest first: a secret that contains another is replaced whole
        ordered = tuple(sorted(self.secrets, key=lambda s: (-len(s), s)))
        object.__setattr__(self, "_ordered", ordered)

    @classmethod
    def of(cls, *values: str | None) -> Redactor:
        """A redactor of the given values; ``None`` and empty values are ignored."""
        return cls(frozenset(v for v in values if v))

    def including(self, *values: str | None) -> Redactor:
        """A new redactor of these secrets and the given values (this one is unchanged)."""
        return Redactor(self.secrets | Redactor.of(*values).secrets)

    def __repr__(self) -> str:
        return f"Redactor({len(self.secrets)} secret(s))"

    __str__ = __repr__

    def text(self, value: str) -> str:
        """``value`` with every secret replaced by ``***``."""
        for secret in self._ordered:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def contains_secret(self, value: str) -> bool:
        """Whether ``value`` holds any of the secrets."""
        return any(secret in value for secret in self.secrets)

    def redact(self, value: Any) -> Any:
        """A copy of ``value`` with every secret replaced by ``***``, in strings, dict keys
        and values, lists and tuples (named tuples keep their type); anything else as is."""
        if not self.secrets:
            return value
        return self._redact(value)

    def _redact(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self._redact(k): self._redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redact(v) for v in value]
        if isinstance(value, tuple):
            items = [self._redact(v) for v in value]
            if hasattr(value, "_fields"):  # a named tuple takes its fields as arguments
                return type(value)(*items)
            return type(value)(items)
        return value


NO_SECRETS = Redactor()
"""A redactor that knows no secret: what is given to it comes back unchanged."""
