"""Files: JSONL contract, bad lines, binary input, CSV, FHIR bundles, streaming, the CLI."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from haia.errors import HaiaError
from haia.privacy.anonymize import Anonymizer
from haia.privacy.detector import Detector
from haia.privacy.files import Deidentifier, deidentify_file, iter_deidentified

NOTE = "Patient: John Smith, MRN: 00482913, phone 217-555-0148, seen 2024-03-05."


def _deid(detector: Detector, operator: str = "redact", **kw: object) -> Deidentifier:
    return Deidentifier(detector, Anonymizer(operator, **kw))  # type: ignore[arg-type]


def test_jsonl_contract_and_bad_lines(tmp_path: Path, detector: Detector) -> None:
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": 1, "note": NOTE}), "{not json", json.dumps({"id": 3}),
             json.dumps({"id": 4, "note": "Dr. Ada Lovelace called 217-555-0199."})]
    src.write_text("\n".join(lines) + "\n")
    dst = tmp_path / "out.jsonl"
    report = deidentify_file(src, dst, _deid(detector), text_field="note")
    out = [json.loads(line) for line in dst.read_text().splitlines()]
    assert [r["id"] for r in out] == [1, 4]
    assert "Smith" not in out[0]["note"] and "[NAME]" in out[0]["note"]
    spans = {(NOTE[e["start"]:e["end"]], e["type"]) for e in out[0]["entities"]}
    assert ("John Smith", "NAME") in spans and ("00482913", "MRN") in spans
    assert set(out[0]["entities"][0]) == {"start", "end", "type", "score"}
    # bad lines: reported with their number, kept verbatim in .rejects, nothing lost
    assert report.rejected == 2 and report.records == 2
    assert any(m.startswith("line 2: invalid JSON") for m in report.errors)
    assert any(m.startswith("line 3: no string field 'note'") for m in report.errors)
    rejects = (tmp_path / "out.jsonl.rejects").read_text().splitlines()
    assert rejects == [lines[1], lines[2]]


def test_binary_file_refused(tmp_path: Path, detector: Detector) -> None:
    src = tmp_path / "scan.txt"
    src.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    with pytest.raises(HaiaError, match="binary file"):
        deidentify_file(src, tmp_path / "out.txt", _deid(detector))


def test_csv_named_columns(tmp_path: Path, detector: Detector) -> None:
    src = tmp_path / "in.csv"
    src.write_text('patient_id,note,code\nP1,"Seen by Dr. Ada Lovelace on 2024-03-05",I10\n'
                   'P2,"Call Mary Jones at 217-555-0148",E11\n')
    dst = tmp_path / "out.csv"
    deidentify_file(src, dst, _deid(detector), columns=["note"])
    text = dst.read_text()
    assert "Lovelace" not in text and "217-555-0148" not in text
    assert "P1" in text and "I10" in text
    with pytest.raises(HaiaError, match="no column"):
        deidentify_file(src, dst, _deid(detector), columns=["missing"])


BUNDLE = {
    "resourceType": "Bundle", "type": "collection",
    "entry": [
        {"fullUrl": "urn:uuid:p1", "resource": {
            "resourceType": "Patient", "id": "p1",
            "identifier": [{"system": "urn:mrn", "value": "00482913",
                            "type": {"coding": [{"code": "MR"}]}}],
            "name": [{"family": "O'Brien", "given": ["Margaret", "Ann"]}],
            "telecom": [{"system": "phone", "value": "217-555-0148"},
                        {"system": "email", "value": "mob@mailbox.org"}],
            "gender": "female", "birthDate": "1931-03-14",
            "address": [{"line": ["1427 Willow Creek Road"], "city": "Decatur",
                         "state": "IL", "postalCode": "62521"}]}},
        {"resource": {
            "resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/p1"},
            "period": {"start": "2024-03-05", "end": "2024-03-12"}}},
        {"resource": {
            "resourceType": "Observation", "id": "o1", "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2024-03-06T10:00:00Z",
            "note": [{"text": "Mrs. O'Brien's daughter Lucy called from 217-555-0199."}],
            "text": {"status": "generated",
                     "div": "<div>Margaret O'Brien, heart rate 78</div>"}}},
    ],
}


def test_fhir_bundle(tmp_path: Path, detector: Detector) -> None:
    src = tmp_path / "bundle.json"
    src.write_text(json.dumps(BUNDLE))
    dst = tmp_path / "out.json"
    deidentify_file(src, dst, _deid(detector, "surrogate", seed=2))
    text = dst.read_text()
    for value in ("O'Brien", "O\\u2019Brien", "Margaret", "00482913", "217-555-0148",
                  "mob@mailbox.org", "1427 Willow", "Decatur", "62521", "1931-03-14",
                  "2024-03-05", "217-555-0199", "Lucy"):
        assert value not in text, value
    out = json.loads(text)
    patient = out["entry"][0]["resource"]
    assert patient["address"][0]["state"] == "IL" and patient["gender"] == "female"
    assert len(patient["name"][0]["given"]) == 2
    period = out["entry"][1]["resource"]["period"]
    import datetime as dt

    start, end = (dt.date.fromisoformat(period[k]) for k in ("start", "end"))
    assert (end - start).days == 7  # same per-patient offset: the interval is kept


def test_streaming_bounded_memory(tmp_path: Path, detector: Detector) -> None:
    # a generator input: texts are consumed lazily, batch by batch
    consumed = []

    def texts():  # type: ignore[no-untyped-def]
        for k in range(200):
            consumed.append(k)
            yield f"Note {k}: Dr. Ada Lovelace phoned 217-555-{k:04d}."

    stream = iter_deidentified(texts(), _deid(detector), batch_size=16)
    first = next(stream)
    assert "[NAME]" in first[0] and len(consumed) == 16
    assert sum(1 for _ in stream) == 199
    # a text file: memory stays flat as the file grows (it is read block by block)
    para = ("Patient: John Smith seen 2024-03-05 by Dr. Ada Lovelace, phone 217-555-0148.\n"
            * 10 + "\n")
    peaks = []
    for n in (100, 250):
        src = tmp_path / f"big{n}.txt"
        src.write_text(para * n)
        tracemalloc.start()
        deidentify_file(src, tmp_path / f"big{n}.out", _deid(detector))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        out = (tmp_path / f"big{n}.out").read_text()
        assert "Smith" not in out and out.count("[NAME]") == 2 * 10 * n
    assert peaks[1] < peaks[0] * 1.2  # bounded by one batch of blocks, not the file


def test_cli_deid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    from haia.cli.privacy import register

    app = typer.Typer()

    @app.command()
    def version() -> None:  # a second command, so Typer keeps sub-commands
        print("x")

    register(app)
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": NOTE}) + "\n{bad\n")
    dst = tmp_path / "out.jsonl"
    monkeypatch.setenv("HAIA_DEID_KEY", Fernet.generate_key().decode())
    result = CliRunner().invoke(app, ["deid", str(src), "--out", str(dst), "--operator",
                                      "surrogate", "--mapping", str(tmp_path / "map.enc")])
    assert result.exit_code == 0, result.output
    assert "line 2: invalid JSON" in " ".join(result.output.split())
    assert "Smith" not in dst.read_text()
    assert (tmp_path / "map.enc").exists()
    bad = CliRunner().invoke(app, ["deid", str(src), "--out", str(dst), "--format", "xml"])
    assert bad.exit_code != 0 and isinstance(bad.exception, HaiaError)
