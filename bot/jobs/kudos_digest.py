"""The kudos digest: who on the team was recognised in the period, how often and for which values.

Only receivers who allow public boards are named; givers are not listed, so nobody who opted out appears.
A digest with no kudos to show is not posted: the scheduler ends its ledger row as skipped.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, or_, select

from bot.handlers.contract import Destination, DestinationKind, Table, Text
from bot.handlers.replies import message
from bot.jobs.content import PostContent, TeamRef
from bot.messages import formats, render
from bot.program import KudosDigest, Program
from bot.scoring.periods import Period, window
from bot.store.models import Kudos, Person, TeamMembership


def received(
    connection: Connection, team_id: int, start: date, end: date
) -> list[tuple[str, int, Counter[str]]]:
    """(name, kudos, values) per public receiver who was in the team on the kudos' day, most first."""
    rows = connection.execute(
        select(Person.id, Person.display_name, Kudos.value_tag)
        .select_from(Kudos)
        .join(Person, Person.id == Kudos.receiver_id)
        .join(
            TeamMembership,
            and_(
                TeamMembership.person_id == Person.id,
                TeamMembership.team_id == team_id,
                TeamMembership.valid_from <= Kudos.business_day,
                or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > Kudos.business_day),
            ),
        )
        .where(
            Kudos.business_day.between(start, end),
            Kudos.revoked_at.is_(None),
            Person.public_boards.is_(True),
        )
    ).all()
    counts: Counter[int] = Counter()
    names: dict[int, str] = {}
    values: dict[int, Counter[str]] = {}
    for person_id, name, tag in rows:
        counts[person_id] += 1
        names[person_id] = name
        values.setdefault(person_id, Counter())
        if tag:
            values[person_id][tag] += 1
    order = sorted(counts, key=lambda pid: (-counts[pid], names[pid]))
    return [(names[pid], counts[pid], values[pid]) for pid in order]


def build(
    connection: Connection,
    program: Program,
    team: TeamRef,
    spec: KudosDigest,
    day: date,
    now: datetime,
    zone: ZoneInfo,
    locale: str = "en",
) -> PostContent | None:
    period = Period(spec.period)
    start, end = window(period, day, program.week_starts_on)
    people = received(connection, team.id, start, min(end, day))  # as of its day: nothing after it
    if not people:
        return None
    span = formats.window(period, start, end, locale)
    title = render("posts.kudos.title", locale, team=team.name, window=span)
    total = sum(count for _, count, _ in people)
    rows = tuple(
        (name, str(count), ", ".join(f"#{tag} ×{n}" for tag, n in sorted(tags.items())))
        for name, count, tags in people
    )
    table = Table(
        (
            render("leaderboard.column.agent", locale),
            render("posts.kudos.column.kudos", locale),
            render("posts.kudos.column.values", locale),
        ),
        rows,
        ("left", "right", "left"),
    )
    intro = render("posts.kudos.intro", locale, count=total, people=len(people))
    public = message(
        Destination(DestinationKind.TEAM_CHANNEL, team_id=team.id), Text(intro + "\n"), table, title=title
    )
    data: dict[str, Any] = {
        "kind": "kudos_digest",
        "team": team.key,
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "received": [
            {"agent": name, "kudos": count, "values": dict(sorted(tags.items()))}
            for name, count, tags in people
        ],
    }
    return PostContent(public, (), (), data)
