"""badge awards and period closes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "badge_awards",
        sa.Column("id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("badge", sa.String(length=100), nullable=False),
        sa.Column("tier", sa.String(length=10), nullable=False),
        sa.Column("period_key", sa.String(length=40), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("program_version", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("inputs", _JSON, nullable=False),
        sa.Column("awarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("tier IN ('', 'bronze', 'silver', 'gold')", name=op.f("ck_badge_awards_tier")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_badge_awards_person_id_people"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_awards")),
        sa.UniqueConstraint(
            "person_id",
            "badge",
            "tier",
            "period_key",
            name=op.f("uq_badge_awards_person_id_badge_tier_period_key"),
        ),
    )
    op.create_index("ix_badge_awards_awarded_at", "badge_awards", ["awarded_at"])
    op.create_index("ix_badge_awards_person_day", "badge_awards", ["person_id", "business_day"])
    op.create_table(
        "period_closes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("period_key", sa.String(length=40), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_closes")),
        sa.UniqueConstraint("period_key", name=op.f("uq_period_closes_period_key")),
    )


def downgrade() -> None:
    op.drop_table("period_closes")
    op.drop_index("ix_badge_awards_person_day", table_name="badge_awards")
    op.drop_index("ix_badge_awards_awarded_at", table_name="badge_awards")
    op.drop_table("badge_awards")
