"""SQLAlchemy models: the KPI ledger, people and organisation, points, kudos, outbox and audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Json = JSON().with_variant(JSON(none_as_null=True), "postgresql")
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """A model's Table, typed as one (bulk paths work on tables, not mapped classes)."""
    return cast(Table, model.__table__)


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    day_start_minutes: Mapped[int] = mapped_column(Integer, default=0)
    channels: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    __table_args__ = (
        CheckConstraint("day_start_minutes >= 0 AND day_start_minutes < 1440", name="day_start"),
    )


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    hire_date: Mapped[date | None] = mapped_column(Date)
    role: Mapped[str] = mapped_column(String(20), default="agent")
    skills: Mapped[list[str]] = mapped_column(Json, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    public_boards: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint("role IN ('agent', 'supervisor', 'admin')", name="role"),)


class TeamMembership(Base):
    __tablename__ = "team_memberships"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    __table_args__ = (
        UniqueConstraint("person_id", "team_id", "valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="dates"),
    )


class Supervision(Base):
    __tablename__ = "supervisions"
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)


class Identity(Base):
    """A key that names a person somewhere: a source's agent key or a chat account."""

    __tablename__ = "identities"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    namespace: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(300))
    __table_args__ = (
        UniqueConstraint("kind", "namespace", "key"),
        CheckConstraint("kind IN ('source', 'slack', 'discord', 'console')", name="kind"),
    )


class Subject(Base):
    """What KPI records are about: an agent (a person) or a queue of contacts no agent took."""

    __tablename__ = "subjects"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), unique=True)
    namespace: Mapped[str | None] = mapped_column(String(200))
    key: Mapped[str | None] = mapped_column(String(300))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    __table_args__ = (
        UniqueConstraint("namespace", "key"),
        CheckConstraint(
            "(kind = 'agent' AND person_id IS NOT NULL) OR (kind = 'queue' AND key IS NOT NULL)", name="kind"
        ),
    )


class ProgramVersion(Base):
    __tablename__ = "program_versions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    effective_from: Mapped[date] = mapped_column(Date)
    # not unique: returning to an earlier text applies it again as a new version (services/programs.py)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ImportBatch(Base):
    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(20))
    mapping: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64))
    counts: Mapped[dict[str, int]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class KpiRecordRow(Base):
    """Append-only: a newer version supersedes, a void retracts; nothing is edited but `is_current`."""

    __tablename__ = "kpi_records"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(BigInteger)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="RESTRICT"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    business_day: Mapped[date] = mapped_column(Date)
    facts: Mapped[dict[str, Any] | None] = mapped_column(Json)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(Json)
    void: Mapped[bool] = mapped_column(Boolean, default=False)
    is_current: Mapped[bool] = mapped_column(Boolean)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", ondelete="RESTRICT"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("source", "external_id", "version"),
        Index("ix_kpi_records_batch", "batch_id"),
    )


class Rollup(Base):
    """Per subject, business day and metric: exact sums (fixed point, see scoring.metrics.SCALE)."""

    __tablename__ = "rollups"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(50), primary_key=True)
    num: Mapped[int] = mapped_column(BigInteger)
    den: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_rollups_metric_day", "metric", "business_day"),)


class StoredBaseline(Base):
    """A subject's trailing baseline of a metric as of a business day, kept by the scorer (a cache of sums
    over rollups: the scorer recomputes it whenever a day in its window is rescored)."""

    __tablename__ = "baselines"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(50), primary_key=True)
    span: Mapped[str] = mapped_column(String(20), primary_key=True)
    num: Mapped[int] = mapped_column(BigInteger)
    den: Mapped[int] = mapped_column(BigInteger)
    days: Mapped[int] = mapped_column(Integer)


class ScoreQueue(Base):
    """Business days whose rollups changed and must be rescored; written with the records.

    Rows are never merged: the scorer deletes exactly the rows it read, so a day queued again while it was
    being scored is scored again.
    """

    __tablename__ = "score_queue"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    business_day: Mapped[date] = mapped_column(Date)


class ParkedRecord(Base):
    __tablename__ = "parked_records"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(BigInteger)
    subject_kind: Mapped[str] = mapped_column(String(10))
    subject_key: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(Json)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("source", "external_id", "version"),)


