"""Badge awards: the store around the pure evaluation of bot/scoring/badges.py.

Day badges (day thresholds, streaks, counts, day personal bests) are re-evaluated for an agent whenever one
of the agent's days is scored, over every period not yet closed. Whole-period badges (period thresholds and
personal bests, most improved) are awarded when their period closes: `correction_window_days` after it
ends or after its first record was received, whichever is later, so history imported long after the fact
gets the same window as fresh data whatever batches it comes in. A closed period is final: nothing
re-evaluates it again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Select, String, cast, delete, func, insert, select, update

from bot.clock import Clock
from bot.program import TIERS, CountBadge, Program, StreakBadge, ThresholdBadge
from bot.scoring import badges as scoring
from bot.scoring.badges import AgentDays, BadgeAward, BadgeRule, Pair
from bot.scoring.periods import Period, business_day, window
from bot.services import leagues, period_points
from bot.services.programs import ProgramHistory, VersionedProgram
from bot.store.models import BadgeAward as BadgeAwardRow
from bot.store.models import (
    Challenge,
    ChallengeResult,
    Kudos,
    PeriodArrival,
    PeriodClose,
    Person,
    Rollup,
    Subject,
    table_of,
)

# The period key of a badge won in a challenge (`challenge:12`): once per challenge, never evaluated.
CHALLENGE_KEY = "challenge:"


@dataclass(frozen=True, slots=True)
class RevokedBadge:
    """A badge taken back, with why (a template id plus inputs) and the business day it happened on."""

    id: int
    person_id: int
    badge: str
    tier: str
    period_key: str
    business_day: date
    revoked_day: date
    template: str
    inputs: dict[str, Any]


#: Why an award is revoked: (template, inputs) for an award row of the scope being reconciled.
Reason = Callable[[Any], tuple[str, dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class EarnedBadge:
    id: int
    person_id: int
    badge: str
    tier: str
    period_key: str
    business_day: date
    program_version: int
    template: str
    inputs: dict[str, Any]
    awarded_at: datetime


def badge_rules(program: Program) -> list[BadgeRule]:
    """The program's badges in the pure form the evaluation takes."""
    rules = []
    for spec in program.badges:
        name = spec.name or spec.id
        metric = getattr(spec, "metric", None)
        min_samples = spec.min_samples or (program.policy(metric).min_samples if metric else 1)
        direction = program.better(metric) if metric else "higher"
        bound: float | None = None
        goals: tuple[tuple[str, float], ...]
        if isinstance(spec, ThresholdBadge):
            limit = spec.at_least if spec.at_least is not None else spec.at_most
            direction = "higher" if spec.at_least is not None else "lower"
            goals = _goals(limit)
        elif isinstance(spec, StreakBadge | CountBadge):
            if spec.at_least is not None or spec.at_most is not None:
                direction = "higher" if spec.at_least is not None else "lower"
                bound = spec.at_least if spec.at_least is not None else spec.at_most
            goals = _goals(spec.days if isinstance(spec, StreakBadge) else spec.count)
        else:
            goals = ((scoring.UNTIERED, 0.0),)
        rules.append(
            BadgeRule(
                id=spec.id,
                kind=spec.kind,
                name=name,
                period=Period(spec.period),
                direction=direction,
                min_samples=min_samples,
                metric=metric,
                bound=bound,
                goals=goals,
                of=getattr(spec, "of", None),
            )
        )
    return rules


def _goals(value: float | Mapping[Any, float] | None) -> tuple[tuple[str, float], ...]:
    if isinstance(value, Mapping):
        return tuple((tier, float(value[tier])) for tier in TIERS if tier in value)
    return ((scoring.UNTIERED, float(value or 0)),)


