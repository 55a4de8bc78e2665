"""Checking report files against the registry: every file and signature of a recorded audit.

An audit is recorded with the SHA-256 of every report file and signature in its folder
(:mod:`haia.registry.evidence`), so the folder may move. Given any one file of that folder (or
the folder), the recorded audit is found by content hash of whichever file is still intact, and
then every recorded file is checked: present, unchanged, and each signature by the auditor's key
as registered in the registry.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from haia.registry.evidence import REPORT_FILES
from haia.registry.signing import sha256_file, signature_path, verify_file


def _candidates(path: Path) -> tuple[Path, list[Path]]:
    """(folder, files to look the audit up by) for a report file or folder."""
    folder = path if path.is_dir() else path.parent
    names = [*REPORT_FILES, *(f"{n}.sig" for n in REPORT_FILES)]
    files = [folder / n for n in names if (folder / n).is_file()]
    if path.is_file() and path not in files:
        files.insert(0, path)
    return folder, files


def find_recorded(path: Path, lookup: Any) -> dict[str, Any] | None:
    """The recorded audit one of whose files sits in ``path``'s folder unchanged, or None.
    ``lookup`` is :meth:`Registry.audit_by_hash`."""
    _, files = _candidates(path)
    for file in files:
        recorded = lookup(sha256_file(file))
        if recorded is not None:
            return recorded
    return None


def against_key(path: Path, public_key: str | None, who: str) -> list[str]:
    """``path``'s signature checked against one registered public key (base64 raw)."""
    if not public_key:
        return [f"{path.name}: {who} has no registered key to check its signature against"]
    with tempfile.TemporaryDirectory() as folder:
        pub = Path(folder) / "registered.pub"
        pub.write_text(public_key + "\n")
        problems = verify_file(path, [pub])
    return [p.replace("is not in the trusted key set", f"is not the registered key of {who}")
            for p in problems]


def check_recorded_folder(folder: Path, recorded: dict[str, Any]) -> list[str]:
    """Every file recorded with the audit, checked in ``folder``: missing, changed, or signed
    by another key than the auditor's registered one."""
    audit = recorded["audit"]
    label = f"audit {audit['id']}"
    files: dict[str, str] = (audit.get("evidence") or {}).get("files") or {}
    if not files and audit.get("report_sha256"):
        files = {"report.json": audit["report_sha256"]}
    who = f"auditor {recorded['auditor']!r}"
    problems: list[str] = []
    for name, digest in sorted(files.items()):
        path = folder / name
        kind = "signature" if name.endswith(".sig") else "report file"
        if not path.is_file():
            problems.append(f"{name}: {kind} recorded with {label} is missing from {folder} "
                            "(deleted)")
        elif sha256_file(path) != digest:
            problems.append(f"{name}: {kind} changed since {label} was recorded")
    for name in sorted(n for n in files if not n.endswith(".sig")):
        path = folder / name
        if path.is_file() and f"{name}.sig" in files and signature_path(path).is_file():
            problems += against_key(path, recorded.get("public_key"), who)
    return problems


def check_report_paths(paths: list[Path], lookup: Any | None,
                       trusted_keys: list[Path] | None) -> tuple[list[str], list[str]]:
    """(problems, notes) for the report files or folders a user named with ``--report``.

    A file of a recorded audit: its whole folder is checked against the record. Otherwise the
    signature is checked against ``trusted_keys``, or, without them, said to prove nothing.
    """
    problems: list[str] = []
    notes: list[str] = []
    for path in paths:
        if not path.exists():
            problems.append(f"{path}: no such report file or folder")
            continue
        recorded = find_recorded(path, lookup) if lookup is not None else None
        if trusted_keys:
            targets = [path] if path.is_file() else _candidates(path)[1]
            for target in (t for t in targets if not t.name.endswith(".sig")):
                problems += verify_file(target, list(trusted_keys))
        elif recorded is not None:
            folder = path if path.is_dir() else path.parent
            found = check_recorded_folder(folder, recorded)
            problems += found
            if not found:
                notes.append(f"{path}: every file of recorded audit {recorded['audit']['id']} "
                             f"intact, signed by {recorded['auditor']} "
                             f"(key {recorded['fingerprint']})")
        elif path.is_dir():
            problems.append(f"{path}: no file in it belongs to an audit the registry recorded")
        else:
            own = verify_file(path)
            problems += own or [f"{path.name}: not a report the registry recorded, and no "
                                "--trusted-key given: the signature proves nothing about who "
                                "signed it"]
    return problems, notes
