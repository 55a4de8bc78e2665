"""approval gate: per-deployment workflow, registered keys, signed ledger events, policy
versions, decisions, risk acceptances, incident lifecycle, moderated feedback

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 06:30:00

A registry written by schema 0001 keeps every row. Systems approved under the old, unchecked
rules do not stay approved: each of their deployments goes back to ``under_review``. Rows whose
snapshot changes here are re-ledgered when the registry is next opened (``registry.migrated``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_LEGACY_STATUS = {"approved": "under_review", "in_monitoring": "under_review",
                  "retired": "withdrawn"}


def upgrade() -> None:
    with op.batch_alter_table("users") as t:
        t.add_column(sa.Column("public_key", sa.Text(), nullable=True))
        t.add_column(sa.Column("key_fingerprint", sa.String(16), nullable=True))
    with op.batch_alter_table("deployments") as t:
        t.add_column(sa.Column("deployer_id", sa.Integer(), nullable=True))
        t.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="draft"))
        t.add_column(sa.Column("setting", sa.String(200), nullable=True))
        t.add_column(sa.Column("intended_users", sa.String(200), nullable=True))
        t.create_foreign_key("fk_deployments_deployer", "organisations", ["deployer_id"], ["id"])
    with op.batch_alter_table("audits") as t:
        t.add_column(sa.Column("deployment_id", sa.Integer(), nullable=True))
        t.add_column(sa.Column("evidence", sa.JSON(), nullable=True))
        t.create_foreign_key("fk_audits_deployment", "deployments", ["deployment_id"], ["id"])
    with op.batch_alter_table("assessments") as t:
        t.add_column(sa.Column("deployment_id", sa.Integer(), nullable=True))
        t.add_column(sa.Column("number", sa.Integer(), nullable=True))
        t.add_column(sa.Column("status", sa.String(20), nullable=True))
        t.add_column(sa.Column("reviewed_by", sa.Integer(), nullable=True))
        t.add_column(sa.Column("contradictions", sa.JSON(), nullable=True))
        t.create_foreign_key("fk_assessments_deployment", "deployments", ["deployment_id"],
                             ["id"])
        t.create_foreign_key("fk_assessments_reviewer", "users", ["reviewed_by"], ["id"])
    with op.batch_alter_table("incidents") as t:
        t.alter_column("reporter_id", existing_type=sa.Integer(), nullable=True)
        t.add_column(sa.Column("status", sa.String(20), nullable=True))
        t.add_column(sa.Column("serious", sa.Integer(), nullable=True))
        t.add_column(sa.Column("reporter_category", sa.String(40), nullable=True))
        t.add_column(sa.Column("root_cause", sa.Text(), nullable=True))
        t.add_column(sa.Column("corrective_action", sa.Text(), nullable=True))
        t.add_column(sa.Column("notified_on", sa.Date(), nullable=True))
        t.add_column(sa.Column("authority", sa.String(200), nullable=True))
    with op.batch_alter_table("feedback") as t:
        t.add_column(sa.Column("status", sa.String(20), nullable=True))
        t.add_column(sa.Column("verified", sa.Integer(), nullable=True))
    with op.batch_alter_table("ledger") as t:
        t.add_column(sa.Column("signature", sa.Text(), nullable=True))
        t.add_column(sa.Column("key_fingerprint", sa.String(16), nullable=True))
    op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False, unique=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("proposed_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("approved_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("deployment_id", sa.Integer(), sa.ForeignKey("deployments.id"),
                  nullable=False),
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("versions.id"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reviewers", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("assessment_id", sa.Integer(), sa.ForeignKey("assessments.id"),
                  nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "risk_acceptances",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("deployment_id", sa.Integer(), sa.ForeignKey("deployments.id"),
                  nullable=False),
        sa.Column("audit_id", sa.Integer(), sa.ForeignKey("audits.id"), nullable=False),
        sa.Column("finding", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires", sa.Date(), nullable=False),
        sa.Column("accepted_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    # the workflow moves from the system to its deployments; old approvals need re-review
    bind = op.get_bind()
    systems = {sid: status for sid, status in bind.execute(sa.text(
        "SELECT id, status FROM systems"))}
    for dep_id, system_id in bind.execute(sa.text(
            "SELECT d.id, v.system_id FROM deployments d JOIN versions v ON v.id = d.version_id"
    )).all():
        old = systems.get(system_id, "draft")
        new = _LEGACY_STATUS.get(old, old)
        bind.execute(sa.text("UPDATE deployments SET status = :s WHERE id = :i"),
                     {"s": new, "i": dep_id})
    bind.execute(sa.text("UPDATE incidents SET status = 'reported', serious = 0"))
    bind.execute(sa.text("UPDATE feedback SET status = 'published', verified = 0"))


def downgrade() -> None:
    op.drop_table("risk_acceptances")
    op.drop_table("decisions")
    op.drop_table("policies")
    for table, columns in {
        "ledger": ["signature", "key_fingerprint"],
        "feedback": ["status", "verified"],
        "incidents": ["status", "serious", "reporter_category", "root_cause",
                      "corrective_action", "notified_on", "authority"],
        "assessments": ["deployment_id", "number", "status", "reviewed_by", "contradictions"],
        "audits": ["deployment_id", "evidence"],
        "deployments": ["deployer_id", "status", "setting", "intended_users"],
        "users": ["public_key", "key_fingerprint"],
    }.items():
        with op.batch_alter_table(table) as t:
            for column in columns:
                t.drop_column(column)
