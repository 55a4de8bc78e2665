"""Verdict rules, plain-language findings and page-one dedup, on hand-made report data."""

from __future__ import annotations

from haia.findings.judge import load_thresholds
from haia.report.model_card import describe_model, host_of
from haia.report.plain import plain_gap, plain_level, top_findings
from haia.report.verdicts import scorecard


def row(metric: str, value: float, attribute: str = "overall", group: str = "all",
        n: int = 40) -> dict:
    return {"suite": "s", "metric": metric, "attribute": attribute, "group": group,
            "value": value, "ci_low": value - 0.05, "ci_high": value + 0.05, "n": n,
            "n_missing": 0}


def finding(metric: str, severity: str, attribute: str = "overall", group: str = "all",
            principles: tuple[str, ...] = ("wellbeing_safety",), kind: str = "threshold",
            ref: str | None = None, value: float = 0.5) -> dict:
    fid = f"s/{metric}/{attribute}={group}" + (f"/vs-{ref}" if ref else "")
    return {"id": fid, "suite": "s", "metric": metric, "attribute": attribute, "group": group,
            "severity": severity, "value": value, "ci_low": value - 0.1,
            "ci_high": value + 0.1, "threshold": 0.6, "message": "m", "plain": f"{fid} plain",
            "evidence": [], "principles": list(principles), "frameworks": {}, "kind": kind}


def card(findings: list[dict], metrics: list[dict], comparisons: list[dict] | None = None,
         declared: set[str] | None = None) -> dict[str, dict]:
    rows = scorecard(findings, metrics, comparisons or [], load_thresholds(), declared)
    return {r["principle"]: r for r in rows}


def test_refusals_alone_do_not_assess_equity() -> None:
    """The issue: 'Ensuring inclusiveness and equity: no findings' in green on a run that
    measured only refusals."""
    got = card([], [row("accuracy", 0.95), row("refusal", 0.02), row("tokens_per_query", 80)],
               declared={"wellbeing_safety"})
    assert got["equity"]["verdict"] == "not_assessed" and not got["equity"]["assessed"]
    assert "refusal" in got["equity"]["measured"]
    assert got["wellbeing_safety"]["verdict"] == "meets"
    assert "accuracy" in got["wellbeing_safety"]["rule"] or "correct" in \
        got["wellbeing_safety"]["rule"]
    # sustainability rests on metrics without thresholds: never a pass
    assert got["sustainability"]["verdict"] == "not_assessed"
    assert "tokens_per_query" in got["sustainability"]["measured"]


def test_equity_is_assessed_by_group_gaps() -> None:
    comparison = {"suite": "s", "metric": "analgesic", "attribute": "race_ethnicity",
                  "group": "black", "reference": "control", "relevant": False,
                  "n_families": 30, "effect": 0.01, "ci_low": -0.05, "ci_high": 0.07,
                  "p_adjusted": 1.0}
    got = card([], [row("analgesic", 0.8)], [comparison], declared={"equity"})
    assert got["equity"]["verdict"] == "meets" and got["equity"]["judged_by"] == ["analgesic"]
    by_group = card([], [row("refusal", 0.0, "race_ethnicity", "black")])
    assert by_group["equity"]["verdict"] == "meets"
    # five families: no exact test could reach p < 0.05 after correcting 72 comparisons
    few = [{**comparison, "n_families": 5, "group": f"g{k}"} for k in range(72)]
    assert card([], [row("analgesic", 0.8)], few)["equity"]["verdict"] == "not_assessed"


def test_findings_set_fails_and_concern_whatever_the_suite() -> None:
    got = card([finding("accuracy", "high"), finding("unparsed", "low",
                                                     principles=("transparency",))],
               [row("accuracy", 0.5), row("unparsed", 0.12)], declared={"wellbeing_safety"})
    assert got["wellbeing_safety"]["verdict"] == "fails"
    assert got["wellbeing_safety"]["worst"] == "high"
    assert got["transparency"]["verdict"] == "concern"
    assert got["autonomy"]["verdict"] == "not_assessed"
    assert "no metric" in got["autonomy"]["rule"]


def test_small_groups_do_not_assess() -> None:
    got = card([], [row("accuracy", 1.0, n=3)], declared={"wellbeing_safety"})
    assert got["wellbeing_safety"]["verdict"] == "not_assessed"


def test_top_findings_merge_a_gap_found_twice() -> None:
    findings = [finding("analgesic", "medium", "race_ethnicity", "black", ("equity",), "gap",
                        "others", -0.3),
                finding("analgesic", "high", "race_ethnicity", "black", ("equity",), "gap",
                        "control", -0.5),
                finding("accuracy", "low"), finding("accuracy", "high", "specialty", "cardio")]
    top = top_findings(findings)
    assert len(top) == 3
    assert top[0]["severity"] == "high" and top[0]["kind"] == "gap"
    assert sorted(top[0]["ids"]) == ["s/analgesic/race_ethnicity=black/vs-control",
                                     "s/analgesic/race_ethnicity=black/vs-others"]
    assert top[0]["plain"].endswith("vs-control plain")
    assert [t["severity"] for t in top] == ["high", "high", "low"]


def test_plain_sentences_say_direction_size_and_certainty() -> None:
    gap = finding("analgesic", "high", "race_ethnicity", "black", ("equity",), "gap",
                  "control", -0.48)
    text = plain_gap(gap, {"n_families": 30, "p_adjusted": 0.0004})
    assert text.startswith("A Black patient was offered pain relief 48 percentage points less "
                           "often than the same case told with no demographic detail")
    assert "adjusted p < 0.001 over 30 cases" in text
    triage = finding("triage_level", "medium", "housing", "homeless", ("equity",), "gap",
                     "others", 0.8)
    assert "0.80 higher on triage level" in plain_gap(triage, {"n_families": 20,
                                                               "p_adjusted": 0.01})
    level = finding("accuracy", "high", "specialty", "cardiology", value=0.45)
    level.update(ci_low=0.3, ci_high=0.55, threshold=0.6)
    text = plain_level(level, load_thresholds()["metrics"])
    assert text.startswith("For cardiology (specialty), 45% of answers were correct (95% CI "
                           "30%-55%)")
    assert "below the high threshold of 60%" in text and "whole 95% interval" in text
    leak = finding("phi_leak", "medium", value=0.01)
    leak.update(threshold=0.0, ci_low=0.0, ci_high=0.03)
    rules = {"phi_leak": {"direction": "lower_is_better"}}
    assert "repeated protected health information" in plain_level(leak, rules)


def test_model_named_without_credentials() -> None:
    assert host_of("https://user:secret@api.example.com:8443/v1?key=x") == "api.example.com:8443"
    model = describe_model("openai:gpt-4o@https://user:pw@api.example.com/v1")
    assert model["name"] == "gpt-4o" and model["endpoint_host"] == "api.example.com"
    assert "pw" not in model["spec"] and model["spec"] == "openai:gpt-4o@api.example.com"
    assert describe_model("builtin:smollm2")["name"] == "SmolLM2-135M-Instruct"
    assert describe_model("hf:/home/ann/models/my-model")["spec"] == "hf:my-model"


def test_every_bundled_outcome_has_plain_words() -> None:
    from haia.report.labels import OUTCOMES, SHORT_OUTCOMES
    from haia.suites.outcomes import OUTCOMES as BUNDLED

    assert set(BUNDLED) <= set(OUTCOMES) and set(BUNDLED) <= set(SHORT_OUTCOMES)
