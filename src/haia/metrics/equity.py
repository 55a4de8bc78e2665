"""Counterfactual equity analysis: paired comparisons within vignette families.

For every outcome metric and every demographic group, each family gives one paired difference:
the group's rendering minus the **control** rendering, and the group's rendering minus the mean of
the **other groups** of the same attribute. Differences are tested (exact McNemar for a binary
outcome asked once against the control; a sign-flip permutation test otherwise, which handles
ordinal outcomes and means over ``--samples``), given a bootstrap interval over families, and all
p-values of a run are corrected together (Holm by default). Families that declare the attribute
legitimately relevant (``relevant:``) are analysed apart and never become findings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from haia.metrics.stats import CORRECTIONS, bootstrap_mean_ci, mcnemar_exact, sign_flip_test
from haia.metrics.table import ScoreRow

CONTEXT_ATTRIBUTES = {"setting"}


@dataclass
class Comparison:
    """One group against one reference (``control`` or ``others``) on one outcome."""

    suite: str
    metric: str
    kind: str
    attribute: str
    group: str
    reference: str
    n_families: int
    group_mean: float
    reference_mean: float
    effect: float
    ci_low: float
    ci_high: float
    effect_size_dz: float | None
    test: str
    p_value: float
    p_adjusted: float = 1.0
    relevant: bool = False
    evidence: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _variant_groups(rows: list[ScoreRow]) -> dict[tuple[str, str], tuple[str, str]]:
    """(family, variant) → (attribute, group) of the demographic detail the variant changes."""
    by_family: dict[str, list[ScoreRow]] = defaultdict(list)
    for row in rows:
        if row.family is not None and row.variant is not None:
            by_family[row.family].append(row)
    mapping: dict[tuple[str, str], tuple[str, str]] = {}
    for family, members in by_family.items():
        variants = {r.variant for r in members}
        constant = {key for key in set().union(*(r.attributes for r in members))
                    if len({r.attributes.get(key) for r in members}) == 1
                    and all(key in r.attributes for r in members)}
        for row in members:
            assert row.variant is not None
            keys = [k for k in row.attributes if k not in constant
                    and k not in CONTEXT_ATTRIBUTES]
            if row.variant == "control" or "control" in keys:
                mapping[(family, row.variant)] = ("control", "control")
            elif keys and len(variants) > 1:
                mapping[(family, row.variant)] = (keys[0], row.attributes[keys[0]])
    return mapping


def compare_counterfactuals(scores: list[ScoreRow], seed: int = 0, correction: str = "holm",
                            min_families: int = 5) -> list[Comparison]:
    """Every (metric, attribute, group, reference) comparison, with corrected p-values."""
    rows = [r for r in scores if r.family is not None and r.kind in {"binary", "ordinal"}]
    groups = _variant_groups(rows)
    # metric -> family -> variant -> list of values over samples (None = not scored)
    values: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list)))
    meta: dict[str, tuple[str, str]] = {}
    relevant: dict[str, set[str]] = defaultdict(set)
    items: dict[tuple[str, str], str] = {}
    for row in rows:
        assert row.family is not None and row.variant is not None
        if (row.family, row.variant) not in groups or row.value is None:
            continue
        values[row.metric][row.family][row.variant].append(float(row.value))
        meta[row.metric] = (row.suite, row.kind)
        relevant[row.family] |= set(row.relevant)
        items[(row.family, row.variant)] = row.item_id
    comparisons: list[Comparison] = []
    for metric, families in sorted(values.items()):
        suite, kind = meta[metric]
        comparisons += _compare_metric(suite, metric, kind, families, groups, relevant, items,
                                       seed, min_families)
    _adjust(comparisons, correction)
    return comparisons


def _compare_metric(suite: str, metric: str, kind: str,
                    families: dict[str, dict[str, list[float]]],
                    groups: dict[tuple[str, str], tuple[str, str]],
                    relevant: dict[str, set[str]], items: dict[tuple[str, str], str],
                    seed: int, min_families: int) -> list[Comparison]:
    # (attribute, group, reference, is_relevant) -> list of (family, group value, ref value, raw)
    pairs: dict[tuple[str, str, str, bool], list[tuple[str, float, float, bool]]] = \
        defaultdict(list)
    for family, by_variant in families.items():
        means = {v: float(np.mean(vals)) for v, vals in by_variant.items() if vals}
        single = {v: len(vals) == 1 for v, vals in by_variant.items()}
        control = next((v for v in means if groups[(family, v)][0] == "control"), None)
        by_attribute: dict[str, dict[str, str]] = defaultdict(dict)
        for variant in means:
            attribute, group = groups[(family, variant)]
            if attribute != "control":
                by_attribute[attribute][group] = variant
        for attribute, members in by_attribute.items():
            is_relevant = attribute in relevant[family]
            for group, variant in members.items():
                value = means[variant]
                if control is not None:
                    pairs[(attribute, group, "control", is_relevant)].append(
                        (family, value, means[control], single[variant] and single[control]))
                others = [means[v] for g, v in members.items() if g != group]
                if others:
                    pairs[(attribute, group, "others", is_relevant)].append(
                        (family, value, float(np.mean(others)), False))
    variant_of = {(fam, *ag): variant for (fam, variant), ag in groups.items()}
    out = []
    for (attribute, group, reference, is_relevant), data in sorted(pairs.items()):
        if len(data) < min_families:
            continue
        fam = [d[0] for d in data]
        g = np.array([d[1] for d in data])
        r = np.array([d[2] for d in data])
        diffs = g - r
        binary_single = kind == "binary" and all(d[3] for d in data)
        if binary_single:
            b = int(np.sum((g == 1) & (r == 0)))
            c = int(np.sum((g == 0) & (r == 1)))
            p_value, test = mcnemar_exact(b, c), "mcnemar_exact"
        else:
            p_value, test = sign_flip_test(diffs, seed), "sign_flip_permutation"
        low, high = bootstrap_mean_ci(diffs, seed)
        sd = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else 0.0
        effect = float(diffs.mean())
        direction = np.sign(effect)
        evidence = sorted(items[(f, variant_of[(f, attribute, group)])]
                          for f, d in zip(fam, diffs, strict=True)
                          if direction != 0 and np.sign(d) == direction)
        out.append(Comparison(
            suite=suite, metric=metric, kind=kind, attribute=attribute, group=group,
            reference=reference, n_families=len(data), group_mean=float(g.mean()),
            reference_mean=float(r.mean()), effect=effect, ci_low=low, ci_high=high,
            effect_size_dz=(effect / sd) if sd > 0 else None, test=test, p_value=p_value,
            relevant=is_relevant, evidence=evidence))
    return out


def _adjust(comparisons: list[Comparison], correction: str) -> None:
    """Correct every non-relevant comparison's p-value together; relevant ones apart."""
    try:
        adjust = CORRECTIONS[correction]
    except KeyError:
        from haia.errors import HaiaError

        raise HaiaError(f"unknown correction {correction!r} (use holm, bh or none)") from None
    for flag in (False, True):
        subset = [c for c in comparisons if c.relevant is flag]
        for comparison, p in zip(subset, adjust([c.p_value for c in subset]), strict=True):
            comparison.p_adjusted = p
