"""Plain words for haia's internal names: metrics, attributes and groups, as a committee reads them.

Every unknown name falls back to itself with underscores as spaces, so a metric added by another
suite still reads, only less well.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

# metric -> (kind, phrase). kind: rate (share of answers, shown as %), score (0..1), drop
# (percentage points lost), ordinal (a level on a scale), kappa, other (raw number).
# For a rate, the phrase completes "N% of answers ...".
METRICS: dict[str, tuple[str, str]] = {
    "accuracy": ("rate", "were correct"),
    "unparsed": ("rate", "did not commit to a usable answer"),
    "refusal": ("rate", "were refusals"),
    "phi_leak": ("rate", "repeated protected health information"),
    "rubric_score": ("score", "safety-rubric score"),
    "rubric_score_judge": ("score", "safety-rubric score given by the judge model"),
    "rubric_harm": ("rate", "contained a harmful element"),
    "behaviour_score": ("score", "transparency-behaviour score"),
    "behaviour_violation": ("rate", "broke a transparency or consent rule"),
    "injection_followed": ("rate", "followed an instruction hidden in the input"),
    "accuracy_drop": ("drop", "accuracy lost"),
    "consistency": ("rate", "kept the same answer after a change of wording"),
    "race_based_any": ("rate", "drew race-based content at least once"),
    "race_based_assertion": ("rate", "asserted a retired race-based practice"),
    "race_based_inconsistent": ("rate", "were answered inconsistently across repeats"),
    "race_based_rejection": ("rate", "explicitly rejected the race-based practice"),
    "judge_kappa": ("kappa", "agreement of the judge model with the rule-based grader"),
    "judge_agreement": ("rate", "were graded alike by the judge model and the rules"),
    "parse_failure": ("rate", "could not be read in the asked format"),
    "tokens_per_query": ("other", "tokens per query"),
    "latency_p95_s": ("other", "95th-percentile latency (s)"),
    "cost_usd_per_1k": ("other", "cost per 1,000 queries (US$)"),
    "energy_wh_per_1k": ("other", "energy per 1,000 queries (Wh)"),
    "emissions_g_per_1k": ("other", "emissions per 1,000 queries (g CO2e)"),
}

# Counterfactual outcomes: what a patient "was" (binary) or the scale (ordinal).
OUTCOMES: dict[str, str] = {
    "analgesic": "offered pain relief",
    "opioid": "offered an opioid",
    "imaging": "sent for imaging",
    "further_tests": "sent for further tests",
    "hiv_test": "offered an HIV test",
    "admit": "admitted",
    "specialist_referral": "referred to a specialist",
    "mental_health_referral": "referred for a mental-health evaluation",
    "antibiotic": "prescribed an antibiotic",
    "guideline_treatment": "given the guideline treatment",
    "safe_discharge": "judged safe to discharge",
    "pain_score_credible": "believed about their pain",
    "refusal": "refused an answer",
    "parse_failure": "given an answer in an unusable form",
    "triage_level": "triage level (ESI 1-5, 1 most urgent)",
    "follow_up_urgency": "follow-up urgency (1-4 scale)",
}

SHORT_OUTCOMES: dict[str, str] = {
    "analgesic": "pain relief", "opioid": "opioid", "imaging": "imaging",
    "further_tests": "further tests", "hiv_test": "HIV test", "admit": "admission",
    "specialist_referral": "specialist",
    "mental_health_referral": "mental-health referral", "antibiotic": "antibiotic",
    "guideline_treatment": "guideline treatment", "safe_discharge": "discharge",
    "pain_score_credible": "pain believed", "refusal": "refusal",
    "parse_failure": "unusable answer", "triage_level": "triage level",
    "follow_up_urgency": "follow-up urgency",
}


def short_outcome(metric: str) -> str:
    return SHORT_OUTCOMES.get(metric, words(metric))


ATTRIBUTES: dict[str, str] = {
    "race_ethnicity": "race and ethnicity", "sex_gender": "sex and gender", "age_band": "age",
    "disability": "disability", "language": "language", "insurance": "insurance",
    "housing": "housing", "sexual_orientation": "sexual orientation",
    "specialty": "specialty", "application": "WHO application area",
    "difficulty": "difficulty", "modality": "input modality", "perturbation": "perturbation",
    "setting": "clinical setting", "category": "category", "overall": "all items",
}

# Attributes that describe the clinical question, not the patient: never "demographic".
CONTEXT_ATTRIBUTES = frozenset({"setting", "specialty", "application", "difficulty", "modality",
                                "perturbation", "category", "overall", "question", "kind"})


def words(name: str) -> str:
    """``hispanic_latino`` -> ``hispanic latino``."""
    return str(name).replace("_", " ").strip()


@cache
def descriptors() -> dict[tuple[str, str], str]:
    """(attribute, group) -> the words a vignette uses for that patient (``a Black patient``)."""
    text = (resources.files("haia.suites") / "variants.yaml").read_text(encoding="utf-8")
    out: dict[tuple[str, str], str] = {}
    for entry in yaml.safe_load(text) or []:
        out[(str(entry["attribute"]), str(entry["group"]))] = str(entry["descriptor"])
    return out


def attribute_label(attribute: str) -> str:
    return ATTRIBUTES.get(attribute, words(attribute))


def group_label(attribute: str, group: str) -> str:
    """How a group reads in a sentence: ``a Black patient`` or ``cardiology questions``."""
    if attribute == "overall":
        return "all items"
    found = descriptors().get((attribute, group))
    if found:
        return found
    if attribute in CONTEXT_ATTRIBUTES:
        return f"{words(group)} ({attribute_label(attribute)})"
    return f"patients with {attribute_label(attribute)} {words(group)}"


def short_group(attribute: str, group: str) -> str:
    """A compact label for charts and tables: ``Black (race and ethnicity)``."""
    found = descriptors().get((attribute, group))
    if found:
        text = found.split(" ", 1)[1] if found.split(" ", 1)[0] in {"a", "an"} else found
        return text.removesuffix(" patient")
    return words(group)


def metric_label(metric: str) -> str:
    """A metric's name as a heading: ``refusal``, ``safety-rubric score``, ``triage level``."""
    if metric in METRICS:
        kind, phrase = METRICS[metric]
        return words(metric) if kind == "rate" else phrase
    return OUTCOMES.get(metric, words(metric))


ORDINAL = frozenset({"triage_level", "follow_up_urgency"})


def metric_kind(metric: str) -> str:
    """rate | score | drop | ordinal | kappa | other (unknown metrics: other)."""
    if metric in METRICS:
        return METRICS[metric][0]
    if metric in ORDINAL:
        return "ordinal"
    return "rate" if metric in OUTCOMES else "other"


def is_demographic(attribute: str) -> bool:
    return attribute not in CONTEXT_ATTRIBUTES


def pct(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def fmt(value: Any, metric: str | None = None) -> str:
    """A value as a committee reads it: a share as a percentage, other numbers to 3 figures."""
    if value is None:
        return "-"
    if metric is not None and metric_kind(metric) == "rate":
        return pct(float(value))
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
