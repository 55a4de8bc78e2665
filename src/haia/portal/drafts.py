"""Impact-assessment drafts saved on the portal: the answers so far and the tier they give,
kept per user and deployment until submitted (then the registry records the assessment)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from haia.assessment.score import questionnaire, questions, score
from haia.errors import HaiaError
from haia.portal.accounts import Account
from haia.registry.errors import PermissionDenied
from haia.registry.models import Draft
from haia.registry.service import Registry


def clean_answers(answers: dict[str, Any]) -> dict[str, str]:
    """Only answers to known questions with one of their options (a draft may be partial)."""
    known = questions(questionnaire())
    out: dict[str, str] = {}
    for qid, value in answers.items():
        if qid not in known:
            raise HaiaError(f"no question {qid!r} in the questionnaire")
        if value in (None, ""):
            continue
        options = {str(o["value"]) for o in known[qid]["options"]}
        if str(value) not in options:
            raise HaiaError(f"{qid}: {value!r} is not one of its options "
                            f"({', '.join(sorted(options))})")
        out[qid] = str(value)
    return out


def preview(answers: dict[str, str]) -> dict[str, Any]:
    """The tier the answers give so far, its reasons, and the questions still unanswered."""
    known = questions(questionnaire())
    missing = [qid for qid in known if qid not in answers]
    try:
        result = score(answers, questionnaire())
    except HaiaError as exc:
        return {"tier": None, "score": None, "reasons": [], "missing": missing,
                "note": str(exc)}
    return {"tier": result.tier, "score": round(result.score, 3), "reasons": result.reasons,
            "missing": missing}


def check_deployer(registry: Registry, account: Account, deployment_id: int) -> None:
    """Only a member of the deployment's deployer drafts its assessment (the registry's rule
    for recording one); NotFound when there is no such deployment."""
    deployment = registry.show("deployments", deployment_id)
    if account.organisation_id is None or deployment["deployer_id"] != account.organisation_id:
        raise PermissionDenied(f"{account.name!r} does not belong to the deployer of "
                               f"deployment {deployment_id}: the deployer assesses its use")


def save(registry: Registry, account: Account, deployment_id: int,
         answers: dict[str, Any]) -> dict[str, Any]:
    clean = clean_answers(answers)
    check_deployer(registry, account, deployment_id)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with registry.sessions() as s, s.begin():
        row = s.scalars(select(Draft).where(Draft.user_id == account.user_id,
                                            Draft.deployment_id == deployment_id)).first()
        if row is None:
            s.add(Draft(user_id=account.user_id, deployment_id=deployment_id, answers=clean,
                        updated=now))
        else:
            row.answers, row.updated = clean, now
    return {"deployment_id": deployment_id, "answers": clean, "updated": now.isoformat(),
            **preview(clean)}


def load(registry: Registry, account: Account, deployment_id: int) -> dict[str, Any]:
    check_deployer(registry, account, deployment_id)
    with registry.sessions() as s:
        row = s.scalars(select(Draft).where(Draft.user_id == account.user_id,
                                            Draft.deployment_id == deployment_id)).first()
    answers = dict(row.answers) if row else {}
    return {"deployment_id": deployment_id, "answers": answers,
            "updated": row.updated.isoformat() if row else None, **preview(answers)}


def discard(registry: Registry, account: Account, deployment_id: int) -> None:
    with registry.sessions() as s, s.begin():
        s.execute(delete(Draft).where(Draft.user_id == account.user_id,
                                      Draft.deployment_id == deployment_id))
