"""Daily standings: the public top of a team's board, its most improved agent, team figures, freshness.

The top follows the visibility rule of every public board (`public_top`): opted-out agents are left out
and never more than half of the shown agents are posted, so the bottom of a board never is. A post is
built as of a moment (its scheduled time, for a preview too): it counts business days up to its own and
names when the latest of the team's records it counts arrived, by file import or webhook alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, or_, select

from bot.handlers.commands.leaderboard import public_entries, public_top
from bot.handlers.contract import Destination, DestinationKind, Fields, Message, Table, Text
from bot.handlers.replies import message
from bot.jobs.content import PostContent, TeamRef
from bot.messages import formats, render
from bot.program import DailyStandings, Program
from bot.scoring.metrics import CATALOGUE
from bot.scoring.periods import Period
from bot.services.leaderboard import POINTS, Board, Entry, board
from bot.services.post_ledger import aware
from bot.services.team_board import team_board
from bot.store.models import KpiRecordRow, Subject, TeamMembership

# How far back "most improved" looks for the agent's previous day with data (a weekend, a day off).
IMPROVED_LOOKBACK_DAYS = 7
_ALIGN = ("right", "left", "right", "right")


@dataclass(frozen=True, slots=True)
class Improvement:
    person_id: int
    name: str
    before: float
    now: float
    since: date

    @property
    def change(self) -> float:
        return self.now - self.before


@dataclass(frozen=True, slots=True)
class TeamFigure:
    metric: str
    value: float
    samples: int
    headcount: int


def data_as_of(connection: Connection, team: TeamRef, through: date) -> datetime | None:
    """When the latest of the team's records up to `through` arrived, whichever way they came.

    The figures a post shows are the team's records of business days up to its own as they are now, so
    the freshness it names is theirs: a preview of a past day names the import that brought that day's
    data, even one that came after the day; a later day's data does not count.
    """
    member = (
        select(TeamMembership.id)
        .where(
            TeamMembership.person_id == Subject.person_id,
            TeamMembership.team_id == team.id,
            TeamMembership.valid_from <= KpiRecordRow.business_day,
            or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > KpiRecordRow.business_day),
        )
        .exists()
    )
    latest = connection.scalar(
        select(func.max(KpiRecordRow.received_at))
        .join(Subject, Subject.id == KpiRecordRow.subject_id)
        .where(KpiRecordRow.business_day <= through, or_(Subject.team_id == team.id, member))
    )
    return None if latest is None else aware(latest)


def team_figures(
    connection: Connection,
    program: Program,
    team: TeamRef,
    metrics: list[str],
    period: Period,
    at: date,
    through: date | None = None,
) -> list[TeamFigure]:
    """The team's pooled rates and per-member totals (the team board's figures) for `metrics`."""
    out = []
    for metric in metrics:
        board_of = team_board(connection, program, metric=metric, period=period, at=at, through=through)
        for entry in board_of.entries:
            if entry.team == team.key:
                out.append(TeamFigure(metric, entry.value, entry.samples, entry.headcount))
    return out


def figure_metrics(program: Program, chosen: list[str]) -> list[str]:
    """The metrics a post shows: the ones chosen, else the program's agent metrics in file order."""
    if chosen:
        return chosen
    return [metric for metric in program.metrics if CATALOGUE[metric].scope != "queue"] or ["handled"]


def most_improved(
    connection: Connection, program: Program, today: Board, team: TeamRef
) -> Improvement | None:
    """The public agent with the largest gain on the board's metric over their previous day with data."""
    better = "higher" if today.metric == POINTS else program.better(today.metric)
    for back in range(1, IMPROVED_LOOKBACK_DAYS + 1):
        day = today.start - timedelta(days=back)
        prior = board(connection, program, metric=today.metric, period=Period.DAY, at=day, team=team.key)
        if prior.entries:
            break
    else:
        return None
    before = {entry.person_id: entry.value for entry in prior.entries}
    sign = 1 if better == "higher" else -1
    gains = [
        (sign * (entry.value - before[entry.person_id]), entry)
        for entry in public_entries(today)
        if entry.person_id in before
    ]
    gains = [(gain, entry) for gain, entry in gains if gain > 0]
    if not gains:
        return None
    _, best = max(gains, key=lambda pair: (pair[0], -pair[1].rank))
    return Improvement(best.person_id, best.name, before[best.person_id], best.value, day)


def build(
    connection: Connection,
    program: Program,
    team: TeamRef,
    spec: DailyStandings,
    day: date,
    now: datetime,
    zone: ZoneInfo,
    locale: str = "en",
) -> PostContent:
    today = board(connection, program, metric=spec.metric, period=Period.DAY, at=day, team=team.key)
    top = public_top(today, program.leaderboard.public_size)
    improved = most_improved(connection, program, today, team)
    figures = team_figures(connection, program, team, figure_metrics(program, spec.figures), Period.DAY, day)
    dms = tuple(_own_rank(today, entry, locale) for entry in today.entries) if spec.dm_own_rank else ()
    fresh = data_as_of(connection, team, day)
    public = _public(program, team, today, top, improved, figures, now, fresh, zone, locale)
    data = {
        "kind": "daily_standings",
        "team": team.key,
        "day": day.isoformat(),
        "metric": today.metric,
        "top": [_entry_json(entry) for entry in top],
        "ranked": len(today.entries),
        "most_improved": _improvement_json(improved),
        "figures": [_figure_json(figure) for figure in figures],
        "as_of": now.isoformat(),
        "data_as_of": fresh.isoformat() if fresh else None,
        "dms": len(dms),
    }
    return PostContent(public, (), dms, data)


