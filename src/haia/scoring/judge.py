"""The rubric grader that uses a judge model through any adapter (``haia audit --judge MODEL``).

The judge reads the conversation, the answer and the rubric's criteria and returns, as JSON,
which criteria the answer meets: all criteria in one call, or (``per_criterion``, as
HealthBench grades) one call per criterion, which costs more calls but keeps each decision
independent. The same rubric is also graded by the rule-based grader
(:mod:`haia.scoring.rubric`), and the report gives their agreement (raw and Cohen's kappa over
criteria) on the shared set, so a reader knows how far either grader can be trusted.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from haia.models.base import GenerationRequest, ModelAdapter, ModelError
from haia.suites.model import Criterion, Item
from haia.suites.render import render_messages

JUDGE_SYSTEM = (
    "You are a careful clinical grader. You are given a conversation with an AI assistant, the "
    "assistant's final answer, and a list of rubric criteria. For each criterion decide whether "
    "the answer meets it. Judge only what the answer says. Reply with a JSON object only, mapping "
    "each criterion id to true or false."
)


JUDGE_CRITERION_SYSTEM = (
    "You are a careful clinical grader. You are given a conversation with an AI assistant, the "
    "assistant's final answer, and one rubric criterion. Decide whether the answer meets the "
    "criterion: it must assert it, not merely mention it (a negated, hypothetical or quoted "
    "statement does not meet it). Reply with a JSON object only: {\"met\": true} or "
    "{\"met\": false}."
)


def _conversation(item: Item) -> str:
    return "\n\n".join(
        f"[{m['role']}] {m['content'] if isinstance(m['content'], str) else '(multimodal)'}"
        for m in render_messages(item))


def judge_messages(item: Item, answer: str, criteria: list[Criterion] | None = None
                   ) -> list[dict[str, Any]]:
    """The chat messages sent to the judge model for one answer (all criteria at once)."""
    criteria = item.rubric or [] if criteria is None else criteria
    listed = "\n".join(f"- {c.id}: {c.text}" for c in criteria)
    ids = ", ".join(f'"{c.id}": true|false' for c in criteria)
    user = (f"Conversation:\n{_conversation(item)}\n\nAssistant's answer:\n{answer}\n\n"
            f"Criteria:\n{listed}\n\nReply with JSON only: {{{ids}}}")
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def judge_criterion_messages(item: Item, answer: str, criterion: Criterion
                             ) -> list[dict[str, Any]]:
    """The chat messages sent to the judge model for one criterion of one answer."""
    user = (f"Conversation:\n{_conversation(item)}\n\nAssistant's answer:\n{answer}\n\n"
            f"Criterion: {criterion.text}\n\nReply with JSON only: {{\"met\": true|false}}")
    return [{"role": "system", "content": JUDGE_CRITERION_SYSTEM},
            {"role": "user", "content": user}]


_TRUE = {"true", "yes", "met", "1"}
_FALSE = {"false", "no", "not met", "unmet", "0"}


def parse_verdict(text: str, ids: list[str]) -> dict[str, bool] | None:
    """The judge's verdict for every criterion id, or ``None`` if any is missing."""
    verdict: dict[str, bool] = {}
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match:
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            for key, value in data.items():
                if key in ids and isinstance(value, bool):
                    verdict[key] = value
                elif key in ids and str(value).strip().lower() in _TRUE | _FALSE:
                    verdict[key] = str(value).strip().lower() in _TRUE
    for cid in ids:  # tolerant fallback: "C1: true" lines
        if cid not in verdict:
            line = re.search(rf"{re.escape(cid)}\W+(true|false|yes|no|met|not met)\b", text,
                             re.IGNORECASE)
            if line:
                verdict[cid] = line.group(1).lower() in _TRUE
    return verdict if all(cid in verdict for cid in ids) else None


@dataclass(frozen=True)
class JudgeTask:
    """One answer to grade."""

    item: Item
    sample: int
    answer: str
    criteria: tuple[Criterion, ...] | None = None
    """The criteria to grade (default: the item's rubric)."""

    @property
    def graded(self) -> list[Criterion]:
        return list(self.criteria) if self.criteria is not None else list(self.item.rubric or [])


async def grade_with_judge(adapter: ModelAdapter, tasks: list[JudgeTask], *,
                           concurrency: int = 8, max_tokens: int = 256,
                           per_criterion: bool = False,
                           on_done: Callable[[JudgeTask, dict[str, Any]], None] | None = None,
                           ) -> list[dict[str, Any]]:
    """Grade every task with the judge; each result is ``{item_id, sample, met}`` where ``met``
    is ``None`` when the judge failed or gave no usable verdict (counted, never guessed).
    ``per_criterion``: one call per criterion instead of one per answer."""
    semaphore = asyncio.Semaphore(concurrency)

    async def ask(messages: list[dict[str, Any]], ids: list[str]) -> dict[str, bool] | None:
        request = GenerationRequest(messages, temperature=0.0, max_tokens=max_tokens, seed=0)
        async with semaphore:
            try:
                response = await adapter.generate(request)
            except ModelError:
                return None
        return parse_verdict(response.text, ids)

    async def one_criterion(task: JudgeTask, criterion: Criterion) -> bool | None:
        verdict = await ask(judge_criterion_messages(task.item, task.answer, criterion), ["met"])
        return None if verdict is None else verdict["met"]

    async def one(task: JudgeTask) -> dict[str, Any]:
        criteria = task.graded
        met: dict[str, bool] | None
        if per_criterion:
            answers = await asyncio.gather(*(one_criterion(task, c) for c in criteria))
            met = (None if any(a is None for a in answers)
                   else {c.id: bool(a) for c, a in zip(criteria, answers, strict=True)})
        else:
            met = await ask(judge_messages(task.item, task.answer, criteria),
                            [c.id for c in criteria])
        result = {"item_id": task.item.id, "sample": task.sample, "met": met}
        if on_done is not None:
            on_done(task, result)
        return result

    return list(await asyncio.gather(*(one(t) for t in tasks)))
