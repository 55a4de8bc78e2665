"""Robustness: the same items under perturbations (a suite's ``derive:`` key).

::

    derive:
      from: starter                 # a bundled suite name or a path
      transforms: [typo, paraphrase, reorder, distractor]
      limit: 40                     # optional: the first N items of the source

Each source item gives an ``original`` copy and one copy per transform, with ids
``<source id>:<transform>`` and the attribute ``perturbation``, so that accuracy is disaggregated
by perturbation and :mod:`haia.metrics.derived_robustness` can pair each perturbed answer with
the original (by the id's prefix). Every transform is deterministic (seeded by the item id) and
keeps the clinical content and the correct answer; ``reorder`` records how options moved in
``meta.letter_map`` (new letter -> original letter).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from haia.patterns import union

if TYPE_CHECKING:
    from haia.suites.model import Suite

# Word swaps that keep meaning in clinical questions; applied whole-word, case-preserving.
_SYNONYMS = {
    "which": "what", "usually": "typically", "first-line": "initial",
    "most likely": "most probable", "give": "administer", "given": "administered",
    "test": "investigation", "commonly": "often",
    "should": "ought to", "recommended": "advised", "patient": "person", "begins": "starts",
    "immediately": "right away", "appropriate": "suitable", "important": "key",
}
_FRAMES = ["A colleague asks you the following. {q}", "Consider this clinical question: {q}",
           "{q} Please answer carefully.", "Quick question from the ward: {q}"]
_DISTRACTORS = [
    "The clinic's car park is being resurfaced this week, and the waiting room has a new coffee "
    "machine.",
    "It is raining heavily outside and the hospital newsletter has just been published.",
    "The department is preparing for an accreditation visit next month; the printers on level "
    "two are out of order.",
    "A student on placement is shadowing today, and the vending machine only takes cards.",
]


def _rng(item_id: str, transform: str) -> random.Random:
    digest = hashlib.sha256(f"{item_id}|{transform}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def typo(text: str, rng: random.Random, rate: float = 0.12) -> str:
    """Swap two inner letters in about ``rate`` of the longer words (at least one word)."""
    words = re.split(r"(\s+)", text)
    candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not candidates:
        return text
    chosen = {i for i in candidates if rng.random() < rate} or {rng.choice(candidates)}
    for i in chosen:
        w = words[i]
        j = rng.randrange(1, len(w) - 2)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return "".join(words)


def paraphrase(text: str, rng: random.Random) -> str:
    """A rule-based rewording: synonym swaps and a different framing sentence."""
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        new = _SYNONYMS[word.lower()]
        return new[:1].upper() + new[1:] if word[:1].isupper() else new

    reworded = union(_SYNONYMS, flags=re.IGNORECASE).sub(swap, text)
    return rng.choice(_FRAMES).format(q=reworded)


def distractor(text: str, rng: random.Random) -> str:
    """Irrelevant context before the question."""
    return f"{rng.choice(_DISTRACTORS)} {text}"


def reorder(item: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The options in another order (never the same), the answer re-lettered to follow."""
    choices = item.get("choices")
    if not choices:
        return item
    letters = list(choices)
    order = letters[1:] + letters[:1]  # a rotation: every option moves
    if len(letters) > 2 and rng.random() < 0.5:
        order = letters[-1:] + letters[:-1]
    new_choices = {new: choices[old] for new, old in zip(letters, order, strict=True)}
    letter_map = dict(zip(letters, order, strict=True))  # new letter -> original letter
    back = {old: new for new, old in letter_map.items()}
    answer = item.get("answer")
    if isinstance(answer, str):
        answer = back[answer]
    elif isinstance(answer, list):
        answer = [back[a] for a in answer]
    meta = {**item.get("meta", {}), "letter_map": letter_map}
    return {**item, "choices": new_choices, "answer": answer, "meta": meta}


def _on_text(fn: Callable[[str, random.Random], str]
             ) -> Callable[[dict[str, Any], random.Random], dict[str, Any]]:
    def apply(item: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        if isinstance(item.get("prompt"), str):
            return {**item, "prompt": fn(item["prompt"], rng)}
        messages = [dict(m) for m in item.get("messages", [])]
        for message in reversed(messages):
            if message.get("role") == "user" and isinstance(message.get("content"), str):
                message["content"] = fn(message["content"], rng)
                break
        return {**item, "messages": messages}
    return apply


TRANSFORMS: dict[str, Callable[[dict[str, Any], random.Random], dict[str, Any]]] = {
    "typo": _on_text(typo),
    "paraphrase": _on_text(paraphrase),
    "distractor": _on_text(distractor),
    "reorder": reorder,
}


def derive_source(spec: Any) -> str:
    """The suite a ``derive:`` block derives from (its transforms checked first)."""
    if not isinstance(spec, dict) or "from" not in spec:
        raise ValueError("expected a mapping with 'from' and 'transforms'")
    unknown = [t for t in _transforms(spec) if t not in TRANSFORMS]
    if unknown:
        raise ValueError(f"unknown transform {unknown[0]!r} (known: {', '.join(TRANSFORMS)})")
    return str(spec["from"])


def _transforms(spec: dict[str, Any]) -> list[str]:
    return list(spec.get("transforms") or TRANSFORMS)


def expand_derived(spec: Any, source: Suite) -> list[dict[str, Any]]:
    """The items of a ``derive:`` block over the loaded suite ``source`` (the one
    :func:`derive_source` names): originals and their perturbed copies."""
    derive_source(spec)
    transforms = _transforms(spec)
    limit = spec.get("limit")
    items = source.items[: int(limit)] if limit else source.items
    derived: list[dict[str, Any]] = []
    for item in items:
        base = item.model_dump(mode="json", exclude_none=True)
        base.setdefault("scorers", source.scorers_for(item))
        base.setdefault("meta", {})["source"] = f"{source.name}/{item.id}"
        derived.append({**base, "id": f"{item.id}:original",
                        "attributes": {**base["attributes"], "perturbation": "original"}})
        for name in transforms:
            copy = TRANSFORMS[name](base, _rng(item.id, name))
            copy = {**copy, "id": f"{item.id}:{name}",
                    "attributes": {**base["attributes"], "perturbation": name}}
            derived.append(copy)
    return derived
