"""The gamification program file (YAML): schema, validation with line numbers, and versions."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeGuard, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.scoring.improvement import Window
from bot.scoring.leagues import LeagueRule
from bot.scoring.metrics import CATALOGUE
from bot.scoring.periods import WEEKDAYS
from bot.scoring.zones import against_direction

RESERVED_RULE_IDS = frozenset({"kudos", "adjustment", "challenge", "badge"})


class ProgramError(ValueError):
    """Every problem in a program file, each with its key path and line."""


def rule_id_problem(ids: list[str]) -> str | None:
    repeated = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if repeated:
        return f"points rule ids must be unique; repeated: {repeated}"
    reserved = sorted(set(ids) & RESERVED_RULE_IDS)
    if reserved:
        return f"points rule ids {reserved} are reserved for kudos and adjustments"
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricPolicy(_Strict):
    better: Literal["higher", "lower"] | None = None
    rank_by: Literal["raw", "bayesian"] | None = None
    prior_weight: float = Field(default=10, ge=0)
    target: float | None = None
    min_samples: int = Field(default=1, ge=1)
    weight: float = Field(default=1.0, ge=0)
    floor: float | None = None
    ceiling: float | None = None


# Built from the catalogue so pydantic names the bad key and lists the good ones; to a type checker
# these are plain strings.
if TYPE_CHECKING:
    MetricKey = str
    BoardMetric = str
else:
    MetricKey = Literal[tuple(CATALOGUE)]
    BoardMetric = Literal[("points", *CATALOGUE)]
ValueTag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class GateSpec(_Strict):
    """A quality gate: the rule's points count only while this metric is ≥ gte and/or ≤ lte that day."""

    gte: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _a_bound(self) -> GateSpec:
        if self.gte is None and self.lte is None:
            raise ValueError("a gate needs gte, lte or both")
        return self


