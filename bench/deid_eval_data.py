"""EVALUATION data for de-identification: clinical notes that haia's recognizers were NOT built on.

This generator is deliberately separate from ``haia.privacy.synth`` (the development generator the
recognizers were tuned against) and shares nothing with it: the people, places and numbers come
from Faker (its name, address and phone providers in many locales, none of them haia's lists), and
the note shapes below were written for evaluation, in forms ``synth`` does not use (portal
messages typed in lower case, ALL-CAPS legacy headers, handover sheets, pharmacy and social-work
notes, Canadian and UK letters, lab requisitions, JSON-ish exports...). Addresses follow US, UK
and Canadian mail forms (Faker's en_US, en_GB and en_CA providers); names come from ~25 locales,
including Spanish, Portuguese, Vietnamese, Polish, Irish, Nigerian (Yoruba, Igbo, Hausa) and
Pakistani (Arabic-derived transliterations), plus romanised Chinese.

``generate(n, seed)`` returns :class:`EvalNote` objects with exact gold spans ``(start, end,
TYPE)``; the same seed gives the same notes. Used by ``bench/deid.py``; never imported by haia.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

NAME_LOCALES = ["en_US", "en_GB", "en_IE", "ga_IE", "en_NG", "yo_NG", "ig_NG", "ha_NG", "en_PK",
                "en_IN", "es_ES", "es_MX", "es_CO", "es_AR", "pt_BR", "pt_PT", "vi_VN", "pl_PL",
                "fr_FR", "de_DE", "it_IT", "nl_NL", "tr_TR", "id_ID", "fil_PH", "en_KE",
                "zh_CN"]
ADDRESS_LOCALES = ["en_US", "en_US", "en_GB", "en_CA"]


@dataclass
class EvalNote:
    """One evaluation note and its gold PHI spans."""

    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    shape: str = ""


class _Builder:
    """Appends literal text and PHI values, recording the spans of the values."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[tuple[int, int, str]] = []

    def lit(self, text: str) -> _Builder:
        self.parts.append(text)
        self.length += len(text)
        return self

    def phi(self, kind: str, value: str) -> _Builder:
        self.spans.append((self.length, self.length + len(value), kind))
        return self.lit(value)

    def note(self, shape: str) -> EvalNote:
        return EvalNote("".join(self.parts), self.spans, shape)


class _People:
    """Faker instances per locale, seeded from the run's generator."""

    def __init__(self, rng: random.Random) -> None:
        from faker import Faker

        self.rng = rng
        self.fakers: dict[str, Faker] = {}
        for loc in {*NAME_LOCALES, *ADDRESS_LOCALES}:
            fk = Faker(loc)
            fk.seed_instance(rng.randrange(1 << 30))
            self.fakers[loc] = fk

    def person(self) -> tuple[str, str, str]:
        """(first, last, full) in a random locale, Latin script."""
        loc = self.rng.choice(NAME_LOCALES)
        fk = self.fakers[loc]
        if loc == "zh_CN":
            first, last = fk.first_romanized_name(), fk.last_romanized_name()
            return first, last, f"{first} {last}" if self.rng.random() < 0.5 else f"{last} {first}"
        first, last = fk.first_name(), fk.last_name()
        if loc == "vi_VN":  # family name first, often a middle name
            middle = fk.middle_name() if hasattr(fk, "middle_name") else ""
            full = " ".join(p for p in (last, middle, first) if p)
            return first, last, full
        if loc.startswith(("es", "pt")) and self.rng.random() < 0.5:
            last = f"{last} {fk.last_name()}"  # compound surnames
        if self.rng.random() < 0.12:
            last = f"{last}-{self.fakers['en_GB'].last_name()}"
        return first, last, f"{first} {last}"

    def address(self) -> dict[str, str]:
        loc = self.rng.choice(ADDRESS_LOCALES)
        fk = self.fakers[loc]
        street = fk.street_address()
        if loc == "en_US" and self.rng.random() < 0.3:  # directions and ordinals
            n = self.rng.randint(1, 120)
            suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10 if n % 100 not in (11, 12, 13)
                                                     else 0, "th")
            direction = self.rng.choice(["N", "S", "E", "W", "North", "West"])
            kind = self.rng.choice(["St", "Street", "Ave", "Avenue", "Pl"])
            street = f"{fk.building_number()} {direction} {n}{suffix} {kind}"
            if self.rng.random() < 0.4:
                street += f" {self.rng.choice(['NW', 'SE', 'NE', 'SW'])}"
        if loc == "en_GB":
            return {"street": street, "city": fk.city(), "postcode": fk.postcode(), "form": "UK"}
        if loc == "en_CA":
            return {"street": street, "city": fk.city(), "region": fk.province_abbr(),
                    "postcode": fk.postalcode(), "form": "CA"}
        return {"street": street, "city": fk.city(), "region": fk.state_abbr(),
                "postcode": fk.zipcode(), "form": "US"}

    def phone(self) -> str:
        loc = self.rng.choice(["en_US", "en_US", "en_GB", "en_CA"])
        return self.fakers[loc].phone_number()


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _date_text(rng: random.Random, d: date) -> str:
    forms = ["%m/%d/%Y", "%d/%m/%Y", "%Y-%m-%d", "%B %d, %Y", "%d %b %Y", "%d-%b-%Y", "%b %d",
             "%m/%d/%y", "%d.%m.%Y", "%A %d %B %Y"]
    text = d.strftime(rng.choice(forms))
    return text.replace(" 0", " ") if rng.random() < 0.5 else text


