"""chat workspaces bound on first contact; link requests approved by supervisors

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chat_workspaces",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("workspace_id", sa.String(length=200), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_workspaces")),
        sa.UniqueConstraint("platform", name=op.f("uq_chat_workspaces_platform")),
    )
    op.create_table(
        "link_requests",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("namespace", sa.String(length=200), nullable=False),
        sa.Column("user_key", sa.String(length=300), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("agent_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", _ID, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'denied')", name=op.f("ck_link_requests_status")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_link_requests_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["people.id"],
            name=op.f("fk_link_requests_decided_by_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_requests")),
        sa.UniqueConstraint(
            "platform",
            "namespace",
            "user_key",
            "person_id",
            name=op.f("uq_link_requests_platform_namespace_user_key_person_id"),
        ),
    )
    op.create_index(op.f("ix_link_requests_person_id"), "link_requests", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_link_requests_person_id"), table_name="link_requests")
    op.drop_table("link_requests")
    op.drop_table("chat_workspaces")
