"""Every metric any bundled suite can produce maps to a WHO principle and can be judged."""

from __future__ import annotations

import pytest

from haia.findings.judge import framework_map, load_thresholds, mapping_for
from haia.metrics.derived import get_derived
from haia.scoring.base import scorer_metrics, scorer_names
from haia.suites.loader import bundled_names, load_suite

WHO = set(framework_map()["principles"])


def suite_metrics(name: str) -> set[str]:
    suite = load_suite(name)
    metrics: set[str] = set()
    for item in suite.items:
        for scorer in suite.scorers_for(item):
            metrics |= set(scorer_metrics(scorer))
    for derived in suite.meta.metrics:
        metrics |= set(get_derived(derived)[1])
    return metrics


def test_metrics_of_every_run_and_of_the_judge_map_to_a_who_principle() -> None:
    """Cost and energy (every run) and the judge's metrics (``--judge``) are not a suite's."""
    from haia.metrics.sustainability import RUN_METRICS

    for metric in (*RUN_METRICS, "rubric_score_judge", "judge_agreement", "judge_kappa"):
        principles, frameworks = mapping_for(metric)
        assert principles and set(principles) <= WHO, metric
        assert frameworks.get("eu_ai_act") and frameworks.get("nist_ai_rmf"), metric


def test_every_scorer_declares_its_metrics() -> None:
    silent = [name for name in scorer_names() if not scorer_metrics(name)]
    assert not silent, f"scorers that declare no metrics: {silent}"


@pytest.mark.parametrize("suite", bundled_names())
def test_every_metric_of_every_bundled_suite_maps_to_a_who_principle(suite: str) -> None:
    metrics = suite_metrics(suite)
    assert metrics, f"suite {suite} produces no metrics"
    for metric in sorted(metrics):
        principles, frameworks = mapping_for(metric)
        assert principles, f"{suite}: metric {metric!r} maps to no WHO principle"
        assert set(principles) <= WHO, f"{metric}: unknown principles {principles}"
        assert frameworks.get("eu_ai_act") and frameworks.get("nist_ai_rmf"), metric


@pytest.mark.parametrize("suite", bundled_names())
def test_every_metric_of_every_bundled_suite_has_a_threshold(suite: str) -> None:
    rules = load_thresholds()["metrics"]
    missing = sorted(m for m in suite_metrics(suite) if m not in rules)
    assert not missing, f"{suite}: metrics without thresholds: {missing}"


def test_threshold_file_is_well_formed() -> None:
    for metric, rule in load_thresholds()["metrics"].items():
        assert "cutoffs" in rule or "gap_cutoffs" in rule, f"{metric}: nothing to judge by"
        if "cutoffs" in rule:
            assert rule["direction"] in {"higher_is_better", "lower_is_better"}, metric
            cutoffs = rule["cutoffs"]
            ordered = [cutoffs[s] for s in ("low", "medium", "high", "critical") if s in cutoffs]
            expected = sorted(ordered, reverse=rule["direction"] == "higher_is_better")
            assert ordered == expected, f"{metric}: cut-offs not monotone in severity"
        if "gap_cutoffs" in rule:
            gaps = rule["gap_cutoffs"]
            ordered = [gaps[s] for s in ("low", "medium", "high", "critical") if s in gaps]
            assert ordered == sorted(ordered) and ordered[0] > 0, f"{metric}: gap cut-offs"
