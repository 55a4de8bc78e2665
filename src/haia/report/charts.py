"""Charts that answer a committee's questions, drawn with matplotlib from the report data: the
same figures go into the HTML (SVG) and the PDF (PNG).

- Which patient groups are treated differently, and by how much? A forest plot of counterfactual
  gaps with their intervals, largest first, findings in red.
- Where is the model accurate? Accuracy by specialty and by WHO application area.
- Does a change of wording change the answer? Accuracy lost per perturbation.
- What does it cost? Tokens, energy and cost per 1,000 queries.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from haia.report.labels import (
    attribute_label,
    metric_kind,
    metric_label,
    short_group,
    short_outcome,
)

FINDING = "#b3261e"  # red, 6.4:1 on white
NORMAL = "#1f4e8c"  # blue, 8.6:1 on white
MUTED = "#4d4d4d"
MAX_FOREST_ROWS = 25
MAX_BAR_ROWS = 30


@dataclass
class Chart:
    """One figure: what question it answers, its alt text, and its SVG and PNG renderings."""

    id: str
    title: str
    question: str
    alt: str
    svg: str = ""
    png: bytes = b""
    note: str = ""
    data: list[dict[str, Any]] = field(default_factory=list)


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "font.family": "DejaVu Sans", "svg.fonttype": "none",
                         "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "haia"})
    return plt


KINDS: set[str] = {"svg", "png"}
"""Which renderings ``build_charts`` makes (the HTML needs SVG, the PDF PNG)."""


def _render(chart: Chart, fig: Any) -> Chart:
    plt = _plt()
    fig.tight_layout()
    if "svg" in KINDS:
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        chart.svg = buf.getvalue()
    if "png" in KINDS:
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=130)
        chart.png = png.getvalue()
    plt.close(fig)
    return chart


def _gap_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (outcome, group): the comparison that is a finding if any (the control
    first), else the one against the control, else the one against the other groups."""
    severity = {f["id"]: f["severity"] for f in report.get("findings", [])
                if f.get("kind") == "gap"}
    best: dict[tuple[str, str, str], dict[str, Any]] = {}
    for c in report.get("comparisons") or []:
        if c.get("relevant") or c.get("ci_low") is None or c.get("ci_high") is None:
            continue
        key = (c["metric"], c["attribute"], c["group"])
        fid = f"{c['suite']}/{c['metric']}/{c['attribute']}={c['group']}/vs-{c['reference']}"
        row = {**c, "finding": fid in severity, "severity": severity.get(fid)}
        rank = (row["finding"], c["reference"] == "control")
        old = best.get(key)
        if old is None or rank > (old["finding"], old["reference"] == "control"):
            best[key] = row
    return sorted(best.values(), key=lambda r: -abs(r["effect"]))


