"""challenge results keep the business day they were decided on (challenges-won badges count by it)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("challenge_results", sa.Column("business_day", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("challenge_results") as batch:
        batch.drop_column("business_day")
