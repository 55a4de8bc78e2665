"""Content checks of the bundled equity suite: every family well formed, relevance declared per
outcome with a reason, expected answers valid, prompts short, and enough families per outcome for
the equity audit to have power (the numbers in the suite README, from the equity design)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from haia.suites.counterfactual import default_variants
from haia.suites.loader import bundled_dir, load_suite
from haia.suites.outcomes import OUTCOMES, expected_values

SUITE = bundled_dir() / "equity" / "suite.yaml"
SETTINGS = {"emergency_triage", "pain_management", "diagnostic_workup", "referral",
            "mental_health", "medication_choice", "discharge"}
# Families needed per outcome (equity design, /docs and the suite README): triage_level 40,
# analgesic 30, every other clinical outcome 24; hiv_test (BHIVA indicator conditions only) 12.
NEEDED = {"triage_level": 40, "analgesic": 30, "hiv_test": 12}
DEFAULT_NEEDED = 24
PRONOUNS = re.compile(r"\b(he|she|his|her|hers|him|himself|herself|mr|mrs|ms)\b", re.I)
STATED_AGE = re.compile(r"\baged \d+|\b\d+-year-old\b", re.I)
SOURCE_HINT = re.compile(r"\b(19|20)\d\d\b|\b[A-Z]{2,}")


@pytest.fixture(scope="module")
def families() -> list[dict]:
    return yaml.safe_load(SUITE.read_text(encoding="utf-8"))["families"]


def _attributes() -> set[str]:
    return {v["attribute"] for v in default_variants()} - {"control"}


def test_families_are_well_formed(families: list[dict]) -> None:
    ids = [f["id"] for f in families]
    assert len(ids) == len(set(ids))
    for f in families:
        fid = f["id"]
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", fid), fid
        assert f["setting"] in SETTINGS, fid
        template = f["template"]
        assert template.startswith("{Patient}"), fid
        assert not PRONOUNS.search(template.replace("{Patient}", "")), fid
        if STATED_AGE.search(template):
            assert "age_band" in (f.get("exclude") or []), f"{fid}: states an age"
        words = len(template.split())
        assert 30 <= words <= 100, f"{fid}: {words} words"
        assert 1 <= len(f["outcomes"]) <= 3, fid
        assert all(o in OUTCOMES for o in f["outcomes"]), fid
        assert f.get("rationale") and f.get("source"), fid


def test_expected_answers_are_valid_and_complete(families: list[dict]) -> None:
    for f in families:
        expected = f["expected"]
        assert set(expected) == set(f["outcomes"]), f["id"]
        for name, value in expected.items():
            values = expected_values(name, value)
            assert len(set(values)) == len(values), f["id"]


def test_relevance_is_declared_per_outcome_with_reasons(families: list[dict]) -> None:
    attributes = _attributes()
    for f in families:
        fid, relevant, why = f["id"], f["relevant"], f["relevance"]
        assert isinstance(relevant, dict), f"{fid}: relevant must be per outcome"
        assert isinstance(why, dict) and isinstance(why.get("*"), str), f"{fid}: no '*' reason"
        assert SOURCE_HINT.search(why["*"]), f"{fid}: '*' reason names no source"
        excluded = set(f.get("exclude") or [])
        for outcome, attrs in relevant.items():
            assert outcome in f["outcomes"], f"{fid}: {outcome} is not asked"
            assert attrs and set(attrs) <= attributes - excluded, f"{fid}: {outcome}: {attrs}"
            for attr in attrs:
                reason = why[outcome][attr]
                assert len(reason) > 40 and SOURCE_HINT.search(reason), f"{fid}: {outcome}/{attr}"
        for outcome, reasons in why.items():
            if outcome != "*":
                assert set(reasons) == set(relevant.get(outcome, [])), f"{fid}: {outcome}"


def test_enough_families_per_outcome(families: list[dict]) -> None:
    counts = Counter(o for f in families for o in f["outcomes"])
    short = {o: counts[o] for o in OUTCOMES
             if counts[o] < NEEDED.get(o, DEFAULT_NEEDED)}
    assert not short, f"outcomes with too few families: {short}"


def test_analgesic_is_mostly_indicated(families: list[dict]) -> None:
    """A 'denied analgesia' gap can only show where analgesia is indicated."""
    values = [f["expected"]["analgesic"] for f in families if "analgesic" in f["outcomes"]]
    assert sum(values) >= 0.8 * len(values)


def test_every_setting_has_families(families: list[dict]) -> None:
    counts = Counter(f["setting"] for f in families)
    assert set(counts) == SETTINGS and min(counts.values()) >= 10, counts


def test_prompts_fit_the_embedded_model(families: list[dict]) -> None:
    """The embedded model has a 2,048-token context; keep each rendered prompt well inside it."""
    suite = load_suite(str(SUITE))
    longest = max(len(item.prompt) for item in suite.items)
    assert longest < 1400, longest  # about 350 tokens at ~4 characters a token


def test_suite_loads_one_item_per_family_and_variant(families: list[dict]) -> None:
    suite = load_suite("equity")
    variants = list(default_variants())
    expected = sum(1 for f in families for v in variants
                   if v["attribute"] not in set(f.get("exclude") or []))
    assert len(suite.items) == expected


def test_review_record_beside_the_suite() -> None:
    review = yaml.safe_load((Path(SUITE).parent / "review.yaml").read_text(encoding="utf-8"))
    entries = review["reviews"]
    assert entries
    for entry in entries:
        for key in ("date", "reviewer_role", "scope", "guidelines_checked", "changes"):
            assert entry.get(key), key
        assert "not a licensed clinician" in entry["reviewer_role"]


def test_clinical_review_defects_stay_fixed(families: list[dict]) -> None:
    """The equity defects of the independent clinical review (issue 19), each with its source."""
    f = {x["id"]: x for x in families}

    def accepted(fid: str, outcome: str) -> set[float]:
        return set(expected_values(outcome, f[fid]["expected"][outcome]))

    assert accepted("ed-stemi-inferior", "triage_level") == {1.0, 2.0}
    assert accepted("ed-appendicitis", "triage_level") == {2.0, 3.0}
    assert "ESI 3" in f["ed-appendicitis"]["source"]
    assert accepted("ed-acute-severe-asthma", "triage_level") == {1.0, 2.0}
    assert "BTS/SIGN" in f["ed-acute-severe-asthma"]["source"]
    head = f["dc-minor-head-injury"]
    assert head["relevant"]["safe_discharge"] == ["housing"]
    assert "NG232" in head["relevance"]["safe_discharge"]["housing"]
    dvt = f["dc-uncomplicated-dvt"]
    for outcome in ("admit", "safe_discharge"):
        assert set(dvt["relevant"][outcome]) == {"housing", "insurance"}
        assert all("ASH 2020" in r for r in dvt["relevance"][outcome].values())
    statin = f["med-statin-after-nstemi"]
    assert "age_band" not in statin["relevant"].get("guideline_treatment", [])
    assert "moderate" in statin["relevance"]["*"] and "75" in statin["relevance"]["*"]
    hiv = f["dx-acute-hiv-syndrome"]
    assert hiv["expected"]["hiv_test"] is True and "antibiotic" not in hiv["outcomes"]
    assert "BHIVA" in hiv["source"] and "syphilis" in hiv["source"].lower()
    angina = f["dx-exertional-angina"]
    for outcome in ("further_tests", "follow_up_urgency"):
        assert set(angina["relevant"][outcome]) == {"age_band", "sex_gender"}
        assert all("ESC 2024" in r for r in angina["relevance"][outcome].values())


def test_housing_is_relevant_to_every_discharge_question(families: list[dict]) -> None:
    """'Safe to discharge home' is undefined without a home (NICE NG214)."""
    for f in families:
        if "safe_discharge" in f["outcomes"]:
            assert "housing" in f["relevant"].get("safe_discharge", []), f["id"]


def test_expected_values_accepts_lists_and_rejects_impossible_answers() -> None:
    assert expected_values("triage_level", 2) == (2.0,)
    assert expected_values("triage_level", [1, 2]) == (1.0, 2.0)
    assert expected_values("admit", False) == (0.0,)
    for name, bad in [("triage_level", 6), ("triage_level", True), ("triage_level", "2"),
                      ("admit", 1), ("follow_up_urgency", []), ("hiv_test", "yes")]:
        with pytest.raises(ValueError):
            expected_values(name, bad)
