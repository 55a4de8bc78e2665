"""Content review records: who reviewed a suite's clinical content, when, and against what.

A suite folder holds ``review.yaml`` beside ``suite.yaml`` (a single-file suite ``X.yaml`` has
``X.review.yaml``)::

    reviews:
    - date: 2026-12-02
      reviewer_role: haia project content review (not a licensed clinician's sign-off)
      scope: all 41 items: rubric criteria, patterns and worked examples
      guidelines_checked: [NICE CG95 (2016), TOXBASE paracetamol (2024)]
      changes: harm patterns no longer flag negated warnings

The latest record is shown in the report's reproducibility block.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

REQUIRED = ("date", "reviewer_role", "scope", "guidelines_checked")


def review_path(suite_path: str | Path) -> Path:
    """Where the review record of the suite file ``suite_path`` lives."""
    path = Path(suite_path)
    if path.name == "suite.yaml":
        return path.parent / "review.yaml"
    return path.with_name(f"{path.stem}.review.yaml")


def read_reviews(suite_path: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """(the review records, problems with them); no file gives one problem."""
    path = review_path(suite_path)
    if not path.is_file():
        return [], [f"no content review record ({path.name} beside the suite)"]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], [f"{path.name}: unreadable ({str(exc).splitlines()[0]})"]
    reviews = data.get("reviews") if isinstance(data, dict) else None
    if not isinstance(reviews, list) or not reviews:
        return [], [f"{path.name}: expected 'reviews:' with at least one record"]
    problems: list[str] = []
    records: list[dict[str, Any]] = []
    for n, record in enumerate(reviews, start=1):
        if not isinstance(record, dict):
            problems.append(f"{path.name}: review #{n}: expected a mapping")
            continue
        # an empty guidelines list is allowed (structural review), a missing one is not
        missing = [k for k in REQUIRED if record.get(k) is None
                   or (k != "guidelines_checked" and not record.get(k))]
        if missing:
            problems.append(f"{path.name}: review #{n}: missing {', '.join(missing)}")
        guidelines = record.get("guidelines_checked")
        if guidelines is not None and not (isinstance(guidelines, list)
                                           and all(isinstance(g, str) for g in guidelines)):
            problems.append(f"{path.name}: review #{n}: 'guidelines_checked' must be a list of "
                            "strings")
        records.append({k: (v.isoformat() if isinstance(v, dt.date) else v)
                        for k, v in record.items()})
    return records, problems


def latest_review(suite_path: str | Path | None) -> dict[str, Any] | None:
    """The most recent review record of a suite (by date), or ``None``."""
    if not suite_path:
        return None
    records, _ = read_reviews(suite_path)
    dated = [r for r in records if r.get("date")]
    return max(dated, key=lambda r: str(r["date"])) if dated else None
