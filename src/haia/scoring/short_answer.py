"""Short free-text answers: an accepted answer, in any of medicine's spellings, that is asserted.

An item's accepted answers are its ``answer`` (a string or a list; the first is the canonical key)
and its ``aliases`` (abbreviations, expansions, Latin or lay synonyms). Both the answer and each
accepted term are normalised before matching: case, punctuation, hyphens and spaces ("A-fib",
"A fib", "afib"), plurals ("troponins"), British and American spelling ("haemorrhage",
"oedema", "anaemia", "normalised", "tumour", "litre"), and Greek letters ("β-blocker" and
"beta blocker"). A term found only in a negated or contradicted context ("not aspirin",
"aspirin is wrong", "rather than aspirin"), in the condition of an "if", or offered as one of
two alternatives with a term that is not accepted ("atrial fibrillation or flutter") does not
count, and an answer that both gives and negates an accepted term is contradicted and fails.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from haia.patterns import union
from haia.scoring.base import Score, register
from haia.scoring.context import AnswerContext, Assertion
from haia.suites.model import Item

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon",
    "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "µ": "mu",
}
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_SPELLING = [  # British -> American, applied to each lower-case token
    (re.compile(r"^(?:oe|ae)(?=[dst])"), "e"),  # oedema, oesophagus, aetiology
    (re.compile(r"(?<=[a-z])(?:ae|oe)(?=[a-z])"), "e"),  # haem, anaemia, paediatric, foetal
    (re.compile(r"(?<=[a-z]{3})our(?=s?$|ed$|ing$|ite|al$|ally$|able$|ful$|less$|ism$|ist$|er$)"),
     "or"),  # tumour, colour, behavioural, favourable
    (re.compile(r"(?<=[a-z]{2})is(?=e$|es$|ed$|ing$|ation$|ations$|er$|ers$)"), "iz"),
    (re.compile(r"(?<=[a-z]{2})ys(?=e$|es$|ed$|ing$)"), "yz"),  # analyse
    (re.compile(r"(?<=[a-z]{2}[bcdfghklmnpstvz])re(?=s?$)"), "er"),  # litre, centre, fibre
    (re.compile(r"ogue$"), "og"),  # catalogue
    (re.compile(r"(?<=[aeiou])ll(?=ed$|ing$|er$)"), "l"),  # labelled, travelling
]
_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                 "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11",
                 "twelve": "12", "twenty": "20", "fifty": "50", "hundred": "100"}
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7",
          "viii": "8", "ix": "9", "x": "10", "xi": "11", "xii": "12"}
_ROMAN_AFTER = {"class", "grade", "type", "stage", "phase", "asa", "level", "category", "factor",
                "nyha", "gold", "nerve", "cn", "degree", "status", "p", "ps", "tier"}


def _singular(token: str) -> str:
    if len(token) <= 3 or token.isdigit():
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "xes", "ches", "shes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def normalise_token(token: str) -> str:
    """One token in the form both the answer and the key are compared in."""
    token = unicodedata.normalize("NFKC", token).lower()
    token = "".join(_GREEK.get(ch, ch) for ch in token)
    token = unicodedata.normalize("NFKD", token)
    token = "".join(ch for ch in token if not unicodedata.combining(ch))
    for pattern, repl in _SPELLING:
        token = pattern.sub(repl, token)
    return _singular(token)


@dataclass(frozen=True)
class _Tokens:
    words: list[str]
    spans: list[tuple[int, int]]


def tokens(text: str) -> _Tokens:
    """The normalised tokens of ``text`` with their character spans in the original."""
    words: list[str] = []
    spans = []
    for m in _TOKEN.finditer(text):
        raw = m.group(0)
        # "β2" and "beta2" split into a Greek-letter name and its number alike.
        for part in re.finditer(r"[^\W\d_]+|\d+", raw):
            word = normalise_token(part.group(0))
            word = _NUMBER_WORDS.get(word, word)
            if words and words[-1] in _ROMAN_AFTER:  # "class IV" = "class 4"
                word = _ROMAN.get(word, word)
            words.append(word)
            spans.append((m.start() + part.start(), m.start() + part.end()))
    return _Tokens(words, spans)


def normalise(text: str) -> str:
    """``text`` in the normalised form used for matching (tokens joined by single spaces)."""
    return " ".join(tokens(text).words)


@cache
def _term_pattern(term: str) -> re.Pattern[str] | None:
    words = tokens(term).words
    if not words:
        return None
    alternatives = {" ?".join(map(re.escape, words))}
    squashed = "".join(words)
    if len(squashed) >= 4 and not squashed.isdigit():  # "A-Fib" = "AFib", "CA 125" = "CA125"
        alternatives.add(" ?".join(map(re.escape, squashed)))
    return union(alternatives, literal=False)


@dataclass(frozen=True)
class Occurrence:
    """An accepted term found in the answer, and how the answer holds it."""

    term: str
    start: int
    end: int
    state: str


def _char_spans(tok: _Tokens) -> tuple[str, list[int]]:
    """The normalised string and, per its character, the token index it came from."""
    owner: list[int] = []
    parts = []
    for i, word in enumerate(tok.words):
        if i:
            parts.append(" ")
            owner.append(i)
        parts.append(word)
        owner.extend([i] * len(word))
    return "".join(parts), owner


_OR = re.compile(r"^\W*(?:or|and/or|vs\.?|versus)\s+(\w[\w\s-]{0,40}?)(?:[,.;:)?!]|\bor\b|$)",
                 re.IGNORECASE)
_OR_BEFORE = re.compile(r"(?:\beither\s+(?:\w[\w-]*\s+){0,4}|(?:\w[\w-]*\s+){1,4})(?:or|and/or)"
                        r"\s+$", re.IGNORECASE)
# The term ranked after another answer: "X, followed by Y", "X; second, Y" (a sequence of
# actions, "X, then Y", is not a ranking).
_RANKED_AFTER = re.compile(r"\w[^.;:]*?(?:,?\s*followed by|[,;]\s*second(?:ly)?,?|"
                           r"[,;]\s*(?:and )?(?:less|not as) (?:commonly|often),?)\s+$",
                           re.IGNORECASE)


# Predicates that disqualify the term as the answer: "X is unlikely", "X is ruled out", "X is
# second line", "X has no ...", "X was never ...", "X only works ...".
_DISQUALIFIED = re.compile(
    r"^\W{0,3}(?:\w+\s+){0,3}?(?:(?:is|are|was|were|'s)\s+(?:(?:now|also|usually|often|very|"
    r"too|only|much)\s+)?(?:unlikely|ruled out|excluded|avoided|rare|uncommon|incorrect|wrong|"
    r"obsolete|outdated|contraindicated|normal|not\b|never\b|no longer|second[- ]line|"
    r"third[- ]line|too\s+\w+|only (?:for|used|given|in)|a (?:distractor|red herring)|"
    r"(?:less|not as|no more)\s+\w+\s+than)|"
    r"(?:cannot|can't|doesn't|does not|don't|do not|won't|will not|has no|have no|had no|"
    r"only works|was never|were never|is never|are never|isn't|aren't|wasn't|weren't)\b)",
    re.IGNORECASE)
# A term used with a predicate about it ("X is for ...", "X has ...", "X runs ...").
_PREDICATE = re.compile(r"^\W{0,3}(?:\w+\s+){0,2}?(?:is|are|was|were|has|have|had|runs?|counts?|"
                        r"means?|measures?|only|needs?|requires?|gives?|covers?)\b",
                        re.IGNORECASE)
# A later clause that names the answer instead: "; it's Y", "; this is Y", "(the Latin is Y)",
# "; use Y" after "X is (only) for ...".
_IDENTITY = re.compile(r"[;:.(\u2014]\s*(?:so\s+|but\s+|rather,?\s+|instead,?\s+)?"
                       r"(?:it(?:'s| is)|this is|that(?:'s| is)|the (?:correct |right |real )?"
                       r"(?:answer|one|term|diagnosis|cause|test|marker|drug|score|scale|index|"
                       r"latin|name|organism|virus|tool|guideline|treatment) is|the answer:)\s+"
                       r"(?P<other>[^;:.()]{1,60})", re.IGNORECASE)
_REDIRECT = re.compile(r"[;:.(\u2014]\s*(?:so\s+|instead,?\s+)?(?:(?:use|give|try|choose|pick|"
                       r"prefer|look for|aim (?:for|below|under|at)|target)\s+|(?=(?:the|an?)\s))"
                       r"(?P<other>[^;:.()]{1,60})", re.IGNORECASE)
_FOR_ONLY = re.compile(r"^\W{0,3}(?:\w+\s+){0,2}?(?:is|are)\s+(?:only\s+|mainly\s+|used\s+)*"
                       r"(?:for|in)\b", re.IGNORECASE)


def _names_other(match: re.Match[str] | None, accepted: list[str]) -> bool:
    if match is None:
        return False
    other = normalise(match.group("other"))
    return bool(other) and not any(
        (p := _term_pattern(t)) is not None and p.search(other) for t in accepted)


def _contradicted(response: str, start: int, end: int, accepted: list[str]) -> bool:
    """Whether the answer disqualifies this occurrence ("X is unlikely", "X is second line") or
    says something else is the answer after saying something about X ("X has nine items; it's
    the HADS", "X is for observational work; use SPIRIT")."""
    after = response[end:]
    if _DISQUALIFIED.match(after):
        return True
    if _PREDICATE.match(after) and _names_other(_IDENTITY.search(after), accepted):
        return True
    return bool(_FOR_ONLY.match(after)) and _names_other(_REDIRECT.search(after), accepted)


def find_occurrences(response: str, terms: list[str]) -> list[Occurrence]:
    """Every accepted term in ``response`` (longest match wins where terms overlap)."""
    tok = tokens(response)
    if not tok.words:
        return []
    joined, owner = _char_spans(tok)
    context = AnswerContext(response)
    found: list[tuple[int, int, str]] = []
    for term in terms:
        pattern = _term_pattern(term)
        if pattern is None:
            continue
        for m in pattern.finditer(joined):
            first, last = owner[m.start()], owner[m.end() - 1]
            found.append((tok.spans[first][0], tok.spans[last][1], term))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    kept: list[tuple[int, int, str]] = []
    for start, end, term in found:
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end, term))
    accepted = [t for t in terms if _term_pattern(t) is not None]
    occurrences = []
    for start, end, term in kept:
        state = context.assertion(start, end).value
        if state == Assertion.asserted and _contradicted(response, start, end, accepted):
            state = Assertion.negated.value
        elif state == Assertion.asserted and _alternative(response, start, end, accepted):
            state = "alternative"
        occurrences.append(Occurrence(term, start, end, state))
    return occurrences


