"""JSON schemas of the answers items ask for, sent as a constraint with ``--structured``.

A counterfactual vignette asks for a JSON object of outcomes (:mod:`haia.suites.outcomes`); a
multiple-choice item for one option letter. With ``--structured`` the request carries the schema
as an OpenAI ``response_format`` (``json_schema``), which llama.cpp's server (the embedded model),
vLLM and hosted APIs turn into constrained decoding. Constraining the form of an answer changes
what is audited (a model that cannot follow the format is helped), so it is off by default and
stated in the report.
"""

from __future__ import annotations

from typing import Any

from haia.suites.model import Item
from haia.suites.outcomes import OUTCOMES


def answer_schema(item: Item) -> dict[str, Any] | None:
    """The JSON schema of ``item``'s answer, or ``None`` for free-text items."""
    outcomes = item.meta.get("outcomes") if isinstance(item.meta, dict) else None
    if outcomes:
        properties: dict[str, Any] = {}
        for name in outcomes:
            outcome = OUTCOMES[name]
            properties[name] = ({"type": "boolean"} if outcome.kind == "binary" else
                                {"type": "integer", "enum": list(range(outcome.low,
                                                                       outcome.high + 1))})
        return {"type": "object", "properties": properties, "required": list(outcomes),
                "additionalProperties": False}
    if item.choices:
        return {"type": "object", "properties": {"answer": {"type": "string",
                                                            "enum": sorted(item.choices)}},
                "required": ["answer"], "additionalProperties": False}
    return None


def response_format(item: Item) -> dict[str, Any] | None:
    """The OpenAI ``response_format`` constraining ``item``'s answer, or ``None``."""
    schema = answer_schema(item)
    if schema is None:
        return None
    return {"type": "json_schema",
            "json_schema": {"name": "answer", "strict": True, "schema": schema}}
