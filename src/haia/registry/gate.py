"""The approval gate: what must hold before a reviewer may approve a version for a deployment.

Checked against the registry's active policy version, every time, in the service layer:

- the deployment's latest assessment version has been accepted by a reviewer and does not
  contradict the registered deployment;
- each suite the tier (and the deployment's scale) requires was audited in full, on the
  version's registered model, by an eligible auditor (auditor role, registered signing key
  that signed the report, an organisation with no tie to the developer, a real independence
  statement), recently enough;
- no open finding at a blocking severity, unless two reviewers accepted that risk, with a
  reason, until an expiry date still ahead;
- no open incident at or above the re-review severity, no serious one unresolved or not
  notified to the authority;
- four eyes: the approver is not the assessment's author; tiers that need two reviewers get a
  sign-off by one and the approval by another, on the same assessment and policy version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haia.registry.models import (
    AISystem,
    Audit,
    Decision,
    Deployment,
    Feedback,
    ImpactAssessment,
    Incident,
    PolicyVersion,
    RiskAcceptance,
    SystemVersion,
    User,
)
from haia.registry.policy import Policy, severity_rank

USER_BANDS = {"under-100": (0, 99), "100-10k": (100, 10_000), "10k-1m": (10_000, 1_000_000),
              "over-1m": (1_000_001, None)}
CLINICAL_WORDS = ("triage", "diagnos", "treatment", "emergency", "prescri", "dosing",
                  "symptom", "clinical decision")
CHILD_WORDS = ("child", "paediatric", "pediatric", "under 18", "adolescent", "infant",
               "neonat")


@dataclass
class Outcome:
    """The gate's verdict: problems (empty = may approve) and what the decision relies on."""

    problems: list[str] = field(default_factory=list)
    needs_signoff: bool = False
    reviewers: list[int] = field(default_factory=list)
    assessment_id: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


def _today() -> date:
    return datetime.now(UTC).date()


def auditor_problems(s: Session, user: User, system: AISystem, independence: str | None,
                     policy: Policy) -> list[str]:
    """Why ``user`` is not an eligible independent auditor of ``system`` (empty if they are)."""
    problems = []
    if user.role != "auditor":
        problems.append(f"{user.name!r} has role {user.role}, not auditor")
    if not user.key_fingerprint:
        problems.append(f"{user.name!r} has no registered signing key")
    if user.organisation_id is None:
        problems.append(f"{user.name!r} belongs to no organisation, so independence from the "
                        "developer cannot be established")
    elif user.organisation_id == system.developer_id:
        problems.append(f"separation of duties: {user.name!r} belongs to the developer of "
                        f"{system.name!r}")
    if user.id == system.created_by:
        problems.append(f"separation of duties: {user.name!r} registered {system.name!r}")
    statement = (independence or "").strip()
    if len(statement) < policy.min_independence_chars or not any(c.isalpha() for c in statement):
        problems.append(f"the independence statement must say, in at least "
                        f"{policy.min_independence_chars} characters, how the auditor is "
                        "independent of the developer (--independence)")
    return problems


def contradictions(answers: dict[str, Any], d: Deployment, system: AISystem,
                   system_name: str | None) -> list[str]:
    """Where an assessment's answers contradict the registered deployment and system."""
    found = []
    if system_name and system_name.strip() != system.name:
        found.append(f"the answers are for system {system_name.strip()!r}, not {system.name!r}")
    band = USER_BANDS.get(str(answers.get("ap-users-per-month")))
    if band is not None:
        low, high = band
        if d.users_per_month < low or (high is not None and d.users_per_month > high):
            found.append(f"ap-users-per-month answers {answers['ap-users-per-month']!r} but "
                         f"deployment {d.id} is registered for {d.users_per_month} users a month")
    users = f"{d.intended_users or ''} {system.intended_users or ''}".lower()
    if answers.get("ap-children") == "not-used" and any(w in users for w in CHILD_WORDS):
        found.append(f"ap-children answers 'not-used' but the registered users are "
                     f"{d.intended_users or system.intended_users!r}")
    use = f"{system.intended_use} {d.setting or system.clinical_setting}".lower()
    if answers.get("ws-use-area") in {"administrative", "education-research"} and any(
            w in use for w in CLINICAL_WORDS):
        found.append(f"ws-use-area answers {answers['ws-use-area']!r} but the registered use is "
                     f"{system.intended_use!r} in {d.setting or system.clinical_setting!r}")
    if answers.get("aut-autonomous-at-scale") == "national" and d.users_per_month < 100:
        found.append("aut-autonomous-at-scale answers 'national' for a deployment registered "
                     f"for {d.users_per_month} users a month")
    return found


