"""The scheduler: one short tick that claims every due post in the post ledger, writes its messages to the
outbox in the same transaction, gathers announcements and dispatches the outbox (DESIGN.md §8).

Nothing correctness-relevant lives in memory: which posts went out is the ledger, what is still to send
is the outbox, so any number of replicas may tick at once and a restart resumes where the last one was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, Engine, select

from bot.clock import Clock
from bot.handlers.contract import Image, Notifier
from bot.jobs import kudos_digest, recap, standings
from bot.jobs.announcements import DEFAULT_SOURCES, Announcement, AnnouncementSource, message_for, source_name
from bot.jobs.challenge_posts import REMINDER_AT, ChallengePosts
from bot.jobs.codec import encode_bytes, encode_message
from bot.jobs.content import PostContent, TeamRef
from bot.jobs.dispatcher import Dispatched, dispatch
from bot.messages import render
from bot.program import Program, TeamPosts
from bot.scoring.periods import Period
from bot.scoring.schedule import (
    CATCH_UP,
    DEFAULT_TICK,
    Due,
    PostKind,
    Slot,
    TeamClock,
    TeamSchedule,
    due,
    ledger_since,
)
from bot.services import outbox, people, post_ledger, programs
from bot.store.models import Team

log = logging.getLogger(__name__)

TICK_SECONDS = DEFAULT_TICK.total_seconds()
# How far back the very first read of an announcement source looks (later reads go on from its mark).
ANNOUNCE_LOOKBACK = timedelta(hours=3)
# News older than this when first read (the bot was down longer) is recorded as skipped and logged.
ANNOUNCE_WINDOW = timedelta(days=2)
# Each read starts a little before the mark: a row stamped just before a tick may commit just after it.
_OVERLAP = timedelta(minutes=1)

# Platforms whose posts carry an image inside the message (the chart in the recap's embed).
INLINE_IMAGES = frozenset({"discord"})

Builder = Callable[..., PostContent | None]
BUILDERS: dict[PostKind, Builder] = {
    PostKind.DAILY_STANDINGS: standings.build,
    PostKind.WEEKLY_RECAP: recap.build,
    PostKind.KUDOS_DIGEST: kudos_digest.build,
}


@dataclass(frozen=True, slots=True)
class PlannedTeam:
    ref: TeamRef
    posts: TeamPosts
    schedule: TeamSchedule

    @property
    def zone(self) -> ZoneInfo:
        return self.schedule.clock.zone


@dataclass
class TickReport:
    posted: list[tuple[str, str, str, bool]] = field(default_factory=list)  # team, kind, period, late
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    empty: list[tuple[str, str, str]] = field(default_factory=list)  # claimed, nothing to say
    announced: int = 0
    dispatched: Dispatched = field(default_factory=Dispatched)


def slots_of(posts: TeamPosts) -> dict[PostKind, Slot]:
    specs = {
        PostKind.DAILY_STANDINGS: (posts.daily_standings, Period.DAY),
        PostKind.WEEKLY_RECAP: (posts.weekly_recap, Period.WEEK),
        PostKind.KUDOS_DIGEST: (
            posts.kudos_digest,
            Period(posts.kudos_digest.period) if posts.kudos_digest else Period.DAY,
        ),
    }
    return {
        kind: Slot(
            time.fromisoformat(spec.at),
            frozenset(spec.days),
            period,
            timedelta(minutes=spec.grace_minutes),
        )
        for kind, (spec, period) in specs.items()
        if spec is not None
    }


def plan(connection: Connection, program: Program) -> list[PlannedTeam]:
    """The program's team schedules with each team's zone and day start from the roster."""
    if not program.teams:
        return []
    rows = connection.execute(
        select(Team.id, Team.key, Team.name, Team.timezone, Team.day_start_minutes).where(
            Team.key.in_(list(program.teams))
        )
    ).all()
    found = {row.key: row for row in rows}
    planned = []
    for key, posts in program.teams.items():
        row = found.get(key)
        if row is None:
            continue
        clock = TeamClock(
            ZoneInfo(row.timezone) if row.timezone else program.zone,
            int(row.day_start_minutes),
            program.week_starts_on,
        )
        planned.append(
            PlannedTeam(TeamRef(int(row.id), key, row.name), posts, TeamSchedule(key, clock, slots_of(posts)))
        )
    return planned


def build_content(
    connection: Connection,
    program: Program,
    team: PlannedTeam,
    kind: PostKind,
    day: date,
    now: datetime,
    locale: str = "en",
) -> PostContent | None:
    spec = {
        PostKind.DAILY_STANDINGS: team.posts.daily_standings,
        PostKind.WEEKLY_RECAP: team.posts.weekly_recap,
        PostKind.KUDOS_DIGEST: team.posts.kudos_digest,
    }[kind]
    if spec is None:
        raise ValueError(f"team {team.ref.key} has no {kind.value} in the program")
    return BUILDERS[kind](connection, program, team.ref, spec, day, now, team.zone, locale)


def outgoing(content: PostContent, posts: TeamPosts) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(destination, payload) per outbox message: the post and uploads on every channel, then the DMs.

    On a platform that shows images inside a message (Discord: the embed's image), an upload with an
    `inline_name` travels in the post itself, so the recap and its chart are one message; elsewhere each
    upload is a file of its own after the post (Slack's files_upload_v2).
    """
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for channel in posts.channels:
        where = {"platform": channel.platform, "channel": channel.channel}
        inline = channel.platform in INLINE_IMAGES and content.public is not None
        inlined = [upload for upload in content.uploads if inline and upload.inline_name]
        if content.public is not None:
            images = tuple(Image(str(u.inline_name), u.data, u.title) for u in inlined)
            public = replace(content.public, segments=content.public.segments + images)
            out.append((where, {"op": "post", "message": encode_message(public)}))
        for upload in content.uploads:
            if upload in inlined:
                continue
            payload = {
                "op": "upload",
                "filename": upload.filename,
                "data": encode_bytes(upload.data),
                "title": upload.title,
            }
            out.append((where, payload))
    dm_platform = posts.channels[0].platform
    for person_id, message in content.dms:
        out.append(
            (
                {"platform": dm_platform, "person_id": person_id},
                {"op": "dm", "message": encode_message(message)},
            )
        )
    return out


