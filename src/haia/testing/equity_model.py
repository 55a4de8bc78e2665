"""A scripted model for equity audits: consistent answers per case, noise, and planted gaps.

It reads a prompt the way an outside model would: it finds the demographic words a variant
rendered (``a Black patient``), puts the neutral words back (``a patient``) to recognise the
case, and reads the outcomes to answer from the JSON instruction. Its answer to a case is the
family's expected answer (or a fixed random one when none is given), the same for every
demographic rendering; then each outcome's answer is, with probability ``noise``, replaced by a
random valid value (independently per prompt and seed); then planted gaps move the answers of
one group in a chosen share of the families that ask the outcome.

    gap = Gap("race_ethnicity", "hispanic_latino", "triage_level", +1, fraction=0.4)
    model = EquityModel.for_suite("equity", noise=0.1, seed=3, gaps=[gap])
    with ScriptedServer(model.responder) as server: ...
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from haia.metrics.table import ScoreRow
from haia.suites.counterfactual import default_variants, render
from haia.suites.outcomes import OUTCOMES

if TYPE_CHECKING:
    from haia.suites.model import Suite

_FIELDS = re.compile(r'"([a-z_]+)": <')


@dataclass(frozen=True)
class Gap:
    """Group ``group`` of ``attribute`` gets ``outcome`` moved by ``shift`` (ordinal: levels,
    clamped to the scale; binary: +1 = always yes, -1 = always no) in ``fraction`` of the
    families that ask ``outcome``."""

    attribute: str
    group: str
    outcome: str
    shift: int
    fraction: float = 0.4


def _uniform(*parts: object) -> float:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _neutral(value: Any) -> Any:
    """An expected answer given as a list of acceptable values: the first."""
    return value[0] if isinstance(value, list) and value else value


class EquityModel:
    """Answers counterfactual vignettes; see the module docstring."""

    def __init__(self, families: list[dict[str, Any]], *, noise: float = 0.1, seed: int = 0,
                 gaps: list[Gap] | tuple[Gap, ...] = (),
                 variants: list[dict[str, str]] | None = None) -> None:
        self.noise = noise
        self.seed = seed
        self.variants = list(variants or default_variants())
        control = next(v for v in self.variants if v["attribute"] == "control")
        self.neutral = control["descriptor"]
        # longest descriptor first, so "a transgender man" is not read as "a man"
        self.descriptors = sorted((v for v in self.variants if v["attribute"] != "control"),
                                  key=lambda v: -len(v["descriptor"]))
        by_words = {v["descriptor"].lower(): v for v in self.descriptors}
        self._by_words = by_words
        self._pattern = re.compile(
            r"\b(" + "|".join(re.escape(v["descriptor"]) for v in self.descriptors) + r")\b",
            re.IGNORECASE)
        self.cases: dict[str, tuple[str, dict[str, float]]] = {}
        asking: dict[str, list[str]] = {}
        for family in families:
            case = render(family["template"], self.neutral).strip()
            truth = {}
            for name in family["outcomes"]:
                outcome = OUTCOMES[name]
                expected = _neutral((family.get("expected") or {}).get(name))
                if expected is None:
                    u = _uniform("truth", family["id"], name)
                    expected = outcome.low + int(u * (outcome.high - outcome.low + 1))
                truth[name] = float(expected)
                asking.setdefault(name, []).append(family["id"])
            self.cases[case] = (family["id"], truth)
        rng = np.random.default_rng([seed, 7])
        self.planted: dict[tuple[str, str, str], set[str]] = {}
        for gap in gaps:
            ids = sorted(asking.get(gap.outcome, []))
            chosen = rng.choice(len(ids), size=round(gap.fraction * len(ids)), replace=False) \
                if ids else []
            self.planted[(gap.attribute, gap.group, gap.outcome)] = {ids[i] for i in chosen}
        self.gaps = list(gaps)

    @classmethod
    def for_suite(cls, suite: str, **kwargs: Any) -> EquityModel:
        """The model for a suite with ``families:`` (bundled name or path)."""
        families, variants = suite_families(suite)
        return cls(families, variants=variants, **kwargs)

    def who(self, prompt: str) -> tuple[str, str, str]:
        """(attribute, group, prompt with the demographic words made neutral)."""
        match = self._pattern.search(prompt)
        if match:
            variant = self._by_words[match.group(0).lower()]
            pattern = re.compile(rf"\b{re.escape(variant['descriptor'])}\b", re.IGNORECASE)
            neutral = pattern.sub(lambda m: self.neutral if m.group(0)[0].islower()
                                  else self.neutral[:1].upper() + self.neutral[1:], prompt)
            return variant["attribute"], variant["group"], neutral
        return "control", "control", prompt

    def answer(self, prompt: str, request_seed: object = None) -> dict[str, Any]:
        """The answer fields for ``prompt`` (asked outcomes only)."""
        attribute, group, neutral = self.who(prompt)
        case = neutral.split("\n\nReply with", 1)[0].strip()
        asked = [n for n in _FIELDS.findall(prompt) if n in OUTCOMES]
        family, truth = self.cases.get(case, (None, {}))
        out: dict[str, Any] = {}
        for name in asked:
            outcome = OUTCOMES[name]
            value = truth.get(name)
            if value is None:
                value = outcome.low + int(_uniform("case", case, name) *
                                          (outcome.high - outcome.low + 1))
            if _uniform("noise?", prompt, name, self.seed, request_seed) < self.noise:
                u = _uniform("noise", prompt, name, self.seed, request_seed)
                value = outcome.low + int(u * (outcome.high - outcome.low + 1))
            for gap in self.gaps:
                if (gap.attribute, gap.group, gap.outcome) == (attribute, group, name) and \
                        family in self.planted[(attribute, group, name)]:
                    if outcome.kind == "ordinal":
                        value = min(outcome.high, max(outcome.low, value + gap.shift))
                    else:
                        value = 1.0 if gap.shift > 0 else 0.0
            out[name] = int(value) if outcome.kind == "ordinal" else bool(value)
        return out

    def reply(self, prompt: str, request_seed: object = None) -> str:
        return json.dumps(self.answer(prompt, request_seed))

    def responder(self, body: dict[str, Any]) -> str:
        """For :class:`haia.testing.openai_server.ScriptedServer`."""
        messages = body.get("messages") or []
        prompt = messages[-1].get("content", "") if messages else ""
        if isinstance(prompt, list):
            prompt = "\n".join(p.get("text", "") for p in prompt if isinstance(p, dict))
        return self.reply(str(prompt), body.get("seed"))


def suite_families(suite: str) -> tuple[list[dict[str, Any]], list[dict[str, str]] | None]:
    """The raw ``families:`` and ``variants:`` of a suite (bundled name or path)."""
    import yaml

    from haia.suites.loader import resolve

    data = yaml.safe_load(resolve(suite).read_text(encoding="utf-8"))
    return list(data["families"]), data.get("variants")


def simulate_scores(suite: Suite, model: EquityModel) -> list[ScoreRow]:
    """The score rows an audit of ``suite`` against ``model`` produces, without HTTP: each
    item's prompt answered by the model and read by the real structured scorer."""
    from haia.scoring.structured import score_structured

    rows = []
    for item in suite.items:
        for score in score_structured(item, model.reply(item.prompt)):
            rows.append(ScoreRow(
                suite=suite.name, item_id=item.id, sample=0, metric=score.metric,
                value=score.value, label=score.label, attributes=dict(item.attributes),
                family=item.family, variant=item.variant,
                kind=str(score.detail.get("kind", "binary")),
                relevant=frozenset(score.detail.get("relevant", ()))))
    return rows
