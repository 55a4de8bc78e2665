"""Streaming de-identification of files: text, JSONL, CSV and FHIR R4 JSON (bundles or NDJSON).

Everything is read incrementally (text by blocks of lines, JSONL/CSV/NDJSON by records), so a
file larger than memory works; only a FHIR *Bundle* (one JSON document) is read whole.

Bad input never stops the run silently and never loses a line: a line that is not valid JSON,
not UTF-8, or lacks the text field is reported (``line N: ...``), counted, and written verbatim
to ``OUTPUT.rejects`` (so nothing is lost and nothing un-de-identified reaches the output); the
rest of the file is processed. A binary file (NUL bytes) is refused with one clear error.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haia.errors import HaiaError
from haia.privacy.anonymize import Anonymizer, Scope
from haia.privacy.detector import Detector

FORMATS = ("auto", "text", "jsonl", "csv", "fhir")
BLOCK_CHARS = 64 * 1024
Progress = Callable[[int], None]


@dataclass
class Report:
    """What a de-identification run did (counts only, never values)."""

    records: int = 0
    rejected: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    rejects_path: Path | None = None

    def count(self, kind: str, n: int = 1) -> None:
        self.entities[kind] = self.entities.get(kind, 0) + n

    def reject(self, message: str) -> None:
        self.rejected += 1
        if len(self.errors) < 1000:
            self.errors.append(message)


def detect_format(path: Path) -> str:
    """The format a file's name (or first bytes) suggests."""
    name = path.name.lower()
    if name.endswith((".jsonl", ".ndjson")):
        with path.open("rb") as fh:
            head = fh.read(4096)
        return "fhir" if b'"resourceType"' in head and b'"text"' not in head[:200] else "jsonl"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".json"):
        return "fhir"
    return "text"