class PointsEntry(Base):
    """Append-only points ledger in hundredths; a correction is a reversal plus a replacement."""

    __tablename__ = "points_ledger"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    business_day: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(100))
    program_version: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    entry: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger)
    template: Mapped[str] = mapped_column(String(100))
    inputs: Mapped[dict[str, Any]] = mapped_column(Json)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index("ix_points_ledger_person_day", "person_id", "business_day"),
        CheckConstraint("entry IN ('award', 'reversal')", name="entry"),
    )


class Kudos(Base):
    __tablename__ = "kudos"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    receiver_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    value_tag: Mapped[str | None] = mapped_column(String(50))
    business_day: Mapped[date] = mapped_column(Date)
    delivery_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # 0003
    __table_args__ = (
        UniqueConstraint("delivery_key", "receiver_id"),
        CheckConstraint("giver_id <> receiver_id", name="not_self"),
    )


class Delivery(Base):
    """Claimed delivery identities (Slack event_id, Discord interaction id, console line id).

    `fingerprint` is the sha256 of the command and its arguments, so a delivery id that comes back with
    another command is told apart from a replay.
    """

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(300))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("platform", "key"),)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    destination: Mapped[dict[str, Any]] = mapped_column(Json)
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        Index("ix_outbox_status_available", "status", "available_at"),
    )


class KeptReply(Base):
    """An answer kept for its paging buttons, so turning pages after a restart needs nothing in memory:
    a writing command's reply as it was sent, or a read-only command's arguments too long for a button."""

    __tablename__ = "kept_replies"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    platform: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class Post(Base):
    """The post ledger: one row per (team, kind, period) ever claimed, so nothing posts twice.

    `period` is the kind's own key: a local date for daily standings, `week:2021-03-29` for a recap,
    `level:12:4` for person 12 reaching level 4. A row is claimed in the same transaction as the outbox
    messages it sends; `skipped` rows record posts missed past their grace window.
    """

    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    __table_args__ = (
        UniqueConstraint("team_id", "kind", "period"),
        CheckConstraint("status IN ('queued', 'skipped')", name="status"),
    )


class PostSchedule(Base):
    """When the scheduler first saw a kind of post scheduled for a team. After an outage a tick records
    each missed period as skipped back to here and no further: a fresh install misses nothing before it."""

    __tablename__ = "post_schedules"
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    first_tick_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AnnouncementMark(Base):
    """How far an announcement source (`level_ups`, `badge_awards`) has been read. The next tick, on any
    replica or after a restart however long, reads on from here, so no news falls in a gap."""

    __tablename__ = "announcement_marks"
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BadgeAward(Base):
    """A badge earned: at most one row per (person, badge, tier, period); a revoked award can come back.

    `period_key` names the period the badge is for (`month:2021-01-01`, `day:2021-01-05`, `all`);
    `business_day` is the day it was earned on (a streak's last day, a period's last day).
    """

    __tablename__ = "badge_awards"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"))
    badge: Mapped[str] = mapped_column(String(100))
    tier: Mapped[str] = mapped_column(String(10))
    period_key: Mapped[str] = mapped_column(String(40))
    business_day: Mapped[date] = mapped_column(Date)
    program_version: Mapped[int] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(String(100))
    inputs: Mapped[dict[str, Any]] = mapped_column(Json)
    awarded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # why it was revoked, as a template id plus inputs, and the business day it happened on
    revoked_day: Mapped[date | None] = mapped_column(Date)
    revoked_template: Mapped[str | None] = mapped_column(String(100))
    revoked_inputs: Mapped[dict[str, Any] | None] = mapped_column(Json)
    __table_args__ = (
        UniqueConstraint("person_id", "badge", "tier", "period_key"),
        CheckConstraint("tier IN ('', 'bronze', 'silver', 'gold')", name="tier"),
        Index("ix_badge_awards_awarded_at", "awarded_at"),
        Index("ix_badge_awards_person_day", "person_id", "business_day"),
    )


class PeriodArrival(Base):
    """When the first record of a period was received. A period closes `correction_window_days` after it
    ends or after this, whichever is later, so history imported late gets the same window as fresh data."""

    __tablename__ = "period_arrivals"
    period_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    first_received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PeriodClose(Base):
    """A period whose badges are final: closed `correction_window_days` after it ended."""

    __tablename__ = "period_closes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    period_key: Mapped[str] = mapped_column(String(40), unique=True)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- Challenges, coins wallet, rewards store (migration 0003) ---------------------------------------------


