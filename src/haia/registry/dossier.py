"""The dossier: a self-contained, signed bundle of everything the registry holds about a version
or a deployment, for a regulator to check offline (``haia verify --bundle DIR``).

Layout::

    manifest.json      format, target, subjects, every file's SHA-256, the signed tree head
    manifest.sig       the exporter's Ed25519 signature over the manifest (canonical JSON)
    records.json       system, version, deployments, assessments, audits, decisions, risk
                       acceptances, incidents, published feedback, policies, people and keys
    ledger.json        the ledger events behind those records, each with its signature and an
                       inclusion proof against the tree head (size and Merkle root)
    reports/audit-N/   each audit's report files and their signatures
    public-summary.md  plain-language summary (tier III and IV)

The verifier trusts nothing but the bundle: each file's hash, the manifest's signature by a key
the bundle's ledger registers for the exporter, every event's hash, proof and signature, every
record against the newest event of its subject, every report against the hashes its audit
recorded and the auditor's registered key.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from haia.errors import HaiaError
from haia.registry import ledger
from haia.registry.actors import Actor, verify_signature
from haia.registry.models import (
    AISystem,
    Audit,
    Decision,
    Deployment,
    Feedback,
    ImpactAssessment,
    Incident,
    LedgerRow,
    Organisation,
    PolicyVersion,
    RiskAcceptance,
    SystemVersion,
    User,
)
from haia.registry.signing import sha256_file, signature_path

FORMAT = "haia-dossier/1"
TOP_FILES = ("records.json", "ledger.json", "public-summary.md")


def export(registry: Any, kind: str, ident: int, out: Path, *, actor: Actor | None,
           report_dirs: list[Path] | None = None) -> int:
    """Write the dossier of ``version`` or ``deployment`` ``ident`` to ``out``; return the
    number of files. The exporter signs it with their registered key."""
    from haia.registry.service import _event, snapshot, subject_of

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise HaiaError(f"{out} is not empty: export into a new folder")
    with registry._sessions() as s:
        user = registry._actor(s, actor, "export")
        if kind == "version":
            version = registry._get(s, SystemVersion, ident, "version")
            deployments = list(s.scalars(select(Deployment).where(
                Deployment.version_id == version.id)))
        else:
            d = registry._get(s, Deployment, ident, "deployment")
            version, deployments = s.get(SystemVersion, d.version_id), [d]
        system = s.get(AISystem, version.system_id)
        dep_ids = [d.id for d in deployments]
        audits = [a for a in s.scalars(select(Audit).where(Audit.version_id == version.id))
                  if a.deployment_id is None or a.deployment_id in dep_ids]
        groups: dict[str, list[Any]] = {
            "systems": [system], "versions": [version], "deployments": deployments,
            "assessments": list(s.scalars(select(ImpactAssessment).where(
                ImpactAssessment.deployment_id.in_(dep_ids)))),
            "audits": audits,
            "decisions": list(s.scalars(select(Decision).where(
                Decision.deployment_id.in_(dep_ids)))),
            "risk_acceptances": list(s.scalars(select(RiskAcceptance).where(
                RiskAcceptance.deployment_id.in_(dep_ids)))),
            "incidents": [i for i in s.scalars(select(Incident).where(
                Incident.deployment_id.in_(dep_ids))) if i.status not in {"held", "dismissed"}],
            "feedback": [f for f in s.scalars(select(Feedback).where(
                Feedback.system_id == system.id)) if f.status == "published"],
            "policies": list(s.scalars(select(PolicyVersion))),
        }
        subjects = {subject_of(r) for rows in groups.values() for r in rows}
        rows = list(s.scalars(select(LedgerRow).order_by(LedgerRow.seq)))
        actors = {r.actor for r in rows if r.subject in subjects} | {user.name}
        people = list(s.scalars(select(User).where(User.name.in_(actors))))
        groups["users"] = people
        org_ids = {system.developer_id} | {d.deployer_id for d in deployments} | {
            p.organisation_id for p in people}
        groups["organisations"] = list(s.scalars(select(Organisation).where(
            Organisation.id.in_([o for o in org_ids if o is not None]))))
        subjects = {subject_of(r) for rows_ in groups.values() for r in rows_}
        records = {name: [snapshot(r) for r in sorted(rows_, key=lambda x: x.id)]
                   for name, rows_ in groups.items()}
        all_events = [_event(r) for r in rows]
        size, root = len(all_events), ledger.merkle_root(all_events)
        chosen = [(r, e) for r, e in zip(rows, all_events, strict=True) if r.subject in subjects]
        events = [{**e.to_dict(), "signature": r.signature,
                   "key_fingerprint": r.key_fingerprint,
                   "proof": ledger.inclusion_proof(all_events, e.seq)} for r, e in chosen]
        tier = _tier(records)
    tmp = Path(tempfile.mkdtemp(prefix=".dossier-", dir=out.parent if out.parent.exists()
                                else None))
    try:
        _write_json(tmp / "records.json", records)
        _write_json(tmp / "ledger.json", events)
        for audit in records["audits"]:
            _copy_reports(audit, tmp / "reports" / f"audit-{audit['id']}", report_dirs or [])
        if tier in {"III", "IV"}:
            (tmp / "public-summary.md").write_text(public_summary(records), encoding="utf-8")
        files = {p.relative_to(tmp).as_posix(): sha256_file(p)
                 for p in sorted(tmp.rglob("*")) if p.is_file()}
        manifest = {
            "format": FORMAT, "target": f"{kind}:{ident}", "system": system.name,
            "version": version.version, "exported_at": _now(), "exporter": user.name,
            "exporter_fingerprint": actor.fingerprint, "exporter_public_key": actor.public_key,
            "tree_head": {"size": size, "root": root}, "subjects": sorted(subjects),
            "files": files,
        }
        _write_json(tmp / "manifest.json", manifest)
        (tmp / "manifest.sig").write_text(actor.sign(_canonical(manifest)) + "\n",
                                          encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return len(files) + 2


def _copy_reports(audit: dict[str, Any], dest: Path, report_dirs: list[Path]) -> None:
    """Copy an audit's report files, found by content hash at its recorded folder or in
    ``report_dirs``."""
    wanted = dict((audit.get("evidence") or {}).get("files", {}))
    if not wanted:
        return
    places = [Path(audit["report_path"])] if audit.get("report_path") else []
    places += [p for d in report_dirs for p in Path(d).rglob("report.json")]
    for place in places:
        folder = place if place.is_dir() else place.parent
        if (folder / "report.json").is_file() and \
                sha256_file(folder / "report.json") == wanted.get("report.json"):
            dest.mkdir(parents=True)
            for name, digest in wanted.items():
                src = folder / name
                if not src.is_file() or sha256_file(src) != digest:
                    raise HaiaError(f"audit {audit['id']}: {src} is missing or changed since "
                                    "it was recorded")
                shutil.copy2(src, dest / name)
            return
    raise HaiaError(f"audit {audit['id']}: its report folder was not found (moved? give the "
                    "folder that holds it)")


def _tier(records: dict[str, list[dict[str, Any]]]) -> str | None:
    order = ["I", "II", "III", "IV"]
    tiers = [a["tier"] for a in records["assessments"] if a.get("status") == "accepted"]
    return max(tiers, key=order.index) if tiers else None


def public_summary(records: dict[str, list[dict[str, Any]]]) -> str:
    """A plain-language summary of the system, its assessment, audits and decisions."""
    system, version = records["systems"][0], records["versions"][0]
    lines = [f"# {system['name']} {version['version']}: public summary", "",
             f"**What it is for:** {system['intended_use']}  ",
             f"**Where:** {system['clinical_setting']}; **used by:** {system['intended_users']}",
             "", "## Deployments", ""]
    for d in records["deployments"]:
        lines.append(f"- {d['site']}: {d['users_per_month']} users a month, status "
                     f"**{d['status']}**")
    lines += ["", "## Impact assessment", ""]
    for a in records["assessments"]:
        lines.append(f"- Version {a['number']} ({a['status']}): risk tier **{a['tier']}**")
        lines += [f"  - {r}" for r in a["reasons"][:10]]
    lines += ["", "## Independent audits", ""]
    for a in records["audits"]:
        counts = a["findings"].get("counts", {})
        found = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no findings"
        lines.append(f"- {a['suite']} suite on {a['at'][:10]}: {found}")
    lines += ["", "## Decisions", ""]
    for d in records["decisions"]:
        why = f": {d['reason']}" if d.get("reason") else ""
        lines.append(f"- {d['at'][:10]} {d['action']} (policy version "
                     f"{d.get('policy_version') or '-'}){why}")
    incidents = records["incidents"]
    lines += ["", "## Incidents", "", f"{len(incidents)} reported; "
              f"{sum(1 for i in incidents if i['status'] == 'resolved')} resolved; "
              f"{sum(1 for i in incidents if i['serious'])} serious.", ""]
    return "\n".join(lines)


def verify_bundle(folder: Path) -> tuple[list[str], str]:
    """Problems found in the dossier at ``folder`` and a one-line summary when sound."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        signature = (folder / "manifest.sig").read_text(encoding="utf-8").strip()
    except (OSError, ValueError) as exc:
        raise HaiaError(f"{folder}: not a haia dossier ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise HaiaError(f"{folder}: unknown dossier format {manifest.get('format')!r}")
    problems: list[str] = []
    if not verify_signature(manifest.get("exporter_public_key", ""), _canonical(manifest),
                            signature):
        problems.append("manifest.json: signature is not valid (manifest or manifest.sig "
                        "forged or edited)")
    listed = manifest.get("files", {})
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    for name in sorted(set(listed) - present):
        problems.append(f"{name}: missing from the dossier")
    for name in sorted(present - set(listed) - {"manifest.json", "manifest.sig"}):
        problems.append(f"{name}: not part of the dossier as exported (added)")
    for name in sorted(set(listed) & present):
        if sha256_file(folder / name) != listed[name]:
            problems.append(f"{name}: changed since export (sha256 differs)")
    try:
        records = json.loads((folder / "records.json").read_text(encoding="utf-8"))
        events = json.loads((folder / "ledger.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [*problems, f"records or ledger unreadable: {exc}"], ""
    problems += _check_events(events, manifest)
    problems += _check_records(records, events, manifest)
    problems += _check_reports(folder, records)
    keys = {u["name"]: u.get("public_key") for u in records.get("users", [])}
    if keys.get(manifest.get("exporter")) != manifest.get("exporter_public_key"):
        problems.append(f"manifest.json: exporter {manifest.get('exporter')!r} signed with a key "
                        "the ledger does not register for them")
    head = manifest.get("tree_head", {})
    summary = (f"dossier {manifest.get('target')} of {manifest.get('system')} "
               f"{manifest.get('version')}: {len(listed)} files, {len(events)} ledger events "
               f"proven against tree head {head.get('size')}:{head.get('root')}, signed by "
               f"{manifest.get('exporter')}")
    return problems, summary


def _check_events(events: list[dict[str, Any]], manifest: dict[str, Any]) -> list[str]:
    from haia.registry.service import verify_event_signatures

    problems = []
    head = manifest.get("tree_head", {})
    signed = []
    for raw in events:
        try:
            event = ledger.Event.from_dict(raw)
        except (KeyError, TypeError, ValueError):
            problems.append("ledger.json: malformed event")
            continue
        if ledger.event_hash(event.seq, event.kind, event.subject, event.actor, event.at,
                             event.payload, event.prev_hash) != event.hash:
            problems.append(f"ledger event {event.seq} ({event.kind}): content changed")
        proof = raw.get("proof") or {}
        if proof.get("root") != head.get("root") or proof.get("size") != head.get("size") \
                or not ledger.verify_proof(proof, event):
            problems.append(f"ledger event {event.seq} ({event.kind}): not proven to be in the "
                            "signed tree head")
        signed.append((event, raw.get("signature")))
    problems += [p for p in verify_event_signatures(signed)
                 if "had no registered key" not in p or not _legacy(signed)]
    return problems


def _legacy(signed: list[tuple[ledger.Event, Any]]) -> bool:
    return any(e.actor == "haia-migration" for e, _ in signed)


def _check_records(records: dict[str, list[dict[str, Any]]], events: list[dict[str, Any]],
                   manifest: dict[str, Any]) -> list[str]:
    problems = []
    latest: dict[str, dict[str, Any]] = {}
    for raw in events:
        payload = raw.get("payload") or {}
        if isinstance(payload, dict) and "row" in payload:
            latest[raw.get("subject", "")] = payload["row"]
    held = {f"{table}/{row.get('id')}": row for table, rows in records.items() for row in rows}
    for subject in manifest.get("subjects", []):
        if subject not in held:
            problems.append(f"{subject}: listed in the manifest but missing from records.json "
                            "(removed)")
    for subject, row in sorted(held.items()):
        if subject not in latest:
            problems.append(f"{subject}: in records.json without a ledger event behind it")
        elif latest[subject] != row:
            fields = sorted(k for k in set(row) | set(latest[subject])
                            if row.get(k) != latest[subject].get(k))
            problems.append(f"{subject}: field(s) {', '.join(fields)} differ from the ledger")
    for subject in sorted(set(latest) - set(held)):
        if subject.split("/")[0] in records:
            problems.append(f"{subject}: in the ledger but missing from records.json (removed)")
    return problems


def _check_reports(folder: Path, records: dict[str, list[dict[str, Any]]]) -> list[str]:
    from haia.registry.signing import verify_file

    problems = []
    users = {u["id"]: u for u in records.get("users", [])}
    for audit in records.get("audits", []):
        files = (audit.get("evidence") or {}).get("files", {})
        place = folder / "reports" / f"audit-{audit['id']}"
        for name, digest in files.items():
            path = place / name
            if not path.is_file():
                problems.append(f"reports/audit-{audit['id']}/{name}: missing")
            elif sha256_file(path) != digest:
                problems.append(f"reports/audit-{audit['id']}/{name}: differs from the report "
                                "the audit recorded")
        auditor = users.get(audit["auditor_id"], {})
        main = place / "report.json"
        if not files or not main.is_file() or not auditor.get("public_key"):
            continue
        with tempfile.TemporaryDirectory() as keys:
            pub = Path(keys) / "auditor.pub"
            pub.write_text(auditor["public_key"] + "\n")
            for name in files:
                if name.endswith(".sig") or not signature_path(place / name).is_file():
                    continue
                for p in verify_file(place / name, [pub]):
                    problems.append(f"reports/audit-{audit['id']}/" + p.replace(
                        "is not in the trusted key set",
                        f"is not the registered key of auditor {auditor.get('name')!r}"))
    return problems


def _canonical(manifest: dict[str, Any]) -> str:
    return ledger.canonical_json(manifest).decode("utf-8")


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                    encoding="utf-8")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

