"""Multiple-choice answer extraction and matching."""

from __future__ import annotations

import json
import re

from haia.scoring.base import Score, register
from haia.suites.model import Item

# Keywords match in any case; the option letter itself must be a capital ("answer is a fever").
_EXPLICIT = re.compile(
    r"(?i:answer|option|choice)\s*(?i:is|:|would be|=)?\s*(?i:option\s*)?"
    r"[\(\[]?([A-Z])[\)\]]?(?![A-Za-z])"
)
# A response that opens with a lone letter: "B", "B.", "(B)", "**B**", "B) ...", "B - ...".
# "A" and "I" followed by a plain space are English words ("A 12-lead ECG..."), not choices.
_LEADING = re.compile(
    r"^[\s*(\[\"'#]{0,6}(?:([A-Z])\**(?:[.):\]]|\s*$|\s+[-–—:])|([B-HJ-Z])\s)"
)
_LINE_LABEL = re.compile(r"^\s*\(?([A-Z])[\.\)]\s", re.MULTILINE)


def _json_answer(text: str) -> str | None:
    """The ``answer`` of a JSON object answer (``{"answer": "B"}``, as ``--structured`` asks)."""
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    answer = data.get("answer") if isinstance(data, dict) else None
    return answer.strip() if isinstance(answer, str) else None


def extract_choice(text: str, choices: dict[str, str]) -> str | None:
    """The option letter a response chose, or ``None`` when it is absent or ambiguous.

    In order: an explicit statement ("the answer is C"); a response that opens with one letter
    (unless it then lists several options, as small models do when they echo the menu); the text
    of exactly one option.
    """
    labels = set(choices)
    stripped = text.strip()
    structured = _json_answer(stripped)
    if structured is not None:
        return structured if structured in labels else None
    explicit = [m for m in _EXPLICIT.findall(stripped) if m in labels]
    if explicit and len(set(explicit)) == 1:
        return explicit[0]
    listed = {m for m in _LINE_LABEL.findall(stripped) if m in labels}
    if len(listed) > 1:
        return None
    lead = _LEADING.match(stripped)
    letter = lead and (lead.group(1) or lead.group(2))
    if letter and letter in labels:
        return letter
    lowered = stripped.lower()
    named = [label for label, option in choices.items() if option.lower() in lowered]
    if len(named) == 1:
        return named[0]
    return None


@register("choice", metrics=("accuracy", "unparsed"))
def score_choice(item: Item, response: str) -> list[Score]:
    """``accuracy`` (1 when the chosen letter is the answer) and ``unparsed`` (no clear choice)."""
    if not item.choices or item.answer is None:
        return []
    chosen = extract_choice(response, item.choices)
    answers = {item.answer} if isinstance(item.answer, str) else set(item.answer)
    correct = float(chosen in answers) if chosen is not None else 0.0
    # A reordered copy (robustness suites) labels its answer in the source item's lettering, so
    # answers to the two orderings can be compared.
    label = item.meta.get("letter_map", {}).get(chosen, chosen) if chosen else None
    return [
        Score("accuracy", correct, label=label, detail={"expected": sorted(answers)}),
        Score("unparsed", float(chosen is None)),
    ]
