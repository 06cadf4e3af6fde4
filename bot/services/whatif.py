"""What-if: each agent's points, rank and badges in a period under a proposed program, written nowhere.

Zone and improvement points are recomputed from the stored rollups under the proposed program (baselines
from the rollups before each day, under the proposed windows); everything else in
the ledger (kudos, adjustments) carries over. The result is what a rescore under that program would give.
Badges compare the current awards earned in the period with what the proposed badges give over the same
stored days (whole-period badges for periods that end inside it).

Ranks are on the points of the period, as on the points board: within each agent's league (on the
period's last day) when the program competes `within_leagues` (the current one for the ranks now, the
proposed one for the ranks then), or within one league asked for by name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, Engine, String, cast, func, select

from bot.program import Program
from bot.scoring.badges import period_key
from bot.scoring.daily_points import ImprovementSpec, day_awards, period_awards
from bot.scoring.periods import Period, window
from bot.scoring.ranking import competition_ranks
from bot.services import badges, leagues, period_points
from bot.services.baselines import compute_baselines
from bot.services.points import rule_specs
from bot.services.programs import ProgramHistory
from bot.store.models import Person, PointsEntry, Rollup, Subject

PROPOSED_VERSION = 0  # the explanations of a what-if name no stored version


class UnknownLeague(ValueError):
    """A league the proposed program does not define."""


@dataclass(frozen=True, slots=True)
class WhatIfRow:
    person_id: int
    name: str
    points_now: float
    points_then: float
    rank_now: int | None
    rank_then: int | None
    badges_gained: tuple[str, ...] = ()
    badges_lost: tuple[str, ...] = ()
    badges_now: int = 0
    #: the agent's league under the proposed program on the period's last day (None: in none)
    league: str | None = None

    @property
    def change(self) -> float:
        return round(self.points_then - self.points_now, 2)


@dataclass(frozen=True, slots=True)
class WhatIf:
    period: Period
    start: date
    end: date
    rows: list[WhatIfRow]
    #: how agents were ranked: "floor", "leagues" (each within their own) or "league <id>"
    ranked_within: str = "floor"


def whatif(
    engine: Engine,
    history: ProgramHistory,
    proposed: Program,
    *,
    period: Period,
    at: date,
    today: date | None = None,
    league: str | None = None,
) -> WhatIf:
    """`today` lets zone rules over periods count a period due to close by then, as well as closed ones;
    `league` keeps only the agents the proposed program puts in that league, ranked among themselves."""
    start, end = window(period, at, proposed.week_starts_on)
    if league is not None and league not in {spec.id for spec in proposed.leagues}:
        known = ", ".join(spec.id for spec in proposed.leagues) or "none in the program"
        raise UnknownLeague(f"unknown league {league!r}; leagues of the proposed program: {known}")
    current = history.in_force(end).program
    with engine.connect() as connection:
        names = dict(
            connection.execute(select(Person.id, Person.display_name).where(Person.role == "agent")).all()
        )
        totals: dict[int, int] = defaultdict(int)
        zone_now: dict[int, int] = defaultdict(int)
        owned = history.rule_ids
        ledger = connection.execute(
            select(PointsEntry.person_id, PointsEntry.rule, func.sum(PointsEntry.amount))
            .where(PointsEntry.business_day.between(start, end))
            .group_by(PointsEntry.person_id, PointsEntry.rule)
        )
        for person_id, rule, amount in ledger:
            totals[person_id] += int(amount)
            if rule in owned:
                zone_now[person_id] += int(amount)
        sums: dict[tuple[int, date], dict[str, tuple[int, int]]] = defaultdict(dict)
        persons: dict[int, int] = {}
        rollups = connection.execute(
            select(
                Subject.id,
                Subject.person_id,
                cast(Rollup.business_day, String),
                Rollup.metric,
                Rollup.num,
                Rollup.den,
            )
            .join(Subject, Subject.id == Rollup.subject_id)
            .where(Subject.kind == "agent", Rollup.business_day.between(start, end))
        )
        for subject_id, subject_person, day, metric, num, den in rollups:
            if subject_person is not None:
                persons[subject_id] = subject_person
                sums[(subject_id, date.fromisoformat(day))][metric] = (num, den)
        held: dict[int, set[tuple[str, str, str]]] = defaultdict(set)
        for item in badges.earned(connection):  # a challenge's own badge is no program rule's to change
            if start <= item.business_day <= end and not item.period_key.startswith(badges.CHALLENGE_KEY):
                held[item.person_id].add((item.badge, item.tier, item.period_key))
        proposed_badges = badges.would_award(
            connection,
            proposed,
            badges.agent_days(connection, None, badges.badge_rules(proposed)),
            start,
            end,
            PROPOSED_VERSION,
        )
        specs = rule_specs(proposed)
        improving = [spec for spec in specs if isinstance(spec, ImprovementSpec)]
        baselines = compute_baselines(
            connection,
            {
                key: {(spec.metric, spec.window) for spec in improving if spec.metric in day_sums}
                for key, day_sums in sums.items()
            }
            if improving
            else {},
        )
        last_closable = None if today is None else today - timedelta(days=proposed.correction_window_days + 1)
        zone_then = _period_points(connection, proposed, start, end, last_closable)
        placed_then = leagues.assignments(connection, proposed, end) if proposed.leagues else {}
        placed_now = leagues.assignments(connection, current, end) if current.leagues else {}
    for key, day_sums in sums.items():
        for award in day_awards(specs, day_sums, PROPOSED_VERSION, proposed.daily_cap, baselines.get(key)):
            zone_then[persons[key[0]]] += award.amount
    people = [
        pid
        for pid in names
        if (totals.get(pid) or zone_then.get(pid) or held.get(pid) or proposed_badges.get(pid))
        and (league is None or placed_then.get(pid) == league)
    ]
    now = {pid: totals.get(pid, 0) for pid in people}
    then = {pid: totals.get(pid, 0) - zone_now.get(pid, 0) + zone_then.get(pid, 0) for pid in people}
    # one league asked for: its agents among themselves; else each in their own when the program says so
    within_now = league is None and current.within_leagues and bool(current.leagues)
    within_then = league is None and proposed.within_leagues and bool(proposed.leagues)
    ranks_now = _ranks(now, placed_now if within_now else None)
    ranks_then = _ranks(then, placed_then if within_then else None)
    rows = [
        WhatIfRow(
            pid,
            names[pid],
            now[pid] / 100,
            then[pid] / 100,
            ranks_now.get(pid),
            ranks_then.get(pid),
            _labels(proposed_badges.get(pid, set()) - held.get(pid, set())),
            _labels(held.get(pid, set()) - proposed_badges.get(pid, set())),
            len(held.get(pid, set())),
            placed_then.get(pid),
        )
        for pid in people
    ]
    rows.sort(
        key=lambda row: (row.league or "" if within_then else "", row.rank_then or len(rows) + 1, row.name)
    )
    within = f"league {league}" if league is not None else "leagues" if within_then else "floor"
    return WhatIf(period, start, end, rows, within)


def _period_points(
    connection: Connection, proposed: Program, start: date, end: date, last_closable: date | None
) -> dict[int, int]:
    """Points of the proposed zone rules over periods, for the periods a rescore would have written: the
    closed ones (or due to close by `last_closable`, their end and first arrival on or before it) whose
    first day, their day in the ledger, is in [start, end]."""
    out: dict[int, int] = defaultdict(int)
    closed = badges.closed_periods(connection)
    arrivals = badges.arrival_days(connection, proposed)
    week_start = proposed.week_starts_on
    for kind in (Period.WEEK, Period.MONTH, Period.QUARTER):
        specs = period_points.period_specs(proposed, kind)
        if not specs:
            continue
        first, last = window(kind, start, week_start)
        if first < start:
            first, last = window(kind, last + timedelta(days=1), week_start)
        while first <= end:
            key = period_key(kind, first, week_start)
            due = last_closable is not None and badges.is_due(key, last, last_closable, arrivals)
            if due or key in closed:
                for person_id, sums in period_points.person_sums(connection, first, last).items():
                    for award in period_awards(specs, sums, PROPOSED_VERSION, kind.value, first, last):
                        out[person_id] += award.amount
            first, last = window(kind, last + timedelta(days=1), week_start)
    return out


def _ranks(points: dict[int, int], groups: Mapping[int, str | None] | None = None) -> dict[int, int]:
    """Competition ranks of agents with points; agents at zero are not ranked, as on the points board.
    With `groups` (each agent's league), agents are ranked within their group; no league is a group."""
    out: dict[int, int] = {}
    for group in {None if groups is None else groups.get(pid) for pid in points}:
        members = [
            pid for pid, amount in points.items() if amount and (groups is None or groups.get(pid) == group)
        ]
        out |= {
            pid: rank
            for rank, pid in competition_ranks(members, key=lambda pid: points[pid], descending=True)
        }
    return out


def _labels(keys: set[tuple[str, str, str]]) -> tuple[str, ...]:
    """`happy-streak/gold@month:2021-01-01`, sorted: badge, tier (if any) and period."""
    return tuple(sorted(f"{badge}{'/' + tier if tier else ''}@{key}" for badge, tier, key in keys))
