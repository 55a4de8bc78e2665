"""Every format rendered from one fixed run; report.json against the published schema; the
exports; ``haia report`` regenerating a chosen format from the run store."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from tests.conftest import run_haia

from haia.report.schema import report_schema, validate


def test_every_format_is_written(fixed_run: dict) -> None:
    folder: Path = fixed_run["dir"]
    for name in ("report.json", "report.html", "report.pdf", "model-card.json", "model-card.md",
                 "annex-iv.md"):
        assert (folder / name).stat().st_size > 500, name
    assert (folder / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_report_json_validates_against_the_schema(fixed_run: dict) -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(report_schema())
    assert validate(fixed_run["report"]) == []


def test_schema_rejects_what_it_should(fixed_run: dict) -> None:
    report = json.loads(json.dumps(fixed_run["report"]))
    report["scorecard"][0]["verdict"] = "pass"
    del report["findings"][0]["plain"]
    report["summary_line"] = "<built-in method items of dict object at 0x7f> items"
    errors = validate(report)
    assert any(e.startswith("scorecard/0/verdict") for e in errors), errors
    assert any(e.startswith("findings/0") and "plain" in e for e in errors), errors
    assert any(e.startswith("summary_line") for e in errors), errors


def test_schema_tolerates_fields_other_stages_add(fixed_run: dict) -> None:
    report = json.loads(json.dumps(fixed_run["report"]))
    report["model_card"]["system"] = {"name": "TriageBot", "version": "2.1", "auditor": "ann"}
    report["equity"]["minimum_detectable"] = [{"metric": "analgesic", "gap": 0.12}]
    report["findings"][0]["agreement"] = {"kappa": 0.8}
    report["reproducibility"]["reviews"] = [{"suite": "report-fixture", "reviewer": "x"}]
    report["something_new"] = {"a": 1}
    assert validate(report) == []


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables = 0
        self.tables_with_th = 0
        self._table_has_th: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._table_has_th.append(False)
        elif tag == "th" and self._table_has_th:
            self._table_has_th[-1] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.tables += 1
            self.tables_with_th += self._table_has_th.pop()


def test_html_is_self_contained_and_accessible(fixed_run: dict) -> None:
    html = (fixed_run["dir"] / "report.html").read_text(encoding="utf-8")
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    parser = _Structure()
    parser.feed(html)
    names = [t for t, _ in parser.tags]
    assert names.count("h1") == 1 and names.count("h2") >= 5
    assert parser.tables >= 5 and parser.tables == parser.tables_with_th
    svgs = [a for t, a in parser.tags if t == "svg"]
    assert len(svgs) >= 4  # forest plots, accuracy by specialty and application, cost
    assert all(a.get("role") == "img" and len(a.get("aria-label") or "") > 40 for a in svgs)
    assert '<html lang="en">' in html


def test_summary_line_bug_is_fixed(fixed_run: dict) -> None:
    """The first line used to read '<built-in method items of dict object at 0x…> items'."""
    html = (fixed_run["dir"] / "report.html").read_text(encoding="utf-8")
    report = fixed_run["report"]
    assert "built-in method" not in html and "object at 0x" not in html
    lede = re.search(r'<p class="lede">(.*?)</p>', html, re.S)
    assert lede is not None
    items = report["run"]["counts"]["items"]
    assert f"({items} items, {report['run']['counts']['ok']} answered)" in lede.group(1)
    assert f"{report['suites'][0]['n_items']} items" in html


def test_page_one_content_in_json(fixed_run: dict) -> None:
    report = fixed_run["report"]
    model = report["model_card"]["model"]
    assert model["name"] == "fixture-model" and model["endpoint_host"].startswith("127.0.0.1:")
    assert "@http" not in report["run"]["model"]  # no URL path or credentials in the spec
    verdicts = {row["principle"]: row["verdict"] for row in report["scorecard"]}
    assert verdicts["equity"] == "fails"  # the planted pain-relief gap
    assert verdicts["wellbeing_safety"] == "fails"  # cardiology and typo'd questions
    assert verdicts["sustainability"] == "not_assessed"  # cost has no thresholds
    top = report["top_findings"]
    assert top and top[0]["severity"] == "high"
    black = [f for f in top if (f["metric"], f["group"]) == ("analgesic", "black")]
    assert black and len(black[0]["ids"]) == 1  # one comparison: against the consensus
    assert "Black patient" in black[0]["plain"] and "less often" in black[0]["plain"]
    assert report["limits"] and report["actions"][0].startswith("Do not approve")


def test_model_card_and_annex_iv(fixed_run: dict) -> None:
    folder: Path = fixed_run["dir"]
    card = json.loads((folder / "model-card.json").read_text(encoding="utf-8"))
    for section in ("basic_info", "release_info", "summary", "uses_and_directions", "warnings",
                    "trust_ingredients", "key_metrics", "resources"):
        assert section in card
    assert card["basic_info"]["model_name"] == "fixture-model"
    metrics = card["key_metrics"]
    assert {m["metric"] for m in metrics["usefulness_usability_efficacy"]} >= {"accuracy"}
    assert "Black patient" in json.dumps(metrics["fairness_equity"])
    assert "TO COMPLETE" in card["release_info"]["regulatory_approval"]
    text = (folder / "annex-iv.md").read_text(encoding="utf-8")
    for n in range(1, 10):
        assert f"\n## {n}. " in text
    assert text.count("TO COMPLETE") >= 10
    assert fixed_run["run_id"] in text and "Black patient" in text


def test_haia_report_regenerates_one_format(fixed_run: dict, tmp_path: Path) -> None:
    env = {"HAIA_HOME": str(fixed_run["home"])}
    result = run_haia("report", fixed_run["run_id"], "--format", "json", "--out",
                      str(tmp_path / "j"), env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "j").iterdir()) == ["report.json"]
    again = json.loads((tmp_path / "j" / "report.json").read_text(encoding="utf-8"))
    first = fixed_run["report"]
    assert again["findings"] == first["findings"] and again["metrics"] == first["metrics"]
    result = run_haia("report", fixed_run["run_id"], "--format", "html,annex-iv", "--out",
                      str(tmp_path / "h"), env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == ["annex-iv.md", "report.html"]


def test_haia_report_bad_input_is_one_line(fixed_run: dict, tmp_path: Path) -> None:
    env = {"HAIA_HOME": str(fixed_run["home"])}
    for args in (["no-such-run"], [fixed_run["run_id"], "--format", "docx"]):
        result = run_haia("report", *args, "--out", str(tmp_path), env=env)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
