"""portal: verified stakeholder accounts, feedback on an audit or a finding with the
developer's reply, held reasons, portal credentials, tokens and assessment drafts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 14:30:00

Only columns and tables are added; no row changes, so nothing is re-ledgered.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as t:
        t.add_column(sa.Column("category", sa.String(40), nullable=True))
    with op.batch_alter_table("feedback") as t:
        t.add_column(sa.Column("audit_id", sa.Integer(), nullable=True))
        t.add_column(sa.Column("finding", sa.String(200), nullable=True))
        t.add_column(sa.Column("held_reason", sa.String(200), nullable=True))
        t.add_column(sa.Column("reply", sa.Text(), nullable=True))
        t.add_column(sa.Column("replied_by", sa.Integer(), nullable=True))
        t.create_foreign_key("fk_feedback_audit", "audits", ["audit_id"], ["id"])
        t.create_foreign_key("fk_feedback_replier", "users", ["replied_by"], ["id"])
    with op.batch_alter_table("incidents") as t:
        t.add_column(sa.Column("held_reason", sa.String(200), nullable=True))
    op.create_table(
        "portal_credentials",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("key_salt", sa.String(64), nullable=False),
        sa.Column("key_blob", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "portal_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("label", sa.String(100), nullable=True),
        sa.Column("key_blob", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "portal_drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("deployment_id", sa.Integer(), sa.ForeignKey("deployments.id"),
                  nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "deployment_id", name="uq_portal_drafts_user_deployment"),
    )


def downgrade() -> None:
    op.drop_table("portal_drafts")
    op.drop_table("portal_tokens")
    op.drop_table("portal_credentials")
    with op.batch_alter_table("incidents") as t:
        t.drop_column("held_reason")
    with op.batch_alter_table("feedback") as t:
        t.drop_constraint("fk_feedback_replier", type_="foreignkey")
        t.drop_constraint("fk_feedback_audit", type_="foreignkey")
        for name in ("replied_by", "reply", "held_reason", "finding", "audit_id"):
            t.drop_column(name)
    with op.batch_alter_table("users") as t:
        t.drop_column("category")