def _public(
    program: Program,
    team: TeamRef,
    today: Board,
    top: list[Entry],
    improved: Improvement | None,
    figures: list[TeamFigure],
    now: datetime,
    fresh: datetime | None,
    zone: ZoneInfo,
    locale: str,
) -> Message:
    label = formats.metric_label(today.metric, locale)
    unit = formats.unit_of(today.metric)
    title = render(
        "posts.daily.title", locale, team=team.name, metric=label, day=f"{today.start:%A %Y-%m-%d}"
    )
    parts: list[Text | Table | Fields] = [top_table(today, top, locale)]
    if improved is not None:
        parts.append(
            Text(
                render(
                    "posts.daily.most_improved",
                    locale,
                    name=improved.name,
                    metric=label,
                    before=formats.value(unit, improved.before),
                    now=formats.value(unit, improved.now),
                    since=f"{improved.since:%A}",
                )
                + "\n"
            )
        )
    if figures:
        parts.append(Fields(tuple(figure_field(figure, locale) for figure in figures)))
    parts.append(Text(freshness(now, fresh, zone, locale)))
    return message(Destination(DestinationKind.TEAM_CHANNEL, team_id=team.id), *parts, title=title)


def freshness(now: datetime, data_as_of: datetime | None, zone: ZoneInfo, locale: str) -> str:
    """`As of <posting time>; latest data received <time>.` in the team's zone."""
    if data_as_of is None:
        return render("posts.freshness_no_data", locale, as_of=formats.stamp(now, zone, locale))
    return render(
        "posts.freshness",
        locale,
        as_of=formats.stamp(now, zone, locale),
        data=formats.stamp(data_as_of, zone, locale),
    )


def top_table(shown: Board, top: list[Entry], locale: str) -> Table | Text:
    """The posted top as a table, or why there is none (too few ranked to post a top without its bottom)."""
    if not top:
        return Text(render("posts.daily.no_top", locale, ranked=len(shown.entries)) + "\n")
    unit = formats.unit_of(shown.metric)
    headers = (
        render("leaderboard.column.rank", locale),
        render("leaderboard.column.agent", locale),
        formats.metric_label(shown.metric, locale),
        formats.samples_header(shown.metric, locale),
    )
    rows = tuple((str(e.rank), e.name, formats.value(unit, e.value), str(e.samples)) for e in top)
    return Table(headers, rows, _ALIGN)


def figure_field(figure: TeamFigure, locale: str) -> tuple[str, str]:
    """`Handled per agent: 51.5 (412 contacts, 8 agents)`, `CSAT: 3.41 (120 surveys)`."""
    unit = formats.unit_of(figure.metric)
    label = formats.metric_label(figure.metric, locale)
    samples = formats.samples(figure.metric, figure.samples, locale)
    if CATALOGUE[figure.metric].kind == "total":
        name = render("posts.figure.per_agent", locale, metric=label)
        return name, render(
            "posts.figure.total",
            locale,
            value=formats.value(unit, figure.value),
            samples=samples,
            count=figure.headcount,
        )
    return label, render(
        "posts.figure.ratio", locale, value=formats.value(unit, figure.value), samples=samples
    )


def _own_rank(today: Board, entry: Entry, locale: str) -> tuple[int, Message]:
    label = formats.metric_label(today.metric, locale)
    text = render(
        "leaderboard.you.ranked",
        locale,
        rank=formats.ordinal(entry.rank, locale),
        ranked=len(today.entries),
        metric=label,
        value=formats.value(formats.unit_of(today.metric), entry.value),
        samples=formats.samples(today.metric, entry.samples, locale),
    )
    title = render(
        "leaderboard.you.title",
        locale,
        metric=label,
        window=formats.window(today.period, today.start, today.end, locale),
    )
    return entry.person_id, message(
        Destination(DestinationKind.DM, person_id=entry.person_id), text, title=title
    )


def _entry_json(entry: Entry) -> dict[str, Any]:
    return {"rank": entry.rank, "agent": entry.name, "value": entry.value, "samples": entry.samples}


def _figure_json(figure: TeamFigure) -> dict[str, Any]:
    return {
        "metric": figure.metric,
        "value": figure.value,
        "samples": figure.samples,
        "headcount": figure.headcount,
    }


def _improvement_json(improved: Improvement | None) -> dict[str, Any] | None:
    if improved is None:
        return None
    return {
        "agent": improved.name,
        "before": improved.before,
        "now": improved.now,
        "since": improved.since.isoformat(),
    }
