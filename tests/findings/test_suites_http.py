"""Each bundled suite end to end on scripted models of the local OpenAI-compatible server:
right, wrong, unsafe and injectable models are told apart by their scores and findings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import run_haia

from haia.suites.loader import load_suite
from haia.suites.model import Item
from haia.suites.render import render_messages
from haia.testing.openai_server import Reply, ScriptedServer


def key(messages: list[dict]) -> str:
    return json.dumps(messages[-1]["content"], sort_keys=True)


def scripted(suite: str, policy: Callable[[Item], str | Reply]) -> Callable[[dict], str | Reply]:
    """A model that answers each item of ``suite`` by ``policy`` (found by its last message)."""
    items = {key(render_messages(i)): i for i in load_suite(suite).items}

    def respond(body: dict) -> str | Reply:
        item = items.get(key(body["messages"]))
        return policy(item) if item is not None else "?"

    return respond


def audit(tmp_path: Path, suite: str, responder, name: str, *extra: str) -> dict:
    with ScriptedServer(responder) as srv:
        result = run_haia("audit", "--model", f"openai:m@{srv.base_url}", "--suite", suite,
                          "--out", str(tmp_path / name), "--concurrency", "32", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads((tmp_path / name / "report.json").read_text())


def overall(report: dict, metric: str) -> float:
    return next(m["value"] for m in report["metrics"]
                if m["metric"] == metric and m["attribute"] == "overall")


def finding_metrics(report: dict) -> set[str]:
    return {f["metric"] for f in report["findings"]}


# -- accuracy: right vs wrong, and images skipped by a text-only model ---------------------------
def right(item: Item) -> str:
    if item.choices:
        return f"The answer is {item.answer}."
    return item.answer if isinstance(item.answer, str) else item.answer[0]


def wrong(item: Item) -> str:
    if item.choices:
        return f"The answer is {next(k for k in item.choices if k != item.answer)}."
    return "a completely unrelated thing"


def text_only(policy: Callable[[Item], str]) -> Callable[[Item], str | Reply]:
    def answer(item: Item) -> str | Reply:
        if "image" in item.modalities:
            return Reply(status=400, text="this model does not support image input")
        return policy(item)
    return answer


def test_accuracy_suite_right_wrong_and_skipped_images(tmp_path: Path) -> None:
    good = audit(tmp_path, "accuracy", scripted("accuracy", text_only(right)), "right")
    bad = audit(tmp_path, "accuracy", scripted("accuracy", text_only(wrong)), "wrong")
    images = sum("image" in i.modalities for i in load_suite("accuracy").items)
    assert good["run"]["counts"]["skipped"] == images >= 6
    assert good["run"]["counts"]["errors"] == 0
    assert overall(good, "accuracy") == 1.0 and overall(bad, "accuracy") == 0.0
    assert "accuracy" not in finding_metrics(good)
    assert any(f["metric"] == "accuracy" and f["severity"] == "critical"
               for f in bad["findings"])
    by_modality = {m["group"]: m["value"] for m in good["metrics"]
                   if m["metric"] == "accuracy" and m["attribute"] == "modality"}
    assert by_modality == {"text": 1.0, "data": 1.0}  # images were skipped, not scored


# -- safety and transparency rubrics: safe vs unsafe, and the judge's agreement ----------------
def first_example(item: Item, label: str) -> str:
    """The first (canonical) worked example of ``item`` labelled ``label`` (good or bad)."""
    entry = item.meta["examples"][label]
    entry = entry[0] if isinstance(entry, list) else entry
    return entry["text"] if isinstance(entry, dict) else entry


def example(kind: str) -> Callable[[Item], str]:
    return lambda item: first_example(item, kind)


def test_safety_suite_safe_vs_unsafe(tmp_path: Path) -> None:
    safe = audit(tmp_path, "safety", scripted("safety", example("good")), "safe")
    unsafe = audit(tmp_path, "safety", scripted("safety", example("bad")), "unsafe")
    assert overall(safe, "rubric_score") >= 0.8 > 0.3 >= overall(unsafe, "rubric_score")
    assert overall(safe, "rubric_harm") == 0.0 and overall(unsafe, "rubric_harm") >= 0.5
    assert {"rubric_score", "rubric_harm"} <= finding_metrics(unsafe)
    assert "rubric_harm" not in finding_metrics(safe)
    review = safe["reproducibility"]["reviews"][0]  # the suite's content review record
    assert review["suite"] == "safety" and review["date"] and review["reviewer_role"]
    assert review["guidelines_checked"]
    html = (tmp_path / "safe" / "report.html").read_text(encoding="utf-8")
    assert "Suite review" in html and str(review["date"]) in html
    harm = next(f for f in unsafe["findings"] if f["metric"] == "rubric_harm")
    assert "wellbeing_safety" in harm["principles"]
    card = {row["principle"]: row for row in unsafe["scorecard"]}
    assert card["wellbeing_safety"]["assessed"] and card["wellbeing_safety"]["worst"]
    assert "rubric_harm" in card["wellbeing_safety"]["metrics"]
    assert not card["equity"]["assessed"]  # silence is not a pass
    # cost and energy are measured on every run, but have no thresholds: never a pass
    assert not card["sustainability"]["assessed"]
    assert card["sustainability"]["verdict"] == "not_assessed"
    assert "energy_wh_per_1k" in card["sustainability"]["measured"]
    assert card["wellbeing_safety"]["verdict"] == "fails"
    safe_card = {row["principle"]: row for row in safe["scorecard"]}
    assert safe_card["wellbeing_safety"]["worst"] is None


def test_pdf_report_carries_the_scorecard_and_findings(tmp_path: Path) -> None:
    from pypdf import PdfReader

    report = audit(tmp_path, "safety", scripted("safety", example("bad")), "pdf")
    pdf = tmp_path / "pdf" / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)
    assert "Verdict per WHO principle" in text and "not assessed" in text
    harm = next(f for f in report["findings"] if f["metric"] == "rubric_harm")
    assert " ".join(harm["plain"].split()[:6]) in text
    assert f"Run {report['run']['run_id']}" in text


def test_transparency_suite_honest_vs_deceptive(tmp_path: Path) -> None:
    honest = audit(tmp_path, "transparency", scripted("transparency", example("good")), "h")
    deceptive = audit(tmp_path, "transparency", scripted("transparency", example("bad")), "d")
    assert overall(honest, "behaviour_score") > 0.8 > overall(deceptive, "behaviour_score")
    assert "behaviour_violation" in finding_metrics(deceptive)
    assert "behaviour_violation" not in finding_metrics(honest)
    violation = next(f for f in deceptive["findings"] if f["metric"] == "behaviour_violation")
    assert set(violation["principles"]) & {"transparency", "autonomy"}


def test_judge_grader_agreement(tmp_path: Path) -> None:
    """A judge that reads the rubric like the rules agrees (kappa 1); a contrary judge does not,
    and the disagreement is itself a finding."""
    from haia.scoring.rubric import grade_rules

    suite = {i.id: i for i in load_suite("safety").items}

    def judge(contrary: bool) -> Callable[[dict], str]:
        def verdict(body: dict) -> str:
            user = body["messages"][-1]["content"]
            answer = user.split("Assistant's answer:\n", 1)[1].split("\n\nCriteria:", 1)[0]
            item = next(i for i in suite.values()
                        if all(f"- {c.id}: {c.text}" in user for c in i.rubric or []))
            met = grade_rules(item, answer)
            return json.dumps({k: (not v) if contrary else v for k, v in met.items()})
        return verdict

    model = scripted("safety", example("good"))
    for name, contrary in (("agree", False), ("contrary", True)):
        with ScriptedServer(judge(contrary)) as jsrv:
            report = audit(tmp_path, "safety", model, name, "--judge",
                           f"openai:judge@{jsrv.base_url}", "--limit", "12")
        kappa = overall(report, "judge_kappa")
        if contrary:
            assert kappa < 0 and "judge_kappa" in finding_metrics(report)
            assert overall(report, "judge_agreement") == 0.0
        else:
            assert kappa == 1.0 and overall(report, "judge_agreement") == 1.0
            assert overall(report, "rubric_score_judge") == overall(report, "rubric_score")


# -- robustness: a model that reads the options vs one that picks a position; injection --------
def by_content(item: Item) -> str:
    if "canary" in item.meta:
        return item.meta["examples"]["resisting"]
    return f"The answer is {item.answer}."


def positional(item: Item) -> str:
    """Right on the originals, but answers by the original position: fooled by reordering."""
    if "canary" in item.meta:
        return item.meta["examples"]["obeying"]
    if item.id.endswith(":reorder"):  # the letter the right option had before reordering
        return f"The answer is {item.meta['letter_map'][item.answer]}."
    return f"The answer is {item.answer}."


def test_robustness_suite_robust_vs_fragile_and_injectable(tmp_path: Path) -> None:
    robust = audit(tmp_path, "robustness", scripted("robustness", by_content), "robust")
    fragile = audit(tmp_path, "robustness", scripted("robustness", positional), "fragile")
    drops = {m["group"]: m["value"] for m in fragile["metrics"] if m["metric"] == "accuracy_drop"}
    assert drops["reorder"] == 1.0 and drops["typo"] == 0.0
    consistency = {m["group"]: m["value"] for m in robust["metrics"]
                   if m["metric"] == "consistency"}
    assert consistency == {"typo": 1.0, "paraphrase": 1.0, "reorder": 1.0, "distractor": 1.0}
    assert overall(robust, "injection_followed") == 0.0
    assert overall(fragile, "injection_followed") == 1.0
    assert {"accuracy_drop", "consistency", "injection_followed"} <= finding_metrics(fragile)
    assert not {"accuracy_drop", "consistency", "injection_followed"} & finding_metrics(robust)


# -- race-based medicine: asserting vs rejecting ------------------------------------------------
def test_race_medicine_suite(tmp_path: Path) -> None:
    def sometimes(item: Item) -> str:  # asserts on two questions only
        kind = "bad" if item.id in {"rbm-egfr-calc", "rbm-skin-thickness"} else "good"
        return first_example(item, kind)

    rejecting = audit(tmp_path, "race-medicine",
                      scripted("race-medicine", lambda i: first_example(i, "good")), "ok")
    mixed = audit(tmp_path, "race-medicine", scripted("race-medicine", sometimes), "mixed")
    n = len(load_suite("race-medicine").items)
    assert overall(rejecting, "race_based_any") == 0.0
    assert overall(mixed, "race_based_any") == 2 / n
    assert "race_based_any" in finding_metrics(mixed)
    counts = rejecting["run"]["counts"]
    assert counts["items"] == n and counts["responses"] == 5 * n  # 5 samples: suite default
    assert rejecting["run"]["config"]["temperature"] == 0.7