def check_binary(path: Path) -> None:
    """Refuse a binary file (a NUL byte in its first 64 KiB)."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    pos = head.find(b"\x00")
    if pos >= 0:
        raise HaiaError(f"{path}: binary file (NUL byte at offset {pos}), not text; "
                        "haia deid reads text, JSONL, CSV and FHIR JSON")


class Deidentifier:
    """Detector + anonymizer applied to texts, records and FHIR resources."""

    def __init__(self, detector: Detector, anonymizer: Anonymizer) -> None:
        self.detector = detector
        self.anonymizer = anonymizer

    def text(self, text: str, scope: Scope | str | None, report: Report | None = None
             ) -> tuple[str, list[dict[str, Any]]]:
        """De-identified text and its entities (offsets into ``text``)."""
        return self.batch([text], [scope], report)[0]

    def batch(self, texts: list[str], scopes: list[Scope | str | None],
              report: Report | None = None) -> list[tuple[str, list[dict[str, Any]]]]:
        """:meth:`text` over many texts, with one spaCy pass."""
        out = []
        for text, scope, ents in zip(texts, scopes, self.detector.detect_batch(texts),
                                     strict=True):
            if report is not None:
                for e in ents:
                    report.count(e.type)
            out.append((self.anonymizer.anonymize(text, ents, scope), [e.as_dict() for e in ents]))
        return out

    # -- text ---------------------------------------------------------------------------------
    def text_file(self, src: Path, dst: Path, report: Report, progress: Progress) -> None:
        """Plain text, by blocks of whole lines ending at a blank line (one scope: the file)."""
        check_binary(src)
        scope = self.anonymizer.scope(str(src))
        with src.open("rb") as fin, dst.open("w", encoding="utf-8") as fout:
            block: list[str] = []
            blocks: list[str] = []
            size = 0

            def flush() -> None:
                for new, _ in self.batch(blocks, [scope] * len(blocks), report):
                    fout.write(new)
                report.records += len(blocks)
                blocks.clear()

            for number, raw in enumerate(fin, 1):
                progress(len(raw))
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    line = raw.decode("utf-8", errors="replace")
                    report.errors.append(f"line {number}: not UTF-8 ({exc.reason}); "
                                         "undecodable bytes replaced")
                block.append(line)
                size += len(line)
                if (not line.strip() and size > 2048) or size > BLOCK_CHARS:
                    blocks.append("".join(block))
                    block, size = [], 0
                    if len(blocks) >= 16:
                        flush()
            if block:
                blocks.append("".join(block))
            flush()

    # -- JSONL ----------------------------------------------------------------------------------
    def jsonl_file(self, src: Path, dst: Path, report: Report, progress: Progress,
                   text_field: str = "text", batch_size: int = 64) -> None:
        """One JSON object a line; ``text_field`` de-identified, ``entities`` added."""
        check_binary(src)
        rejects = _Rejects(dst)
        with src.open("rb") as fin, dst.open("w", encoding="utf-8") as fout:
            pending: list[tuple[dict[str, Any], str]] = []

            def flush() -> None:
                if not pending:
                    return
                texts = [t for _, t in pending]
                scopes = [_patient(r) for r, _ in pending]
                for (record, _), (new, ents) in zip(pending, self.batch(texts, scopes, report),
                                                    strict=True):
                    record[text_field] = new
                    record["entities"] = ents
                    fout.write(json.dumps(record, ensure_ascii=False) + "\n")
                    report.records += 1
                pending.clear()

            for number, raw in enumerate(fin, 1):
                progress(len(raw))
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    rejects.add(raw, report, f"line {number}: not UTF-8 ({exc.reason})")
                    continue
                except json.JSONDecodeError as exc:
                    rejects.add(raw, report, f"line {number}: invalid JSON ({exc.msg} at column "
                                             f"{exc.colno})")
                    continue
                if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
                    rejects.add(raw, report, f"line {number}: no string field {text_field!r}")
                    continue
                pending.append((record, record[text_field]))
                if len(pending) >= batch_size:
                    flush()
            flush()
        rejects.close(report)

    # -- CSV ------------------------------------------------------------------------------------
    def csv_file(self, src: Path, dst: Path, report: Report, progress: Progress,
                 columns: list[str] | None = None) -> None:
        """CSV with a header row; the named columns (default: all) de-identified per row."""
        check_binary(src)
        rejects = _Rejects(dst)
        with src.open("r", encoding="utf-8", errors="replace", newline="") as fin, \
                dst.open("w", encoding="utf-8", newline="") as fout:
            reader = csv.reader(fin)
            try:
                header = next(reader)
            except StopIteration:
                raise HaiaError(f"{src}: empty CSV file") from None
            cols = columns or header
            missing = [c for c in cols if c not in header]
            if missing:
                raise HaiaError(f"{src}: no column(s) {', '.join(missing)} "
                                f"(columns: {', '.join(header)})")
            index = [header.index(c) for c in cols]
            writer = csv.writer(fout)
            writer.writerow(header)
            pid = next((header.index(c) for c in ("patient_id", "patient") if c in header), None)
            for row in reader:
                progress(sum(len(v) + 1 for v in row))
                if len(row) != len(header):
                    buf = io.StringIO()
                    csv.writer(buf).writerow(row)
                    rejects.add(buf.getvalue().encode(), report,
                                f"line {reader.line_num}: {len(row)} fields, expected "
                                f"{len(header)}")
                    continue
                scope = row[pid] if pid is not None else None
                scope_obj = self.anonymizer.scope(scope)
                texts = [row[i] for i in index]
                for i, (new, _) in zip(index, self.batch(texts, [scope_obj] * len(texts),
                                                         report), strict=True):
                    row[i] = new
                writer.writerow(row)
                report.records += 1
        rejects.close(report)

    # -- FHIR -----------------------------------------------------------------------------------
    def fhir_file(self, src: Path, dst: Path, report: Report, progress: Progress) -> None:
        """A FHIR R4 JSON resource/Bundle (read whole) or NDJSON (one resource a line)."""
        check_binary(src)
        with src.open("rb") as fh:
            first = fh.read(1024).lstrip()
        if src.suffix.lower() in {".ndjson", ".jsonl"} or not first.startswith(b"{") or \
                _is_ndjson(src):
            rejects = _Rejects(dst)
            with src.open("rb") as fin, dst.open("w", encoding="utf-8") as fout:
                for number, raw in enumerate(fin, 1):
                    progress(len(raw))
                    if not raw.strip():
                        continue
                    try:
                        resource = json.loads(raw.decode("utf-8"))
                        if not isinstance(resource, dict):
                            raise ValueError("not a JSON object")
                    except (UnicodeDecodeError, ValueError) as exc:
                        rejects.add(raw, report, f"line {number}: invalid FHIR JSON ({exc})")
                        continue
                    fout.write(json.dumps(self.fhir(resource, report), ensure_ascii=False)
                               + "\n")
                    report.records += 1
            rejects.close(report)
            return
        raw = src.read_bytes()
        progress(len(raw))
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HaiaError(f"{src}: not valid FHIR JSON: {exc}") from None
        if not isinstance(data, dict) or "resourceType" not in data:
            raise HaiaError(f"{src}: not a FHIR resource (no 'resourceType')")
        dst.write_text(json.dumps(self.fhir(data, report), ensure_ascii=False, indent=1),
                       encoding="utf-8")

    def fhir(self, resource: dict[str, Any], report: Report) -> dict[str, Any]:
        """A de-identified copy of a FHIR resource or Bundle (per-patient surrogates/dates)."""
        from haia.privacy.fhir import FhirDeidentifier

        if resource.get("resourceType") == "Bundle":
            entries = resource.get("entry") or []
            patient_of = _bundle_patients(entries)
            out = dict(resource)
            out["entry"] = []
            planned: list[tuple[int, FhirDeidentifier, Any, str | None]] = []
            for entry in entries:
                res = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(res, dict):
                    key = patient_of(res)
                    walker = FhirDeidentifier(self.detector, self.anonymizer,
                                              self.anonymizer.scope(key), report.count)
                    planned.append((len(out["entry"]), walker, walker.walk(res), key))
                    new_entry = {k: v for k, v in entry.items() if k != "fullUrl"}
                    out["entry"].append(new_entry)
                    report.records += 1
                else:
                    out["entry"].append(entry)
            # Structured values of one patient's resources are removed from all their texts.
            known: dict[str | None, list[tuple[str, str]]] = {}
            for _i, walker, _plan, key in planned:
                known.setdefault(key, []).extend(walker.known)
            for index, walker, plan, key in planned:
                shared = [kv for kv in known.get(key, []) if kv not in walker.known]
                out["entry"][index]["resource"] = walker.finish(plan, shared)
            return out
        key = _resource_patient(resource)
        return self._fhir_resource(resource, key, report)

    def _fhir_resource(self, res: dict[str, Any], key: str | None, report: Report
                       ) -> dict[str, Any]:
        from haia.privacy.fhir import FhirDeidentifier

        walker = FhirDeidentifier(self.detector, self.anonymizer, self.anonymizer.scope(key),
                                  report.count)
        return walker.run(res)


def _patient(record: dict[str, Any]) -> str | None:
    for key in ("patient_id", "patient", "subject_id", "mrn"):
        if isinstance(record.get(key), str | int):
            return str(record[key])
    return None


def _resource_patient(res: dict[str, Any]) -> str | None:
    if res.get("resourceType") == "Patient":
        return f"Patient/{res.get('id')}"
    for key in ("subject", "patient", "beneficiary"):
        ref = res.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return ref["reference"]
    return None


def _bundle_patients(entries: list[Any]) -> Callable[[dict[str, Any]], str | None]:
    urls: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
            res = entry["resource"]
            if res.get("resourceType") == "Patient" and entry.get("fullUrl"):
                urls[entry["fullUrl"]] = f"Patient/{res.get('id')}"

    def of(res: dict[str, Any]) -> str | None:
        key = _resource_patient(res)
        return urls.get(key, key) if key else None

    return of


def _is_ndjson(path: Path) -> bool:
    with path.open("rb") as fh:
        first = fh.readline()
    try:
        json.loads(first)
    except ValueError:
        return False
    return True


class _Rejects:
    """Bad lines, written verbatim to ``OUTPUT.rejects`` (created only when needed)."""

    def __init__(self, dst: Path) -> None:
        self.path = dst.with_name(dst.name + ".rejects")
        self._file: Any = None
        if self.path.exists():
            self.path.unlink()

    def add(self, raw: bytes, report: Report, message: str) -> None:
        report.reject(message)
        if self._file is None:
            self._file = self.path.open("wb")
        self._file.write(raw if raw.endswith(b"\n") else raw + b"\n")

    def close(self, report: Report) -> None:
        if self._file is not None:
            self._file.close()
            report.rejects_path = self.path


def deidentify_file(src: Path, dst: Path, deid: Deidentifier, *, fmt: str = "auto",
                    text_field: str = "text", columns: list[str] | None = None,
                    progress: Progress | None = None) -> Report:
    """De-identify ``src`` into ``dst`` in format ``fmt``; returns the counts."""
    if not src.is_file():
        raise HaiaError(f"{src}: no such file")
    if src.resolve() == dst.resolve():
        raise HaiaError(f"{dst}: the output must differ from the input")
    if fmt not in FORMATS:
        raise HaiaError(f"unknown format {fmt!r} (use one of: {', '.join(FORMATS)})")
    if fmt == "auto":
        fmt = detect_format(src)
    report = Report()
    tick = progress or (lambda n: None)
    if fmt == "text":
        deid.text_file(src, dst, report, tick)
    elif fmt == "jsonl":
        deid.jsonl_file(src, dst, report, tick, text_field)
    elif fmt == "csv":
        deid.csv_file(src, dst, report, tick, columns)
    else:
        deid.fhir_file(src, dst, report, tick)
    return report


def iter_deidentified(texts: Iterator[str], deid: Deidentifier, batch_size: int = 64
                      ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """De-identify an iterable of texts lazily (bounded memory), one scope per text."""
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) >= batch_size:
            yield from deid.batch(batch, [None] * len(batch))
            batch = []
    if batch:
        yield from deid.batch(batch, [None] * len(batch))