def _alternative(response: str, start: int, end: int, accepted: list[str]) -> bool:
    """Whether the term is offered as one of alternatives that are not all accepted, or named
    only after another answer ("X, followed by Y")."""
    after = _OR.match(response[end:])
    window = response[max(0, start - 60):start]
    before = _OR_BEFORE.search(window) or _RANKED_AFTER.search(window)
    others = [g for g in (after.group(1) if after else None,
                          before.group(0) if before else None) if g]
    if not others:
        return False
    for other in others:
        words = re.sub(r"\b(?:either|or|and/or|followed by|and|second(?:ly)?|less|not as|"
                       r"commonly|often)\b", " ", other, flags=re.IGNORECASE)
        if not words.strip():
            continue
        if not any(_term_pattern(t) and _term_pattern(t).search(normalise(words))
                   for t in accepted):
            return True
    return False


def accepted_terms(item: Item) -> list[str]:
    """The item's accepted answers: ``answer`` (string or list) then ``aliases``."""
    answers = [] if item.answer is None else (
        [item.answer] if isinstance(item.answer, str) else list(item.answer))
    return answers + [a for a in item.aliases if a not in answers]


def grade_short_answer(response: str, terms: list[str]) -> tuple[str | None, str]:
    """(the accepted term the answer gives, or ``None``; why) for ``response``."""
    occurrences = find_occurrences(response, terms)
    if not occurrences:
        return None, "absent"
    asserted = [o for o in occurrences if o.state == Assertion.asserted]
    negated = [o for o in occurrences if o.state == Assertion.negated]
    if asserted and negated:
        return None, "contradicted"
    if not asserted:
        return None, occurrences[0].state
    return asserted[0].term, "asserted"


def matches_answer(response: str, answers: list[str]) -> str | None:
    """The accepted answer that ``response`` gives (normalised, asserted), else ``None``."""
    return grade_short_answer(response, answers)[0]


@register("short_answer", metrics=("accuracy",))
def score_short_answer(item: Item, response: str) -> list[Score]:
    """``accuracy``: 1 when the response gives one of the item's accepted answers (its ``answer``
    or ``aliases``, normalised) and does not negate or contradict it."""
    if item.answer is None:
        return []
    found, why = grade_short_answer(response, accepted_terms(item))
    return [Score("accuracy", float(found is not None), label=found, detail={"match": why})]
