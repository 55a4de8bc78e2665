"""Write a report dict as ``report.json``, a self-contained ``report.html`` and ``report.pdf``."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from haia.errors import HaiaError


def _env() -> Environment:
    env = Environment(loader=PackageLoader("haia.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.1f}%"
    env.filters["num"] = lambda v: "–" if v is None else f"{v:.3g}"
    return env


def chart_groups(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Metrics grouped for charts: one chart per (suite, metric, attribute) with its groups."""
    charts: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in report["metrics"]:
        if row["value"] is not None:
            charts[(row["suite"], row["metric"], row["attribute"])].append(row)
    out = []
    for (suite, metric, attribute), rows in sorted(charts.items(),
                                                   key=lambda kv: (kv[0][2] != "overall", kv[0])):
        scale = max(1.0, *(r["ci_high"] or r["value"] for r in rows))
        out.append({"suite": suite, "metric": metric, "attribute": attribute,
                    "rows": sorted(rows, key=lambda r: r["group"]), "scale": scale})
    return out


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no external assets)."""
    template = _env().get_template("report.html.j2")
    return template.render(report=report, charts=chart_groups(report))


def write_report(report: dict[str, Any], out_dir: Path) -> None:
    """Write ``report.json``, ``report.html`` and ``report.pdf`` into ``out_dir``, atomically:
    all three are rendered and staged before any is replaced, ``report.json`` renamed last."""
    import tempfile

    from haia.atomic import atomic_write_many, describe_os_error
    from haia.report.pdf import render_pdf

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale(out_dir)
        data = json.dumps(report, indent=2, ensure_ascii=False, default=str)
        html = render_html(report)
        with tempfile.TemporaryDirectory(prefix=".report-", dir=out_dir) as scratch:
            render_pdf(report, Path(scratch) / "report.pdf")
            pdf = (Path(scratch) / "report.pdf").read_bytes()
        atomic_write_many({out_dir / "report.html": html, out_dir / "report.pdf": pdf,
                           out_dir / "report.json": data})
    except OSError as exc:
        raise HaiaError(f"cannot write the report to {out_dir}: "
                        f"{describe_os_error(exc, '')}") from None


def _remove_stale(out_dir: Path) -> None:
    """Temporary files a killed earlier write left behind (never a finished report)."""
    import contextlib
    import shutil

    for stale in (*out_dir.glob(".report.*.tmp"), *out_dir.glob(".report-*")):
        with contextlib.suppress(OSError):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