def award(
    connection: Connection,
    *,
    person_id: int,
    badge: str,
    tier: str,
    period_key: str,
    business_day: date,
    template: str,
    inputs: dict[str, Any],
    program_version: int,
    now: datetime,
) -> bool:
    """Award a badge once per (person, badge, tier, period); True when it became current by this call.

    A revoked award comes back with its new reason; a current one is left alone. Other features (challenge
    wins) call this with their own badge ids and templates.
    """
    existing = connection.execute(
        select(BadgeAwardRow.id, BadgeAwardRow.revoked_at).where(
            BadgeAwardRow.person_id == person_id,
            BadgeAwardRow.badge == badge,
            BadgeAwardRow.tier == tier,
            BadgeAwardRow.period_key == period_key,
        )
    ).first()
    values = {
        "business_day": business_day,
        "template": template,
        "inputs": inputs,
        "program_version": program_version,
        "awarded_at": now,
        "revoked_at": None,
        "revoked_day": None,
        "revoked_template": None,
        "revoked_inputs": None,
    }
    if existing is None:
        connection.execute(
            insert(BadgeAwardRow).values(
                person_id=person_id, badge=badge, tier=tier, period_key=period_key, **values
            )
        )
        return True
    if existing.revoked_at is None:
        return False
    connection.execute(update(BadgeAwardRow).where(BadgeAwardRow.id == existing.id).values(**values))
    return True


def revoke(
    connection: Connection,
    award_id: int,
    now: datetime,
    *,
    day: date,
    template: str,
    inputs: dict[str, Any],
) -> None:
    """A correction took the badge's reason away (only while its period is open): keep why, as a
    template id plus inputs, and the business day it happened on, for `explain` and `/points why`."""
    connection.execute(
        update(BadgeAwardRow)
        .where(BadgeAwardRow.id == award_id, BadgeAwardRow.revoked_at.is_(None))
        .values(revoked_at=now, revoked_day=day, revoked_template=template, revoked_inputs=inputs)
    )


def revoked(connection: Connection, person_id: int, *, day: date) -> list[RevokedBadge]:
    """The person's badges revoked on a business day, and still revoked, with their reasons."""
    rows = connection.execute(
        select(
            BadgeAwardRow.id,
            BadgeAwardRow.person_id,
            BadgeAwardRow.badge,
            BadgeAwardRow.tier,
            BadgeAwardRow.period_key,
            BadgeAwardRow.business_day,
            BadgeAwardRow.revoked_day,
            BadgeAwardRow.revoked_template,
            BadgeAwardRow.revoked_inputs,
        )
        .where(
            BadgeAwardRow.person_id == person_id,
            BadgeAwardRow.revoked_at.is_not(None),
            BadgeAwardRow.revoked_day == day,
        )
        .order_by(BadgeAwardRow.revoked_at, BadgeAwardRow.id)
    )
    return [
        RevokedBadge(
            row.id,
            row.person_id,
            row.badge,
            row.tier,
            row.period_key,
            row.business_day,
            row.revoked_day,
            row.revoked_template or "badge.revoked.program",
            row.revoked_inputs or {},
        )
        for row in rows
    ]


def agent_days(
    connection: Connection, person_ids: Collection[int] | None, rules: Iterable[BadgeRule]
) -> dict[int, AgentDays]:
    """Every working day of the agents (all agents when None) for the rules' metrics, and kudos received."""
    rules = list(rules)
    metrics = sorted({rule.metric for rule in rules if rule.metric})
    days: dict[int, dict[date, dict[str, Pair]]] = defaultdict(lambda: defaultdict(dict))
    parsed: dict[str, date] = {}
    if metrics:
        query = (
            select(
                Subject.person_id, cast(Rollup.business_day, String), Rollup.metric, Rollup.num, Rollup.den
            )
            .join(Subject, Subject.id == Rollup.subject_id)
            .where(Subject.kind == "agent", Rollup.metric.in_(metrics))
        )
        if person_ids is not None:
            query = query.where(Subject.person_id.in_(sorted(person_ids)))
        for row in connection.execute(query):
            person_id, text, metric, num, den = row
            if person_id is None:
                continue
            day = parsed.get(text) or parsed.setdefault(text, date.fromisoformat(text))
            days[person_id][day][metric] = (int(num), int(den))
    kudos: dict[int, dict[date, int]] = defaultdict(dict)
    if any(rule.of == "kudos_received" for rule in rules):
        counts = (
            select(Kudos.receiver_id, Kudos.business_day, func.count())
            .where(Kudos.revoked_at.is_(None))
            .group_by(Kudos.receiver_id, Kudos.business_day)
        )
        if person_ids is not None:
            counts = counts.where(Kudos.receiver_id.in_(sorted(person_ids)))
        for receiver, day, count in connection.execute(counts):
            kudos[receiver][day] = int(count)
    wins: dict[int, dict[date, int]] = defaultdict(dict)
    if any(rule.of == "challenges_won" for rule in rules):
        for winner, day, count in connection.execute(_wins_by_day(person_ids)):
            wins[int(winner)][day] = int(count)
    people = set(days) | set(kudos) | set(wins)
    return {
        person: AgentDays(days.get(person, {}), kudos.get(person, {}), wins.get(person, {}))
        for person in people
    }


