"""The equity audit finds planted gaps and nothing else: scripted models on the bundled suite.

The model (haia.testing.equity_model) answers each case the same for every demographic
rendering, with 10% random answers, and moves one group's answers in 40% of the families asking
an outcome. These are the acceptance cases of issue 10, on a few seeds each; bench/equity_power.py
runs the full sweep.
"""

from __future__ import annotations

from functools import cache

import pytest

from haia.findings.judge import gap_thresholds, judge_gaps, load_thresholds
from haia.findings.model import Finding
from haia.metrics.equity import EquityAnalysis, analyse_equity
from haia.suites.counterfactual import variant_descriptors
from haia.suites.loader import load_suite
from haia.suites.model import Suite
from haia.testing.equity_model import EquityModel, Gap, simulate_scores

SEEDS = (0, 1, 2, 3)


@cache
def bundled() -> Suite:
    return load_suite("equity")


def audit(seed: int, gaps: list[Gap], thresholds: dict | None = None
          ) -> tuple[EquityAnalysis, list[Finding]]:
    config = thresholds or load_thresholds()
    model = EquityModel.for_suite("equity", noise=0.1, seed=seed, gaps=gaps)
    analysis = analyse_equity(simulate_scores(bundled(), model), seed=seed, permutations=1000,
                              thresholds=gap_thresholds(config), descriptors=variant_descriptors())
    return analysis, judge_gaps(analysis.comparisons, config)


@pytest.mark.slow
@pytest.mark.parametrize("gap", [
    Gap("race_ethnicity", "hispanic_latino", "triage_level", +1, 0.4),
    Gap("race_ethnicity", "black", "analgesic", -1, 0.4),
], ids=["triage-less-urgent", "analgesia-denied"])
def test_planted_gap_names_group_outcome_and_direction(gap: Gap) -> None:
    detected = 0
    for seed in SEEDS:
        _, findings = audit(seed, [gap])
        right = [f for f in findings if (f.attribute, f.group, f.metric) ==
                 (gap.attribute, gap.group, gap.outcome) and (f.value > 0) == (gap.shift > 0)]
        detected += bool(right)
        assert not [f for f in findings if f.attribute == gap.attribute and f.group != gap.group]
        for finding in right:
            assert finding.principles[0] == "equity" and finding.kind == "gap"
            words = "triaged less urgently" if gap.outcome == "triage_level" else \
                "given pain relief less often"
            assert words in finding.message and "adjusted p" in finding.message
            assert ("levels" if gap.outcome == "triage_level" else "percentage points") in \
                finding.message
            assert finding.ci_low <= finding.value <= finding.ci_high
            assert finding.evidence and all(e.split("--")[1].startswith(("race-hispanic",
                                                                         "race-black"))
                                            for e in finding.evidence)
    assert detected >= len(SEEDS) - 1  # acceptance: >= 90% of seeds (the bench measures it)


@pytest.mark.slow
def test_noisy_fair_model_has_no_finding() -> None:
    for seed in SEEDS:
        analysis, findings = audit(seed, [])
        assert findings == []
        assert analysis.design["families_of_hypotheses"]["clinical"]["hypotheses"] > 300


def test_gap_below_the_practical_threshold_is_reported_with_interval_not_a_finding() -> None:
    config = load_thresholds()
    config["metrics"]["triage_level"] = {"gap_cutoffs": {"low": 0.6, "medium": 0.8}}
    gap = Gap("race_ethnicity", "hispanic_latino", "triage_level", +1, 0.4)
    analysis, findings = audit(1, [gap], config)
    assert not [f for f in findings if f.metric == "triage_level"]
    row = next(c for c in analysis.comparisons if (c.metric, c.group) ==
               ("triage_level", "hispanic_latino"))
    assert row.p_adjusted is not None and row.p_adjusted < 0.05  # significant...
    assert 0.2 < row.effect < 0.6 and row.ci_low < row.effect < row.ci_high  # ...but small


def test_minimum_detectable_gap_per_outcome_and_attribute() -> None:
    analysis, _ = audit(0, [])
    table = {(d.metric, d.attribute): d for d in analysis.detectable}
    triage = table[("triage_level", "race_ethnicity")]
    assert triage.unit == "levels" and triage.threshold == 0.25
    assert triage.minimum_detectable_gap is not None and 0.2 < triage.minimum_detectable_gap <= 0.4
    # an outcome asked by fewer families can only detect a larger gap
    few = min((d for d in analysis.detectable if d.minimum_detectable_gap is not None),
              key=lambda d: d.n_families)
    assert few.n_families < triage.n_families
    assert few.minimum_detectable_gap > triage.minimum_detectable_gap
    assert {a for m, a in table if m == "triage_level"} >= {"race_ethnicity", "sex_gender",
                                                           "housing", "insurance"}
