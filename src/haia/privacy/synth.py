"""Seeded synthetic clinical notes with exact gold PHI spans, for tests and ``bench/deid.py``.

Every note is invented: names, places and numbers are drawn from small hand-written lists and
random digits. Formats: header blocks, narrative progress notes, discharge summaries, referral
letters, telephone encounters, radiology reports; some typed in ALL CAPS, some hard-wrapped.
``generate(n, seed)`` returns :class:`Note` objects whose ``spans`` are ``(start, end, TYPE)``.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field

FIRST = ["James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "William", "Linda", "David",
         "Elizabeth", "Richard", "Barbara", "Joseph", "Susan", "Thomas", "Jessica", "Charles",
         "Sarah", "Christopher", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty",
         "Mark", "Margaret", "Donald", "Sandra", "Steven", "Ashley", "Paul", "Kimberly", "Andrew",
         "Emily", "Joshua", "Donna", "Kenneth", "Michelle", "Kevin", "Carol", "Brian", "Amanda",
         "George", "Melissa", "Timothy", "Deborah", "Aisha", "Mohammed", "Priya", "Ravi", "Mei",
         "Wei", "Hiroshi", "Yuki", "Olga", "Ivan", "Fatima", "Omar", "Chidi", "Ngozi", "Kwame",
         "Ama", "Sofia", "Mateo", "Lucia", "Diego", "Siobhan", "Padraig", "Anneke", "Pieter",
         "Ingrid", "Lars", "Amara", "Tariq", "Leilani", "Keanu"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
        "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
        "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
        "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
        "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
        "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "O'Brien", "O'Connor", "D'Souza",
        "Smith-Jones", "Garcia-Lopez", "McAllister", "MacDonald", "Okonkwo", "Adeyemi", "Patel",
        "Chen", "Kowalski", "Johansson", "Fitzgerald", "Abernathy-Cole",
        "van der Berg", "de la Cruz", "van Dijk", "de Souza", "von Hagen", "di Stefano"]
TITLES_BY_SEX = {"F": ["Mrs.", "Ms.", "Miss"], "M": ["Mr."]}
STREETS = ["Maple", "Oak", "Pine", "Cedar", "Elm", "Willow", "Birch", "Chestnut", "Walnut",
           "Hickory", "Lakeview", "Hillcrest", "Sunset", "Meadow", "Ridge", "Valley", "Highland",
           "Riverside", "Park", "Church", "Mill", "Spring"]
SUFFIXES = ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Drive", "Court", "Way",
            "Boulevard", "Place", "Terrace"]
CITIES = [("Springfield", "IL"), ("Riverton", "WY"), ("Fairview", "OR"), ("Greenville", "SC"),
          ("Madison", "WI"), ("Franklin", "TN"), ("Clinton", "IA"), ("Georgetown", "TX"),
          ("Salem", "MA"), ("Bristol", "CT"), ("Dover", "DE"), ("Ashland", "KY"),
          ("Oxford", "MS"), ("Burlington", "VT"), ("Kingston", "NY"), ("Marion", "OH"),
          ("Lexington", "NC"), ("Auburn", "AL"), ("Milford", "NH"), ("Newport", "RI"),
          ("Cedar Rapids", "IA"), ("Eau Claire", "WI"), ("Santa Rosa", "CA"),
          ("Baton Rouge", "LA")]
FACILITIES = ["Mercy General Hospital", "St. Jude's Hospital", "Riverside Medical Center",
              "Lakeside Community Clinic", "Northgate Family Practice", "Saint Agnes Hospital",
              "Pinecrest Nursing Home", "Valley View Hospice", "Harbor Urgent Care",
              "St. Luke's Medical Center", "Greenfield Health Center", "Hillside Infirmary",
              "Cedar Grove Dialysis Center", "Westbrook Children's Hospital",
              "Memorial Regional Hospital", "Oakwood Rehabilitation Center"]
CONDITIONS = ["type 2 diabetes", "hypertension", "heart failure with reduced ejection fraction",
              "COPD", "chronic kidney disease stage 3", "atrial fibrillation", "osteoarthritis",
              "community-acquired pneumonia", "major depressive disorder", "asthma",
              "cellulitis of the left leg", "a hip fracture"]
MEDS = ["metformin 500 mg twice daily", "lisinopril 10 mg daily", "apixaban 5 mg twice daily",
        "furosemide 40 mg daily", "atorvastatin 40 mg at night", "sertraline 50 mg daily",
        "salbutamol inhaler as needed", "amlodipine 5 mg daily"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


@dataclass
class Note:
    """A synthetic note and its gold PHI spans."""

    id: str
    text: str
    spans: list[tuple[int, int, str]]
    format: str
    meta: dict[str, str] = field(default_factory=dict)


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[tuple[int, int, str]] = []
        self.length = 0

    def __call__(self, text: str, kind: str | None = None) -> _Builder:
        if kind:
            self.spans.append((self.length, self.length + len(text), kind))
        self.parts.append(text)
        self.length += len(text)
        return self

    def text(self) -> str:
        return "".join(self.parts)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))


def format_date(d: dt.date, rng: random.Random) -> str:
    """A date in one of the formats seen in notes."""
    month = MONTHS[d.month - 1]
    suffix = "th" if 10 <= d.day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
    forms = [
        f"{d:%Y-%m-%d}", f"{d:%m/%d/%Y}", f"{d.month}/{d.day}/{d.year}", f"{d.day} {month[:3]} "
        f"{d.year}", f"{month} {d.day}{suffix}, {d.year}", f"{month} {d.day}, {d.year}",
        f"{d.day}.{d.month}.{d.year % 100:02d}", f"{d.day:02d}-{month[:3]}-{d.year}",
        f"{d:%Y/%m/%d}", f"{d.day} {month} {d.year}", f"{month[:3]} {d.day}",
        f"the {d.day}{suffix} of {month}", f"{d:%d.%m.%Y}",
    ]
    return rng.choice(forms)


@dataclass
class _Person:
    first: str
    last: str
    initial: str
    sex: str
    dob: dt.date
    age: int
    street: str
    city: str
    state: str
    zip: str
    phone: str
    fax: str
    email: str
    ssn: str
    mrn: str
    member: str
    account: str
    licence: str
    vin: str
    plate: str
    serial: str
    url: str
    ip: str
    relative: str
    relation: str
    clinician: str
    clinician2: str
    facility: str
    visit: dt.date


def _phone(rng: random.Random) -> str:
    area, mid, end = f"{rng.randint(201, 989)}", f"{rng.randint(200, 989)}", _digits(rng, 4)
    return rng.choice([f"({area}) {mid}-{end}", f"{area}-{mid}-{end}", f"{area}.{mid}.{end}",
                       f"+1 {area} {mid} {end}"])


def _person(rng: random.Random) -> _Person:
    sex = rng.choice("FM")
    age = rng.choice([rng.randint(18, 89), rng.randint(18, 89), rng.randint(90, 104)])
    visit = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 2000))
    dob = visit - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, state = rng.choice(CITIES)
    street = f"{rng.randint(1, 9999)} {rng.choice(STREETS)} {rng.choice(SUFFIXES)}"
    if rng.random() < 0.3:
        unit = f"{rng.randint(1, 40)}{rng.choice('AB')}"
        street += rng.choice([", Apt ", ", Unit ", " #"]) + unit
    handle = f"{first[0]}{last.replace(' ', '').replace(chr(39), '')}{rng.randint(1, 99)}".lower()
    return _Person(
        first=first, last=last, initial=rng.choice(string.ascii_uppercase), sex=sex, dob=dob,
        age=age, street=street, city=city, state=state, zip=_digits(rng, 5), phone=_phone(rng),
        fax=_phone(rng), email=f"{handle}@{rng.choice(['mailbox.org', 'example.net', 'post.com'])}",
        ssn=f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        mrn=rng.choice([_digits(rng, 8), f"MR{_digits(rng, 7)}", f"{_digits(rng, 3)}-"
                        f"{_digits(rng, 4)}"]),
        member=f"{_letters(rng, 3)}{_digits(rng, 9)}", account=f"{_digits(rng, 10)}",
        licence=rng.choice([f"{_letters(rng, 2)}{_digits(rng, 7)}", f"MD-{_digits(rng, 6)}"]),
        vin=_letters(rng, 3) + _digits(rng, 2) + _letters(rng, 2) + _digits(rng, 10),
        plate=f"{_letters(rng, 3)}-{_digits(rng, 4)}",
        serial=f"SN{_digits(rng, 6)}{_letters(rng, 2)}",
        url=f"https://portal.{rng.choice(['mercyhealth', 'carelink', 'myclinic'])}.org/p/"
            f"{_digits(rng, 6)}",
        ip=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        relative=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        relation=rng.choice(["wife", "husband", "daughter", "son", "sister", "brother"]),
        clinician=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        clinician2=rng.choice(LAST), facility=rng.choice(FACILITIES), visit=visit,
    )


def _age_text(p: _Person, b: _Builder) -> None:
    if p.age > 89:
        b(str(p.age), "AGE")
    else:
        b(str(p.age))


def _header(p: _Person, b: _Builder, rng: random.Random) -> None:
    name_form = rng.choice(["first_last", "last_first"])
    b(rng.choice(["Patient: ", "Name: ", "Patient Name: ", "PT: "]))
    if name_form == "last_first":
        b(f"{p.last}, {p.first}", "NAME")
    else:
        b(f"{p.first} {p.last}", "NAME")
    b("\n" + rng.choice(["MRN: ", "MRN ", "Medical Record Number: ", "MR#: "]))
    b(p.mrn, "MRN")
    b(rng.choice(["    DOB: ", "\nDOB: ", "\nDate of birth: "]))
    b(format_date(p.dob, rng), "DATE")
    b("\nAddress: ")
    b(p.street, "ADDRESS")
    b(", ")
    b(p.city, "LOCATION")
    b(f", {p.state} ")
    b(p.zip, "ZIP")
    b("\n" + rng.choice(["Phone: ", "Tel: ", "Home phone: "]))
    b(p.phone, "PHONE")
    if rng.random() < 0.6:
        b("\nEmail: ")
        b(p.email, "EMAIL")
    b("\n" + rng.choice(["Insurance ID: ", "Member ID: ", "Medicaid ID: ", "Policy number: "]))
    b(p.member, "HEALTH_PLAN")
    if rng.random() < 0.5:
        b("\nSSN: ")
        b(p.ssn, "SSN")
    if rng.random() < 0.5:
        b("\nAccount: ")
        b(p.account, "ACCOUNT")
    b("\n\n")


def _title(p: _Person) -> str:
    return "Mrs." if p.sex == "F" else "Mr."


def _progress(p: _Person, b: _Builder, rng: random.Random) -> None:
    _header(p, b, rng)
    b("PROGRESS NOTE\n")
    b(f"{_title(p)} ")
    b(p.last, "NAME")
    b(" is a ")
    _age_text(p, b)
    b(f"-year-old {'woman' if p.sex == 'F' else 'man'} with {rng.choice(CONDITIONS)} seen in "
      "clinic at ")
    b(p.facility, "FACILITY")
    b(" on ")
    b(format_date(p.visit, rng), "DATE")
    b(f". Current medication: {rng.choice(MEDS)}. BP 132/84, HR 78. ")
    b(f"Accompanied by her {p.relation} " if p.sex == "F" else f"Accompanied by his {p.relation} ")
    b(p.relative, "NAME")
    b(", who can be reached on ")
    b(p.phone, "PHONE")
    b(". Plan: review in 6 weeks with Dr. ")
    b(p.clinician2, "NAME")
    b(".\nSigned: Dr. ")
    b(p.clinician, "NAME")
    b(", MD\n")


def _discharge(p: _Person, b: _Builder, rng: random.Random) -> None:
    b("DISCHARGE SUMMARY\n")
    b(rng.choice(["Patient: ", "Name: "]))
    b(f"{p.last}, {p.first} {p.initial}", "NAME")
    b("\nMRN: ")
    b(p.mrn, "MRN")
    b("\nAdmitted: ")
    b(format_date(p.visit, rng), "DATE")
    b("   Discharged: ")
    b(format_date(p.visit + dt.timedelta(days=rng.randint(1, 14)), rng), "DATE")
    b("\nAttending: Dr. ")
    b(p.clinician, "NAME")
    b("\nFacility: ")
    b(p.facility, "FACILITY")
    b(f"\n\nHospital course: admitted with {rng.choice(CONDITIONS)}; treated and improved. ")
    if rng.random() < 0.5:
        b("Pacemaker serial number: ")
        b(p.serial, "DEVICE")
        b(" checked and functioning. ")
    b("Discharged home to ")
    b(p.city, "LOCATION")
    b(f" on {rng.choice(MEDS)}. Follow-up with Dr. ")
    b(p.clinician2, "NAME")
    b(" at ")
    b(p.facility, "FACILITY")
    b(" on ")
    b(format_date(p.visit + dt.timedelta(days=rng.randint(15, 40)), rng), "DATE")
    b(".\nBilling account: ")
    b(p.account, "ACCOUNT")
    b("\n")


def _referral(p: _Person, b: _Builder, rng: random.Random) -> None:
    b(p.facility, "FACILITY")
    b("\n")
    b(p.street, "ADDRESS")
    b("\n")
    b(p.city, "LOCATION")
    b(f", {p.state} ")
    b(p.zip, "ZIP")
    b("\n\n")
    b(format_date(p.visit, rng), "DATE")
    b("\n\nDear Dr. ")
    b(p.clinician2, "NAME")
    b(",\n\nRe: ")
    b(f"{p.first} {p.last}", "NAME")
    b(", DOB ")
    b(format_date(p.dob, rng), "DATE")
    b(", NHS number ")
    b(p.mrn, "MRN")
    b(f"\n\nThank you for seeing this {p.age if p.age <= 89 else ''}")
    if p.age > 89:
        b(str(p.age), "AGE")
    b(f"-year-old with {rng.choice(CONDITIONS)}. ")
    b(f"{'She' if p.sex == 'F' else 'He'} lives in ")
    b(p.city, "LOCATION")
    b(" with ")
    b("her" if p.sex == "F" else "his")
    b(f" {p.relation}, ")
    b(p.relative, "NAME")
    b(". Please contact me on ")
    b(p.phone, "PHONE")
    b(" or by fax on ")
    b(p.fax, "FAX")
    b(", or e-mail ")
    b(p.email, "EMAIL")
    b(".\n\nYours sincerely,\n\nDr. ")
    b(p.clinician, "NAME")
    b("\nLicence number: ")
    b(p.licence, "LICENSE")
    b("\n")


def _telephone(p: _Person, b: _Builder, rng: random.Random) -> None:
    b("Telephone encounter ")
    b(format_date(p.visit, rng), "DATE")
    b("\nCaller: ")
    b(p.relative, "NAME")
    b(f" ({p.relation}) on ")
    b(p.phone, "PHONE")
    b("\nRe patient ")
    b(f"{p.first} {p.last}", "NAME")
    b(", age ")
    _age_text(p, b)
    b(", MRN ")
    b(p.mrn, "MRN")
    b(f".\nReports that {'she' if p.sex == 'F' else 'he'} was the driver in a minor collision; "
      "vehicle plate ")
    b(p.plate, "VEHICLE")
    b(", VIN ")
    b(p.vin, "VEHICLE")
    b(". No head injury. Advised review at ")
    b(p.facility, "FACILITY")
    b(". Portal message sent via ")
    b(p.url, "URL")
    b(" (login from ")
    b(p.ip, "IP")
    b(").\nNurse ")
    b(p.clinician, "NAME")
    b("\n")


def _radiology(p: _Person, b: _Builder, rng: random.Random) -> None:
    b("RADIOLOGY REPORT\nName: ")
    b(f"{p.first} {p.last}", "NAME")
    b("   Accession number: ")
    acc = f"ACC{_digits(rng, 8)}"
    b(acc, "ID")
    b("\nExam date: ")
    b(format_date(p.visit, rng), "DATE")
    b("\nOrdering physician: Dr. ")
    b(p.clinician, "NAME")
    b(f"\nChest radiograph: {rng.choice(['no acute findings', 'small left effusion'])}. "
      "Implanted device serial ")
    b(p.serial, "DEVICE")
    b(" noted. Compared with the study of ")
    b(format_date(p.visit - dt.timedelta(days=rng.randint(30, 400)), rng), "DATE")
    b(".\nReported by Dr. ")
    b(p.clinician2, "NAME")
    b(", ")
    b(p.facility, "FACILITY")
    b("\n")


TEMPLATES: dict[str, Callable[[_Person, _Builder, random.Random], None]] = {
    "progress": _progress, "discharge": _discharge, "referral": _referral,
    "telephone": _telephone, "radiology": _radiology,
}


def _wrap(text: str, spans: list[tuple[int, int, str]], width: int) -> str:
    """Hard-wrap at spaces outside gold spans (same length: a space becomes a newline)."""
    inside = bytearray(len(text))
    for s, e, _ in spans:
        inside[s:e] = b"\x01" * (e - s)
    chars = list(text)
    col = 0
    for i, c in enumerate(chars):
        col = 0 if c == "\n" else col + 1
        if c == " " and col >= width and not inside[i]:
            chars[i] = "\n"
            col = 0
    return "".join(chars)


def generate(n: int = 500, seed: int = 0) -> list[Note]:
    """``n`` labelled notes, the same for the same seed."""
    rng = random.Random(seed)
    notes = []
    names = list(TEMPLATES)
    for k in range(n):
        person = _person(rng)
        kind = names[k % len(names)]
        builder = _Builder()
        TEMPLATES[kind](person, builder, rng)
        text, spans = builder.text(), builder.spans
        style = rng.choice(["plain", "plain", "caps", "wrapped"])
        if style == "caps":
            text = text.upper()
        elif style == "wrapped":
            text = _wrap(text, spans, rng.randint(40, 70))
        notes.append(Note(f"note-{k:04d}", text, list(spans), f"{kind}/{style}",
                          {"patient": f"P{k:04d}"}))
    return notes
