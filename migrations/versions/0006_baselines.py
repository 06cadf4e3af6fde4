"""improvement baselines

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "baselines",
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=50), nullable=False),
        sa.Column("span", sa.String(length=20), nullable=False),
        sa.Column("num", sa.BigInteger(), nullable=False),
        sa.Column("den", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_baselines_subject_id_subjects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("subject_id", "business_day", "metric", "span", name=op.f("pk_baselines")),
    )


def downgrade() -> None:
    op.drop_table("baselines")
