"""FHIR R4: every element that can carry a HIPAA identifier is de-identified.

The bundle is written for this test in the shape of the FHIR R4 specification's examples
(Patient with contact, birthPlace and custom extensions and a generated narrative; RelatedPerson;
Practitioner; Organization; a DocumentReference with an Attachment; an Observation), with
values of our own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from haia.privacy.anonymize import Anonymizer
from haia.privacy.detector import Detector
from haia.privacy.files import Deidentifier, Report

NARRATIVE = (
    '<div xmlns="http://www.w3.org/1999/xhtml"><table><tbody>'
    "<tr><td>Name</td><td>Tomasz Wiśniewski-Kowal (&quot;Tom&quot;)</td></tr>"
    "<tr><td>Address</td><td>48 Larkspur Crescent, Kitchener, ON N2G 4P8</td></tr>"
    "<tr><td>Contacts</td><td>Home: (519) 555-0192; Mobile: 519-555-0177</td></tr>"
    "<tr><td>Id</td><td>MRN 88120931</td></tr>"
    "</tbody></table><p>Next of kin Aleksandra Wiśniewska, born 14 March 1979.</p></div>")

PATIENT: dict[str, Any] = {
    "resourceType": "Patient", "id": "pat-88120931",
    "meta": {"lastUpdated": "2024-05-01T10:00:00Z"},
    "text": {"status": "generated", "div": NARRATIVE},
    "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
         "valueAddress": {"line": ["Szpital Miejski, ul. Lipowa 7"], "city": "Rzeszów",
                          "postalCode": "35-001", "country": "PL"}},
        {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName",
         "valueString": "Zielińska"},
        {"url": "http://example.org/fhir/StructureDefinition/emergency-contact",
         "extension": [
             {"url": "name", "valueHumanName": {"family": "Okonkwo", "given": ["Chidinma"]}},
             {"url": "phone", "valueContactPoint": {"system": "phone",
                                                    "value": "+234 803 555 0141"}},
             {"url": "id", "valueIdentifier": {"system": "urn:oid:2.16.840.1.113883.4.1",
                                               "value": "612-44-9087"}},
             {"url": "seen", "valueDateTime": "2023-11-02T08:15:00-05:00"}]}],
    "identifier": [{"use": "usual", "type": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
        "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "88120931"}],
    "name": [{"use": "official", "family": "Wiśniewski-Kowal", "given": ["Tomasz", "Jan"]},
             {"use": "nickname", "given": ["Tom"]}],
    "telecom": [{"system": "phone", "value": "(519) 555-0192", "use": "home"},
                {"system": "email", "value": "t.wisniewski@example.ca"}],
    "gender": "male", "birthDate": "1974-12-25",
    "address": [{"use": "home", "line": ["48 Larkspur Crescent", "Unit 3"],
                 "city": "Kitchener", "district": "Waterloo Region", "state": "ON",
                 "postalCode": "N2G 4P8", "country": "CA",
                 "period": {"start": "2019-06-01"}}],
    "contact": [{
        "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131",
                                      "code": "N"}], "text": "next of kin"}],
        "name": {"family": "Wiśniewska", "given": ["Aleksandra"],
                 "_family": {"extension": [{
                     "url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix",
                     "valueString": "Wiśniewska"}]}},
        "telecom": [{"system": "phone", "value": "+1 519 555 0133"}],
        "address": {"use": "home", "line": ["1190 King St W"], "city": "Guelph",
                    "postalCode": "N1H 3Z9", "country": "CA"},
        "gender": "female", "period": {"start": "2012"}}],
    "managingOrganization": {"reference": "Organization/org-1",
                             "display": "Grand River Kidney Clinic"},
    "photo": [{"contentType": "image/jpeg", "data": "/9j/4AAQSkZJRgABAQEASABIAAD"}],
}
RELATED = {
    "resourceType": "RelatedPerson", "id": "rp-1", "patient": {"reference": "Patient/pat-88120931"},
    "identifier": [{"system": "http://example.org/rp", "value": "RP-55102"}],
    "name": [{"text": "Aleksandra Wiśniewska"}],
    "telecom": [{"system": "email", "value": "ola.wis@example.pl"}],
    "address": [{"text": "1190 King St W, Guelph, ON N1H 3Z9"}], "birthDate": "1979-03-14"}
PRACTITIONER = {
    "resourceType": "Practitioner", "id": "pr-1",
    "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1487093355"}],
    "name": [{"family": "Adeyemi-Hughes", "given": ["Folasade"], "prefix": ["Dr"]}],
    "telecom": [{"system": "fax", "value": "519-555-0160"}],
    "address": [{"line": ["835 Erb St"], "city": "Waterloo", "postalCode": "N2J 4H8"}]}
ORGANIZATION = {
    "resourceType": "Organization", "id": "org-1", "name": "Grand River Kidney Clinic",
    "alias": ["GRKC Dialysis"],
    "identifier": [{"system": "http://example.org/org", "value": "ORG-77310"}],
    "telecom": [{"system": "url", "value": "https://grkc.example.ca/patients/88120931"}],
    "address": [{"line": ["200 Water St N"], "city": "Cambridge", "postalCode": "N1R 3B6"}],
    "contact": [{"name": {"text": "Brigid Ó Súilleabháin"},
                 "telecom": [{"system": "phone", "value": "519-555-0108"}]}]}
DOCUMENT = {
    "resourceType": "DocumentReference", "id": "doc-1", "status": "current",
    "subject": {"reference": "Patient/pat-88120931", "display": "Tomasz Wiśniewski-Kowal"},
    "author": [{"reference": "Practitioner/pr-1", "display": "Dr Folasade Adeyemi-Hughes"}],
    "content": [{"attachment": {
        "contentType": "application/pdf", "language": "en",
        "url": "https://grkc.example.ca/docs/88120931/summary.pdf",
        "title": "Discharge summary for Tomasz Wiśniewski-Kowal, 48 Larkspur Crescent",
        "data": "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+Pg==",
        "creation": "2024-04-30T16:20:00Z"}}]}
OBSERVATION = {
    "resourceType": "Observation", "id": "obs-1", "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}], "text": "Height"},
    "subject": {"reference": "Patient/pat-88120931"},
    "effectiveDateTime": "2024-04-29", "valueQuantity": {"value": 181, "unit": "cm"},
    "note": [{"authorString": "Chidinma Okonkwo",
              "text": "Measured by his sister-in-law chidinma okonkwo at home; call back on "
                      "+234 803 555 0141."}]}

PLANTED = [
    "Tomasz", "Wiśniewski", "Kowal", "Wiśniewska", "Aleksandra", "Zielińska", "Okonkwo",
    "Chidinma", "Folasade", "Adeyemi", "Hughes", "Brigid", "Súilleabháin", "Larkspur",
    "Kitchener", "Waterloo Region", "N2G 4P8", "555-0192", "555-0177", "555 0133", "555-0160",
    "555-0108", "555 0141", "88120931", "612-44-9087", "t.wisniewski@example.ca",
    "ola.wis@example.pl", "1190 King St W", "Guelph", "N1H 3Z9", "RP-55102", "1487093355",
    "835 Erb St", "N2J 4H8", "Grand River Kidney Clinic", "GRKC", "ORG-77310",
    "200 Water St N", "Cambridge", "N1R 3B6", "Rzeszów", "Lipowa", "35-001", "1974-12-25",
    "1979-03-14", "14 March 1979", "2023-11-02", "2024-04-29", "2024-04-30",
    "/9j/4AAQSkZJRgABAQEASABIAAD", "JVBERi0xLjQK", "pat-88120931",
]


def _bundle() -> dict[str, Any]:
    entries = [PATIENT, RELATED, PRACTITIONER, ORGANIZATION, DOCUMENT, OBSERVATION]
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"http://example.org/fhir/{r['resourceType']}/{r['id']}",
                       "resource": r} for r in entries]}


def _left(text: str) -> list[str]:
    low = text.lower()
    return [v for v in PLANTED if re.search(rf"(?<!\w){re.escape(v.lower())}(?!\w)", low)]


@pytest.mark.parametrize("operator", ["surrogate", "redact"])
def test_fhir_bundle_leaves_no_identifier(detector: Detector, tmp_path: Path,
                                          operator: str) -> None:
    deid = Deidentifier(detector, Anonymizer(operator, seed=3))
    out = deid.fhir(_bundle(), Report())
    text = json.dumps(out, ensure_ascii=False)
    assert _left(text) == []
    patient = out["entry"][0]["resource"]
    # Structure and the codes that make the record useful are kept.
    assert patient["gender"] == "male" and patient["address"][0]["state"] == "ON"
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert out["entry"][5]["resource"]["code"]["coding"][0]["code"] == "8302-2"
    ext = patient["extension"][0]
    assert ext["url"].endswith("patient-birthPlace") and ext["valueAddress"]["country"] == "PL"
    # References still resolve to the (renamed) resources.
    assert out["entry"][1]["resource"]["patient"]["reference"] == f"Patient/{patient['id']}"
    assert out["entry"][0]["resource"]["managingOrganization"]["reference"] == \
        f"Organization/{out['entry'][3]['resource']['id']}"
    assert "data" not in out["entry"][4]["resource"]["content"][0]["attachment"]
    assert "photo" not in patient
    if operator == "surrogate":  # dates shifted, not removed; the year-only period kept
        assert patient["birthDate"] != "1974-12-25" and len(patient["birthDate"]) == 10


def test_fhir_patient_alone_and_ndjson(detector: Detector, tmp_path: Path) -> None:
    from haia.privacy.files import deidentify_file

    src = tmp_path / "patients.ndjson"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in
                             (PATIENT, RELATED, PRACTITIONER, ORGANIZATION)) + "\n",
                   encoding="utf-8")
    dst = tmp_path / "out.ndjson"
    deidentify_file(src, dst, Deidentifier(detector, Anonymizer("surrogate", seed=1)))
    assert _left(dst.read_text(encoding="utf-8")) == []
