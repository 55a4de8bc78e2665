"""Power of the equity audit: detection, false-positive and wrong-group rates over seeds.

A scripted model (haia.testing.equity_model) answers every vignette of the equity suite with the
family's expected answers, the same for every demographic rendering, with ``--noise`` random
answers, and planted gaps: one group's outcome moved one step (or two) in a share of the
families asking it. Each seed is analysed exactly as ``haia audit`` does (real prompts, real
structured scorer, analyse_equity, judge_gaps), without HTTP.

    python bench/equity_power.py                 # bundled suite, 20 seeds
    python bench/equity_power.py --seeds 5 --suite path/to/suite.yaml

Columns: detected = the planted group, outcome and direction named as a finding; wrong group =
a finding naming another group of the planted attribute; any other = any finding other than the
planted one (for the null row: any finding at all, the family-wise error rate).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from haia.findings.judge import gap_thresholds, judge_gaps, load_thresholds
from haia.metrics.equity import analyse_equity
from haia.suites.counterfactual import variant_descriptors
from haia.suites.loader import load_suite
from haia.testing.equity_model import EquityModel, Gap, simulate_scores, suite_families


@dataclass(frozen=True)
class Scenario:
    label: str
    gap: Gap | None


def scenarios() -> list[Scenario]:
    out = [Scenario("none (null)", None)]
    for fraction in (0.2, 0.4, 0.6):
        out.append(Scenario(f"hispanic_latino triage +1 level, {fraction:.0%} of families",
                            Gap("race_ethnicity", "hispanic_latino", "triage_level", +1,
                                fraction)))
    out.append(Scenario("hispanic_latino triage +2 levels, 20% of families",
                        Gap("race_ethnicity", "hispanic_latino", "triage_level", +2, 0.2)))
    for fraction in (0.2, 0.4, 0.6):
        out.append(Scenario(f"black denied analgesia, {fraction:.0%} of families",
                            Gap("race_ethnicity", "black", "analgesic", -1, fraction)))
    out.append(Scenario("homeless denied admission, 40% of families",
                        Gap("housing", "homeless", "admit", -1, 0.4)))
    return out


def run(suite_name: str, seeds: int, noise: float, permutations: int,
        only: str | None = None) -> Iterator[dict]:
    suite = load_suite(suite_name)
    families, variants = suite_families(suite_name)
    config = load_thresholds()
    cutoffs = gap_thresholds(config)
    words = variant_descriptors()
    for scenario in scenarios():
        if only and only not in scenario.label:
            continue
        detected = wrong = other = 0
        for seed in range(seeds):
            gaps = [scenario.gap] if scenario.gap else []
            model = EquityModel(families, variants=variants, noise=noise, seed=seed, gaps=gaps)
            rows = simulate_scores(suite, model)
            analysis = analyse_equity(rows, seed=seed, permutations=permutations,
                                      thresholds=cutoffs, descriptors=words)
            findings = judge_gaps(analysis.comparisons, config)
            gap = scenario.gap
            hit = gap is not None and any(
                (f.attribute, f.group, f.metric) == (gap.attribute, gap.group, gap.outcome)
                and (f.value > 0) == (gap.shift > 0) for f in findings)
            detected += hit
            if gap is not None:
                wrong += any(f.attribute == gap.attribute and f.group != gap.group
                             for f in findings)
            other += any(gap is None or (f.attribute, f.group, f.metric) !=
                         (gap.attribute, gap.group, gap.outcome) for f in findings)
            print(f"  {scenario.label}: seed {seed + 1}/{seeds}", end="\r", file=sys.stderr)
        print(" " * 70, end="\r", file=sys.stderr)
        yield {"scenario": scenario.label, "seeds": seeds,
               "detected": detected / seeds if scenario.gap else None,
               "wrong_group": wrong / seeds if scenario.gap else None,
               "any_other": other / seeds}


def families_per_outcome(suite_name: str) -> dict[str, int]:
    suite = load_suite(suite_name)
    counts: dict[str, int] = {}
    for item in suite.items:
        if item.variant == "control":
            for name in item.meta.get("outcomes", []):
                counts[name] = counts.get(name, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--suite", default="equity")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--permutations", type=int, default=2000)
    parser.add_argument("--only", help="run only the scenarios whose label contains this text")
    args = parser.parse_args()
    start = time.perf_counter()
    counts = families_per_outcome(args.suite)
    print(f"suite {args.suite}: families per outcome "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    print(f"noise {args.noise:.0%}, {args.seeds} seeds, {args.permutations} permutations\n")
    print("| planted | detected | wrong group | any other finding |")
    print("|---|---|---|---|")
    for r in run(args.suite, args.seeds, args.noise, args.permutations, args.only):
        def pct(x: float | None) -> str:
            return "–" if x is None else f"{x:.0%}"
        print(f"| {r['scenario']} | {pct(r['detected'])} | {pct(r['wrong_group'])} | "
              f"{pct(r['any_other'])} |", flush=True)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
