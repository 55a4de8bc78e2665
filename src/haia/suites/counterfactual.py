"""Counterfactual vignette families: one clinical template, rendered once per demographic variant.

A family (in a suite's ``families:`` list) is::

    - id: ed-chest-pain
      setting: emergency_triage          # becomes the 'setting' attribute
      template: "{Patient}, aged 58, arrives with crushing central chest pain ..."
      outcomes: [triage_level, admit]    # from haia.suites.outcomes.OUTCOMES
      relevant:                          # per outcome: attributes that may legitimately
        admit: [age_band]                #   change THIS answer (old form: one list, all outcomes)
      relevance:                         # why, per outcome and attribute, with its source;
        admit: {age_band: "..."}         #   "*": why the other attributes are not relevant
      exclude: [sex_gender]              # attributes not rendered for this family (optional)
      expected: {triage_level: 2}        # the clinically expected answer (optional)
      rationale: ...                     # what the family tests and why
      source: ...

``{Patient}``/``{patient}`` are replaced by the variant's descriptor (capitalised or not). Each
rendering becomes an item ``<family>--<variant>`` with ``family``, ``variant`` and the attribute
the variant changes (``{race_ethnicity: black}``), plus ``setting``; the control rendering has
``{control: control}``. Everything else in the prompt is identical across a family's items.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from haia.suites.outcomes import OUTCOMES, instruction

FAMILY_KEYS = {"id", "setting", "template", "outcomes", "relevant", "relevance", "exclude",
               "expected", "rationale", "source", "system", "tags", "principles", "examples"}


@cache
def default_variants() -> tuple[dict[str, str], ...]:
    """The bundled demographic variants (``haia/suites/variants.yaml``)."""
    text = (resources.files("haia.suites") / "variants.yaml").read_text(encoding="utf-8")
    return tuple(yaml.safe_load(text))


def variant_descriptors() -> dict[tuple[str, str], str]:
    """(attribute, group) -> the words the bundled variants render (``a Black patient``)."""
    return {(v["attribute"], v["group"]): v["descriptor"] for v in default_variants()}


def _check_variants(variants: list[Any]) -> list[dict[str, str]]:
    seen: set[str] = set()
    for n, variant in enumerate(variants):
        if not isinstance(variant, dict):
            raise ValueError(f"variant #{n + 1}: expected a mapping")
        missing = {"id", "attribute", "group", "descriptor"} - set(variant)
        if missing:
            raise ValueError(f"variant #{n + 1}: missing {', '.join(sorted(missing))}")
        if variant["id"] in seen:
            raise ValueError(f"variant {variant['id']!r}: duplicate id")
        seen.add(variant["id"])
    if "control" not in seen:
        raise ValueError("variants: a 'control' variant (no demographic detail) is required")
    return variants


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def render(template: str, descriptor: str) -> str:
    """The template with ``{Patient}``/``{patient}`` replaced by ``descriptor``."""
    return template.replace("{Patient}", _capitalise(descriptor)).replace("{patient}", descriptor)


def relevant_by_outcome(fid: str, relevant: Any, outcomes: list[str]) -> dict[str, list[str]]:
    """``relevant:`` as outcome -> attributes. The old list form applies to every outcome."""
    if relevant is None:
        return {name: [] for name in outcomes}
    if isinstance(relevant, list):
        if not all(isinstance(a, str) for a in relevant):
            raise ValueError(f"family {fid!r}: 'relevant' must list attribute names")
        return {name: list(relevant) for name in outcomes}
    if not isinstance(relevant, dict):
        raise ValueError(f"family {fid!r}: 'relevant' must map outcomes to attribute lists")
    out: dict[str, list[str]] = {name: [] for name in outcomes}
    for name, attributes in relevant.items():
        if name not in outcomes:
            raise ValueError(f"family {fid!r}: 'relevant' names {name!r}, not one of its outcomes")
        if not isinstance(attributes, list) or not all(isinstance(a, str) for a in attributes):
            raise ValueError(f"family {fid!r}: 'relevant.{name}' must list attribute names")
        out[name] = list(attributes)
    return out


def expand_family(family: dict[str, Any], variants: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The items of one family, one per variant not excluded."""
    fid = family.get("id")
    if not isinstance(fid, str) or not fid:
        raise ValueError("family without an 'id'")
    unknown = set(family) - FAMILY_KEYS
    if unknown:
        raise ValueError(f"family {fid!r}: unknown key {sorted(unknown)[0]!r}")
    template = family.get("template")
    if not isinstance(template, str) or "{patient}" not in template.lower():
        raise ValueError(f"family {fid!r}: 'template' must contain {{Patient}} or {{patient}}")
    outcomes = family.get("outcomes") or []
    if not outcomes or not isinstance(outcomes, list):
        raise ValueError(f"family {fid!r}: 'outcomes' must list at least one outcome")
    for name in outcomes:
        if name not in OUTCOMES:
            raise ValueError(f"family {fid!r}: unknown outcome {name!r} "
                             f"(known: {', '.join(OUTCOMES)})")
    relevant = relevant_by_outcome(fid, family.get("relevant"), outcomes)
    exclude = set(family.get("exclude") or [])
    expected = family.get("expected") or {}
    question = instruction(outcomes)
    items = []
    for variant in variants:
        if variant["attribute"] in exclude:
            continue
        prompt = f"{render(template, variant['descriptor']).strip()}\n\n{question}"
        item: dict[str, Any] = {
            "id": f"{fid}--{variant['id']}",
            "prompt": prompt,
            "family": fid,
            "variant": variant["id"],
            "attributes": {variant["attribute"]: variant["group"],
                           "setting": str(family.get("setting", "unspecified"))},
            "principles": family.get("principles") or ["equity"],
            "tags": list(family.get("tags") or []),
            "meta": {"outcomes": outcomes, "relevant": relevant, "expected": expected,
                     "relevance": family.get("relevance") or {}},
        }
        for key in ("rationale", "source", "system"):
            if family.get(key):
                item[key] = family[key]
        items.append(item)
    return items


def expand_families(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of every family in a suite's ``families:`` (with its ``variants:``, if any)."""
    families = data.get("families")
    if not isinstance(families, list):
        raise ValueError("expected a list of families")
    variants = _check_variants(list(data.get("variants") or default_variants()))
    seen: set[str] = set()
    items: list[dict[str, Any]] = []
    for n, family in enumerate(families):
        if not isinstance(family, dict):
            raise ValueError(f"family #{n + 1}: expected a mapping")
        if family.get("id") in seen:
            raise ValueError(f"family {family.get('id')!r}: duplicate id")
        seen.add(family.get("id"))
        items += expand_family(family, variants)
    return items
