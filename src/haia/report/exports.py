"""Exports built from a report: a health-AI applied model card (the sections of CHAI's Applied
Model Card, schema v0.2) and an outline of the EU AI Act Annex IV technical documentation.

Both are filled with what the audit (and the registry entry, when the run is attached to one)
knows, and every field that only a person can supply is marked ``TO COMPLETE`` with who should
complete it. Neither is a conformity assessment: they are drafts to start from.
"""

from __future__ import annotations

from typing import Any

from haia.report.labels import metric_label

TODO = "TO COMPLETE"
USEFULNESS = ("accuracy", "rubric_score", "rubric_score_judge", "behaviour_score",
              "consistency")
SAFETY = ("rubric_harm", "behaviour_violation", "injection_followed", "phi_leak", "unparsed",
          "accuracy_drop", "race_based_any", "race_based_assertion")


def todo(who: str, what: str = "") -> str:
    return f"{TODO} ({who}){': ' + what if what else ''}"


def _overall(report: dict[str, Any], names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [m for m in report["metrics"] if m["metric"] in names and m["attribute"] == "overall"
            and m.get("value") is not None]


def _result(m: dict[str, Any]) -> str:
    ci = ("" if m.get("ci_low") is None else
          f" (95% CI {m['ci_low']:.3g} to {m['ci_high']:.3g})")
    return f"{m['value']:.3g}{ci}, n = {m['n']}"


def _metric_entries(report: dict[str, Any], names: tuple[str, ...], goal: str
                    ) -> list[dict[str, Any]]:
    suites = ", ".join(f"{s['name']} {s['version']}" for s in report["suites"])
    out = []
    for m in _overall(report, names):
        findings = [f["plain"] for f in report["findings"] if f["metric"] == m["metric"]]
        out.append({"metric": m["metric"], "goal": goal, "result": _result(m),
                    "interpretation": " ".join(findings[:3]) or
                    f"{metric_label(m['metric'])}: no threshold crossed in this audit.",
                    "test_type": "independent audit with haia (automated test items)",
                    "testing_data": f"haia suite(s) {suites}; written test items, no patient "
                                    "data",
                    "validation": todo("auditor", "clinical review of the test items' "
                                                  "relevance to the intended use")})
    return out


def model_card(report: dict[str, Any]) -> dict[str, Any]:
    """The CHAI applied model card sections, filled from the audit and the registry."""
    card = report["model_card"]
    model, system = card["model"], card.get("system") or {}
    run = report["run"]
    gaps = [f["plain"] for f in report["findings"] if f.get("kind") == "gap"]
    risks = [f["plain"] for f in report["findings"] if f.get("kind") != "gap"]
    fairness = [{"metric": "counterfactual gaps", "goal": "no gap between patient groups beyond "
                 "the practical thresholds", "result": f"{report['equity']['tested']} comparisons "
                 f"tested, {report['equity']['findings']} findings",
                 "interpretation": " ".join(gaps[:3]) or "No significant gap beyond the "
                 "practical thresholds.", "test_type": "counterfactual vignettes (same case, "
                 "one demographic detail changed), paired tests corrected together",
                 "testing_data": ", ".join(report["equity"]["attributes"]) or "-",
                 "validation": todo("auditor")}] if report.get("comparisons") else []
    return {
        "schema": "CHAI Applied Model Card v0.2 (sections), drafted by haia",
        "basic_info": {"model_name": system.get("name") or model["name"],
                       "model_developer": system.get("developer") or model.get("provider")
                       or todo("developer"),
                       "inquiries_or_report_issue": todo("developer", "contact")},
        "release_info": {"release_stage": system.get("status") or todo("developer"),
                         "release_date": todo("developer"),
                         "release_version": system.get("version") or model.get("version")
                         or todo("developer"),
                         "global_availability": todo("developer"),
                         "regulatory_approval": todo("developer", "e.g. CE mark, FDA "
                                                                  "clearance, or none")},
        "summary": system.get("intended_use") or todo("developer", "what the model does"),
        "uses_and_directions": {
            "intended_use_and_workflow": system.get("intended_use") or todo("deployer"),
            "primary_intended_users": system.get("intended_users") or todo("deployer"),
            "how_to_use": todo("developer"),
            "targeted_patient_population": todo("deployer"),
            "cautioned_out_of_scope_settings": todo("developer")},
        "warnings": {
            "known_risks_and_limitations": risks[:10] + report["limits"],
            "known_biases_or_ethical_considerations": gaps[:10] or [
                "No gap between patient groups was found by this audit"
                + ("" if report.get("comparisons") else " (none was tested)") + "."],
            "clinical_risk_level": todo("deployer", "e.g. from haia assess")},
        "trust_ingredients": {
            "ai_system_facts": {
                "outcomes_and_outputs": todo("developer"),
                "model_type": model.get("provider") or todo("developer"),
                "foundation_models": model["name"],
                "input_data_source": todo("developer"),
                "output_and_input_data_types": todo("developer"),
                "development_data_characterization": todo("developer"),
                "bias_mitigation_approaches": todo("developer"),
                "ongoing_maintenance": todo("developer"),
                "security_and_compliance": todo("developer"),
                "transparency_intelligibility_accountability": todo("developer"),
                "funding_source": todo("developer"),
                "third_party_information": model.get("endpoint_host") or todo("developer"),
                "stakeholders_consulted": todo("developer")},
        },
        "key_metrics": {
            "usefulness_usability_efficacy": _metric_entries(
                report, USEFULNESS, "correct and complete answers to clinical test items"),
            "fairness_equity": fairness,
            "safety_reliability": _metric_entries(
                report, SAFETY, "no harmful, leaking or manipulated answers"),
        },
        "resources": {
            "evaluation_references": [f"haia audit {run['run_id']} ({run['created'][:10]}), "
                                      f"haia {report['haia_version']}"],
            "clinical_trial": todo("developer"), "peer_reviewed_publications": todo("developer"),
            "reimbursement_status": todo("deployer"),
            "patient_consent_or_disclosure": todo("deployer")},
    }


def model_card_markdown(card: dict[str, Any]) -> str:
    """The model card as Markdown, for people."""
    lines = [f"# Model card: {card['basic_info']['model_name']}", "",
             f"_{card['schema']}. Fields marked {TODO} must be completed by the named party._",
             ""]

    def emit(value: Any, depth: int) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(inner, dict | list):
                    lines.append(f"{'#' * min(depth + 2, 6)} {key.replace('_', ' ').capitalize()}")
                    lines.append("")
                    emit(inner, depth + 1)
                else:
                    lines.append(f"- **{key.replace('_', ' ')}**: {inner}")
            lines.append("")
        elif isinstance(value, list):
            for inner in value or ["(none)"]:
                if isinstance(inner, dict):
                    lines.append("- " + "; ".join(f"**{k.replace('_', ' ')}**: {v}"
                                                  for k, v in inner.items()))
                else:
                    lines.append(f"- {inner}")
            lines.append("")
        else:
            lines.extend([str(value), ""])

    for key, value in card.items():
        if key in {"schema"}:
            continue
        lines.append(f"## {key.replace('_', ' ').capitalize()}")
        lines.append("")
        emit(value, 1)
    return "\n".join(lines).rstrip() + "\n"


def annex_iv(report: dict[str, Any]) -> str:
    """An outline of EU AI Act (Reg. 2024/1689) Annex IV technical documentation, as Markdown,
    with what this audit supplies and what the provider must complete."""
    card = report["model_card"]
    model, system = card["model"], card.get("system") or {}
    run, rep = report["run"], report["reproducibility"]
    verdicts = "\n".join(f"  - {row['title']}: **{row['verdict'].replace('_', ' ')}** "
                         f"({row['rule']})" for row in report["scorecard"])
    findings = "\n".join(f"  - [{f['severity']}] {f['plain']}"
                         for f in report["top_findings"]) or "  - none"
    limits = "\n".join(f"  - {item}" for item in report["limits"])
    groups = sorted({m["attribute"] for m in report["metrics"] if m["attribute"] != "overall"})
    suites = ", ".join(f"{s['name']} {s['version']} (sha256 {s.get('hash')})"
                       for s in rep["suites"])
    signed = report.get("signature")
    provider = todo("provider")
    name = system.get("name") or model["name"]
    if system.get("version"):
        name += f" version {system['version']}"
    signed_text = (f"yes, {signed.get('algorithm')} key {signed.get('fingerprint')}" if signed
                   else f"no ({TODO} (auditor): sign with haia report --sign-key)")
    injection = any(m["metric"] == "injection_followed" for m in report["metrics"])
    security = ("prompt-injection probes audited (injection_followed)" if injection
                else f"{TODO} (provider); haia's robustness suite tests prompt injection")
    return f"""# EU AI Act Annex IV technical documentation: outline

System: **{name}**.
Drafted by haia {report['haia_version']} from audit `{run['run_id']}` ({run['created'][:10]}).
Items marked **{TODO}** must be written by the party named; the rest comes from the audit and
must be checked by the provider. This outline is not a conformity assessment.

## 1. General description of the AI system
- (a) Intended purpose, provider, version: {system.get('intended_use') or provider}; provider
  {system.get('developer') or model.get('provider') or provider}; model {model['name']},
  version {system.get('version') or model.get('version') or provider}.
- (b) Interaction with hardware, software and other AI systems: {provider}
- (c) Versions of relevant software or firmware, update requirements: {provider}
- (d) Forms in which the system is placed on the market or put into service: {provider}
- (e) Hardware on which it is intended to run: {provider}
- (f) Photographs or illustrations of products it is a component of: {provider} (if any)
- (g) User interface for the deployer: {provider}
- (h) Instructions for use for the deployer (Art. 13): {provider}

## 2. Detailed description of the elements and of the development process
- (a) Methods and steps of development, pre-trained systems or third-party tools used: {provider}
- (b) Design specifications, general logic, key design choices: {provider}
- (c) System architecture and computational resources: {provider}
- (d) Data requirements and datasheets of training data (Art. 10): {provider}
- (e) Human oversight measures (Art. 14): {provider}
- (f) Pre-determined changes and continuous compliance: {provider}
- (g) Validation and testing procedures, metrics, test logs and reports, dated and signed:
  - Independent audit with haia, run `{run['run_id']}`, {rep['started']} to {rep['finished']}.
  - Suites: {suites}.
  - Parameters: {', '.join(f'{k} {v}' for k, v in rep['parameters'].items() if v is not None)}.
  - Metrics: every metric overall and per group with 95% bootstrap intervals; counterfactual
    gaps corrected together ({rep.get('correction')}, alpha {rep.get('alpha')}).
  - Report signed: {signed_text}.
  - Potentially discriminatory impacts: {report['equity']['tested']} counterfactual
    comparisons, {report['equity']['findings']} findings.
- (h) Cybersecurity measures (Art. 15(5)): {security}

## 3. Monitoring, functioning and control
- Capabilities and limitations in performance, including accuracy for the persons or groups on
  which it is intended to be used (results per group: {', '.join(groups) or 'none in this audit'}):
{verdicts}
- Most important findings:
{findings}
- Foreseeable unintended outcomes and sources of risk; what this audit could not detect:
{limits}
- Human oversight measures and technical measures to help deployers interpret outputs: {provider}
- Specifications of input data: {provider}

## 4. Appropriateness of the performance metrics
- haia's thresholds, each with its reason, are in its thresholds files
  ({rep.get('thresholds_file') or 'bundled defaults'}); {provider}: say why they fit the
  intended purpose.

## 5. Risk management system (Art. 9)
- {provider}; the findings above are inputs to it.

## 6. Relevant changes made through the life cycle
- {provider}; re-run this audit after each change and compare (`haia compare RUN_A RUN_B`).

## 7. Harmonised standards or other specifications applied
- {provider}

## 8. Copy of the EU declaration of conformity (Art. 47)
- {provider}

## 9. Post-market monitoring system and plan (Art. 72)
- {provider}; the metrics mapped to Art. 72 in this report are the ones to re-run during use.
"""
