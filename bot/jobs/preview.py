"""What a scheduled post would say for a team on a day, without claiming or sending anything."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from bot.jobs.content import PostContent, TeamRef
from bot.jobs.scheduler import PlannedTeam, build_content, plan, slots_of
from bot.program import DailyStandings, KudosDigest, Program, TeamPosts, WeeklyRecap
from bot.scoring.schedule import PostKind, TeamClock, TeamSchedule, fire_instant
from bot.services import people
from bot.store.models import Team

# A post the program does not schedule for the team is previewed with its defaults at this local time.
DEFAULT_AT = "17:00"


class UnknownTeam(LookupError):
    pass


def team_for_preview(connection: Connection, program: Program, key: str) -> PlannedTeam:
    """The team's schedule from the program; kinds it leaves out get their defaults, on the console."""
    scheduled = next((team for team in plan(connection, program) if team.ref.key == key), None)
    row = connection.execute(
        select(Team.id, Team.key, Team.name, Team.timezone, Team.day_start_minutes).where(Team.key == key)
    ).first()
    if row is None:
        known = ", ".join(people.team_keys(connection)) or "none yet (import a roster)"
        raise UnknownTeam(f"unknown team {key!r}; teams: {known}")
    given = scheduled.posts if scheduled else None
    posts = TeamPosts(
        channels=given.channels if given else [{"platform": "console", "channel": key}],  # type: ignore[list-item]
        daily_standings=(given and given.daily_standings) or DailyStandings(at=DEFAULT_AT),
        weekly_recap=(given and given.weekly_recap) or WeeklyRecap(at=DEFAULT_AT),
        kudos_digest=(given and given.kudos_digest) or KudosDigest(at=DEFAULT_AT),
        announcements=given.announcements if given else [],
    )
    zone = ZoneInfo(row.timezone) if row.timezone else program.zone
    clock = TeamClock(zone, int(row.day_start_minutes), program.week_starts_on)
    return PlannedTeam(TeamRef(int(row.id), key, row.name), posts, TeamSchedule(key, clock, slots_of(posts)))


def preview(
    connection: Connection, program: Program, team: PlannedTeam, kind: PostKind, day: date, locale: str = "en"
) -> PostContent | None:
    """The content as it would be built at the post's scheduled time on `day`."""
    now = fire_instant(day, team.schedule.slots[kind].at, team.zone)
    return build_content(connection, program, team, kind, day, now, locale)