class Challenge(Base):
    """A supervisor's challenge over whole business days; `status` moves open → ended or cancelled once."""

    __tablename__ = "challenges"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))
    goal: Mapped[str] = mapped_column(String(20))
    target: Mapped[float] = mapped_column(Float)
    start_day: Mapped[date] = mapped_column(Date)
    end_day: Mapped[date] = mapped_column(Date)
    baseline_days: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(20))
    scope_ref: Mapped[list[str]] = mapped_column(Json, default=list)
    gate_metric: Mapped[str | None] = mapped_column(String(50))
    gate_min: Mapped[float | None] = mapped_column(Float)
    gate_max: Mapped[float | None] = mapped_column(Float)
    reward_points: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_coins: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_badge: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("kind IN ('individual', 'team', 'head-to-head')", name="kind"),
        CheckConstraint("goal IN ('absolute', 'improvement', 'top')", name="goal"),
        CheckConstraint("scope IN ('team', 'league', 'agents', 'opt-in')", name="scope"),
        CheckConstraint("status IN ('open', 'ended', 'cancelled')", name="status"),
        CheckConstraint("end_day >= start_day", name="window"),
        CheckConstraint("reward_points >= 0 AND reward_coins >= 0", name="reward"),
        CheckConstraint("baseline_days >= 1", name="baseline_days"),
    )


class ChallengeParticipant(Base):
    """Named agents and opt-in joiners; team and league challenges take their members from the roster."""

    __tablename__ = "challenge_participants"
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChallengeResult(Base):
    """One row per person at a challenge's end: the exactly-once key for its rewards and badge."""

    __tablename__ = "challenge_results"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    rank: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(10))
    badge: Mapped[str | None] = mapped_column(String(100))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    coins: Mapped[int] = mapped_column(BigInteger, default=0)
    # the last business day counted, on which the rewards are booked (None: ended before 0007)
    business_day: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("challenge_id", "person_id"),
        CheckConstraint("outcome IN ('won', 'finished', 'void', 'unranked')", name="outcome"),
    )


class CoinWallet(Base):
    """A person's coins in hundredths. Spending takes `available` down and the CHECK stops it at zero;
    a points reversal after spending lands in `debt`, so the shown balance (available − debt) may be
    negative without any spend ever having overdrawn it."""

    __tablename__ = "coin_wallets"
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), primary_key=True)
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    debt: Mapped[int] = mapped_column(BigInteger, default=0)
    earned_synced: Mapped[int] = mapped_column(BigInteger, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        CheckConstraint("available >= 0", name="available_not_negative"),
        CheckConstraint("debt >= 0", name="debt_not_negative"),
        CheckConstraint("available = 0 OR debt = 0", name="netted"),
    )


class CoinEntry(Base):
    """Append-only coins ledger in hundredths; the wallet row is its running sum."""

    __tablename__ = "coin_ledger"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(100))
    inputs: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(
            "kind IN ('earned', 'challenge', 'kudos', 'redeem', 'refund', 'revoke')", name="kind"
        ),
    )


class RewardItem(Base):
    __tablename__ = "reward_items"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )


class Redemption(Base):
    """Coins reserved for an item; a supervisor fulfils it or rejects it (refunding coins and stock)."""

    __tablename__ = "redemptions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("reward_items.id", ondelete="RESTRICT"))
    price: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    delivery_key: Mapped[str] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'fulfilled', 'rejected')", name="status"),
        CheckConstraint("price > 0", name="price_positive"),
    )


class ChatWorkspace(Base):
    """The chat workspace (Slack team, Discord guild) this organisation is bound to, on first contact.

    One per platform: the unique key decides which workspace wins when two make first contact at once.
    """

    __tablename__ = "chat_workspaces"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), unique=True)
    workspace_id: Mapped[str] = mapped_column(String(200))
    bound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LinkRequest(Base):
    """A chat account asking to be linked to a person by an agent key; a supervisor approves or denies."""

    __tablename__ = "link_requests"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    namespace: Mapped[str] = mapped_column(String(200))
    user_key: Mapped[str] = mapped_column(String(300))
    display_name: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    agent_key: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    __table_args__ = (
        UniqueConstraint("platform", "namespace", "user_key", "person_id"),
        CheckConstraint("status IN ('pending', 'approved', 'denied')", name="status"),
    )
