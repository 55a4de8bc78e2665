"""What an audit proves, read from its signed report rather than from the caller's claims.

The registry records an audit from its report folder: ``report.json`` must carry a valid
signature; the suite, its version and content hash, the model, the ``--limit`` used, how many
items ran and failed, the findings and the subject (system, version, deployment, auditor,
independence statement) all come from it, and every report file is recorded by content hash,
so the folder may move and still verify.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from haia.errors import HaiaError
from haia.registry.signing import sha256_file, signature_fingerprint, signature_path, verify_file

REPORT_FILES = ("report.json", "report.html", "report.pdf")


def report_evidence(folder: Path) -> dict[str, Any]:
    """The evidence of the report in ``folder`` (a folder or its report.json)."""
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    main = folder / "report.json"
    if not main.is_file():
        raise HaiaError(f"no report.json in {folder}")
    problems = verify_file(main)
    if problems:
        raise HaiaError(f"the report is not validly signed: {problems[0]}")
    try:
        report = json.loads(main.read_text(encoding="utf-8"))
        run = report["run"]
        counts = run["counts"]
        config = run.get("config", {})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HaiaError(f"{main}: not a haia report ({exc.__class__.__name__}: {exc})") from None
    files: dict[str, str] = {}
    for name in REPORT_FILES:
        path = folder / name
        if path.is_file():
            files[name] = sha256_file(path)
            sig = signature_path(path)
            if sig.is_file():
                if verify_file(path):
                    raise HaiaError(f"{name}: its signature is not valid")
                files[sig.name] = sha256_file(sig)
    findings = [{"id": str(f.get("id")), "severity": str(f.get("severity"))}
                for f in report.get("findings", [])]
    suite = str(run.get("suite", ""))
    items_total = _suite_size(suite, str(run.get("suite_hash", "")))
    limit = config.get("limit")
    items_run = int(counts.get("items", 0))
    return {
        "run_id": str(run.get("run_id", "")),
        "suite": suite,
        "suite_version": run.get("suite_version"),
        "suite_hash": run.get("suite_hash"),
        # the spec as run (run.model is shown without its endpoint path)
        "model": str(config.get("model") or run.get("model", "")),
        "limit": limit,
        "items_run": items_run,
        "items_total": items_total,
        "responses": int(counts.get("responses", 0)),
        "errors": int(counts.get("errors", 0)),
        "full": limit is None and items_total is not None and items_run == items_total,
        "finished": run.get("finished"),
        "findings": findings,
        "subject": report.get("subject") or {},
        "files": files,
        "signer_fingerprint": signature_fingerprint(main),
    }


@lru_cache(maxsize=64)
def _suite_size(name: str, content_hash: str) -> int | None:
    """Items in suite ``name`` when the suite haia knows has the report's content hash."""
    from haia.suites.loader import load_suite

    try:
        suite = load_suite(name)
    except Exception:  # a suite file not available here: the size cannot be confirmed
        return None
    return len(suite.items) if suite.content_hash() == content_hash else None


def severity_counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    return counts
