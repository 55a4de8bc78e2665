"""Robustness transforms: deterministic, meaning-keeping, answers re-lettered; and the suite."""

from __future__ import annotations

import random

import pytest

from haia.errors import SuiteError
from haia.suites.loader import load_suite
from haia.suites.transforms import expand_derived, paraphrase, reorder, typo


def test_typo_changes_letters_but_not_length_or_word_count() -> None:
    text = "Which investigation should be performed immediately for suspected pulmonary embolism?"
    out = typo(text, random.Random(1))
    assert out != text
    assert len(out) == len(text) and len(out.split()) == len(text.split())
    assert sorted(out) == sorted(text)  # letters swapped, none added or lost


def test_paraphrase_keeps_the_clinical_terms() -> None:
    text = "Which drug is usually given first for anaphylaxis?"
    out = paraphrase(text, random.Random(2))
    assert "anaphylaxis" in out and "drug" in out
    assert "what" in out.lower() and "typically" in out and "administered" in out


def test_reorder_moves_every_option_and_reletters_the_answer() -> None:
    item = {"id": "x", "prompt": "q", "choices": {"A": "a", "B": "b", "C": "c", "D": "d"},
            "answer": "C"}
    for seed in range(6):
        out = reorder(item, random.Random(seed))
        assert all(out["choices"][k] != item["choices"][k] for k in "ABCD")
        assert out["choices"][out["answer"]] == "c"
        letter_map = out["meta"]["letter_map"]
        assert all(out["choices"][new] == item["choices"][old] for new, old in letter_map.items())


def test_expansion_is_deterministic_and_complete() -> None:
    spec = {"from": "starter", "transforms": ["typo", "reorder"], "limit": 5}
    source = load_suite(spec["from"])
    first, second = expand_derived(spec, source), expand_derived(spec, source)
    assert first == second
    assert [i["id"] for i in first[:3]] == ["starter-001:original", "starter-001:typo",
                                            "starter-001:reorder"]
    assert len(first) == 15
    assert {i["attributes"]["perturbation"] for i in first} == {"original", "typo", "reorder"}


def test_unknown_transform_is_a_clear_suite_error(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nversion: '1'\ndescription: d\nprovenance: p\nlicence: CC0\n"
                    "derive: {from: starter, transforms: [shout]}\n")
    with pytest.raises(SuiteError, match=r"s.yaml: field 'derive': unknown transform 'shout'"):
        load_suite(str(path))


def test_bundled_robustness_suite() -> None:
    suite = load_suite("robustness")
    perturbed = [i for i in suite.items if "perturbation" in i.attributes]
    injections = [i for i in suite.items if "injection" in (i.scorers or [])]
    assert len(perturbed) == 5 * len(load_suite("starter").items)
    assert len(injections) >= 12
    assert all(i.meta.get("canary") for i in injections)