def _wins_by_day(person_ids: Collection[int] | None) -> Select[int, date, int]:
    """(person, business day, challenges won that day); a result from before the day was kept counts on
    the challenge's last day."""
    day = func.coalesce(ChallengeResult.business_day, Challenge.end_day)
    query = (
        select(ChallengeResult.person_id, day, func.count())
        .join(Challenge, Challenge.id == ChallengeResult.challenge_id)
        .where(ChallengeResult.outcome == "won")
        .group_by(ChallengeResult.person_id, day)
    )
    if person_ids is not None:
        query = query.where(ChallengeResult.person_id.in_(sorted(person_ids)))
    return query


def closed_periods(connection: Connection) -> set[str]:
    return set(connection.scalars(select(PeriodClose.period_key)))


def today_of(program: Program, clock: Clock) -> date:
    return business_day(clock(), program.zone, program.day_start_minutes)


def _today(history: ProgramHistory, clock: Clock) -> tuple[date, VersionedProgram]:
    """Today's business day in the program's zone, and the program version in force on it."""
    today = today_of(history.in_force(clock().date()).program, clock)
    return today, history.in_force(today)


def refresh(
    connection: Connection, person_ids: Collection[int], history: ProgramHistory, clock: Clock
) -> int:
    """Re-evaluate the day badges of these agents over every open period; returns awards changed.

    Each day is judged by the program version in force on it: a badge a later version adds is never
    earned on a day before that version's `effective_from`."""
    return _refresh(connection, person_ids, history, clock())


def refresh_under(
    connection: Connection,
    person_ids: Collection[int],
    program: Program,
    version: int,
    now: datetime,
    *,
    of: str | None = None,
) -> int:
    """`refresh` under one program version for every day; with `of`, only the count badges of that count
    (a challenge's end re-evaluates `challenges_won` for its winners)."""
    single = ProgramHistory([VersionedProgram(version, date.min, program)])
    return _refresh(connection, person_ids, single, now, of=of)


def _refresh(
    connection: Connection,
    person_ids: Collection[int],
    history: ProgramHistory,
    now: datetime,
    *,
    of: str | None = None,
) -> int:
    by_version = [
        (versioned, [rule for rule in rules if not rule.at_close and (of is None or rule.of == of)])
        for versioned, rules in rules_in_force(history)
    ]
    rules = [rule for _, version_rules in by_version for rule in version_rules]
    if not rules or not person_ids:
        return 0
    agents = agent_days(connection, person_ids, rules)
    desired = _day_awards(history, by_version, agents)
    closed = closed_periods(connection)
    program = history.in_force(now.date()).program
    today = business_day(now, program.zone, program.day_start_minutes)
    return _reconcile(
        connection,
        person_ids,
        sorted({rule.id for rule in rules}),
        desired,
        lambda key: key not in closed,
        history.in_force(today).version,
        now,
        today,
        _reasons(history, by_version, agents),
    )


def rules_in_force(history: ProgramHistory) -> list[tuple[VersionedProgram, list[BadgeRule]]]:
    """Each version in force on some day, oldest first, with its badge rules."""
    in_force = {version for _, version in history.timeline()}
    return [(v, badge_rules(v.program)) for v in history.versions if v.version in in_force]


def _day_awards(
    history: ProgramHistory,
    by_version: Iterable[tuple[VersionedProgram, list[BadgeRule]]],
    agents: Mapping[int, AgentDays],
) -> dict[int, list[BadgeAward]]:
    """The day badges' awards, each by the rules of the version in force on the day it is earned."""
    desired: dict[int, list[BadgeAward]] = defaultdict(list)
    for versioned, rules in by_version:
        week_start = versioned.program.week_starts_on
        for rule in rules:
            if rule.at_close:
                continue
            for person, agent in agents.items():
                desired[person] += [
                    award
                    for award in scoring.day_awards(rule, agent, versioned.version, week_start)
                    if history.in_force(award.day).version == versioned.version
                ]
    return desired


