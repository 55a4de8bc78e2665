"""WCAG 2.1 contrast of the portal's style sheet, computed from the colours it declares: text
at least 4.5:1 (AA, 1.4.3) on each background it is drawn on, focus outlines and input borders
at least 3:1 (1.4.11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import haia.portal

CSS = (Path(haia.portal.__file__).parent / "static" / "style.css").read_text()
VARS = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{6})", CSS))


def _luminance(colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _rule(selector: str, prop: str) -> str:
    """The colour ``prop`` of the rule starting a line with ``selector`` (a var() resolved)."""
    for body in re.findall(r"(?m)^" + re.escape(selector) + r"(?:,[^{]*)?\s*\{([^}]*)\}", CSS):
        value = re.search(rf"(?<![-\w]){prop}:\s*([^;]+);", body)
        if value:
            break
    else:
        raise AssertionError(f"no {prop} in a rule for {selector}")
    text = value.group(1).strip()
    var = re.fullmatch(r"var\(--([a-z]+)\)", text)
    if var:
        return VARS[var.group(1)]
    found = re.search(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", text)
    assert found, (selector, prop, text)
    hexes = found.group(1)
    return "#" + (hexes if len(hexes) == 6 else "".join(c * 2 for c in hexes))


TEXT = [("body", "color"), ("a", "color"), (".muted", "color"), (".error", "color"),
        (".ok", "color"), (".v-concern", "color"), (".v-meets", "color"), (".v-fails", "color")]


@pytest.mark.parametrize(("selector", "prop"), TEXT)
def test_text_is_aa_on_the_page_and_on_notices(selector: str, prop: str) -> None:
    colour = _rule(selector, prop)
    for background in (VARS["bg"], VARS["note"]):
        assert ratio(colour, background) >= 4.5, (selector, colour, background)


def test_buttons_focus_and_borders() -> None:
    assert ratio(_rule("button", "color"), _rule("button", "background")) >= 4.5
    assert ratio(_rule("nav button", "color"), VARS["bg"]) >= 4.5
    assert ratio(_rule("a:focus, button:focus", "outline"), VARS["bg"]) >= 3
    assert ratio(_rule("input, select, textarea", "border"), VARS["bg"]) >= 3


def test_the_ratio_is_wcags() -> None:
    assert ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the AA grey
