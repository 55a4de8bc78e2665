"""De-identification of FHIR R4 resources: every element that can carry a HIPAA identifier.

Structured elements are replaced by type wherever they appear, also inside ``contact``,
``RelatedPerson``, ``Practitioner``, ``Organization`` and extensions:

- ``HumanName`` (``name``, ``valueHumanName``, a single object or a list): given, family,
  prefix-free ``text``;
- ``Address`` (``address``, ``valueAddress``): line, city, district, postalCode, text (the state
  and country are kept, as HIPAA Safe Harbor allows);
- ``ContactPoint`` (``telecom``, ``valueContactPoint``), ``Identifier`` (``identifier``,
  ``valueIdentifier``); ``Organization.name``/``alias`` (facility), ``Location.name``;
- dates (``YYYY-MM-DD`` with or without a time, and ``YYYY-MM``): shifted per patient or cut to
  the year; resource ids and references: replaced by a keyed hash, so references still resolve;
- ``Attachment``: ``data`` and ``photo`` dropped (a document or an image cannot be checked),
  ``url`` replaced, ``title`` de-identified as text.

Every other string (narrative ``text.div``, ``valueString``, notes, titles, displays...) is free
text: the detector runs over it (one batch per resource; XHTML tags are blanked first), and any
structured value found elsewhere in the same resource (a name, a street line, a phone number) is
also removed where the text repeats it. Codes, systems, statuses and canonical URLs are kept.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from haia.patterns import union
from haia.privacy.anonymize import Anonymizer, Scope
from haia.privacy.detector import Detector, Entity

Counter = Callable[[str], None]

KEEP_KEYS = {"resourceType", "system", "code", "status", "use", "state", "country", "gender",
             "unit", "lastUpdated", "versionId", "profile", "language", "contentType", "mode",
             "intent", "priority", "valueCode", "comparator", "rank", "versionAlgorithmString",
             "implicitRules", "kind", "severity", "criticality", "birthSex", "version",
             "fullUrl_kept", "relationship_code", "valueUri_kept"}
NAME_KEYS = {"name", "valueHumanName"}
ADDRESS_KEYS = {"address", "valueAddress"}
TELECOM_KEYS = {"telecom", "valueContactPoint"}
IDENTIFIER_KEYS = {"identifier", "valueIdentifier"}
DROP_KEYS = {"photo", "data"}
DATE_RE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?(T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?$")
TAG_RE = re.compile(r"<[^>]*>|&[a-zA-Z]+;|&#\d+;")
FACILITY_TYPES = {"Organization", "HealthcareService", "InsurancePlan"}
LOCATION_TYPES = {"Location"}


def _is_human_name(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(isinstance(v, dict) and ({"family", "given", "text", "prefix",
                                                         "suffix"} & set(v)) for v in items)


class FhirDeidentifier:
    """Walks one resource (or Bundle entry) in two phases: plan, then one detector batch."""

    def __init__(self, detector: Detector, anonymizer: Anonymizer, scope: Scope,
                 count: Counter) -> None:
        self.detector = detector
        self.anonymizer = anonymizer
        self.scope = scope
        self.count = count
        self.texts: list[str] = []
        self.known: list[tuple[str, str]] = []  # (kind, value) of structured PHI

    # -- structured replacement -------------------------------------------------------------
    def replace(self, kind: str, value: str) -> str:
        if not value.strip():
            return value
        self.count(kind)
        self.scope.counts[kind] = self.scope.counts.get(kind, 0) + 1
        self.known.append((kind, value))
        return self.anonymizer.replacement(kind, value, self.scope)

    def ref_id(self, value: str) -> str:
        """A resource id (or the id part of a reference) as a keyed hash: stable, unlinkable."""
        digest = hashlib.sha256(f"{self.anonymizer.seed}\x1fid\x1f{value}".encode()).hexdigest()
        return digest[:16]

    def reference(self, value: str) -> str:
        if value.startswith("#"):
            return value
        if value.startswith(("urn:uuid:", "urn:oid:")):
            return value.rsplit(":", 1)[0] + ":" + self.ref_id(value.rsplit(":", 1)[1])
        parts = value.split("/")
        at = -3 if len(parts) >= 4 and parts[-2] == "_history" else -1
        parts[at] = self.ref_id(parts[at])
        return "/".join(parts)

    def date(self, value: str) -> str:
        match = DATE_RE.match(value)
        assert match
        year, month, day, rest = match.groups()
        self.count("DATE")
        if not self.anonymizer.shift_dates:
            return year  # Safe Harbor keeps the year only
        if day is None:
            shifted = self.scope.surrogate("DATE", f"{year}-{month}-15")
            return shifted[:7] if not shifted.startswith("[") else year
        shifted = self.scope.surrogate("DATE", f"{year}-{month}-{day}")
        if shifted.startswith("["):
            return year
        return shifted + (rest or "")

    def human_name(self, name: dict[str, Any]) -> dict[str, Any]:
        new = dict(name)
        given = [g for g in name.get("given") or [] if isinstance(g, str)]
        family = name.get("family") if isinstance(name.get("family"), str) else ""
        full = " ".join([*given, family]).strip()
        if full and self.anonymizer.operator == "surrogate":
            parts = self.replace("NAME", full).split()
            if given:
                new["given"] = parts[:len(given)]
            if family:
                new["family"] = " ".join(parts[len(given):])
        elif full:
            if given:
                new["given"] = [self.replace("NAME", g) for g in given]
            if family:
                new["family"] = self.replace("NAME", family)
        if isinstance(name.get("text"), str):
            new["text"] = self.replace("NAME", name["text"]) if not full else " ".join(
                [*(new.get("given") or []), new.get("family") or ""]).strip()
        if "period" in name:
            new["period"] = self.walk(name["period"], "period")
        for key in ("prefix", "suffix"):  # titles and credentials are kept
            if isinstance(name.get(key), list):
                new[key] = [v for v in name[key] if isinstance(v, str)]
        for key, value in name.items():  # extensions (_family, extension), ids
            if key not in ("given", "family", "text", "period", "prefix", "suffix", "use"):
                new[key] = self.walk(value, key, name)
        return new

    def address(self, addr: dict[str, Any]) -> dict[str, Any]:
        new: dict[str, Any] = {}
        for key, value in addr.items():
            if key == "line" and isinstance(value, list):
                new[key] = [self.replace("ADDRESS", v) for v in value if isinstance(v, str)]
            elif key in ("city", "district") and isinstance(value, str):
                new[key] = self.replace("LOCATION", value)
            elif key == "postalCode" and isinstance(value, str):
                new[key] = self.replace("ZIP", value)
            elif key == "text" and isinstance(value, str):
                new[key] = self.replace("ADDRESS", value)
            elif key in ("use", "type", "state", "country"):
                new[key] = value
            else:
                new[key] = self.walk(value, key)
        return new

    def telecom(self, point: dict[str, Any]) -> dict[str, Any]:
        new = dict(point)
        kind = {"phone": "PHONE", "fax": "FAX", "email": "EMAIL", "url": "URL",
                "sms": "PHONE", "pager": "PHONE"}.get(str(point.get("system")), "ID")
        if isinstance(point.get("value"), str):
            new["value"] = self.replace(kind, point["value"])
        if "period" in point:
            new["period"] = self.walk(point["period"], "period")
        return new

    def identifier(self, ident: dict[str, Any]) -> dict[str, Any]:
        new: dict[str, Any] = {}
        code = str(ident.get("type") or "").upper()
        kind = "MRN" if "'MR'" in code else "SSN" if "'SS'" in code else "ID"
        for key, value in ident.items():
            if key == "value" and isinstance(value, str):
                new[key] = self.replace(kind, value)
            elif key in ("use", "type", "system"):
                new[key] = value
            else:
                new[key] = self.walk(value, key)
        return new

    # -- the walk ---------------------------------------------------------------------------
    def free_text(self, value: str) -> Callable[[list[str]], str]:
        index = len(self.texts)
        self.texts.append(value)
        return lambda r: r[index]

    def walk(self, node: Any, key: str = "", parent: dict[str, Any] | None = None) -> Any:
        if isinstance(node, list):
            return [self.walk(v, key, parent) for v in node]
        if isinstance(node, dict):
            return self.walk_dict(node)
        if not isinstance(node, str) or not node:
            return node
        if key in KEEP_KEYS:
            return node
        if key == "id":
            return self.ref_id(node)
        if key == "reference":
            return self.reference(node)
        if key == "url":
            is_extension = parent is not None and (
                "extension" in parent or any(k.startswith("value") for k in parent))
            if is_extension or (parent is not None and "resourceType" in parent):
                return node  # a canonical URL (extension or definition), not data
            return self.replace("URL", node)
        if DATE_RE.match(node):
            return self.date(node)
        if key.startswith("value") and key in ("valueCode", "valueBoolean", "valueCanonical"):
            return node
        return self.free_text(node)

    def walk_dict(self, node: dict[str, Any]) -> Any:
        out: dict[str, Any] = {}
        rtype = node.get("resourceType")
        for key, value in node.items():
            if key in DROP_KEYS and rtype is None:
                self.count("ATTACHMENT")
                continue
            if key == "photo":
                continue
            if key in NAME_KEYS and _is_human_name(value):
                out[key] = ([self.human_name(v) for v in value] if isinstance(value, list)
                            else self.human_name(value))
            elif key == "name" and isinstance(value, str) and rtype in FACILITY_TYPES:
                out[key] = self.replace("FACILITY", value)
            elif key == "name" and isinstance(value, str) and rtype in LOCATION_TYPES:
                out[key] = self.replace("LOCATION", value)
            elif key == "alias" and isinstance(value, list) and rtype in FACILITY_TYPES:
                out[key] = [self.replace("FACILITY", v) for v in value if isinstance(v, str)]
            elif key in ADDRESS_KEYS and isinstance(value, dict | list):
                items = value if isinstance(value, list) else [value]
                new = [self.address(v) for v in items if isinstance(v, dict)]
                out[key] = new if isinstance(value, list) else (new[0] if new else {})
            elif key in TELECOM_KEYS and isinstance(value, dict | list):
                items = value if isinstance(value, list) else [value]
                new = [self.telecom(v) for v in items if isinstance(v, dict)]
                out[key] = new if isinstance(value, list) else (new[0] if new else {})
            elif key in IDENTIFIER_KEYS and isinstance(value, dict | list):
                items = value if isinstance(value, list) else [value]
                new = [self.identifier(v) for v in items if isinstance(v, dict)]
                out[key] = new if isinstance(value, list) else (new[0] if new else {})
            else:
                out[key] = self.walk(value, key, node)
        return out

    def run(self, resource: dict[str, Any]) -> dict[str, Any]:
        """The de-identified copy of ``resource``."""
        return self.finish(self.walk(resource))

    def finish(self, planned: Any, shared: list[tuple[str, str]] | None = None) -> Any:
        """Fill the planned free texts; ``shared``: structured values of related resources
        (the same patient's other resources in a Bundle) also removed from the texts."""
        if shared:
            self.known = [*self.known, *shared]
        if not self.texts:
            return planned
        views = [TAG_RE.sub(lambda m: " " * len(m.group(0)), t) for t in self.texts]
        known = self._known_pattern()
        results = []
        for text, view, ents in zip(self.texts, views, self.detector.detect_related(views),
                                    strict=True):
            extra = [Entity(m.start(), m.end(), self._known_kind(m.group(0)), 0.9)
                     for m in known.finditer(view)] if known else []
            found = _union(ents, extra)
            for e in found:
                self.count(e.type)
            results.append(self.anonymizer.anonymize(text, found, self.scope) if found
                           else text)
        return _fill(planned, results)

    def _known_pattern(self) -> re.Pattern[str] | None:
        forms: dict[str, str] = {}
        for kind, value in self.known:
            forms[value.lower()] = kind
            if kind == "NAME":
                for tok in re.findall(r"[^\W\d_](?:[^\W\d_]|['’-])+", value):
                    if len(tok) >= 3:
                        forms.setdefault(tok.lower(), "NAME")
        self._kinds = forms
        if not forms:
            return None
        return union(forms, flags=re.IGNORECASE)

    def _known_kind(self, value: str) -> str:
        return self._kinds.get(value.lower(), "NAME")


def _union(ents: list[Entity], extra: list[Entity]) -> list[Entity]:
    """Detector entities plus known-value matches, overlaps resolved to the longer span."""
    out: list[Entity] = []
    for e in sorted([*ents, *extra], key=lambda e: (e.start, -(e.end - e.start))):
        if out and e.start < out[-1].end:
            if e.end > out[-1].end:
                last = out[-1]
                out[-1] = Entity(last.start, e.end, last.type, max(last.score, e.score))
            continue
        out.append(e)
    return out


def _fill(node: Any, results: list[str]) -> Any:
    """Replace planned free-text slots (callables) by their de-identified strings."""
    if callable(node):
        return node(results)
    if isinstance(node, list):
        return [_fill(v, results) for v in node]
    if isinstance(node, dict):
        return {k: _fill(v, results) for k, v in node.items()}
    return node