def close_due(
    engine: Engine,
    history: ProgramHistory,
    clock: Clock,
    touched: Collection[date] | None = None,
    *,
    through: date | None = None,
) -> list[str]:
    """Close every period with data that is due; returns the keys.

    A period is due `correction_window_days` after it ended and after its first record was received,
    whichever is later. `through` (a finished backfill) also closes every period with data ending on or
    before that day, however recently its records arrived.

    With `touched` (the days a scoring run just scored), only days after the latest closed periods, the
    touched ones and periods waiting on their arrival are searched for data, so a scoring run need not
    scan all history; without it (`floorboard periods close`), all of it is.
    """
    with engine.begin() as connection:
        return close_periods(connection, history, clock, touched, through=through)


def period_kinds(program: Program, history: ProgramHistory) -> list[Period]:
    """The kinds of period that close: those of the program's badges and of any version's period rules."""
    kinds = {rule.period for rule in badge_rules(program) if rule.period is not Period.ALL}
    return sorted(kinds | period_points.kinds(history))


def record_arrivals(
    connection: Connection, days: Collection[date], history: ProgramHistory, clock: Clock
) -> None:
    """Note now as the first arrival of the open periods holding these just-received days (once each)."""
    if not days:
        return
    _, versioned = _today(history, clock)
    program = versioned.program
    keys = {
        scoring.period_key(kind, day, program.week_starts_on)
        for kind in period_kinds(program, history)
        for day in days
    }
    if not keys:
        return
    known: set[str] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start : start + 1000]
        known |= set(
            connection.scalars(select(PeriodArrival.period_key).where(PeriodArrival.period_key.in_(chunk)))
        )
        known |= set(
            connection.scalars(select(PeriodClose.period_key).where(PeriodClose.period_key.in_(chunk)))
        )
    fresh = [key for key in ordered if key not in known]
    if fresh:
        now = clock()
        connection.execute(
            insert(PeriodArrival), [{"period_key": key, "first_received_at": now} for key in fresh]
        )


def arrival_days(connection: Connection, program: Program) -> dict[str, date]:
    """The business day each open period's first record arrived on, by period key."""
    rows = connection.execute(select(PeriodArrival.period_key, PeriodArrival.first_received_at))
    return {
        key: business_day(
            received.replace(tzinfo=UTC) if received.tzinfo is None else received,  # SQLite keeps no zone
            program.zone,
            program.day_start_minutes,
        )
        for key, received in rows
    }


def is_due(key: str, end: date, last_closable: date, arrivals: Mapping[str, date]) -> bool:
    """A period closes once its end and its first arrival both lie on or before `last_closable` (today
    minus the correction window and a day); a period without an arrival row, by its end alone."""
    arrived = arrivals.get(key)
    return end <= last_closable and (arrived is None or arrived <= last_closable)