class ZoneRule(_Strict):
    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    metric: MetricKey
    period: Literal["day", "week", "month", "quarter"] = "day"
    zones: list[tuple[float, float]] = Field(min_length=2)
    gate: dict[MetricKey, GateSpec] = Field(default_factory=dict)
    cap: float | None = Field(default=None, gt=0, description="most points this rule pays per day or period")

    @field_validator("zones")
    @classmethod
    def _distinct_values(cls, zones: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if len({value for value, _ in zones}) != len(zones):
            raise ValueError("zone values must be distinct")
        return zones

    @property
    def rule_id(self) -> str:
        return self.id or f"{self.metric}-{self.period}"


class ImprovementSpec(_Strict):
    """How an improvement rule measures progress against the agent's own trailing baseline."""

    baseline_days: int = Field(default=28, ge=1, le=366)
    baseline: Literal["working_days", "calendar_days"] = "working_days"
    per: float = Field(gt=0, description="the step of the metric one `points` pays for (10 s, 0.01, 0.1)")
    points: float = Field(gt=0)
    cap: float | None = Field(default=None, gt=0, description="most points this rule pays per day")
    min_samples: int | None = Field(default=None, ge=1, description="the day's samples; default the metric's")
    baseline_min_samples: int | None = Field(default=None, ge=1)

    @property
    def window(self) -> Window:
        return Window(self.baseline_days, self.baseline == "working_days")


class ImprovementRule(_Strict):
    """Points for beating the agent's own trailing baseline of a metric, in the metric's direction."""

    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    metric: MetricKey
    improvement: ImprovementSpec
    gate: dict[MetricKey, GateSpec] = Field(default_factory=dict)

    @property
    def rule_id(self) -> str:
        return self.id or f"{self.metric}-improvement"


def _rule_kind(rule: Any) -> str:
    if isinstance(rule, dict):
        return "improvement" if "improvement" in rule else "zone"
    return "improvement" if isinstance(rule, ImprovementRule) else "zone"


#: Which form a points rule takes is read from its keys, so errors name the keys of that one form.
PointsRule = Annotated[
    Annotated[ZoneRule, Tag("zone")] | Annotated[ImprovementRule, Tag("improvement")],
    Discriminator(_rule_kind),
]
_RULE_TAGS = frozenset({"zone", "improvement"})


class TenureBand(_Strict):
    lt: int | None = Field(default=None, gt=0)
    gte: int | None = Field(default=None, ge=0)


class LeagueSpec(_Strict):
    """Automatic league membership: every condition given must hold (tenure in days since hire)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    tenure_days: TenureBand | None = None
    role: list[Literal["agent", "supervisor", "admin"]] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)


class XpCurve(_Strict):
    base: float = Field(default=100, gt=0)
    exponent: float = Field(default=1.5, gt=0, le=4)


class LevelPolicy(_Strict):
    xp_curve: XpCurve = XpCurve()


class CoinPolicy(_Strict):
    per_point: float = Field(default=0.1, ge=0, le=100)


class KudosPolicy(_Strict):
    daily_allowance: int = Field(default=5, ge=0)
    weekly_allowance: int | None = Field(default=None, ge=0, description="kudos per business week")
    max_per_pair_per_week: int | None = Field(
        default=None, ge=1, description="kudos between the same two people, either way, per week"
    )
    points: float = Field(default=5, ge=0)
    coins: float = Field(default=0, ge=0, description="coins a recipient earns per kudos, besides points")
    values: list[ValueTag] = Field(default_factory=list, description="company values, lower-case slugs")


class ChallengePolicy(_Strict):
    """How challenges pay out: team wins feed each member's XP (as points), winners get a badge."""

    baseline_days: int = Field(default=28, ge=1, le=366)
    win_badge: str = Field(default="challenge-won", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    team_wins_feed_xp: bool = True


# A store item's bounds, for the program file and `floorboard rewards` alike (docs/program.md).
REWARD_ID = r"^[a-z0-9][a-z0-9_-]*$"
MAX_REWARD_PRICE = 10_000_000  # coins
MAX_REWARD_STOCK = 1_000_000  # units


class RewardSpec(_Strict):
    id: str = Field(pattern=REWARD_ID, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    price: float = Field(gt=0, le=MAX_REWARD_PRICE, description="coins")
    stock: int | None = Field(
        default=None, ge=0, le=MAX_REWARD_STOCK, description="initial stock; absent means unlimited"
    )


class LeaderboardPolicy(_Strict):
    public_size: int = Field(default=5, ge=1, le=50)
    default_metric: BoardMetric = "points"
    default_period: Literal["day", "week", "month", "quarter", "all"] = "week"


class IdentityPolicy(_Strict):
    create_unknown_agents: bool = False


class ChannelSpec(_Strict):
    """Where a team's posts go: a channel id on Slack or Discord, or a name on the console."""

    platform: Literal["slack", "discord", "console"]
    channel: str = Field(min_length=1, max_length=200)


class _PostTime(_Strict):
    at: str = Field(description="local wall-clock time in the team's zone, HH:MM")
    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    grace_minutes: int = Field(default=180, ge=0, le=7 * 24 * 60)

    @field_validator("at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} must be a time of day as HH:MM, such as '17:30'") from None
        return value

    @field_validator("days", mode="before")
    @classmethod
    def _weekday_names(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        names = [day.lower() if isinstance(day, str) else day for day in value]
        wrong = [day for day in names if day not in WEEKDAYS]
        if wrong:
            raise ValueError(f"days are weekday names ({', '.join(WEEKDAYS)}), never numbers; got {wrong}")
        return names


def _agent_metrics(value: list[str]) -> list[str]:
    queue_only = [metric for metric in value if CATALOGUE[metric].scope == "queue"]
    if queue_only:
        raise ValueError(f"{queue_only} are measured on queues, not on a team's agents")
    return value


class DailyStandings(_PostTime):
    metric: BoardMetric = "points"
    figures: list[MetricKey] = Field(default_factory=list, description="team figures; default: metrics")
    dm_own_rank: bool = False

    _figures = field_validator("figures")(_agent_metrics)

    @field_validator("metric")
    @classmethod
    def _agent_board(cls, value: str) -> str:
        if value != "points":
            _agent_metrics([value])
        return value


class WeeklyRecap(_PostTime):
    days: list[str] = Field(default_factory=lambda: ["friday"], min_length=1)
    metrics: list[MetricKey] = Field(default_factory=list, description="charted; default: metrics")
    weeks: int = Field(default=6, ge=2, le=26)

    _metrics = field_validator("metrics")(_agent_metrics)


class KudosDigest(_PostTime):
    days: list[str] = Field(default_factory=lambda: ["friday"], min_length=1)
    period: Literal["day", "week"] = "week"


class TeamPosts(_Strict):
    """A team's channels and what is posted there, when (in the team's zone)."""

    channels: list[ChannelSpec] = Field(min_length=1)
    daily_standings: DailyStandings | None = None
    weekly_recap: WeeklyRecap | None = None
    kudos_digest: KudosDigest | None = None
    announcements: list[Literal["level_up", "badge", "challenge"]] = Field(default_factory=list)


TeamKey = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Tier = Literal["bronze", "silver", "gold"]
TIERS: tuple[Tier, ...] = ("bronze", "silver", "gold")
BadgeId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class _Badge(_Strict):
    id: BadgeId
    name: str | None = Field(default=None, max_length=80)


def _tiers_in_order(goals: float | Mapping[Tier, float] | None, ascending: bool) -> None:
    if not isinstance(goals, Mapping):
        return
    if not goals:
        raise ValueError("give a number, or a goal for at least one of bronze, silver, gold")
    values = [goals[tier] for tier in TIERS if tier in goals]
    if values != sorted(values, reverse=not ascending) or len(set(values)) != len(values):
        order = "rise" if ascending else "fall"
        raise ValueError(f"tier goals must {order} from bronze to silver to gold, got {dict(goals)}")


def _one_bound(at_least: object, at_most: object) -> None:
    if (at_least is None) == (at_most is None):
        raise ValueError("give exactly one of at_least or at_most")


class ThresholdBadge(_Badge):
    """The metric over a period is at or beyond a value (per tier), with at least `min_samples`."""

    kind: Literal["threshold"]
    metric: MetricKey
    period: Literal["day", "week", "month", "quarter"] = "day"
    at_least: float | dict[Tier, float] | None = None
    at_most: float | dict[Tier, float] | None = None
    min_samples: int | None = Field(default=None, ge=1)

    @field_validator("at_least")
    @classmethod
    def _rising(cls, value: float | dict[Tier, float] | None) -> float | dict[Tier, float] | None:
        _tiers_in_order(value, True)
        return value

    @field_validator("at_most")
    @classmethod
    def _falling(cls, value: float | dict[Tier, float] | None) -> float | dict[Tier, float] | None:
        _tiers_in_order(value, False)
        return value

    @model_validator(mode="after")
    def _check(self) -> ThresholdBadge:
        _one_bound(self.at_least, self.at_most)
        return self


class StreakBadge(_Badge):
    """The metric holds its bound on `days` consecutive working days (days without data are skipped)."""

    kind: Literal["streak"]
    metric: MetricKey
    at_least: float | None = None
    at_most: float | None = None
    days: int | dict[Tier, int] = Field(...)
    min_samples: int | None = Field(default=None, ge=1)
    period: Literal["week", "month", "quarter", "all"] = "month"

    @field_validator("days")
    @classmethod
    def _days(cls, value: int | dict[Tier, int]) -> int | dict[Tier, int]:
        _tiers_in_order(value, True)
        if min([value] if isinstance(value, int) else value.values()) < 2:
            raise ValueError("a streak needs at least 2 days")
        return value

    @model_validator(mode="after")
    def _check(self) -> StreakBadge:
        _one_bound(self.at_least, self.at_most)
        return self


class CountBadge(_Badge):
    """A count within a period reaches `count`: kudos received, challenges won, or working days the metric
    is in a zone."""

    kind: Literal["count"]
    of: Literal["kudos_received", "challenges_won", "days_in_zone"]
    metric: MetricKey | None = None
    at_least: float | None = None
    at_most: float | None = None
    count: int | dict[Tier, int] = Field(...)
    min_samples: int | None = Field(default=None, ge=1)
    period: Literal["week", "month", "quarter", "all"] = "month"

    @model_validator(mode="after")
    def _check(self) -> CountBadge:
        if self.of == "days_in_zone":
            if self.metric is None:
                raise ValueError("days_in_zone needs a metric")
            _one_bound(self.at_least, self.at_most)
        elif self.metric is not None or self.at_least is not None or self.at_most is not None:
            raise ValueError(f"{self.of} takes no metric, at_least or at_most")
        return self

    @field_validator("count")
    @classmethod
    def _count(cls, value: int | dict[Tier, int]) -> int | dict[Tier, int]:
        _tiers_in_order(value, True)
        if min([value] if isinstance(value, int) else value.values()) < 1:
            raise ValueError("must be at least 1")
        return value


class PersonalBestBadge(_Badge):
    """The agent's best value of the metric over a period, beating every earlier period of theirs."""

    kind: Literal["personal_best"]
    metric: MetricKey
    period: Literal["day", "week", "month"] = "day"
    min_samples: int | None = Field(default=None, ge=1)


class MostImprovedBadge(_Badge):
    """The largest improvement over the previous period, both periods with at least `min_samples`."""

    kind: Literal["most_improved"]
    metric: MetricKey
    period: Literal["week", "month", "quarter"] = "month"
    min_samples: int | None = Field(default=None, ge=1)


BadgeSpec = Annotated[
    ThresholdBadge | StreakBadge | CountBadge | PersonalBestBadge | MostImprovedBadge,
    Field(discriminator="kind"),
]
BADGE_KINDS = frozenset({"threshold", "streak", "count", "personal_best", "most_improved"})


class TeamBoardPolicy(_Strict):
    """How team boards compare teams of different sizes (averages and rates are pooled either way)."""

    normalize: Literal["per_member", "total"] = Field(
        default="per_member",
        description="per_member: points and totals divided by headcount; total: the team's sums",
    )


class Program(_Strict):
    name: str = "Floorboard"
    timezone: str = "UTC"
    week_starts_on: str = "monday"
    day_starts_at: str = "00:00"
    service_level_seconds: float = Field(default=20, gt=0)
    metrics: dict[MetricKey, MetricPolicy] = Field(default_factory=dict)
    points: list[PointsRule] = Field(default_factory=list)
    daily_cap: float | None = Field(default=None, gt=0, description="most rule points per agent-day")
    leagues: list[LeagueSpec] = Field(default_factory=list)
    within_leagues: bool = Field(
        default=False,
        description="an agent's chat boards, /points rank and most-improved badges within a league",
    )
    levels: LevelPolicy = LevelPolicy()
    coins: CoinPolicy = CoinPolicy()
    kudos: KudosPolicy = KudosPolicy()
    challenges: ChallengePolicy = ChallengePolicy()
    rewards: list[RewardSpec] = Field(default_factory=list)
    leaderboard: LeaderboardPolicy = LeaderboardPolicy()
    identity: IdentityPolicy = IdentityPolicy()
    teams: dict[TeamKey, TeamPosts] = Field(default_factory=dict, description="scheduled posts per team")
    badges: list[BadgeSpec] = Field(default_factory=list)
    correction_window_days: int = Field(default=7, ge=0, le=366)
    effective_from: date | None = Field(
        default=None, description="the first business day this program is in force (default: when loaded)"
    )
    team_boards: TeamBoardPolicy = TeamBoardPolicy()

    @model_validator(mode="after")
    def _coherent(self, info: ValidationInfo) -> Program:
        # after every field is valid; parse_program also runs the same checks on a file with other errors.
        # A version stored before a check existed still loads (`stored`): history must not turn unreadable.
        if isinstance(info.context, Mapping) and info.context.get("stored"):
            return self
        problems = coherence_problems(self.model_dump())
        if problems:
            raise ValidationError.from_exception_data(
                "Program",
                [
                    InitErrorDetails(
                        type=PydanticCustomError(_COHERENCE, "{message}", {"message": message}),
                        loc=loc,
                        input=None,
                    )
                    for loc, message in problems
                ],
            )
        return self

    @field_validator("badges")
    @classmethod
    def _unique_badges(cls, badges: list[BadgeSpec]) -> list[BadgeSpec]:
        ids = [badge.id for badge in badges]
        repeated = sorted({badge for badge in ids if ids.count(badge) > 1})
        if repeated:
            raise ValueError(f"badge ids must be unique; repeated: {repeated}")
        return badges

    @field_validator("badges")
    @classmethod
    def _not_the_win_badge(cls, badges: list[BadgeSpec], info: ValidationInfo) -> list[BadgeSpec]:
        # the per-challenge win badge is awarded by challenges, not evaluated: one id cannot be both
        policy = info.data.get("challenges")
        win_badge = policy.win_badge if isinstance(policy, ChallengePolicy) else None
        if win_badge in {badge.id for badge in badges}:
            raise ValueError(
                f"{win_badge!r} is challenges.win_badge (given to each challenge's winners); "
                "give this badge another id"
            )
        return badges

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as America/Chicago)"
            ) from None
        return value

    @field_validator("week_starts_on")
    @classmethod
    def _weekday_name(cls, value: str) -> str:
        if value.lower() not in WEEKDAYS:
            raise ValueError(f"must be a weekday name, one of {', '.join(WEEKDAYS)}")
        return value.lower()

    @field_validator("day_starts_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a time of day such as '00:00' or '04:00'") from None
        return value

    @field_validator("leagues")
    @classmethod
    def _unique_leagues(cls, leagues: list[LeagueSpec]) -> list[LeagueSpec]:
        ids = [league.id for league in leagues]
        repeated = sorted({league for league in ids if ids.count(league) > 1})
        if repeated:
            raise ValueError(f"league ids must be unique; repeated: {repeated}")
        return leagues

    @field_validator("points")
    @classmethod
    def _unique_rule_ids(cls, rules: list[ZoneRule | ImprovementRule]) -> list[ZoneRule | ImprovementRule]:
        problem = rule_id_problem([rule.rule_id for rule in rules])
        if problem:
            raise ValueError(problem)
        return rules

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day_start_minutes(self) -> int:
        parsed = time.fromisoformat(self.day_starts_at)
        return parsed.hour * 60 + parsed.minute

    def policy(self, metric: str) -> MetricPolicy:
        return self.metrics.get(metric) or MetricPolicy()

    def league_rules(self) -> list[LeagueRule]:
        return [
            LeagueRule(
                league.id,
                league.tenure_days.lt if league.tenure_days else None,
                league.tenure_days.gte if league.tenure_days else None,
                frozenset(league.role),
                frozenset(league.skills),
                frozenset(league.teams),
            )
            for league in self.leagues
        ]

    def rank_by(self, metric: str) -> Literal["raw", "bayesian"]:
        """Ratio metrics rank on a Bayesian average unless the program says raw; totals rank raw."""
        chosen = self.policy(metric).rank_by
        if chosen is not None:
            return chosen
        return "bayesian" if CATALOGUE[metric].kind == "ratio" else "raw"

    def better(self, metric: str) -> Literal["higher", "lower"]:
        return self.policy(metric).better or CATALOGUE[metric].better


_COHERENCE = "program_coherence"


def coherence_problems(data: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """What each field allows alone but the program as a whole cannot mean, as (key path, message).

    No number anywhere may be NaN or infinite (it would reach the ledger as garbage). Zone tables must
    pay a better value at least as much as a worse one, in the metric's `better` direction (the monotone
    rule of DESIGN.md §5), and a floor cannot lie above a ceiling. Reads raw data defensively: a
    malformed part is left to the schema's own errors.
    """
    problems: list[tuple[tuple[str | int, ...], str]] = [
        (loc, f"must be a finite number, got {value!r} (NaN and infinity cannot be scored)")
        for loc, value in _non_finite(data, ())
    ]
    metrics = data.get("metrics")
    policies: Mapping[Any, Any] = metrics if isinstance(metrics, Mapping) else {}
    for metric, policy in policies.items():
        if not isinstance(policy, Mapping):
            continue
        floor, ceiling = policy.get("floor"), policy.get("ceiling")
        if _finite(floor) and _finite(ceiling) and floor > ceiling:
            problems.append(
                (
                    ("metrics", metric, "floor"),
                    f"floor {floor:g} is above ceiling {ceiling:g}, so no value of {metric} could earn "
                    "points; the floor is the lowest value that earns, the ceiling the highest",
                )
            )
    rules = data.get("points")
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, Mapping) or "improvement" in rule or rule.get("metric") not in CATALOGUE:
            continue
        metric = str(rule["metric"])
        zones = _zone_pairs(rule.get("zones"))
        if len(zones) < 2 or len({value for value, _ in zones}) != len(zones):
            continue
        policy = policies.get(metric)
        given = policy.get("better") if isinstance(policy, Mapping) else None
        better = given if given in ("higher", "lower") else CATALOGUE[metric].better
        wrong = against_direction(zones, better)
        if wrong is not None:
            (worse, worse_points), (best, best_points) = wrong
            chosen = given in ("higher", "lower")
            source = f"metrics.{metric}.better" if chosen else "its default"
            fix = "" if chosen else f" (or set metrics.{metric}.better)"
            problems.append(
                (
                    ("points", index, "zones"),
                    f"{metric} is better {better} ({source}), so a better value must not earn fewer "
                    f"points, but {best:g} earns {best_points:g} pts and {worse:g} earns {worse_points:g} "
                    f"pts; give better values more points{fix}",
                )
            )
    return problems


def _non_finite(data: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], float]]:
    if isinstance(data, float) and not math.isfinite(data):
        yield path, data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield from _non_finite(value, (*path, str(key)))
    elif isinstance(data, list | tuple):
        for index, item in enumerate(data):
            yield from _non_finite(item, (*path, index))


