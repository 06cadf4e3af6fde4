"""kept replies: answers kept for their paging buttons (a writing command's reply, long arguments)

Revision ID: 0010_kept_replies
Revises: 0009_revocations_arrivals
Create Date: 2026-12-04 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_kept_replies"
down_revision = "0009_revocations_arrivals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_replies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_replies")),
        sa.UniqueConstraint("key", name=op.f("uq_kept_replies_key")),
    )


def downgrade() -> None:
    op.drop_table("kept_replies")