def close_periods(
    connection: Connection,
    history: ProgramHistory,
    clock: Clock,
    touched: Collection[date] | None = None,
    *,
    through: date | None = None,
) -> list[str]:
    now = clock()
    today, versioned = _today(history, clock)
    program = versioned.program
    by_version = rules_in_force(history)
    rules = [rule for _, version_rules in by_version for rule in version_rules]
    scored_kinds = period_points.kinds(history)
    kinds = period_kinds(program, history)
    if not kinds:
        return []
    closed = closed_periods(connection)
    arrivals = arrival_days(connection, program)
    last_closable = today - timedelta(days=program.correction_window_days + 1)
    searched = max(last_closable, through) if through is not None else last_closable
    since = None if touched is None else _horizon(closed, kinds)
    zone_metrics = {m for v in history.versions for m in period_points.metrics(v.program)}
    days = set(_data_days(connection, since, searched, rules, zone_metrics))
    days |= {day for day in touched or () if day <= searched}
    # a period waiting on its arrival may lie before the horizon: its arrival row names it
    days |= set(_data_days_in(connection, _arrival_spans(arrivals, kinds), rules, zone_metrics))
    due: dict[str, tuple[Period, date, date]] = {}
    for day in sorted(days):
        for kind in kinds:
            start, end = window(kind, day, program.week_starts_on)
            key = scoring.period_key(kind, start, program.week_starts_on)
            if key in closed or key in due:
                continue
            if (through is not None and end <= through) or is_due(key, end, last_closable, arrivals):
                due[key] = (kind, start, end)
    if not due:
        return []
    period_points.score(
        connection,
        {(kind, start): None for kind, start, _ in due.values() if kind in scored_kinds},
        history,
        now,
    )
    agents = agent_days(connection, None, rules)
    desired: dict[int, list[BadgeAward]] = defaultdict(list)
    for person, awards in _day_awards(history, by_version, agents).items():
        desired[person] += [award for award in awards if award.period_key in due]
    for period, start, end in due.values():  # whole-period badges: the version on the period's last day
        in_force = history.in_force(end)
        for rule in badge_rules(in_force.program):
            if rule.at_close and rule.period is period:
                by_agent = league_close_awards(
                    connection, in_force.program, rule, agents, start, end, in_force.version
                )
                for person, awards in by_agent.items():
                    desired[person] += awards
    _reconcile(
        connection,
        None,
        sorted({rule.id for rule in rules}),
        desired,
        lambda key: key in due,
        versioned.version,
        now,
        today,
        _reasons(history, by_version, agents),
    )
    connection.execute(insert(PeriodClose), [{"period_key": key, "closed_at": now} for key in sorted(due)])
    for offset in range(0, len(due), 1000):  # a closed period needs its arrival no more
        chunk = sorted(due)[offset : offset + 1000]
        connection.execute(delete(PeriodArrival).where(PeriodArrival.period_key.in_(chunk)))
    return sorted(due)


def _arrival_spans(arrivals: Mapping[str, date], kinds: Collection[Period]) -> list[tuple[date, date]]:
    """The [first, last] days of the open periods with an arrival row, of the kinds that close."""
    spans = []
    for key in arrivals:
        kind, start = scoring.parse_period_key(key)
        if start is not None and kind in kinds:
            spans.append((start, scoring.period_end(kind, start)))
    return spans


def league_close_awards(
    connection: Connection,
    program: Program,
    rule: BadgeRule,
    agents: Mapping[int, AgentDays],
    start: date,
    end: date,
    version: int,
) -> dict[int, list[BadgeAward]]:
    """A whole-period badge's awards; a most-improved badge is contested within each league (on the
    period's last day) when the program competes `within_leagues`, agents in no league among themselves."""
    week_start = program.week_starts_on
    if rule.kind != "most_improved" or not program.within_leagues or not program.leagues:
        return scoring.close_awards(rule, agents, start, end, version, week_start)
    placed = leagues.assignments(connection, program, end, agents)
    out: dict[int, list[BadgeAward]] = {}
    for league in {placed.get(person) for person in agents}:
        contenders = {person: agent for person, agent in agents.items() if placed.get(person) == league}
        out |= scoring.close_awards(rule, contenders, start, end, version, week_start)
    return out


def _horizon(closed: Collection[str], kinds: Collection[Period]) -> date | None:
    """The first day of the earliest among each kind's latest closed period: before it, every period
    with data has closed (data arriving there later is in the touched days). None: search everything."""
    latest: dict[Period, date] = {}
    for key in closed:
        kind, start = scoring.parse_period_key(key)
        if start is not None and (kind not in latest or start > latest[kind]):
            latest[kind] = start
    if any(kind not in latest for kind in kinds):
        return None
    return min((latest[kind] for kind in kinds), default=None)


