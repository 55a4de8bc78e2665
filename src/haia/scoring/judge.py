"""The rubric grader that uses a judge model through any adapter (``haia audit --judge MODEL``).

The judge reads the conversation, the answer and the rubric's criteria and returns, as JSON,
which criteria the answer meets. The same rubric is also graded by the rule-based grader
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
from haia.suites.model import Item
from haia.suites.render import render_messages

JUDGE_SYSTEM = (
    "You are a careful clinical grader. You are given a conversation with an AI assistant, the "
    "assistant's final answer, and a list of rubric criteria. For each criterion decide whether "
    "the answer meets it. Judge only what the answer says. Reply with a JSON object only, mapping "
    "each criterion id to true or false."
)


def judge_messages(item: Item, answer: str) -> list[dict[str, Any]]:
    """The chat messages sent to the judge model for one answer."""
    conversation = "\n\n".join(
        f"[{m['role']}] {m['content'] if isinstance(m['content'], str) else '(multimodal)'}"
        for m in render_messages(item))
    criteria = "\n".join(f"- {c.id}: {c.text}" for c in item.rubric or [])
    ids = ", ".join(f'"{c.id}": true|false' for c in item.rubric or [])
    user = (f"Conversation:\n{conversation}\n\nAssistant's answer:\n{answer}\n\n"
            f"Criteria:\n{criteria}\n\nReply with JSON only: {{{ids}}}")
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


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


async def grade_with_judge(adapter: ModelAdapter, tasks: list[JudgeTask], *,
                           concurrency: int = 8, max_tokens: int = 256,
                           on_done: Callable[[JudgeTask, dict[str, Any]], None] | None = None,
                           ) -> list[dict[str, Any]]:
    """Grade every task with the judge; each result is ``{item_id, sample, met}`` where ``met``
    is ``None`` when the judge failed or gave no usable verdict (counted, never guessed)."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(task: JudgeTask) -> dict[str, Any]:
        ids = [c.id for c in task.item.rubric or []]
        request = GenerationRequest(judge_messages(task.item, task.answer), temperature=0.0,
                                    max_tokens=max_tokens, seed=0)
        async with semaphore:
            try:
                response = await adapter.generate(request)
                met = parse_verdict(response.text, ids)
            except ModelError:
                met = None
        result = {"item_id": task.item.id, "sample": task.sample, "met": met}
        if on_done is not None:
            on_done(task, result)
        return result

    return list(await asyncio.gather(*(one(t) for t in tasks)))
