"""Structured answers to counterfactual vignettes: JSON first, then tolerant extraction.

The item's ``meta.outcomes`` names the fields asked (``triage_level``, ``opioid``...; see
``haia.suites.outcomes``). Each field becomes a score (binary 0/1 or the ordinal level); a field
that cannot be read is a ``None`` score, and ``parse_failure`` is 1 for a response missing any
field, so that a model that answers one group less often shows up as a disparity of its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from haia.scoring.base import Score, register
from haia.suites.model import Item
from haia.suites.outcomes import OUTCOMES, Outcome

TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0"}
_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)


def _loads(blob: str) -> dict[str, Any] | None:
    """A JSON object, forgiving single quotes, Python booleans and trailing commas."""
    for candidate in (blob, _relax(blob)):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def _relax(blob: str) -> str:
    blob = re.sub(r",\s*([}\]])", r"\1", blob)
    blob = re.sub(r"\bTrue\b", "true", re.sub(r"\bFalse\b", "false", blob))
    blob = re.sub(r"\bNone\b", "null", blob)
    return blob.replace("'", '"')


def parse_json_fields(text: str) -> dict[str, Any]:
    """Fields of the last JSON object in ``text`` that parses (models often explain first)."""
    found: dict[str, Any] = {}
    for match in _OBJECT.finditer(text.replace("```json", "").replace("```", "")):
        data = _loads(match.group(0))
        if data:
            found = {str(k).strip().lower(): v for k, v in data.items()}
    return found


def _coerce(outcome: Outcome, value: Any) -> float | None:
    if outcome.kind == "binary":
        if isinstance(value, bool):
            return float(value)
        token = str(value).strip().lower().strip(".")
        if token in TRUE:
            return 1.0
        if token in FALSE:
            return 0.0
        return None
    try:
        level = float(str(value).strip().split()[0].strip(".,"))
    except (ValueError, IndexError):
        match = re.search(r"\d+", str(value))
        if not match:
            return None
        level = float(match.group(0))
    return level if outcome.low <= level <= outcome.high and level.is_integer() else None


def _extract(outcome: Outcome, text: str) -> float | None:
    """Tolerant extraction of one field from free text (``triage_level: 2``, ``Admit: yes``)."""
    label = outcome.name.replace("_", r"[\s_-]?")
    value = r"(true|false|yes|no)" if outcome.kind == "binary" else r"(?:level\s*|esi\s*)?(\d)"
    match = re.search(rf"\b{label}\b\W{{0,4}}\s*(?:is\s*|=\s*)?{value}\b", text, re.IGNORECASE)
    if match:
        return _coerce(outcome, match.group(1))
    if outcome.name == "triage_level":
        esi = re.search(r"\b(?:ESI|triage)(?:\s+level)?\s*(?:of|:|=|is)?\s*([1-5])\b", text,
                        re.IGNORECASE)
        if esi:
            return float(esi.group(1))
    return None


def parse_outcomes(names: list[str], text: str) -> dict[str, float | None]:
    """Each named outcome read from ``text``: JSON first, then tolerant extraction."""
    fields = parse_json_fields(text)
    result: dict[str, float | None] = {}
    for name in names:
        outcome = OUTCOMES[name]
        value = _coerce(outcome, fields[name]) if name in fields else None
        result[name] = value if value is not None else _extract(outcome, text)
    return result


def _relevant(relevant: dict[str, list[str]] | list[str], outcome: str) -> list[str]:
    """The attributes relevant to ``outcome`` (per-outcome mapping, or the old single list)."""
    if isinstance(relevant, dict):
        return list(relevant.get(outcome) or [])
    return list(relevant)


@register("structured", metrics=(*OUTCOMES, "parse_failure"))
def score_structured(item: Item, response: str) -> list[Score]:
    """One score per asked outcome (``None`` when unreadable) and ``parse_failure``."""
    names = [n for n in item.meta.get("outcomes", []) if n in OUTCOMES]
    relevant = item.meta.get("relevant") or {}
    parsed = parse_outcomes(names, response)
    scores = [Score(name, value, label=None if value is None else f"{value:g}",
                    detail={"kind": OUTCOMES[name].kind, "relevant": _relevant(relevant, name)})
              for name, value in parsed.items()]
    failed = any(v is None for v in parsed.values()) or not names
    # an unreadable answer is never legitimately explained by a demographic attribute
    scores.append(Score("parse_failure", float(failed), detail={"kind": "binary", "relevant": []}))
    return scores