def _case(rng: random.Random, value: str, shout: bool) -> str:
    return value.upper() if shout else value


class _Note:
    """Values for one note: a patient, relatives, clinicians, places and numbers."""

    def __init__(self, rng: random.Random, people: _People) -> None:
        self.rng = rng
        self.p_first, self.p_last, self.patient = people.person()
        self.rel_first, _, self.relative = people.person()
        _, self.doc_last, self.doctor = people.person()
        self.nurse = people.person()[2]
        self.addr = people.address()
        self.phone = people.phone()
        self.phone2 = people.phone()
        fk = people.fakers["en_US"]
        self.email = fk.free_email() if rng.random() < 0.6 else fk.company_email()
        self.ssn = fk.ssn()
        self.mrn = rng.choice([_digits(rng, rng.randint(6, 10)),
                               f"{rng.choice(['MR', 'H', 'A'])}{_digits(rng, 7)}",
                               f"{_digits(rng, 3)}-{_digits(rng, 3)}-{_digits(rng, 3)}"])
        self.member = f"{''.join(rng.choices(string.ascii_uppercase, k=3))}{_digits(rng, 9)}"
        self.account = _digits(rng, rng.randint(8, 12))
        self.npi = _digits(rng, 10)
        self.url = fk.uri() if rng.random() < 0.5 else fk.url()
        self.ip = fk.ipv4_public()
        self.plate = fk.license_plate()
        self.serial = f"{''.join(rng.choices(string.ascii_uppercase, k=2))}{_digits(rng, 8)}"
        base = date(2019, 1, 1) + timedelta(days=rng.randint(0, 2000))
        self.visit = base
        self.dob = date(rng.randint(1928, 2005), rng.randint(1, 12), rng.randint(1, 28))
        self.follow = base + timedelta(days=rng.randint(7, 90))
        self.old_age = rng.randint(90, 104)
        self.age = rng.randint(19, 88)
        self.hospital = f"{people.fakers['en_US'].last_name()} " + rng.choice(
            ["Memorial Hospital", "Medical Center", "Community Hospital", "Health Centre",
             "Regional Medical Centre", "Family Clinic"])

    def date(self, d: date) -> str:
        return _date_text(self.rng, d)


Shape = Callable[[_Note, _Builder, bool], None]


def _addr_block(n: _Note, b: _Builder, shout: bool, sep: str = "\n") -> None:
    a = n.addr
    b.phi("ADDRESS", _case(n.rng, a["street"], shout))
    if a["form"] == "UK":
        b.lit(sep if sep == "\n" else ", ").phi("LOCATION", _case(n.rng, a["city"], shout))
        b.lit(sep if sep == "\n" else " ").phi("ZIP", a["postcode"])
    else:
        b.lit(sep if sep == "\n" else ", ").phi("LOCATION", _case(n.rng, a["city"], shout))
        b.lit(n.rng.choice([", ", " "]) + a["region"]).lit(n.rng.choice(["  ", " "]))
        b.phi("ZIP", a["postcode"])


