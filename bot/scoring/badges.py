"""Badges: pure evaluation over an agent's working days (DESIGN.md §5). No I/O.

A working day is a business day on which the agent has at least one record. A streak runs over the
working days on which its metric has at least `min_samples`: a day where the bound holds extends the run,
a day where it fails breaks it, and a day without enough data neither breaks nor extends it.

Every award is keyed by (badge, tier, period key), so evaluating the same history twice, or in any order,
gives the same set; the store enforces the key with a unique constraint.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from bot.scoring.metrics import CATALOGUE, samples_of, value_of
from bot.scoring.periods import Period, window

Pair = tuple[int, int]
Kind = Literal["threshold", "streak", "count", "personal_best", "most_improved"]
Direction = Literal["higher", "lower"]
UNTIERED = ""


@dataclass(frozen=True, slots=True)
class BadgeRule:
    """One badge of the program. `goals` are (tier, goal) in tier order; tier "" when the badge has none.

    The goal is the metric's bound for thresholds, a number of working days for streaks and a count for
    counts; `bound` is the per-day bound of streaks and days-in-zone counts.
    """

    id: str
    kind: Kind
    name: str
    period: Period
    direction: Direction
    min_samples: int = 1
    metric: str | None = None
    bound: float | None = None
    goals: tuple[tuple[str, float], ...] = ()
    of: str | None = None

    @property
    def at_close(self) -> bool:
        """Whole-period badges are awarded when the period closes; the others as days are scored."""
        if self.kind == "most_improved":
            return True
        return self.kind in ("threshold", "personal_best") and self.period is not Period.DAY


@dataclass(frozen=True, slots=True)
class AgentDays:
    """One agent's history: metric sums per working day, kudos received and challenges won per business
    day (a challenge is won on the last day its results counted)."""

    days: Mapping[date, Mapping[str, Pair]]
    kudos: Mapping[date, int] = field(default_factory=dict)
    wins: Mapping[date, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BadgeAward:
    badge: str
    tier: str
    period_key: str
    day: date
    template: str
    inputs: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.badge, self.tier, self.period_key)


@dataclass(frozen=True, slots=True)
class Progress:
    """Where an agent stands on a badge in the current period: `goal` is the next tier's, None when done
    (every tier in `tiers` earned, or a streak's run already past the goals still open)."""

    badge: str
    name: str
    kind: Kind
    tier: str | None
    current: float | None
    goal: float | None
    metric: str | None
    period: Period
    earned: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()


def period_key(period: Period, day: date, week_starts_on: str = "monday") -> str:
    """`month:2021-01-01`: the period containing `day`, by its kind and first day; `all` for all time."""
    if period is Period.ALL:
        return "all"
    start, _ = window(period, day, week_starts_on)
    return f"{period.value}:{start.isoformat()}"


def parse_period_key(key: str) -> tuple[Period, date | None]:
    if key == "all":
        return Period.ALL, None
    kind, start = key.split(":", 1)
    return Period(kind), date.fromisoformat(start)


def period_end(period: Period, start: date) -> date:
    """The last day of the period that starts on `start` (whatever day the week starts on)."""
    if period is Period.WEEK:
        return start + timedelta(days=6)
    return window(period, start)[1]


def day_awards(rule: BadgeRule, agent: AgentDays, version: int, week_starts_on: str) -> list[BadgeAward]:
    """Every award a day-scored badge gives over the agent's whole history (none for whole-period ones)."""
    if rule.at_close:
        return []
    if rule.kind == "threshold":
        return _day_thresholds(rule, agent, version)
    if rule.kind == "streak":
        return _streaks(rule, agent, version, week_starts_on)
    if rule.kind == "count":
        return _counts(rule, agent, version, week_starts_on)
    if rule.kind == "personal_best":
        return _day_bests(rule, agent, version)
    return []


def close_awards(
    rule: BadgeRule,
    agents: Mapping[int, AgentDays],
    start: date,
    end: date,
    version: int,
    week_starts_on: str,
) -> dict[int, list[BadgeAward]]:
    """The awards of a whole-period badge for the period [start, end], per agent id."""
    if not rule.at_close:
        return {}
    key = period_key(rule.period, start, week_starts_on)
    if rule.kind == "most_improved":
        return _most_improved(rule, agents, start, end, key, version, week_starts_on)
    out: dict[int, list[BadgeAward]] = {}
    for agent_id, agent in agents.items():
        figure = _over(rule, agent, start, end)
        if figure is None:
            continue
        if rule.kind == "threshold":
            awards = _tiers_met(rule, figure, key, end, version, start)
        else:
            awards = _period_best(rule, agent, figure, start, end, key, version, week_starts_on)
        if awards:
            out[agent_id] = awards
    return out


def progress(
    rule: BadgeRule, agent: AgentDays, today: date, earned: Iterable[str], week_starts_on: str
) -> Progress:
    """The standing on a badge in the period holding `today`, as of `today` (no later data counts): the
    figure so far and the next tier's goal (`earned`: the tiers held by then).

    A streak's next goal is one the current run can still reach: a run already past a goal (reached in
    an earlier period) needs a new run for that tier.
    """
    held = set(earned)
    done = tuple(tier for tier, _ in rule.goals if tier in held)
    open_goals = [(tier, goal) for tier, goal in rule.goals if tier not in held]
    start, end = window(rule.period, today, week_starts_on)
    current: float | None = None
    if rule.kind == "threshold":
        figure = _over(rule, agent, start, min(end, today))
        current = figure[0] if figure else None
    elif rule.kind == "streak":
        run = _current_run(rule, agent, today)
        current = float(run)
        open_goals = [(tier, goal) for tier, goal in open_goals if goal > run] or (
            [(tier, goal) for tier, goal in open_goals if run == 0]
        )
    elif rule.kind == "count":
        current = float(_count_in(rule, agent, start, min(end, today)))
    elif rule.kind == "personal_best":
        best = _best_before(rule, agent, start, week_starts_on)
        figure = _over(rule, agent, start, min(end, today))
        current = figure[0] if figure else None
        open_goals = [(UNTIERED, best[0])] if best and UNTIERED not in held else []
    else:
        now = _over(rule, agent, start, min(end, today))
        before = _over(rule, agent, *window(rule.period, start - timedelta(days=1), week_starts_on))
        current = _gain(rule, now[0], before[0]) if now and before else None
    tier, goal = open_goals[0] if open_goals else (None, None)
    tiers = tuple(name for name, _ in rule.goals)
    return Progress(rule.id, rule.name, rule.kind, tier, current, goal, rule.metric, rule.period, done, tiers)


def _figure(rule: BadgeRule, sums: Mapping[str, Pair]) -> tuple[float, int] | None:
    """The metric's value and samples for a day or a period, when it has at least `min_samples`."""
    metric = rule.metric
    if metric is None or metric not in sums:
        return None
    num, den = sums[metric]
    value = value_of(metric, num, den)
    samples = samples_of(den)
    if value is None or samples < rule.min_samples:
        return None
    return value, samples


def _over(rule: BadgeRule, agent: AgentDays, start: date, end: date) -> tuple[float, int] | None:
    metric = rule.metric
    if metric is None:
        return None
    num = den = 0
    seen = False
    for day, sums in agent.days.items():
        if start <= day <= end and metric in sums:
            seen = True
            num += sums[metric][0]
            den += sums[metric][1]
    return _figure(rule, {metric: (num, den)}) if seen else None


def _holds(value: float, bound: float, direction: Direction) -> bool:
    return value >= bound if direction == "higher" else value <= bound


def _inputs(rule: BadgeRule, tier: str, version: int, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"badge": rule.id, "name": rule.name, "tier": tier, "version": version}
    if rule.metric is not None:
        base |= {"metric": rule.metric, "unit": CATALOGUE[rule.metric].unit, "direction": rule.direction}
    return base | extra


def _tiers_met(
    rule: BadgeRule, figure: tuple[float, int], key: str, day: date, version: int, start: date
) -> list[BadgeAward]:
    value, samples = figure
    return [
        BadgeAward(
            rule.id,
            tier,
            key,
            day,
            "badge.threshold",
            _inputs(
                rule,
                tier,
                version,
                value=value,
                samples=samples,
                bound=goal,
                period=rule.period.value,
                start=start.isoformat(),
                end=day.isoformat(),
            ),
        )
        for tier, goal in rule.goals
        if _holds(value, goal, rule.direction)
    ]


def _day_thresholds(rule: BadgeRule, agent: AgentDays, version: int) -> list[BadgeAward]:
    awards = []
    for day in sorted(agent.days):
        figure = _figure(rule, agent.days[day])
        if figure is not None:
            awards += _tiers_met(rule, figure, period_key(Period.DAY, day), day, version, day)
    return awards


def _qualifying_days(rule: BadgeRule, agent: AgentDays) -> list[tuple[date, bool, float]]:
    """Working days on which the metric has enough samples: (day, bound held, value), oldest first."""
    out = []
    bound = rule.bound if rule.bound is not None else 0.0
    for day in sorted(agent.days):
        figure = _figure(rule, agent.days[day])
        if figure is not None:
            out.append((day, _holds(figure[0], bound, rule.direction), figure[0]))
    return out


def _streaks(rule: BadgeRule, agent: AgentDays, version: int, week_starts_on: str) -> list[BadgeAward]:
    awards: list[BadgeAward] = []
    done: set[tuple[str, str]] = set()
    run, first = 0, None
    for day, held, _ in _qualifying_days(rule, agent):
        if not held:
            run, first = 0, None
            continue
        run += 1
        first = first or day
        for tier, goal in rule.goals:
            key = period_key(rule.period, day, week_starts_on)
            if run == goal and (tier, key) not in done:
                done.add((tier, key))
                inputs = _inputs(
                    rule,
                    tier,
                    version,
                    bound=rule.bound,
                    days=run,
                    first=first.isoformat(),
                    last=day.isoformat(),
                )
                awards.append(BadgeAward(rule.id, tier, key, day, "badge.streak", inputs))
    return awards


def _current_run(rule: BadgeRule, agent: AgentDays, today: date) -> int:
    run = 0
    for day, held, _ in _qualifying_days(rule, agent):
        if day > today:
            break
        run = run + 1 if held else 0
    return run


def _daily_counts(rule: BadgeRule, agent: AgentDays) -> list[tuple[date, int]]:
    if rule.of == "kudos_received":
        return sorted((day, count) for day, count in agent.kudos.items() if count > 0)
    if rule.of == "challenges_won":
        return sorted((day, count) for day, count in agent.wins.items() if count > 0)
    return [(day, 1) for day, held, _ in _qualifying_days(rule, agent) if held]


def _count_in(rule: BadgeRule, agent: AgentDays, start: date, end: date) -> int:
    return sum(count for day, count in _daily_counts(rule, agent) if start <= day <= end)


def _counts(rule: BadgeRule, agent: AgentDays, version: int, week_starts_on: str) -> list[BadgeAward]:
    awards: list[BadgeAward] = []
    totals: dict[str, int] = defaultdict(int)
    for day, count in _daily_counts(rule, agent):
        key = period_key(rule.period, day, week_starts_on)
        before = totals[key]
        totals[key] += count
        for tier, goal in rule.goals:
            if before < goal <= totals[key]:
                inputs = _inputs(
                    rule,
                    tier,
                    version,
                    of=rule.of,
                    bound=rule.bound,
                    count=int(goal),
                    period=rule.period.value,
                )
                awards.append(BadgeAward(rule.id, tier, key, day, "badge.count", inputs))
    return awards


def _better(rule: BadgeRule, value: float, than: float) -> bool:
    return value > than if rule.direction == "higher" else value < than


def _gain(rule: BadgeRule, now: float, before: float) -> float:
    """The improvement from `before` to `now` in the metric's better direction (negative: worse)."""
    return round(now - before if rule.direction == "higher" else before - now, 9)


def _day_bests(rule: BadgeRule, agent: AgentDays, version: int) -> list[BadgeAward]:
    awards = []
    best: tuple[float, date] | None = None
    for day, _, value in _qualifying_days(rule, agent):
        if best is not None and _better(rule, value, best[0]):
            inputs = _inputs(
                rule,
                UNTIERED,
                version,
                value=value,
                previous=best[0],
                previous_day=best[1].isoformat(),
                period="day",
                start=day.isoformat(),
                end=day.isoformat(),
            )
            awards.append(
                BadgeAward(rule.id, UNTIERED, period_key(Period.DAY, day), day, "badge.personal_best", inputs)
            )
        if best is None or _better(rule, value, best[0]):
            best = (value, day)
    return awards


def _best_before(
    rule: BadgeRule, agent: AgentDays, start: date, week_starts_on: str
) -> tuple[float, date] | None:
    """The agent's best whole period of this kind before `start`, as (value, first day of that period)."""
    starts = sorted({window(rule.period, day, week_starts_on)[0] for day in agent.days if day < start})
    best: tuple[float, date] | None = None
    for first in starts:
        figure = _over(rule, agent, *window(rule.period, first, week_starts_on))
        if figure is not None and (best is None or _better(rule, figure[0], best[0])):
            best = (figure[0], first)
    return best


def _period_best(
    rule: BadgeRule,
    agent: AgentDays,
    figure: tuple[float, int],
    start: date,
    end: date,
    key: str,
    version: int,
    week_starts_on: str,
) -> list[BadgeAward]:
    best = _best_before(rule, agent, start, week_starts_on)
    if best is None or not _better(rule, figure[0], best[0]):
        return []
    inputs = _inputs(
        rule,
        UNTIERED,
        version,
        value=figure[0],
        samples=figure[1],
        previous=best[0],
        previous_day=best[1].isoformat(),
        period=rule.period.value,
        start=start.isoformat(),
        end=end.isoformat(),
    )
    return [BadgeAward(rule.id, UNTIERED, key, end, "badge.personal_best", inputs)]


def _most_improved(
    rule: BadgeRule,
    agents: Mapping[int, AgentDays],
    start: date,
    end: date,
    key: str,
    version: int,
    week_starts_on: str,
) -> dict[int, list[BadgeAward]]:
    before_start, before_end = window(rule.period, start - timedelta(days=1), week_starts_on)
    gains: dict[int, tuple[float, float, float, int]] = {}
    for agent_id, agent in agents.items():
        now = _over(rule, agent, start, end)
        before = _over(rule, agent, before_start, before_end)
        if now is not None and before is not None:
            gains[agent_id] = (_gain(rule, now[0], before[0]), now[0], before[0], now[1])
    top = max((gain for gain, *_ in gains.values()), default=0.0)
    if top <= 0:
        return {}
    out = {}
    for agent_id, (gain, now_value, before_value, samples) in gains.items():
        if gain == top:
            inputs = _inputs(
                rule,
                UNTIERED,
                version,
                value=now_value,
                samples=samples,
                previous=before_value,
                gain=gain,
                period=rule.period.value,
                start=start.isoformat(),
                end=end.isoformat(),
                contenders=len(gains),
            )
            out[agent_id] = [BadgeAward(rule.id, UNTIERED, key, end, "badge.most_improved", inputs)]
    return out


def revocation(
    rule: BadgeRule,
    agent: AgentDays,
    tier: str,
    awarded: Mapping[str, Any],
    earned_on: date,
    version: int,
    week_starts_on: str,
) -> tuple[str, dict[str, Any]]:
    """Why an award no longer holds on the agent's current data: a template id and its inputs.

    `awarded` is the award's own inputs (a streak's first and last day, a threshold's bound). The reason
    names the day whose figure changed when there is one: the first working day of the streak's run that
    now fails its bound, a day left with too few samples, a count that fell short. When the data alone do
    not explain it (the program's goals changed), it says the current program no longer awards it.
    """
    base = _inputs(rule, tier, version, earned=earned_on.isoformat())
    goal = dict(rule.goals).get(tier)
    if rule.kind == "streak":
        first = _day(awarded.get("first"), earned_on)
        last = _day(awarded.get("last"), earned_on)
        found = _changed_day(rule, agent, first, last, rule.bound)
        if found is not None:
            return found[0], base | found[1]
        held = sum(1 for day, ok, _ in _qualifying_days(rule, agent) if first <= day <= last and ok)
        if goal is not None and held < goal:
            extra = {
                "first": first.isoformat(),
                "last": last.isoformat(),
                "held": held,
                "goal": int(goal),
                "bound": rule.bound,
            }
            return "badge.revoked.run", base | extra
    elif rule.kind == "threshold" and rule.period is Period.DAY and goal is not None:
        found = _changed_day(rule, agent, earned_on, earned_on, goal)
        if found is not None:
            return found[0], base | found[1]
    elif rule.kind == "count" and goal is not None:
        start, end = window(rule.period, earned_on, week_starts_on)
        count = _count_in(rule, agent, start, end)
        if count < goal:
            extra = {
                "of": rule.of,
                "bound": rule.bound,
                "count": count,
                "goal": int(goal),
                "period": rule.period.value,
                "start": start.isoformat(),
                "end": end.isoformat(),
            }
            return "badge.revoked.count", base | extra
    elif rule.kind == "personal_best" and rule.period is Period.DAY:
        figure = _figure(rule, agent.days.get(earned_on, {}))
        if figure is None:
            found = _changed_day(rule, agent, earned_on, earned_on, None)
            if found is not None:
                return found[0], base | found[1]
        elif isinstance(awarded.get("previous"), int | float):
            extra = {"day": earned_on.isoformat(), "value": figure[0], "samples": figure[1]}
            return "badge.revoked.not_best", base | extra | {"previous": awarded["previous"]}
    return "badge.revoked.program", base


def _day(text: Any, default: date) -> date:
    return date.fromisoformat(text) if isinstance(text, str) else default


def _changed_day(
    rule: BadgeRule, agent: AgentDays, first: date, last: date, bound: float | None
) -> tuple[str, dict[str, Any]] | None:
    """The first working day in [first, last] whose figure now fails `bound` (None: any figure counts),
    or that has data but too few samples to count."""
    metric = rule.metric
    if metric is None:
        return None
    for day in sorted(agent.days):
        if not first <= day <= last or metric not in agent.days[day]:
            continue
        figure = _figure(rule, agent.days[day])
        if figure is None:
            samples = samples_of(agent.days[day][metric][1])
            return "badge.revoked.too_few", {
                "day": day.isoformat(),
                "samples": samples,
                "needed": rule.min_samples,
            }
        if bound is not None and not _holds(figure[0], bound, rule.direction):
            return "badge.revoked.day", {
                "day": day.isoformat(),
                "value": figure[0],
                "samples": figure[1],
                "bound": bound,
            }
    return None
