"""Operators, surrogate consistency, date shifting that keeps intervals, encrypted mapping."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet

from haia.errors import HaiaError
from haia.privacy.anonymize import Anonymizer, MappingWriter, load_key, read_mapping, shift_date
from haia.privacy.detector import Detector

NOTE = ("Patient: John Smith\nMRN: 00482913\nAdmitted 2024-03-05, discharged 2024-03-12.\n"
        "Mr. Smith was seen by Dr. Ada Lovelace. JOHN SMITH phone 217-555-0148.\n")


def test_redact_and_mask(detector: Detector) -> None:
    ents = detector.detect(NOTE)
    red = Anonymizer("redact").anonymize(NOTE, ents)
    assert "[NAME]" in red and "[MRN]" in red and "Smith" not in red and "00482913" not in red
    masked = Anonymizer("mask").anonymize(NOTE, ents)
    assert len(masked) == len(NOTE) and "Smith" not in masked and "*" * 8 in masked


def test_surrogates_are_consistent(detector: Detector) -> None:
    anon = Anonymizer("surrogate", seed=3)
    out = anon.anonymize(NOTE, detector.detect(NOTE), "patient-1")
    assert "Smith" not in out and "SMITH" not in out and "00482913" not in out
    scope = anon.scope("patient-1")
    fake_surname = scope.tokens["smith"]
    assert out.count(fake_surname) == 2 and out.count(fake_surname.upper()) == 1
    # same patient, another document: same surrogate; another seed: another one
    again = anon.anonymize("Follow-up for Mr. Smith.", detector.detect("Follow-up for Mr. Smith."),
                           "patient-1")
    assert fake_surname in again
    other = Anonymizer("surrogate", seed=4).anonymize(NOTE, detector.detect(NOTE), "patient-1")
    assert other != out
    assert scope.restore(out) == NOTE.replace("2024-03-05", "2024-03-05")  # restored fully


def _parse(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def test_date_shift_keeps_intervals(detector: Detector) -> None:
    anon = Anonymizer("redact", shift_dates=True, seed=1)
    text = "Admitted 2024-03-05, discharged 2024-03-12, seen 2024-04-30."
    out = anon.anonymize(text, detector.detect(text), "p9")
    dates = [w.strip(",.") for w in out.split() if w[:2] in {"20", "19"}]
    assert len(dates) == 3 and "2024-03-05" not in out
    a, b, c = (_parse(d) for d in dates)
    assert (b - a).days == 7 and (c - a).days == 56
    # the same patient always moves by the same offset
    again = anon.anonymize("on 2024-03-05", detector.detect("on 2024-03-05"), "p9")
    assert dates[0] in again


@pytest.mark.parametrize("value", ["2024-03-05", "03/05/2024", "5 Mar 2024", "March 5th, 2024",
                                   "5.3.24", "the 1st of MARCH 2020", "Feb 29", "March 2024"])
def test_shift_date_keeps_format(value: str) -> None:
    out = shift_date(value, 40)
    assert out is not None and out != value
    assert len(out.split()) == len(value.split())
    assert (out.isupper() or not value.isupper())


def test_mapping_encrypted(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("HAIA_DEID_KEY", raising=False)
    monkeypatch.delenv("HAIA_DEID_KEY_FILE", raising=False)
    with pytest.raises(HaiaError):
        load_key()
    key = Fernet.generate_key()
    monkeypatch.setenv("HAIA_DEID_KEY", key.decode())
    path = tmp_path / "map.enc"
    writer = MappingWriter(path, load_key())
    anon = Anonymizer("surrogate", mapping=writer)
    anon.anonymize("Patient: John Smith", [], "p")
    anon.replacement("NAME", "John Smith", anon.scope("p"))
    writer.close()
    assert b"Smith" not in path.read_bytes()
    rows = read_mapping(path, key)
    assert rows[0]["original"] == "John Smith" and rows[0]["type"] == "NAME"
    with pytest.raises(HaiaError):
        read_mapping(path, Fernet.generate_key())
