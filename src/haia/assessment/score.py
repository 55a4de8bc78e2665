"""Impact assessment: a questionnaire kept as data, scored to a risk tier (I to IV) with reasons.

Each answer's option carries risk ``points`` (0-4); the tier is the highest whose threshold the
share of the maximum points reaches, raised to the highest ``floor`` of any chosen option (a
decisive fact, such as autonomous decisions at national scale, sets a minimum tier whatever the
rest). See ``docs/assessment.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from haia.errors import HaiaError

TIERS = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class Result:
    """An assessment's outcome."""

    tier: str
    score: float
    reasons: list[str]
    floors: list[str] = field(default_factory=list)
    by_section: dict[str, float] = field(default_factory=dict)


@cache
def questionnaire(path: str | None = None) -> dict[str, Any]:
    """The bundled questionnaire (or the one at ``path``)."""
    if path is None:
        text = (resources.files("haia.assessment") / "questionnaire.yaml").read_text("utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def questions(q: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every question by id, with its section id added."""
    return {x["id"]: {**x, "section": s["id"]} for s in q["sections"] for x in s["questions"]}


def load_answers(path: Path) -> dict[str, Any]:
    """An answers file (``answers: {question id: option value}``), with a clear error if bad."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise HaiaError(f"{path}: cannot read the answers file ({exc})") from None
    except yaml.YAMLError as exc:
        raise HaiaError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        raise HaiaError(f"{path}: expected a mapping with 'answers: {{question id: value}}'")
    return data


def score(answers: dict[str, Any], q: dict[str, Any] | None = None) -> Result:
    """The tier, score and reasons for ``answers`` (every question must be answered)."""
    q = q or questionnaire()
    qs = questions(q)
    unknown = sorted(set(answers) - set(qs))
    if unknown:
        raise HaiaError(f"unknown question {unknown[0]!r} in the answers")
    missing = [k for k in qs if answers.get(k) is None]
    if missing:
        raise HaiaError(f"{len(missing)} question(s) unanswered, first {missing[0]!r}: run "
                        "'haia assess --template' for the full list")
    points = maximum = 0.0
    reasons: list[str] = []
    floors: list[str] = []
    sections: dict[str, list[float]] = {}
    for qid, question in qs.items():
        options = {str(o["value"]): o for o in question["options"]}
        value = str(answers[qid])
        if value not in options:
            raise HaiaError(f"question {qid!r}: {value!r} is not one of "
                            f"{', '.join(options)}")
        chosen = options[value]
        top = max(float(o["points"]) for o in question["options"])
        points += float(chosen["points"])
        maximum += top
        cell = sections.setdefault(question["section"], [0.0, 0.0])
        cell[0] += float(chosen["points"])
        cell[1] += top
        if chosen.get("reason") and float(chosen["points"]) >= 2:
            reasons.append(f"[{question['section']}] {chosen['reason']}")
        if chosen.get("floor"):
            floors.append(str(chosen["floor"]))
    share = points / maximum if maximum else 0.0
    tier = max((t for t, threshold in q["tiers"].items() if share >= float(threshold)),
               key=TIERS.index, default="I")
    if floors:
        raised = max(floors, key=TIERS.index)
        if TIERS.index(raised) > TIERS.index(tier):
            reasons.insert(0, f"Tier raised to {raised} by a decisive answer.")
            tier = raised
    by_section = {k: (v[0] / v[1] if v[1] else 0.0) for k, v in sections.items()}
    return Result(tier, round(share, 4), reasons, floors, by_section)


def template(q: dict[str, Any] | None = None) -> str:
    """A YAML answers file listing every question and its options as comments, to fill in."""
    q = q or questionnaire()
    lines = ["# haia impact assessment: choose one value per question.",
             'system: "NAME OF THE SYSTEM"', "answers:"]
    for section in q["sections"]:
        lines.append(f"  # --- {section['title']}")
        for question in section["questions"]:
            values = " | ".join(str(o["value"]) for o in question["options"])
            lines.append(f"  # {question['text']}  ({values})")
            lines.append(f"  {question['id']}:")
    return "\n".join(lines) + "\n"
