"""badge revocations keep their reason (template, inputs, day); periods remember when their first record
arrived (late history gets its own correction window); a program text may be applied again as a new version

Revision ID: 0009_revocations_arrivals
Revises: 0008_post_marks
Create Date: 2026-12-06 12:00:00

Periods that closed before this migration stay closed; open ones without an arrival row close by their end
date alone, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_revocations_arrivals"
down_revision = "0008_post_marks"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("badge_awards") as batch:
        batch.add_column(sa.Column("revoked_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("revoked_template", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("revoked_inputs", _JSON, nullable=True))
    op.create_table(
        "period_arrivals",
        sa.Column("period_key", sa.String(length=40), nullable=False),
        sa.Column("first_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("period_key", name=op.f("pk_period_arrivals")),
    )
    with op.batch_alter_table("program_versions") as batch:
        batch.drop_constraint("uq_program_versions_sha256", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("program_versions") as batch:
        batch.create_unique_constraint("uq_program_versions_sha256", ["sha256"])
    op.drop_table("period_arrivals")
    with op.batch_alter_table("badge_awards") as batch:
        batch.drop_column("revoked_inputs")
        batch.drop_column("revoked_template")
        batch.drop_column("revoked_day")
