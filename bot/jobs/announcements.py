"""Announcements in near real time: level-ups and badge awards as sources, challenges through the hook.

An announcement source is a function the scheduler calls on every tick with the window since its mark
(how far it has been read, kept in the database) and the locale to write in; it returns what happened in
that window. Each announcement is claimed in the post ledger per team, so a source may report the same
event on several ticks (or replicas) and it is still posted once. Code that causes an event inside its
own transaction (a challenge ending) can call `announce` directly instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, and_, func, or_, select

from bot.handlers.contract import Destination, DestinationKind, Mention, Message, Segment
from bot.handlers.replies import segments
from bot.messages import DEFAULT_LOCALE
from bot.messages.explain import badge_label
from bot.program import Program
from bot.scoring.periods import business_day
from bot.scoring.progression import level_of
from bot.store.models import BadgeAward, Person, PointsEntry, TeamMembership

log = logging.getLogger(__name__)

Topic = Literal["level_up", "badge", "challenge"]


@dataclass(frozen=True, slots=True)
class Announcement:
    """News for some teams' channels.

    `topic` is what a team opts into (`announcements: [level_up, badge, challenge]` in the program);
    `kind` and `key` make the ledger's (team, kind, period) key: `level_up` and `12:4` for person 12
    reaching level 4, `challenge_results` and the challenge id. `person_id`, when set, is the person the
    news is about: nothing is announced publicly about someone who opted out of public boards.
    """

    topic: Topic
    kind: str
    key: str
    team_ids: frozenset[int]
    segments: tuple[Segment, ...]
    title: str | None = None
    person_id: int | None = None


# (connection, program, since, now, locale) -> what happened in (since, now], written in `locale`.
AnnouncementSource = Callable[[Connection, Program, datetime, datetime, str], list[Announcement]]


def source_name(source: AnnouncementSource) -> str:
    """The name a source's mark is kept under: its function's name (`level_ups`, `badge_awards`)."""
    return str(getattr(source, "__name__", None) or type(source).__name__)


def level_ups(
    connection: Connection, program: Program, since: datetime, now: datetime, locale: str = DEFAULT_LOCALE
) -> list[Announcement]:
    """Agents whose points written in (since, now] took them to a new level (XP is all-time net points)."""
    recent = (
        select(PointsEntry.person_id, func.sum(PointsEntry.amount).label("recent"))
        .where(PointsEntry.created_at > since, PointsEntry.created_at <= now)
        .group_by(PointsEntry.person_id)
        .subquery()
    )
    rows = connection.execute(
        select(Person.id, Person.display_name, recent.c.recent, func.sum(PointsEntry.amount))
        .join(recent, recent.c.person_id == Person.id)
        .join(PointsEntry, PointsEntry.person_id == Person.id)
        .where(Person.role == "agent", Person.public_boards.is_(True), PointsEntry.created_at <= now)
        .group_by(Person.id, Person.display_name, recent.c.recent)
    ).all()
    curve = program.levels.xp_curve
    today = business_day(now, program.zone, program.day_start_minutes)
    out = []
    for person_id, name, recent_xp, total in rows:
        reached = level_of(int(total), curve.base, curve.exponent)
        before = level_of(int(total) - int(recent_xp), curve.base, curve.exponent)
        if reached.level <= before.level:
            continue
        teams = _teams_on(connection, int(person_id), today)
        if not teams:
            continue
        out.append(
            Announcement(
                topic="level_up",
                kind="level_up",
                key=f"{person_id}:{reached.level}",
                team_ids=teams,
                segments=segments(
                    "posts.level_up",
                    locale,
                    person=Mention(int(person_id), name),
                    level=reached.level,
                    xp=f"{reached.xp / 100:g}",
                ),
                person_id=int(person_id),
            )
        )
    return out


def badge_awards(
    connection: Connection, program: Program, since: datetime, now: datetime, locale: str = DEFAULT_LOCALE
) -> list[Announcement]:
    """Badges awarded in (since, now] and still current, to the teams the agent was on the day they earned it.

    The ledger key is the award's row, which a revoked award that comes back keeps: announced once.
    """
    rows = connection.execute(
        select(BadgeAward.id, BadgeAward.person_id, Person.display_name, BadgeAward.badge, BadgeAward.tier)
        .add_columns(BadgeAward.business_day, BadgeAward.inputs)
        .join(Person, Person.id == BadgeAward.person_id)
        .where(
            BadgeAward.awarded_at > since,
            BadgeAward.awarded_at <= now,
            BadgeAward.revoked_at.is_(None),
            Person.public_boards.is_(True),
        )
        .order_by(BadgeAward.awarded_at, BadgeAward.id)
    ).all()
    names = {spec.id: spec.name or spec.id for spec in program.badges}
    today = business_day(now, program.zone, program.day_start_minutes)
    out = []
    for award_id, person_id, person, badge, tier, day, inputs in rows:
        teams = _teams_on(connection, int(person_id), day) or _teams_on(connection, int(person_id), today)
        if not teams:
            continue
        name = names.get(badge) or str((inputs or {}).get("name") or badge)
        out.append(
            Announcement(
                topic="badge",
                kind="badge",
                key=str(award_id),
                team_ids=teams,
                segments=segments(
                    "posts.badge",
                    locale,
                    person=Mention(int(person_id), person),
                    badge=badge_label(name, tier, locale),
                    day=day.isoformat(),
                ),
                person_id=int(person_id),
            )
        )
    return out


DEFAULT_SOURCES: tuple[AnnouncementSource, ...] = (level_ups, badge_awards)


def message_for(announcement: Announcement, team_id: int) -> Message:
    return Message(
        Destination(DestinationKind.TEAM_CHANNEL, team_id=team_id), announcement.segments, announcement.title
    )


def _teams_on(connection: Connection, person_id: int, day: object) -> frozenset[int]:
    rows = connection.scalars(
        select(TeamMembership.team_id).where(
            TeamMembership.person_id == person_id,
            and_(
                TeamMembership.valid_from <= day,
                or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > day),
            ),
        )
    )
    return frozenset(int(team_id) for team_id in rows)