def forest(report: dict[str, Any], ordinal: bool) -> Chart | None:
    rows = [r for r in _gap_rows(report) if (metric_kind(r["metric"]) == "ordinal") == ordinal]
    flat = [r for r in rows if r["effect"] == 0 and r["ci_low"] == 0 == r["ci_high"]]
    rows = [r for r in rows if r not in flat]
    if not rows:
        return None
    total, shown = len(rows), rows[:MAX_FOREST_ROWS]
    found = sum(r["finding"] for r in rows)
    scale = 1.0 if ordinal else 100.0
    unit = "levels" if ordinal else "percentage points"
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8.5, 1.0 + 0.24 * len(shown)))
    for y, r in enumerate(reversed(shown)):
        color = FINDING if r["finding"] else NORMAL
        ax.errorbar(r["effect"] * scale, y, xerr=[[(r["effect"] - r["ci_low"]) * scale],
                                                  [(r["ci_high"] - r["effect"]) * scale]],
                    fmt="s" if r["finding"] else "o", color=color, ms=5, capsize=2, lw=1.2)
    labels = [f"{short_group(r['attribute'], r['group'])[:48]}: {short_outcome(r['metric'])}"
              + (" (vs others)" if r["reference"] == "others" else "") for r in reversed(shown)]
    ax.set_yticks(range(len(shown)), labels)
    for tick, r in zip(ax.get_yticklabels(), reversed(shown), strict=True):
        if r["finding"]:
            tick.set_color(FINDING)
            tick.set_fontweight("bold")
    ax.axvline(0, color=MUTED, lw=0.8)
    others = any(r["reference"] == "others" for r in shown)
    consensus = any(r["reference"] == "consensus" for r in shown)
    ax.set_xlabel(f"gap ({unit}): group minus "
                  + ("the other renderings of the same case" if consensus
                     else "the same case with no demographic detail")
                  + ("\n(rows marked 'vs others': minus the other groups' mean)" if others else ""))
    ax.set_ylim(-0.7, len(shown) - 0.3)
    kind = "ordinal outcomes" if ordinal else "decisions"
    title = f"Gaps between patient groups ({kind}), largest first"
    top = shown[0]
    alt = (f"Forest plot of {len(shown)} of {total} gaps in {kind} between patient groups, "
           f"sorted by size, with 95% intervals; {found} are findings (red squares). Largest: "
           f"{metric_label(top['metric'])} for {short_group(top['attribute'], top['group'])}, "
           f"{top['effect'] * scale:+.1f} {unit} (95% CI {top['ci_low'] * scale:+.1f} to "
           f"{top['ci_high'] * scale:+.1f}).")
    notes = []
    if total > len(shown):
        notes.append(f"The {len(shown)} largest of {total} gaps are drawn; every comparison is "
                     "in the appendix table.")
    if flat:
        notes.append(f"{len(flat)} comparison(s) with no difference at all are not drawn.")
    note = " ".join(notes)
    chart = Chart(f"forest-{'ordinal' if ordinal else 'binary'}", title,
                  "Which patient groups are treated differently, and by how much?", alt,
                  note=note, data=[{k: r[k] for k in ("metric", "attribute", "group",
                                                       "reference", "effect", "ci_low",
                                                       "ci_high", "finding")} for r in shown])
    return _render(chart, fig)


def by_group(report: dict[str, Any], metric: str, attribute: str) -> Chart | None:
    rows = [m for m in report["metrics"] if m["metric"] == metric
            and m["attribute"] == attribute and m.get("value") is not None]
    if len(rows) < 2:
        return None
    hits = {(f["metric"], f["attribute"], f["group"]) for f in report.get("findings", [])}
    rows = sorted(rows, key=lambda m: m["value"])
    total, rows = len(rows), rows[:MAX_BAR_ROWS]
    drop = metric_kind(metric) == "drop"
    scale = 100.0
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8.5, 0.9 + 0.24 * len(rows)))
    ax.invert_yaxis()  # lowest first, at the top
    for y, m in enumerate(rows):
        hit = (metric, attribute, m["group"]) in hits
        color = FINDING if hit else NORMAL
        ax.barh(y, m["value"] * scale, color=color, alpha=0.75 if hit else 0.55, height=0.6)
        if m.get("ci_low") is not None and m.get("ci_high") is not None:
            ax.plot([m["ci_low"] * scale, m["ci_high"] * scale], [y, y], color="black", lw=1)
        right = (m.get("ci_high") if m.get("ci_high") is not None else m["value"]) * scale
        ax.text(101 if not drop else max(right, 0) + 1, y,
                f"{m['value'] * scale:.0f} (n={m['n']})", va="center", fontsize=7, color=MUTED)
    ax.set_yticks(range(len(rows)), [short_group(attribute, m["group"])[:34] for m in rows])
    for tick, m in zip(ax.get_yticklabels(), rows, strict=True):
        if (metric, attribute, m["group"]) in hits:
            tick.set_color(FINDING)
            tick.set_fontweight("bold")
    overall = next((m for m in report["metrics"] if m["metric"] == metric
                    and m["attribute"] == "overall" and m.get("value") is not None), None)
    if overall is not None and not drop:
        ax.axvline(overall["value"] * scale, color=MUTED, ls="--", lw=0.8)
    label = "percentage points lost" if drop else f"{metric_label(metric)} (%)"
    ax.set_xlabel(label + ("; dashed line: all items" if overall is not None and not drop else ""))
    if not drop:
        ax.set_xlim(0, 112)
        ax.set_xticks([0, 20, 40, 60, 80, 100])
    title = (f"Accuracy lost by {attribute_label(attribute)}" if drop
             else f"{metric_label(metric).capitalize()} by {attribute_label(attribute)}")
    low = rows[0]
    flagged = sum((metric, attribute, m["group"]) in hits for m in rows)
    alt = (f"Bar chart of {metric_label(metric)} for {len(rows)} {attribute_label(attribute)} "
           f"groups with 95% intervals, lowest first: {short_group(attribute, low['group'])} "
           f"{low['value'] * scale:.0f}, highest {short_group(attribute, rows[-1]['group'])} "
           f"{rows[-1]['value'] * scale:.0f}; {flagged} group(s) with a finding in red.")
    if drop:
        question = "Does a change of wording change the answer?"
    else:
        question = f"Where is the model accurate? ({attribute_label(attribute)})"
    note = "" if total <= len(rows) else f"The {len(rows)} lowest of {total} groups are drawn."
    chart = Chart(f"{metric}-by-{attribute}", title, question, alt, note=note,
                  data=[{k: m[k] for k in ("group", "value", "ci_low", "ci_high", "n")}
                        for m in rows])
    return _render(chart, fig)