def _finite(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _zone_pairs(zones: Any) -> list[tuple[float, float]]:
    """The (value, points) pairs of a zone table, or none at all when any pair is malformed."""
    if not isinstance(zones, Sequence) or isinstance(zones, str):
        return []
    pairs = []
    for pair in zones:
        if not isinstance(pair, Sequence) or len(pair) != 2 or not all(_finite(part) for part in pair):
            return []
        pairs.append((float(pair[0]), float(pair[1])))
    return pairs


class LoadedProgram(_Strict):
    program: Program
    text: str
    origin: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def default_program_text() -> str:
    return resources.files("bot.programs").joinpath("default.yaml").read_text(encoding="utf-8")


def load_program(path: Path | None) -> LoadedProgram:
    """Load and validate a program file (the built-in default when `path` is None)."""
    if path is None:
        return parse_program(default_program_text(), "built-in default program")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProgramError(f"{path}: cannot read the program file ({error.strerror})") from None
    return parse_program(text, str(path))


def parse_program(text: str, origin: str, *, stored: bool = False) -> LoadedProgram:
    """Parse and validate a program text; every problem is a line `origin:line: key.path: message`.

    `stored` reads a version already in the database: the whole-program checks added since it was stored
    are not applied again, so history stays readable (a broken old version fails where it is scored).
    """
    node, data = _load_yaml(text, origin)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProgramError(f"{origin}:1: the program must be a mapping of keys, got {type(data).__name__}")
    duplicates = [
        f"{origin}:{again.start_mark.line + 1}: {_path((*path, key))}: given twice, on lines "
        f"{first.start_mark.line + 1} and {again.start_mark.line + 1}; keep one (YAML would silently use "
        "the last)"
        for path, key, first, again in ([] if stored else _duplicate_keys(node, ()))
    ]
    try:
        program = Program.model_validate(data, context={"stored": stored})
    except ValidationError as error:
        problems: list[str] = list(duplicates)
        # NaN or infinity is said once, as such, not as whatever the field's own check makes of it
        non_finite = {loc for loc, _ in _non_finite(data, ())}
        for problem in error.errors():
            if _union_noise(problem) or _loc(problem["loc"]) in non_finite:
                continue
            loc = _loc(problem["loc"])
            if problem["type"].startswith("union_tag"):
                loc = (*loc, "kind")
            line = f"{origin}:{_line_of(node, loc)}: {_path(loc)}: {_message(problem)}"
            if line not in problems:
                problems.append(line)
        if not any(problem["loc"] == ("points",) for problem in error.errors()):
            ids_problem = rule_id_problem(_raw_rule_ids(data.get("points")))
            if ids_problem:
                problems.append(f"{origin}:{_line_of(node, ('points',))}: points: {ids_problem}")
        for loc, message in [] if stored else coherence_problems(data):  # the whole-program checks
            line = f"{origin}:{_line_of(node, loc)}: {_path(loc)}: {message}"
            if line not in problems:
                problems.append(line)
        raise ProgramError("\n".join(problems)) from None
    if duplicates:
        raise ProgramError("\n".join(duplicates))
    # built from parts already validated: validating `program` again would drop the `stored` context
    return LoadedProgram.model_construct(program=program, text=text, origin=origin)


def _load_yaml(text: str, origin: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for lines) and its data, parsed once by PyYAML's safe loader; a syntax
    error becomes one `file:line: message` problem."""
    loader = yaml.SafeLoader(text)
    node: yaml.Node | None = None
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.MarkedYAMLError as error:
        raise ProgramError(f"{origin}:{_yaml_error(error)}") from None
    except yaml.YAMLError as error:
        raise ProgramError(f"{origin}:1: not valid YAML: {' '.join(str(error).split())}") from None
    except (ValueError, TypeError, ArithmeticError, AttributeError) as error:
        # a value YAML recognises but cannot build, such as the date 2021-02-30
        raise ProgramError(_unconstructable(node, origin, error)) from None
    finally:
        loader.dispose()


def _unconstructable(node: yaml.Node | None, origin: str, error: Exception) -> str:
    """`file:line: key: cannot read 2021-02-30: day is out of range for month`, for the first value
    PyYAML cannot build (each one is built alone to find it)."""
    for loc, scalar in _scalars(node, ()):
        constructor = yaml.SafeLoader("")
        try:
            constructor.construct_object(scalar, deep=True)
        except (ValueError, TypeError, ArithmeticError, AttributeError, yaml.YAMLError) as failed:
            reason = " ".join(str(failed).split())
            if scalar.tag.endswith(":timestamp"):
                reason = f"{reason if isinstance(failed, ValueError) else 'not a date'}; a date is YYYY-MM-DD"
            return (
                f"{origin}:{scalar.start_mark.line + 1}: {_path(loc)}: cannot read {scalar.value}: {reason}"
            )
        finally:
            constructor.dispose()
    return f"{origin}:1: not valid YAML: {' '.join(str(error).split())}"


def _scalars(node: yaml.Node | None, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], yaml.Node]]:
    """Every scalar of the document (keys and values) with its key path, in document order."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield path, key
            name = key.value if isinstance(key, yaml.ScalarNode) else "[key]"
            yield from _scalars(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalars(item, (*path, index))
    elif isinstance(node, yaml.ScalarNode):
        yield path, node


def _yaml_error(error: yaml.MarkedYAMLError) -> str:
    """`3: not valid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence
    started on line 2)`: the line and PyYAML's words, without its multi-line excerpt."""
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    message = f"{line}: not valid YAML: {error.problem or error.context or 'cannot be parsed'}"
    if error.problem and error.context:
        started = f" started on line {error.context_mark.line + 1}" if error.context_mark else ""
        message += f" ({error.context}{started})"
    return " ".join(message.split())


def _duplicate_keys(
    node: yaml.Node | None, path: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str, yaml.Node, yaml.Node]]:
    """Every key given twice in one mapping, anywhere in the document: (path, key, first, again)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], yaml.Node] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                first = seen.setdefault((key.tag, key.value), key)
                if first is not key:
                    yield path, key.value, first, key
                yield from _duplicate_keys(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, index))


def _raw_rule_ids(rules: Any) -> list[str]:
    if not isinstance(rules, list):
        return []
    return [
        str(
            rule.get("id")
            or f"{rule.get('metric')}-{'improvement' if 'improvement' in rule else rule.get('period', 'day')}"
        )
        for rule in rules
        if isinstance(rule, dict)
    ]


def _loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The location as keys of the file: pydantic adds a badge's kind (badges.0.streak.days), a points
    rule form's tag after the rule's index, and the member of a number-or-tiers union (days.int); the file
    has none of them."""
    if len(loc) > 2 and loc[0] == "badges" and loc[2] in BADGE_KINDS:
        loc = loc[:2] + loc[3:]
    if len(loc) > 2 and loc[0] == "points" and isinstance(loc[1], int) and loc[2] in _RULE_TAGS:
        loc = loc[:2] + loc[3:]
    return tuple(part for part in loc if not _union_member(part))


def _union_member(part: Any) -> bool:
    return isinstance(part, str) and (part in ("int", "float") or part.startswith("dict["))


def _union_noise(problem: Any) -> bool:
    """Of a number-or-tiers union, keep only the errors of the form the user wrote."""
    members = [part for part in problem["loc"] if _union_member(part)]
    if not members:
        return False
    wrote_tiers = isinstance(problem.get("input"), dict) or len(problem["loc"]) > 1 + problem["loc"].index(
        members[-1]
    )
    return bool(wrote_tiers != members[-1].startswith("dict["))


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "[key]") or "(top level)"


