"""The gamification program file (YAML): schema, validation with line numbers, and versions."""

from __future__ import annotations

import hashlib
from datetime import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.scoring.leagues import LeagueRule
from bot.scoring.metrics import CATALOGUE
from bot.scoring.periods import WEEKDAYS

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
    period: Literal["day"] = "day"
    zones: list[tuple[float, float]] = Field(min_length=2)
    gate: dict[MetricKey, GateSpec] = Field(default_factory=dict)
    cap: float | None = Field(default=None, gt=0, description="most points this rule pays per day")

    @field_validator("zones")
    @classmethod
    def _distinct_values(cls, zones: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if len({value for value, _ in zones}) != len(zones):
            raise ValueError("zone values must be distinct")
        return zones

    @property
    def rule_id(self) -> str:
        return self.id or f"{self.metric}-{self.period}"


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


class RewardSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=200)
    price: float = Field(gt=0, description="coins")
    stock: int | None = Field(default=None, ge=0, description="initial stock; absent means unlimited")


class LeaderboardPolicy(_Strict):
    public_size: int = Field(default=5, ge=1, le=50)
    default_metric: BoardMetric = "points"
    default_period: Literal["day", "week", "month", "quarter", "all"] = "week"


class IdentityPolicy(_Strict):
    create_unknown_agents: bool = False


class Program(_Strict):
    name: str = "Floorboard"
    timezone: str = "UTC"
    week_starts_on: str = "monday"
    day_starts_at: str = "00:00"
    service_level_seconds: float = Field(default=20, gt=0)
    metrics: dict[MetricKey, MetricPolicy] = Field(default_factory=dict)
    points: list[ZoneRule] = Field(default_factory=list)
    daily_cap: float | None = Field(default=None, gt=0, description="most zone points per agent-day")
    leagues: list[LeagueSpec] = Field(default_factory=list)
    levels: LevelPolicy = LevelPolicy()
    coins: CoinPolicy = CoinPolicy()
    kudos: KudosPolicy = KudosPolicy()
    challenges: ChallengePolicy = ChallengePolicy()
    rewards: list[RewardSpec] = Field(default_factory=list)
    leaderboard: LeaderboardPolicy = LeaderboardPolicy()
    identity: IdentityPolicy = IdentityPolicy()

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
    def _unique_rule_ids(cls, rules: list[ZoneRule]) -> list[ZoneRule]:
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


def parse_program(text: str, origin: str) -> LoadedProgram:
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ProgramError(f"{origin}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ProgramError(f"{origin}: the program must be a mapping of keys, got {type(data).__name__}")
    try:
        program = Program.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{origin}:{_line_of(node, problem['loc'])}: {_path(problem['loc'])}: {_message(problem)}"
            for problem in error.errors()
        ]
        if not any(problem["loc"] == ("points",) for problem in error.errors()):
            ids_problem = rule_id_problem(_raw_rule_ids(data.get("points")))
            if ids_problem:
                problems.append(f"{origin}:{_line_of(node, ('points',))}: points: {ids_problem}")
        raise ProgramError("\n".join(problems)) from None
    return LoadedProgram(program=program, text=text, origin=origin)


def _raw_rule_ids(rules: Any) -> list[str]:
    if not isinstance(rules, list):
        return []
    return [
        str(rule.get("id") or f"{rule.get('metric')}-{rule.get('period', 'day')}")
        for rule in rules
        if isinstance(rule, dict)
    ]


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
        return f"must be text (put it in quotes), got {value!r}"
    if kind == "extra_forbidden":
        return "unknown key (see docs/program.md for the keys this section takes)"
    return str(problem["msg"]).removeprefix("Value error, ")


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
