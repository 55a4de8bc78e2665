"""Anonymisation operators: redact, mask, consistent surrogates and per-patient date shifting.

- ``redact``: ``[NAME]``, ``[DATE]``... (the entity type in brackets);
- ``mask``: every non-space character of the value becomes ``*``;
- ``surrogate``: a fake value of the same kind, the same for the same real value throughout a
  :class:`Scope` (a document or a patient): ``John Smith`` → ``Hugo Marsh`` and later
  ``Mr. Smith`` → ``Mr. Marsh``. Seeded: the same seed gives the same surrogates.
- date shifting (always with ``surrogate``, on request with the others): every date of a patient
  moves by the same number of days (30 to 730, either way, drawn per patient from the seed), in
  its original format, so intervals between dates are kept. Ages over 89 become ``90+``.

The reversible mapping (real value ↔ surrogate) is kept only when asked for, and written
encrypted with Fernet (``cryptography``); the key comes from ``HAIA_DEID_KEY`` (a Fernet key) or
the file named by ``HAIA_DEID_KEY_FILE``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haia.errors import HaiaError
from haia.patterns import union
from haia.privacy.detector import Entity

OPERATORS = ("redact", "mask", "surrogate")
KEY_ENV = "HAIA_DEID_KEY"
KEY_FILE_ENV = "HAIA_DEID_KEY_FILE"

FAKE_FIRST = ["Alder", "Bryony", "Caspian", "Delphine", "Emrys", "Fenella", "Gideon", "Honora",
              "Isidore", "Juniper", "Kestrel", "Linnea", "Marlowe", "Nerissa", "Orrin", "Perpetua",
              "Quillon", "Rosalind", "Sorrel", "Tamsin", "Ulric", "Verity", "Wystan", "Xanthe",
              "Yorick", "Zinnia", "Ambrose", "Briar", "Cosima", "Dashiell", "Elowen", "Florian",
              "Griselda", "Hollis", "Ianthe", "Jasper", "Kerensa", "Lysander", "Marigold", "Niall",
              "Odile", "Peregrine", "Rowena", "Silas", "Thaddeus", "Ursula", "Vesper",
              "Wilhelmina"]
FAKE_LAST = ["Ashdown", "Birchall", "Coldwell", "Dunmore", "Eastlake", "Fairweather", "Gillingham",
             "Hartwell", "Ingleby", "Jessop", "Kettering", "Langridge", "Marchbank", "Northcote",
             "Oakhurst", "Pendlebury", "Quenby", "Rainsford", "Stansfield", "Thistlewood",
             "Underhill", "Vardon", "Whitcombe", "Yardley", "Abernathy", "Blackwood", "Cresswell",
             "Dovecote", "Elmstead", "Foxley", "Greenhalgh", "Holloway", "Ivywood", "Kingsmill",
             "Lockwood", "Mossop", "Nettleton", "Ormerod", "Pettigrew", "Ridgeway", "Saltmarsh",
             "Tennant", "Upcott", "Wetherby", "Yeoman"]
FAKE_CITIES = ["Ashbury", "Brambleton", "Coldharbour", "Dunmere", "Elmbridge", "Fallowfield",
               "Greyhaven", "Hollowmere", "Ivybridge", "Kingsreach", "Larkfield", "Millbrook",
               "Northwick", "Oakmere", "Pennydale", "Quarrytown", "Rivermead", "Stonebury",
               "Thornfield", "Willowby"]
FAKE_STREETS = ["Acorn", "Beacon", "Chestnut", "Dovetail", "Evergreen", "Foxglove", "Gatehouse",
                "Heather", "Juniper", "Kingfisher", "Lantern", "Meadowsweet", "Nightingale",
                "Orchard", "Primrose", "Quayside", "Rosehip", "Sycamore", "Tanglewood", "Wren"]
FACILITY_STEMS = ["Harbourview", "Kestrel", "Valley", "Northbrook", "Silverlake", "Westmere",
                  "Oakridge", "Brightwater", "Elmwood", "Hollybank", "Ravenscourt"]
PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "la", "le", "du", "dos",
             "das", "bin", "ibn", "al", "el", "ter", "ten"}

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december"]
_MONTH_NUM = {m[:3]: k + 1 for k, m in enumerate(MONTHS)}
_DATE_FORMS = [
    re.compile(r"^(?P<y>\d{4})(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<a>\d{1,2})(?P<s>[-/.])(?P<b>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})$"),
    re.compile(r"^(?:the\s+)?(?P<d>\d{1,2})(?P<suf>st|nd|rd|th)?(?:\s+of)?[\s-]*(?P<m>[A-Za-z]+)"
               r"\.?(?:,?[\s-]*'?(?P<y>\d{4}|\d{2}))?$", re.IGNORECASE),
    re.compile(r"^(?P<m>[A-Za-z]+)\.?\s+(?P<d>\d{1,2})(?P<suf>st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?$",
               re.IGNORECASE),
    re.compile(r"^(?P<m>[A-Za-z]+)\.?,?\s+(?P<y>\d{4})$", re.IGNORECASE),
    re.compile(r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})$"),
]


def _rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _match_case(fake: str, original: str) -> str:
    if original.isupper() and len(original) > 1:
        return fake.upper()
    if original.islower():
        return fake.lower()
    return fake


def _ordinal(day: int) -> str:
    if 10 <= day % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def shift_date(value: str, days: int) -> str | None:
    """``value`` moved by ``days``, written in its own format; ``None`` if not a date we parse."""
    text = value.strip()
    lead = value[: len(value) - len(value.lstrip())]
    for form in _DATE_FORMS:
        match = form.match(text)
        if match:
            break
    else:
        return None
    groups = match.groupdict()
    try:
        if "a" in groups:  # numeric d/m/y or m/d/y: US order unless the first part exceeds 12
            a, b = int(groups["a"]), int(groups["b"])
            day_first = a > 12 or (groups["s"] == "." and b <= 12)  # 5.3.24 is 5 March
            month, day = (b, a) if day_first else (a, b)
            spans = {"m": match.span("b" if day_first else "a"),
                     "d": match.span("a" if day_first else "b")}
        else:
            raw_m = groups["m"]
            month = int(raw_m) if raw_m.isdigit() else _MONTH_NUM.get(raw_m[:3].lower(), 0)
            day = int(groups["d"]) if groups.get("d") else 15
            spans = {"m": match.span("m")}
            if groups.get("d"):
                spans["d"] = match.span("d")
        raw_y = groups.get("y")
        if raw_y:
            year = int(raw_y) if len(raw_y) == 4 else (2000 + int(raw_y) if int(raw_y) <= 40
                                                        else 1900 + int(raw_y))
            spans["y"] = match.span("y")
        else:
            year = 2000 if (month, day) == (2, 29) else 2001
        original = dt.date(year, month, day)
    except (ValueError, KeyError):
        return None
    new = original + dt.timedelta(days=days)
    replacements: dict[str, str] = {}
    numeric = text[spans["m"][0]:spans["m"][1]].isdigit()
    for key, (s, e) in spans.items():
        old = text[s:e]
        pad = old.startswith("0") or (numeric and len(old) == 2)
        if key == "d":
            replacements[key] = f"{new.day:0{len(old)}d}" if pad else str(new.day)
        elif key == "y":
            replacements[key] = str(new.year) if len(old) == 4 else f"{new.year % 100:02d}"
        elif old.isdigit():
            replacements[key] = f"{new.month:0{len(old)}d}" if pad else str(new.month)
        else:
            name = MONTHS[new.month - 1]
            name = name if len(old) > 3 and old.lower() in MONTHS else name[:3]
            replacements[key] = _match_case(name.capitalize(), old)
    if groups.get("suf"):
        spans["suf"] = match.span("suf")
        old = groups["suf"]
        replacements["suf"] = _match_case(_ordinal(new.day), old)
    out = text
    for key, (s, e) in sorted(spans.items(), key=lambda kv: -kv[1][0]):
        out = out[:s] + replacements[key] + out[e:]
    return lead + out


@dataclass
class Scope:
    """Surrogate state of one document or patient: consistent fakes and one date offset."""

    key: str
    seed: int
    values: dict[tuple[str, str], str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    reverse: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def date_offset(self) -> int:
        """Days every date of this scope moves (never zero, 30..730 either way)."""
        rng = _rng("date", self.seed, self.key)
        return rng.randint(30, 730) * rng.choice((-1, 1))

    def _unique(self, kind: str, original: str, make: Any) -> str:
        norm = re.sub(r"\s+", " ", original.strip().lower())
        cached = self.values.get((kind, norm))
        if cached is not None:
            return cached
        used = set(self.reverse)
        for attempt in range(50):
            fake = make(_rng(self.seed, self.key, kind, norm, attempt))
            if fake not in used and fake.lower() != norm:
                break
        self.values[(kind, norm)] = fake
        self.reverse[fake] = original
        return fake

    def name(self, original: str) -> str:
        """A surrogate name, token by token (so partial mentions stay consistent)."""
        comma = "," in original
        parts = re.split(r"([^\W\d_](?:[^\W\d_]|['’-])*)", original)
        words = [p for p in parts[1::2]]
        out = []
        word_index = 0
        for k, part in enumerate(parts):
            if k % 2 == 0:
                out.append(part)
                continue
            low = part.lower()
            if low in PARTICLES and part.islower() and len(words) > 1:
                out.append(part)
            elif len(part) == 1:
                letter = _rng(self.seed, self.key, "initial", low).choice(string.ascii_uppercase)
                out.append(_match_case(letter, part) if part.islower() else letter)
            else:
                first = (word_index == 1) if comma else (word_index == 0 and len(words) > 1)
                fake = self.tokens.get(low)
                if fake is None:
                    lexicon = FAKE_FIRST if first else FAKE_LAST
                    used = set(self.tokens.values())
                    for attempt in range(50):
                        fake = _rng(self.seed, self.key, "tok", low, attempt).choice(lexicon)
                        if fake not in used and fake.lower() != low:
                            break
                    self.tokens[low] = fake
                    self.reverse[fake] = part.capitalize() if part.isupper() else part
                out.append(_match_case(fake, part))
            word_index += 1
        fake_full = "".join(out)
        self.reverse[fake_full] = original
        return fake_full

    def surrogate(self, kind: str, original: str) -> str:
        """A fake value of the same kind as ``original``."""
        if kind == "NAME":
            return self.name(original)
        if kind == "AGE":
            return "90+"
        if kind == "DATE":
            shifted = shift_date(original, self.date_offset)
            if shifted is not None:
                self.reverse[shifted] = original
                return shifted
            return "[DATE]"
        return self._unique(kind, original, lambda rng: _fake(kind, original, rng))

    def restore(self, text: str) -> str:
        """``text`` with every surrogate of this scope put back to its real value."""
        if not self.reverse:
            return text
        forms: dict[str, str] = {}
        for fake, real in self.reverse.items():
            if fake.startswith("[") or fake == "90+":
                continue
            forms.setdefault(fake, real)
            forms.setdefault(fake.upper(), real.upper())
        pattern = union(forms)
        return pattern.sub(lambda m: forms[m.group(0)], text)


def _shape(original: str, rng: random.Random) -> str:
    out = []
    for c in original:
        if c.isdigit():
            out.append(rng.choice(string.digits))
        elif c.isupper():
            out.append(rng.choice(string.ascii_uppercase))
        elif c.islower():
            out.append(rng.choice(string.ascii_lowercase))
        else:
            out.append(c)
    return "".join(out)


def _fake(kind: str, original: str, rng: random.Random) -> str:
    if kind == "EMAIL":
        return f"{rng.choice(FAKE_FIRST)}.{rng.choice(FAKE_LAST)}{rng.randint(1, 99)}" \
               "@example.org".lower()
    if kind == "URL":
        return f"https://example.org/{rng.getrandbits(32):08x}"
    if kind == "IP":
        if ":" in original:
            return f"2001:db8::{rng.getrandbits(16):x}"
        return f"192.0.2.{rng.randint(1, 254)}"
    if kind == "SSN":
        return "9" + _shape(original[1:], rng)  # area 9xx is never issued
    if kind == "ADDRESS":
        suffix = re.search(r"(?i)\b(street|st|avenue|ave|road|rd|lane|ln|drive|dr|court|ct"
                           r"|way|place|pl|boulevard|blvd|close|crescent|terrace)\b\.?", original)
        end = suffix.group(0) if suffix else "Street"
        fake = f"{rng.randint(1, 9899)} {rng.choice(FAKE_STREETS)} {end}"
        return fake.upper() if original.isupper() else fake
    if kind == "LOCATION":
        return _match_case(rng.choice(FAKE_CITIES), original)
    if kind == "FACILITY":
        suffix = re.search(r"(?i)(hospital|clinic|medical cent(?:er|re)|health cent(?:er|re)"
                           r"|infirmary|hospice|nursing home|care home|pharmacy|surgery|practice)"
                           r"\s*$", original)
        fake = f"{rng.choice(FACILITY_STEMS)} {suffix.group(1) if suffix else 'Hospital'}"
        return fake.upper() if original.isupper() else fake
    return _shape(original, rng)


class MappingWriter:
    """The reversible mapping, appended as Fernet tokens (one encrypted JSON batch a line)."""

    def __init__(self, path: str | Path, key: bytes, batch: int = 500) -> None:
        from cryptography.fernet import Fernet

        self.path = Path(path)
        self._fernet = Fernet(key)
        self._batch = batch
        self._pending: list[dict[str, str]] = []
        self._file = self.path.open("wb")

    def add(self, scope: str, kind: str, original: str, surrogate: str) -> None:
        self._pending.append({"scope": scope, "type": kind, "original": original,
                              "surrogate": surrogate})
        if len(self._pending) >= self._batch:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            token = self._fernet.encrypt(json.dumps(self._pending).encode())
            self._file.write(token + b"\n")
            self._pending = []

    def close(self) -> None:
        self.flush()
        self._file.close()


def load_key(required: bool = True) -> bytes | None:
    """The Fernet key from ``$HAIA_DEID_KEY`` or the file named by ``$HAIA_DEID_KEY_FILE``."""
    value = os.environ.get(KEY_ENV)
    if not value and os.environ.get(KEY_FILE_ENV):
        try:
            value = Path(os.environ[KEY_FILE_ENV]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise HaiaError(f"{KEY_FILE_ENV}: cannot read the key file: {exc.strerror}") from None
    if not value:
        if not required:
            return None
        raise HaiaError(f"--mapping needs an encryption key: set {KEY_ENV} (or {KEY_FILE_ENV} to "
                        "a key file); make one with: python -c \"from cryptography.fernet import "
                        "Fernet; print(Fernet.generate_key().decode())\"")
    from cryptography.fernet import Fernet

    try:
        Fernet(value.encode())
    except ValueError:
        raise HaiaError(f"{KEY_ENV}: not a valid Fernet key (32 url-safe base64 bytes)") from None
    return value.encode()


def read_mapping(path: str | Path, key: bytes) -> list[dict[str, str]]:
    """Decrypt a mapping file written by :class:`MappingWriter`."""
    from cryptography.fernet import Fernet, InvalidToken

    fernet = Fernet(key)
    out: list[dict[str, str]] = []
    for number, line in enumerate(Path(path).read_bytes().splitlines(), 1):
        if line.strip():
            try:
                out += json.loads(fernet.decrypt(line.strip()))
            except InvalidToken:
                raise HaiaError(f"{path}: line {number}: wrong key or corrupted mapping") from None
    return out


class Anonymizer:
    """Applies one operator to detected entities, keeping a :class:`Scope` per patient."""

    def __init__(self, operator: str = "redact", *, shift_dates: bool = False, seed: int = 0,
                 mapping: MappingWriter | None = None, max_scopes: int = 10000) -> None:
        if operator not in OPERATORS:
            raise HaiaError(f"unknown operator {operator!r} (use one of: {', '.join(OPERATORS)})")
        self.operator = operator
        self.shift_dates = shift_dates or operator == "surrogate"
        self.seed = seed
        self.mapping = mapping
        self.max_scopes = max_scopes
        self._scopes: dict[str, Scope] = {}

    def scope(self, key: str | None) -> Scope:
        """The scope of patient/document ``key`` (a fresh one when ``key`` is None)."""
        if key is None:
            return Scope("", self.seed)
        if key not in self._scopes:
            if len(self._scopes) >= self.max_scopes:  # bounded memory on huge files
                self._scopes.pop(next(iter(self._scopes)))
            self._scopes[key] = Scope(key, self.seed)
        return self._scopes[key]

    def replacement(self, kind: str, value: str, scope: Scope) -> str:
        """What replaces ``value`` (an entity of type ``kind``)."""
        if kind == "DATE" and self.shift_dates:
            new = scope.surrogate("DATE", value)
        elif self.operator == "redact":
            return f"[{kind}]"
        elif self.operator == "mask":
            return re.sub(r"\S", "*", value)
        else:
            new = scope.surrogate(kind, value)
        if self.mapping is not None and new != value:
            self.mapping.add(scope.key, kind, value, new)
        return new

    def anonymize(self, text: str, entities: Iterable[Entity], scope: Scope | str | None = None
                  ) -> str:
        """``text`` with every entity replaced."""
        if not isinstance(scope, Scope):
            scope = self.scope(scope)
        out = []
        pos = 0
        for ent in sorted(entities, key=lambda e: e.start):
            if ent.start < pos:
                continue
            out.append(text[pos:ent.start])
            out.append(self.replacement(ent.type, text[ent.start:ent.end], scope))
            scope.counts[ent.type] = scope.counts.get(ent.type, 0) + 1
            pos = ent.end
        out.append(text[pos:])
        return "".join(out)