def enqueue_content(
    connection: Connection, post_id: int, content: PostContent, posts: TeamPosts, now: datetime
) -> int:
    messages = outgoing(content, posts)
    for index, (destination, payload) in enumerate(messages):
        outbox.enqueue(
            connection,
            dedupe_key=f"post:{post_id}:{index}",
            destination=destination,
            payload=payload,
            now=now,
        )
    return len(messages)


def announce(
    connection: Connection,
    announcement: Announcement,
    teams: Mapping[int, PlannedTeam],
    now: datetime,
    *,
    skip_reason: str | None = None,
) -> int:
    """Claim and enqueue one announcement for each of its teams that takes its topic; returns teams posted.

    Runs in the caller's transaction, so code that causes the news (a challenge ending) can announce it
    atomically with the change. With `skip_reason` the claim is recorded as skipped and logged instead
    (news too old to post), still once per team.
    """
    if announcement.person_id is not None:
        person = people.get(connection, announcement.person_id)
        if person is None or not person.public_boards:
            return 0
    posted = 0
    for team_id in sorted(announcement.team_ids):
        team = teams.get(team_id)
        if team is None or announcement.topic not in team.posts.announcements:
            continue
        post_id = post_ledger.claim(
            connection,
            team_id=team_id,
            kind=announcement.kind,
            period=announcement.key,
            due_at=now,
            now=now,
            status="queued" if skip_reason is None else "skipped",
            details=None if skip_reason is None else {"reason": skip_reason},
        )
        if post_id is None:
            continue
        if skip_reason is not None:
            log.warning(
                "skipped %s %s for team %s: %s",
                announcement.kind,
                announcement.key,
                team.ref.key,
                skip_reason,
            )
            continue
        content = PostContent(message_for(announcement, team_id))
        enqueue_content(connection, post_id, content, team.posts, now)
        posted += 1
    return posted