def audit_problems(s: Session, audit: Audit, version: SystemVersion, system: AISystem,
                   policy: Policy) -> list[str]:
    """Why ``audit`` cannot count as an independent audit of ``version`` (empty if it can)."""
    ev = audit.evidence or {}
    label = f"audit {audit.id} ({audit.suite})"
    if not ev:
        return [f"{label} was recorded without its report's evidence (schema 0001)"]
    problems = []
    if audit.model != version.model_id:
        problems.append(f"{label} ran model {audit.model!r}, not version {version.version}'s "
                        f"registered model {version.model_id!r}")
    if not ev.get("full"):
        if ev.get("limit") is not None:
            why = f"--limit {ev['limit']}"
        elif ev.get("items_total") is None:
            why = "its suite's size could not be confirmed (unknown suite or changed content)"
        else:
            why = "not every item"
        problems.append(f"{label} ran {ev.get('items_run')} of {ev.get('items_total') or '?'} "
                        f"items ({why}): not a full audit")
    if int(ev.get("items_run", 0)) < policy.min_items:
        problems.append(f"{label} ran {ev.get('items_run')} items, fewer than the policy's "
                        f"{policy.min_items}")
    responses = max(int(ev.get("responses", 0)), 1)
    if int(ev.get("errors", 0)) / responses > policy.max_failed_share:
        problems.append(f"{label}: {ev.get('errors')} of {responses} requests failed (over "
                        f"{policy.max_failed_share:.0%})")
    auditor = s.get(User, audit.auditor_id)
    problems += [f"{label}: {p}" for p in auditor_problems(s, auditor, system,
                                                           audit.independence, policy)]
    if auditor.key_fingerprint and ev.get("signer_fingerprint") != auditor.key_fingerprint:
        problems.append(f"{label}: its report is not signed with {auditor.name!r}'s registered "
                        "key")
    age = (datetime.now(UTC).replace(tzinfo=None) - audit.at).days
    if age > policy.max_audit_age_days:
        problems.append(f"{label} is {age} days old; the policy allows "
                        f"{policy.max_audit_age_days}")
    return problems


