"""Challenge kickoff, reminders and results from the tick, to the teams that take `challenge` announcements.

A challenge's window is whole business days on its participants' clocks (each team's zone and day start),
so "today" here is the challenge's own day, `challenges.current_day`: the earliest day any participant
team's clock shows (the team whose day ends last), as `/challenge status` and `/challenge end` count it.
For each team the challenge concerns:

- **kickoff** (`challenge_kickoff`, `challenge-7`): on the first tick of the window's first day;
- **reminder** (`challenge_reminder`, `challenge-7:2021-04-06`): on each later day of the window, once the
  team's daily standings time has passed in its zone (`REMINDER_AT` when it posts no standings): the public
  top of the standings through the day before, and the last day;
- **results** (`challenge_results`, `challenge-7`): on the first tick after the last participant team's
  last day the scheduler ends the challenge (rewards once, `challenges.end_due`) and, in that
  transaction, posts the public results (`public_results`, as `/challenge end` posts them).

A kickoff missed while the bot was down goes out late on the first tick after, while the challenge still
runs; a missed reminder is not caught up: the next day's reminder says the same, fresher. Each post is
claimed in the post ledger, so replicas and retried ticks post it once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, Engine, select

from bot.handlers.commands.challenge import describe, public_lines, results_messages, standings_table
from bot.handlers.context import HandlerContext
from bot.handlers.contract import Segment, Text
from bot.jobs.announcements import Announcement, Topic
from bot.messages import render
from bot.program import Program
from bot.services import challenges
from bot.services.challenges import ChallengeInfo, ResultRow
from bot.store.models import Post

log = logging.getLogger(__name__)

REMINDER_AT = time(9, 0)
TOPIC: Topic = "challenge"

# Claims and enqueues one announcement in the given transaction; returns the teams posted to.
Announcer = Callable[[Connection, Announcement], int]


class ChallengePosts:
    """Builds the tick's challenge announcements; `announce` (the scheduler's) claims and enqueues them."""

    def __init__(self, engine: Engine, program: Program, program_version: int, locale: str = "en") -> None:
        self.engine = engine
        self.program = program
        self.program_version = program_version
        self.locale = locale

    def kickoffs_and_reminders(
        self, connection: Connection, now: datetime, teams: frozenset[int], reminding: frozenset[int]
    ) -> list[Announcement]:
        """Today's kickoffs to `teams` (those taking the topic) and reminders to `reminding` (those of them
        whose reminder time has passed today)."""
        out = []
        for info, today in challenges.running(connection, self.program, now):
            concerned = challenges.team_ids(connection, self.program, info)
            if info.start_day == today and concerned & teams:
                out.append(self._kickoff(connection, info, concerned & teams))
            elif info.start_day < today:
                missed = concerned & teams - _kicked_off(connection, info)
                if missed:  # the bot was down on the first day: the kickoff goes out late, once
                    out.append(self._kickoff(connection, info, missed, late=True))
                if concerned & reminding:
                    out.append(self._reminder(connection, info, concerned & reminding, today))
        return out

    def end_due(self, now: datetime, teams: frozenset[int], announce: Announcer) -> int:
        """End each challenge whose window is over, posting its results in the ending transaction."""
        posted = 0

        def post_results(connection: Connection, info: ChallengeInfo, rows: list[ResultRow]) -> None:
            nonlocal posted
            concerned = challenges.team_ids(connection, self.program, info) & teams
            if concerned:
                posted += announce(connection, self._results(connection, info, rows, concerned))

        ended = challenges.end_due(
            self.engine,
            self.program,
            now=now,
            program_version=self.program_version,
            on_end=post_results,
        )
        for info, rows in ended:
            log.info("ended challenge %s: %d result rows", info.key, len(rows))
        return posted

    def _context(self, connection: Connection) -> HandlerContext:
        return HandlerContext(
            engine=self.engine,
            program=self.program,
            program_version=self.program_version,
            connection=connection,
        )

    def _kickoff(
        self, connection: Connection, info: ChallengeInfo, teams: frozenset[int], *, late: bool = False
    ) -> Announcement:
        locale = self.locale
        body = describe(info, self._context(connection), locale)
        footer = render("challenge.created.footer", locale, name=info.name)
        title = render("posts.challenge.kickoff", locale, name=info.name)
        if late:
            title = render("posts.challenge.kickoff_late", locale, name=info.name)
        return Announcement(
            TOPIC,
            _KICKOFF,
            _kickoff_key(info),
            teams,
            (Text(f"{body}\n{footer}"),),
            title=render("posts.late", locale, title=title) if late else title,
        )

    def _reminder(
        self, connection: Connection, info: ChallengeInfo, teams: frozenset[int], today: date
    ) -> Announcement:
        locale = self.locale
        through = today - timedelta(days=1)
        progress = challenges.progress(connection, self.program, info, today=through)
        shown = public_lines(connection, self.program, info, progress.lines)
        parts: list[Segment] = [standings_table(info, shown, locale)] if shown else []
        parts.append(
            Text(
                ("\n" if shown else "")
                + render("posts.challenge.reminder", locale, name=info.name, end=info.end_day.isoformat())
            )
        )
        return Announcement(
            TOPIC,
            "challenge_reminder",
            f"challenge-{info.id}:{today.isoformat()}",
            teams,
            tuple(parts),
            title=render("challenge.status.title", locale, name=info.name, through=through.isoformat()),
        )

    def _results(
        self, connection: Connection, info: ChallengeInfo, rows: list[ResultRow], teams: frozenset[int]
    ) -> Announcement:
        ctx = self._context(connection)
        post = results_messages(ctx, info, rows, info.end_day, self.locale, full_to_caller=False)[0]
        return Announcement(
            TOPIC, "challenge_results", f"challenge-{info.id}", teams, post.segments, title=post.title
        )


_KICKOFF = "challenge_kickoff"


def _kickoff_key(info: ChallengeInfo) -> str:
    return f"challenge-{info.id}"


def _kicked_off(connection: Connection, info: ChallengeInfo) -> frozenset[int]:
    """The teams whose kickoff of `info` is in the post ledger already."""
    found = connection.scalars(
        select(Post.team_id).where(Post.kind == _KICKOFF, Post.period == _kickoff_key(info))
    )
    return frozenset(int(team_id) for team_id in found)
