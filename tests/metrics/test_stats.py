"""The statistics behind equity findings, checked against SciPy and by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from haia.findings.judge import judge_gaps, load_thresholds
from haia.metrics.disaggregate import disaggregate
from haia.metrics.equity import compare_counterfactuals
from haia.metrics.fairness import disparities, metric_frame
from haia.metrics.stats import (
    benjamini_hochberg,
    holm,
    mcnemar_exact,
    sign_flip_test,
    wilcoxon_p,
)
from haia.metrics.table import ScoreRow
from haia.suites.counterfactual import default_variants


def test_mcnemar_matches_binomial_test() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(12, 2) == pytest.approx(stats.binomtest(2, 14, 0.5).pvalue)
    assert mcnemar_exact(2, 12) == mcnemar_exact(12, 2)
    assert mcnemar_exact(10, 0) < 0.01


def test_sign_flip_exact_small_case() -> None:
    # 4 positive differences: only the all-plus and all-minus sign vectors are as extreme.
    assert sign_flip_test(np.array([1.0, 2.0, 1.0, 3.0])) == pytest.approx(2 / 16)
    assert sign_flip_test(np.array([0.0, 0.0])) == 1.0
    balanced = sign_flip_test(np.array([1.0, -1.0, 1.0, -1.0, 2.0, -2.0]))
    assert balanced == 1.0


def test_sign_flip_agrees_with_scipy_permutation_test() -> None:
    rng = np.random.default_rng(3)
    diffs = rng.normal(0.4, 1.0, size=40)
    ours = sign_flip_test(diffs, seed=1)
    theirs = stats.permutation_test((diffs,), np.mean, permutation_type="samples",
                                    n_resamples=20000, random_state=1).pvalue
    assert ours == pytest.approx(theirs, abs=0.01)
    assert wilcoxon_p(diffs) < 0.1


def test_holm_and_bh_known_values() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert holm([]) == [] and benjamini_hochberg([]) == []


def simulated_rows(seed: int, families: int = 30, effect: dict[str, float] | None = None,
                   base: float = 0.5) -> list[ScoreRow]:
    """A fair (or, with ``effect``, planted) binary outcome over every default variant."""
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(families):
        for variant in default_variants():
            p = base + (effect or {}).get(variant["id"], 0.0)
            value = float(rng.random() < p)
            rows.append(ScoreRow("s", f"f{f}--{variant['id']}", 0, "analgesic", value,
                                 None, {variant["attribute"]: variant["group"],
                                        "setting": "pain_management"},
                                 f"f{f}", variant["id"]))
    return rows


def test_fair_noisy_model_false_positive_rate_at_most_alpha() -> None:
    """Over many simulated audits of a fair but noisy model, the share of audits with ANY
    equity finding stays at or below alpha (Holm controls the family-wise error rate)."""
    thresholds = load_thresholds()
    runs = 60
    flagged = sum(bool(judge_gaps(compare_counterfactuals(simulated_rows(seed), seed=seed),
                                  thresholds)) for seed in range(runs))
    assert flagged / runs <= 0.05


def test_planted_disparity_is_found_with_interval_covering_it() -> None:
    rows = simulated_rows(11, families=60, effect={"race-black": -0.45}, base=0.8)
    comparisons = compare_counterfactuals(rows, seed=0)
    findings = judge_gaps(comparisons, load_thresholds())
    named = {(f.attribute, f.group) for f in findings}
    assert ("race_ethnicity", "black") in named
    assert named <= {("race_ethnicity", "black"), ("race_ethnicity", "white"),
                     ("race_ethnicity", "hispanic_latino"), ("race_ethnicity", "asian"),
                     ("race_ethnicity", "american_indian_alaska_native"),
                     ("race_ethnicity", "middle_eastern_north_african")}
    vs_control = next(c for c in comparisons if c.group == "black" and c.reference == "control")
    assert vs_control.test == "mcnemar_exact"
    assert vs_control.ci_low <= -0.45 <= vs_control.ci_high
    assert all(f.principles[0] == "equity" for f in findings)


def test_relevant_attributes_are_never_findings() -> None:
    rows = [ScoreRow(r.suite, r.item_id, r.sample, r.metric, r.value, r.label, r.attributes,
                     r.family, r.variant, relevant=frozenset({"age_band"}))
            for r in simulated_rows(2, families=60, effect={"age-older": -0.5}, base=0.8)]
    comparisons = compare_counterfactuals(rows, seed=0)
    older = [c for c in comparisons if c.group == "75+"]
    assert older and all(c.relevant for c in older)
    assert min(c.p_adjusted for c in older) < 0.05  # the difference is real...
    assert not [f for f in judge_gaps(comparisons) if f.attribute == "age_band"]  # ...and legit


def test_haia_disaggregation_equals_fairlearn_metricframe() -> None:
    rng = np.random.default_rng(5)
    rows = []
    for k in range(300):
        group = ["a", "b", "c"][k % 3]
        for sample in range(2):  # samples averaged per item by both
            value = None if rng.random() < 0.05 else float(rng.random() < 0.3 + 0.2 * (k % 3))
            rows.append(ScoreRow("s", f"i{k}", sample, "accuracy", value, None, {"g": group},
                                 None, None))
    ours = {m.group: m.value for m in disaggregate(rows) if m.attribute == "g"}
    frame = metric_frame(rows, "accuracy", "g")
    theirs = {str(k): float(v) for k, v in frame.by_group["mean"].items()}
    assert ours.keys() == theirs.keys()
    for group, value in ours.items():
        assert value == pytest.approx(theirs[group], abs=1e-12)
    (summary,) = disparities(rows)
    assert summary["difference"] == pytest.approx(max(ours.values()) - min(ours.values()))
    assert summary["ratio"] == pytest.approx(min(ours.values()) / max(ours.values()))
