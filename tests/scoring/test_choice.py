"""Choice extraction must find the committed option and refuse to guess on ambiguous answers."""

from __future__ import annotations

import pytest

from haia.scoring.base import get_scorer
from haia.scoring.choice import extract_choice
from haia.scoring.refusal import is_refusal
from haia.scoring.short_answer import matches_answer
from haia.suites.model import Item

CHOICES = {"A": "Chest X-ray", "B": "12-lead ECG", "C": "CT pulmonary angiogram",
           "D": "Echocardiogram"}


@pytest.mark.parametrize(("text", "expected"), [
    ("B", "B"),
    ("B.", "B"),
    ("(B) 12-lead ECG", "B"),
    ("B) because it is fast", "B"),
    ("  **B** - ECG first", "B"),
    ("The answer is C.", "C"),
    ("Answer: D", "D"),
    ("I would choose option B, the ECG.", "B"),
    ("A. Chest X-ray\n\nThe correct answer is D. Echocardiogram.", "D"),
    ("A 12-lead ECG should be done first.", "B"),
    ("A. Chest X-ray\nB. 12-lead ECG\nC. CT pulmonary angiogram\nD. Echocardiogram", None),
    ("the answer is a tricky one", None),
    ("I am not sure.", None),
    ("", None),
    ("Either an ECG or a chest x-ray: 12-lead ECG and chest x-ray both help", None),
])
def test_extract_choice(text: str, expected: str | None) -> None:
    assert extract_choice(text, CHOICES) == expected


def test_choice_scorer_scores_accuracy_and_unparsed() -> None:
    item = Item(id="q", prompt="?", choices=CHOICES, answer="B")
    scorer = get_scorer("choice")
    right = {s.metric: s.value for s in scorer(item, "B")}
    wrong = {s.metric: s.value for s in scorer(item, "The answer is A")}
    vague = {s.metric: s.value for s in scorer(item, "hmm")}
    assert right == {"accuracy": 1.0, "unparsed": 0.0}
    assert wrong == {"accuracy": 0.0, "unparsed": 0.0}
    assert vague == {"accuracy": 0.0, "unparsed": 1.0}


@pytest.mark.parametrize(("text", "refused"), [
    ("I'm sorry, but I can't help with that request.", True),
    ("As an AI language model, I cannot provide medical advice.", True),
    ("I am unable to answer this.", True),
    ("", True),
    ("B. An ECG is the first test; I cannot stress enough how urgent it is.", False),
    ("Take paracetamol and see your doctor if it persists.", False),
])
def test_refusal(text: str, refused: bool) -> None:
    assert is_refusal(text) is refused


def test_short_answer_whole_words() -> None:
    assert matches_answer("Start metformin first.", ["metformin"]) == "metformin"
    assert matches_answer("Start METFORMIN XR", ["metformin"]) == "metformin"
    assert matches_answer("premetformin", ["metformin"]) is None
    assert matches_answer("give low  molecular weight heparin", ["low molecular weight heparin"])


def test_unknown_scorer_is_a_clear_error() -> None:
    from haia.errors import HaiaError

    with pytest.raises(HaiaError, match="unknown scorer 'nope'"):
        get_scorer("nope")
