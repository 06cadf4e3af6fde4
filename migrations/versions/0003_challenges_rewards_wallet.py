"""challenges, coins wallet and ledger, rewards store, private kudos

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")


def _fk(table: str, column: str, referred: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("goal", sa.String(length=20), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("end_day", sa.Date(), nullable=False),
        sa.Column("baseline_days", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("scope_ref", _JSON, nullable=False),
        sa.Column("gate_metric", sa.String(length=50), nullable=True),
        sa.Column("gate_min", sa.Float(), nullable=True),
        sa.Column("gate_max", sa.Float(), nullable=True),
        sa.Column("reward_points", sa.BigInteger(), nullable=False),
        sa.Column("reward_coins", sa.BigInteger(), nullable=False),
        sa.Column("reward_badge", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by", _ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", _ID, nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('individual', 'team', 'head-to-head')", name=op.f("ck_challenges_kind")),
        sa.CheckConstraint("goal IN ('absolute', 'improvement', 'top')", name=op.f("ck_challenges_goal")),
        sa.CheckConstraint(
            "scope IN ('team', 'league', 'agents', 'opt-in')", name=op.f("ck_challenges_scope")
        ),
        sa.CheckConstraint("status IN ('open', 'ended', 'cancelled')", name=op.f("ck_challenges_status")),
        sa.CheckConstraint("end_day >= start_day", name=op.f("ck_challenges_window")),
        sa.CheckConstraint("reward_points >= 0 AND reward_coins >= 0", name=op.f("ck_challenges_reward")),
        sa.CheckConstraint("baseline_days >= 1", name=op.f("ck_challenges_baseline_days")),
        _fk("challenges", "created_by", "people", "SET NULL"),
        _fk("challenges", "closed_by", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenges")),
        sa.UniqueConstraint("key", name=op.f("uq_challenges_key")),
    )
    op.create_table(
        "challenge_participants",
        sa.Column("challenge_id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        _fk("challenge_participants", "challenge_id", "challenges", "CASCADE"),
        _fk("challenge_participants", "person_id", "people", "RESTRICT"),
        sa.PrimaryKeyConstraint("challenge_id", "person_id", name=op.f("pk_challenge_participants")),
    )
    op.create_table(
        "challenge_results",
        sa.Column("id", _ID, nullable=False),
        sa.Column("challenge_id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("team_id", _ID, nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("badge", sa.String(length=100), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("coins", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('won', 'finished', 'void', 'unranked')", name=op.f("ck_challenge_results_outcome")
        ),
        _fk("challenge_results", "challenge_id", "challenges", "CASCADE"),
        _fk("challenge_results", "person_id", "people", "RESTRICT"),
        _fk("challenge_results", "team_id", "teams", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_results")),
        sa.UniqueConstraint(
            "challenge_id", "person_id", name=op.f("uq_challenge_results_challenge_id_person_id")
        ),
    )
    with op.batch_alter_table("challenge_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_challenge_results_person_id"), ["person_id"], unique=False)

    op.create_table(
        "coin_wallets",
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("debt", sa.BigInteger(), nullable=False),
        sa.Column("earned_synced", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.CheckConstraint("available >= 0", name=op.f("ck_coin_wallets_available_not_negative")),
        sa.CheckConstraint("debt >= 0", name=op.f("ck_coin_wallets_debt_not_negative")),
        sa.CheckConstraint("available = 0 OR debt = 0", name=op.f("ck_coin_wallets_netted")),
        _fk("coin_wallets", "person_id", "people", "RESTRICT"),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_coin_wallets")),
    )
    op.create_table(
        "coin_ledger",
        sa.Column("id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("inputs", _JSON, nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('earned', 'challenge', 'kudos', 'redeem', 'refund', 'revoke')",
            name=op.f("ck_coin_ledger_kind"),
        ),
        _fk("coin_ledger", "person_id", "people", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coin_ledger")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_coin_ledger_idempotency_key")),
    )
    with op.batch_alter_table("coin_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coin_ledger_person_id"), ["person_id"], unique=False)

    op.create_table(
        "reward_items",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_reward_items_price_positive")),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name=op.f("ck_reward_items_stock_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_items")),
        sa.UniqueConstraint("key", name=op.f("uq_reward_items_key")),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("delivery_key", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", _ID, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'fulfilled', 'rejected')", name=op.f("ck_redemptions_status")
        ),
        sa.CheckConstraint("price > 0", name=op.f("ck_redemptions_price_positive")),
        _fk("redemptions", "person_id", "people", "RESTRICT"),
        _fk("redemptions", "item_id", "reward_items", "RESTRICT"),
        _fk("redemptions", "decided_by", "people", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint("delivery_key", name=op.f("uq_redemptions_delivery_key")),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_redemptions_person_id"), ["person_id"], unique=False)

    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_column("private")
    for table in (
        "redemptions",
        "reward_items",
        "coin_ledger",
        "coin_wallets",
        "challenge_results",
        "challenge_participants",
        "challenges",
    ):
        op.drop_table(table)
