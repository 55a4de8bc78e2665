"""The report as a PDF (fpdf2): summary, WHO scorecard, findings, and per-group metrics with
their intervals, for committees that file paper. Built from the same report dict as the JSON and
HTML, so the three never disagree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

# The PDF core fonts are Latin-1: the few other characters haia writes are spelled out.
_PLAIN = str.maketrans({"–": "-", "—": "-", "≥": ">=", "≤": "<=", "α": "alpha", "×": "x",
                        "“": '"', "”": '"', "’": "'", "‘": "'", "…": "...", "→": "->",
                        "•": "-", "κ": "kappa"})


def plain(text: Any) -> str:
    """``text`` in characters the core PDF fonts can show (others become ``?``)."""
    return str(text).translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


class _Report(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.title_text = title
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(14, 14, 14)

    def header(self) -> None:
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 5, plain(self.title_text), new_x="LMARGIN", new_y="NEXT", align="R")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 5, f"page {self.page_no()}/{{nb}}", align="C")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Helvetica", "B", 13)
        self.cell(0, 8, plain(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 9)

    def paragraph(self, text: str) -> None:
        self.set_font("Helvetica", "", 9)
        self.multi_cell(0, 4.5, plain(text), new_x="LMARGIN", new_y="NEXT")

    def grid(self, header: list[str], rows: list[list[Any]], widths: tuple[int, ...]) -> None:
        self.set_font("Helvetica", "", 8)
        bold = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
        with self.table(col_widths=widths, headings_style=bold, line_height=4.5,
                        text_align="LEFT") as table:
            table.row([plain(h) for h in header])
            for values in rows:
                table.row([plain(_fmt(v)) for v in values])


def render_pdf(report: dict[str, Any], path: Path, *, max_group_rows: int = 400) -> None:
    """Write ``report`` as a PDF at ``path``."""
    run = report["run"]
    pdf = _Report(f"haia audit {run['run_id']} - {run['suite']} on {run['model']}")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, plain(f"Audit report: {run['suite']} on {run['model']}"),
             new_x="LMARGIN", new_y="NEXT")
    counts = run["counts"]
    pdf.paragraph(
        f"Run {run['run_id']}, {run['created']} - {run.get('finished') or 'unfinished'}; "
        f"haia {report['haia_version']}. Suite {run['suite']} {run['suite_version']} "
        f"(sha256 {run['suite_hash'][:16]}...). {counts['items']} items, {counts['responses']} "
        f"responses: {counts['ok']} answered, {counts['errors']} failed, {counts['skipped']} "
        f"skipped (input the model cannot take).")
    for suite in report["suites"]:
        pdf.paragraph(f"{suite['description']} Provenance: {suite['provenance']} "
                      f"Licence: {suite['licence']}.")

    pdf.heading("WHO principles scorecard")
    pdf.grid(["WHO principle", "assessed by", "findings", "worst"],
             [[row["title"], ", ".join(row["metrics"]) or "not assessed by this run",
               ", ".join(f"{n} {s}" for s, n in row["findings"].items()) or "none",
               row["worst"] or "-"] for row in report["scorecard"]], (50, 70, 40, 22))

    pdf.heading("Findings")
    if report["findings"]:
        pdf.grid(["severity", "finding", "WHO principles", "evidence"],
                 [[f["severity"], f["message"], ", ".join(f["principles"]),
                   ", ".join(f["evidence"][:5]) + (" ..." if len(f["evidence"]) > 5 else "")]
                  for f in report["findings"]], (18, 96, 32, 36))
    else:
        pdf.paragraph("No metric crossed a threshold.")

    pdf.heading("Metrics overall (95% bootstrap intervals)")
    overall = [m for m in report["metrics"] if m["attribute"] == "overall"]
    pdf.grid(["metric", "value", "95% CI", "n", "missing"],
             [[m["metric"], m["value"], _ci(m), m["n"], m["n_missing"]] for m in overall],
             (62, 30, 50, 20, 20))

    grouped = [m for m in report["metrics"] if m["attribute"] != "overall"]
    if grouped:
        pdf.heading("Metrics by population group")
        shown = grouped[:max_group_rows]
        pdf.grid(["metric", "attribute", "group", "value", "95% CI", "n"],
                 [[m["metric"], m["attribute"], m["group"], m["value"], _ci(m), m["n"]]
                  for m in shown], (40, 34, 46, 20, 30, 12))
        if len(grouped) > len(shown):
            pdf.paragraph(f"... and {len(grouped) - len(shown)} more rows in report.json.")

    comparisons = sorted(report.get("comparisons", []), key=lambda c: (
        c["relevant"], 1.0 if c["p_adjusted"] is None else c["p_adjusted"]))
    if comparisons:
        pdf.heading("Counterfactual comparisons")
        pdf.paragraph(f"{len(comparisons)} paired comparisons (each group against the consensus "
                      "answer of the same case), p-values adjusted by step-down maxT; the 30 "
                      "smallest corrected p-values are listed. Gap findings above apply both "
                      "the significance and the practical threshold.")
        pdf.grid(["outcome", "group", "versus", "effect", "95% CI", "p adj."],
                 [[c["metric"], f"{c['attribute']}={c['group']}", c["reference"], c["effect"],
                   _ci(c), c["p_adjusted"]] for c in comparisons[:30]],
                 (36, 54, 22, 20, 30, 20))

    sustainability = report.get("sustainability") or {}
    if sustainability:
        pdf.heading("Cost and energy (per 1,000 queries)")
        pdf.paragraph("; ".join(f"{k}: {_fmt(v)}" for k, v in sustainability.items()
                                if not isinstance(v, dict | list)))
    pdf.output(str(path))


def _ci(m: dict[str, Any]) -> str:
    if m.get("ci_low") is None or m.get("ci_high") is None:
        return "-"
    return f"{m['ci_low']:.3g} - {m['ci_high']:.3g}"

