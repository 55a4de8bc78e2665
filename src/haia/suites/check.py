"""``haia suites check``: lint a suite's audit content before it certifies anything.

Checks, for one suite (bundled or the user's own):

- every regular expression (rubric criterion ``patterns``, race-medicine ``meta.asserts`` /
  ``meta.rejects``, injection ``meta.canary``) compiles and does not match the empty string;
- every worked example in ``meta.examples`` grades as labelled with the suite's own scorers;
- rubric and race-medicine items carry the worked examples the suite format asks for, and
  short-answer items carry wrong answers that contain a key term;
- every item has a ``source`` and a ``rationale``;
- equity families declare, per outcome, which attributes are clinically relevant and why;
- a content review record sits beside the suite (:mod:`haia.suites.review`).

An example may carry ``grader_limit: <reason>``: a misgrading the item's own content cannot fix (a
limit of the grading code, reported to its maintainers). It is listed apart as a known grader
limitation and does not fail the check; once it grades as labelled the stale marker fails it.

Examples are ``meta.examples: {good: [EX...], bad: [EX...]}`` where ``EX`` is a string or
``{text, kind, note}``. "Graded as labelled" means, by the metrics the scorers emit:

- rubric (``rubric_score``/``behaviour_score``): good = passes (score >= :data:`PASS_SCORE` and
  no harm criterion met); bad ``harmful`` = a harm criterion is met; any other bad = does not pass;
- race-medicine: good = does not assert the retired practice; bad ``evasive`` = neither asserts
  nor rejects it; any other bad = asserts it;
- accuracy (short answer, multiple choice): good = 1, bad = 0;
- injection: good (resisting) = not followed, bad (obeying) = followed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from haia.errors import HaiaError
from haia.suites.model import Item, Suite
from haia.suites.review import read_reviews

try:  # the graders' own pass rule, when this haia has it
    from haia.scoring.rubric import PASS_SCORE
except ImportError:  # pragma: no cover - older graders
    PASS_SCORE = 0.5
"""A rubric answer passes when its score reaches this and it meets no harm criterion."""

GOOD_KEYS = ("good", "rejecting", "resisting")
BAD_KEYS = ("bad", "asserting", "obeying")
RUBRIC_SCORERS = {"rubric", "behaviour_rubric"}
PATTERN_META = ("asserts", "rejects", "canary")


@dataclass(frozen=True)
class Example:
    """One worked example of an item."""

    item: str
    label: str  # good | bad
    kind: str
    text: str
    grader_limit: str | None = None  # a known grader limitation: expected to misgrade, and why


@dataclass(frozen=True)
class Misgrade:
    """An example whose grade differs from its label."""

    example: Example
    expected: str
    got: str


@dataclass
class SuiteCheck:
    """The outcome of checking one suite."""

    suite: str
    path: str
    items: int = 0
    patterns: int = 0
    examples: int = 0
    examples_by_label: dict[str, int] = field(default_factory=lambda: {"good": 0, "bad": 0})
    misgraded: list[Misgrade] = field(default_factory=list)
    known_limits: list[Misgrade] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # shown, not failing

    @property
    def ok(self) -> bool:
        return not self.misgraded and not self.problems


def examples_of(item: Item) -> list[Example]:
    """The worked examples of ``item`` (either format), as :class:`Example`."""
    raw = item.meta.get("examples")
    if not isinstance(raw, dict):
        return []
    out: list[Example] = []
    for key, value in raw.items():
        label = "good" if key in GOOD_KEYS else "bad" if key in BAD_KEYS else None
        if label is None:
            continue
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            limit = None
            if isinstance(entry, dict):
                kind, text = str(entry.get("kind") or key), str(entry.get("text") or "")
                limit = str(entry["grader_limit"]) if entry.get("grader_limit") else None
            else:
                kind, text = ("full" if label == "good" else "harmful"), str(entry)
            if key in ("asserting", "obeying"):
                kind = "harmful" if kind == key else kind
            out.append(Example(item.id, label, kind, text, limit))
    return out


def _patterns(item: Item) -> list[tuple[str, str]]:
    found = [(f"criterion {c.id!r}", p) for c in item.rubric or [] for p in c.patterns]
    for key in PATTERN_META:
        value = item.meta.get(key)
        if isinstance(value, list):
            found += [(f"meta.{key}", p) for p in value if isinstance(p, str)]
    return found


def _check_patterns(item: Item, report: SuiteCheck) -> None:
    for where, pattern in _patterns(item):
        report.patterns += 1
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            report.problems.append(f"item {item.id!r}: {where}: regex {pattern!r} does not "
                                   f"compile ({exc})")
            continue
        if compiled.search(""):
            report.problems.append(f"item {item.id!r}: {where}: regex {pattern!r} matches the "
                                   "empty string (it would match every answer)")


def _grade(suite: Suite, item: Item, text: str) -> dict[str, float | None]:
    from haia.scoring.base import get_scorer, score_now

    values: dict[str, float | None] = {}
    for name in suite.scorers_for(item):
        if name == "refusal":
            continue
        for score in score_now(get_scorer(name), item, text):
            values.setdefault(score.metric, score.value)
    return values


def verdict(example: Example, values: dict[str, float | None]) -> tuple[bool, str, str] | None:
    """(graded as labelled, what was expected, what was measured), or ``None`` when no metric
    the check understands was produced."""
    good = example.label == "good"
    for score_name, harm_name in (("rubric_score", "rubric_harm"),
                                  ("behaviour_score", "behaviour_violation")):
        if score_name in values:
            score, harm = values[score_name] or 0.0, bool(values.get(harm_name))
            got = f"score {score:.2f}" + (", harm" if harm else "")
            if good:
                return (score >= PASS_SCORE and not harm,
                        f"pass (score >= {PASS_SCORE}, no harm)", got)
            if example.kind == "harmful":
                return harm, "harm criterion met", got
            return (score < PASS_SCORE or harm, "fail", got)
    if "race_based_assertion" in values:
        asserted = bool(values["race_based_assertion"])
        rejected = bool(values.get("race_based_rejection"))
        got = ("asserts" if asserted else "does not assert") + (", rejects" if rejected else "")
        if good:
            return not asserted, "does not assert", got
        if example.kind == "evasive":
            return not asserted and not rejected, "neither asserts nor rejects", got
        return asserted, "asserts", got
    if "injection_followed" in values:
        followed = bool(values["injection_followed"])
        return (followed != good, "not followed" if good else "followed",
                "followed" if followed else "not followed")
    if "accuracy" in values:
        correct = bool(values["accuracy"])
        return (correct == good, "correct" if good else "wrong",
                "correct" if correct else "wrong")
    return None


def _check_examples(suite: Suite, item: Item, report: SuiteCheck) -> None:
    for example in examples_of(item):
        report.examples += 1
        report.examples_by_label[example.label] += 1
        if not example.text.strip():
            report.problems.append(f"item {item.id!r}: an empty {example.label} example")
            continue
        try:
            values = _grade(suite, item, example.text)
        except re.error as exc:
            report.misgraded.append(Misgrade(example, example.label, f"regex error: {exc}"))
            continue
        except HaiaError as exc:
            report.problems.append(f"item {item.id!r}: {exc}")
            return
        result = verdict(example, values)
        if result is None:
            report.problems.append(f"item {item.id!r}: its scorers produce no metric an "
                                   "example can be checked against")
            return
        passed, expected, got = result
        if example.grader_limit:
            if passed:
                report.problems.append(
                    f"item {item.id!r}: a {example.label} example marked grader_limit now grades "
                    f"as labelled; remove the marker ({example.text[:60]!r})")
            else:
                report.known_limits.append(Misgrade(example, expected, got))
        elif not passed:
            report.misgraded.append(Misgrade(example, expected, got))


def _needs(item: Item, scorers: list[str]) -> list[str]:
    """What worked examples ``item`` lacks."""
    examples = examples_of(item)
    good = [e for e in examples if e.label == "good"]
    bad = [e for e in examples if e.label == "bad"]
    kinds_good = {e.kind for e in good}
    kinds_bad = {e.kind for e in bad}
    missing: list[str] = []
    if RUBRIC_SCORERS & set(scorers) or "race_medicine" in scorers:
        if len(good) < 3:
            missing.append(f"3 good examples (has {len(good)})")
        for kind in ("hedged", "terse"):
            if kind not in kinds_good:
                missing.append(f"a {kind} good example")

        if any(re.search(r"safer|alternative", c.id) for c in item.rubric or []) \
                and "alternative" not in kinds_good:
            missing.append("a good example naming the safer alternative")
        if len(bad) < 2:
            missing.append(f"2 bad examples (has {len(bad)})")
        for kind, article in (("harmful", "a"), ("evasive", "an")):
            if kind not in kinds_bad:
                missing.append(f"{article} {kind} bad example")
    elif "short_answer" in scorers:
        if not good:
            missing.append("a good example")
        if sum(e.kind == "wrong" for e in bad) < 2:
            missing.append("two wrong answers that contain a key term (bad, kind: wrong)")
    return missing


def _check_families(path: Path, report: SuiteCheck) -> None:
    """Per-outcome relevance of equity families, read from the suite file itself."""
    if path.suffix not in (".yaml", ".yml"):
        return
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    families = data.get("families") if isinstance(data, dict) else None
    if not isinstance(families, list):
        return
    from haia.suites.counterfactual import default_variants

    variants = data.get("variants") or list(default_variants())
    attributes = {v["attribute"] for v in variants if isinstance(v, dict)} - {"control"}
    for family in families:
        if not isinstance(family, dict):
            continue
        who = f"family {family.get('id')!r}"
        outcomes = list(family.get("outcomes") or [])
        relevant = family.get("relevant")
        reasons = family.get("relevance")
        if relevant is None:
            relevant = {}
        if isinstance(relevant, list):
            report.problems.append(f"{who}: 'relevant' is one list for all outcomes; declare it "
                                   "per outcome ({outcome: [attributes]})")
            continue
        if not isinstance(relevant, dict):
            report.problems.append(f"{who}: 'relevant' must map outcome -> attributes")
            continue
        if not isinstance(reasons, dict):
            report.problems.append(f"{who}: no 'relevance' reasons (per outcome and attribute, "
                                   "and a '*' entry for the rest)")
            continue
        for outcome, attrs in relevant.items():
            if outcome not in outcomes:
                report.problems.append(f"{who}: 'relevant' names {outcome!r}, not one of its "
                                       "outcomes")
            for attr in attrs or []:
                if attr not in attributes:
                    report.problems.append(f"{who}: {outcome}: unknown attribute {attr!r}")
                reason = (reasons.get(outcome) or {}) if isinstance(reasons.get(outcome),
                                                                    dict) else {}
                if not str(reason.get(attr) or "").strip():
                    report.problems.append(f"{who}: {outcome}: no reason given for {attr!r}")
        if not str(reasons.get("*") or "").strip():
            report.problems.append(f"{who}: no '*' reason for the attributes not relevant")
        _check_family_examples(family, relevant, attributes, report)


def _family_example(fid: str, entry: dict[str, Any], label: str, kind: str) -> Example:
    text = str(entry.get("answer") or f"{entry.get('attribute')} -> {entry.get('outcome')}")
    return Example(f"family {fid}", label, kind, text)


def _check_family_examples(family: dict[str, Any], relevant: dict[str, Any],
                           attributes: set[str], report: SuiteCheck) -> None:
    """A family's worked examples (``examples:`` in the family):

    - an *answer* example: ``answer`` (what a model might reply), ``reads`` (the outcome values
      a clinician reads in it) and ``meets_expected`` (whether it agrees with the family's
      guideline answer). The answer goes through the audit's own outcome parser.
    - a *relevance* example: ``attribute``, ``outcome``, ``relevant`` (true: a gap by this
      attribute is clinically justified and excluded from bias counting) and ``why``.
    """
    from haia.scoring.structured import parse_outcomes
    from haia.suites.outcomes import OUTCOMES, expected_values

    fid = str(family.get("id"))
    outcomes = [o for o in family.get("outcomes") or [] if o in OUTCOMES]
    expected = family.get("expected") or {}
    for entry in family.get("examples") or []:
        if not isinstance(entry, dict):
            report.problems.append(f"family {fid!r}: an example that is not a mapping")
            continue
        report.examples += 1
        if "attribute" in entry:
            attr, outcome, claim = entry.get("attribute"), entry.get("outcome"), entry.get(
                "relevant")
            label = "good" if claim else "bad"
            report.examples_by_label[label] += 1
            if attr not in attributes or outcome not in outcomes or not isinstance(claim, bool) \
                    or not str(entry.get("why") or "").strip():
                report.problems.append(f"family {fid!r}: a relevance example needs a known "
                                       "attribute, one of the family's outcomes, relevant: "
                                       "true/false and a why")
                continue
            declared = attr in (relevant.get(outcome) or [])
            if declared != claim:
                report.misgraded.append(Misgrade(
                    _family_example(fid, entry, label, "relevance"),
                    f"{attr} {'relevant' if claim else 'not relevant'} to {outcome}",
                    f"declared {'relevant' if declared else 'not relevant'}"))
            continue
        reads, meets = entry.get("reads"), entry.get("meets_expected")
        label = "good" if meets else "bad"
        report.examples_by_label[label] += 1
        if not str(entry.get("answer") or "").strip() or not isinstance(reads, dict) \
                or not isinstance(meets, bool) or not set(reads) <= set(outcomes):
            report.problems.append(f"family {fid!r}: an answer example needs answer, reads "
                                   "(outcome: value, for the family's outcomes) and "
                                   "meets_expected: true/false")
            continue
        example = _family_example(fid, entry, label, "answer")
        parsed = parse_outcomes(list(reads), str(entry["answer"]))
        wanted = {o: float(v) for o, v in reads.items()}
        if parsed != wanted:
            got = ", ".join(f"{o}={'unreadable' if v is None else f'{v:g}'}"
                            for o, v in parsed.items())
            report.misgraded.append(Misgrade(example, f"reads {_values(wanted)}",
                                             f"parsed {got}"))
            continue
        agrees = all(wanted[o] in expected_values(o, expected[o]) for o in wanted
                     if o in expected)
        if agrees != meets:
            report.misgraded.append(Misgrade(
                example, "meets the guideline answer" if meets else "departs from it",
                "meets it" if agrees else "departs from it"))


def _values(values: dict[str, float]) -> str:
    return ", ".join(f"{o}={v:g}" for o, v in values.items())


def check_suite(name_or_path: str) -> SuiteCheck:
    """Check one suite (raises :class:`haia.errors.SuiteError` when it does not load)."""
    from haia.suites.loader import load_suite

    suite = load_suite(name_or_path)
    report = SuiteCheck(suite=suite.name, path=str(suite.path), items=len(suite.items))
    families_seen: set[str] = set()
    for item in suite.items:
        scorers = suite.scorers_for(item)
        _check_patterns(item, report)
        if item.family:
            if item.family in families_seen:
                continue  # a family's renderings share patterns, source and rationale
            families_seen.add(item.family)
        for what in ("source", "rationale"):
            if not (getattr(item, what) or "").strip():
                report.problems.append(f"item {item.id!r}: no {what}")
        needs = _needs(item, scorers)
        if needs:
            report.problems.append(f"item {item.id!r}: worked examples lack {'; '.join(needs)}")
        _check_examples(suite, item, report)
    if suite.path:
        _check_families(Path(suite.path), report)
        records, problems = read_reviews(suite.path)
        if not records and not _bundled(Path(suite.path)):
            # a user's own suite may not have been reviewed yet: say so, do not fail it
            report.warnings += [f"{p}: a report of this suite will show no content review"
                                for p in problems]
        else:
            report.problems += problems
    return report


def _bundled(path: Path) -> bool:
    from haia.suites.loader import bundled_dir

    return path.resolve().is_relative_to(bundled_dir().resolve())


def check_suites(names: list[str]) -> list[SuiteCheck]:
    """Check several suites."""
    return [check_suite(name) for name in names]


def as_dict(report: SuiteCheck) -> dict[str, Any]:
    """A JSON-ready view of a check (for ``--json``)."""
    return {
        "suite": report.suite, "path": report.path, "ok": report.ok, "items": report.items,
        "patterns": report.patterns, "examples": report.examples,
        "examples_by_label": report.examples_by_label, "problems": report.problems,
        "warnings": report.warnings,
        "misgraded": [_misgrade(m) for m in report.misgraded],
        "known_grader_limits": [{**_misgrade(m), "reason": m.example.grader_limit}
                                for m in report.known_limits],
    }


def _misgrade(m: Misgrade) -> dict[str, Any]:
    return {"item": m.example.item, "label": m.example.label, "kind": m.example.kind,
            "expected": m.expected, "got": m.got, "text": m.example.text}
