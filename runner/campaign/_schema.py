"""The campaign file's JSON Schema (draft 2020-12), generated from the pydantic models.

Editors use it for completion and checks: put
``# yaml-language-server: $schema=<path or URL of the schema>`` on the first line of a
campaign file. ``runner schema`` prints it.
"""

from __future__ import annotations

from typing import Any

from runner.campaign._model import Campaign

__all__ = ["DRAFT", "json_schema"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a campaign file, ``$schema`` first."""
    schema = Campaign.model_json_schema(mode="validation")
    schema["title"] = "campaign-runner campaign file"
    return {"$schema": DRAFT, **schema}