def evaluate(s: Session, d: Deployment, approver: User, policy_row: PolicyVersion) -> Outcome:
    """The gate for ``approver`` approving deployment ``d`` under ``policy_row``."""
    policy = Policy.from_dict(policy_row.settings)
    version = s.get(SystemVersion, d.version_id)
    system = s.get(AISystem, version.system_id)
    out = Outcome()
    # -- the assessment
    latest = s.scalars(select(ImpactAssessment).where(ImpactAssessment.deployment_id == d.id)
                       .order_by(ImpactAssessment.number.desc())).first()
    if latest is None:
        out.problems.append(f"deployment {d.id} has no impact assessment by its deployer "
                            "(haia assess)")
        return out
    if latest.status != "accepted":
        out.problems.append(f"assessment version {latest.number} (assessment {latest.id}) is "
                            f"{latest.status}: a reviewer must accept it first")
    if latest.contradictions:
        out.problems.append("the assessment contradicts the registered deployment: "
                            + "; ".join(latest.contradictions))
    if approver.id == latest.assessor_id:
        out.problems.append("four eyes: the assessment's author cannot approve")
    out.assessment_id = latest.id
    tier = latest.tier
    at_scale = policy.at_scale(d.users_per_month, d.queries_per_month)
    # -- the audits
    audits = list(s.scalars(select(Audit).where(Audit.version_id == version.id)
                            .order_by(Audit.id.desc())))
    audits = [a for a in audits if a.deployment_id in (None, d.id)]
    required = policy.required_suites(tier, at_scale)
    relied: dict[str, Audit] = {}
    for suite in required:
        candidates = [a for a in audits if a.suite == suite]
        passing = [a for a in candidates if not audit_problems(s, a, version, system, policy)]
        if passing:
            relied[suite] = passing[0]
            continue
        why = (f"deployed at scale ({d.users_per_month} users, {d.queries_per_month} queries a "
               f"month)" if at_scale else f"assessed at risk tier {tier}")
        if not candidates:
            out.problems.append(f"deployment {d.id} is {why} and needs an independent audit of "
                                f"the {suite!r} suite; none is recorded for version "
                                f"{version.version}")
        else:
            first = audit_problems(s, candidates[0], version, system, policy)
            out.problems.append(f"deployment {d.id} is {why} and needs an independent audit of "
                                f"the {suite!r} suite: {first[0]}")
    for a in audits:  # the newest audit of every other suite counts too: its findings stand
        relied.setdefault(a.suite, a)
    # -- blocking findings and their risk acceptances
    acceptances = list(s.scalars(select(RiskAcceptance).where(
        RiskAcceptance.deployment_id == d.id, RiskAcceptance.expires > _today())))
    used: list[int] = []
    blocking = {x for x in policy.blocking_severities}
    for audit in relied.values():
        for f in audit.findings.get("open", []):
            if f.get("severity") not in blocking:
                continue
            accepted = [r for r in acceptances if r.audit_id == audit.id
                        and r.finding == f["id"]]
            if len({r.accepted_by for r in accepted}) >= 2:
                used += [r.id for r in accepted]
                continue
            out.problems.append(f"audit {audit.id} ({audit.suite}) has an open {f['severity']} "
                                f"finding {f['id']!r}: fix it, or two reviewers record a risk "
                                "acceptance with a reason and an expiry")
    # -- incidents
    incidents = list(s.scalars(select(Incident).where(Incident.deployment_id == d.id)))
    for i in incidents:
        open_ = i.status in {"reported", "triaged", "investigating"}
        if open_ and (i.serious or severity_rank(i.severity)
                      >= severity_rank(policy.reopen_severity)):
            out.problems.append(f"incident {i.id} ({i.severity}"
                                f"{', serious' if i.serious else ''}) is {i.status}: resolve it "
                                "with its root cause and corrective action first")
        if i.serious and i.status != "held" and i.notified_on is None:
            out.problems.append(f"serious incident {i.id} has not been notified to the "
                                "authority (record the date and the authority)")
    # -- four eyes
    out.reviewers = [approver.id]
    if tier in policy.two_reviewer_tiers:
        opened = s.scalars(select(Decision).where(
            Decision.deployment_id == d.id, Decision.action.in_(("review", "reopen")))
            .order_by(Decision.id.desc())).first()
        since = opened.id if opened else 0
        signoffs = [x for x in s.scalars(select(Decision).where(
            Decision.deployment_id == d.id, Decision.action == "signoff",
            Decision.id > since)) if x.assessment_id == latest.id
            and x.policy_version == policy_row.version and approver.id not in x.reviewers]
        if signoffs:
            out.reviewers = [signoffs[-1].reviewers[0], approver.id]
        else:
            out.needs_signoff = True
    # -- what the decision relies on
    feedback = list(s.scalars(select(Feedback).where(Feedback.system_id == system.id)))
    summary: dict[str, dict[str, int]] = {}
    for f in feedback:
        entry = summary.setdefault(f.stakeholder, {"published": 0, "held": 0, "verified": 0})
        if f.status in {"published", "held"}:
            entry[f.status] += 1
        entry["verified"] += int(bool(f.verified))
    out.evidence = {
        "policy_version": policy_row.version, "tier": tier, "at_scale": at_scale,
        "required_suites": required,
        "audits": {suite: a.id for suite, a in sorted(relied.items())},
        "risk_acceptances": sorted(set(used)),
        "incidents": [{"id": i.id, "status": i.status, "severity": i.severity,
                       "serious": bool(i.serious)} for i in incidents if i.status != "held"],
        "feedback": summary,
        "valid_until": min([(a.at + timedelta(days=policy.max_audit_age_days)).date()
                            .isoformat() for a in relied.values()], default=None),
    }
    return out
