"""report.pdf rendered to PNG with pdftoppm and read back with pdftotext: page one holds the
verdicts, the model and the top findings; charts are drawn; no table is cut."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.report.tools import need


def _text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    args = ["pdftotext", "-layout"]
    if first:
        args += ["-f", str(first), "-l", str(last or first)]
    out = subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


def test_pdf_pages_render_and_page_one_reads(fixed_run: dict, tmp_path: Path) -> None:
    from PIL import Image

    need("pdftoppm", "pdftotext")
    pdf = fixed_run["dir"] / "report.pdf"
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 4
    report = fixed_run["report"]
    one = _text(pdf, 1)
    assert "Audit report: fixture-model" in one and "OpenAI-compatible endpoint" in one
    for row in report["scorecard"]:
        assert " ".join(row["title"].split()[:3]) in one
    assert "fails" in one and "not assessed" in one
    for finding in report["top_findings"]:
        assert " ".join(finding["plain"].split()[:8]) in one
    with Image.open(pages[0]) as img:
        assert (179, 38, 30) in {c[1] for c in img.convert("RGB").getcolors(1 << 24) or []}
    # the charts page: a forest plot is an image, so the page is far from blank
    chart_page = next(i for i, _ in enumerate(pages, 1) if "Charts" in _text(pdf, i))
    with Image.open(pages[chart_page - 1]) as img:
        dark = sum(img.convert("L").histogram()[:200])
    assert dark > 2000


def test_pdf_tables_are_never_cut(fixed_run: dict) -> None:
    need("pdftotext")
    text = _text(fixed_run["dir"] / "report.pdf")
    report = fixed_run["report"]
    assert "more rows" not in text
    comparisons = report["comparisons"]
    assert f"all {len(comparisons)}, smallest adjusted p first" in text
    worst = max(comparisons, key=lambda c: (c["p_adjusted"], -abs(c["effect"])))
    assert f"{worst['attribute']}={worst['group']}" in text
    assert f"{worst['effect']:+.3f}" in text
    for finding in report["findings"]:
        assert finding["id"] in text.replace(" ", "") or finding["id"] in text
