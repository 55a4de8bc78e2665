"""The report as a PDF (fpdf2), from the same report dict and the same charts as the HTML: page
one for the committee, the charts, every finding, and an appendix for auditors whose long tables
run over as many pages as they need (nothing is cut).

Text is set in DejaVu Sans, which ships with matplotlib, so any character haia writes prints.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from haia.report import labels
from haia.report.sections import metric_sections, sorted_comparisons

SEVERITY_RGB = {"critical": (125, 10, 30), "high": (179, 38, 30), "medium": (160, 64, 0),
                "low": (122, 86, 0), "info": (80, 89, 98)}
VERDICT_RGB = {"fails": (179, 38, 30), "concern": (138, 82, 0), "meets": (23, 105, 47),
               "not_assessed": (80, 89, 98)}
FONT = "DejaVu"
TESTS = {"sign_flip_permutation": "sign-flip", "mcnemar_exact": "McNemar"}


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def _ci(m: dict[str, Any]) -> str:
    if m.get("ci_low") is None or m.get("ci_high") is None:
        return "-"
    return f"{m['ci_low']:.3g} to {m['ci_high']:.3g}"


class _Report(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.title_text = title
        fonts = _font_dir()
        self.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.add_font(FONT, "I", str(fonts / "DejaVuSans-Oblique.ttf"))
        self.set_auto_page_break(auto=True, margin=14)
        self.set_margins(14, 12, 14)
        self.set_title(title)
        self.set_creator("haia")
        self.set_lang("en")

    def header(self) -> None:
        self.set_font(FONT, "I", 7)
        self.set_text_color(80, 89, 98)
        self.cell(0, 4, self.title_text, new_x="LMARGIN", new_y="NEXT", align="R")
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, "I", 7)
        self.set_text_color(80, 89, 98)
        self.cell(0, 4, f"page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str, size: float = 12) -> None:
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(2)
        self.set_font(FONT, "B", size)
        self.start_section(text, level=0 if size >= 12 else 1)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(0.5)

    def paragraph(self, text: str, size: float = 8.5, style: str = "") -> None:
        self.set_font(FONT, style, size)
        self.multi_cell(0, size * 0.48, text, new_x="LMARGIN", new_y="NEXT", align="L")

    def badge_line(self, badge: str, rgb: tuple[int, int, int], text: str) -> None:
        self.set_font(FONT, "B", 7.5)
        width = self.get_string_width(badge) + 3
        self.set_fill_color(*rgb)
        self.set_text_color(255, 255, 255)
        x, y = self.get_x(), self.get_y()
        self.cell(width, 4.2, badge, fill=True, align="C")
        self.set_text_color(0, 0, 0)
        self.set_fill_color(255, 255, 255)
        self.set_xy(x + width + 1.5, y)
        self.set_font(FONT, "", 8.5)
        self.multi_cell(0, 4.2, text, new_x="LMARGIN", new_y="NEXT", align="L")
        self.ln(0.8)

    def grid(self, header: list[str], rows: list[list[Any]], widths: tuple[float, ...],
             size: float = 7.5) -> None:
        self.set_font(FONT, "", size)
        bold = FontFace(emphasis="BOLD", fill_color=(230, 233, 237))
        self.set_fill_color(255, 255, 255)
        with self.table(col_widths=widths, headings_style=bold, line_height=size * 0.5,
                        text_align="LEFT", repeat_headings=1, cell_fill_mode="NONE"
                        ) as table:
            table.row(header)
            for values in rows:
                table.row([_fmt(v) for v in values])
        self.ln(1)

    def pairs(self, rows: list[tuple[str, str]]) -> None:
        for key, value in rows:
            self.set_font(FONT, "B", 8)
            self.cell(30, 4.3, key)
            self.set_font(FONT, "", 8)
            self.multi_cell(0, 4.3, value, new_x="LMARGIN", new_y="NEXT")


def _page_one(pdf: _Report, report: dict[str, Any]) -> None:
    run, card = report["run"], report["model_card"]
    model, counts = card["model"], report["run"]["counts"]
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 7, f"Audit report: {model['name']}", new_x="LMARGIN", new_y="NEXT")
    pdf.paragraph(report["summary_line"], size=9)
    pdf.ln(1)
    pdf.heading("What was audited, on which model", 10)
    suites = "; ".join(f"{s['name']} version {s['version']} ({s['n_items']} items)"
                       for s in report["suites"])
    facts = [("Suite", suites),
             ("Answers", f"{counts['responses']} requests: {counts['ok']} answered, "
                         f"{counts['errors']} failed, {counts['skipped']} skipped"),
             ("Dates", f"{run['created'][:16].replace('T', ' ')} to "
                       f"{(run.get('finished') or 'unfinished')[:16].replace('T', ' ')} UTC"),
             ("Audit", f"Run {run['run_id']}, haia {report['haia_version']}"),
             ("Model", model["name"]), ("Provider", model.get("provider") or "not stated"),
             ("Version", model.get("version") or "not stated by the endpoint")]
    if model.get("endpoint_host"):
        facts.append(("Endpoint", model["endpoint_host"]))
    system = card.get("system") or {}
    if system:
        facts.append(("System", " ".join(str(x) for x in (
            system.get("name"), system.get("version") and f"version {system['version']}",
            system.get("status") and f"({system['status']})") if x)))
        for key, label in (("developer", "Developer"), ("intended_use", "Intended use"),
                           ("deployment", "Deployment"), ("auditor", "Auditor"),
                           ("independence", "Independence")):
            if system.get(key):
                facts.append((label, str(system[key])))
    else:
        facts.append(("System", "not attached to a registered system"))
    pdf.pairs(facts)

    pdf.heading("Verdict per WHO principle", 10)
    for row in report["scorecard"]:
        verdict = row["verdict"].replace("_", " ")
        pdf.badge_line(verdict, VERDICT_RGB.get(row["verdict"], (80, 89, 98)),
                       f"{row['title']}: {row['rule']}")

    pdf.heading("Top findings", 10)
    if report["top_findings"]:
        for f in report["top_findings"]:
            pdf.badge_line(f["severity"], SEVERITY_RGB.get(f["severity"], (80, 89, 98)),
                           f["plain"])
        more = report.get("distinct_findings", 0) - len(report["top_findings"])
        if more > 0:
            pdf.paragraph(f"{more} more under 'All findings'.", size=7.5, style="I")
    else:
        pdf.paragraph("No metric crossed a threshold. A principle that was not assessed has "
                      "not passed.")
    pdf.heading("What to do", 10)
    for action in report["actions"]:
        pdf.paragraph(f"• {action}")
    pdf.heading("What this audit could not have detected", 10)
    for limit in report["limits"]:
        pdf.paragraph(f"• {limit}", size=8)


def _charts(pdf: _Report, charts: list[Any]) -> None:
    if not charts:
        return
    pdf.add_page()
    pdf.heading("Charts")
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for chart in charts:
        from PIL import Image

        with Image.open(io.BytesIO(chart.png)) as img:
            height = width * img.height / img.width
        if pdf.get_y() + height + 14 > pdf.h - pdf.b_margin:
            pdf.add_page()
        pdf.set_font(FONT, "B", 9)
        pdf.multi_cell(0, 4.5, chart.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "I", 8)
        pdf.multi_cell(0, 4.2, chart.question, new_x="LMARGIN", new_y="NEXT")
        pdf.image(io.BytesIO(chart.png), w=width, alt_text=chart.alt)
        pdf.paragraph(chart.alt + (f" {chart.note}" if chart.note else ""), size=7)
        pdf.ln(2)


def _evidence(items: list[str], shown: int = 3) -> str:
    if not items:
        return "-"
    if len(items) <= shown:
        return ", ".join(items)
    return f"{', '.join(items[:shown])} and {len(items) - shown} more (all in report.json)"


def _findings(pdf: _Report, report: dict[str, Any]) -> None:
    pdf.heading("All findings")
    if not report["findings"]:
        pdf.paragraph("No metric crossed a threshold.")
        return
    pdf.grid(["severity", "finding", "WHO principles", "evidence (items)"],
             [[f["severity"], f"{f['plain']}\n{f['id']}",
               ", ".join(p.replace("_", " ") for p in f["principles"]),
               _evidence(f["evidence"])]
              for f in report["findings"]], (16, 110, 26, 30))


def _equity_and_cost(pdf: _Report, report: dict[str, Any]) -> None:
    demo = [d for d in report.get("disparities") or [] if d.get("demographic")]
    eq = report.get("equity") or {}
    if report.get("comparisons") or demo:
        pdf.heading("Equity between patient groups")
        if report.get("comparisons"):
            pdf.paragraph(f"{eq.get('tested', 0)} counterfactual comparisons tested on "
                          f"{len(eq.get('outcomes', []))} outcome(s); {eq.get('findings', 0)} "
                          "became findings. Every comparison is listed in the appendix.")
        detectable = eq.get("minimum_detectable") or []
        if detectable:
            keys = list(detectable[0].keys())
            pdf.grid([labels.words(k) for k in keys], [[d.get(k) for k in keys]
                                                       for d in detectable],
                     tuple([182 / len(keys)] * len(keys)))
        if demo:
            pdf.paragraph("Between-group disparities (Fairlearn MetricFrame), demographic "
                          "attributes only:", style="B")
            pdf.grid(["outcome", "attribute", "largest difference", "smallest ratio", "groups"],
                     [[labels.metric_label(d["metric"]), labels.attribute_label(d["attribute"]),
                       d["difference"], d["ratio"], len(d["by_group"])]
                      for d in sorted(demo, key=lambda d: -(d["difference"] or 0))],
                     (60, 40, 30, 30, 22))
    sus = report.get("sustainability") or {}
    if sus:
        pdf.heading("Cost and energy (per 1,000 queries)")
        pdf.paragraph(
            f"{_fmt(sus.get('tokens_per_query'))} tokens per query; latency p50 "
            f"{_fmt(sus.get('latency_p50_s'))} s, p95 {_fmt(sus.get('latency_p95_s'))} s; cost "
            f"US$ {_fmt(sus.get('cost_usd_per_1k'))}; energy {_fmt(sus.get('energy_wh_per_1k'))}"
            f" Wh; emissions {_fmt(sus.get('emissions_g_per_1k'))} g CO2e. Energy "
            f"{sus.get('energy_method', '')}. These figures have no thresholds: they inform, "
            "they do not pass or fail.")


def _appendix(pdf: _Report, report: dict[str, Any]) -> None:
    pdf.add_page()
    pdf.heading("Appendix for auditors")
    pdf.heading("Every metric, per group, with its 95% interval", 10)
    rows = []
    for section in metric_sections(report):
        for attr in section["attributes"]:
            for m in attr["rows"]:
                rows.append([section["metric"], attr["attribute"], m["group"], m["value"],
                             _ci(m), m["n"], m["n_missing"]])
    pdf.grid(["metric", "attribute", "group", "value", "95% CI", "n", "unscorable"], rows,
             (38, 30, 46, 16, 28, 10, 14), size=7)
    comparisons = sorted_comparisons(report)
    if comparisons:
        pdf.heading(f"Counterfactual comparisons: all {len(comparisons)}, smallest adjusted p "
                    "first", 10)
        pdf.paragraph("Effect = mean paired difference (group minus reference) over vignette "
                      "families, 95% bootstrap interval; p-values corrected together "
                      f"({report['reproducibility'].get('correction')}). 'relevant': the "
                      "attribute is clinically relevant to the case, never judged as bias.",
                      size=7.5)
        pdf.grid(["outcome", "group", "vs", "effect", "95% CI", "test", "p adj.", "families"],
                 [[c["metric"], f"{c['attribute']}={c['group']}"
                   + (" (relevant)" if c.get("relevant") else ""), c["reference"],
                   f"{c['effect']:+.3f}", _ci(c), TESTS.get(c.get("test"), c.get("test")),
                   _fmt(c.get("p_adjusted")), c["n_families"]] for c in comparisons],
                 (28, 50, 14, 14, 26, 24, 14, 12), size=6.5)
    frameworks = report.get("frameworks") or {}
    if frameworks:
        pdf.heading("Framework mappings (once per metric)", 10)
        pdf.grid(["metric", "WHO", "EU AI Act", "NIST AI RMF / AI 600-1"],
                 [[metric, ", ".join(m.get("who", [])), "; ".join(m.get("eu_ai_act", [])),
                   "; ".join([*m.get("nist_ai_rmf", []), *m.get("nist_600_1", [])])]
                  for metric, m in frameworks.items()], (34, 34, 64, 50), size=6.5)
    rep = report["reproducibility"]
    pdf.heading("Reproducibility", 10)
    facts = [("haia", str(rep["haia_version"]))]
    facts += [("Suite", f"{s['name']} {s['version']}, {s.get('n_items')} items, sha256 "
                        f"{s.get('hash')}") for s in rep["suites"]]
    facts += [("Model", str(rep["model"])),
              ("Parameters", ", ".join(f"{k} {v}" for k, v in rep["parameters"].items()
                                       if v is not None)),
              ("Started", str(rep["started"])), ("Finished", str(rep["finished"] or "-")),
              ("Duration", f"{_fmt(rep.get('duration_s'))} s"),
              ("Tokens", f"{rep['tokens']['prompt_tokens']} prompt, "
                         f"{rep['tokens']['completion_tokens']} completion"),
              ("Statistics", f"{rep.get('correction')} correction at alpha {rep.get('alpha')}; "
                             f"thresholds {rep.get('thresholds_file') or 'bundled defaults'}")]
    facts += [("Suite review", "; ".join(f"{k}: {v}" for k, v in r.items()))
              for r in rep.get("reviews") or []]
    pdf.pairs(facts)
    pdf.heading("Signature", 10)
    sig = report.get("signature")
    if sig:
        pdf.pairs([("Signed by", str(sig.get("signer"))),
                   ("Key", f"{sig.get('algorithm')}, fingerprint {sig.get('fingerprint')}"),
                   ("Files", ", ".join(sig.get("files", [])) + " (a .sig beside each)"),
                   ("Check", str(sig.get("verify")))])
    else:
        pdf.paragraph("Not signed (haia audit --sign-key KEY, or haia report RUN_ID --sign-key "
                      "KEY).")
    pdf.heading("About the suites", 10)
    for suite in report["suites"]:
        pdf.paragraph(f"{suite['name']} {suite['version']}: {suite['description']} Provenance: "
                      f"{suite['provenance']} Licence: {suite['licence']}.", size=8)


_BLANK: list[_Report] = []  # one document with its fonts loaded, made ahead by prepare()


def prepare() -> None:
    """Load the fonts of the next PDF ahead (an audit's import-warming thread does it while
    the model answers: parsing the three TrueType files is a tenth of the PDF's time)."""
    if not _BLANK:
        _BLANK.append(_Report(""))


def _document(title: str) -> _Report:
    pdf = _BLANK.pop() if _BLANK else _Report(title)
    pdf.title_text = title
    pdf.set_title(title)
    return pdf


def render_pdf(report: dict[str, Any], charts: list[Any] | None = None) -> bytes:
    """The report as PDF bytes."""
    from haia.report.charts import build_charts

    charts = build_charts(report) if charts is None else charts
    run = report["run"]
    pdf = _document(f"haia audit {run['run_id']}: {report['model_card']['model']['name']} on "
                    f"{run['suite']}")
    pdf.alias_nb_pages()
    pdf.add_page()
    _page_one(pdf, report)
    _charts(pdf, charts)
    _findings(pdf, report)
    _equity_and_cost(pdf, report)
    _appendix(pdf, report)
    return bytes(pdf.output())