def cost_energy(report: dict[str, Any]) -> Chart | None:
    sus = report.get("sustainability") or {}
    if not sus.get("queries"):
        return None
    completion = float(sus.get("completion_tokens_per_query") or 0)
    prompt = max(0.0, float(sus.get("tokens_per_query") or 0) - completion)
    panels = [("tokens per query", [("prompt", prompt), ("answer", completion)]),
              ("energy, Wh per 1,000 queries", [("energy", sus.get("energy_wh_per_1k") or 0)]),
              ("emissions, g CO2e per 1,000", [("CO2e", sus.get("emissions_g_per_1k") or 0)]),
              ("cost, US$ per 1,000 queries", [("cost", sus.get("cost_usd_per_1k") or 0)])]
    plt = _plt()
    fig, axes = plt.subplots(1, 4, figsize=(7.5, 1.9))
    for ax, (title, bars) in zip(axes, panels, strict=True):
        left = 0.0
        for k, (_name, value) in enumerate(bars):
            ax.barh(0, value, left=left, color=NORMAL if k == 0 else "#6f9bd1", height=0.5)
            left += float(value)
        ax.set_yticks([])
        ax.set_title(title, fontsize=8, loc="left")
        ax.text(0, -0.55, " + ".join(f"{name} {value:.3g}" for name, value in bars) if len(
            bars) > 1 else f"{bars[0][1]:.3g}", fontsize=8, color=MUTED, va="top")
        ax.set_ylim(-1.1, 0.5)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="x", labelsize=7)
    alt = (f"Cost and energy per 1,000 queries: {sus.get('tokens_per_query', 0):.0f} tokens per "
           f"query, {sus.get('energy_wh_per_1k', 0):.3g} Wh, "
           f"{sus.get('emissions_g_per_1k', 0):.3g} g CO2e, US$ "
           f"{sus.get('cost_usd_per_1k', 0):.3g}; energy {sus.get('energy_method', '')}.")
    chart = Chart("cost-energy", "Cost and energy per 1,000 queries",
                  "What does running it cost, in money and energy?", alt)
    return _render(chart, fig)


def build_charts(report: dict[str, Any], kinds: set[str] | None = None) -> list[Chart]:
    """Every chart the report's data supports, in reading order, rendered as ``kinds`` (``svg``
    for HTML, ``png`` for PDF; both by default)."""
    global KINDS
    previous, KINDS = KINDS, set(kinds or {"svg", "png"})
    try:
        charts = [forest(report, ordinal=False), forest(report, ordinal=True)]
        for metric, attribute in (("accuracy", "specialty"), ("accuracy", "application"),
                                  ("accuracy_drop", "perturbation")):
            charts.append(by_group(report, metric, attribute))
        charts.append(cost_energy(report))
    finally:
        KINDS = previous
    return [c for c in charts if c is not None]
