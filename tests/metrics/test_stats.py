"""The statistics behind equity findings, checked against SciPy and by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from haia.findings.judge import judge_gaps, load_thresholds
from haia.metrics.disaggregate import disaggregate
from haia.metrics.equity import compare_counterfactuals
from haia.metrics.fairness import disparities, per_item_values
from haia.metrics.stats import (
    benjamini_hochberg,
    holm,
    maxt_stepdown,
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


def test_maxt_single_hypothesis_is_the_permutation_p_value() -> None:
    rng = np.random.default_rng(0)
    perm = rng.normal(size=(999, 1))
    raw, adjusted = maxt_stepdown(np.array([1.96]), perm)
    assert raw[0] == adjusted[0] == pytest.approx((1 + np.sum(np.abs(perm) >= 1.96)) / 1000)


def test_maxt_adjusts_at_least_raw_and_at_most_bonferroni_for_independent_tests() -> None:
    rng = np.random.default_rng(1)
    perm = rng.normal(size=(4999, 20))
    observed = np.array([4.0, 3.0] + [0.5] * 18)
    raw, adjusted = maxt_stepdown(observed, perm)
    assert np.all(adjusted >= raw - 1e-12)
    assert adjusted[0] <= adjusted[1] <= adjusted[2]
    assert adjusted[1] <= min(1.0, 19 * raw[1]) + 0.01  # step-down: 19 left when it is tested
    # perfectly correlated hypotheses cost nothing: the adjusted p is the raw one
    same = np.repeat(perm[:, :1], 5, axis=1)
    raw, adjusted = maxt_stepdown(np.full(5, 2.0), same)
    assert np.allclose(raw, adjusted)


def test_maxt_controls_familywise_error_by_simulation() -> None:
    rng = np.random.default_rng(2)
    rejected = 0
    runs = 300
    for _ in range(runs):
        data = rng.normal(size=(400, 30))
        _, adjusted = maxt_stepdown(data[0], data[1:])  # observed exchangeable with permuted
        rejected += bool(np.any(adjusted < 0.05))
    assert rejected / runs <= 0.08  # 5% nominal, binomial slack over 300 runs


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
    # against the consensus, one group's disadvantage is not spread to the other groups
    assert named == {("race_ethnicity", "black")}
    black = next(c for c in comparisons if c.group == "black")
    assert black.reference == "consensus" and black.test == "sign_maxT_permutation"
    assert black.control_effect is not None and black.control_effect < -0.2
    assert black.ci_low <= -0.45 <= black.ci_high
    assert all(f.principles[0] == "equity" for f in findings)


def test_relevant_attributes_are_never_findings() -> None:
    rows = [ScoreRow(r.suite, r.item_id, r.sample, r.metric, r.value, r.label, r.attributes,
                     r.family, r.variant, relevant=frozenset({"age_band"}))
            for r in simulated_rows(2, families=60, effect={"age-older": -0.5}, base=0.8)]
    comparisons = compare_counterfactuals(rows, seed=0)
    older = [c for c in comparisons if c.group == "75+"]
    assert older and all(c.relevant and c.p_adjusted is None for c in older)
    assert max(c.effect for c in older) < -0.3  # the difference is real and reported...
    assert not [f for f in judge_gaps(comparisons) if f.attribute == "age_band"]  # ...and legit


def _metric_frame(groups: list[str], values: np.ndarray) -> object:
    from fairlearn.metrics import MetricFrame

    return MetricFrame(metrics={"mean": lambda y_true, y_pred: float(np.mean(y_pred))},
                       y_true=values, y_pred=values,
                       sensitive_features=np.array(groups, dtype=object))


def test_haia_disaggregation_and_disparities_equal_fairlearn_metricframe() -> None:
    """haia's per-group means (disaggregate) and disparity summaries (difference, ratio between
    groups) against Fairlearn's MetricFrame on the same per-item values: several metrics and
    attributes, missing scores, two samples per item, a metric that is 0 in one group and
    one that is 0 everywhere."""
    rng = np.random.default_rng(5)
    rows = []
    for k in range(300):
        attributes = {"g": ["a", "b", "c"][k % 3], "sex": ["female", "male"][(k // 3) % 2]}
        for sample in range(2):  # samples averaged per item by both
            value = None if rng.random() < 0.05 else float(rng.random() < 0.3 + 0.2 * (k % 3))
            rows.append(ScoreRow("s", f"i{k}", sample, "accuracy", value, None, attributes,
                                 None, None))
            rows.append(ScoreRow("s", f"i{k}", sample, "harm", 0.0 if k % 3 == 0
                                 else float(rng.random() < 0.1), None, attributes, None, None))
            rows.append(ScoreRow("s", f"i{k}", sample, "never", 0.0, None, attributes, None,
                                 None))
    ours = {(m.metric, m.attribute, m.group): m.value for m in disaggregate(rows)}
    summaries = {(d["metric"], d["attribute"]): d for d in disparities(rows)}
    assert set(summaries) == {(m, a) for m in ("accuracy", "harm", "never") for a in ("g", "sex")}
    for (metric, attribute), summary in summaries.items():
        frame = _metric_frame(*per_item_values(rows, metric, attribute))
        theirs = {str(k): float(v) for k, v in frame.by_group["mean"].items()}
        assert summary["by_group"].keys() == theirs.keys()
        for group, value in theirs.items():
            assert summary["by_group"][group] == pytest.approx(value, abs=1e-12)
            assert ours[(metric, attribute, group)] == pytest.approx(value, abs=1e-12)
        difference = float(frame.difference(method="between_groups")["mean"])
        ratio = float(frame.ratio(method="between_groups")["mean"])
        assert summary["difference"] == pytest.approx(difference, abs=1e-12)
        if np.isnan(ratio):
            assert summary["ratio"] is None and metric == "never"
        else:
            assert summary["ratio"] == pytest.approx(ratio, abs=1e-12)
    assert summaries[("harm", "g")]["ratio"] == 0.0  # group a is never harmed


def test_hypotheses_without_signal_do_not_dilute_the_others() -> None:
    """The family of hypotheses is the design's: outcomes on which no group ever differs (or
    that a --limit run lacks) leave every adjusted p-value as it was, unlike Holm."""
    rows = simulated_rows(4, families=30, effect={"race-black": -0.5}, base=0.9)
    flat = [ScoreRow(r.suite, r.item_id, r.sample, metric, 1.0, None, r.attributes, r.family,
                     r.variant) for r in rows for metric in ("admit", "imaging", "antibiotic")]
    alone = {(c.metric, c.group): c.p_adjusted for c in compare_counterfactuals(rows, seed=0)}
    padded = {(c.metric, c.group): c.p_adjusted
              for c in compare_counterfactuals(rows + flat, seed=0)}
    assert alone[("analgesic", "black")] < 0.05
    assert padded[("analgesic", "black")] == alone[("analgesic", "black")]
    assert len(padded) == 4 * len(alone)


def test_bootstrap_counts_equal_index_resampling_in_distribution() -> None:
    """Discrete values are resampled as multinomial counts per level: the resample means must
    have the distribution of the plain index bootstrap (checked by moments and a two-sample
    Kolmogorov-Smirnov test), and continuous values still take the index path."""
    from haia.metrics.stats import DISCRETE_LEVELS, resampled_means

    rng = np.random.default_rng(5)
    for values in (rng.binomial(1, 0.3, 150).astype(float),
                   rng.choice([-1.0, 0.0, 1.0], 90, p=[0.2, 0.6, 0.2])):
        counts = resampled_means(values, np.random.default_rng(1), 4000)
        index = values[np.random.default_rng(2).integers(0, values.size,
                                                         (4000, values.size))].mean(axis=1)
        assert abs(counts.mean() - values.mean()) < 0.005
        assert counts.std() == pytest.approx(index.std(), rel=0.08)
        assert stats.ks_2samp(counts, index).pvalue > 0.01
    continuous = rng.normal(size=DISCRETE_LEVELS + 50)
    a = resampled_means(continuous, np.random.default_rng(3), 10)
    b = continuous[np.random.default_rng(3).integers(0, continuous.size,
                                                     (10, continuous.size))].mean(axis=1)
    assert np.allclose(a, b)  # the same draws as one index matrix


def test_bootstrap_interval_covers_at_the_nominal_rate() -> None:
    """Coverage of the 95% interval of a proportion (n=80, p=0.25) over 400 simulated
    samples: the percentile bootstrap is known to under-cover a little at this n."""
    from haia.metrics.stats import bootstrap_ci

    rng = np.random.default_rng(11)
    covered = 0
    for k in range(400):
        sample = rng.binomial(1, 0.25, 80).astype(float)
        low, high = bootstrap_ci(sample, seed=k)
        covered += low <= 0.25 <= high
    assert 0.90 <= covered / 400 <= 0.98