def discharge(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("DISCHARGE SUMMARY\n").lit("Name: ").phi("NAME", _case(n.rng, f"{n.p_last}, {n.p_first}",
                                                                   shout))
    b.lit("   Hosp #: ").phi("MRN", n.mrn).lit("\nD.O.B.: ").phi("DATE", n.date(n.dob))
    b.lit("   Admitted: ").phi("DATE", n.date(n.visit)).lit("\nAttending: Dr. ")
    b.phi("NAME", _case(n.rng, n.doctor, shout))
    b.lit("\n\nCourse: The patient was admitted with an exacerbation of heart failure and "
          "diuresed with IV furosemide. Creatinine peaked at 1.6 and settled. Echo showed an "
          "ejection fraction of 35%. She was seen by cardiology and discharged on "
          "bisoprolol 2.5 mg daily.\n\nFollow-up: heart failure clinic on ")
    b.phi("DATE", n.date(n.follow)).lit(". Daughter ").phi("NAME", n.relative)
    b.lit(" will drive her; contact ").phi("PHONE", n.phone).lit(".\n")


def portal_message(n: _Note, b: _Builder, shout: bool) -> None:
    first = n.p_first.lower()
    b.lit("hi dr ").phi("NAME", n.doc_last.lower()).lit(", this is ")
    b.phi("NAME", f"{first} {n.p_last.lower()}").lit(" (dob ").phi("DATE", n.date(n.dob))
    b.lit("). my inhaler ran out and the pharmacy says they need a new script. ")
    b.lit("can you call me back at ").phi("PHONE", n.phone).lit(" or email ")
    b.phi("EMAIL", n.email).lit("? my new address is ")
    b.phi("ADDRESS", n.addr["street"].lower()).lit(", ").phi("LOCATION", n.addr["city"].lower())
    b.lit(". thanks, ").phi("NAME", first).lit("\n")


def legacy_header(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("PT NAME: ").phi("NAME", f"{n.p_last.upper()}, {n.p_first.upper()}")
    b.lit("  MED REC NO: ").phi("MRN", n.mrn).lit("\nSSN: ").phi("SSN", n.ssn)
    b.lit("  DOB: ").phi("DATE", n.date(n.dob).upper()).lit("  AGE: ")
    b.phi("AGE", str(n.old_age)).lit("\nADDR: ")
    _addr_block(n, b, True, sep=",")
    b.lit("\nHOME PH: ").phi("PHONE", n.phone).lit("\nINSURANCE ID: ").phi("HEALTH_PLAN", n.member)
    b.lit("\nREASON FOR VISIT: FALL AT HOME, RIGHT HIP PAIN. NO LOSS OF CONSCIOUSNESS.\n")


def handover(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("Nursing handover, bed 14\n- ").phi("NAME", n.patient).lit(", ")
    b.phi("AGE", str(n.old_age)).lit("yo, post-op day 2 right hemicolectomy\n")
    b.lit("- obs stable, pain controlled with PCA, mobilised to chair\n- son ")
    b.phi("NAME", n.relative).lit(" visiting this evening, NOK mobile ").phi("PHONE", n.phone2)
    b.lit("\n- handed over by ").phi("NAME", n.nurse).lit(", RN at 19:30\n")


def telephone(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("Telephone encounter ").phi("DATE", n.date(n.visit)).lit("\nCaller: ")
    b.phi("NAME", n.relative).lit(" (wife of patient)\nRe: ").phi("NAME", n.patient)
    b.lit(", MRN ").phi("MRN", n.mrn).lit("\nShe reports he has been more confused since "
                                         "yesterday and is not eating. Advised to attend the "
                                         "emergency department. Call back number ")
    b.phi("PHONE", n.phone).lit(". Dr ").phi("NAME", n.doc_last).lit(" informed.\n")


def referral_uk(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("Dear Dr ").phi("NAME", n.doc_last).lit(",\n\nRe: ").phi("NAME", n.patient)
    b.lit(", DOB ").phi("DATE", n.date(n.dob)).lit("\n")
    _addr_block(n, b, False)
    b.lit("\n\nThank you for seeing this gentleman with a six-month history of progressive "
          "breathlessness and weight loss. A chest radiograph showed a right hilar mass. "
          "I would be grateful for an urgent respiratory opinion.\n\nYours sincerely,\n\n")
    b.phi("NAME", n.nurse).lit("\nGeneral Practitioner, ").phi("FACILITY", n.hospital).lit("\n")


def pharmacy(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("Pharmacy note: medication reconciliation for ").phi("NAME", n.patient)
    b.lit(" completed with the patient and her carer ").phi("NAME", n.relative)
    b.lit(". Warfarin 3 mg on Mon/Wed/Fri, INR 2.4 on ").phi("DATE", n.date(n.visit))
    b.lit(". Prescriber NPI ").phi("LICENSE", n.npi).lit(". Community pharmacy fax ")
    b.phi("FAX", n.phone2).lit(".\n")


def social_work(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("Social work: ").phi("NAME", n.p_first).lit(" lives alone at ")
    b.phi("ADDRESS", n.addr["street"]).lit(" in ").phi("LOCATION", n.addr["city"])
    b.lit(" and was referred for home support. Her nephew ").phi("NAME", n.relative)
    b.lit(" (").phi("EMAIL", n.email).lit(") holds lasting power of attorney. Plan: twice-daily "
                                          "carers, review in four weeks.\n")


def radiology(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("EXAM: CT head without contrast   ACCESSION: ").phi("ID", f"RAD{n.account}")
    b.lit("\nPATIENT: ").phi("NAME", _case(n.rng, n.patient, shout)).lit("   DOB: ")
    b.phi("DATE", n.date(n.dob)).lit("\nCLINICAL HISTORY: Fall, on apixaban.\n"
                                     "FINDINGS: No acute intracranial haemorrhage. Chronic "
                                     "small vessel change. No fracture.\nREAD BY: ")
    b.phi("NAME", n.doctor).lit(", MD on ").phi("DATE", n.date(n.visit)).lit("\n")


def ed_triage(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("ED triage: ").phi("AGE", str(n.old_age)).lit(" y/o female brought in by ambulance "
                                                        "from ")
    b.phi("ADDRESS", n.addr["street"]).lit(", ").phi("LOCATION", n.addr["city"])
    b.lit(" with chest pain radiating to the left arm. Triage category 2. Accompanied by ")
    b.phi("NAME", n.relative).lit(". Registered as ").phi("NAME", n.patient)
    b.lit(", visit number ").phi("ACCOUNT", n.account).lit(".\n")


def export_record(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit('{"patient_name": "').phi("NAME", n.patient).lit('", "dob": "')
    b.phi("DATE", n.dob.isoformat()).lit('", "mrn": "').phi("MRN", n.mrn)
    b.lit('", "phone": "').phi("PHONE", n.phone).lit('", "email": "').phi("EMAIL", n.email)
    b.lit('", "diagnosis": "type 2 diabetes mellitus", "hba1c": 8.2}\n')


def soap(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("S: ").phi("NAME", n.patient).lit(" returns for review of hypertension. Home readings "
                                            "140s/90s. No chest pain.\nO: BP 148/92, HR 76, BMI "
                                            "31.\nA: Essential hypertension, not at target.\nP: "
                                            "Increase amlodipine to 10 mg. Recheck on ")
    b.phi("DATE", n.date(n.follow)).lit(". Patient portal: ").phi("URL", n.url)
    b.lit("\nSigned: ").phi("NAME", n.doctor).lit(", MD\n")


def device_note(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("Pacemaker check for ").phi("NAME", n.patient).lit(". Device serial number ")
    b.phi("DEVICE", n.serial).lit(", implanted ").phi("DATE", n.date(n.dob.replace(year=2015)))
    b.lit(". Remote monitoring uploads from IP ").phi("IP", n.ip)
    b.lit(". Battery 7 years. Vehicle reg. plate ").phi("VEHICLE", n.plate)
    b.lit(" noted for the parking permit.\n")


def canadian_letter(n: _Note, b: _Builder, shout: bool) -> None:
    b.lit("To: ").phi("NAME", n.doctor).lit("\nFrom: ").phi("NAME", n.nurse)
    b.lit("\nPatient: ").phi("NAME", n.patient).lit("\nHealth card: ").phi("HEALTH_PLAN", n.member)
    b.lit("\nMailing address:\n")
    _addr_block(n, b, False)
    b.lit("\nTel: ").phi("PHONE", n.phone).lit("\n\nPlease arrange an outpatient MRI of the "
                                                "lumbar spine for persistent radicular pain.\n")


SHAPES: list[Shape] = [discharge, portal_message, legacy_header, handover, telephone,
                       referral_uk, pharmacy, social_work, radiology, ed_triage, export_record,
                       soap, device_note, canadian_letter]


def generate(n: int = 1000, seed: int = 20260601) -> list[EvalNote]:
    """``n`` evaluation notes; 15% of them typed in ALL CAPS (a legacy system's print-out)."""
    rng = random.Random(seed)
    people = _People(rng)
    notes = []
    for k in range(n):
        shape = SHAPES[k % len(SHAPES)]
        values = _Note(rng, people)
        shout = rng.random() < 0.15 and shape is not portal_message
        builder = _Builder()
        shape(values, builder, shout)
        note = builder.note(shape.__name__)
        if shout:
            note = EvalNote(note.text.upper(), note.spans, shape.__name__ + "/caps")
        notes.append(note)
    return notes


def check(notes: list[EvalNote]) -> None:
    """Spans are in bounds, non-overlapping and non-empty (a generator self-test)."""
    for note in notes:
        last = 0
        for s, e, _k in sorted(note.spans):
            assert 0 <= s < e <= len(note.text) and s >= last, note.shape
            assert note.text[s:e].strip(), note.shape
            last = e


if __name__ == "__main__":
    sample = generate(28, seed=1)
    check(sample)
    for note in sample[:14]:
        print(f"--- {note.shape}\n{note.text}")
        print("    ", [(note.text[s:e], k) for s, e, k in note.spans])
