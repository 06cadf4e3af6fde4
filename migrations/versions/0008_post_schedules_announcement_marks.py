"""post schedules (where catch-up after an outage starts) and announcement marks (how far news was read)

Revision ID: 0008_post_marks
Revises: 0007
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_post_marks"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_schedules",
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("first_tick_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_post_schedules_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "kind", name=op.f("pk_post_schedules")),
    )
    op.create_table(
        "announcement_marks",
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("seen_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_announcement_marks")),
    )


def downgrade() -> None:
    op.drop_table("announcement_marks")
    op.drop_table("post_schedules")
