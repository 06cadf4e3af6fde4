"""A small contact center for the demo: one business day of contacts, as records the webhook accepts.

Pure and deterministic: the same seed and day give the same contacts. Contacts arrive on a two-peak
curve, wait in their team's queue for the first free agent (first come, first served, lunch breaks
respected), abandon when their patience runs out (kept on the queue, never on an agent), and are handled
in log-normal times that depend on the agent. About 30 % of answered contacts get a CSAT survey.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

SOURCE = "demo-acd"
DEMO_DAY = date(2021, 4, 1)
OPEN_HOURS = (8, 18)
SURVEY_RATE = 0.30
MIN_PATIENCE_SECONDS = 20.0  # the queue announcement: hardly anyone hangs up during it
MEAN_PATIENCE_SECONDS = 180.0
RING_SECONDS = (2.0, 10.0)
HANDLE_SIGMA = 0.5


@dataclass(frozen=True, slots=True)
class TeamSpec:
    key: str
    name: str
    queue: str
    share: float  # of the day's contacts


@dataclass(frozen=True, slots=True)
class AgentSpec:
    key: str
    name: str
    team: str
    handle_mean: float  # seconds
    csat_mean: float  # 1-5
    fcr: float  # probability of resolving on first contact
    lunch_at: time


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("billing", "Billing", "billing-q", 0.40),
    TeamSpec("tech", "Tech Support", "tech-q", 0.27),
    TeamSpec("care", "Customer Care", "care-q", 0.33),
)

AGENTS: tuple[AgentSpec, ...] = (
    AgentSpec("acd-101", "Ana Souza", "billing", 330, 4.6, 0.88, time(11, 30)),
    AgentSpec("acd-102", "Ben Okafor", "billing", 260, 4.0, 0.79, time(12, 0)),
    AgentSpec("acd-103", "Chloé Martin", "billing", 410, 4.4, 0.91, time(12, 30)),
    AgentSpec("acd-104", "Dev Patel", "billing", 370, 3.7, 0.72, time(13, 0)),
    AgentSpec("acd-201", "Elif Kaya", "tech", 470, 4.5, 0.84, time(11, 30)),
    AgentSpec("acd-202", "Farid Haddad", "tech", 420, 4.0, 0.78, time(12, 0)),
    AgentSpec("acd-203", "Grace Lin", "tech", 560, 4.8, 0.93, time(12, 30)),
    AgentSpec("acd-204", "Hugo Weber", "tech", 300, 3.5, 0.68, time(13, 0)),
    AgentSpec("acd-301", "Inês Duarte", "care", 360, 4.3, 0.83, time(11, 30)),
    AgentSpec("acd-302", "Jamal Reed", "care", 300, 4.2, 0.86, time(12, 0)),
    AgentSpec("acd-303", "Kenji Sato", "care", 450, 4.7, 0.90, time(12, 30)),
    AgentSpec("acd-304", "Lena Fischer", "care", 340, 3.9, 0.75, time(13, 0)),
)


@dataclass(frozen=True, slots=True)
class Contact:
    external_id: str
    queue: str
    agent: str | None  # None: abandoned in the queue
    arrived_at: datetime
    wait: int
    talk: int = 0
    hold: int = 0
    acw: int = 0
    resolved: bool | None = None
    rating: int | None = None

    @property
    def answered(self) -> bool:
        return self.agent is not None

    @property
    def handle(self) -> int:
        return self.talk + self.hold + self.acw


@dataclass(frozen=True, slots=True)
class Percentiles:
    p10: float
    p50: float
    p90: float


@dataclass(frozen=True, slots=True)
class Summary:
    contacts: int
    answered: int
    abandoned: int
    surveys: int
    handle: Percentiles  # seconds, answered contacts
    wait: Percentiles  # seconds before answer, answered contacts
    csat: Percentiles  # 1-5, surveyed contacts


@dataclass(frozen=True, slots=True)
class Simulation:
    day: date
    teams: tuple[TeamSpec, ...]
    agents: tuple[AgentSpec, ...]
    contacts: tuple[Contact, ...]

    def records(self, source: str = SOURCE) -> list[dict[str, Any]]:
        """The contacts as webhook records (`POST /api/v1/events` items)."""
        names = {agent.key: agent.name for agent in self.agents}
        return [_record(contact, source, names) for contact in self.contacts]

    def summary(self) -> Summary:
        answered = [c for c in self.contacts if c.answered]
        ratings = [float(c.rating) for c in answered if c.rating is not None]
        return Summary(
            contacts=len(self.contacts),
            answered=len(answered),
            abandoned=len(self.contacts) - len(answered),
            surveys=len(ratings),
            handle=percentiles(float(c.handle) for c in answered),
            wait=percentiles(float(c.wait) for c in answered),
            csat=percentiles(ratings),
        )


def simulate(
    seed: int = 7, day: date = DEMO_DAY, *, zone: tzinfo = UTC, expected_contacts: int = 650
) -> Simulation:
    """One business day (08:00-18:00 in `zone`) of contacts for TEAMS and AGENTS."""
    rng = random.Random(seed)
    opening = datetime.combine(day, time(OPEN_HOURS[0]), zone)
    arrivals = _arrivals(rng, expected_contacts)
    free_at = {agent.key: 0.0 for agent in AGENTS}
    contacts = []
    for number, offset in enumerate(arrivals, start=1):
        team = rng.choices(TEAMS, weights=[t.share for t in TEAMS])[0]
        patience = MIN_PATIENCE_SECONDS + rng.expovariate(1 / MEAN_PATIENCE_SECONDS)
        external_id = f"{day:%Y%m%d}-{number:04d}"
        arrived_at = opening + timedelta(seconds=round(offset))
        agent, start = _first_free([a for a in AGENTS if a.team == team.key], free_at, offset, day, opening)
        if start - offset > patience:
            contacts.append(Contact(external_id, team.queue, None, arrived_at, round(patience)))
            continue
        answered = start + rng.uniform(*RING_SECONDS)
        contact = _handled(rng, agent, external_id, team.queue, arrived_at, round(answered - offset))
        free_at[agent.key] = answered + contact.handle
        contacts.append(contact)
    return Simulation(day, TEAMS, AGENTS, tuple(contacts))


def percentiles(values: Iterable[float]) -> Percentiles:
    """p10, p50 and p90 by linear interpolation between closest ranks (numpy's default method)."""
    ordered = sorted(values)
    if not ordered:
        return Percentiles(math.nan, math.nan, math.nan)
    return Percentiles(*(_quantile(ordered, q) for q in (0.1, 0.5, 0.9)))


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _intensity(hours: float) -> float:
    """Relative arrival rate `hours` after opening: a morning and an afternoon peak, a quiet close."""
    morning = 0.7 * math.exp(-(((hours - 2.5) / 1.8) ** 2))
    afternoon = 0.55 * math.exp(-(((hours - 6.3) / 1.8) ** 2))
    return 0.3 + morning + afternoon


def _arrivals(rng: random.Random, expected: int) -> list[float]:
    """Seconds after opening, from a non-homogeneous Poisson process (thinning)."""
    length = (OPEN_HOURS[1] - OPEN_HOURS[0]) * 3600
    mean_intensity = sum(_intensity(minute / 60) for minute in range(length // 60)) / (length // 60)
    peak = max(_intensity(minute / 60) for minute in range(length // 60))
    rate_max = expected / length * peak / mean_intensity
    arrivals: list[float] = []
    clock = 0.0
    while True:
        clock += rng.expovariate(rate_max)
        if clock >= length:
            return arrivals
        if rng.random() < _intensity(clock / 3600) / peak:
            arrivals.append(clock)


def _first_free(
    team: list[AgentSpec], free_at: dict[str, float], offset: float, day: date, opening: datetime
) -> tuple[AgentSpec, float]:
    """The agent who can start soonest (longest idle on a tie), and when, skipping lunch breaks."""
    options = []
    for agent in team:
        start = max(offset, free_at[agent.key])
        lunch = (datetime.combine(day, agent.lunch_at, opening.tzinfo) - opening).total_seconds()
        if lunch <= start < lunch + 1800:
            start = lunch + 1800
        options.append((start, free_at[agent.key], agent.key, agent))
    start, _, _, agent = min(options)
    return agent, start


def _handled(
    rng: random.Random, agent: AgentSpec, external_id: str, queue: str, arrived_at: datetime, wait: int
) -> Contact:
    mu = math.log(agent.handle_mean) - HANDLE_SIGMA**2 / 2
    handle = max(45, round(rng.lognormvariate(mu, HANDLE_SIGMA)))
    hold = round(handle * rng.uniform(0.05, 0.2)) if rng.random() < 0.3 else 0
    acw = round(handle * rng.uniform(0.08, 0.2))
    resolved = rng.random() < agent.fcr
    rating = None
    if rng.random() < SURVEY_RATE:
        mood = agent.csat_mean - (0 if resolved else 0.8) - min(wait / 300, 1) * 0.5 + rng.gauss(0, 0.7)
        rating = min(5, max(1, round(mood)))
    return Contact(
        external_id, queue, agent.key, arrived_at, wait, handle - hold - acw, hold, acw, resolved, rating
    )


def _record(contact: Contact, source: str, names: dict[str, str]) -> dict[str, Any]:
    if contact.agent is None:
        subject: dict[str, Any] = {"kind": "queue", "key": contact.queue}
        facts: dict[str, Any] = {"answered": False, "abandoned": True, "wait": contact.wait}
    else:
        subject = {"kind": "agent", "key": contact.agent, "name": names[contact.agent]}
        facts = {
            "answered": True,
            "abandoned": False,
            "resolved": contact.resolved,
            "wait": contact.wait,
            "talk": contact.talk,
            "hold": contact.hold,
            "acw": contact.acw,
            "rating": contact.rating,
        }
    return {
        "source": source,
        "external_id": contact.external_id,
        "version": 1,
        "subject": subject,
        "occurred_at": contact.arrived_at.isoformat(),
        "facts": facts,
    }
