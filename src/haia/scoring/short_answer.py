"""Short free-text answers: any acceptable answer present as a whole word or phrase."""

from __future__ import annotations

import re

from haia.scoring.base import Score, register
from haia.suites.model import Item


def matches_answer(response: str, answers: list[str]) -> str | None:
    """The first acceptable answer found in ``response`` (case-insensitive, whole words)."""
    for answer in answers:
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, answer.split())) + r"(?!\w)"
        if re.search(pattern, response, re.IGNORECASE):
            return answer
    return None


@register("short_answer", metrics=("accuracy",))
def score_short_answer(item: Item, response: str) -> list[Score]:
    """``accuracy``: 1 when the response contains one of the item's acceptable answers."""
    if item.answer is None:
        return []
    answers = [item.answer] if isinstance(item.answer, str) else list(item.answer)
    found = matches_answer(response, answers)
    return [Score("accuracy", float(found is not None), label=found)]
