"""report.html opened in headless Chromium (Debian's package, launched by Playwright without
``playwright install``): a screenshot of page one, checked for the verdicts, the model and the
top findings, and WCAG AA contrast of every badge."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.report.tools import CHROMIUM_ARGS, chromium_path

FAIL_RED = (0xB3, 0x26, 0x1E)

CONTRAST_JS = """
() => {
  const lum = (c) => {
    const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map(Number).map(v => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const bg = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    if (el.closest('svg')) continue;
    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    out.push([el.tagName + '.' + el.className, Math.round(ratio * 100) / 100]);
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def page(fixed_run: dict):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 1000})
            tab.goto((fixed_run["dir"] / "report.html").as_uri())
            yield tab
        finally:
            browser.close()


def test_page_one_screenshot_holds_verdicts_model_and_top_findings(
        page, fixed_run: dict, tmp_path: Path) -> None:
    from PIL import Image

    report = fixed_run["report"]
    shot = tmp_path / "page-one.png"
    section = page.locator("section.page-one")
    section.screenshot(path=str(shot))
    with Image.open(shot) as img:
        assert img.width > 800 and img.height > 600
        colours = {c[1] for c in img.convert("RGB").getcolors(1 << 24) or []}
    assert FAIL_RED in colours  # a "fails" verdict badge is drawn on page one
    text = section.inner_text()
    for row in report["scorecard"]:
        assert row["title"] in text
    assert "fails" in text and "not assessed" in text
    assert "fixture-model" in text and "OpenAI-compatible endpoint" in text
    for finding in report["top_findings"]:
        assert finding["plain"][:60] in " ".join(text.split())
    # page one comes first: the verdict table starts within the first screen
    box = page.locator("#h-verdicts").bounding_box()
    assert box is not None and box["y"] < 1000


def test_text_contrast_meets_wcag_aa(page) -> None:
    ratios = page.evaluate(CONTRAST_JS)
    assert len(ratios) > 100
    low = [r for r in ratios if r[1] < 4.5]
    assert low == [], low[:5]


def test_charts_render_with_alt_text(page) -> None:
    charts = page.locator("figure svg[role=img]")
    assert charts.count() >= 4
    for k in range(charts.count()):
        box = charts.nth(k).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 80
        assert len(charts.nth(k).get_attribute("aria-label") or "") > 40


def test_long_tables_are_collapsed(page, fixed_run: dict) -> None:
    details = page.locator("details")
    assert details.count() >= 5
    comparisons = page.locator("details:has-text('comparisons, smallest adjusted p first')")
    assert comparisons.count() == 1
    assert not comparisons.first.evaluate("d => d.open")
    rows = comparisons.locator("tbody tr")
    assert rows.count() == len(fixed_run["report"]["comparisons"])  # collapsed, not cut