def _message(problem: Any) -> str:
    """Pydantic's wording, made specific where a user would otherwise have to guess."""
    kind, value = problem["type"], problem.get("input")
    if kind == "literal_error":
        expected = problem.get("ctx", {}).get("expected", "")
        return f"{value!r} is not known; choose one of {expected}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} must be a lower-case word: letters, digits, '-' or '_' (e.g. 'teamwork')"
    if kind == "string_type":
        return _TEXT_OF.get(tuple(problem["loc"]), "must be text (put it in quotes)") + f", got {value!r}"
    if kind == "union_tag_invalid":
        ctx = problem.get("ctx", {})
        return f"{ctx.get('tag')!r} is not known; choose one of {ctx.get('expected_tags', '')}"
    if kind == "union_tag_not_found":
        return "needs a kind: threshold, streak, count, personal_best or most_improved"
    if kind in ("int_parsing", "float_parsing", "int_type", "float_type", "dict_type") and _in_tiers(problem):
        return f"{value!r} must be a number, or one per tier such as {{bronze: 3, silver: 5, gold: 10}}"
    if kind == "extra_forbidden":
        return "unknown key (see docs/program.md for the keys this section takes)"
    return str(problem["msg"]).removeprefix("Value error, ")


# Top-level keys whose text no quotes would fix: what they take instead.
_TEXT_OF: dict[tuple[Any, ...], str] = {
    ("week_starts_on",): f"must be a weekday name such as monday (one of {', '.join(WEEKDAYS)})",
    ("timezone",): "must be an IANA time zone name such as America/Chicago",
}


def _in_tiers(problem: Any) -> bool:
    return any(_union_member(part) for part in problem["loc"])


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the deepest node along `loc` that exists in the YAML document."""
    line = 1 if node is None else node.start_mark.line + 1
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(part):
                return cast(yaml.Node, value)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return cast(yaml.Node, node.value[part])
    return None