def _data_days(
    connection: Connection,
    since: date | None,
    until: date,
    rules: list[BadgeRule],
    zone_metrics: Collection[str] = (),
) -> list[date]:
    """Business days in [since, until] with data for the badges (their metrics, or kudos) or for period
    zone rules: only a period with something in it closes, so history imported long after the fact still
    earns its badges and points at its first close. (Reads the rollups' metric-and-day index.)"""
    metrics = sorted({rule.metric for rule in rules if rule.metric} | set(zone_metrics))
    days: set[date] = set()
    if metrics:
        rollup_days = select(Rollup.business_day).where(
            Rollup.metric.in_(metrics), Rollup.business_day <= until
        )
        if since is not None:
            rollup_days = rollup_days.where(Rollup.business_day >= since)
        days |= set(connection.scalars(rollup_days.distinct()))
    if any(rule.of == "kudos_received" for rule in rules):
        kudos_days = select(Kudos.business_day).where(Kudos.business_day <= until)
        if since is not None:
            kudos_days = kudos_days.where(Kudos.business_day >= since)
        days |= set(connection.scalars(kudos_days.distinct()))
    if any(rule.of == "challenges_won" for rule in rules):
        days |= {day for _, day, _ in connection.execute(_wins_by_day(None)) if since is None or day >= since}
        days = {day for day in days if day <= until}
    return sorted(day for day in days if isinstance(day, date))


def _data_days_in(
    connection: Connection,
    spans: Collection[tuple[date, date]],
    rules: list[BadgeRule],
    zone_metrics: Collection[str] = (),
) -> set[date]:
    """The days with data (as `_data_days` finds them) within any of the spans."""
    if not spans:
        return set()
    first = min(start for start, _ in spans)
    last = max(end for _, end in spans)
    return {
        day
        for day in _data_days(connection, first, last, rules, zone_metrics)
        if any(start <= day <= end for start, end in spans)
    }


def _reasons(
    history: ProgramHistory,
    by_version: Iterable[tuple[VersionedProgram, list[BadgeRule]]],
    agents: Mapping[int, AgentDays],
) -> Reason:
    """Why an award row of these rules no longer holds on the agents' current data, by the rules of the
    version in force on the day it was earned (the latest version's, when that one has no such badge)."""
    by_key: dict[tuple[int, str], tuple[BadgeRule, str]] = {}
    latest: dict[str, tuple[BadgeRule, str]] = {}
    for versioned, rules in by_version:
        for rule in rules:
            by_key[(versioned.version, rule.id)] = (rule, versioned.program.week_starts_on)
            latest[rule.id] = (rule, versioned.program.week_starts_on)

    def reason(row: Any) -> tuple[str, dict[str, Any]]:
        awarded = row.inputs if isinstance(row.inputs, dict) else {}
        then = history.in_force(row.business_day).version
        rule, week_starts_on = by_key.get((then, row.badge)) or latest[row.badge]
        return scoring.revocation(
            rule,
            agents.get(row.person_id, AgentDays({})),
            row.tier,
            awarded,
            row.business_day,
            then,
            week_starts_on,
        )

    return reason


def _reconcile(
    connection: Connection,
    person_ids: Collection[int] | None,
    badge_ids: list[str],
    desired: Mapping[int, list[BadgeAward]],
    in_scope: Callable[[str], bool],
    version: int,
    now: datetime,
    today: date,
    reason: Reason,
) -> int:
    """Make the current awards within scope equal the desired ones: award what is missing (new rows in one
    statement), bring back revoked ones, refresh the reasons of kept ones, revoke the rest (with why, on
    business day `today`)."""
    query = select(table_of(BadgeAwardRow)).where(BadgeAwardRow.badge.in_(badge_ids))
    if person_ids is not None:
        query = query.where(BadgeAwardRow.person_id.in_(sorted(person_ids)))
    wanted = {
        (person, *award.key): award
        for person, awards in desired.items()
        for award in awards
        if in_scope(award.period_key)
    }
    changed = 0
    for row in connection.execute(query).all():
        key = (row.person_id, row.badge, row.tier, row.period_key)
        if not in_scope(row.period_key):
            wanted.pop(key, None)
            continue
        item = wanted.pop(key, None)
        if item is None:
            if row.revoked_at is None:
                template, inputs = reason(row)
                revoke(connection, row.id, now, day=today, template=template, inputs=inputs)
                changed += 1
            continue
        values: dict[str, Any] = {"business_day": item.day, "inputs": item.inputs, "template": item.template}
        if row.revoked_at is not None:
            values |= {
                "revoked_at": None,
                "awarded_at": now,
                "revoked_day": None,
                "revoked_template": None,
                "revoked_inputs": None,
            }
            changed += 1
        elif row.inputs == item.inputs and row.business_day == item.day:
            continue
        values["program_version"] = int(item.inputs.get("version", version))
        connection.execute(update(BadgeAwardRow).where(BadgeAwardRow.id == row.id).values(**values))
    if wanted:
        ordered = sorted(wanted.items(), key=lambda pair: (pair[0][0], pair[1].day, pair[1].key))
        connection.execute(
            insert(BadgeAwardRow),
            [
                {
                    "person_id": person,
                    "badge": item.badge,
                    "tier": item.tier,
                    "period_key": item.period_key,
                    "business_day": item.day,
                    "template": item.template,
                    "inputs": item.inputs,
                    "program_version": int(item.inputs.get("version", version)),
                    "awarded_at": now,
                    "revoked_at": None,
                }
                for (person, *_), item in ordered
            ],
        )
        changed += len(ordered)
    return changed


