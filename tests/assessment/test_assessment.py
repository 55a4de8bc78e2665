"""Impact assessment: known answers get their expected tier, floors and errors behave."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.conftest import run_haia
from tests.registry.paths import EXAMPLES

from haia.assessment.score import TIERS, questionnaire, questions, score, template
from haia.errors import HaiaError


def answers(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / f"assessment-{name}.yaml").read_text())["answers"]


@pytest.mark.parametrize(("name", "tier"), [("low", "I"), ("medium", "II"), ("high", "IV")])
def test_examples_get_their_expected_tier(name: str, tier: str) -> None:
    result = score(answers(name))
    assert result.tier == tier
    if tier != "I":
        assert result.reasons, "a raised tier comes with its reasons"


def test_reasons_grow_with_risk() -> None:
    counts = [len(score(answers(n)).reasons) for n in ("low", "medium", "high")]
    assert counts == sorted(counts) and counts[0] < counts[2]


def test_questionnaire_covers_principles_and_impact_areas() -> None:
    q = questionnaire()
    sections = [s["id"] for s in q["sections"]]
    assert sections[:6] == ["autonomy", "wellbeing_safety", "transparency", "accountability",
                            "equity", "sustainability"]
    assert {"data_protection", "human_rights", "affected_populations", "workforce",
            "environment"} <= set(sections)
    for question in questions(q).values():
        assert any(o["points"] == 0 for o in question["options"]), question["id"]
        for option in question["options"]:
            assert option["points"] < 2 or option.get("reason"), question["id"]
            assert option.get("floor") in (None, *TIERS)


def test_a_single_decisive_answer_raises_the_tier() -> None:
    low = answers("low")
    floor_q = next(q for q in questions(questionnaire()).values()
                   if any(o.get("floor") == "IV" for o in q["options"]))
    value = next(o["value"] for o in floor_q["options"] if o.get("floor") == "IV")
    raised = score({**low, floor_q["id"]: value})
    assert raised.tier == "IV" and raised.reasons[0].startswith("Tier raised to IV")
    assert raised.score < 0.25  # the share alone would have said tier I


def test_tier_grows_with_risk() -> None:
    """Answering every question with its riskiest option is tier IV; safest is tier I."""
    qs = questions(questionnaire())
    safest = {k: min(q["options"], key=lambda o: o["points"])["value"] for k, q in qs.items()}
    riskiest = {k: max(q["options"], key=lambda o: o["points"])["value"] for k, q in qs.items()}
    assert score(safest).tier == "I" and score(safest).score == 0
    assert score(riskiest).tier == "IV" and score(riskiest).score == 1


def test_bad_answers_are_clear_errors() -> None:
    low = answers("low")
    first = next(iter(low))
    with pytest.raises(HaiaError, match="unanswered"):
        score({k: v for k, v in low.items() if k != first})
    with pytest.raises(HaiaError, match=f"question '{first}': 'maybe' is not one of"):
        score({**low, first: "maybe"})
    with pytest.raises(HaiaError, match="unknown question 'zzz'"):
        score({**low, "zzz": 1})


def test_cli_template_then_assess(tmp_path: Path) -> None:
    blank = run_haia("assess", "--template")
    assert blank.returncode == 0 and blank.stdout == template()
    filled = tmp_path / "a.yaml"
    filled.write_text(blank.stdout)  # nothing chosen yet
    result = run_haia("assess", "--answers", str(filled))
    assert result.returncode == 2 and "unanswered" in result.stderr
    result = run_haia("assess", "--answers", str(EXAMPLES / "assessment-high.yaml"))
    assert result.returncode == 0 and "Risk tier IV" in result.stdout