def announce_now(connection: Connection, program: Program, announcement: Announcement, now: datetime) -> int:
    """`announce` for code outside the scheduler (a challenge ending, a badge awarded): in its transaction."""
    return announce(connection, announcement, {team.ref.id: team for team in plan(connection, program)}, now)


class Scheduler:
    """Ticks: claim due posts, announce, dispatch. Several instances may share one database."""

    def __init__(
        self,
        engine: Engine,
        program: Program,
        clock: Clock,
        notifiers: Mapping[str, Notifier],
        *,
        sources: Sequence[AnnouncementSource] = DEFAULT_SOURCES,
        locale: str = "en",
        program_version: int | None = None,
        tick: timedelta = DEFAULT_TICK,
    ) -> None:
        self.engine = engine
        self.program_version = program_version
        self.program = program
        self.clock = clock
        self.notifiers = notifiers
        self.sources = list(sources)
        self.locale = locale
        self.tick_interval = tick  # a post is due for at least two ticks, whatever its grace
        self._warned: set[str] = set()

    async def tick(self) -> TickReport:
        """One tick; database work runs on a worker thread so a web server on the same loop keeps serving."""
        now = self.clock()
        report = await asyncio.to_thread(self.claim_due, now)
        report.dispatched = await dispatch(self.engine, self.notifiers, self.clock)
        return report

    def claim_due(self, now: datetime) -> TickReport:
        report = TickReport()
        with self.engine.connect() as connection:
            teams = plan(connection, self.program)
        missing = set(self.program.teams) - {team.ref.key for team in teams} - self._warned
        if missing:
            self._warned |= missing
            log.warning("scheduled posts for teams not on the roster (import a roster): %s", sorted(missing))
        for team in teams:
            for kind in team.schedule.slots:
                for item in self._due(team, kind, now):
                    self._claim_one(team, kind, item, now, report)
        report.announced = self.announce_new(teams, now)
        try:
            report.announced += self.post_challenges(teams, now)
        except Exception:  # one bad challenge must not stop the outbox: logged, retried next tick
            log.exception("could not end or announce challenges")
        return report

    def _due(self, team: PlannedTeam, kind: PostKind, now: datetime) -> list[Due]:
        """`due` over the ledger, from where this schedule's record starts: its first tick, or its last
        post (at most CATCH_UP back), so every period missed in an outage is recorded once."""
        slot = team.schedule.slots[kind]
        with self.engine.begin() as connection:
            since = post_ledger.schedule_start(connection, team.ref.id, kind.value, now)
            last = post_ledger.last_due(connection, team.ref.id, kind.value)
            if last is not None:
                since = max(since, last)
            ledger = post_ledger.claimed_periods(
                connection, team.ref.id, kind.value, ledger_since(slot, now, since, self.tick_interval)
            )
        return due(team.schedule, kind, now, ledger, since=since, tick=self.tick_interval)

    def _claim_one(
        self, team: PlannedTeam, kind: PostKind, item: Due, now: datetime, report: TickReport
    ) -> None:
        where = (team.ref.key, kind.value, item.period)
        if item.expired:
            with self.engine.begin() as connection:
                claimed = _claim(
                    connection,
                    team,
                    kind,
                    item,
                    now,
                    status="skipped",
                    details={"reason": "missed by more than the grace window"},
                )
            if claimed is not None:
                report.skipped.append(where)
                log.warning(
                    "skipped %s for team %s, period %s: due %s, missed by more than its grace window",
                    kind.value,
                    team.ref.key,
                    item.period,
                    item.fires_at.isoformat(),
                )
            return
        try:
            with self.engine.begin() as connection:
                post_id = _claim(connection, team, kind, item, now)
                if post_id is None:
                    return  # another replica or an earlier tick has it
                content = build_content(
                    connection, self.program, team, kind, item.business_day, now, self.locale
                )
                if content is None:
                    post_ledger.finish_empty(connection, post_id, "nothing to post")
                else:
                    content = _marked_late(content, item.late, self.locale)
                    enqueue_content(connection, post_id, content, team.posts, now)
        except Exception:
            log.exception("could not build %s for team %s, period %s", kind.value, team.ref.key, item.period)
            return
        if content is None:
            report.empty.append(where)
            return
        report.posted.append((*where, item.late))
        if item.late:
            log.info(
                "posting %s for team %s, period %s late (due %s)",
                kind.value,
                team.ref.key,
                item.period,
                item.fires_at.isoformat(),
            )

    def announce_new(self, teams: list[PlannedTeam], now: datetime) -> int:
        """Read each announcement source on from its mark in the database and announce what is new.

        News within ANNOUNCE_WINDOW is posted; older news (the bot was down longer) is recorded as skipped
        and logged. The ledger makes each once per team, whichever replica or restart reads it.
        """
        if not any(team.posts.announcements for team in teams):
            return 0
        by_id = {team.ref.id: team for team in teams}
        fresh_from = now - ANNOUNCE_WINDOW
        posted = 0
        for source in self.sources:
            name = source_name(source)
            with self.engine.begin() as connection:
                mark = post_ledger.read_mark(connection, name)
                since = now - ANNOUNCE_LOOKBACK if mark is None else max(mark - _OVERLAP, now - CATCH_UP)
                if since < fresh_from:
                    reason = f"older than {ANNOUNCE_WINDOW.days} days when the bot read it"
                    for news in source(connection, self.program, since, fresh_from, self.locale):
                        announce(connection, news, by_id, now, skip_reason=reason)
                    since = fresh_from
                for news in source(connection, self.program, since, now, self.locale):
                    posted += announce(connection, news, by_id, now)
                post_ledger.advance_mark(connection, name, now)
        return posted

    def post_challenges(self, teams: list[PlannedTeam], now: datetime) -> int:
        """End challenges whose window is over (always) and post kickoffs, reminders and results to the
        teams that take `challenge` announcements (bot/jobs/challenge_posts.py)."""
        taking = {team.ref.id: team for team in teams if "challenge" in team.posts.announcements}
        version = self.program_version
        if version is None:
            version = programs.history(self.engine).in_force(now.date()).version
        posts = ChallengePosts(self.engine, self.program, version, self.locale)
        posted = posts.end_due(
            now, frozenset(taking), lambda connection, news: announce(connection, news, taking, now)
        )
        if not taking:
            return posted
        reminding = frozenset(team_id for team_id, team in taking.items() if _reminder_passed(team, now))
        with self.engine.begin() as connection:
            for news in posts.kickoffs_and_reminders(connection, now, frozenset(taking), reminding):
                posted += announce(connection, news, taking, now)
        return posted

    def start(self, interval_seconds: float = TICK_SECONDS) -> AsyncIOScheduler:
        """An APScheduler running `tick` every `interval_seconds` on the current event loop."""
        self.tick_interval = timedelta(seconds=interval_seconds)
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=interval_seconds),
            id="floorboard-tick",
            max_instances=1,
            coalesce=True,
            next_run_time=self.clock(),
        )
        scheduler.start()
        return scheduler


