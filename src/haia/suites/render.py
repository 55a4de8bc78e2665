"""Turn an item into the chat messages a model receives (OpenAI chat format)."""

from __future__ import annotations

import json
from typing import Any

from haia.suites.model import DataPart, ImagePart, Item, Message, TextPart

CHOICE_INSTRUCTION = "Answer with the letter of the single best option."


def choices_block(choices: dict[str, str]) -> str:
    """The lettered options as they are shown to the model."""
    return "\n".join(f"{label}. {text}" for label, text in choices.items())


def _part(part: TextPart | ImagePart | DataPart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        url: dict[str, Any] = {"url": part.image}
        if part.detail:
            url["detail"] = part.detail
        return {"type": "image_url", "image_url": url}
    body = json.dumps(part.data, ensure_ascii=False, sort_keys=True)
    caption = f"{part.caption}\n" if part.caption else ""
    return {"type": "text", "text": f"{caption}```json\n{body}\n```"}


def _message(message: Message) -> dict[str, Any]:
    if isinstance(message.content, str):
        return {"role": message.role, "content": message.content}
    parts = [_part(p) for p in message.content]
    if all(p["type"] == "text" for p in parts):
        return {"role": message.role, "content": "\n\n".join(p["text"] for p in parts)}
    return {"role": message.role, "content": parts}


def render_messages(item: Item) -> list[dict[str, Any]]:
    """The OpenAI-style ``messages`` list for ``item``.

    A ``prompt`` item becomes one user message (after an optional ``system`` message); a
    multiple-choice item gets its lettered options and an answer instruction appended to the last
    user message.
    """
    messages: list[dict[str, Any]] = []
    if item.system:
        messages.append({"role": "system", "content": item.system})
    if item.prompt is not None:
        messages.append({"role": "user", "content": item.prompt})
    else:
        messages.extend(_message(m) for m in item.messages)
    if item.choices:
        tail = f"\n\n{choices_block(item.choices)}\n\n{CHOICE_INSTRUCTION}"
        for message in reversed(messages):
            if message["role"] == "user":
                if isinstance(message["content"], str):
                    message["content"] += tail
                else:
                    message["content"].append({"type": "text", "text": tail.strip()})
                break
    return messages
