"""The published JSON Schema of ``report.json`` (``schema.json`` beside this file)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def report_schema() -> dict[str, Any]:
    """The schema, as a dict (JSON Schema draft 2020-12)."""
    text = (resources.files("haia.report") / "schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def validate(report: dict[str, Any]) -> list[str]:
    """Every way ``report`` departs from the schema, one line each (empty when it conforms).
    Needs the ``jsonschema`` package (extra ``dev``)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(report_schema())
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(report), key=lambda e: list(e.path))]