def _claim(
    connection: Connection, team: PlannedTeam, kind: PostKind, item: Due, now: datetime, **extra: Any
) -> int | None:
    return post_ledger.claim(
        connection,
        team_id=team.ref.id,
        kind=kind.value,
        period=item.period,
        due_at=item.fires_at,
        now=now,
        late=item.late,
        **extra,
    )


def _reminder_passed(team: PlannedTeam, now: datetime) -> bool:
    """A challenge reminder goes out with the team's daily standings time (REMINDER_AT without one)."""
    standings_at = team.posts.daily_standings.at if team.posts.daily_standings else None
    at = time.fromisoformat(standings_at) if standings_at else REMINDER_AT
    return now.astimezone(team.zone).time() >= at


def _marked_late(content: PostContent, late: bool, locale: str) -> PostContent:
    if not late or content.public is None or content.public.title is None:
        return content
    title = render("posts.late", locale, title=content.public.title)
    return replace(content, public=replace(content.public, title=title))


def lifespan_for(scheduler: Scheduler, interval_seconds: float) -> Callable[[Any], Any]:
    """A web-app lifespan that runs `scheduler` on the server's event loop while it serves."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        running = scheduler.start(interval_seconds) if interval_seconds > 0 else None
        try:
            yield
        finally:
            if running is not None:
                running.shutdown(wait=False)

    return lifespan
