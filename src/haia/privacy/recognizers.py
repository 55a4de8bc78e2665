"""Clinical PHI pattern recognizers: cheap regular expressions run before the spaCy model.

Each :class:`Recognizer` is a compiled pattern, the entity type it yields and a score. When the
pattern has a named group ``v`` only that group is the entity (``MRN: 12345`` → ``12345``).
``case_sensitive_names`` recognizers look at capitalisation, so the detector runs them on a copy of
the text in which ALL-CAPS lines are title-cased (same length, same offsets).

The same patterns are offered to Presidio as ``PatternRecognizer`` objects by
:func:`presidio_recognizers`, so a Presidio ``AnalyzerEngine`` can use them too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

ENTITY_TYPES = ("NAME", "DATE", "AGE", "PHONE", "FAX", "EMAIL", "SSN", "MRN", "HEALTH_PLAN",
                "ACCOUNT", "LICENSE", "VEHICLE", "DEVICE", "URL", "IP", "ADDRESS", "ZIP",
                "LOCATION", "FACILITY", "ID")

# Words that end a name (a capitalised sentence word after a name, clinical vocabulary).
STOPWORDS = frozenset(["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "for",
                       "from", "had", "has", "have", "he", "her", "his", "i", "in", "is", "it",
                       "its", "me", "my", "no", "not", "of", "on", "or", "our", "she", "that",
                       "the", "their", "them", "then", "there", "they", "this", "to", "was", "we",
                       "were", "which", "who", "will", "with", "you", "your", "was", "is", "has",
                       "had", "presented", "presents", "presenting", "admitted", "seen", "reports",
                       "reported", "reports", "denies", "denied", "states", "stated", "complains",
                       "complained", "came", "went", "returned", "arrived", "discharged",
                       "transferred", "underwent", "started", "noted", "today", "yesterday",
                       "tomorrow", "patient", "pt", "mr", "mrs", "ms", "dr", "doctor", "nurse",
                       "prof", "please", "thank", "thanks", "dear", "regards", "sincerely", "re",
                       "date", "dob", "age", "sex", "male", "female", "history", "plan",
                       "assessment", "diagnosis", "impression", "medications", "allergies", "exam",
                       "examination", "follow", "up", "signed", "cc", "on", "call", "unit", "ward",
                       "room", "bed", "team", "service", "department", "dept", "clinic",
                       "hospital", "center", "centre", "mg", "ml", "kg", "bp", "hr", "rr", "spo2",
                       "temp", "the", "and", "but", "also", "who", "which", "when", "where",
                       "while", "after", "before", "during", "january", "february", "march",
                       "april", "may", "june", "july", "august", "september", "october",
                       "november", "december", "monday", "tuesday", "wednesday", "thursday",
                       "friday", "saturday", "sunday", "email", "e-mail", "phone", "fax",
                       "address", "mrn", "dob", "ssn", "portal", "ip", "licence", "license",
                       "member", "vin", "serial", "tel", "mobile", "called", "calls", "said",
                       "says", "saw", "seen", "told", "asked", "spoke", "visited", "lives",
                       "living", "lived", "died", "brought", "wife", "husband", "son", "daughter",
                       "mother", "father", "brother", "sister", "partner", "spouse", "friend",
                       "neighbour", "neighbor", "aunt", "uncle", "niece", "nephew", "grandson",
                       "granddaughter", "carer", "caregiver", "his", "hers", "him", "discharge",
                       "summary", "yours", "sincerely", "faithfully", "caller", "progress", "note",
                       "report", "radiology", "telephone", "encounter", "attending", "facility",
                       "admitted", "name", "md", "daily", "weekly", "weeks", "days", "months",
                       "follow-up", "review", "plan", "addr", "visit", "reason", "accession",
                       "triage", "handover", "nursing", "findings", "clinical", "remote",
                       "monitoring", "uploads", "local", "nearest", "insurance",
                       "home", "ph", "exam", "visiting", "completed", "returns", "informed",
                       "holds", "brought", "registered", "accompanied", "lives", "check",
                       "read", "course", "echo", "heart", "failure",
                       "referral", "letter", "encounter", "reg", "plate", "health", "card",
                       "mailing", "pharmacy", "pharmacist", "social", "work", "worker",
                       "outpatient", "inpatient", "emergency", "ambulance", "obs", "pca", "nok"])

PARTICLES = r"(?:Ó|Ní|Nic|Mhic|Uí|Ua|Mac[ \t]+an|[Vv]an|[Vv]on|" \
            r"[Dd]er|[Dd]en|[Dd]e|[Dd]el|[Dd]ella|[Dd]i|[Dd]a|[Ll]a|[Ll]e|[Dd]u" \
            r"|[Dd]os|[Dd]as|[Bb]in|[Ii]bn|[Aa]l|[Ee]l|[Tt]er|[Tt]en|VAN|VON|DER|DEN|DE|DEL|DI|DA" \
            r"|LA|LE|DU|BIN|AL|EL|NÍ|NIC)"
# Letters of Latin scripts (accented names: Siobhán, Wiśniewska, Nguyễn): upper, lower, any.
UP = "A-ZÀ-ÖØ-ÞĀ-ɏḀ-ỿ"
LO = "a-zß-öø-ÿĀ-ɏḀ-ỿ"
LET = "A-Za-zÀ-ÖØ-öø-ɏḀ-ỿ"
CAPS_UP = "A-ZÀ-ÖØ-Þ"
# A capitalised name token: O'Brien, McDonald, Smith-Jones, D'Souza, Núñez.
TC_TOK = rf"[{UP}][{LET}'’]*[{LO}][{LET}'’]*(?:-[{UP}][{LET}'’]*[{LO}][{LET}'’]*)?"
CAPS_TOK = rf"[{CAPS_UP}][{CAPS_UP}'’]*[{CAPS_UP}](?:-[{CAPS_UP}][{CAPS_UP}'’]+)?"
INITIAL = rf"[{CAPS_UP}]\.?"
_PART = rf"(?:{PARTICLES}[ \t]+){{0,2}}"
TC_NAME = rf"{_PART}{TC_TOK}(?:[ \t]+(?:{INITIAL}[ \t]+)?{_PART}{TC_TOK}){{0,3}}"
CAPS_NAME = rf"{_PART}{CAPS_TOK}(?:[ \t]+(?:{INITIAL}[ \t]+)?{_PART}{CAPS_TOK}){{0,3}}"
NAME_ANY = rf"(?:{TC_NAME}|{CAPS_NAME})"
LAST_FIRST = (rf"{_PART}(?:{TC_TOK}|{CAPS_TOK})(?:[ \t](?:{TC_TOK}|{CAPS_TOK}))?,[ \t]*"
              rf"(?:{TC_TOK}|{CAPS_TOK})(?:[ \t](?:{TC_TOK}|{CAPS_TOK}))?"
              rf"(?:[ \t]{INITIAL}(?![{LET}]))?")

TITLES = (r"(?:Dr|Doctor|Nurse|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Sister|Matron|Rev|Sr|Fr"
          r"|DR|DOCTOR|NURSE|MR|MRS|MS|MISS|PROF|SISTER|dr|mr|mrs|ms|mx|prof)")
NAME_LABELS = (r"(?i:patient[ \t]+name|patient|pt[ \t]+name|pt|name|full[ \t]+name|surname"
               r"|first[ \t]+name|last[ \t]+name|given[ \t]+name|family[ \t]+name"
               r"|next[ \t]+of[ \t]+kin|nok|emergency[ \t]+contact|contact(?:[ \t]+person)?"
               r"|guardian|mother|father|spouse|wife|husband|son|daughter|partner|carer|caregiver"
               r"|attending(?:[ \t]+physician)?|referring[ \t]+(?:physician|doctor|clinician)"
               r"|physician|provider|surgeon|gp|pcp|consultant|clinician|author|signed(?:[ \t]+by)?"
               r"|electronically[ \t]+signed[ \t]+by|dictated[ \t]+by|transcribed[ \t]+by"
               r"|witness|interpreter|caller|resident|fellow|intern|nurse|rn|cc|to|from|attn|re)")
RELATIONS = (r"(?:wife|husband|son|daughter|mother|father|brother|sister|partner|spouse|"
             r"grandson|granddaughter|niece|nephew|friend|neighbou?r|carer|caregiver|aunt|uncle)")

MONTH = (r"(?:(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|jun(?:e)?|jul(?:y)?"
         r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)|May|MAY)"
         r"\.?")
DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th|ST|ND|RD|TH)?"
WEEKDAY = (r"(?:(?i:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?i:day)?|(?i:wednesday"
           r"|tuesday|thursday|saturday))\.?,?[ \t]+")
YEAR = r"(?:1[89]\d\d|20\d\d)"

US_STATES = ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN",
             "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV",
             "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN",
             "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC", "PR", "GU", "VI", "AS", "MP",
             "AA", "AE", "AP", "FM", "MH", "PW"]
STATE_NAMES = ["Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut",
               "Delaware", "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa",
               "Kansas", "Kentucky", "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan",
               "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada", "Ohio",
               "Oklahoma", "Oregon", "Pennsylvania", "Tennessee", "Texas", "Utah", "Vermont",
               "Virginia", "Washington", "Wisconsin", "Wyoming"]
STATE = (r"(?:" + "|".join(US_STATES) + "|" + "|".join(STATE_NAMES)
         + r"|New[ \t]+(?:York|Jersey|Mexico|Hampshire)|North[ \t]+(?:Carolina|Dakota)"
         r"|South[ \t]+(?:Carolina|Dakota)|West[ \t]+Virginia|Rhode[ \t]+Island)")

# Street suffixes: USPS Publication 28 (Appendix C1) names and abbreviations, plus UK forms.
_SUFFIX_WORDS = """
alley aly allee annex anx arcade arc avenue ave av bayou byu beach bch bend bnd bluff blf bluffs
bottom btm boulevard blvd branch br bridge brg brook brk brooks burg bg burgs bypass byp camp cp
canyon cyn cape cpe causeway cswy center ctr centre centers circle cir circles cliff clf cliffs
club clb common cmn commons corner cor corners cors course crse court ct courts cts cove cv coves
creek crk crescent cres crest crst crossing xing crossroad crossroads curve curv dale dl dam dm
divide dv drive dr drives drs estate est estates ests expressway expy extension ext extensions
exts fall falls fls ferry fry field fld fields flds flat flt flats flts ford frd fords forest frst
forge frg forges fork frk forks frks fort ft freeway fwy garden gdn gardens gdns gateway gtwy glen
gln glens green grn greens grove grv groves harbor hbr harbour harbors haven hvn heights hts
highway hwy hill hl hills hls hollow holw inlet inlt island is islands iss isle junction jct
junctions key ky keys kys knoll knl knolls knls lake lk lakes lks land landing lndg lane ln light
lgt lights lgts loaf lf lock lck locks lcks lodge ldg loop mall manor mnr manors mnrs meadow mdw
meadows mdws mews mill ml mills mls mission msn motorway mtwy mount mt mountain mtn mountains mtns
neck nck orchard orch oval overpass opas park parks parkway pkwy parkways pass passage psge path
pike pine pne pines pnes place pl plain pln plains plns plaza plz point pt points pts port prt
ports prts prairie pr radial radl ramp ranch rnch rapid rpd rapids rpds rest rst ridge rdg ridges
rdgs river riv road rd roads rds route rte row rue run shoal shl shoals shls shore shr shores
shrs skyway skwy spring spg springs spgs spur spurs square sq squares sqs station sta stravenue
stra stream strm street st streets sts summit smt terrace ter throughway trwy trace trce track
trak trafficway trfy trail trl trailer trlr tunnel tunl turnpike tpke underpass upas union un
unions valley vly valleys vlys viaduct via view vw views vws village vlg villages vlgs ville vl
vista vis walk walks wall way ways well wl wells wls close rise wharf parade circus vale quay
approach side row gate yard chase hey wynd
"""
_SUFFIXES = sorted(set(_SUFFIX_WORDS.split()), key=len, reverse=True)
STREET_SUFFIX = "(?i:" + "|".join(_SUFFIXES) + ")"
STREET_SUFFIX_LOWER = "(?:" + "|".join(_SUFFIXES) + ")"
PROVINCE = r"(?:AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT)"
DIRECTION = r"(?i:n|s|e|w|ne|nw|se|sw|north|south|east|west)\.?"
_UNIT = (r"(?i:apt|apartment|unit|suite|ste|flat|room|rm|#|bldg|building|floor|fl|lot|space"
         r"|trlr)")
# Words that never sit inside a street name ("6 weeks with Dr." is not an address).
_NOT_STREET = (r"(?!(?i:with|and|for|the|of|in|at|to|on|by|from|weeks?|days?|months?|years?"
               r"|hours?|mins?|minutes|times|tablets?|tabs?|units?|doses?|mg|ml)\b)")
_STREET_WORD = rf"{_NOT_STREET}(?:[{UP}][{LET}'.-]*|\d{{1,3}}(?i:st|nd|rd|th))"
# A street line: "1427 N 3rd St SW, Apt 4", "Flat 3, 12 High Street", "200 West 34th Street".
STREET = (rf"(?:(?i:flat|apt|apartment|unit|suite|studio|room)[ \t]*\d+[A-Za-z]?,?"
          rf"(?:[ \t]+|[ \t]*\n[ \t]*)(?:\d{{1,6}}[A-Za-z]?(?:-\d{{1,4}})?[ \t]+)?"
          rf"|\d{{1,6}}[A-Za-z]?(?:-\d{{1,4}})?[ \t]+)(?:{DIRECTION}[ \t]+)?"
          rf"(?:{_STREET_WORD}[ \t]+){{1,4}}{STREET_SUFFIX}\b\.?"
          rf"(?:[ \t]+{DIRECTION}(?![{LET}]))?"
          rf"(?:,?[ \t]*{_UNIT}\.?[ \t]*#?[ \t]*[A-Za-z0-9-]+)?")
STREET_LOWER = (rf"(?:(?:flat|apt|apartment|unit|suite|studio|room)[ \t]*\d+[a-z]?,?"
                rf"(?:[ \t]+|[ \t]*\n[ \t]*)(?:\d{{1,6}}[a-z]?[ \t]+)?|\d{{1,6}}[a-z]?[ \t]+)"
                rf"(?:(?i:{DIRECTION})[ \t]+)?"
                rf"(?:{_NOT_STREET}(?:[{LO}][{LO}'.-]*|\d{{1,3}}(?:st|nd|rd|th))[ \t]+){{1,3}}"
                rf"{STREET_SUFFIX_LOWER}\b\.?(?:[ \t]+(?i:{DIRECTION})(?![{LET}]))?"
                rf"(?:,?[ \t]*{_UNIT}\.?[ \t]*#?[ \t]*[a-z0-9-]+)?")
CITY = rf"[{UP}][{LET}.'-]+(?:[ \t]+[{UP}][{LET}.'-]+){{0,2}}"
POSTAL = (r"(?:\d{5}(?:-\d{4})?|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d"
          r"|[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2})")
TAIL_SEP = r"(?:,[ \t]*|[ \t]*\n[ \t]*|[ \t]+)"
FACILITY_SUFFIX = (r"(?i:hospital|clinic|medical[ \t]+cent(?:er|re)|health[ \t]+cent(?:er|re)"
                   r"|infirmary|hospice|nursing[ \t]+home|care[ \t]+home|rehabilitation"
                   r"[ \t]+cent(?:er|re)|medical[ \t]+group|health[ \t]+system|healthcare"
                   r"|urgent[ \t]+care|pharmacy|surgery|practice|children's[ \t]+hospital"
                   r"|sanatorium|dialysis[ \t]+cent(?:er|re)|cancer[ \t]+cent(?:er|re))")

# An identifier value: letters, digits and separators with at least one digit.
ID_VALUE = r"(?=[A-Za-z./-]*\d)[A-Za-z0-9](?:[A-Za-z0-9./-]*[A-Za-z0-9]){3,}"
ID_SEP = (r"\"?\s*(?:(?i:number|num\.?|no\.?|nbr|#|id|is|was|of|on[ \t]+file|on[ \t]+record"
          r"|reads?|given[ \t]+as)\s*){0,3}[:#.=-]?\s*\"?")

LABELLED_IDS: dict[str, str] = {
    "MRN": (r"mrn|medical[ \t]+record(?:[ \t]+(?:number|no\.?|#))?|mr#|mr[ \t]+no|med[ \t]+rec"
            r"|hospital[ \t]+(?:number|no\.?|id)|hosp[ \t]+no|chart|patient[ \t]+id|pt[ \t]+id"
            r"|nhs[ \t]+number|unit[ \t]+number|record[ \t]+number|hosp(?:ital)?[ \t]*#"
            r"|med[ \t]+rec(?:ord)?[ \t]+(?:no|num|number|#)|mr[ \t]+(?:no|num|number|#)"),
    "HEALTH_PLAN": (r"health[ \t]+plan|member(?:[ \t]+id)?|insurance(?:[ \t]+id)?|policy"
                    r"|subscriber(?:[ \t]+id)?|medicaid(?:[ \t]+id)?|medicare(?:[ \t]+id)?"
                    r"|beneficiary(?:[ \t]+id)?|group[ \t]+number|plan[ \t]+id|payer[ \t]+id"
                    r"|insurer[ \t]+ref|health[ \t]+card|health[ \t]+insurance|ohip|phn"
                    r"|medical[ \t]+card|carte[ \t]+sant[ée]|insurance[ \t]+(?:no|number|#)"),
    "ACCOUNT": (r"account|acct|billing(?:[ \t]+account)?|invoice|encounter|visit|claim|fin"
                r"|bank[ \t]+account|iban"),
    "LICENSE": (r"licen[cs]e|lic\.?|dea|npi|certificate|cert\.?|board[ \t]+certification"
                r"|driver'?s[ \t]+licen[cs]e|passport|registration|gmc|nmc|provider[ \t]+id"),
    "VEHICLE": (r"(?:licen[cs]e|number|registration|reg\.?)[ \t]+plate|plate|vin|vehicle"
                r"(?:[ \t]+(?:id|identification(?:[ \t]+number)?|registration))?"),
    "DEVICE": (r"serial(?:[ \t]+number)?|s/n|sn|device(?:[ \t]+(?:id|serial))?|udi|implant"
               r"(?:[ \t]+(?:id|serial))?|pacemaker(?:[ \t]+serial)?|pump[ \t]+serial"
               r"|lot(?:[ \t]+number)?|imei|mac[ \t]+address"),
    "ID": (r"id|identifier|ref(?:erence)?|study[ \t]+id|subject[ \t]+id|case|accession"
           r"|specimen(?:[ \t]+id)?|order|badge|employee[ \t]+id|biometric[ \t]+id|trial[ \t]+id"
           r"|sample[ \t]+id|barcode|ticket"),
}


@dataclass(frozen=True)
class Recognizer:
    """One pattern: its name, the entity type it yields, score and compiled regex."""

    name: str
    type: str
    regex: re.Pattern[str]
    score: float
    case_sensitive_names: bool = False
    hint: re.Pattern[str] | None = None  # a cheap search that must succeed first

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        """Spans (start, end) of every match (of group ``v`` when the pattern has one)."""
        if self.hint is not None and not self.hint.search(text):
            return
        has_v = "v" in self.regex.groupindex
        for match in self.regex.finditer(text):
            start, end = match.span("v") if has_v else match.span()
            if start >= 0 and end > start:
                yield start, end


def _r(name: str, type_: str, pattern: str, score: float, names: bool = False,
       flags: int = 0, hint: str | None = None) -> Recognizer:
    return Recognizer(name, type_, re.compile(pattern, flags), score, names,
                      re.compile(hint) if hint else None)


def _labelled(type_: str, labels: str, score: float) -> Recognizer:
    labels = labels.replace("[ \\t]+", r"\s+")
    pattern = (rf"(?<![A-Za-z])(?i:{labels})(?![A-Za-z]){ID_SEP}(?P<v>{ID_VALUE})")
    return _r(f"labelled_{type_.lower()}", type_, pattern, score)


def build_recognizers() -> list[Recognizer]:
    """Every pattern recognizer, most specific first."""
    rec = [
        # Contact and network identifiers.
        _r("email", "EMAIL", r"\b[\w.+'-]+@[\w-]+(?:\.[\w-]+)+\b", 0.99),
        _r("url", "URL", r"\b(?i:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]", 0.95),
        _r("ipv4", "IP", r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
                         r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)", 0.9),
        _r("ipv6", "IP", r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])"
                         r"|(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,6}:(?:[0-9a-fA-F]{1,4}"
                         r"(?::[0-9a-fA-F]{1,4}){0,5})?(?![\w:])", 0.85),
        _r("ssn", "SSN", r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])",
           0.95),
        _r("ssn_labelled", "SSN", r"(?i:ssn|social[ \t]+security(?:[ \t]+(?:number|no\.?|#))?)"
                                  r"(?:[ \t]+(?i:is|was|on[ \t]+file|on[ \t]+record|of|no\.?"
                                  r"|number|ends[ \t]+in)){0,3}"
                                  r"[ \t]*[:#]?[ \t]*(?P<v>\d{3}[- ]?\d{2}[- ]?\d{4})\b", 0.99),
        _r("fax", "FAX", r"(?i:fax|facsimile)(?:[ \t]*(?:number|no\.?|#))?[ \t]*[:#]?[ \t]*"
                         r"(?P<v>(?:\+?\d{1,3}[\s.-]?)?\(?\d{2,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4})",
           0.97),
        _r("phone", "PHONE", r"(?<![\w+])(?:\+?1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}"
                             r"[ .-]\d{4}(?:[ \t]*(?:x|ext\.?)[ \t]*\d{1,5})?(?!\w)", 0.9),
        _r("phone_uk", "PHONE", r"(?<![\w+])(?:\+44[ \t]?(?:\(0\))?[ \t]?\d{2,4}|\(0\d{2,4}\)"
                                r"|0\d{2,4})[ \t]?\d{3,4}[ \t]?\d{3,4}(?!\w)", 0.8),
        _r("phone_us_ext", "PHONE", r"(?<![\w+])(?:\+?1[ .-]?|001[ .-]?)?(?:\(\d{3}\)[ .-]?"
                                    r"|\d{3}[ .-]?)\d{3}[ .-]?\d{4}(?:[ \t]*(?i:x|ext\.?)[ \t]*"
                                    r"\d{1,6})?(?!\w)", 0.85),
        _r("phone_intl", "PHONE", r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?!\w)",
           0.85),
        _r("phone_labelled", "PHONE",
           r"(?i:phone|tel\.?|telephone|mobile|cell|pager|bleep|contact[ \t]+number)"
           r"(?:[ \t]*(?:number|no\.?|#))?[ \t]*[:#]?[ \t]*(?P<v>\+?[\d(][\d ().-]{5,}\d)", 0.95),
        # Vehicle identifiers (VIN: 17 characters, no I, O or Q).
        _r("vin", "VEHICLE", r"\b(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])"
                             r"[A-HJ-NPR-Z0-9]{17}\b", 0.9),
        _r("plate", "VEHICLE", r"(?<![A-Za-z])(?i:(?:licen[cs]e|number|registration|reg\.?)"
                               r"[ \t]+plate|plate|vehicle[ \t]+registration)(?:[ \t]*(?:number"
                               r"|no\.?|#))?\s*[:#]?\s*(?P<v>[A-Z0-9]{1,4}[ •·-]?[A-Z0-9]{2,7})"
                               r"(?![\w-])", 0.95),
    ]
    order = ["VEHICLE", "DEVICE", "MRN", "HEALTH_PLAN", "ACCOUNT", "LICENSE", "ID"]
    rec += [_labelled(t, LABELLED_IDS[t], 0.9 if t != "ID" else 0.8) for t in order]
    rec += [
        # Dates (every element but the year alone).
        _r("date_iso", "DATE", r"(?<![\d-])(?:1[89]|20)\d\d-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d"
                               r"|3[01])(?![\d-])", 0.95),
        _r("date_ymd", "DATE", r"(?<![\d/.])(?:1[89]|20)\d\d[/.](?:0?[1-9]|1[0-2])[/.]"
                               r"(?:0?[1-9]|[12]\d|3[01])(?![\d/]|\.\d)", 0.95),
        _r("date_num", "DATE", r"(?<![\d/.:-])(?:0?[1-9]|[12]\d|3[01])([/.-])"
                               r"(?:0?[1-9]|[12]\d|3[01])\1(?:\d{4}|\d{2})(?![\d/:-]|\.\d)", 0.9),
        _r("date_dmy_text", "DATE", rf"(?<!\w)(?:{WEEKDAY})?(?:(?i:the)[ \t]+)?{DAY}"
                                    rf"(?:[ \t]+(?i:of))?"
                                    rf"[ \t]*[ \t-]{MONTH}(?:,?[ \t-]*(?:{YEAR}|'?\d\d(?!\d)))?"
                                    r"(?![A-Za-z])",
           0.9),
        _r("date_mdy_text", "DATE", rf"(?<![A-Za-z])(?:{WEEKDAY})?{MONTH}[ \t]+{DAY}"
                                    rf"(?:,?[ \t]+{YEAR})?(?!\w)",
           0.9),
        _r("date_my_text", "DATE", rf"(?<![A-Za-z]){MONTH},?[ \t]+{YEAR}(?!\d)", 0.85),
        _r("date_md_num", "DATE", r"(?i:(?<![A-Za-z])(?:on|dated|since|from|until|dob|d\.o\.b\.?))"
                                  r"[ \t:]+(?P<v>(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01]))"
                                  r"(?![\d/])", 0.8),
        # Ages over 89.
        _r("age_years", "AGE", r"(?<!\d)(?P<v>9\d|1[0-2]\d)[ \t-]*(?i:years?|yrs?|y)[ \t-]*"
                               r"(?i:old|of[ \t]+age|o\b|/o\b)", 0.95),
        _r("age_yo", "AGE", r"(?<!\d)(?P<v>9\d|1[0-2]\d)[ \t]*(?i:yo|y/o|y\.o\.?|yrs|years)(?!\w)",
           0.9),
        _r("age_label", "AGE", r"(?i:(?<![A-Za-z])(?:age|aged))[ \t]*[:=]?[ \t]*"
                               r"(?P<v>9\d|1[0-2]\d)(?!\d)", 0.95),
        _r("age_sex", "AGE", r"(?<!\d)(?P<v>9\d|1[0-2]\d)[ \t]?(?:M|F|yo[MF])(?![A-Za-z])", 0.7),
        # Geography.
        _r("po_box", "ADDRESS", r"(?i:p\.?[ \t]?o\.?[ \t]+box)[ \t]+\d+", 0.95),
        _r("street", "ADDRESS", rf"(?<![\w/.-]){STREET}", 0.9, names=True),
        _r("street_lower", "ADDRESS", rf"(?<![\w/.-]){STREET_LOWER}", 0.7),
        _r("street_city", "LOCATION", rf"(?<![\w/.-]){STREET}{TAIL_SEP}(?P<v>{CITY})"
                                      rf"(?=,?[ \t]+(?:(?:{STATE}|{PROVINCE}),?[ \t]+)?{POSTAL}"
                                      rf"|,?[ \t]+(?:{STATE}|{PROVINCE})(?![{LET}]))",
           0.85, names=True),
        _r("street_postal", "ZIP", rf"(?<![\w/.-]){STREET}{TAIL_SEP}{CITY}(?:,?[ \t]+(?:{STATE}"
                                   rf"|{PROVINCE}))?,?[ \t]+(?P<v>{POSTAL})(?![\w])", 0.9,
           names=True),
        _r("street_then_city", "LOCATION", rf"(?<![\w/.-]){STREET}(?:,[ \t]*|[ \t]+(?i:in|of)[ \t]+"
                                           rf"|[ \t]*\n[ \t]*)(?P<v>{CITY})(?=[ \t]*(?:[.,;:)\n]|$"
                                           rf"|[ \t]+[a-z]|[ \t]+(?i:and|with|for|on|in|at|to"
                                           rf"|was|is|who|where|since|from)\b))", 0.8, names=True),
        _r("street_lower_city", "LOCATION", rf"(?<![\w/.-]){STREET_LOWER},[ \t]*"
                                            rf"(?P<v>[{LO}][{LO}'-]+(?:[ \t]+[{LO}][{LO}'-]+)?)"
                                            rf"(?=[ \t]*(?:[.,;:)\n]|$))", 0.7),
        _r("postcode_ca", "ZIP", r"(?<![\w-])[ABCEGHJ-NPRSTVXY]\d[A-Z][ \t]?\d[A-Z]\d(?![\w-])",
           0.85),
        _r("postcode_uk", "ZIP", r"(?<![\w-])(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)[ \t]\d[ABD-HJLNP-UW-Z]{2}"
                                 r"(?![\w-])", 0.8),
        _r("zip_province", "ZIP", rf"(?<![A-Za-z]){PROVINCE},?[ \t]+(?P<v>{POSTAL})(?![\w])",
           0.9),
        _r("address_label", "ADDRESS", r"(?im:^[ \t]*(?:home[ \t]+|street[ \t]+|mailing[ \t]+)?"
                                       r"address(?:[ \t]+line[ \t]*\d)?[ \t]*:[ \t]*"
                                       r"(?P<v>[^\n,]*\d[^\n,]*))", 0.85),
        _r("zip_state", "ZIP", rf"(?<![A-Za-z]){STATE},?[ \t]+(?P<v>\d{{5}}(?:-\d{{4}})?)(?!\d)",
           0.95),
        _r("zip_label", "ZIP", r"(?i:zip(?:[ \t]*code)?|postal[ \t]+code|postcode)[ \t]*[:#]?"
                               r"[ \t]*(?P<v>\d{5}(?:-\d{4})?"
                               r"|[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2})",
           0.95),
        _r("city_state", "LOCATION", rf"(?<![A-Za-z.])(?!{TITLES}\.?[ \t])"
                                     rf"(?P<v>[A-Z][A-Za-z.'-]+(?:[ \t]+[A-Z][A-Za-z.'-]+){{0,2}}),"
                                     rf"[ \t]*{STATE}(?![A-Za-z])", 0.85),
        _r("city_label", "LOCATION", r"(?im:^[ \t]*(?:city|town|village|county|municipality"
                                     r"|place[ \t]+of[ \t]+birth|birthplace|residence)[ \t]*:"
                                     r"[ \t]*(?P<v>[A-Za-z][A-Za-z .'-]*[A-Za-z]))", 0.9),
        _r("lives_in", "LOCATION", r"(?i:lives[ \t]+in|living[ \t]+in|resident[ \t]+of|resides"
                                   r"[ \t]+in|moved[ \t]+to|from[ \t]+the[ \t]+town[ \t]+of"
                                   r"|relocated[ \t]+to|native[ \t]+of"
                                   r"|discharged(?:[ \t]+home)?[ \t]+to)\s+"
                                   r"(?P<v>[A-Z][a-z.'-]+(?:[ \t]+[A-Z][a-z.'-]+){0,2})",
           0.8, names=True),
        # Facilities.
        _r("facility", "FACILITY", rf"(?:(?:St\.?|Saint)[ \t]+[A-Z][a-z]+(?:'s|s)?[ \t]+)?"
                                   rf"(?:[A-Z][A-Za-z'.&-]*[ \t]+){{1,4}}(?=[A-Z]){FACILITY_SUFFIX}"
                                   rf"(?![A-Za-z])", 0.85, names=True),
        _r("facility_saint", "FACILITY", r"(?<![A-Za-z])(?:St\.?|Saint)[ \t]+[A-Z][a-z]+"
                                         r"(?:'s|s)(?:[ \t]+[A-Z][a-z]+){0,3}", 0.8, names=True),
        # Names.
        _r("name_header", "NAME", rf"(?m:^[ \t]*{NAME_LABELS}[ \t]*[:#][ \t]*(?:{TITLES}\.?[ \t]+)?"
                                  rf"(?P<v>{LAST_FIRST}|{NAME_ANY}))", 0.9, names=True),
        _r("name_title", "NAME", rf"(?<![A-Za-z]){TITLES}\.?\s+(?P<v>{NAME_ANY})", 0.85,
           names=True),
        _r("name_json", "NAME", r"(?i:\"(?:[a-z_ ]*name|patient|nok|next_of_kin|contact|guardian"
                                r"|caller|carer|physician|provider|author)\")\s*:\s*\""
                                r"(?P<v>[^\"\n]{2,80})\"", 0.85),
        _r("name_intro", "NAME", rf"(?i:this[ \t]+is|my[ \t]+name[ \t]+is|i[ \t]+am|i'm)[ \t]+"
                                 rf"(?P<v>{TC_NAME})", 0.75, names=True),
        _r("name_signoff", "NAME", rf"(?i:thanks|thank[ \t]+you|regards|best[ \t]+wishes|cheers"
                                   rf"|yours[ \t]+(?:sincerely|faithfully|truly)|love)"
                                   rf"(?:,[ \t]*(?:\n[ \t]*){{0,2}}|[ \t]*(?:\n[ \t]*){{1,2}})"
                                   rf"(?P<v>{TC_NAME})", 0.75, names=True),
        # Mixed-case text only (capitalisation is the evidence; an ALL-CAPS line has none).
        _r("name_after_word", "NAME", rf"(?<![{LET}])(?:for|as|by|with|from|to|and|of|see|saw"
                                      rf"|called|contact|per|For|As|By|With|From|To|And|See"
                                      rf"|Called|Contact|Per)[ \t]+(?P<v>{TC_TOK}(?:[ \t]+{TC_TOK})"
                                      rf"{{1,3}})", 0.6),
        _r("name_line_start", "NAME", rf"(?m:^[ \t]*(?:[-*•][ \t]*|[A-Z]:[ \t]+|[A-Z][a-z]+"
                                      rf"(?:[ \t][a-z]+)?:[ \t]+)(?P<v>{TC_TOK}(?:[ \t]+{TC_TOK})"
                                      rf"{{1,3}})(?=,|[ \t]+[a-z]))", 0.6),
        _r("name_line_single", "NAME", rf"(?m:^[ \t]*(?:[-*•][ \t]*|[A-Z]:[ \t]+|[A-Z][a-z]+"
                                       rf"(?:[ \t][a-z]+)?:[ \t]+)(?P<v>{TC_TOK})(?=[ \t]+(?:lives"
                                       rf"|lived|reports|returns|presents|presented|states|stated"
                                       rf"|denies|says|said|came|attended|arrived|called|visited"
                                       rf"|complains|agreed|declined|wants|needs|feels|walked"
                                       rf"|remains|continues|asked|requested)\b))", 0.6),
        _r("name_dear", "NAME", rf"(?i:dear)[ \t]+(?P<v>{TC_NAME})", 0.85, names=True),
        _r("name_relation", "NAME", rf"(?i:{RELATIONS})[ \t]*,?[ \t]+(?P<v>{TC_NAME})", 0.75,
           names=True),
        _r("name_credentials", "NAME", rf"(?P<v>{TC_NAME}),?[ \t]+(?:MD|DO|RN|NP|PA-C|PA|MBBS"
                                       rf"|FRCP|PhD|DNP|LPN|CNA|PharmD)\b", 0.85, names=True,
           hint=r"\b(?:MD|DO|RN|NP|PA|MBBS|FRCP|PhD|DNP|LPN|CNA|PharmD)\b"),
    ]
    rec += [
        # Any other long number (HIPAA's "any other unique identifying number"): 7+ digits in
        # a row, or 9+ digits in groups (card and account numbers).
        _r("long_number", "ID", r"(?<![\w.,/-])\d{7,}(?![\w.,/-]|[.,]\d)", 0.6),
        _r("grouped_number", "ID", r"(?<![\w.,/-])\d{3,6}(?:[ -]\d{3,6}){2,4}(?![\w/-])", 0.55),
    ]
    return rec


RECOGNIZERS = build_recognizers()


def presidio_recognizers() -> list:
    """The same patterns as Presidio ``PatternRecognizer`` objects (whole-match spans)."""
    from presidio_analyzer import Pattern, PatternRecognizer

    out = []
    for r in RECOGNIZERS:
        pattern = Pattern(r.name, r.regex.pattern, r.score)
        out.append(PatternRecognizer(supported_entity=r.type, name=f"haia_{r.name}",
                                     patterns=[pattern], global_regex_flags=r.regex.flags))
    return out