def earned(
    connection: Connection,
    person_id: int | None = None,
    *,
    day: date | None = None,
    since: datetime | None = None,
    until: date | None = None,
) -> list[EarnedBadge]:
    """Current awards: of one person, of one business day, earned on or before business day `until` (as
    things stood then), or awarded since an instant (announcements)."""
    query = select(
        BadgeAwardRow.id,
        BadgeAwardRow.person_id,
        BadgeAwardRow.badge,
        BadgeAwardRow.tier,
        BadgeAwardRow.period_key,
        BadgeAwardRow.business_day,
        BadgeAwardRow.program_version,
        BadgeAwardRow.template,
        BadgeAwardRow.inputs,
        BadgeAwardRow.awarded_at,
    ).where(BadgeAwardRow.revoked_at.is_(None))
    if person_id is not None:
        query = query.where(BadgeAwardRow.person_id == person_id)
    if day is not None:
        query = query.where(BadgeAwardRow.business_day == day)
    if since is not None:
        query = query.where(BadgeAwardRow.awarded_at >= since)
    if until is not None:
        query = query.where(BadgeAwardRow.business_day <= until)
    rows = connection.execute(query.order_by(BadgeAwardRow.business_day, BadgeAwardRow.id))
    return [EarnedBadge(*row) for row in rows]


def badge_set(engine: Engine) -> set[tuple[str, str, str, str]]:
    """The current badges as (agent name, badge, tier, period): the badge half of the ledger's equality."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Person.display_name, BadgeAwardRow.badge, BadgeAwardRow.tier, BadgeAwardRow.period_key)
            .join(Person, Person.id == BadgeAwardRow.person_id)
            .where(BadgeAwardRow.revoked_at.is_(None))
        )
        return {(name, badge, tier, key) for name, badge, tier, key in rows}


def standings(
    connection: Connection, program: Program, person_id: int, today: date
) -> list[scoring.Progress]:
    """Progress on every badge of the program in the period holding `today`, as it stood that day: only
    awards earned by then count, so a past day shows the goal still ahead then."""
    rules = badge_rules(program)
    agent = agent_days(connection, [person_id], rules).get(person_id, AgentDays({}))
    held = earned(connection, person_id, until=today)
    out = []
    for rule in rules:
        key = scoring.period_key(rule.period, today, program.week_starts_on)
        tiers = [item.tier for item in held if item.badge == rule.id and item.period_key == key]
        out.append(scoring.progress(rule, agent, today, tiers, program.week_starts_on))
    return out


def would_award(
    connection: Connection,
    program: Program,
    agents: Mapping[int, AgentDays],
    start: date,
    end: date,
    version: int,
) -> dict[int, set[tuple[str, str, str]]]:
    """Each agent's (badge, tier, period) under `program`, for days and periods ending in [start, end]."""
    out: dict[int, set[tuple[str, str, str]]] = defaultdict(set)
    week_start = program.week_starts_on
    for rule in badge_rules(program):
        if rule.at_close:
            first, last = window(rule.period, start, week_start)
            while first <= end:
                if start <= last <= end:
                    for person, awards in league_close_awards(
                        connection, program, rule, agents, first, last, version
                    ).items():
                        out[person] |= {item.key for item in awards}
                first, last = window(rule.period, last + timedelta(days=1), week_start)
            continue
        for person, agent in agents.items():
            out[person] |= {
                item.key
                for item in scoring.day_awards(rule, agent, version, week_start)
                if start <= item.day <= end
            }
    return out
